"""Core value types: states, roles, criteria results, events. No IO."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class State(StrEnum):
    """The stored states of a proposal (German values, see docs/process.md, „Zustände“)."""

    EINGEREICHT = "eingereicht"
    IN_BEARBEITUNG = "in_bearbeitung"
    IN_ABSTIMMUNG = "in_abstimmung"
    ANERKANNT = "anerkannt"
    NICHT_WEITERVERFOLGT = "nicht_weiterverfolgt"
    IN_SAEULE_1_INTEGRIERT = "in_saeule_1_integriert"
    ZURUECKGEZOGEN = "zurueckgezogen"

    @property
    def label(self) -> str:
        """The German label a person reads."""
        return STATE_LABELS[self]


STATE_LABELS: dict[State, str] = {
    State.EINGEREICHT: "eingereicht",
    State.IN_BEARBEITUNG: "in Bearbeitung",
    State.IN_ABSTIMMUNG: "in Abstimmung",
    State.ANERKANNT: "anerkannt",
    State.NICHT_WEITERVERFOLGT: "nicht weiterverfolgt",
    State.IN_SAEULE_1_INTEGRIERT: "in ein Projekt der 1. Säule integriert",
    State.ZURUECKGEZOGEN: "zurückgezogen",
}

FINAL_STATES = frozenset({State.ANERKANNT, State.IN_SAEULE_1_INTEGRIERT, State.ZURUECKGEZOGEN})


class Audience(StrEnum):
    """A group of recipients of a notification."""

    PARTNER = "partner"  # the proposal's contact person
    RESSORT = "ressort"  # reviewers and functional mailbox of the responsible Ressort
    ARBEITSSTAB = "arbeitsstab"  # Arbeitsstab members (and its mailbox, if configured)
    PERSON = "person"  # one named person about their own account (activation links)


class Role(StrEnum):
    """Who a user is in the process (docs/process.md, „Wer darf was“)."""

    PARTNER = "partner"
    RESSORT = "ressort"
    ARBEITSSTAB = "arbeitsstab"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        """The German name of the role."""
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.PARTNER: "Partner",
    Role.RESSORT: "Ressort",
    Role.ARBEITSSTAB: "Arbeitsstab",
    Role.ADMIN: "Administration",
}


class Verdict(StrEnum):
    """Result of one criterion; ordered met < needs_review < not_met."""

    MET = "met"
    NEEDS_REVIEW = "needs_review"
    NOT_MET = "not_met"

    @property
    def rank(self) -> int:
        """Higher is worse."""
        return _VERDICT_RANK[self]

    @property
    def label(self) -> str:
        """The German label."""
        return VERDICT_LABELS[self]


_VERDICT_RANK = {Verdict.MET: 0, Verdict.NEEDS_REVIEW: 1, Verdict.NOT_MET: 2}
VERDICT_LABELS = {
    Verdict.MET: "erfüllt",
    Verdict.NEEDS_REVIEW: "zu prüfen",
    Verdict.NOT_MET: "nicht erfüllt",
}


def worst(verdicts: list[Verdict]) -> Verdict:
    """The worst of several verdicts (met if there are none)."""
    return max(verdicts, key=lambda v: v.rank, default=Verdict.MET)


class Criterion(StrEnum):
    """The four criteria of docs/criteria.md, in their order of presentation."""

    HANDLUNGSFELD_FIT = "handlungsfeld_fit"
    REGIONAL_EFFECT = "regional_effect"
    COOPERATION = "cooperation"
    FINANCING = "financing"

    @property
    def label(self) -> str:
        """The German name of the criterion."""
        return CRITERION_LABELS[self]


CRITERION_LABELS = {
    Criterion.HANDLUNGSFELD_FIT: "Zuordnung zu einem Handlungsfeld",
    Criterion.REGIONAL_EFFECT: "Regionale Wirkung",
    Criterion.COOPERATION: "Mehrwert durch Zusammenarbeit",
    Criterion.FINANCING: "Vorschläge zur Finanzierung",
}


class Visibility(StrEnum):
    """Who may read a comment."""

    INTERN = "intern"
    PARTNER = "partner"


class ReasonCode(StrEnum):
    """Reason codes for ``decline`` (docs/process.md, „Ereignisse“)."""

    HANDLUNGSFELD_FIT = "handlungsfeld_fit"
    REGIONAL_EFFECT = "regional_effect"
    COOPERATION = "cooperation"
    FINANCING = "financing"
    KEIN_PARTNERINTERESSE = "kein_partnerinteresse"
    DOPPELUNG = "doppelung"
    SONSTIGES = "sonstiges"

    @property
    def label(self) -> str:
        """The German text of the reason."""
        return REASON_LABELS[self]


REASON_LABELS = {
    ReasonCode.HANDLUNGSFELD_FIT: "keine Zuordnung zu einem Handlungsfeld",
    ReasonCode.REGIONAL_EFFECT: "keine ausreichende regionale Wirkung",
    ReasonCode.COOPERATION: "kein Mehrwert durch Zusammenarbeit",
    ReasonCode.FINANCING: "Finanzierung nicht dargelegt",
    ReasonCode.KEIN_PARTNERINTERESSE: "kein Interesse des Partners",
    ReasonCode.DOPPELUNG: "Doppelung mit einem anderen Vorhaben",
    ReasonCode.SONSTIGES: "sonstige Gründe",
}


@dataclass(frozen=True)
class CriterionResult:
    """The verdict on one criterion, with a German explanation naming the facts used."""

    criterion: Criterion
    result: Verdict
    explanation: str
    facts: dict[str, object] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, object]:
        """The ``check --json`` shape of one criterion."""
        return {"result": self.result.value, "explanation": self.explanation}


@dataclass(frozen=True)
class CheckResult:
    """All four criteria and the overall verdict (the worst of them)."""

    criteria: dict[Criterion, CriterionResult]

    @property
    def overall(self) -> Verdict:
        """The worst verdict of the four."""
        return worst([r.result for r in self.criteria.values()])

    def to_json(self) -> dict[str, object]:
        """The ``check --json`` shape."""
        return {
            "overall": self.overall.value,
            "criteria": {c.value: r.to_json() for c, r in self.criteria.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> CheckResult:
        """Rebuild from the stored ``to_json`` shape (facts are not stored)."""
        raw = data["criteria"]
        assert isinstance(raw, dict)
        return cls(
            {
                Criterion(k): CriterionResult(Criterion(k), Verdict(v["result"]), v["explanation"])
                for k, v in raw.items()
            }
        )


class Event(StrEnum):
    """The events of the qualification path (docs/process.md, „Ereignisse“)."""

    SUBMIT = "submit"
    REVISE = "revise"
    TAKE_UP = "take_up"
    START_COORDINATION = "start_coordination"
    REQUEST_CHANGES = "request_changes"
    RECOGNISE = "recognise"
    DECLINE = "decline"
    INTEGRATE_INTO_PILLAR_1 = "integrate_into_pillar_1"
    REOPEN = "reopen"
    WITHDRAW = "withdraw"


EVENT_LABELS: dict[Event, str] = {
    Event.SUBMIT: "Einreichen",
    Event.REVISE: "Überarbeiten",
    Event.TAKE_UP: "Aufgreifen",
    Event.START_COORDINATION: "Abstimmung einleiten",
    Event.REQUEST_CHANGES: "Änderungen anfordern",
    Event.RECOGNISE: "Anerkennen",
    Event.DECLINE: "Nicht weiterverfolgen",
    Event.INTEGRATE_INTO_PILLAR_1: "In die 1. Säule integrieren",
    Event.REOPEN: "Wieder aufnehmen",
    Event.WITHDRAW: "Zurückziehen",
}


def event_label(event: Event) -> str:
    """German label with the code name, e.g. „Aufgreifen“ (take_up)."""
    return f"„{EVENT_LABELS[event]}“ ({event.value})"


class Action(StrEnum):
    """Audited actions that do not change the state."""

    ASSIGN_RESSORT = "assign_ressort"
    CONFIRM_CRITERION = "confirm_criterion"
    COMMENT = "comment"
    APPROVE = "approve"
    WITHDRAW_APPROVAL = "withdraw_approval"


ACTION_LABELS: dict[Action, str] = {
    Action.ASSIGN_RESSORT: "Ressort zugeordnet",
    Action.CONFIRM_CRITERION: "Kriterium bestätigt",
    Action.COMMENT: "Kommentar",
    Action.APPROVE: "Zustimmung",
    Action.WITHDRAW_APPROVAL: "Zustimmung zurückgenommen",
}
