"""The command group ``users``: people and roles, activation links, API tokens.

An administrator never sets or learns another person's password: ``users add`` and ``users send-link`` send
the person a one-time activation link by mail.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from partnerprojekte.cli import support
from partnerprojekte.cli.support import (
    AdminOpt,
    EmailArg,
    JsonOpt,
    choice,
    echo_json,
    group,
    handled,
    local_time,
)
from partnerprojekte.errors import ValidationError
from partnerprojekte.model import Role

users_app = group("Personen und Rollen verwalten.")
token_app = group("API-Tokens für Anbindungen anderer Systeme verwalten.")


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
    with handled(as_json):
        from partnerprojekte.db.user_audit import UserActor
        from partnerprojekte.web.auth import accounts

        svc = support.services()
        chosen = choice(role, Role, "--role")
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
    if as_json:
        echo_json(
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
    with handled(as_json):
        from sqlalchemy import select

        from partnerprojekte.db.schema import UserRow

        svc = support.services()
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
    if as_json:
        echo_json([{**u, "role": u["role"].value} for u in users])
        return
    if not users:
        typer.echo("Noch keine Personen angelegt (partnerprojekte users add).")
    for u in users:
        extra = u["ressort"] or u["organisation"] or ""
        typer.echo(f"{u['role'].label:<14} {u['email']:<40} {u['name']}" + (f" – {extra}" if extra else ""))


@users_app.command("send-link")
def users_send_link(email: EmailArg, as_: AdminOpt) -> None:
    """Der Person einen Aktivierungslink senden (erste Anmeldung, Wiederfreischaltung, neues Passwort).

    Das Passwort wählt die Person selbst; der Link geht nur per E-Mail an sie und wird hier nicht gezeigt.
    """
    from partnerprojekte.web.auth import accounts

    with handled():
        svc = support.services()
        with svc.db.write() as s:
            by = accounts.acting_admin(s, as_, "cli")
            user, purpose = accounts.send_link(svc, email, by)
            address = user.email
    label = accounts.PURPOSE_LABELS[purpose]
    hours = svc.settings.activation_link_hours
    typer.echo(
        f"Aktivierungslink ({label}) für {address} zum Versand vorgemerkt; er gilt {hours} Stunden "
        "und einmal. Das Passwort wählt die Person selbst."
    )


@users_app.command("deactivate")
def users_deactivate(email: EmailArg, as_: AdminOpt) -> None:
    """Eine Person deaktivieren: Sitzungen enden, API-Tokens und Links verfallen, offene Zustimmungen
    werden zurückgenommen (protokolliert; Ressort und Arbeitsstab erhalten eine E-Mail)."""
    from partnerprojekte.web.auth import accounts, people

    with handled():
        svc = support.services()
        with svc.db.write() as s:
            by = accounts.acting_admin(s, as_, "cli")
            user = accounts.person_by_email(s, email)
            revoked, withdrawn = people.deactivate(svc, s, user, by)
            address = user.email
    typer.echo(
        f"{address} ist deaktiviert; {revoked} API-Token(s) widerrufen, offene Zustimmungen zu "
        f"{withdrawn} Vorschlag/Vorschlägen zurückgenommen. Wieder aktiv nur über einen Aktivierungslink "
        "(users send-link)."
    )


@users_app.command("set-role")
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
    from partnerprojekte.model import Role
    from partnerprojekte.web.auth import accounts, people

    with handled():
        svc = support.services()
        chosen = choice(role, Role, "--role")
        with svc.db.write() as s:
            by = accounts.acting_admin(s, as_, "cli")
            user = accounts.person_by_email(s, email)
            withdrawn = people.change_role_of(svc, s, user, chosen, ressort, organisation, by)
            text = f"{user.email} ist jetzt {user.role.label}" + (
                f" ({user.ressort})" if user.ressort else ""
            )
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
    from partnerprojekte.web.auth import accounts
    from partnerprojekte.web.auth.security import issue_api_token

    with handled(as_json):
        svc = support.services()
        with svc.db.read() as s:
            by = accounts.acting_admin(s, as_, "cli")
        issued = issue_api_token(svc.db, email, name, by=by)
    if as_json:
        echo_json(
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

    from partnerprojekte.db.schema import ApiTokenRow, UserRow

    with handled(as_json):
        svc = support.services()
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
    if as_json:
        echo_json(rows)
        return
    if not rows:
        typer.echo("Keine API-Tokens vorhanden.")
    for r in rows:
        state = f"widerrufen {local_time(r['revoked_at'])}" if r["revoked_at"] else "gültig"
        used = local_time(r["last_used_at"])
        typer.echo(f"{r['id']:>4}  {r['email']:<40} {r['name']:<30} {state}; zuletzt genutzt {used}")


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(metavar="NR", help="Nummer des Tokens (siehe „token list“).")],
    as_: AdminOpt,
) -> None:
    """Ein API-Token widerrufen (gilt sofort)."""
    from partnerprojekte.web.auth import accounts
    from partnerprojekte.web.auth.security import revoke_api_token

    with handled():
        svc = support.services()
        with svc.db.read() as s:
            by = accounts.acting_admin(s, as_, "cli")
        changed = revoke_api_token(svc.db, token_id, by=by)
    typer.echo(
        f"API-Token Nr. {token_id} widerrufen."
        if changed
        else f"API-Token Nr. {token_id} war bereits widerrufen."
    )


users_app.add_typer(token_app, name="token")
