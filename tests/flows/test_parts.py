"""The parts around the flows that need no Prefect server: retry rule, summaries, runner, commands."""

from __future__ import annotations

import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from sqlalchemy.exc import OperationalError

from partnerprojekte import runner
from partnerprojekte.config import MailSettings, ServeSettings, Settings
from partnerprojekte.errors import (
    ConflictError,
    NotFound,
    TransitionRefused,
    ValidationError,
)
from partnerprojekte.flows.catalog import JOBS, job
from partnerprojekte.flows.retry import is_retryable
from partnerprojekte.flows.summary import summarise
from partnerprojekte.runner import ChildSpec, Places, RunnerError, Supervisor

# --- retry rule ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "retry"),
    [
        (ConnectionResetError("SMTP-Server hat die Verbindung getrennt"), True),
        (OperationalError("UPDATE outbox", {}, Exception("database is locked")), True),
        (ConnectionRefusedError(), True),
        (TimeoutError(), True),
        (ValidationError("kaputt"), False),
        (NotFound("PP-0009"), False),
        (ConflictError("gleichzeitig geändert"), False),
        (TransitionRefused("nein", event="recognise", state="eingereicht", reason="state"), False),
        (KeyError("bug"), False),
        (None, False),
    ],
)
def test_only_infrastructure_errors_are_retried(error: BaseException | None, retry: bool) -> None:
    assert is_retryable(error) is retry


# --- catalogue and summaries -----------------------------------------------------------------------


def test_the_catalogue_names_the_three_jobs_and_refuses_others_in_german() -> None:
    assert [(j.name, j.cron) for j in JOBS] == [
        ("deliver-notifications", "* * * * *"),
        ("send-reminders", "30 7 * * *"),
        ("weekly-digest", "0 7 * * 1"),
    ]
    assert job(" Send-Reminders ").name == "send-reminders"
    with pytest.raises(NotFound, match="„backup“ gibt es nicht – vorhanden: deliver-notifications"):
        job("backup")


def test_summaries_are_german_sentences() -> None:
    delivery = {"claimed": 13, "sent": 12, "retried": 1, "dead": 0, "batches": 1}
    assert summarise("deliver-notifications", delivery) == (
        "Zustellung: 12 versandt, 1 später erneut, 0 endgültig gescheitert (13 übernommen in 1 Durchgang)."
    )
    assert summarise("deliver-notifications", {"claimed": 0}) == "Zustellung: keine Benachrichtigung fällig."
    assert summarise("send-reminders", {"queued": 2, "already_queued": 1}) == (
        "Erinnerungen: 2 vorgemerkt, 1 waren bereits vorgemerkt."
    )
    assert summarise("send-reminders", {"queued": 2}, dry_run=True) == (
        "Erinnerungen (Probelauf, nichts gespeichert): 2 würden vorgemerkt, 0 waren bereits vorgemerkt."
    )
    digest = {"week": "2026-W11", "queued": 2, "already_queued": 0, "empty": 1, "opted_out": 1}
    assert summarise("weekly-digest", digest) == (
        "Wochenüberblick 2026, KW 11: 2 vorgemerkt, 0 waren bereits vorgemerkt, 1 ohne Neues entfallen, "
        "1 abbestellt."
    )


