"""Managing people for the administration page: add with a first password, deactivate, reactivate."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select

from partnerprojekte.db.schema import UserRow, WebSessionRow
from partnerprojekte.errors import NotFound, ValidationError
from partnerprojekte.model import Role
from partnerprojekte.services import Services
from partnerprojekte.web.security import check_password_policy, hash_password


def add_person(
    services: Services,
    email: str,
    name: str,
    role: Role,
    *,
    ressort: str | None,
    organisation: str | None,
    password: str | None,
) -> UserRow:
    """Create a person, with a first password if one is given, in one transaction."""
    if password:
        # Checked before anything is written, so that a refused password leaves no half-made account.
        check_password_policy(password)
    with services.db.write() as s:
        user = services.add_user(email, name, role, ressort=ressort, organisation=organisation)
        if password:
            s.get_one(UserRow, user.id).password_hash = hash_password(password)
        return user


def set_active(services: Services, user_id: int, active: bool, *, by: int) -> UserRow:
    """Deactivate or reactivate a person; a deactivated person's sessions end at once."""
    if user_id == by and not active:
        raise ValidationError("Sie können sich nicht selbst deaktivieren.")
    with services.db.write() as s:
        user = s.get(UserRow, user_id)
        if user is None:
            raise NotFound("Diese Person gibt es nicht.")
        user.active = active
        if not active:
            s.execute(delete(WebSessionRow).where(WebSessionRow.user_id == user_id))
        return user


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
