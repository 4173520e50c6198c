"""SQLAlchemy 2 models: users, proposals with revisions, approvals, comments, audit log, outbox, and the
portraits and progress reports of recognised projects.

Longer than 400 lines on purpose: one declarative model of every table, which Alembic compares as a whole.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeEngine

from partnerprojekte.model import Role, State, Visibility

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class _SQLiteDateTimeText(sqlite.DATETIME):
    """SQLite's DATETIME text ("2026-03-02 08:00:00.000000"), written by ``isoformat``: the same text
    as SQLAlchemy's default storage format, without building a dict for every value it binds."""

    def bind_processor(self, dialect: Dialect) -> Any:
        def process(value: dt.datetime | None) -> str | None:
            return None if value is None else value.isoformat(" ", "microseconds")

        return process


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no offset, so naive UTC is stored)."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(_SQLiteDateTimeText())  # type: ignore[no-untyped-call]
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


def _str_enum(enum_cls: Any, name: str) -> Enum:
    # Stored as strings with a CHECK constraint, never a native ENUM (a new value would need ALTER TYPE).
    return Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class Base(DeclarativeBase):
    """Declarative base with deterministic constraint names (Alembic needs them)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class RessortRow(Base):
    """A ministry (Ressort) with its functional mailbox."""

    __tablename__ = "ressorts"
    abbreviation: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    mailbox: Mapped[str | None] = mapped_column(String(254))


class UserRow(Base):
    """A person who uses the system."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_str_enum(Role, "role"))
    ressort: Mapped[str | None] = mapped_column(ForeignKey("ressorts.abbreviation"))
    organisation: Mapped[str | None] = mapped_column(String(200))
    digest_opt_out: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    # argon2 hash; None until a password is set (single sign-on users may never have one).
    password_hash: Mapped[str | None] = mapped_column(String(200))
    # The administrator who created the account, and the one who issued the activation link its owner
    # last used (None: created or activated without an administrator, e.g. seeded or imported data).
    # Two approvals of one decision may not share one of them (the two-person rule holds against admins).
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    activated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ApiTokenRow(Base):
    """An API token of an integration, acting as its user; only a hash of the token is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The administrator who issued it (None: before this was recorded): who holds it may act as its user.
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class ActivationLinkRow(Base):
    """A one-time link with which a person sets their own password; only the SHA-256 of its token is kept."""

    __tablename__ = "activation_links"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))  # new|reactivate|reset
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class UserAuditRow(Base):
    """One append-only entry of user management, in one hash chain over all entries."""

    __tablename__ = "user_audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    action: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(300))
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class UserAuditHeadRow(Base):
    """The one row that holds the user chain's last entry: the lock for appending, and it shows a cut tail."""

    __tablename__ = "user_audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class WebSessionRow(Base):
    """A browser session; the cookie holds a random token, the table only its hash."""

    __tablename__ = "web_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class LoginAttemptRow(Base):
    """A login attempt, for rate limiting across processes."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_key_at", "key", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(300))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    success: Mapped[bool] = mapped_column(Boolean)


class LoginCounterRow(Base):
    """Login attempts counted per key (e-mail, client address, known device), reserved before the
    password is checked: the row is locked while one attempt decides, so parallel attempts cannot pass."""

    __tablename__ = "login_counters"
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    # Attempts that were not successes (one reserved in flight counts until its outcome is known).
    failures: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class WebSecretRow(Base):
    """A secret of the web application (signing keys), made on first use and shared by every process."""

    __tablename__ = "web_secrets"
    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))


class ProposalRow(Base):
    """The current state of a proposal; its history lives in revisions and the audit log."""

    __tablename__ = "proposals"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[State] = mapped_column(_str_enum(State, "status"), index=True)
    # Bumped by every audited action: optimistic concurrency and the audit sequence number.
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(200))
    contact_name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(254))
    # " key1 key2 " so that a LIKE '% key %' filter works on every backend.
    handlungsfelder: Mapped[str] = mapped_column(String(120))
    responsible_ressort: Mapped[str | None] = mapped_column(ForeignKey("ressorts.abbreviation"), index=True)
    current_revision: Mapped[int] = mapped_column(Integer)
    overall: Mapped[str] = mapped_column(String(16))
    check_result: Mapped[dict[str, Any]] = mapped_column(JSON)
    submitted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status_since: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    audit_head: Mapped[str] = mapped_column(String(64))
    import_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    saeule_1_projekt: Mapped[str | None] = mapped_column(String(16))
    # Derived, kept by the service writes (db/searchable.py): the visibility rule and the search run in SQL.
    organisation_key: Mapped[str] = mapped_column(String(200), index=True, server_default="")
    search_text: Mapped[str] = mapped_column(Text, server_default="")
    __table_args__ = (
        # PostgreSQL: the substring search (LIKE '%wort%') uses a trigram index (migration a9d1c0000006).
        Index(
            "ix_proposals_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ).ddl_if(dialect="postgresql"),
    )


class RevisionRow(Base):
    """Every version of a proposal document, with the criteria results it had."""

    __tablename__ = "revisions"
    __table_args__ = (UniqueConstraint("proposal_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"))
    number: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    check_result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class RessortAssignmentRow(Base):
    """Who was responsible for a proposal, from when until when."""

    __tablename__ = "ressort_assignments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    ressort: Mapped[str] = mapped_column(ForeignKey("ressorts.abbreviation"))
    assigned_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assigned_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ApprovalRow(Base):
    """An approval of an approval-gated event; pending until it fires, is withdrawn or discarded."""

    __tablename__ = "approvals"
    __table_args__ = (Index("ix_approvals_proposal_status", "proposal_id", "status"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"))
    event: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[State] = mapped_column(_str_enum(State, "from_state"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    role: Mapped[Role] = mapped_column(_str_enum(Role, "role"))
    ressort: Mapped[str | None] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text)
    visibility: Mapped[str | None] = mapped_column(String(16))
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16))  # pending|fired|withdrawn|discarded
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ConfirmationRow(Base):
    """A reviewer's confirmation of a ``needs_review`` criterion for one revision."""

    __tablename__ = "confirmations"
    __table_args__ = (UniqueConstraint("proposal_id", "revision", "criterion"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"))
    revision: Mapped[int] = mapped_column(Integer)
    criterion: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    comment: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class CommentRow(Base):
    """A comment on a proposal, internal or for the partner."""

    __tablename__ = "comments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    visibility: Mapped[Visibility] = mapped_column(_str_enum(Visibility, "visibility"))
    event: Mapped[str | None] = mapped_column(String(32))
    audit_seq: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class AuditRow(Base):
    """One append-only audit entry, hash-chained per proposal."""

    __tablename__ = "audit_log"
    __table_args__ = (UniqueConstraint("proposal_id", "seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"))
    seq: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str | None] = mapped_column(String(32))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    actor_email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16))
    ressort: Mapped[str | None] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text)
    visibility: Mapped[str | None] = mapped_column(String(16))
    reasons: Mapped[list[str]] = mapped_column(JSON)
    saeule_1_projekt: Mapped[str | None] = mapped_column(String(16))
    revision: Mapped[int] = mapped_column(Integer)
    criteria: Mapped[dict[str, Any]] = mapped_column(JSON)
    approvals: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class OutboxRow(Base):
    """A notification written with its event; a sender delivers it later."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    proposal_id: Mapped[int | None] = mapped_column(ForeignKey("proposals.id"), index=True)
    audit_seq: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(64))
    recipient_email: Mapped[str] = mapped_column(String(254))
    recipient_name: Mapped[str | None] = mapped_column(String(200))
    recipient_role: Mapped[str] = mapped_column(String(16))
    context: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|sending|sent|dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(300))
    # Set while a sender works on the row; a row left in "sending" longer than a timeout is taken up again.
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(100))


class ReportingRoundRow(Base):
    """A reporting round of the Fortschrittsbericht: its Stichtag and the deadline for progress reports."""

    __tablename__ = "reporting_rounds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    year: Mapped[int] = mapped_column(Integer, unique=True)
    name: Mapped[str] = mapped_column(String(200))
    stichtag: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    opened_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class PortraitRow(Base):
    """The portrait of a recognised project: its report ID, state of implementation, published version."""

    __tablename__ = "portraits"
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), primary_key=True)
    # "UN-NEU", as the report prints it; the Arbeitsstab sets it (several projects may share one).
    project_code: Mapped[str] = mapped_column(String(16))
    umsetzungsstand: Mapped[str] = mapped_column(String(32))
    # The version accepted last (1: prefilled from the proposal); reports write newer ones.
    current_version: Mapped[int] = mapped_column(Integer)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class PortraitVersionRow(Base):
    """Every version of a portrait: the prefilled first one and one per submitted progress report."""

    __tablename__ = "portrait_versions"
    __table_args__ = (UniqueConstraint("proposal_id", "number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("portraits.proposal_id"))
    number: Mapped[int] = mapped_column(Integer)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)  # section → value (portrait.section_problem)
    umsetzungsstand: Mapped[str] = mapped_column(String(32))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("progress_reports.id"))
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class ProgressReportRow(Base):
    """A progress report a project owes in a round: its state, the draft's entries, returned sections."""

    __tablename__ = "progress_reports"
    __table_args__ = (UniqueConstraint("round_id", "proposal_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("reporting_rounds.id"))
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    state: Mapped[str] = mapped_column(String(32), index=True)
    entries: Mapped[dict[str, Any]] = mapped_column(JSON)  # section → {mark, value, reason}
    umsetzungsstand: Mapped[str | None] = mapped_column(String(32))
    returned: Mapped[list[str]] = mapped_column(JSON)  # sections the reviewer sent back
    revised: Mapped[list[str]] = mapped_column(JSON)  # of those, the ones edited since
    base_version: Mapped[int] = mapped_column(Integer)  # the portrait version the report starts from
    portrait_version: Mapped[int | None] = mapped_column(Integer)  # the version its last submission wrote
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ReportContributorRow(Base):
    """A co-partner invited to contribute to a project's progress reports."""

    __tablename__ = "report_contributors"
    __table_args__ = (UniqueConstraint("proposal_id", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    invited_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    invited_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class RessortNameRow(Base):
    """What a Ressort was called from when until when: a document shows the names valid at its Stichtag."""

    __tablename__ = "ressort_names"
    __table_args__ = (UniqueConstraint("ressort", "valid_from"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ressort: Mapped[str] = mapped_column(ForeignKey("ressorts.abbreviation"))
    abbreviation: Mapped[str] = mapped_column(String(32))  # as it was written then ("MWIDE", "MWIKE")
    name: Mapped[str] = mapped_column(String(300))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date | None] = mapped_column(Date)  # None: still valid
