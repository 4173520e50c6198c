# partnerprojekte – the targets the README names.
SHELL := /bin/bash
UV_VERSION := 0.13.9
UV := $(CURDIR)/.tools/bin/uv
export UV_PYTHON_DOWNLOADS := never
export DO_NOT_TRACK := 1

# PostgreSQL for the tests: the given URL, else the local server if one answers (this machine kind runs one).
PG_TEST_URL ?= $(or $(PARTNERPROJEKTE_TEST_POSTGRES_URL),$(shell pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && echo postgresql://postgres@127.0.0.1:5432/postgres))

.PHONY: run test lint bench sync docs clean

$(UV):
	python3 -m venv .tools
	.tools/bin/pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

.venv/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --quiet
	touch $@

sync: .venv/.synced

## run: the product on its embedded defaults: SQLite in ./var with the demo data of 2021, a local Prefect
## server with the schedules live, the web application on 127.0.0.1:8000, mail as .eml files in ./var/mail
run: sync
	$(UV) run --frozen partnerprojekte run

## test: the whole test suite (PostgreSQL tests run when a server answers or CI=true)
test: sync
	PARTNERPROJEKTE_TEST_POSTGRES_URL="$(PG_TEST_URL)" $(UV) run --frozen pytest $(PYTEST_ARGS)

## lint: ruff, mypy (strict) and the import contracts
lint: sync
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy
	$(UV) run --frozen lint-imports

## bench: events, criteria checks, mail and digests per second, with baselines (not part of the tests)
bench: sync
	PARTNERPROJEKTE_BENCH_POSTGRES_URL="$(PG_TEST_URL)" $(UV) run --frozen python -m benchmarks.bench_core
	$(UV) run --frozen python -m benchmarks.bench_mail
	$(UV) run --frozen python -m benchmarks.bench_digests
	PARTNERPROJEKTE_BENCH_POSTGRES_URL="$(PG_TEST_URL)" $(UV) run --frozen python -m benchmarks.bench_web $(BENCH_WEB_ARGS)

## docs: regenerate the state diagram and the layer picture in docs/
docs: sync
	$(UV) run --frozen partnerprojekte diagram --format mermaid > docs/state-diagram.mmd
	$(UV) run --frozen partnerprojekte diagram --format svg --output docs/state-diagram.svg
	$(UV) run --frozen partnerprojekte diagram --maschine meldung --format mermaid > docs/report-diagram.mmd
	$(UV) run --frozen partnerprojekte diagram --maschine meldung --format svg --output docs/report-diagram.svg
	$(UV) run --frozen python -m tools.layers

clean:
	rm -rf .venv .tools var .pytest_cache .mypy_cache .ruff_cache
