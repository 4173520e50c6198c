"""Who may see what (docs/process.md, „Wer darf was“): pure rules for every edge that shows proposals."""

from __future__ import annotations

from partnerprojekte.model import Audience, Role, Visibility
from partnerprojekte.states.workflow import Actor, same_organisation


def can_see_proposal(actor: Actor, organisation: str, responsible_ressort: str | None) -> bool:
    """Arbeitsstab and admin see everything; a partner their organisation's; a reviewer their Ressort's."""
    if actor.role in (Role.ARBEITSSTAB, Role.ADMIN):
        return True
    if actor.role is Role.PARTNER:
        return same_organisation(actor.organisation, organisation)
    return responsible_ressort is not None and actor.ressort == responsible_ressort


def can_see_comment(actor: Actor, visibility: Visibility) -> bool:
    """A partner reads only the comments meant for the partner."""
    return actor.role is not Role.PARTNER or visibility is Visibility.PARTNER


def audience_reads_comment(audience: Audience, visibility: Visibility) -> bool:
    """The same rule for the groups a notification goes to: the partner's mail holds no internal comment."""
    return audience is not Audience.PARTNER or visibility is Visibility.PARTNER
