"""Request and response bodies of the JSON API (English keys), as they appear in the OpenAPI document."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from partnerprojekte.model import Criterion, Event, ReasonCode, Role, State, Verdict, Visibility

# Control characters (and NUL, which PostgreSQL refuses in text) have no place in what people write.
_PRINTABLE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
TEXT_MAX = 10_000


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("darf nicht leer sein")
    return value


Text = Annotated[str, Field(max_length=TEXT_MAX, pattern=_PRINTABLE)]
# A comment or justification someone must actually write (blanks alone are no text).
WrittenText = Annotated[
    str, Field(min_length=1, max_length=TEXT_MAX, pattern=_PRINTABLE), AfterValidator(_not_blank)
]
ShortText = Annotated[str, Field(max_length=254, pattern=_PRINTABLE)]
_STRICT = ConfigDict(extra="forbid")


class TransitionEvent(StrEnum):
    """The events fired through ``/events/{event}`` (``submit`` and ``revise`` have their own routes)."""

    TAKE_UP = Event.TAKE_UP.value
    START_COORDINATION = Event.START_COORDINATION.value
    REQUEST_CHANGES = Event.REQUEST_CHANGES.value
    RECOGNISE = Event.RECOGNISE.value
    DECLINE = Event.DECLINE.value
    INTEGRATE_INTO_PILLAR_1 = Event.INTEGRATE_INTO_PILLAR_1.value
    REOPEN = Event.REOPEN.value
    WITHDRAW = Event.WITHDRAW.value


# --- requests ------------------------------------------------------------------------------------


class LoginBody(BaseModel):
    """E-mail address and password."""

    model_config = _STRICT
    email: ShortText
    password: Annotated[str, Field(max_length=1024)]


class EventBody(BaseModel):
    """Input of an event; which fields are needed depends on the event (docs/process.md, „Ereignisse“)."""

    model_config = _STRICT
    comment: Text | None = None
    visibility: Visibility | None = None
    reasons: Annotated[list[ReasonCode], Field(max_length=len(ReasonCode))] = []
    saeule_1_projekt: Annotated[str, Field(max_length=16, pattern=_PRINTABLE)] | None = None
    expected_version: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None


class RessortBody(BaseModel):
    """The Ressort to make responsible (abbreviation, e.g. ``MWIDE``)."""

    model_config = _STRICT
    ressort: Annotated[str, Field(min_length=1, max_length=32, pattern=_PRINTABLE)]


class ConfirmationBody(BaseModel):
    """A reviewer's confirmation of a ``needs_review`` criterion, with the written justification."""

    model_config = _STRICT
    criterion: Criterion
    comment: WrittenText


class CommentBody(BaseModel):
    """A comment; without ``visibility`` it is internal (for partners: always for the partner)."""

    model_config = _STRICT
    text: WrittenText
    visibility: Visibility | None = None


# --- responses -----------------------------------------------------------------------------------


class ErrorField(BaseModel):
    """One invalid field: its path and the German message."""

    path: str
    message: str


class ErrorDetail(BaseModel):
    """What went wrong, in German, with structured details depending on ``kind``."""

    model_config = ConfigDict(extra="allow")
    message: str
    kind: str
    fields: list[ErrorField] | None = None


class ErrorOut(BaseModel):
    """Every error answer."""

    error: ErrorDetail


class CriterionOut(BaseModel):
    """The verdict on one criterion with its German explanation."""

    result: Verdict
    explanation: str


class CheckOut(BaseModel):
    """The ``check --json`` shape."""

    overall: Verdict
    criteria: dict[str, CriterionOut]


class PendingOut(BaseModel):
    """An approval-gated event with the approvals given and the roles still missing."""

    event: str
    approved_by: list[str]
    missing_roles: list[Role]


class OutcomeOut(BaseModel):
    """The ``transition --json`` shape: what an event or action did."""

    id: str
    event: str
    status: State
    fired: bool
    pending_approvals: list[PendingOut]
    notifications: int
    check: CheckOut | None = None


class SubmitOut(BaseModel):
    """A stored proposal: its id, status and criteria."""

    id: str
    status: State
    check: CheckOut


class ProposalSummaryOut(BaseModel):
    """One proposal in a list (the ``list --json`` shape)."""

    id: str
    title: str
    organisation: str
    status: State
    status_label: str
    responsible_ressort: str | None
    handlungsfelder: list[str]
    overall: Verdict
    revision: int
    version: int
    submitted_at: str | None
    status_since: str | None
    updated_at: str | None
    saeule_1_projekt: str | None


class ProposalPageOut(BaseModel):
    """One page of proposals and how many match in total."""

    items: list[ProposalSummaryOut]
    total: int
    page: int
    per_page: int


class ContactOut(BaseModel):
    """The partner's contact person."""

    name: str
    email: str


class RessortAssignmentOut(BaseModel):
    """Which Ressort was responsible from when to when (``assigned_by`` hidden from partners)."""

    ressort: str
    assigned_by: str | None
    assigned_at: str | None
    ended_at: str | None


class ApprovalOut(BaseModel):
    """A pending approval."""

    event: str
    user: str | None
    role: Role
    at: str | None
    comment: str | None


class ConfirmationOut(BaseModel):
    """A confirmation of a criterion for the current revision."""

    criterion: Criterion
    user: str | None
    comment: str
    at: str | None


class CommentOut(BaseModel):
    """A comment the caller may read."""

    user: str | None
    text: str
    visibility: Visibility
    event: str | None
    at: str | None


class PermissionsOut(BaseModel):
    """What the caller may try on this proposal now (inputs and guards are checked when they do)."""

    events: list[str]
    withdraw_approval: list[str]
    assign_ressort: bool
    confirm_criteria: list[Criterion]
    comment: bool
    comment_visibilities: list[Visibility]


class ProposalOut(ProposalSummaryOut):
    """Everything about one proposal the caller may read."""

    check: CheckOut
    document: dict[str, Any]
    contact: ContactOut
    ressort_history: list[RessortAssignmentOut]
    pending_approvals: list[ApprovalOut]
    confirmations: list[ConfirmationOut]
    comments: list[CommentOut]
    permissions: PermissionsOut


class HistoryEntryOut(BaseModel):
    """One audit entry (for partners without internal entries and internal comment text)."""

    seq: int
    event: str
    from_: Annotated[str | None, Field(alias="from")]
    to: str | None
    actor: str
    role: str
    ressort: str | None
    comment: str | None
    visibility: str | None
    reasons: list[str]
    saeule_1_projekt: str | None
    revision: int
    criteria: dict[str, Any]
    approvals: list[dict[str, Any]]
    details: dict[str, Any]
    at: str | None
    hash: str
    redacted: bool = False

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class ReportOut(BaseModel):
    """The *Stand Partnerprojekte* (``report --json``); ``scope`` names the Ressort for reviewers."""

    as_of: str
    total: int
    by_status: dict[str, int]
    by_handlungsfeld: dict[str, int]
    by_ressort: dict[str, int]
    scope: str | None = None


class MeOut(BaseModel):
    """The logged-in person; ``csrf_token`` for cookie sessions (send it as ``X-CSRF-Token``)."""

    email: str
    name: str
    role: Role
    role_label: str
    ressort: str | None
    organisation: str | None
    auth: str
    csrf_token: str | None = None
