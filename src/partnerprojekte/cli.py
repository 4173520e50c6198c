"""The command line ``partnerprojekte`` (spec §8): German messages, ``--json`` with English keys.

Exit codes: 0 success, 1 audit chain broken or unexpected failure, 2 invalid input,
3 event refused, 4 conflict. Heavy modules (SQLAlchemy, pydantic) are imported inside the
commands, so ``--help`` stays instant.
"""

from __future__ import annotations

from partnerprojekte import cli_i18n

cli_i18n.install()

import datetime as dt  # noqa: E402 - German click texts must be installed first
import json  # noqa: E402
import sys  # noqa: E402
from enum import StrEnum  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import TYPE_CHECKING, Annotated, Any, NoReturn  # noqa: E402

import typer  # noqa: E402

from partnerprojekte.cli_output import echo_json as _echo_json  # noqa: E402
from partnerprojekte.errors import (  # noqa: E402
    AuditChainBroken,
    ConflictError,
    NotFound,
    PartnerprojekteError,
    TransitionRefused,
    ValidationError,
)
from partnerprojekte.model import (  # noqa: E402
    CRITERION_LABELS,
    EVENT_LABELS,
    Criterion,
    Event,
    ReasonCode,
    Role,
    State,
    Visibility,
)

if TYPE_CHECKING:
    from partnerprojekte.services import Outcome, Services

EXIT_OK, EXIT_FAILED, EXIT_INVALID, EXIT_REFUSED, EXIT_CONFLICT = 0, 1, 2, 3, 4


class _DiagramFormat(StrEnum):
    MERMAID = "mermaid"
    SVG = "svg"


app = typer.Typer(
    name="partnerprojekte",
    help="Qualifizierung der Partnerprojekte der Ruhr-Konferenz: prüfen, einreichen, entscheiden, berichten.",
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    # The usage line is German too (typer copies these placeholders to every command).
    options_metavar="[OPTIONEN]",
    subcommand_metavar="BEFEHL [ARGUMENTE]...",
)
users_app = typer.Typer(
    help="Personen und Rollen verwalten.",
    no_args_is_help=True,
    rich_markup_mode=None,
    options_metavar="[OPTIONEN]",
    subcommand_metavar="BEFEHL [ARGUMENTE]...",
)
app.add_typer(users_app, name="users")

# Command groups of the other edges; each module imports its heavy parts only inside its commands.
from partnerprojekte import cli_mail, cli_web  # noqa: E402 - the app must exist first
from partnerprojekte.cli_flows import flows_app  # noqa: E402
from partnerprojekte.cli_flows import run as run_command  # noqa: E402
from partnerprojekte.cli_schedule import digest_app, reminders_app  # noqa: E402

app.add_typer(cli_mail.outbox_app, name="outbox")
app.add_typer(cli_mail.mail_app, name="mail")
app.add_typer(reminders_app, name="reminders")
app.add_typer(digest_app, name="digest")
app.add_typer(flows_app, name="flows")
app.command("run")(run_command)
users_app.command("send-link")(cli_web.users_send_link)
users_app.command("deactivate")(cli_web.users_deactivate)
users_app.command("set-role")(cli_web.users_set_role)
users_app.add_typer(cli_web.token_app, name="token")
app.add_typer(cli_web.web_app, name="web")

JsonOpt = Annotated[bool, typer.Option("--json", help="Ausgabe als JSON (englische Schlüssel).")]
AsOpt = Annotated[str, typer.Option("--as", help="E-Mail der handelnden Person.", metavar="EMAIL")]
IdArg = Annotated[str, typer.Argument(help="Vorschlags-ID, z. B. PP-0001.", metavar="ID")]
FileArg = Annotated[
    Path,
    typer.Argument(help="Vorschlagsdatei (YAML oder JSON); - liest die Standardeingabe.", metavar="DATEI"),
]


# --- plumbing ---------------------------------------------------------------------------------------


def _fail(message: str, code: int, *, as_json: bool = False, data: dict[str, Any] | None = None) -> NoReturn:
    if as_json:
        typer.echo(
            json.dumps({"error": {"message": message, "exit_code": code, **(data or {})}}, ensure_ascii=False)
        )
    typer.echo(message, err=True)
    raise typer.Exit(code)


