"""The program ``partnerprojekte``: every command group put together, and the entry point ``main``.

The order of registration is the order of ``partnerprojekte --help``.
"""

from __future__ import annotations

import sys

import typer

from partnerprojekte.cli import admin, decisions, flows, i18n, mail, people, proposals, reports, schedule, web
from partnerprojekte.cli.support import EXIT_FAILED, EXIT_INVALID, EXIT_OK, group, os_reason

app = group(
    "Qualifizierung der Partnerprojekte der Ruhr-Konferenz: prüfen, einreichen, entscheiden, berichten.",
    name="partnerprojekte",
    add_completion=False,
)

app.command("run")(flows.run)
app.command("init")(admin.init)
app.command("check")(proposals.check)
app.command("submit")(proposals.submit)
app.command("revise")(proposals.revise)
app.command("assign-ressort")(decisions.assign_ressort)
app.command("confirm")(decisions.confirm)
app.command("transition")(decisions.transition)
app.command("withdraw-approval")(decisions.withdraw_approval)
app.command("comment")(decisions.comment)
app.command("show")(proposals.show)
app.command("list")(proposals.list_cmd)
app.command("history")(proposals.history)
app.command("verify")(admin.verify)
app.command("report")(admin.report)
app.command("import")(proposals.import_cmd)
app.command("diagram")(admin.diagram)
app.command("demo")(admin.demo)
app.add_typer(reports.report_app, name="bericht")
app.add_typer(people.users_app, name="users")
app.add_typer(mail.outbox_app, name="outbox")
app.add_typer(mail.mail_app, name="mail")
app.add_typer(schedule.reminders_app, name="reminders")
app.add_typer(schedule.digest_app, name="digest")
app.add_typer(flows.flows_app, name="flows")
app.add_typer(web.web_app, name="web")


def main() -> None:
    """Entry point of the console script: German usage errors, no tracebacks for bad input."""
    try:
        code = app(standalone_mode=False)
    except typer.TyperException as exc:
        # typer's own copy of click (not the ``click`` package, which typer no longer needs) raises its
        # usage errors here once standalone mode is off; shown in German with the usage line.
        _show_usage_error(exc)
        sys.exit(EXIT_INVALID)
    except typer.Abort:
        typer.echo("Abgebrochen.", err=True)
        sys.exit(EXIT_FAILED)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        typer.echo("Abgebrochen.", err=True)
        sys.exit(130)
    except Exception as exc:  # the last line of defence: a known cause in German instead of a traceback
        sys.exit(_unexpected(exc))
    # Without standalone mode typer returns the code of a ``typer.Exit`` (``_fail``, ``--help``) instead
    # of raising it; ignoring it made every refused or invalid command exit 0.
    sys.exit(code if isinstance(code, int) else EXIT_OK)


def _unexpected(exc: Exception) -> int:
    """Explain an error no command expected: database, configuration, file system; else a real bug."""
    module = type(exc).__module__.split(".")[0]
    if module in {"sqlalchemy", "psycopg", "sqlite3", "alembic"}:
        cause = getattr(exc, "orig", None) or exc
        first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        typer.echo(
            "Die Datenbank ist nicht erreichbar oder nicht nutzbar (PARTNERPROJEKTE_DATABASE_URL bzw. "
            f"PARTNERPROJEKTE_DATA_DIR prüfen): {first}",
            err=True,
        )
        return EXIT_FAILED
    if module in {"pydantic", "pydantic_core"} and getattr(exc, "title", "") == "Settings":
        problems = "; ".join(
            f"PARTNERPROJEKTE_{'__'.join(str(part) for part in e['loc']).upper()}: ungültiger Wert "
            f"„{e.get('input')}“ ({e['msg']})"
            for e in exc.errors()  # type: ignore[attr-defined]
        )
        typer.echo(f"Die Konfiguration ist ungültig: {problems}", err=True)
        return EXIT_INVALID
    if isinstance(exc, OSError):
        typer.echo(f"Zugriff auf „{exc.filename or ''}“ nicht möglich: {os_reason(exc)}.", err=True)
        return EXIT_FAILED
    import traceback

    traceback.print_exception(exc)
    typer.echo(
        f"Unerwarteter Fehler ({type(exc).__name__}): {exc} – bitte mit der Ausgabe oben melden.", err=True
    )
    return EXIT_FAILED


def _show_usage_error(exc: typer.TyperException) -> None:
    ctx = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError":
        # A command group called without a command: its help is the message (exit 2, like click).
        typer.echo(exc.format_message(), err=True)
        return
    if ctx is not None:
        typer.echo(ctx.get_usage(), err=True)
    typer.echo(f"Fehler: {i18n.usage_error(exc.format_message())}", err=True)
    if ctx is not None:
        typer.echo(f"Hilfe mit „{ctx.command_path} --help“.", err=True)
