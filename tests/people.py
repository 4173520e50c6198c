"""The people most tests work with: two in the Arbeitsstab, reviewers of MWIDE and VM, the partner contact."""

from __future__ import annotations

from partnerprojekte.model import Role
from partnerprojekte.services import Services

STAB = "a.stab@stk.nrw.example"
STAB2 = "b.stab@stk.nrw.example"
MWIDE = "c.ostermann@mwide.nrw.example"
MWIDE2 = "d.wirt@mwide.nrw.example"
VM = "v.verkehr@vm.nrw.example"
PARTNER = "kontakt@bio-security.example.de"
ORG = "Kompetenzzentrum Bio-Security GmbH"


def add_people(services: Services) -> None:
    """Two Arbeitsstab members, two MWIDE reviewers, one VM reviewer and the partner contact."""
    services.add_user(STAB, "Anna Stab", Role.ARBEITSSTAB)
    services.add_user(STAB2, "Bernd Stab", Role.ARBEITSSTAB)
    services.add_user(MWIDE, "Carla Ostermann", Role.RESSORT, ressort="mwide")  # as people type it
    services.add_user(MWIDE2, "Dieter Wirt", Role.RESSORT, ressort="MWIDE")
    services.add_user(VM, "Vera Verkehr", Role.RESSORT, ressort="VM")
    services.add_user(PARTNER, "Kai Kontakt", Role.PARTNER, organisation=ORG)
