"""The supervisor behind ``partnerprojekte run``: local servers as child processes, stopped cleanly.

Children: the Prefect server (API, UI, scheduler), ``flows serve`` (the three deployments and their runs)
and the web application, each a ``ChildSpec`` in ``plan``. This module does not
import Prefect: it talks to the server over HTTP, so the supervising process stays small and starts at once.

Longer than 400 lines on purpose: one supervisor of the child processes (Prefect server, deployments,
worker, web application), their start and stop order and the failures between them.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from partnerprojekte.config import Settings
from partnerprojekte.errors import PartnerprojekteError
from partnerprojekte.flows.catalog import DELIVER_NOTIFICATIONS, JOBS
from partnerprojekte.flows.env import TELEMETRY_OFF
from partnerprojekte.flows.summary import SUMMARY_PREFIXES

Echo = Callable[[str], None]

SERVER_READY_TIMEOUT = 60.0
# ``flows serve`` imports Prefect (~3 s) and registers three deployments; on a slow machine more.
DEPLOYMENTS_READY_TIMEOUT = 90.0
ONCE_TIMEOUT = 120.0
# How long a child may take to stop after SIGINT, then after SIGTERM, before it is killed.
STOP_GRACE = (10.0, 5.0)
TERMINAL_STATES = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


class RunnerError(PartnerprojekteError):
    """The product could not be started or a child process ended unexpectedly (German message)."""


# --- HTTP ------------------------------------------------------------------------------------------


# Our servers listen on this machine: a proxy from the environment (http_proxy) must not stand between.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# A busy Prefect server answers 503 for a moment (its database is locked, e.g. on a loaded machine).
_BUSY = frozenset({502, 503, 504})
_READ_ATTEMPTS = 7  # waits 0.4 s, 0.8 s, … 12.8 s: about 25 s in all


def _request(method: str, url: str, body: Any = None, timeout: float = 5.0) -> Any:
    data = None if body is None else json.dumps(body).encode("utf-8")
    headers = {"Content-Type": "application/json"}
    # Reading (GET, POST …/filter) is tried again while the server is busy, and so is creating with an
    # idempotency key (the server returns the run it made already); creating without one is not: a run
    # whose answer was lost may exist already.
    again = (
        method == "GET" or url.endswith("/filter") or (isinstance(body, dict) and "idempotency_key" in body)
    )
    attempts = _READ_ATTEMPTS if again else 1
    for attempt in range(1, attempts + 1):
        req = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - ours
        try:
            with _OPENER.open(req, timeout=timeout) as resp:
                payload = resp.read()
            return json.loads(payload) if payload else None
        except urllib.error.HTTPError as exc:
            if exc.code not in _BUSY or attempt == attempts:
                raise
            time.sleep(0.2 * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def prefect_answers(api_url: str) -> bool:
    """Whether a Prefect API answers its health check at this URL."""
    try:
        return _request("GET", f"{api_url}/health", timeout=2.0) is True
    except (OSError, ValueError):
        return False


def web_answers(web_url: str) -> bool:
    """Whether the web application answers its login page."""
    try:
        with _OPENER.open(f"{web_url}/anmelden", timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, ValueError):
        return False


def port_in_use(host: str, port: int) -> bool:
    """Whether something accepts connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def deployment_id(api_url: str, name: str) -> str | None:
    """The id of the deployment ``name/name`` (flow and deployment share the job's name), if registered."""
    try:
        found = _request("GET", f"{api_url}/deployments/name/{name}/{name}")
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise
    except (OSError, ValueError):
        return None
    return str(found["id"])


# --- children --------------------------------------------------------------------------------------


