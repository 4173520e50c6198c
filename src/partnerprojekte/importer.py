"""Import of existing proposals with their past events (docs/cli.md, „import“), one transaction each."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticError

from partnerprojekte.db.user_audit import UserActor
from partnerprojekte.errors import (
    DomainError,
    FieldError,
    NotFound,
    TransitionRefused,
    ValidationError,
)
from partnerprojekte.formats import (
    load_mapping_document,
    proposal_from_document,
    pydantic_errors_to_field_errors,
    text_errors,
)
from partnerprojekte.ids import format_id
from partnerprojekte.model import Criterion, Event, ReasonCode, Role, Visibility
from partnerprojekte.proposal import Proposal
from partnerprojekte.services import AlreadyImported, Services
from partnerprojekte.states.workflow import EventInput

_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ImportUser(BaseModel):
    """A person in an import file."""

    model_config = _STRICT
    email: Annotated[str, Field(min_length=3, max_length=254)]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    role: Role
    ressort: str | None = None
    organisation: str | None = None


class ImportEvent(BaseModel):
    """One past event or action of a proposal."""

    model_config = _STRICT
    event: str
    by: Annotated[str, Field(min_length=3, max_length=254)]
    at: AwareDatetime
    comment: Annotated[str, Field(max_length=10_000)] | None = None
    visibility: Visibility | None = None
    reasons: list[ReasonCode] = []
    saeule_1_projekt: str | None = None
    ressort: str | None = None
    criterion: Criterion | None = None
    proposal: dict[str, Any] | None = None


class ImportProposal(BaseModel):
    """A proposal with its submission and history."""

    model_config = _STRICT
    proposal: dict[str, Any]
    submitted_by: Annotated[str, Field(min_length=3, max_length=254)]
    submitted_at: AwareDatetime
    events: list[ImportEvent] = []


class ImportFile(BaseModel):
    """The whole import file."""

    model_config = _STRICT
    users: list[ImportUser] = []
    proposals: list[ImportProposal] = []


ACTIONS = {"assign_ressort", "confirm_criterion", "comment", "withdraw_approval"}
EVENT_NAMES = {e.value for e in Event} - {Event.SUBMIT.value}


@dataclass
class ImportReport:
    """What an import did, proposal by proposal."""

    users_added: int = 0
    imported: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    refused: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The ``import --json`` shape."""
        return {
            "users_added": self.users_added,
            "imported": self.imported,
            "skipped": self.skipped,
            "refused": self.refused,
        }


def parse_import(
    data: bytes, *, source: str = ""
) -> tuple[ImportFile, list[Proposal], list[list[Proposal | None]]]:
    """Validate a whole import file before anything is written; every error names its path."""
    doc = load_mapping_document(data, source=source)
    # JSON escapes bring control characters past the file check: refused here with their paths.
    bad_text = text_errors(doc)
    if bad_text:
        raise ValidationError(bad_text, source=source)
    try:
        parsed = ImportFile.model_validate(doc)
    except PydanticError as exc:
        raise ValidationError(pydantic_errors_to_field_errors(exc, model=ImportFile), source=source) from None
    errors: list[FieldError] = []
    proposals: list[Proposal] = []
    revisions: list[list[Proposal | None]] = []
    for i, entry in enumerate(parsed.proposals):
        try:
            proposals.append(proposal_from_document(entry.proposal, path_prefix=f"proposals[{i}].proposal."))
        except ValidationError as exc:
            errors += exc.errors
        revs: list[Proposal | None] = []
        previous = entry.submitted_at
        for j, ev in enumerate(entry.events):
            path = f"proposals[{i}].events[{j}]"
            # The report of a past date is rebuilt from these times: they must not run backwards.
            if ev.at < previous:
                errors.append(
                    FieldError(
                        f"{path}.at",
                        f"Zeitpunkt {ev.at.isoformat()} liegt vor dem vorherigen ({previous.isoformat()}); "
                        "Ereignisse müssen in zeitlicher Reihenfolge stehen",
                    )
                )
            previous = max(previous, ev.at)
            if ev.event not in EVENT_NAMES | ACTIONS:
                allowed = ", ".join(sorted(EVENT_NAMES | ACTIONS))
                errors.append(
                    FieldError(f"{path}.event", f"unbekanntes Ereignis „{ev.event}“ – erlaubt: {allowed}")
                )
            if ev.event == Event.REVISE.value:
                if ev.proposal is None:
                    errors.append(
                        FieldError(f"{path}.proposal", "revise braucht den überarbeiteten Vorschlag")
                    )
                    revs.append(None)
                    continue
                try:
                    revs.append(proposal_from_document(ev.proposal, path_prefix=f"{path}.proposal."))
                except ValidationError as exc:
                    errors += exc.errors
                    revs.append(None)
            else:
                revs.append(None)
            if ev.event == "assign_ressort" and not ev.ressort:
                errors.append(FieldError(f"{path}.ressort", "assign_ressort braucht ein Ressort"))
            if ev.event == "confirm_criterion" and ev.criterion is None:
                errors.append(FieldError(f"{path}.criterion", "confirm_criterion braucht ein Kriterium"))
        revisions.append(revs)
    if errors:
        raise ValidationError(errors, source=source)
    return parsed, proposals, revisions


