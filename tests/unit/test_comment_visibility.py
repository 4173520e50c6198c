"""Comment visibility has one rule for reading (people and notified groups) and one for writing."""

from __future__ import annotations

import pytest

from partnerprojekte.access import audience_reads_comment, can_see_comment
from partnerprojekte.model import Audience, Role, Visibility
from partnerprojekte.states.workflow import Actor, comment_visibilities, default_visibility

PEOPLE = {
    Role.PARTNER: Actor(1, "p@x", "P", Role.PARTNER, organisation="Org"),
    Role.ARBEITSSTAB: Actor(2, "a@x", "A", Role.ARBEITSSTAB),
    Role.RESSORT: Actor(3, "r@x", "R", Role.RESSORT, ressort="MWIDE"),
}
GROUP_OF = {
    Role.PARTNER: Audience.PARTNER,
    Role.ARBEITSSTAB: Audience.ARBEITSSTAB,
    Role.RESSORT: Audience.RESSORT,
}


@pytest.mark.parametrize("role", list(PEOPLE))
@pytest.mark.parametrize("visibility", list(Visibility))
def test_a_person_and_their_group_read_the_same_comments(role: Role, visibility: Visibility) -> None:
    assert can_see_comment(PEOPLE[role], visibility) is audience_reads_comment(GROUP_OF[role], visibility)


@pytest.mark.parametrize("role", list(PEOPLE))
def test_everyone_reads_what_they_may_write_and_the_default_is_one_of_it(role: Role) -> None:
    actor = PEOPLE[role]
    written = comment_visibilities(actor)
    assert all(can_see_comment(actor, v) for v in written)
    assert default_visibility(None, actor) in written


def test_a_partner_writes_only_for_the_partner_and_officials_write_both() -> None:
    assert comment_visibilities(PEOPLE[Role.PARTNER]) == (Visibility.PARTNER,)
    assert set(comment_visibilities(PEOPLE[Role.RESSORT])) == set(Visibility)
