"""Managing people for the administration page: add (with an activation link), deactivate, send a link."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select

from partnerprojekte.db.schema import UserRow, WebSessionRow
from partnerprojekte.db.user_audit import record_user_event
from partnerprojekte.errors import NotFound, ValidationError
from partnerprojekte.model import Role
from partnerprojekte.services import Services
from partnerprojekte.web import accounts
from partnerprojekte.web.security import revoke_user_tokens


def add_person(
    services: Services,
    email: str,
    name: str,
    role: Role,
    *,
    ressort: str | None,
    organisation: str | None,
    by: int,
) -> UserRow:
    """Create a person (no password: they get an activation link by mail), in one transaction."""
    with services.db.write() as s:
        admin = accounts.acting_admin_by_id(s, by, "web")
        return accounts.create_person(
            services, email, name, role, ressort=ressort, organisation=organisation, by=admin
        )


def set_active(services: Services, user_id: int, active: bool, *, by: int) -> UserRow:
    """Deactivate or reactivate a person; a deactivated person's sessions end at once."""
    if user_id == by and not active:
        raise ValidationError("Sie können sich nicht selbst deaktivieren.")
    if active:
        # Nobody reactivates someone else's account directly: the owner does, with a link (send_link).
        raise ValidationError("Wieder aktiv wird ein Zugang nur über einen Aktivierungslink an die Person.")
    with services.db.write() as s:
        admin = accounts.acting_admin_by_id(s, by, "web")
        user = s.get(UserRow, user_id)
        if user is None:
            raise NotFound("Diese Person gibt es nicht.")
        user.active = active
        if not active:
            s.execute(delete(WebSessionRow).where(WebSessionRow.user_id == user_id))
            revoked = revoke_user_tokens(s, user_id, services.db.clock())
            # A link sent before must not bring the account back: only a new one does.
            accounts.cancel_links(s, user_id, at=services.db.clock())
            details = {"tokens_revoked": revoked}
            record_user_event(s, admin, "deactivate", user_id, details, at=services.db.clock())
        return user


def send_link(services: Services, user_id: int, *, by: int) -> tuple[UserRow, str]:
    """Mail a person a new activation link (first login, reactivation, new password)."""
    with services.db.write() as s:
        admin = accounts.acting_admin_by_id(s, by, "web")
        user = s.get(UserRow, user_id)
        if user is None:
            raise NotFound("Diese Person gibt es nicht.")
        return accounts.send_link(services, user.email, admin)


@dataclass(frozen=True)
class PersonView:
    """A person as the administration page lists them."""

    id: int
    name: str
    email: str
    role: Role
    ressort: str | None
    organisation: str | None
    active: bool
    has_password: bool


def people(services: Services) -> list[PersonView]:
    """Everyone, ordered by role and name."""
    with services.db.read() as s:
        rows = s.scalars(select(UserRow).order_by(UserRow.role, UserRow.name, UserRow.email))
        return [
            PersonView(
                u.id,
                u.name,
                u.email,
                u.role,
                u.ressort,
                u.organisation,
                u.active,
                u.password_hash is not None,
            )
            for u in rows
        ]