def _handle(exc: Exception, as_json: bool) -> NoReturn:
    """Map an error to its exit code and German message (the one place that does so)."""
    if isinstance(exc, ValidationError):
        _fail(
            f"Ungültige Eingabe: {exc.render()}",
            EXIT_INVALID,
            as_json=as_json,
            data={"kind": "invalid", "fields": [{"path": e.path, "message": e.message} for e in exc.errors]},
        )
    if isinstance(exc, NotFound):
        _fail(f"Nicht gefunden: {exc}", EXIT_INVALID, as_json=as_json, data={"kind": "not_found"})
    if isinstance(exc, TransitionRefused):
        _fail(
            f"Abgelehnt: {exc}",
            EXIT_REFUSED,
            as_json=as_json,
            data={
                "kind": "refused",
                "event": exc.event,
                "state": exc.state,
                "reason": exc.reason,
                "criterion": exc.criterion,
                "role": exc.role,
            },
        )
    if isinstance(exc, ConflictError):
        _fail(f"Konflikt: {exc}", EXIT_CONFLICT, as_json=as_json, data={"kind": "conflict"})
    if isinstance(exc, AuditChainBroken):
        _fail(str(exc), EXIT_FAILED, as_json=as_json, data={"kind": "audit"})
    _fail(f"Fehler: {exc}", EXIT_FAILED, as_json=as_json, data={"kind": "error"})


def _services() -> Services:
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url

    from partnerprojekte.config import get_settings
    from partnerprojekte.db.engine import Database, make_engine, normalise_url
    from partnerprojekte.services import Services

    settings = get_settings()
    not_initialised = ValidationError(
        "Die Datenbank ist noch nicht eingerichtet: bitte zuerst „partnerprojekte init“ ausführen."
    )
    url = make_url(normalise_url(settings.resolved_database_url()))
    # Connecting to SQLite would create an empty database file (and its directory) as a side effect.
    is_file = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    if is_file and not Path(str(url.database)).is_file():
        raise not_initialised
    engine = make_engine(settings.resolved_database_url())
    if not inspect(engine).has_table("alembic_version"):
        raise not_initialised
    return Services(Database(engine), settings)


def _read_file(path: Path, limit: int | None = None) -> bytes:
    """Read at most one byte more than the limit: enough to refuse an oversized file, never more."""
    from partnerprojekte.config import get_settings

    limit = limit or get_settings().max_proposal_bytes
    try:
        if str(path) == "-":
            data = sys.stdin.buffer.read(limit + 1)
        else:
            with path.open("rb") as fh:
                data = fh.read(limit + 1)
        if len(data) > limit:
            # Only limit + 1 bytes were read: name the real size (not "limit + 1") where it is known.
            size = f"{_number(path.stat().st_size)} Bytes" if str(path) != "-" else "zu viele Bytes"
            raise ValidationError(
                f"DATEI: „{path}“ ist zu groß: {size}, erlaubt sind höchstens {_number(limit)} Bytes."
            )
        return data
    except FileNotFoundError:
        raise ValidationError(f"DATEI: „{path}“ gibt es nicht.") from None
    except IsADirectoryError:
        raise ValidationError(f"DATEI: „{path}“ ist ein Verzeichnis, keine Datei.") from None
    except PermissionError:
        raise ValidationError(f"DATEI: „{path}“ ist nicht lesbar (keine Berechtigung).") from None
    except OSError as exc:
        raise ValidationError(f"DATEI: „{path}“ lässt sich nicht lesen: {_os_reason(exc)}") from None


def _number(n: int) -> str:
    """1234567 → 1.234.567 (German thousands separator)."""
    return f"{n:,}".replace(",", ".")


def _os_reason(exc: OSError) -> str:
    """The operating system's reason in German for the usual cases (its own text is English)."""
    import errno

    reasons = {
        errno.ENOENT: "Datei oder Verzeichnis gibt es nicht",
        errno.EACCES: "keine Berechtigung",
        errno.EPERM: "keine Berechtigung",
        errno.EISDIR: "ist ein Verzeichnis",
        errno.ENOTDIR: "ein Teil des Pfades ist kein Verzeichnis",
        errno.ENOSPC: "kein Speicherplatz mehr frei",
        errno.EROFS: "Dateisystem ist schreibgeschützt",
    }
    return reasons.get(exc.errno or 0, exc.strerror or str(exc))


