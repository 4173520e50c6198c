"""The exception hierarchy: domain errors (caller's fault) and infrastructure errors (retryable)."""

from __future__ import annotations

from dataclasses import dataclass


class PartnerprojekteError(Exception):
    """Root of every error this package raises on purpose."""


class DomainError(PartnerprojekteError):
    """Something the caller did wrong; never retried."""


@dataclass(frozen=True)
class FieldError:
    """One validation problem: the field path (e.g. ``financing.sources[1].amount_eur``), German text."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ValidationError(DomainError):
    """Invalid input; carries one or more field errors with German messages."""

    def __init__(self, errors: list[FieldError] | FieldError | str, *, source: str = "") -> None:
        if isinstance(errors, str):
            errors = [FieldError("", errors)]
        elif isinstance(errors, FieldError):
            errors = [errors]
        self.errors = errors
        self.source = source
        super().__init__(self.render())

    def render(self) -> str:
        """All errors as German text, one per line."""
        head = f"{self.source}: " if self.source else ""
        if len(self.errors) == 1:
            return f"{head}{self.errors[0]}"
        lines = [f"{head}{len(self.errors)} Fehler:"]
        lines += [f"  - {e}" for e in self.errors]
        return "\n".join(lines)


class NotFound(DomainError):
    """An id, user or reference value that does not exist; ``field`` names the input it came from."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Named:
    """What a refusal is about: its German label and, for an event or action, its code (``take_up``)."""

    label: str
    code: str = ""

    def __str__(self) -> str:
        return f"{self.label} ({self.code})" if self.code else self.label


class TransitionRefused(DomainError):
    """An event or action that the workflow refuses: wrong state, missing input, failed guard or role."""

    def __init__(
        self,
        message: str,
        *,
        event: str,
        state: str | None,
        reason: str,
        criterion: str | None = None,
        role: str | None = None,
        field: str | None = None,
        rule: str | None = None,
        subject: Named | None = None,
    ) -> None:
        self.event = event
        self.state = state
        self.reason = reason  # one of: state, input, guard, role, approval
        self.criterion = criterion
        self.role = role
        # With reason "input": which input is missing or wrong (comment, visibility, reasons,
        # saeule_1_projekt); each edge names it its own way (CLI option, form field, JSON field).
        self.field = field
        # With reason "guard": the rule that failed (a guard of the table, e.g. ressort_assigned).
        self.rule = rule
        # The message names its subject with the code (for the API and the command line); a page words
        # it without (``worded``) – from this data, not by searching the text for what looks like a code.
        self.subject = subject
        super().__init__(message)

    def worded(self, *, codes: bool = True) -> str:
        """The German message, with the subject's code name or (``codes=False``) its label alone."""
        text = str(self)
        if codes or self.subject is None or not self.subject.code:
            return text
        return text.replace(str(self.subject), self.subject.label)

    def details(self) -> dict[str, str | None]:
        """The refusal as data, for the error objects of the API and of ``--json``."""
        return {
            "event": self.event,
            "state": self.state,
            "reason": self.reason,
            "criterion": self.criterion,
            "role": self.role,
            "field": self.field,
            "rule": self.rule,
        }


class ConflictError(DomainError):
    """The proposal changed meanwhile; the caller may retry with fresh data."""