def import_key(proposal: Proposal, submitted_at: dt.datetime) -> str:
    """A stable key that recognises a proposal imported before (title, submitter, time)."""
    text = "|".join(
        [
            proposal.title.casefold(),
            proposal.submitter.name.casefold(),
            submitted_at.astimezone(dt.UTC).isoformat(),
        ]
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def run_import(services: Services, data: bytes, *, source: str = "") -> ImportReport:
    """Import users, then each proposal with its events in its own transaction."""
    parsed, proposals, revisions = parse_import(data, source=source)
    report = ImportReport()
    with services.db.write():
        for user in parsed.users:
            before = len(services.list_users())
            services.add_user(
                user.email,
                user.name,
                user.role,
                ressort=user.ressort,
                organisation=user.organisation,
                exists_ok=True,
                by=UserActor("import"),
            )
            report.users_added += len(services.list_users()) - before
    for i, (entry, proposal) in enumerate(zip(parsed.proposals, proposals, strict=True)):
        key = import_key(proposal, entry.submitted_at)
        label = f"proposals[{i}] „{proposal.title}“"
        try:
            with services.db.write():
                outcome = services.submit(
                    proposal, entry.submitted_by, at=entry.submitted_at, import_key=key, notify=False
                )
                status = outcome.status
                for j, ev in enumerate(entry.events):
                    try:
                        status = _replay(services, outcome.proposal_id, ev, revisions[i][j]) or status
                    except DomainError as exc:
                        raise _EventRefused(j, ev, exc) from exc
        except _EventRefused as refused:
            report.refused.append(
                {
                    "index": i,
                    "title": proposal.title,
                    "event_index": refused.index,
                    "event": refused.event.event,
                    "at": refused.event.at.isoformat(),
                    "message": f"{label}, Ereignis {refused.index + 1} ({refused.event.event} "
                    f"von {refused.event.by}): {refused.cause}",
                }
            )
            continue
        except AlreadyImported:
            report.skipped.append(
                {"index": i, "title": proposal.title, "message": f"{label} ist bereits importiert."}
            )
            continue
        except (NotFound, TransitionRefused) as exc:
            report.refused.append(
                {
                    "index": i,
                    "title": proposal.title,
                    "event_index": None,
                    "event": "submit",
                    "at": entry.submitted_at.isoformat(),
                    "message": f"{label}, Einreichung: {exc}",
                }
            )
            continue
        report.imported.append(
            {
                "index": i,
                "id": format_id(outcome.proposal_id),
                "title": proposal.title,
                "status": status.value,
                "events": len(entry.events),
            }
        )
    return report


class _EventRefused(Exception):
    def __init__(self, index: int, event: ImportEvent, cause: DomainError) -> None:
        super().__init__(str(cause))
        self.index, self.event, self.cause = index, event, cause


def _replay(services: Services, pid: int, ev: ImportEvent, revision: Proposal | None) -> Any:
    if ev.event == "assign_ressort":
        assert ev.ressort is not None
        return services.assign_ressort(pid, ev.ressort, ev.by, at=ev.at, notify=False).status
    if ev.event == "confirm_criterion":
        assert ev.criterion is not None
        return services.confirm(pid, ev.criterion, ev.by, ev.comment, at=ev.at).status
    if ev.event == "comment":
        return services.comment(
            pid, ev.by, ev.comment or "", ev.visibility or Visibility.INTERN, at=ev.at
        ).status
    if ev.event == "withdraw_approval":
        raise ValidationError("withdraw_approval wird beim Import nicht unterstützt.")
    if ev.event == Event.REVISE.value:
        assert revision is not None
        return services.revise(pid, revision, ev.by, at=ev.at, notify=False).status
    inp = EventInput(
        comment=ev.comment,
        visibility=ev.visibility,
        reasons=tuple(ev.reasons),
        saeule_1_projekt=ev.saeule_1_projekt,
    )
    return services.transition(pid, Event(ev.event), ev.by, inp, at=ev.at, notify=False).status