def _proposal_id(text: str) -> int:
    from partnerprojekte.ids import parse_id

    try:
        return parse_id(text)
    except NotFound as exc:
        # A malformed id is not "nicht gefunden" but a wrong argument: say which one.
        raise ValidationError(f"ID: {exc}") from None


def _choice(value: str, enum_cls: Any, what: str) -> Any:
    try:
        return enum_cls(value.strip().lower())
    except ValueError:
        allowed = ", ".join(m.value for m in enum_cls)
        raise ValidationError(f"{what}: unbekannter Wert „{value}“ – erlaubt: {allowed}.") from None


def _local(iso: str | None) -> str:
    if not iso:
        return "–"
    from zoneinfo import ZoneInfo

    from partnerprojekte.config import get_settings

    moment = dt.datetime.fromisoformat(iso).astimezone(ZoneInfo(get_settings().timezone))
    return moment.strftime("%d.%m.%Y %H:%M")


def _print_check(check: dict[str, Any]) -> None:
    from partnerprojekte.model import Verdict

    typer.echo(f"Gesamtergebnis: {Verdict(check['overall']).label}")
    for key, result in check["criteria"].items():
        label = CRITERION_LABELS[Criterion(key)]
        typer.echo(f"  {Verdict(result['result']).label:<14} {label}")
        typer.echo(f"  {'':<14} {result['explanation']}")


def _label(name: str) -> str:
    """German label of an event („Anerkennen“ (recognise)) or an audited action („Kommentar“)."""
    from partnerprojekte.model import ACTION_LABELS, Action, event_label

    if name in {e.value for e in Event}:
        return event_label(Event(name))
    if name in {a.value for a in Action}:
        return f"„{ACTION_LABELS[Action(name)]}“"
    return name


def _print_outcome(outcome: Outcome) -> None:
    from partnerprojekte.ids import format_id

    pid = format_id(outcome.proposal_id)
    if outcome.fired:
        typer.echo(f"{pid}: {_label(outcome.event)} ausgeführt – Status jetzt „{outcome.status.label}“.")
    elif outcome.pending_approvals:
        # An approval that does not complete the set: say whose approval is still owed.
        for pending in outcome.pending_approvals:
            missing = " und ".join(Role(r).label for r in pending["missing_roles"])
            given = ", ".join(pending.get("approved_by", []))
            typer.echo(
                f"{pid}: Zustimmung zu {_label(pending['event'])} gespeichert – Status bleibt "
                f"„{outcome.status.label}“."
            )
            typer.echo(f"  Zugestimmt: {given}; es fehlt noch die Zustimmung von: {missing}.")
    else:
        typer.echo(f"{pid}: {_label(outcome.event)} gespeichert – Status „{outcome.status.label}“.")
    if outcome.notifications:
        typer.echo(f"  {outcome.notifications} Benachrichtigung(en) zum Versand vorgemerkt.")


# --- commands ---------------------------------------------------------------------------------------


@app.command()
def init() -> None:
    """Datenbank anlegen oder migrieren und Referenzdaten laden (beliebig oft ausführbar)."""
    try:
        from partnerprojekte.config import get_settings
        from partnerprojekte.db.engine import Database, make_engine
        from partnerprojekte.db.migrate import upgrade
        from partnerprojekte.services import Services

        settings = get_settings()
        engine = make_engine(settings.resolved_database_url())
        upgrade(engine)
        count = Services(Database(engine), settings).load_reference_data()
        typer.echo(
            f"Datenbank bereit ({engine.url.render_as_string(hide_password=True)}); {count} Ressorts geladen."
        )
    except PartnerprojekteError as exc:
        _handle(exc, False)


