"""The three flows under a real Prefect API, on a real SQLite database, with real outbox rows and e-mails."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from partnerprojekte.config import get_settings
from partnerprojekte.db.engine import utc_now
from partnerprojekte.db.schema import OutboxRow
from partnerprojekte.errors import ValidationError
from partnerprojekte.formats import proposal_from_document
from partnerprojekte.model import Role
from tests.flows.conftest import Product
from tests.helpers import proposal_doc

pytestmark = pytest.mark.usefixtures("prefect_server")

STAB = "a.stab@stk.nrw.example"
STAB2 = "b.stab@stk.nrw.example"
MWIDE = "c.ostermann@mwide.nrw.example"
PARTNER = "kontakt@bio-security.example.de"


def add_people(product: Product) -> None:
    """Two Arbeitsstab members, a reviewer of MWIDE, the partner contact."""
    svc = product.services
    svc.add_user(STAB, "Anna Stab", Role.ARBEITSSTAB)
    svc.add_user(STAB2, "Bernd Stab", Role.ARBEITSSTAB)
    svc.add_user(MWIDE, "Carla Ostermann", Role.RESSORT, ressort="MWIDE")
    svc.add_user(PARTNER, "Kai Kontakt", Role.PARTNER, organisation="Kompetenzzentrum Bio-Security GmbH")


def submit(product: Product, title: str = "KLIC.Ruhr") -> int:
    """Submit the base proposal as the partner (writes the receipt and the Arbeitsstab's notice)."""
    doc = proposal_doc()
    doc["title"] = title
    return product.services.submit(proposal_from_document(doc), PARTNER).proposal_id


def statuses(product: Product, kind_prefix: str = "") -> dict[str, int]:
    """Outbox rows per status (of the kinds starting with the prefix)."""
    with product.db.read() as s:
        rows = s.execute(
            select(OutboxRow.status, func.count())
            .where(OutboxRow.kind.startswith(kind_prefix))
            .group_by(OutboxRow.status)
        )
        return {status: int(n) for status, n in rows}


def subjects(files: list[Path]) -> list[str]:
    """The decoded subjects of e-mail files."""
    return [
        str(email.message_from_bytes(f.read_bytes(), policy=email.policy.default)["Subject"]) for f in files
    ]


def deliver() -> dict[str, Any]:
    from partnerprojekte.flows.deliver import deliver_notifications

    return deliver_notifications()


def test_deliver_notifications_sends_every_due_row_once_as_eml_files(product: Product) -> None:
    add_people(product)
    submit(product)
    pending = statuses(product)["pending"]
    assert pending == 3  # receipt to the partner, notice to both Arbeitsstab members

    result = deliver()

    assert result["sent"] == result["claimed"] == pending
    assert result["retried"] == result["dead"] == 0
    assert result["batches"] == 1
    assert statuses(product) == {"sent": pending}
    files = product.eml_files()
    assert len(files) == pending
    assert all("PP-0001" in subject for subject in subjects(files))
    with product.db.read() as s:
        claimed_by = set(s.scalars(select(OutboxRow.claimed_by)))
    # The claim names the flow run that sent the rows (not "lokal": it ran under the Prefect API).
    (who,) = claimed_by
    assert who is not None and who.startswith("deliver-notifications:") and "lokal" not in who

    again = deliver()

    assert again["claimed"] == again["sent"] == 0
    assert len(product.eml_files()) == pending


def test_deliver_notifications_works_in_batches(product: Product, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PARTNERPROJEKTE_MAIL__BATCH_SIZE", "2")
    get_settings.cache_clear()
    add_people(product)
    submit(product, "Erster Vorschlag")
    submit(product, "Zweiter Vorschlag")  # 6 rows: batches of 2, 2, 2 and an empty look

    result = deliver()

    assert result["sent"] == 6
    assert result["batches"] == 4
    assert len(product.eml_files()) == 6


def test_send_reminders_queues_each_reminder_once_even_when_run_twice(product: Product) -> None:
    from partnerprojekte.flows.reminders import send_reminders

    add_people(product)
    product.clock.now = utc_now() - dt.timedelta(days=15)  # eingereicht for 15 days: remind the Arbeitsstab
    submit(product)

    first = send_reminders()
    second = send_reminders()

    assert first["queued"] == 2 and first["already_queued"] == 0
    assert {m["recipient"] for m in first["mails"]} == {STAB, STAB2}
    assert second["queued"] == 0 and second["already_queued"] == 2
    assert statuses(product, "reminder.") == {"pending": 2}

    deliver()

    assert statuses(product, "reminder.") == {"sent": 2}
    assert sum("Erinnerung" in s or "erinner" in s.lower() for s in subjects(product.eml_files())) >= 2


def test_send_reminders_dry_run_stores_nothing(product: Product) -> None:
    from partnerprojekte.flows.reminders import send_reminders

    add_people(product)
    product.clock.now = utc_now() - dt.timedelta(days=15)
    submit(product)

    result = send_reminders(dry_run=True)

    assert result["queued"] == 2 and result["dry_run"] is True
    assert statuses(product, "reminder.") == {}


def test_weekly_digest_queues_each_digest_once_even_when_run_twice(product: Product) -> None:
    from partnerprojekte.flows.digest import weekly_digest

    add_people(product)
    submit(product)  # Monday 2026-03-02, 09:00 Berlin: a new submission of the week up to 2026-03-09 07:00
    monday = dt.date(2026, 3, 9)

    first = weekly_digest(as_of=monday)
    second = weekly_digest(as_of=monday)

    assert first["week"] == "2026-W11"
    assert first["queued"] == 2  # both Arbeitsstab members; the MWIDE reviewer has nothing new
    assert {m["recipient"] for m in first["mails"]} == {STAB, STAB2}
    assert second["queued"] == 0 and second["already_queued"] == 2
    assert statuses(product, "digest.") == {"pending": 2}

    deliver()

    assert statuses(product, "digest.") == {"sent": 2}


def test_a_flow_on_an_uninitialised_database_fails_at_once_with_the_remedy(
    product: Product, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    empty = tmp_path / "leer"
    monkeypatch.setenv("PARTNERPROJEKTE_DATA_DIR", str(empty))
    get_settings.cache_clear()

    with pytest.raises(ValidationError, match="partnerprojekte init"):
        deliver()

    assert not empty.exists()  # no empty database file was created on the way


@pytest.fixture
def flaky_delivery(monkeypatch: pytest.MonkeyPatch) -> Callable[[list[BaseException]], list[int]]:
    """Replace the delivery with one that fails with the given errors first (fault injection), no delays."""
    import partnerprojekte.flows.deliver as module

    monkeypatch.setattr(module, "deliver_batch", module.deliver_batch.with_options(retry_delay_seconds=0))

    def install(errors: list[BaseException]) -> list[int]:
        calls: list[int] = []

        def fake(*args: Any, **kwargs: Any) -> dict[str, int]:
            calls.append(1)
            if errors:
                raise errors.pop(0)
            return {"claimed": 0, "sent": 0, "retried": 0, "dead": 0}

        monkeypatch.setattr(module, "deliver_pending", fake)
        return calls

    return install


def test_an_infrastructure_error_is_retried(
    product: Product, flaky_delivery: Callable[[list[BaseException]], list[int]]
) -> None:
    calls = flaky_delivery([OperationalError("UPDATE outbox", {}, Exception("database is locked"))])

    result = deliver()

    assert len(calls) == 2
    assert result["claimed"] == 0


def test_a_domain_error_is_not_retried(
    product: Product, flaky_delivery: Callable[[list[BaseException]], list[int]]
) -> None:
    calls = flaky_delivery([ValidationError("kaputt"), ValidationError("kaputt")])

    with pytest.raises(ValidationError):
        deliver()

    assert len(calls) == 1
