"""Commands ``reminders`` and ``digest``: the scheduled work, run by hand (operators, tests).

Everything heavy is imported inside the commands: importing this module costs nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from partnerprojekte.cli import support
from partnerprojekte.cli.support import EmailArg, JsonOpt, echo_json, group, handled, local_time

if TYPE_CHECKING:
    from partnerprojekte.mailing.digests import DigestReport
    from partnerprojekte.mailing.planned import PlannedMail
    from partnerprojekte.mailing.reminders import ReminderReport
    from partnerprojekte.services import Services

reminders_app = group("Erinnerungen an überfällige Schritte (täglich 07:30 Uhr).")
digest_app = group("Wochenüberblick für Ressorts und Arbeitsstab (montags 07:00 Uhr).")

DryRunOpt = Annotated[
    bool, typer.Option("--dry-run", help="Nur anzeigen, was vorgemerkt würde; nichts speichern.")
]

_STATUS_TEXT = {
    "queued": "vorgemerkt",
    "would_queue": "würde vorgemerkt",
    "exists": "bereits vorgemerkt",
}
# "label: count", so that one and many read equally well.
_SUMMARY_TEXT = {
    "awaiting": "Zustimmung offen",
    "overdue": "überfällig",
    "new_responsibilities": "neu zuständig",
    "changes": "Statusänderungen",
    "new_submissions": "neu eingereicht",
    "reports_owed": "Fortschrittsmeldungen offen",
    "reports_overdue": "davon überfällig",
}
_SKIP_TEXT = {"opt_out": "abbestellt", "empty": "nichts Neues"}


@contextmanager
def _opened() -> Iterator[Services]:
    """The use cases of the main program, with the database connections closed afterwards."""
    from sqlalchemy import Engine

    svc = support.services()
    try:
        yield svc
    finally:
        # The scheduled runs call these commands in-process too: no pooled connection may outlive them.
        if isinstance(svc.db.bind, Engine):
            svc.db.bind.dispose()


def _day(text: str | None) -> dt.date | None:
    from partnerprojekte.errors import ValidationError

    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(f"--as-of: „{text}“ ist kein Datum der Form JJJJ-MM-TT.") from None


def _recipient(mail: PlannedMail) -> str:
    return f"{mail.recipient_name} <{mail.recipient_email}>" if mail.recipient_name else mail.recipient_email


def _print_reminders(report: ReminderReport) -> None:
    from partnerprojekte.mailing.reminders import KIND_LABELS

    trial = " – Probelauf, nichts gespeichert" if report.dry_run else ""
    typer.echo(f"Erinnerungen zum {local_time(report.as_of.isoformat())}{trial}")
    if not report.mails:
        typer.echo("Keine Erinnerung fällig.")
        return
    for m in report.mails:
        label = KIND_LABELS.get(m.kind, m.kind)
        if m.proposal is None:  # a progress-report reminder lists all of a person's open reports
            count = m.summary.get("reports", 0)
            typer.echo(
                f"  {_STATUS_TEXT[m.status]:<18} {label} (Berichtsrunde {m.round}, {count} Meldung(en)) "
                f"→ {_recipient(m)}"
            )
            continue
        typer.echo(
            f"  {_STATUS_TEXT[m.status]:<18} {m.proposal}  {label} "
            f"({m.days} Tage, Runde {m.round}) → {_recipient(m)}"
        )
    verb = "würden vorgemerkt" if report.dry_run else "vorgemerkt"
    typer.echo(f"{report.queued} Erinnerung(en) {verb}, {report.already_queued} waren bereits vorgemerkt.")


def _print_digests(report: DigestReport) -> None:
    from partnerprojekte.mailing.digests import KIND_LABELS

    year, week = report.week.split("-W")
    trial = " – Probelauf, nichts gespeichert" if report.dry_run else ""
    typer.echo(f"Wochenüberblick KW {int(week)}/{year} (Stichtag {report.as_of:%d.%m.%Y}){trial}")
    for m in report.mails:
        parts = ", ".join(f"{_SUMMARY_TEXT.get(k, k)}: {n}" for k, n in m.summary.items() if n)
        typer.echo(f"  {_STATUS_TEXT[m.status]:<18} {KIND_LABELS.get(m.kind, m.kind):<28} → {_recipient(m)}")
        if parts:
            typer.echo(f"  {'':<18} {parts}")
    for s in report.skipped:
        label = KIND_LABELS.get(s.kind, s.kind)
        typer.echo(f"  {'übersprungen':<18} {label:<28} → {s.name} <{s.email}> ({_SKIP_TEXT[s.reason]})")
    if not report.mails and not report.skipped:
        typer.echo(
            "Niemand erhält einen Wochenüberblick (keine aktiven Personen in Ressorts oder Arbeitsstab)."
        )
    verb = "würden vorgemerkt" if report.dry_run else "vorgemerkt"
    typer.echo(
        f"{report.queued} Wochenüberblick(e) {verb}, {report.already_queued} waren bereits vorgemerkt, "
        f"{len(report.skipped)} übersprungen."
    )


@reminders_app.command("run")
def reminders_run(
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of", metavar="DATUM", help="Stichtag JJJJ-MM-TT (gilt als 07:30 Uhr); Standard: jetzt."
        ),
    ] = None,
    dry_run: DryRunOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Fällige Erinnerungen vormerken (je Vorschlag, Art und Runde höchstens einmal)."""

    with handled(as_json):
        from partnerprojekte.mailing.reminders import reminder_moment, run_reminders

        day = _day(as_of)
        with _opened() as svc:
            moment = reminder_moment(day, svc.settings.timezone) if day else None
            report = run_reminders(svc.db, svc.settings, as_of=moment, dry_run=dry_run)
    if as_json:
        echo_json(report.to_json())
    else:
        _print_reminders(report)


