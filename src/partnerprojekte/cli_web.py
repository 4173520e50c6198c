"""Commands for the web: ``users send-link``, ``users token create|list|revoke`` and ``web serve``.

Registered on the main program by ``cli.py``. Everything heavy, and ``cli`` itself (whose error
handling these commands share), is imported inside the commands: importing this module costs nothing
and cannot run into a circular import.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from partnerprojekte.cli_output import echo_json as _echo_json

token_app = typer.Typer(
    help="API-Tokens für Anbindungen anderer Systeme verwalten.",
    no_args_is_help=True,
    rich_markup_mode=None,
    options_metavar="[OPTIONEN]",
    subcommand_metavar="BEFEHL [ARGUMENTE]...",
)
web_app = typer.Typer(
    help="Die Web-Anwendung (Seiten und API).",
    no_args_is_help=True,
    rich_markup_mode=None,
    options_metavar="[OPTIONEN]",
    subcommand_metavar="BEFEHL [ARGUMENTE]...",
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Ausgabe als JSON (englische Schlüssel).")]
EmailArg = Annotated[str, typer.Argument(metavar="EMAIL", help="E-Mail-Adresse der Person.")]
# uvicorn would otherwise take the client address from X-Forwarded-For of any local peer; the application
# decides that itself from PARTNERPROJEKTE_TRUSTED_PROXIES (default: none), so uvicorn must not rewrite it.
UVICORN_OPTIONS: dict[str, Any] = {"proxy_headers": False, "server_header": False}
AdminOpt = Annotated[str, typer.Option("--as", metavar="EMAIL", help="E-Mail der handelnden Administration.")]


def users_send_link(email: EmailArg, as_: AdminOpt) -> None:
    """Der Person einen Aktivierungslink senden (erste Anmeldung, Wiederfreischaltung, neues Passwort).

    Das Passwort wählt die Person selbst; der Link geht nur per E-Mail an sie und wird hier nicht gezeigt.
    """
    from partnerprojekte.cli import _handle, _services
    from partnerprojekte.errors import PartnerprojekteError
    from partnerprojekte.web import accounts

    try:
        svc = _services()
        with svc.db.write() as s:
            by = accounts.acting_admin(s, as_, "cli")
            user, purpose = accounts.send_link(svc, email, by)
            address = user.email
    except PartnerprojekteError as exc:
        _handle(exc, False)
    label = accounts.PURPOSE_LABELS[purpose]
    hours = svc.settings.activation_link_hours
    typer.echo(
        f"Aktivierungslink ({label}) für {address} zum Versand vorgemerkt; er gilt {hours} Stunden "
        "und einmal. Das Passwort wählt die Person selbst."
    )


def users_deactivate(email: EmailArg, as_: AdminOpt) -> None:
    """Eine Person deaktivieren: Sitzungen enden, API-Tokens und Links verfallen, offene Zustimmungen
    werden zurückgenommen (protokolliert; Ressort und Arbeitsstab erhalten eine E-Mail)."""
    from partnerprojekte.cli import _handle, _services
    from partnerprojekte.errors import PartnerprojekteError
    from partnerprojekte.web import accounts, people

    try:
        svc = _services()
        with svc.db.write() as s:
            by = accounts.acting_admin(s, as_, "cli")
            user = accounts.person_by_email(s, email)
            revoked, withdrawn = people.deactivate(svc, s, user, by)
            address = user.email
    except PartnerprojekteError as exc:
        _handle(exc, False)
    typer.echo(
        f"{address} ist deaktiviert; {revoked} API-Token(s) widerrufen, offene Zustimmungen zu "
        f"{withdrawn} Vorschlag/Vorschlägen zurückgenommen. Wieder aktiv nur über einen Aktivierungslink "
        "(users send-link)."
    )


def users_set_role(
    email: EmailArg,
    role: Annotated[
        str, typer.Option("--role", metavar="ROLLE", help="partner, ressort, arbeitsstab oder admin.")
    ],
    as_: AdminOpt,
    ressort: Annotated[
        str | None, typer.Option("--ressort", metavar="ABK", help="Ressort-Kürzel (nur Rolle ressort).")
    ] = None,
    organisation: Annotated[
        str | None, typer.Option("--organisation", metavar="NAME", help="Organisation (Rolle partner).")
    ] = None,
) -> None:
    """Rolle oder Ressort einer Person ändern; ihre offenen Zustimmungen werden zurückgenommen und sie
    meldet sich neu an (Sitzungen und API-Tokens enden)."""
    from partnerprojekte.cli import _choice, _handle, _services
    from partnerprojekte.errors import PartnerprojekteError
    from partnerprojekte.model import Role
    from partnerprojekte.web import accounts, people

    try:
        svc = _services()
        chosen = _choice(role, Role, "--role")
        with svc.db.write() as s:
            by = accounts.acting_admin(s, as_, "cli")
            user = accounts.person_by_email(s, email)
            withdrawn = people.change_role_of(svc, s, user, chosen, ressort, organisation, by)
            text = f"{user.email} ist jetzt {user.role.label}" + (
                f" ({user.ressort})" if user.ressort else ""
            )
    except PartnerprojekteError as exc:
        _handle(exc, False)
    typer.echo(
        f"{text}; offene Zustimmungen zu {withdrawn} Vorschlag/Vorschlägen zurückgenommen, Sitzungen und "
        "API-Tokens beendet."
    )


@token_app.command("create")
def token_create(
    email: EmailArg,
    name: Annotated[
        str, typer.Option("--name", metavar="NAME", help="Wofür das Token ist, z. B. „Förderdatenbank“.")
    ],
    as_: AdminOpt,
    as_json: JsonOpt = False,
) -> None:
    """Ein API-Token erstellen und einmal anzeigen."""
    from partnerprojekte.cli import _handle, _services
    from partnerprojekte.errors import PartnerprojekteError
    from partnerprojekte.web import accounts
    from partnerprojekte.web.security import issue_api_token

    try:
        svc = _services()
        with svc.db.read() as s:
            by = accounts.acting_admin(s, as_, "cli")
        issued = issue_api_token(svc.db, email, name, by=by)
    except PartnerprojekteError as exc:
        _handle(exc, as_json)
    if as_json:
        _echo_json(
            {"id": issued.id, "email": email.strip().lower(), "name": name.strip(), "token": issued.token}
        )
        return
    typer.echo(
        f"API-Token Nr. {issued.id} „{name.strip()}“ für {email.strip().lower()} erstellt. "
        "Es wird nur jetzt angezeigt – bitte sicher aufbewahren:",
        err=True,
    )
    # The token alone on stdout, so that a script can capture it; the explanation went to stderr.
    typer.echo(issued.token)


@token_app.command("list")
def token_list(
    email: Annotated[
        str | None, typer.Argument(metavar="[EMAIL]", help="Nur die Tokens dieser Person.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Die API-Tokens auflisten (ohne das Geheimnis)."""
    from sqlalchemy import select

    from partnerprojekte.cli import _handle, _local, _services
    from partnerprojekte.db.schema import ApiTokenRow, UserRow
    from partnerprojekte.errors import PartnerprojekteError

    try:
        svc = _services()
        query = select(ApiTokenRow, UserRow.email).join(UserRow, UserRow.id == ApiTokenRow.user_id)
        if email:
            query = query.where(UserRow.email == email.strip().lower())
        with svc.db.read() as s:
            rows: list[dict[str, Any]] = [
                {
                    "id": t.id,
                    "email": user_email,
                    "name": t.name,
                    "created_at": t.created_at.isoformat(),
                    "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
                    "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
                }
                for t, user_email in s.execute(query.order_by(ApiTokenRow.id))
            ]
    except PartnerprojekteError as exc:
        _handle(exc, as_json)
    if as_json:
        _echo_json(rows)
        return
    if not rows:
        typer.echo("Keine API-Tokens vorhanden.")
    for r in rows:
        state = f"widerrufen {_local(r['revoked_at'])}" if r["revoked_at"] else "gültig"
        used = _local(r["last_used_at"])
        typer.echo(f"{r['id']:>4}  {r['email']:<40} {r['name']:<30} {state}; zuletzt genutzt {used}")


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(metavar="NR", help="Nummer des Tokens (siehe „token list“).")],
    as_: AdminOpt,
) -> None:
    """Ein API-Token widerrufen (gilt sofort)."""
    from partnerprojekte.cli import _handle, _services
    from partnerprojekte.errors import PartnerprojekteError
    from partnerprojekte.web import accounts
    from partnerprojekte.web.security import revoke_api_token

    try:
        svc = _services()
        with svc.db.read() as s:
            by = accounts.acting_admin(s, as_, "cli")
        changed = revoke_api_token(svc.db, token_id, by=by)
    except PartnerprojekteError as exc:
        _handle(exc, False)
    typer.echo(
        f"API-Token Nr. {token_id} widerrufen."
        if changed
        else f"API-Token Nr. {token_id} war bereits widerrufen."
    )