def test_the_commands_and_the_runner_do_not_import_prefect() -> None:
    code = (
        "import sys\n"
        "import partnerprojekte.cli.flows, partnerprojekte.runner, partnerprojekte.flows.catalog\n"
        "print(sorted(m for m in sys.modules if m == 'prefect' or m.startswith('prefect.')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


# --- runner: plan, ports, status --------------------------------------------------------------------


def settings_for(tmp_path: Path, port: int = 4200, **mail: object) -> Settings:
    return Settings(
        data_dir=tmp_path / "var",
        serve=ServeSettings(prefect_port=port),
        mail=MailSettings(**mail),
    )


def test_children_get_telemetry_off_and_prefect_state_under_the_data_dir(tmp_path: Path) -> None:
    places = Places.of(settings_for(tmp_path, port=4321))
    server, flows, web = runner.plan(places, {"PATH": "/usr/bin", "PREFECT_API_URL": "http://elsewhere/api"})

    for spec in (server, flows, web):
        assert spec.env["DO_NOT_TRACK"] == "1"
        assert spec.env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
        assert spec.env["PREFECT_HOME"] == str(tmp_path.resolve() / "var" / "prefect")
        assert spec.env["PREFECT_API_URL"] == "http://127.0.0.1:4321/api"  # ours, not the shell's
        assert spec.env["PARTNERPROJEKTE_DATA_DIR"] == str(tmp_path.resolve() / "var")
        assert spec.env["PATH"] == "/usr/bin"
        assert spec.env["NO_PROXY"] == "127.0.0.1,localhost"  # a shell's http_proxy must not catch 127.0.0.1
    assert server.argv[1:] == [
        "-m",
        "prefect",
        "server",
        "start",
        "--host",
        "127.0.0.1",
        "--port",
        "4321",
        "--analytics-off",
    ]
    assert flows.argv[1:4] == ["-m", "partnerprojekte.cli.flows", "serve"]
    assert web.argv[1:] == [
        "-m",
        "partnerprojekte.cli",
        "web",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "8000",
    ]
    assert server.log_file == tmp_path.resolve() / "var" / "logs" / "prefect-server.log"


@pytest.fixture
def fake_prefect() -> Iterator[int]:
    """An HTTP server on 127.0.0.1 that answers Prefect's health check."""

    class Health(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"true" if self.path == "/api/health" else b"null"
            self.send_response(200 if self.path == "/api/health" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_a_running_prefect_on_the_port_is_named(tmp_path: Path, fake_prefect: int) -> None:
    with pytest.raises(RunnerError, match="läuft bereits ein Prefect-Server"):
        runner.check_ports(Places.of(settings_for(tmp_path, port=fake_prefect)))


class Busy(http.server.BaseHTTPRequestHandler):
    """A Prefect API that answers 503 to the first two requests of each kind (its database is locked)."""

    calls: ClassVar[dict[str, int]] = {}

    def _answer(self) -> None:
        count = Busy.calls[self.command] = Busy.calls.get(self.command, 0) + 1
        body = b'{"state": {"type": "COMPLETED"}}' if count > 2 else b"busy"
        self.send_response(200 if count > 2 else 503)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


def test_the_runner_reads_again_while_prefect_is_busy_but_never_creates_twice() -> None:
    Busy.calls = {}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Busy)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}/api"
    try:
        assert runner._request("GET", f"{base}/flow_runs/1") == {"state": {"type": "COMPLETED"}}
        assert Busy.calls["GET"] == 3
        # Creating a run is not repeated: the first answer may have been lost after the run was made.
        with pytest.raises(urllib.error.HTTPError):
            runner._request("POST", f"{base}/deployments/1/create_flow_run", {})
        assert Busy.calls["POST"] == 1
        # With an idempotency key it is: the server answers a repeat with the run it made already.
        keyed = runner._request("POST", f"{base}/deployments/1/create_flow_run", {"idempotency_key": "k"})
        assert keyed == {"state": {"type": "COMPLETED"}} and Busy.calls["POST"] == 3
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_a_port_taken_by_another_program_is_named(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(
            RunnerError, match=f"Port {port} auf 127.0.0.1 ist von einem anderen Programm belegt"
        ):
            runner.check_ports(Places.of(settings_for(tmp_path, port=port)))


def test_the_outcome_of_a_run_reads_german() -> None:
    done = runner.RunOutcome("COMPLETED", "Zustellung: keine Benachrichtigung fällig.")
    assert done.ok
    assert str(done) == "erfolgreich beendet – Zustellung: keine Benachrichtigung fällig."
    assert not runner.RunOutcome("CRASHED", None).ok
    assert str(runner.RunOutcome("CRASHED", None)) == "abgestürzt"


def test_status_lines_show_database_mail_folder_ui_and_schedules(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, port=4321)
    text = "\n".join(runner.status_lines(settings, Places.of(settings)))

    assert f"Datenbank:   {tmp_path.resolve() / 'var' / 'partnerprojekte.db'}" in text
    assert f"E-Mails:     {tmp_path.resolve() / 'var' / 'mail'} (als .eml-Dateien" in text
    assert "Prefect-UI:  http://127.0.0.1:4321" in text
    assert "Zeitpläne (Europe/Berlin):" in text
    assert "send-reminders         Erinnerungen vormerken – täglich um 07:30" in text
    assert text.endswith("Beenden mit Strg+C.")

    smtp = settings_for(tmp_path, smtp_host="mail.nrw.example", smtp_port=587)
    assert "  E-Mails:     SMTP über mail.nrw.example:587" in runner.status_lines(smtp, Places.of(smtp))


# --- runner: supervising child processes ------------------------------------------------------------


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose (its parent has not reaped it yet).
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")


def test_stop_ends_a_stubborn_child_and_its_grandchildren(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "STOP_GRACE", (0.5, 0.5))
    pid_file = tmp_path / "grandchild.pid"
    # A child that ignores SIGINT and SIGTERM and has a grandchild: only SIGKILL to the group ends both.
    code = (
        "import signal, subprocess, sys, time\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(p.pid))\n"
        "time.sleep(60)\n"
    )
    spec = ChildSpec(
        "Sturer Prozess",
        [sys.executable, "-c", code],
        dict(os.environ),
        tmp_path / "child.log",
        ready=pid_file.exists,
    )
    supervisor = Supervisor(lambda line: None)
    supervisor.start_all([spec])
    child_pid = supervisor.children[0].process.pid
    grandchild = int(pid_file.read_text())

    supervisor.stop()

    assert supervisor.children == []
    assert not alive(child_pid)
    deadline = time.monotonic() + 5
    while alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(grandchild)


def test_a_child_that_dies_while_starting_is_reported_with_its_log(tmp_path: Path) -> None:
    code = "import sys; print('Address already in use'); sys.exit(3)"
    spec = ChildSpec(
        "Prefect-Server",
        [sys.executable, "-c", code],
        dict(os.environ),
        tmp_path / "server.log",
        ready=lambda: False,
    )
    supervisor = Supervisor(lambda line: None)

    with pytest.raises(RunnerError) as caught:
        supervisor.start_all([spec])
    supervisor.stop()

    message = str(caught.value)
    assert "Prefect-Server: unerwartet beendet (Exit-Code 3)" in message
    assert "Address already in use" in message


def test_sigterm_takes_the_way_of_ctrl_c() -> None:
    before = signal.getsignal(signal.SIGTERM)

    def terminated() -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler interrupts this at once

    with runner._sigterm_as_interrupt(), pytest.raises(KeyboardInterrupt):
        terminated()
    assert signal.getsignal(signal.SIGTERM) is before


# --- the commands, as a person calls them ------------------------------------------------------------


def call(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "PARTNERPROJEKTE_"))}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), PARTNERPROJEKTE_DATA_DIR=str(tmp_path / "var"))
    return subprocess.run(
        [sys.executable, "-m", "partnerprojekte.cli.flows", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_flows_serve_without_a_server_explains_partnerprojekte_run(tmp_path: Path) -> None:
    result = call(["serve"], tmp_path)

    assert result.returncode == 2
    assert "Kein Prefect-Server eingestellt (PREFECT_API_URL fehlt)" in result.stderr
    assert "partnerprojekte run" in result.stderr
    assert "Traceback" not in result.stderr


def test_flows_run_refuses_an_unknown_flow_and_wrong_options(tmp_path: Path) -> None:
    unknown = call(["run", "backup"], tmp_path)
    wrong = call(["run", "deliver-notifications", "--dry-run"], tmp_path)

    assert unknown.returncode == 2
    assert "Ablauf „backup“ gibt es nicht" in unknown.stderr
    assert wrong.returncode == 2
    assert "deliver-notifications kennt weder --as-of noch --dry-run noch --to" in wrong.stderr
