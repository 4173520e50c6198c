"""Managing people (administration page and CLI): add with an activation link, deactivate, change a role,
send a link."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from partnerprojekte.db.schema import UserRow, WebSessionRow
from partnerprojekte.db.user_audit import UserActor, record_user_event
from partnerprojekte.errors import NotFound, ValidationError
from partnerprojekte.formats import check_text
from partnerprojekte.model import Role
from partnerprojekte.reference import load_reference
from partnerprojekte.services import NAME_MAX, Services
from partnerprojekte.web.auth import accounts
from partnerprojekte.web.auth.security import revoke_user_tokens


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
    """Deactivate a person (reactivation goes only through a link to the owner, ``send_link``)."""
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
        deactivate(services, s, user, admin)
        return user


def deactivate(services: Services, s: Session, user: UserRow, admin: UserActor) -> tuple[int, int]:
    """Deactivate a person in the caller's transaction: sessions end, tokens and links die, and their
    pending approvals are withdrawn (audited, the others told). Returns (tokens revoked, proposals)."""
    if admin.user_id == user.id:
        raise ValidationError("Sie können sich nicht selbst deaktivieren.")
    if not user.active:
        raise ValidationError(f"{user.email} ist bereits deaktiviert.")
    at = services.db.clock()
    user.active = False
    revoked = _end_access(services, s, user.id, at)
    # A link sent before must not bring the account back: only a new one does.
    accounts.cancel_links(s, user.id, at=at)
    s.flush()  # the approvals below must see the person inactive (no mail to them, no count)
    withdrawn = services.withdraw_approvals_of_person(s, user.id, _email_of(s, admin), "deactivated", at=at)
    details = {"tokens_revoked": revoked, "approvals_withdrawn": withdrawn}
    record_user_event(s, admin, "deactivate", user.id, details, at=at)
    return revoked, withdrawn


def change_role(
    services: Services,
    user_id: int,
    role: Role,
    *,
    ressort: str | None,
    organisation: str | None,
    by: int,
) -> tuple[UserRow, int]:
    """Change a person's role or Ressort from the administration page (see ``change_role_of``)."""
    with services.db.write() as s:
        admin = accounts.acting_admin_by_id(s, by, "web")
        user = s.get(UserRow, user_id)
        if user is None:
            raise NotFound("Diese Person gibt es nicht.")
        return user, change_role_of(services, s, user, role, ressort, organisation, admin)


def change_role_of(
    services: Services,
    s: Session,
    user: UserRow,
    role: Role,
    ressort: str | None,
    organisation: str | None,
    admin: UserActor,
) -> int:
    """Give a person another role or Ressort in the caller's transaction, audited; their sessions and
    tokens end (they act in the new role only after logging in again) and their pending approvals are
    withdrawn, because they were given in the old one. Returns how many proposals were concerned."""
    if admin.user_id == user.id:
        raise ValidationError("Rolle: Die eigene Rolle ändert eine andere Administration.")
    ressort = (ressort or "").strip() or None
    organisation = (organisation or "").strip() or None
    check_text(organisation, "Organisation")
    if role is Role.RESSORT:
        if not ressort:
            raise ValidationError("Ressort: Für die Rolle „Ressort“ ist ein Ressort anzugeben.")
        check_text(ressort, "Ressort")
        ressort = load_reference().ressort(ressort).abbreviation
    elif ressort:
        raise ValidationError(
            f"Ressort: Nur die Rolle „Ressort“ gehört zu einem Ressort, nicht {role.label}."
        )
    if role is Role.PARTNER:
        organisation = organisation or (user.organisation if user.role is Role.PARTNER else None)
        if not organisation:
            raise ValidationError("Organisation: Für die Rolle „Partner“ ist die Organisation anzugeben.")
        if len(organisation) > NAME_MAX:
            raise ValidationError(
                f"Organisation: höchstens {NAME_MAX} Zeichen, gefunden: {len(organisation)}."
            )
    else:
        organisation = None
    if (user.role, user.ressort, user.organisation) == (role, ressort, organisation):
        raise ValidationError(
            f"Rolle: {user.name} hat bereits diese Rolle" + (" und dieses Ressort." if ressort else ".")
        )
    at = services.db.clock()
    details = {
        "role": [user.role.value, role.value],
        "ressort": [user.ressort, ressort],
        "organisation": [user.organisation, organisation],
    }
    reason = "role_changed" if user.role is not role else "ressort_changed"
    user.role, user.ressort, user.organisation = role, ressort, organisation
    details["tokens_revoked"] = _end_access(services, s, user.id, at)
    s.flush()
    withdrawn = services.withdraw_approvals_of_person(s, user.id, _email_of(s, admin), reason, at=at)
    details["approvals_withdrawn"] = withdrawn
    record_user_event(s, admin, "change_role", user.id, details, at=at)
    return withdrawn


def _end_access(services: Services, s: Session, user_id: int, at: dt.datetime) -> int:
    """End a person's web sessions and revoke their API tokens; how many tokens."""
    s.execute(delete(WebSessionRow).where(WebSessionRow.user_id == user_id))
    return revoke_user_tokens(s, user_id, at)


def _email_of(s: Session, admin: UserActor) -> str:
    assert admin.user_id is not None  # acting_admin always names a person
    return s.get_one(UserRow, admin.user_id).email


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