@web_app.command("serve")
def web_serve(
    host: Annotated[
        str | None,
        typer.Option("--host", metavar="ADRESSE", help="Adresse (Standard 127.0.0.1: nur dieser Rechner)."),
    ] = None,
    port: Annotated[
        int | None, typer.Option("--port", metavar="PORT", min=1, max=65535, help="Port (Standard 8000).")
    ] = None,
) -> None:
    """Die Web-Anwendung starten (Seiten und API)."""
    from partnerprojekte.cli import _handle, _services
    from partnerprojekte.errors import PartnerprojekteError

    try:
        svc = _services()
    except PartnerprojekteError as exc:
        _handle(exc, False)
    import uvicorn

    from partnerprojekte.web.app import create_app

    host = host or svc.settings.serve.host
    port = port or svc.settings.serve.web_port
    if host not in ("127.0.0.1", "localhost", "::1"):
        typer.echo(
            f"Achtung: {host} ist von anderen Rechnern erreichbar. Nur hinter einem Reverse-Proxy mit TLS "
            "betreiben, PARTNERPROJEKTE_MAIL__BASE_URL auf dessen https-Adresse und "
            "PARTNERPROJEKTE_TRUSTED_PROXIES auf dessen Adresse setzen.",
            err=True,
        )
    typer.echo(
        f"Web-Anwendung: http://{host}:{port}/ – API-Beschreibung: http://{host}:{port}/api/v1/openapi.json"
    )
    uvicorn.run(
        create_app(svc.settings, svc.db),
        host=host,
        port=port,
        **UVICORN_OPTIONS,
        log_level="info",
    )