@users_app.command("add")
def users_add(
    email: Annotated[str, typer.Argument(metavar="EMAIL", help="E-Mail-Adresse der Person.")],
    name: Annotated[str, typer.Option("--name", help="Vollständiger Name.", metavar="NAME")],
    role: Annotated[
        str, typer.Option("--role", help="partner, ressort, arbeitsstab oder admin.", metavar="ROLLE")
    ],
    ressort: Annotated[
        str | None, typer.Option("--ressort", help="Ressort-Kürzel (nur Rolle ressort).", metavar="ABK")
    ] = None,
    organisation: Annotated[
        str | None,
        typer.Option("--organisation", metavar="NAME", help="Organisation (Pflicht für Rolle partner)."),
    ] = None,
    as_: Annotated[
        str | None,
        typer.Option(
            "--as",
            metavar="EMAIL",
            help="E-Mail der handelnden Administration (entfällt für die ersten beiden Administrationen).",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Eine Person mit ihrer Rolle anlegen; sie erhält einen Aktivierungslink per E-Mail."""
    try:
        from partnerprojekte.db.user_audit import UserActor
        from partnerprojekte.web import accounts

        svc = _services()
        chosen = _choice(role, Role, "--role")
        with svc.db.write() as s:
            if as_:
                by = accounts.acting_admin(s, as_, "cli")
            elif chosen is Role.ADMIN and accounts.active_admins(s) < 2:
                # The first two administrators come from the operator (who has the database anyway):
                # an administrator another one created is never independent of its creator.
                by = UserActor("cli:bootstrap")
            else:
                raise ValidationError(
                    "--as: Bitte die handelnde Administration angeben (ohne --as lassen sich nur die "
                    "ersten beiden Administrationen anlegen)."
                )
            user = accounts.create_person(
                svc, email, name, chosen, ressort=ressort, organisation=organisation, by=by
            )
    except PartnerprojekteError as exc:
        _handle(exc, as_json)
    if as_json:
        _echo_json(
            {
                "email": user.email,
                "name": user.name,
                "role": user.role.value,
                "ressort": user.ressort,
                "organisation": user.organisation,
            }
        )
    else:
        typer.echo(
            f"Angelegt: {user.name} <{user.email}> als {user.role.label}"
            + (f" ({user.ressort})" if user.ressort else "")
            + (f" für „{user.organisation}“" if user.organisation else "")
            + ". Der Aktivierungslink geht per E-Mail an die Person (Versand über die Outbox)."
        )


@users_app.command("list")
def users_list(as_json: JsonOpt = False) -> None:
    """Alle Personen mit Rolle, Ressort und Organisation."""
    try:
        from sqlalchemy import select

        from partnerprojekte.db.schema import UserRow

        svc = _services()
        # Read the attributes inside the session: ``Services.list_users`` returns rows whose session
        # has rolled back and closed (expiring them), so reading them afterwards fails.
        with svc.db.read() as s:
            users: list[dict[str, Any]] = [
                {
                    "email": u.email,
                    "name": u.name,
                    "role": u.role,
                    "ressort": u.ressort,
                    "organisation": u.organisation,
                    "active": u.active,
                }
                for u in s.scalars(select(UserRow).order_by(UserRow.role, UserRow.email))
            ]
    except PartnerprojekteError as exc:
        _handle(exc, as_json)
    if as_json:
        _echo_json([{**u, "role": u["role"].value} for u in users])
        return
    if not users:
        typer.echo("Noch keine Personen angelegt (partnerprojekte users add).")
    for u in users:
        extra = u["ressort"] or u["organisation"] or ""
        typer.echo(f"{u['role'].label:<14} {u['email']:<40} {u['name']}" + (f" – {extra}" if extra else ""))


@app.command()
def check(file: FileArg, as_json: JsonOpt = False) -> None:
    """Die vier Kriterien für eine Vorschlagsdatei prüfen; speichert nichts."""
    try:
        from partnerprojekte.config import get_settings
        from partnerprojekte.formats import parse_proposal
        from partnerprojekte.reference import load_reference
        from partnerprojekte.rules import check as run_check

        settings = get_settings()
        proposal = parse_proposal(_read_file(file), source=str(file), max_bytes=settings.max_proposal_bytes)
        result = run_check(proposal, settings.criteria, load_reference()).to_json()
    except PartnerprojekteError as exc:
        _handle(exc, as_json)
    if as_json:
        _echo_json(result)
    else:
        typer.echo(f"Prüfung von „{proposal.title}“")
        _print_check(result)


@app.command()
def submit(file: FileArg, as_: AsOpt, as_json: JsonOpt = False) -> None:
    """Einen Vorschlag einreichen."""
    try:
        from partnerprojekte.formats import parse_proposal

        svc = _services()
        proposal = parse_proposal(
            _read_file(file), source=str(file), max_bytes=svc.settings.max_proposal_bytes
        )
        outcome = svc.submit(proposal, as_)
    except PartnerprojekteError as exc:
        _handle(exc, as_json)
    assert outcome.check is not None
    if as_json:
        _echo_json(outcome.to_json())
    else:
        _print_outcome(outcome)
        _print_check(outcome.check.to_json())


@app.command()
def revise(proposal_id: IdArg, file: FileArg, as_: AsOpt, as_json: JsonOpt = False) -> None:
    """Einen Vorschlag überarbeiten (neue Fassung; Bestätigungen entfallen)."""
    try:
        from partnerprojekte.formats import parse_proposal

        svc = _services()
        pid = _proposal_id(proposal_id)
        proposal = parse_proposal(
            _read_file(file), source=str(file), max_bytes=svc.settings.max_proposal_bytes
        )
        outcome = svc.revise(pid, proposal, as_)
    except PartnerprojekteError as exc:
        _handle(exc, as_json)
    assert outcome.check is not None
    if as_json:
        _echo_json(outcome.to_json())
    else:
        _print_outcome(outcome)
        _print_check(outcome.check.to_json())


@app.command("assign-ressort")
def assign_ressort(
    proposal_id: IdArg,
    ressort: Annotated[str, typer.Argument(metavar="ABK", help="Ressort-Kürzel, z. B. MWIDE.")],
    as_: AsOpt,
    as_json: JsonOpt = False,
) -> None:
    """Das zuständige Ressort zuordnen (Arbeitsstab)."""
    try:
        outcome = _services().assign_ressort(_proposal_id(proposal_id), ressort, as_)
    except PartnerprojekteError as exc:
        _handle(exc, as_json)
    _echo_json(outcome.to_json()) if as_json else _print_outcome(outcome)


@app.command()
def confirm(
    proposal_id: IdArg,
    criterion: Annotated[
        str,
        typer.Argument(
            metavar="KRITERIUM", help="handlungsfeld_fit, regional_effect, cooperation, financing"
        ),
    ],
    as_: AsOpt,
    comment: Annotated[str, typer.Option("--comment", help="Schriftliche Begründung.", metavar="TEXT")],
    as_json: JsonOpt = False,
) -> None:
    """Ein zu prüfendes Kriterium bestätigen (Ressort)."""
    try:
        crit = _choice(criterion, Criterion, "KRITERIUM")
        outcome = _services().confirm(_proposal_id(proposal_id), crit, as_, comment)
    except PartnerprojekteError as exc:
        _handle(exc, as_json)
    _echo_json(outcome.to_json()) if as_json else _print_outcome(outcome)


@app.command()
def transition(
    proposal_id: IdArg,
    event: Annotated[
        str,
        typer.Argument(
            metavar="EREIGNIS",
            help=", ".join(e.value for e in Event if e not in (Event.SUBMIT, Event.REVISE)),
        ),
    ],
    as_: AsOpt,
    comment: Annotated[str | None, typer.Option("--comment", help="Kommentar.", metavar="TEXT")] = None,
    visibility: Annotated[
        str | None, typer.Option("--visibility", help="intern oder partner.", metavar="SICHTBARKEIT")
    ] = None,
    reason: Annotated[
        list[str] | None,
        typer.Option(
            "--reason",
            help="Grund (mehrfach möglich): " + ", ".join(r.value for r in ReasonCode) + ".",
            metavar="CODE",
        ),
    ] = None,
    saeule_1_projekt: Annotated[
        str | None,
        typer.Option("--saeule-1-projekt", metavar="ID", help="ID des Säule-1-Projekts, z. B. 13-06."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Ein Ereignis auslösen oder einer zustimmungspflichtigen Entscheidung zustimmen."""
    try:
        from partnerprojekte.states.workflow import EventInput

        ev = _choice(event, Event, "EREIGNIS")
        if ev in (Event.SUBMIT, Event.REVISE):
            raise ValidationError(
                f"EREIGNIS: „{ev}“ geht mit dem Befehl „partnerprojekte {ev}“, nicht mit „transition“."
            )
        inp = EventInput(
            comment=comment,
            visibility=_choice(visibility, Visibility, "--visibility") if visibility else None,
            reasons=tuple(_choice(r, ReasonCode, "--reason") for r in (reason or [])),
            saeule_1_projekt=saeule_1_projekt,
        )
        outcome = _services().transition(_proposal_id(proposal_id), ev, as_, inp)
    except PartnerprojekteError as exc:
        _handle(exc, as_json)
    _echo_json(outcome.to_json()) if as_json else _print_outcome(outcome)


@app.command("withdraw-approval")
def withdraw_approval(
    proposal_id: IdArg,
    event: Annotated[str, typer.Argument(metavar="EREIGNIS", help="recognise oder decline.")],
    as_: AsOpt,
    as_json: JsonOpt = False,
) -> None:
    """Die eigene Zustimmung zurücknehmen, solange die Entscheidung noch aussteht."""
    try:
        outcome = _services().withdraw_approval(
            _proposal_id(proposal_id), _choice(event, Event, "EREIGNIS"), as_
        )
    except PartnerprojekteError as exc:
        _handle(exc, as_json)
    _echo_json(outcome.to_json()) if as_json else _print_outcome(outcome)


@app.command()
def comment(
    proposal_id: IdArg,
    text: Annotated[str, typer.Argument(metavar="TEXT", help="Der Kommentar.")],
    as_: AsOpt,
    visibility: Annotated[
        str, typer.Option("--visibility", help="intern oder partner.", metavar="SICHTBARKEIT")
    ] = "intern",
    as_json: JsonOpt = False,
) -> None:
    """Einen Kommentar schreiben (intern oder für den Partner)."""
    try:
        vis = _choice(visibility, Visibility, "--visibility")
        outcome = _services().comment(_proposal_id(proposal_id), as_, text, vis)
    except PartnerprojekteError as exc:
        _handle(exc, as_json)
    _echo_json(outcome.to_json()) if as_json else _print_outcome(outcome)


@app.command()
def show(proposal_id: IdArg, as_json: JsonOpt = False) -> None:
    """Einen Vorschlag mit Kriterien, Zuständigkeit, Zustimmungen und Kommentaren anzeigen."""
    try:
        from partnerprojekte.queries import show_proposal

        data = show_proposal(_services().db, _proposal_id(proposal_id))
    except PartnerprojekteError as exc:
        _handle(exc, as_json)
    if as_json:
        _echo_json(data)
        return
    typer.echo(f"{data['id']}  {data['title']}")
    typer.echo(f"Status:        {State(data['status']).label} (seit {_local(data['status_since'])})")
    typer.echo(
        f"Organisation:  {data['organisation']} – Kontakt {data['contact']['name']} "
        f"<{data['contact']['email']}>"
    )
    typer.echo(f"Ressort:       {data['responsible_ressort'] or 'noch keines zugeordnet'}")
    typer.echo(f"Fassung:       {data['revision']}, eingereicht am {_local(data['submitted_at'])}")
    if data["saeule_1_projekt"]:
        typer.echo(f"Säule 1:       integriert in {data['saeule_1_projekt']}")
    _print_check(data["check"])
    for c in data["confirmations"]:
        typer.echo(
            f"  bestätigt: {CRITERION_LABELS[Criterion(c['criterion'])]} von {c['user']}: {c['comment']}"
        )
    for a in data["pending_approvals"]:
        typer.echo(
            f"Offene Zustimmung zu „{a['event']}“: {a['user']} ({Role(a['role']).label}), {_local(a['at'])}"
        )
    for h in data["ressort_history"]:
        until = f" bis {_local(h['ended_at'])}" if h["ended_at"] else ""
        typer.echo(f"Zuständig: {h['ressort']} seit {_local(h['assigned_at'])}{until}")
    for c in data["comments"]:
        typer.echo(f"Kommentar ({c['visibility']}) {c['user']}, {_local(c['at'])}: {c['text']}")


@app.command("list")
def list_cmd(
    status: Annotated[
        str | None,
        typer.Option(
            "--status", metavar="STATUS", help="Status: " + ", ".join(st.value for st in State) + "."
        ),
    ] = None,
    ressort: Annotated[str | None, typer.Option("--ressort", help="Ressort-Kürzel.", metavar="ABK")] = None,
    handlungsfeld: Annotated[
        str | None,
        typer.Option(
            "--handlungsfeld",
            metavar="SCHLÜSSEL",
            help="mobilitaet, wirtschaft, vielfalt, energie_umwelt oder bildung_forschung.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Vorschläge auflisten, gefiltert nach Status, Ressort und Handlungsfeld."""
    try:
        from partnerprojekte.proposal import HandlungsfeldKey
        from partnerprojekte.queries import list_proposals
        from partnerprojekte.reference import load_reference

        rows = list_proposals(
            _services().db,
            status=_choice(status, State, "--status") if status else None,
            ressort=load_reference().ressort(ressort).abbreviation if ressort else None,
            handlungsfeld=_choice(handlungsfeld, HandlungsfeldKey, "--handlungsfeld")
            if handlungsfeld
            else None,
        )
    except PartnerprojekteError as exc:
        _handle(exc, as_json)
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        typer.echo("Keine Vorschläge gefunden.")
        return
    for r in rows:
        typer.echo(
            f"{r['id']}  {State(r['status']).label:<22} {r['responsible_ressort'] or '–':<12} {r['title']}"
        )
    typer.echo("1 Vorschlag." if len(rows) == 1 else f"{len(rows)} Vorschläge.")


@app.command()
def history(proposal_id: IdArg, as_json: JsonOpt = False) -> None:
    """Das Protokoll eines Vorschlags: jedes Ereignis mit Person, Zeit und Begründung."""
    try:
        from partnerprojekte.queries import history as load_history

        entries = load_history(_services().db, _proposal_id(proposal_id))
    except PartnerprojekteError as exc:
        _handle(exc, as_json)
    if as_json:
        _echo_json(entries)
        return
    from partnerprojekte.model import ACTION_LABELS, Action

    for e in entries:
        name = e["event"]
        label = EVENT_LABELS.get(Event(name)) if name in Event.__members__.values() else None
        label = label or (ACTION_LABELS[Action(name)] if name in {a.value for a in Action} else name)
        if name == Action.ASSIGN_RESSORT and e["ressort"]:
            label += f": {e['ressort']}"  # which Ressort is now responsible
        move = ""
        if e["from"] != e["to"]:
            move = f" {State(e['from']).label if e['from'] else '–'} → {State(e['to']).label}"
        typer.echo(
            f"{e['seq']:>3}. {_local(e['at'])}  {label}{move}  ({e['actor']}, {Role(e['role']).label})"
        )
        if e["details"].get("event"):
            missing = " und ".join(Role(r).label for r in e["details"].get("missing", []))
            typer.echo(
                f"     zu {_label(e['details']['event'])}"
                + (f"; es fehlt noch: {missing}" if missing else "")
            )
        if e["comment"]:
            typer.echo(f"     Kommentar ({e['visibility']}): {e['comment']}")
        if e["reasons"]:
            typer.echo(f"     Gründe: {', '.join(ReasonCode(r).label for r in e['reasons'])}")
        if e["saeule_1_projekt"]:
            typer.echo(f"     Säule-1-Projekt: {e['saeule_1_projekt']}")
        if e["approvals"]:
            typer.echo(
                "     Zustimmungen: "
                + "; ".join(f"{a['user']} ({Role(a['role']).label})" for a in e["approvals"])
            )


@app.command()
def verify(as_json: JsonOpt = False) -> None:
    """Die Hash-Kette des Protokolls prüfen; Exit 1 und der erste gebrochene Eintrag bei Manipulation."""
    try:
        from partnerprojekte.ids import format_id
        from partnerprojekte.queries import verify as run_verify

        result = run_verify(_services().db)
    except PartnerprojekteError as exc:
        _handle(exc, as_json)
    for b in result["broken"]:
        b.setdefault("id", format_id(b["proposal_id"]))  # the id every command accepts, e.g. PP-0003
    if as_json:
        _echo_json(result)
    elif result["ok"]:
        entries, proposals = result["entries"], result["proposals"]
        typer.echo(f"Protokoll unversehrt: {entries} Einträge zu {proposals} Vorschlägen geprüft.")
        typer.echo(f"Personenverwaltung unversehrt: {result['user_entries']} Einträge geprüft.")
    else:
        for b in result["broken"]:
            where = f"Eintrag Nr. {b['seq']}" if b["seq"] else "Protokoll"
            typer.echo(f"MANIPULIERT: {b['id']}, {where}: {b['problem']}", err=True)
        if result["user_broken"]:
            u = result["user_broken"]
            where = f"Eintrag Nr. {u['seq']}" if u["seq"] else "Protokoll"
            typer.echo(f"MANIPULIERT: Protokoll der Personenverwaltung, {where}: {u['problem']}", err=True)
    if not result["ok"]:
        raise typer.Exit(EXIT_FAILED)


@app.command()
def report(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Stichtag JJJJ-MM-TT (Ende des Tages).", metavar="DATUM")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Der Stand Partnerprojekte, auch für einen vergangenen Stichtag (aus dem Protokoll rekonstruiert)."""
    try:
        from partnerprojekte.queries import report as build_report

        day = None
        if as_of:
            try:
                day = dt.date.fromisoformat(as_of.strip())
            except ValueError:
                raise ValidationError(f"--as-of: „{as_of}“ ist kein Datum der Form JJJJ-MM-TT.") from None
        svc = _services()
        data = build_report(svc.db, as_of=day, tz=svc.settings.timezone)
    except PartnerprojekteError as exc:
        _handle(exc, as_json)
    if as_json:
        _echo_json(data)
    else:
        from partnerprojekte.report_text import render_report

        typer.echo(render_report(data))


@app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(metavar="DATEI", help="Importdatei (YAML oder JSON).")],
    as_json: JsonOpt = False,
) -> None:
    """Vorschläge mit ihren früheren Ereignissen übernehmen (je Vorschlag eine Transaktion)."""
    try:
        from partnerprojekte.formats import IMPORT_MAX_BYTES
        from partnerprojekte.importer import run_import

        result = run_import(_services(), _read_file(file, IMPORT_MAX_BYTES), source=str(file))
    except PartnerprojekteError as exc:
        _handle(exc, as_json)
    if as_json:
        _echo_json(result.to_json())
    else:
        for item in result.imported:
            events = "1 Ereignis" if item["events"] == 1 else f"{item['events']} Ereignisse"
            typer.echo(f"{item['id']} importiert: {item['title']} – {State(item['status']).label}, {events}")
        for item in result.skipped:
            typer.echo(f"übersprungen: {item['message']}")
        for item in result.refused:
            typer.echo(f"NICHT importiert: {item['message']}", err=True)
        typer.echo(
            f"{len(result.imported)} importiert, {len(result.skipped)} übersprungen, "
            f"{len(result.refused)} abgelehnt; {result.users_added} Personen neu angelegt."
        )
    if result.refused:
        raise typer.Exit(EXIT_REFUSED)


@app.command()
def diagram(
    fmt: Annotated[str, typer.Option("--format", help="mermaid oder svg.", metavar="FORMAT")] = "mermaid",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="In diese Datei schreiben.", metavar="DATEI")
    ] = None,
) -> None:
    """Das Zustandsdiagramm, erzeugt aus der Übergangstabelle."""
    from partnerprojekte.states.diagram import mermaid, svg

    try:
        choice = _choice(fmt, _DiagramFormat, "--format")
    except PartnerprojekteError as exc:
        _handle(exc, False)
    text = mermaid() if choice is _DiagramFormat.MERMAID else svg()
    if output is None:
        typer.echo(text)
    else:
        try:
            output.write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            _handle(
                ValidationError(f"--output: „{output}“ lässt sich nicht schreiben: {_os_reason(exc)}."), False
            )
        typer.echo(f"Diagramm geschrieben: {output}")


@app.command()
def demo() -> None:
    """Die Beispieldaten (Stand Oktober 2021) laden, falls die Datenbank leer ist, und den Stand zeigen."""
    from importlib.resources import files

    init()
    try:
        from partnerprojekte.importer import run_import
        from partnerprojekte.queries import report as build_report
        from partnerprojekte.report_text import render_report
        from partnerprojekte.services import count_proposals

        svc = _services()
        with svc.db.read() as s:
            existing = count_proposals(s)
        if existing == 0:
            data = files("partnerprojekte.demo").joinpath("scenario.yaml").read_bytes()
            result = run_import(svc, data, source="scenario.yaml")
            typer.echo(
                f"Beispieldaten geladen: {len(result.imported)} Vorschläge, {result.users_added} Personen."
            )
        else:
            typer.echo(
                f"Die Datenbank enthält bereits {existing} Vorschläge; Beispieldaten nicht erneut geladen."
            )
        typer.echo("")
        typer.echo(render_report(build_report(svc.db, tz=svc.settings.timezone)))
    except PartnerprojekteError as exc:
        _handle(exc, False)


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
        typer.echo(f"Zugriff auf „{exc.filename or ''}“ nicht möglich: {_os_reason(exc)}.", err=True)
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
    typer.echo(f"Fehler: {cli_i18n.usage_error(exc.format_message())}", err=True)
    if ctx is not None:
        typer.echo(f"Hilfe mit „{ctx.command_path} --help“.", err=True)


if __name__ == "__main__":  # the runner starts the web application as ``python -m partnerprojekte.cli``
    main()
