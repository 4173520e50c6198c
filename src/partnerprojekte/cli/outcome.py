"""How a command shows the criteria check of a proposal and the outcome of an event or action."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer

from partnerprojekte.cli.support import echo_json
from partnerprojekte.model import CRITERION_LABELS, Criterion, Event, Role

if TYPE_CHECKING:
    from partnerprojekte.services import Outcome


def print_check(check: dict[str, Any]) -> None:
    """The overall verdict and each criterion with its explanation."""
    from partnerprojekte.model import Verdict

    typer.echo(f"Gesamtergebnis: {Verdict(check['overall']).label}")
    for key, result in check["criteria"].items():
        label = CRITERION_LABELS[Criterion(key)]
        typer.echo(f"  {Verdict(result['result']).label:<14} {label}")
        typer.echo(f"  {'':<14} {result['explanation']}")


def label_of(name: str) -> str:
    """German label of an event („Anerkennen“ (recognise)) or an audited action („Kommentar“)."""
    from partnerprojekte.model import event_label
    from partnerprojekte.states.steps import is_step, step_label

    if name in {e.value for e in Event}:
        return event_label(Event(name))
    if is_step(name):
        return f"„{step_label(name)}“"
    return name


def show_outcome(outcome: Outcome, as_json: bool) -> None:
    """The outcome as ``--json`` asks for it, or in German."""
    if as_json:
        echo_json(outcome.to_json())
    else:
        print_outcome(outcome)


def print_outcome(outcome: Outcome) -> None:
    """What an event or action did: fired, approval stored (and whose is still owed), or saved."""
    from partnerprojekte.ids import format_id

    pid = format_id(outcome.proposal_id)
    if outcome.fired:
        typer.echo(f"{pid}: {label_of(outcome.event)} ausgeführt – Status jetzt „{outcome.status.label}“.")
    elif outcome.pending_approvals:
        # An approval that does not complete the set: say whose approval is still owed.
        for pending in outcome.pending_approvals:
            missing = " und ".join(Role(r).label for r in pending["missing_roles"])
            given = ", ".join(pending.get("approved_by", []))
            typer.echo(
                f"{pid}: Zustimmung zu {label_of(pending['event'])} gespeichert – Status bleibt "
                f"„{outcome.status.label}“."
            )
            typer.echo(f"  Zugestimmt: {given}; es fehlt noch die Zustimmung von: {missing}.")
    else:
        typer.echo(f"{pid}: {label_of(outcome.event)} gespeichert – Status „{outcome.status.label}“.")
    if outcome.notifications:
        typer.echo(f"  {outcome.notifications} Benachrichtigung(en) zum Versand vorgemerkt.")