@digest_app.command("run")
def digest_run(
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", metavar="DATUM", help="Ein Tag der Woche, JJJJ-MM-TT; Standard: heute."),
    ] = None,
    dry_run: DryRunOpt = False,
    to: Annotated[
        str | None, typer.Option("--to", metavar="EMAIL", help="Nur den Wochenüberblick dieser Person.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Den Wochenüberblick vormerken (je Person und Kalenderwoche höchstens einmal; leere entfallen)."""

    with handled(as_json):
        from partnerprojekte.mailing.digests import run_digests

        day = _day(as_of)
        with _opened() as svc:
            report = run_digests(svc.db, svc.settings, as_of=day, dry_run=dry_run, only_to=to)
    if as_json:
        echo_json(report.to_json())
    else:
        _print_digests(report)


def _opt(email: str, opt_out: bool, as_json: bool) -> None:

    with handled(as_json):
        from partnerprojekte.mailing.digests import set_digest_opt_out

        with _opened() as svc:
            result = set_digest_opt_out(svc.db, email, opt_out)
    if as_json:
        echo_json(result.to_json())
        return
    who = f"{result.name} <{result.email}>"
    if not result.changed:
        state = "abbestellt" if opt_out else "bestellt"
        typer.echo(f"Der Wochenüberblick für {who} war bereits {state}; nichts geändert.")
    elif opt_out:
        typer.echo(
            f"Wochenüberblick für {who} abbestellt. Benachrichtigungen zu Entscheidungen kommen weiterhin."
        )
    else:
        typer.echo(f"Wochenüberblick für {who} wieder bestellt.")


@digest_app.command("opt-out")
def digest_opt_out(email: EmailArg, as_json: JsonOpt = False) -> None:
    """Den Wochenüberblick für eine Person abbestellen (Benachrichtigungen bleiben)."""
    _opt(email, True, as_json)


@digest_app.command("opt-in")
def digest_opt_in(email: EmailArg, as_json: JsonOpt = False) -> None:
    """Den Wochenüberblick für eine Person wieder bestellen."""
    _opt(email, False, as_json)
