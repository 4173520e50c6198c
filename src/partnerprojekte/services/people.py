"""Use cases of reference data and accounts: load the Ressorts, add a person, list people."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from partnerprojekte.db.schema import ProposalRow, RessortRow, UserRow
from partnerprojekte.db.user_audit import SEED, UserActor, record_user_event
from partnerprojekte.errors import FieldError, ValidationError
from partnerprojekte.formats import check_text
from partnerprojekte.model import Role
from partnerprojekte.reference import load_reference
from partnerprojekte.services.writer import Writer

EMAIL_MAX = 254
# The width of users.name and users.organisation: longer would fail in PostgreSQL.
NAME_MAX = 200


def load_reference_data(svc: Writer) -> int:
    """Insert or update the Ressorts of the reference data; returns how many there are."""
    ref = load_reference()
    with svc.db.write() as s:
        existing = {r.abbreviation: r for r in s.scalars(select(RessortRow))}
        for abk, ressort in ref.ressorts.items():
            row = existing.get(abk)
            if row is None:
                s.add(RessortRow(abbreviation=abk, name=ressort.name))
            elif row.name != ressort.name:
                row.name = ressort.name
    return len(ref.ressorts)


def add_user(
    svc: Writer,
    email: str,
    name: str,
    role: Role,
    *,
    ressort: str | None = None,
    organisation: str | None = None,
    exists_ok: bool = False,
    by: UserActor = SEED,
) -> UserRow:
    """Create a user (without a password), audited in the user chain as done ``by`` someone;
    ressort reviewers need a known Ressort, partners an organisation."""
    email = check_email(email)
    check_text(name, "Name")
    check_text(organisation, "Organisation")
    for label, value in (("Name", name), ("Organisation", organisation)):
        if value and len(value.strip()) > NAME_MAX:
            raise ValidationError(f"{label}: höchstens {NAME_MAX} Zeichen, gefunden: {len(value.strip())}.")
    name = name.strip()
    if not name:
        raise ValidationError(FieldError("name", "Der Name darf nicht leer sein."))
    if role is Role.RESSORT:
        if not ressort:
            raise ValidationError(FieldError("ressort", "Für die Rolle „ressort“ ist ein Ressort anzugeben."))
        ressort = load_reference().ressort(ressort).abbreviation
    elif ressort:
        raise ValidationError(
            FieldError("ressort", f"Nur die Rolle „ressort“ gehört zu einem Ressort, nicht {role}.")
        )
    if role is Role.PARTNER:
        organisation = (organisation or "").strip()
        if not organisation:
            raise ValidationError(
                FieldError("organisation", "Für die Rolle „partner“ ist die Organisation anzugeben.")
            )
    elif organisation:
        organisation = organisation.strip()
    with svc.db.write() as s:
        current = s.scalar(select(UserRow).where(UserRow.email == email))
        if current is not None:
            if exists_ok:
                return current
            raise ValidationError(f"E-Mail: Eine Person mit {email} gibt es bereits.")
        user = UserRow(
            email=email,
            name=name,
            role=role,
            ressort=ressort,
            organisation=organisation or None,
            digest_opt_out=False,
            active=True,
            created_at=svc.db.clock(),
            created_by=by.user_id,
        )
        s.add(user)
        s.flush()
        details = {"email": email, "name": name, "role": role.value, "ressort": ressort}
        if organisation:
            details["organisation"] = organisation
        record_user_event(s, by, "create", user.id, details, at=user.created_at)
        return user


def list_users(svc: Writer) -> list[UserRow]:
    """All users ordered by role and e-mail."""
    with svc.db.read() as s:
        return list(s.scalars(select(UserRow).order_by(UserRow.role, UserRow.email)))


def check_email(email: str) -> str:
    """The address in its stored form (trimmed, lower case), or a ValidationError."""
    check_text(email, "E-Mail")
    email = email.strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > EMAIL_MAX or any(c in email for c in ' \r\n<>,;"'):
        raise ValidationError(FieldError("email", f"„{email}“ ist keine gültige E-Mail-Adresse."))
    return email


def count_proposals(s: Session) -> int:
    """How many proposals exist."""
    return s.scalar(select(func.count()).select_from(ProposalRow)) or 0