@dataclass
class ChildSpec:
    """How to start one child process and how to tell that it is ready."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log_file: Path
    ready: Callable[[], bool] | None = None
    ready_timeout: float = SERVER_READY_TIMEOUT


@dataclass
class Child:
    """A started child process with its log."""

    spec: ChildSpec
    process: subprocess.Popen[bytes]
    log: IO[bytes]


def _prepare_child() -> None:
    """In the child before exec: default SIGINT, and SIGTERM if the supervisor dies (even by SIGKILL)."""
    # Started from a script in the background, we inherit an ignored SIGINT; the children must not, or
    # they would miss the graceful stop and wait for SIGTERM.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


@dataclass
class Supervisor:
    """Starts children in order, watches them, and stops them in reverse order with their process groups."""

    echo: Echo
    children: list[Child] = field(default_factory=list)

    def spawn(self, spec: ChildSpec) -> Child:
        """Start a child in its own process group, its output appended to its log file."""
        spec.log_file.parent.mkdir(parents=True, exist_ok=True)
        log = spec.log_file.open("ab")
        log.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(spec.argv)}\n".encode())
        log.flush()
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            spec.argv,
            env=spec.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Own session: Ctrl+C in the terminal reaches the supervisor alone, which then stops the
            # children in order (flows before the server they report to) instead of all at once.
            start_new_session=True,
            preexec_fn=_prepare_child,
        )
        child = Child(spec, process, log)
        self.children.append(child)
        return child

    def start_all(self, specs: list[ChildSpec]) -> None:
        """Start all children at once, then wait for each to be ready, in order.

        At once, because each child spends seconds importing Prefect: the served flows wait for the
        server themselves, so their start overlaps the server's.
        """
        for spec in specs:
            self.echo(f"{spec.name} wird gestartet …")
            self.spawn(spec)
        for child in list(self.children):
            if child.spec.ready is not None:
                self._wait_ready(child, child.spec.ready, child.spec.ready_timeout)

    def _wait_ready(self, child: Child, ready: Callable[[], bool], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if child.process.poll() is not None:
                raise RunnerError(self._ended_message(child))
            if ready():
                return
            time.sleep(0.25)
        raise RunnerError(
            f"{child.spec.name}: nach {timeout:.0f} Sekunden nicht bereit. "
            f"Protokoll: {child.spec.log_file}\n{self._tail(child)}"
        )

    def _ended_message(self, child: Child) -> str:
        return (
            f"{child.spec.name}: unerwartet beendet (Exit-Code {child.process.returncode}). "
            f"Protokoll: {child.spec.log_file}\n{self._tail(child)}"
        )

    @staticmethod
    def _tail(child: Child, lines: int = 15) -> str:
        try:
            text = child.spec.log_file.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join("  | " + line for line in text.splitlines()[-lines:])

    def check(self) -> None:
        """Raise ``RunnerError`` if a child has ended on its own."""
        for child in self.children:
            if child.process.poll() is not None:
                raise RunnerError(self._ended_message(child))

    def stop(self) -> None:
        """Stop all children, the last started first: SIGINT, SIGTERM, then SIGKILL to the whole group."""
        for child in reversed(self.children):
            self._stop_one(child)
        self.children.clear()

    def _stop_one(self, child: Child) -> None:
        proc, pgid = child.process, child.process.pid
        try:
            if proc.poll() is None:
                # SIGINT is what Ctrl+C would have sent: uvicorn and prefect.serve shut down gracefully on it.
                _signal_group(pgid, signal.SIGINT)
                for sig, grace in ((signal.SIGTERM, STOP_GRACE[0]), (signal.SIGKILL, STOP_GRACE[1])):
                    try:
                        proc.wait(timeout=grace)
                        break
                    except subprocess.TimeoutExpired:
                        _signal_group(pgid, sig)
                proc.wait(timeout=STOP_GRACE[1])
            # Grandchildren (a flow run in progress) may outlive their parent: end the rest of the group.
            if _group_alive(pgid):
                _signal_group(pgid, signal.SIGTERM)
                deadline = time.monotonic() + STOP_GRACE[1]
                while _group_alive(pgid) and time.monotonic() < deadline:
                    time.sleep(0.1)
                if _group_alive(pgid):
                    _signal_group(pgid, signal.SIGKILL)
        finally:
            child.log.close()


# --- the plan --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Places:
    """Where the product keeps its state and listens, resolved from the settings."""

    data_dir: Path
    prefect_home: Path
    log_dir: Path
    host: str
    prefect_port: int
    web_port: int

    @property
    def web_url(self) -> str:
        """The web application."""
        return f"http://{self.host}:{self.web_port}"

    @property
    def prefect_url(self) -> str:
        """The Prefect UI."""
        return f"http://{self.host}:{self.prefect_port}"

    @property
    def api_url(self) -> str:
        """The Prefect API (``PREFECT_API_URL``)."""
        return f"{self.prefect_url}/api"

    @classmethod
    def of(cls, settings: Settings) -> Places:
        """The places for these settings (absolute paths: the children must not depend on the cwd)."""
        data_dir = settings.data_dir.resolve()
        return cls(
            data_dir=data_dir,
            prefect_home=data_dir / "prefect",
            log_dir=data_dir / "logs",
            host=settings.serve.host,
            prefect_port=settings.serve.prefect_port,
            web_port=settings.serve.web_port,
        )


def child_env(places: Places, base: Mapping[str, str], *, poll_seconds: int = 2) -> dict[str, str]:
    """The environment of every child: telemetry off, Prefect state under the data directory, our server."""
    env = dict(base)
    env.update(TELEMETRY_OFF)
    # Prefect's clients honour http_proxy; the children talk to a server on this machine.
    no_proxy = ",".join(
        p for p in (base.get("NO_PROXY") or base.get("no_proxy"), places.host, "localhost") if p
    )
    env["NO_PROXY"] = env["no_proxy"] = no_proxy
    env.update(
        {
            "PREFECT_HOME": str(places.prefect_home),
            "PREFECT_API_URL": places.api_url,
            "PREFECT_CLI_PROMPT": "false",
            # A run started by hand (UI, --once) starts within seconds, not the default ten.
            "PREFECT_RUNNER_POLL_FREQUENCY": str(poll_seconds),
            "PYTHONUNBUFFERED": "1",
            "PARTNERPROJEKTE_DATA_DIR": str(places.data_dir),
        }
    )
    return env


def plan(places: Places, base_env: Mapping[str, str], *, poll_seconds: int = 2) -> list[ChildSpec]:
    """The children of ``partnerprojekte run``, in start order."""
    env = child_env(places, base_env, poll_seconds=poll_seconds)
    server = ChildSpec(
        name="Prefect-Server",
        argv=[
            sys.executable,
            "-m",
            "prefect",
            "server",
            "start",
            "--host",
            places.host,
            "--port",
            str(places.prefect_port),
            "--analytics-off",
        ],
        env=env,
        log_file=places.log_dir / "prefect-server.log",
        ready=lambda: prefect_answers(places.api_url),
        ready_timeout=SERVER_READY_TIMEOUT,
    )
    flows = ChildSpec(
        name="Bereitstellung der Abläufe (flows serve)",
        # The module, not the console script: works wherever the package is installed, PATH or not.
        argv=[
            sys.executable,
            "-m",
            "partnerprojekte.cli.flows",
            "serve",
            "--wait",
            str(SERVER_READY_TIMEOUT),
        ],
        env=env,
        log_file=places.log_dir / "flows.log",
        ready=lambda: all(deployment_id(places.api_url, job.name) for job in JOBS),
        ready_timeout=DEPLOYMENTS_READY_TIMEOUT,
    )
    web = ChildSpec(
        name="Web-Anwendung",
        argv=[
            sys.executable,
            "-m",
            "partnerprojekte.cli",
            "web",
            "serve",
            "--host",
            places.host,
            "--port",
            str(places.web_port),
        ],
        env=env,
        log_file=places.log_dir / "web.log",
        ready=lambda: web_answers(places.web_url),
        ready_timeout=SERVER_READY_TIMEOUT,
    )
    return [server, flows, web]


def check_ports(places: Places) -> None:
    """Refuse to start when a port is taken, naming who has it if it is a Prefect server."""
    if port_in_use(places.host, places.web_port):
        raise RunnerError(
            f"Port {places.web_port} auf {places.host} (Web-Anwendung) ist belegt. Wählen Sie einen anderen "
            f"Port, z. B. PARTNERPROJEKTE_SERVE__WEB_PORT={places.web_port + 1}."
        )
    if prefect_answers(places.api_url):
        raise RunnerError(
            f"Auf {places.host}:{places.prefect_port} läuft bereits ein Prefect-Server (vielleicht ein "
            "zweites „partnerprojekte run“ oder ein „prefect server start“). Beenden Sie ihn, oder wählen "
            f"Sie einen anderen Port, z. B. PARTNERPROJEKTE_SERVE__PREFECT_PORT={places.prefect_port + 1}."
        )
    if port_in_use(places.host, places.prefect_port):
        raise RunnerError(
            f"Port {places.prefect_port} auf {places.host} ist von einem anderen Programm belegt. Wählen Sie "
            f"einen anderen Port, z. B. PARTNERPROJEKTE_SERVE__PREFECT_PORT={places.prefect_port + 1}."
        )


def status_lines(settings: Settings, places: Places, *, once: bool = False) -> list[str]:
    """What a person needs to know once everything runs, in German."""
    from sqlalchemy.engine import make_url

    url = make_url(settings.resolved_database_url())
    database = (
        str(Path(url.database).resolve())
        if url.get_backend_name() == "sqlite" and url.database
        else url.render_as_string(hide_password=True)
    )
    if settings.mail.smtp_host:
        mail = f"SMTP über {settings.mail.smtp_host}:{settings.mail.smtp_port}"
    else:
        mail = f"{settings.resolved_outbox_dir().resolve()} (als .eml-Dateien; kein SMTP-Server eingestellt)"
    width = max(len(job.name) for job in JOBS)
    lines = [
        "",
        "Partnerprojekte läuft.",
        f"  Datenbank:   {database}",
        f"  E-Mails:     {mail}",
        f"  Web:         {places.web_url}",
        f"  Prefect-UI:  {places.prefect_url}",
        f"  Protokolle:  {places.log_dir}",
        f"  Zeitpläne ({settings.timezone}):",
        *(f"    {job.name:<{width}}  {job.label} – {job.when}" for job in JOBS),
    ]
    lines += [
        "Erste Anmeldung: die erste Administration anlegen, den Link aus ihrer E-Mail öffnen, Passwort",
        "  selbst wählen (ohne SMTP-Server liegt die E-Mail im E-Mail-Ordner oben):",
        "    partnerprojekte users add admin@stk.nrw.example --name 'Ada Admin' --role admin",
        "  Personen der Beispieldaten erhalten ihren Link über /verwaltung/personen oder z. B.",
        "    partnerprojekte users send-link j.wolters@stk.nrw.example --as admin@stk.nrw.example",
        "  (Vier-Augen-Prinzip: die Zugänge der zwei Zustimmenden einer Entscheidung schalten zwei",
        "  verschiedene Administrationen frei; an der Kommandozeile gilt --as für die Beispielpersonen.)",
        f"  dann {places.web_url}/anmelden öffnen („partnerprojekte users list“ zeigt alle Personen).",
    ]
    if not once:
        lines.append("Beenden mit Strg+C.")
    return lines


# --- one run through the server ----------------------------------------------------------------------


STATE_LABELS = {
    "COMPLETED": "erfolgreich beendet",
    "FAILED": "fehlgeschlagen",
    "CRASHED": "abgestürzt",
    "CANCELLED": "abgebrochen",
}


@dataclass(frozen=True)
class RunOutcome:
    """How a flow run started through the server ended, with the German summary it logged."""

    state: str
    summary: str | None

    @property
    def ok(self) -> bool:
        """Whether the run completed."""
        return self.state == "COMPLETED"

    def __str__(self) -> str:
        label = STATE_LABELS.get(self.state, self.state)
        return label + (f" – {self.summary}" if self.summary else "")


def run_deployment_once(
    api_url: str, name: str = DELIVER_NOTIFICATIONS, timeout: float = ONCE_TIMEOUT
) -> RunOutcome:
    """Start one run of a deployment through the server and wait for its end."""
    try:
        dep = deployment_id(api_url, name)
        if dep is None:
            raise RunnerError(f"Die Bereitstellung „{name}“ ist am Prefect-Server nicht registriert.")
        # One key for all attempts: a retry after a busy answer gets the run already made, never a second.
        once = {"idempotency_key": uuid.uuid4().hex}
        run_id = _request("POST", f"{api_url}/deployments/{dep}/create_flow_run", once)["id"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = (_request("GET", f"{api_url}/flow_runs/{run_id}") or {}).get("state") or {}
            if state.get("type") in TERMINAL_STATES:
                return RunOutcome(str(state["type"]), _summary_log(api_url, run_id))
            time.sleep(0.5)
    except (OSError, ValueError, KeyError) as exc:
        raise RunnerError(f"Der Prefect-Server unter {api_url} antwortet nicht wie erwartet: {exc}") from None
    raise RunnerError(f"Der Lauf von „{name}“ ist nach {timeout:.0f} Sekunden nicht beendet.")


def _summary_log(api_url: str, run_id: str, wait: float = 15.0) -> str | None:
    """The German summary the flow logged (logs reach the server in batches, so wait a moment for it)."""
    body = {"logs": {"flow_run_id": {"any_": [run_id]}}, "sort": "TIMESTAMP_ASC", "limit": 200}
    deadline = time.monotonic() + wait
    while True:
        for entry in _request("POST", f"{api_url}/logs/filter", body) or []:
            message = str(entry.get("message", ""))
            if message.startswith(SUMMARY_PREFIXES):
                return message
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.5)


# --- the whole ---------------------------------------------------------------------------------------


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (systemd, docker stop, kill) takes the same clean way out as Ctrl+C."""

    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _signals_ignored() -> Iterator[None]:
    """A second Ctrl+C must not cut the shutdown short and leave children behind."""
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def run_product(
    settings: Settings, echo: Echo, *, once: bool = False, base_env: Mapping[str, str] | None = None
) -> int:
    """Start the children, print the status, wait for Ctrl+C (or run deliver-notifications once)."""
    places = Places.of(settings)
    check_ports(places)
    # The environment is handed on as it is (PARTNERPROJEKTE_*, a PostgreSQL URL, SMTP settings).
    env = dict(os.environ if base_env is None else base_env)
    supervisor = Supervisor(echo)
    code = 0
    with _sigterm_as_interrupt():
        try:
            supervisor.start_all(plan(places, env, poll_seconds=1 if once else 2))
            for line in status_lines(settings, places, once=once):
                echo(line)
            if once:
                echo(f"Einmaliger Lauf von {DELIVER_NOTIFICATIONS} über den Prefect-Server …")
                outcome = run_deployment_once(places.api_url)
                echo(f"{DELIVER_NOTIFICATIONS}: {outcome}")
                code = 0 if outcome.ok else 1
            else:
                while True:
                    supervisor.check()
                    time.sleep(0.5)
        except KeyboardInterrupt:
            echo("")
            # Ctrl+C is how ``run`` ends normally; a check (--once) cut short has not passed.
            code = 130 if once else 0
        finally:
            with _signals_ignored():
                if supervisor.children:
                    echo("Wird beendet …")
                supervisor.stop()
                echo("Beendet.")
    return code
