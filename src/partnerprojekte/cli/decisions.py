"""Commands that decide on a proposal: ``assign-ressort``, ``confirm``, ``transition``, ``withdraw-approval``,
``comment``."""

from __future__ import annotations

from typing import Annotated

import typer

from partnerprojekte.cli import support
from partnerprojekte.cli.outcome import show_outcome
from partnerprojekte.cli.support import (
    AsOpt,
    IdArg,
    JsonOpt,
    choice,
    handled,
    parse_proposal_id,
)
from partnerprojekte.errors import ValidationError
from partnerprojekte.model import Criterion, Event, ReasonCode, Visibility


def assign_ressort(
    proposal_id: IdArg,
    ressort: Annotated[str, typer.Argument(metavar="ABK", help="Ressort-Kürzel, z. B. MWIDE.")],
    as_: AsOpt,
    as_json: JsonOpt = False,
) -> None:
    """Das zuständige Ressort zuordnen (Arbeitsstab)."""
    with handled(as_json):
        outcome = support.services().assign_ressort(parse_proposal_id(proposal_id), ressort, as_)
    show_outcome(outcome, as_json)


def confirm(
    proposal_id: IdArg,
    criterion: Annotated[
        str,
        typer.Argument(
            metavar="KRITERIUM", help="handlungsfeld_fit, regional_effect, cooperation, financing"
        ),
    ],
    as_: AsOpt,
    comment: Annotated[str, typer.Option("--comment", help="Schriftliche Begründung.", metavar="TEXT")],
    as_json: JsonOpt = False,
) -> None:
    """Ein zu prüfendes Kriterium bestätigen (Ressort)."""
    with handled(as_json):
        crit = choice(criterion, Criterion, "KRITERIUM")
        outcome = support.services().confirm(parse_proposal_id(proposal_id), crit, as_, comment)
    show_outcome(outcome, as_json)


def transition(
    proposal_id: IdArg,
    event: Annotated[
        str,
        typer.Argument(
            metavar="EREIGNIS",
            help=", ".join(e.value for e in Event if e not in (Event.SUBMIT, Event.REVISE)),
        ),
    ],
    as_: AsOpt,
    comment: Annotated[str | None, typer.Option("--comment", help="Kommentar.", metavar="TEXT")] = None,
    visibility: Annotated[
        str | None, typer.Option("--visibility", help="intern oder partner.", metavar="SICHTBARKEIT")
    ] = None,
    reason: Annotated[
        list[str] | None,
        typer.Option(
            "--reason",
            help="Grund (mehrfach möglich): " + ", ".join(r.value for r in ReasonCode) + ".",
            metavar="CODE",
        ),
    ] = None,
    saeule_1_projekt: Annotated[
        str | None,
        typer.Option("--saeule-1-projekt", metavar="ID", help="ID des Säule-1-Projekts, z. B. 13-06."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Ein Ereignis auslösen oder einer zustimmungspflichtigen Entscheidung zustimmen."""
    with handled(as_json):
        from partnerprojekte.states.workflow import EventInput

        ev = choice(event, Event, "EREIGNIS")
        if ev in (Event.SUBMIT, Event.REVISE):
            raise ValidationError(
                f"EREIGNIS: „{ev}“ geht mit dem Befehl „partnerprojekte {ev}“, nicht mit „transition“."
            )
        inp = EventInput(
            comment=comment,
            visibility=choice(visibility, Visibility, "--visibility") if visibility else None,
            reasons=tuple(choice(r, ReasonCode, "--reason") for r in (reason or [])),
            saeule_1_projekt=saeule_1_projekt,
        )
        outcome = support.services().transition(parse_proposal_id(proposal_id), ev, as_, inp)
    show_outcome(outcome, as_json)


def withdraw_approval(
    proposal_id: IdArg,
    event: Annotated[str, typer.Argument(metavar="EREIGNIS", help="recognise oder decline.")],
    as_: AsOpt,
    as_json: JsonOpt = False,
) -> None:
    """Die eigene Zustimmung zurücknehmen, solange die Entscheidung noch aussteht."""
    with handled(as_json):
        outcome = support.services().withdraw_approval(
            parse_proposal_id(proposal_id), choice(event, Event, "EREIGNIS"), as_
        )
    show_outcome(outcome, as_json)


def comment(
    proposal_id: IdArg,
    text: Annotated[str, typer.Argument(metavar="TEXT", help="Der Kommentar.")],
    as_: AsOpt,
    visibility: Annotated[
        str, typer.Option("--visibility", help="intern oder partner.", metavar="SICHTBARKEIT")
    ] = "intern",
    as_json: JsonOpt = False,
) -> None:
    """Einen Kommentar schreiben (intern oder für den Partner)."""
    with handled(as_json):
        vis = choice(visibility, Visibility, "--visibility")
        outcome = support.services().comment(parse_proposal_id(proposal_id), as_, text, vis)
    show_outcome(outcome, as_json)
