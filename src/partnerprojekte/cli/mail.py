"""The command groups ``outbox`` (deliver, list, retry notifications) and ``mail`` (preview templates).

The heavy modules (SQLAlchemy, Jinja2, aiosmtplib) are imported inside the commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from partnerprojekte.cli import support
from partnerprojekte.cli.support import JsonOpt, echo_json, group, handled, local_time
from partnerprojekte.errors import FieldError, ValidationError

outbox_app = group("Postausgang: Benachrichtigungen versenden, ansehen und erneut senden.")
mail_app = group("E-Mail-Vorlagen ansehen.")
# Both groups in one app, for running them on their own (tests, ``python -m``).
app = group("Postausgang und E-Mail-Vorlagen der Partnerprojekte.")
app.add_typer(outbox_app, name="outbox")
app.add_typer(mail_app, name="mail")


def _outbox_id(text: str) -> int:
    value = text.strip().lstrip("#")
    if not value.isdigit() or int(value) == 0:
        raise ValidationError(
            FieldError("ID", f"„{text}“ ist keine Nummer einer Benachrichtigung (z. B. 17).")
        )
    return int(value)


def _check_limit(limit: int | None) -> None:
    if limit is not None and limit < 1:
        raise ValidationError(FieldError("--limit", f"muss mindestens 1 sein, nicht {limit}."))


# --- outbox -----------------------------------------------------------------------------------------


@outbox_app.command("deliver")
def outbox_deliver(
    limit: Annotated[
        int | None,
        typer.Option("--limit", metavar="N", help="Höchstens N Benachrichtigungen versenden."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Fällige Benachrichtigungen versenden (per SMTP, ohne SMTP-Server als .eml-Dateien)."""

    with handled(as_json):
        from partnerprojekte.mailing.delivery import deliver_pending

        _check_limit(limit)
        svc = support.services()
        report = deliver_pending(svc.db, svc.settings, limit=limit)
        mail = svc.settings.mail
        where = (
            f"SMTP-Server {mail.smtp_host}:{mail.smtp_port}"
            if report.transport == "smtp"
            else f".eml-Dateien in {svc.settings.resolved_outbox_dir()}"
        )
    if as_json:
        echo_json(report.to_json())
        return
    if report.claimed == 0:
        typer.echo("Keine fälligen Benachrichtigungen.")
        return
    typer.echo(
        f"{report.sent} versandt, {report.retried} zurückgestellt (neuer Versuch später), "
        f"{report.dead} unzustellbar – über {where}."
    )
    for error in report.errors:
        typer.echo(f"  Fehler: {error}")
    if report.dead:
        typer.echo("Unzustellbare ansehen: partnerprojekte outbox list --status dead")


@outbox_app.command("list")
def outbox_list(
    status: Annotated[
        str | None,
        typer.Option("--status", help="pending, sending, sent, dead oder suppressed.", metavar="STATUS"),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", metavar="N", help="Höchstens N Einträge.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Benachrichtigungen im Postausgang, die neuesten zuerst."""

    with handled(as_json):
        from partnerprojekte.mailing.delivery import OUTBOX_STATUSES, check_status, list_outbox

        _check_limit(limit)
        if status is not None:
            status = check_status(status)
        rows = list_outbox(support.services().db, status=status, limit=limit)
    if as_json:
        echo_json(rows)
        return
    if not rows:
        typer.echo("Keine Benachrichtigungen" + (f" mit Status „{status}“." if status else "."))
        return
    for r in rows:
        when = local_time(r["sent_at"] or r["next_attempt_at"])
        who = (
            f"{r['recipient_name']} <{r['recipient_email']}>" if r["recipient_name"] else r["recipient_email"]
        )
        typer.echo(
            f"{r['id']:>6}  {OUTBOX_STATUSES[r['status']].split(' (')[0]:<20} {when:<16}  "
            f"{r['proposal'] or '–':<8} {r['kind']:<40} {who}"
        )
        if r["last_error"] and r["status"] != "sent":
            typer.echo(f"{'':>8}Versuch {r['attempts']}: {r['last_error']}")
    typer.echo(f"{len(rows)} Einträge.")


@outbox_app.command("retry")
def outbox_retry(
    outbox_id: Annotated[
        str, typer.Argument(metavar="ID", help="Nummer der Benachrichtigung (outbox list).")
    ],
    as_json: JsonOpt = False,
) -> None:
    """Eine unzustellbare Benachrichtigung erneut in den Versand geben."""

    with handled(as_json):
        from partnerprojekte.mailing.delivery import retry

        row = retry(support.services().db, _outbox_id(outbox_id))
    if as_json:
        echo_json(row)
        return
    typer.echo(
        f"Benachrichtigung Nr. {row['id']} ({row['kind']} an {row['recipient_email']}) wartet wieder auf den "
        "Versand: partnerprojekte outbox deliver"
    )


# --- mail -------------------------------------------------------------------------------------------


@mail_app.command("preview")
def mail_preview(
    kind: Annotated[
        str, typer.Argument(metavar="ART", help="Benachrichtigungsart, z. B. recognise.partner.")
    ],
    proposal: Annotated[
        str | None,
        typer.Option(
            "--proposal", metavar="ID", help="Mit den Daten dieses Vorschlags statt eines Beispiels."
        ),
    ] = None,
    html: Annotated[bool, typer.Option("--html", help="Den HTML-Teil statt des Textteils zeigen.")] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", metavar="DATEI", help="In diese Datei schreiben.")
    ] = None,
) -> None:
    """Eine Benachrichtigung so zeigen, wie sie versandt würde (Betreff, Text oder HTML)."""

    with handled():
        from partnerprojekte.notifications.kinds import KINDS
        from partnerprojekte.notifications.render import UnknownKind, render

        kind = kind.strip()
        if kind not in KINDS:
            raise UnknownKind(kind)
        if proposal is not None:
            from partnerprojekte.ids import parse_id
            from partnerprojekte.mailing.delivery import preview_context

            svc = support.services()
            settings = svc.settings
            context, name = preview_context(svc.db, kind, parse_id(proposal))
        else:
            from partnerprojekte.config import get_settings
            from partnerprojekte.notifications.samples import sample_context, sample_recipient

            settings = get_settings()
            context, name = sample_context(kind), sample_recipient(kind)
        mail = render(kind, context, recipient_name=name, settings=settings)
        text = mail.html if html else f"Betreff: {mail.subject}\n\n{mail.text}"
        if output is not None:
            try:
                output.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise ValidationError(
                    FieldError("--output", f"„{output}“ lässt sich nicht schreiben: {exc.strerror or exc}")
                ) from None
    if output is None:
        typer.echo(text, nl=False)
    else:
        typer.echo(f"Vorschau geschrieben: {output} (Betreff: {mail.subject})")
