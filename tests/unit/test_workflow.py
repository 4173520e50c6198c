"""The workflow core: every event from every state, every role, approvals, guards, inputs."""

from __future__ import annotations

import pytest

from partnerprojekte.config import Settings
from partnerprojekte.errors import TransitionRefused
from partnerprojekte.model import (
    CheckResult,
    Criterion,
    CriterionResult,
    Event,
    ReasonCode,
    Role,
    State,
    Verdict,
    Visibility,
)
from partnerprojekte.states.facts import Request
from partnerprojekte.states.machine import possible_events, shared_machine, trigger
from partnerprojekte.states.table import NEW, TRANSITIONS, spec_for
from partnerprojekte.states.workflow import (
    Actor,
    ApprovalPolicy,
    EventInput,
    GivenApproval,
    ProposalFacts,
    allowed_actions,
    authorize_assign_ressort,
    authorize_comment,
    authorize_confirm,
    decide,
)

ORG = "Kompetenzzentrum Bio-Security GmbH"
PARTNER = Actor(1, "kontakt@bio.example", "Oliver Bonkamp", Role.PARTNER, organisation=ORG)
OTHER_PARTNER = Actor(2, "x@other.example", "Fremd", Role.PARTNER, organisation="Andere GmbH")
STAB = Actor(3, "a.stab@stk.example", "Jürgen Hein", Role.ARBEITSSTAB)
STAB2 = Actor(4, "b.stab@stk.example", "Berta Stab", Role.ARBEITSSTAB)
MWIDE = Actor(5, "mwide@example.org", "Maria Wirtschaft", Role.RESSORT, ressort="MWIDE")
MWIDE2 = Actor(7, "mwide2@example.org", "Max Wirtschaft", Role.RESSORT, ressort="MWIDE")
VM = Actor(6, "vm@example.org", "Volker Verkehr", Role.RESSORT, ressort="VM")
ADMIN = Actor(8, "admin@example.org", "Ada Admin", Role.ADMIN)
POLICY = ApprovalPolicy(Settings().approvals)


def check_of(**verdicts: Verdict) -> CheckResult:
    return CheckResult(
        {c: CriterionResult(c, verdicts.get(c.value, Verdict.MET), f"Erklärung {c.value}") for c in Criterion}
    )


ALL_MET = check_of()


def facts(
    state: State | None,
    ressort: str | None = "MWIDE",
    check: CheckResult = ALL_MET,
    confirmed: frozenset[Criterion] = frozenset(),
) -> ProposalFacts:
    return ProposalFacts(state, ORG, ressort, check, confirmed)


FULL_INPUT = EventInput(
    comment="Begründung für die Entscheidung",
    visibility=Visibility.PARTNER,
    reasons=(ReasonCode.FINANCING,),
    saeule_1_projekt="13-06",
    has_proposal=True,
)

# (event, from state) -> target for every allowed combination of spec §3.
ALLOWED = {
    (Event.SUBMIT, None): State.EINGEREICHT,
    (Event.REVISE, State.EINGEREICHT): State.EINGEREICHT,
    (Event.REVISE, State.IN_BEARBEITUNG): State.IN_BEARBEITUNG,
    (Event.TAKE_UP, State.EINGEREICHT): State.IN_BEARBEITUNG,
    (Event.START_COORDINATION, State.IN_BEARBEITUNG): State.IN_ABSTIMMUNG,
    (Event.REQUEST_CHANGES, State.IN_ABSTIMMUNG): State.IN_BEARBEITUNG,
    (Event.RECOGNISE, State.IN_ABSTIMMUNG): State.ANERKANNT,
    (Event.DECLINE, State.EINGEREICHT): State.NICHT_WEITERVERFOLGT,
    (Event.DECLINE, State.IN_BEARBEITUNG): State.NICHT_WEITERVERFOLGT,
    (Event.DECLINE, State.IN_ABSTIMMUNG): State.NICHT_WEITERVERFOLGT,
    (Event.INTEGRATE_INTO_PILLAR_1, State.IN_BEARBEITUNG): State.IN_SAEULE_1_INTEGRIERT,
    (Event.INTEGRATE_INTO_PILLAR_1, State.IN_ABSTIMMUNG): State.IN_SAEULE_1_INTEGRIERT,
    (Event.REOPEN, State.NICHT_WEITERVERFOLGT): State.IN_BEARBEITUNG,
    (Event.WITHDRAW, State.EINGEREICHT): State.ZURUECKGEZOGEN,
    (Event.WITHDRAW, State.IN_BEARBEITUNG): State.ZURUECKGEZOGEN,
    (Event.WITHDRAW, State.IN_ABSTIMMUNG): State.ZURUECKGEZOGEN,
}
STATES: list[State | None] = [None, *State]


def _first_actor(event: Event, state: State | None) -> tuple[Actor, list[GivenApproval]]:
    """An actor allowed to complete the event, with the approvals already given."""
    if POLICY.required_roles(event, state):
        return STAB, [GivenApproval(MWIDE.user_id, MWIDE.name, Role.RESSORT)]
    spec = spec_for(event, state)
    assert spec is not None
    return (STAB if Role.ARBEITSSTAB in spec.roles else PARTNER), []


@pytest.mark.parametrize("event", list(Event))
@pytest.mark.parametrize("state", STATES, ids=lambda s: s.value if s else "neu")
def test_every_event_from_every_state(event: Event, state: State | None) -> None:
    target = ALLOWED.get((event, state))
    if target is None:
        with pytest.raises(TransitionRefused) as refused:
            decide(facts(state), event, STAB, FULL_INPUT, POLICY)
        assert refused.value.reason == "state"
        assert refused.value.event == event.value
        assert "nicht möglich" in str(refused.value) or "bereits eingereicht" in str(refused.value)
        return
    actor, given = _first_actor(event, state)
    decision = decide(facts(state), event, actor, FULL_INPUT, POLICY, given)
    assert decision.fires
    assert decision.to_state is target


def test_table_and_machine_agree() -> None:
    for (event, state), _target in ALLOWED.items():
        assert event in possible_events(state)
    machine = shared_machine()
    assert machine.auto_transitions is False
    assert len({(s.event, s.sources) for s in TRANSITIONS}) == len(TRANSITIONS)
    recognise = Request(facts(State.IN_ABSTIMMUNG), STAB, FULL_INPUT, (Role.ARBEITSSTAB,))
    assert trigger(State.IN_ABSTIMMUNG, Event.RECOGNISE, recognise) is State.ANERKANNT


def test_the_machine_itself_runs_the_guards_and_the_role_check() -> None:
    """``transitions`` decides: fired directly, without ``decide``, a failed guard, a wrong role and an
    owed approval come back from the machine's callbacks."""
    not_met = facts(State.IN_ABSTIMMUNG, check=check_of(financing=Verdict.NOT_MET))
    with pytest.raises(TransitionRefused) as refused:
        trigger(State.IN_ABSTIMMUNG, Event.RECOGNISE, Request(not_met, STAB, FULL_INPUT, (Role.ARBEITSSTAB,)))
    assert refused.value.reason == "guard" and refused.value.criterion == "financing"
    with pytest.raises(TransitionRefused) as refused:
        trigger(
            State.IN_ABSTIMMUNG,
            Event.RECOGNISE,
            Request(facts(State.IN_ABSTIMMUNG), MWIDE, FULL_INPUT, (Role.ARBEITSSTAB,)),
        )
    assert refused.value.reason == "role"
    gated = Request(
        facts(State.IN_ABSTIMMUNG),
        STAB,
        FULL_INPUT,
        (Role.ARBEITSSTAB, Role.RESSORT),
        (Role.ARBEITSSTAB, Role.RESSORT),
    )
    assert trigger(State.IN_ABSTIMMUNG, Event.RECOGNISE, gated) is None  # recorded, not fired
    # the guards are conditions of the machine's transitions, one per guard of the table row
    for spec in TRANSITIONS:
        for transition in (
            shared_machine()
            .events[spec.event.value]
            .transitions[spec.sources[0].value if spec.sources else NEW]
        ):
            assert len(transition.conditions) == 1 + len(spec.guards)


def test_refusal_in_final_state_says_final() -> None:
    with pytest.raises(TransitionRefused, match="endgültig"):
        decide(facts(State.ANERKANNT), Event.WITHDRAW, STAB, FULL_INPUT, POLICY)


def test_refusal_names_allowed_states() -> None:
    with pytest.raises(TransitionRefused) as refused:
        decide(facts(State.IN_BEARBEITUNG), Event.TAKE_UP, STAB, FULL_INPUT, POLICY)
    assert "„in Bearbeitung“" in str(refused.value)
    assert "„eingereicht“" in str(refused.value)


# (event, state, actor) -> allowed? for every role on the non-gated events.
ROLE_CASES = [
    (Event.SUBMIT, None, PARTNER, True),
    (Event.SUBMIT, None, STAB, True),
    (Event.SUBMIT, None, MWIDE, False),
    (Event.SUBMIT, None, ADMIN, False),
    (Event.SUBMIT, None, OTHER_PARTNER, False),
    (Event.REVISE, State.EINGEREICHT, PARTNER, True),
    (Event.REVISE, State.IN_BEARBEITUNG, STAB, True),
    (Event.REVISE, State.IN_BEARBEITUNG, MWIDE, False),
    (Event.REVISE, State.IN_BEARBEITUNG, OTHER_PARTNER, False),
    (Event.TAKE_UP, State.EINGEREICHT, STAB, True),
    (Event.TAKE_UP, State.EINGEREICHT, PARTNER, False),
    (Event.TAKE_UP, State.EINGEREICHT, MWIDE, False),
    (Event.TAKE_UP, State.EINGEREICHT, ADMIN, False),
    (Event.START_COORDINATION, State.IN_BEARBEITUNG, STAB, True),
    (Event.START_COORDINATION, State.IN_BEARBEITUNG, MWIDE, False),
    (Event.START_COORDINATION, State.IN_BEARBEITUNG, PARTNER, False),
    (Event.REQUEST_CHANGES, State.IN_ABSTIMMUNG, STAB, True),
    (Event.REQUEST_CHANGES, State.IN_ABSTIMMUNG, MWIDE, True),
    (Event.REQUEST_CHANGES, State.IN_ABSTIMMUNG, VM, False),
    (Event.REQUEST_CHANGES, State.IN_ABSTIMMUNG, PARTNER, False),
    (Event.DECLINE, State.IN_BEARBEITUNG, STAB, True),
    (Event.DECLINE, State.IN_BEARBEITUNG, MWIDE, False),
    (Event.DECLINE, State.EINGEREICHT, PARTNER, False),
    (Event.INTEGRATE_INTO_PILLAR_1, State.IN_ABSTIMMUNG, STAB, True),
    (Event.INTEGRATE_INTO_PILLAR_1, State.IN_ABSTIMMUNG, MWIDE, False),
    (Event.REOPEN, State.NICHT_WEITERVERFOLGT, STAB, True),
    (Event.REOPEN, State.NICHT_WEITERVERFOLGT, PARTNER, False),
    (Event.WITHDRAW, State.IN_ABSTIMMUNG, PARTNER, True),
    (Event.WITHDRAW, State.IN_BEARBEITUNG, STAB, True),
    (Event.WITHDRAW, State.EINGEREICHT, OTHER_PARTNER, False),
    (Event.WITHDRAW, State.EINGEREICHT, MWIDE, False),
    (Event.WITHDRAW, State.EINGEREICHT, ADMIN, False),
    (Event.RECOGNISE, State.IN_ABSTIMMUNG, PARTNER, False),
    (Event.RECOGNISE, State.IN_ABSTIMMUNG, VM, False),
    (Event.RECOGNISE, State.IN_ABSTIMMUNG, ADMIN, False),
    (Event.DECLINE, State.IN_ABSTIMMUNG, PARTNER, False),
    (Event.DECLINE, State.IN_ABSTIMMUNG, VM, False),
]


@pytest.mark.parametrize(("event", "state", "actor", "allowed"), ROLE_CASES)
def test_roles(event: Event, state: State | None, actor: Actor, allowed: bool) -> None:
    if allowed:
        decision = decide(facts(state), event, actor, FULL_INPUT, POLICY)
        assert decision.to_state is ALLOWED[(event, state)] or not decision.fires
    else:
        with pytest.raises(TransitionRefused) as refused:
            decide(facts(state), event, actor, FULL_INPUT, POLICY)
        assert refused.value.reason == "role"
        assert refused.value.role == actor.role.value


def test_ressort_role_needs_an_assigned_ressort() -> None:
    with pytest.raises(TransitionRefused, match="kein zuständiges Ressort"):
        decide(facts(State.IN_ABSTIMMUNG, ressort=None), Event.REQUEST_CHANGES, MWIDE, FULL_INPUT, POLICY)


def test_wrong_ressort_is_named() -> None:
    with pytest.raises(TransitionRefused, match="zuständige Ressort MWIDE.*gehört zu VM"):
        decide(facts(State.IN_ABSTIMMUNG), Event.RECOGNISE, VM, FULL_INPUT, POLICY)


@pytest.mark.parametrize("first_second", [(MWIDE, STAB), (STAB, MWIDE)], ids=["ressort-first", "stab-first"])
@pytest.mark.parametrize("event", [Event.RECOGNISE, Event.DECLINE])
def test_approvals_in_either_order(first_second: tuple[Actor, Actor], event: Event) -> None:
    first, second = first_second
    f = facts(State.IN_ABSTIMMUNG)
    one = decide(f, event, first, FULL_INPUT, POLICY)
    assert not one.fires
    assert one.approval_gated
    assert one.missing_roles == (second.role,)
    two = decide(f, event, second, FULL_INPUT, POLICY, [GivenApproval(first.user_id, first.name, first.role)])
    assert two.fires
    assert two.to_state is ALLOWED[(event, State.IN_ABSTIMMUNG)]


def test_same_person_cannot_approve_twice() -> None:
    given = [GivenApproval(STAB.user_id, STAB.name, STAB.role)]
    with pytest.raises(TransitionRefused, match="bereits zugestimmt") as refused:
        decide(facts(State.IN_ABSTIMMUNG), Event.RECOGNISE, STAB, FULL_INPUT, POLICY, given)
    assert refused.value.reason == "approval"


def test_two_people_of_the_same_role_do_not_complete_the_set() -> None:
    given = [GivenApproval(STAB.user_id, STAB.name, STAB.role)]
    with pytest.raises(TransitionRefused, match="Arbeitsstab liegt bereits vor"):
        decide(facts(State.IN_ABSTIMMUNG), Event.RECOGNISE, STAB2, FULL_INPUT, POLICY, given)
    given = [GivenApproval(MWIDE.user_id, MWIDE.name, MWIDE.role)]
    with pytest.raises(TransitionRefused, match="Ressort liegt bereits vor"):
        decide(facts(State.IN_ABSTIMMUNG), Event.RECOGNISE, MWIDE2, FULL_INPUT, POLICY, given)


def test_gating_is_configuration() -> None:
    solo = ApprovalPolicy({"recognise": {"in_abstimmung": ["arbeitsstab"]}})
    decision = decide(facts(State.IN_ABSTIMMUNG), Event.RECOGNISE, STAB, FULL_INPUT, solo)
    assert decision.fires
    ungated = ApprovalPolicy({})
    with pytest.raises(TransitionRefused):  # the table then says: ressort or arbeitsstab, alone
        decide(facts(State.IN_ABSTIMMUNG), Event.RECOGNISE, PARTNER, FULL_INPUT, ungated)


@pytest.mark.parametrize(
    ("verdicts", "confirmed", "fires", "criterion"),
    [
        ({}, frozenset(), True, None),
        ({"financing": Verdict.NEEDS_REVIEW}, frozenset(), False, "financing"),
        ({"financing": Verdict.NEEDS_REVIEW}, frozenset({Criterion.FINANCING}), True, None),
        ({"cooperation": Verdict.NOT_MET}, frozenset({Criterion.COOPERATION}), False, "cooperation"),
        (
            {"financing": Verdict.NEEDS_REVIEW, "regional_effect": Verdict.NEEDS_REVIEW},
            frozenset({Criterion.FINANCING}),
            False,
            "regional_effect",
        ),
    ],
)
def test_recognise_guard(
    verdicts: dict[str, Verdict], confirmed: frozenset[Criterion], fires: bool, criterion: str | None
) -> None:
    f = facts(State.IN_ABSTIMMUNG, check=check_of(**verdicts), confirmed=confirmed)
    given = [GivenApproval(MWIDE.user_id, MWIDE.name, MWIDE.role)]
    if fires:
        assert decide(f, Event.RECOGNISE, STAB, FULL_INPUT, POLICY, given).fires
    else:
        with pytest.raises(TransitionRefused) as refused:
            decide(f, Event.RECOGNISE, STAB, FULL_INPUT, POLICY, given)
        assert refused.value.reason == "guard"
        assert refused.value.criterion == criterion


def test_first_approval_is_recorded_even_if_guards_fail_later() -> None:
    f = facts(State.IN_ABSTIMMUNG, check=check_of(financing=Verdict.NEEDS_REVIEW))
    assert not decide(f, Event.RECOGNISE, MWIDE, FULL_INPUT, POLICY).fires


def test_start_coordination_guards() -> None:
    with pytest.raises(TransitionRefused, match="kein zuständiges Ressort") as refused:
        decide(facts(State.IN_BEARBEITUNG, ressort=None), Event.START_COORDINATION, STAB, FULL_INPUT, POLICY)
    assert refused.value.reason == "guard"
    bad = facts(State.IN_BEARBEITUNG, check=check_of(regional_effect=Verdict.NOT_MET))
    with pytest.raises(TransitionRefused, match="Regionale Wirkung“ ist nicht erfüllt") as refused:
        decide(bad, Event.START_COORDINATION, STAB, FULL_INPUT, POLICY)
    assert refused.value.criterion == "regional_effect"
    review = facts(State.IN_BEARBEITUNG, check=check_of(financing=Verdict.NEEDS_REVIEW))
    assert decide(review, Event.START_COORDINATION, STAB, FULL_INPUT, POLICY).fires


@pytest.mark.parametrize(
    ("event", "state", "inp", "message"),
    [
        (Event.DECLINE, State.IN_BEARBEITUNG, EventInput(comment="Kommentar"), "mindestens einen Grund"),
        (Event.DECLINE, State.IN_BEARBEITUNG, EventInput(reasons=(ReasonCode.DOPPELUNG,)), "Kommentar"),
        (Event.REOPEN, State.NICHT_WEITERVERFOLGT, EventInput(comment="   "), "Kommentar"),
        (Event.REQUEST_CHANGES, State.IN_ABSTIMMUNG, EventInput(), "Kommentar"),
        (
            Event.REQUEST_CHANGES,
            State.IN_ABSTIMMUNG,
            EventInput(comment="Bitte Finanzierung ergänzen", visibility=Visibility.INTERN),
            "für den Partner",
        ),
        (Event.INTEGRATE_INTO_PILLAR_1, State.IN_ABSTIMMUNG, EventInput(comment="x"), "Säule-1-Projekts"),
        (
            Event.INTEGRATE_INTO_PILLAR_1,
            State.IN_ABSTIMMUNG,
            EventInput(comment="x", saeule_1_projekt="13-6"),
            "keine gültige Säule-1-Projekt-ID",
        ),
        (
            Event.INTEGRATE_INTO_PILLAR_1,
            State.IN_ABSTIMMUNG,
            EventInput(saeule_1_projekt="05-02a"),
            "Kommentar",
        ),
        (Event.SUBMIT, None, EventInput(), "gültigen Vorschlag"),
    ],
)
def test_missing_input_is_named(event: Event, state: State | None, inp: EventInput, message: str) -> None:
    with pytest.raises(TransitionRefused, match=message) as refused:
        decide(facts(state), event, STAB, inp, POLICY)
    assert refused.value.reason == "input"


def test_saeule_1_ids() -> None:
    for good in ("13-06", "05-02a"):
        inp = EventInput(comment="x", saeule_1_projekt=good)
        assert decide(facts(State.IN_BEARBEITUNG), Event.INTEGRATE_INTO_PILLAR_1, STAB, inp, POLICY).fires
    for bad in ("13-06A", "1306", "13-06ab", "x13-06"):
        inp = EventInput(comment="x", saeule_1_projekt=bad)
        with pytest.raises(TransitionRefused):
            decide(facts(State.IN_BEARBEITUNG), Event.INTEGRATE_INTO_PILLAR_1, STAB, inp, POLICY)


def test_assign_ressort_only_arbeitsstab_and_not_final() -> None:
    authorize_assign_ressort(facts(State.IN_ABSTIMMUNG), STAB)
    with pytest.raises(TransitionRefused, match="nur für Arbeitsstab"):
        authorize_assign_ressort(facts(State.IN_ABSTIMMUNG), MWIDE)
    with pytest.raises(TransitionRefused, match="endgültig"):
        authorize_assign_ressort(facts(State.ANERKANNT), STAB)


def test_confirm_rules() -> None:
    f = facts(State.IN_ABSTIMMUNG, check=check_of(financing=Verdict.NEEDS_REVIEW))
    authorize_confirm(f, MWIDE, Criterion.FINANCING, "Förderbescheid liegt vor")
    with pytest.raises(TransitionRefused, match="schriftliche Begründung"):
        authorize_confirm(f, MWIDE, Criterion.FINANCING, " ")
    with pytest.raises(TransitionRefused, match="„zu prüfen“"):
        authorize_confirm(f, MWIDE, Criterion.COOPERATION, "passt")
    with pytest.raises(TransitionRefused, match="nur für Ressort"):
        authorize_confirm(f, STAB, Criterion.FINANCING, "passt")
    with pytest.raises(TransitionRefused, match="zuständige Ressort"):
        authorize_confirm(f, VM, Criterion.FINANCING, "passt")
    done = facts(
        State.IN_ABSTIMMUNG,
        check=check_of(financing=Verdict.NEEDS_REVIEW),
        confirmed=frozenset({Criterion.FINANCING}),
    )
    with pytest.raises(TransitionRefused, match="bereits bestätigt"):
        authorize_confirm(done, MWIDE, Criterion.FINANCING, "passt")


def test_comment_visibility() -> None:
    assert authorize_comment(facts(State.IN_ABSTIMMUNG), PARTNER, Visibility.INTERN) is Visibility.PARTNER
    assert authorize_comment(facts(State.IN_ABSTIMMUNG), STAB, Visibility.INTERN) is Visibility.INTERN
    with pytest.raises(TransitionRefused):
        authorize_comment(facts(State.IN_ABSTIMMUNG), OTHER_PARTNER, Visibility.PARTNER)
    with pytest.raises(TransitionRefused):
        authorize_comment(facts(State.IN_ABSTIMMUNG), ADMIN, Visibility.INTERN)


def test_partner_organisation_matching_ignores_case_and_blanks() -> None:
    partner = Actor(
        9, "p@bio.example", "P", Role.PARTNER, organisation="  kompetenzzentrum  bio-security gmbh "
    )
    assert decide(facts(State.EINGEREICHT), Event.WITHDRAW, partner, EventInput(), POLICY).fires


def refusal_reason(state: State | None, event: Event, actor: Actor) -> str | None:
    """Why ``decide`` refuses the event with full input, or ``None`` if it lets it happen."""
    try:
        decide(facts(state), event, actor, FULL_INPUT, POLICY)
    except TransitionRefused as refused:
        return refused.reason
    return None


def test_allowed_actions_are_what_decide_lets_a_person_try() -> None:
    """The buttons: every event ``allowed_actions`` offers passes the state and role checks of ``decide``
    (it may still fail on input or a guard), and every event it leaves out is refused for state or role."""
    for state in [None, *State]:
        for actor in (PARTNER, OTHER_PARTNER, STAB, MWIDE, VM, ADMIN):
            offered = allowed_actions(facts(state), actor, POLICY).events
            for event in Event:
                if event is not Event.SUBMIT:
                    refused_early = refusal_reason(state, event, actor) in ("state", "role")
                    assert refused_early is (event not in offered), (state, actor, event)
    ressort_actions = allowed_actions(facts(State.IN_BEARBEITUNG), MWIDE, POLICY).actions
    assert {a.value for a in ressort_actions} == {"confirm_criterion", "comment"}
    assert allowed_actions(facts(State.ANERKANNT), ADMIN, POLICY).actions == frozenset()


@pytest.mark.parametrize(
    ("state", "event", "actor"),
    [
        (State.IN_BEARBEITUNG, Event.RECOGNISE, STAB),  # state
        (State.EINGEREICHT, Event.TAKE_UP, PARTNER),  # role
        (State.IN_BEARBEITUNG, Event.START_COORDINATION, STAB),  # guard (no Ressort)
        (State.IN_ABSTIMMUNG, Event.RECOGNISE, VM),  # wrong Ressort
    ],
    ids=["state", "role", "guard", "ressort"],
)
def test_a_refusal_names_its_subject_as_data(state: State, event: Event, actor: Actor) -> None:
    ressort = None if event is Event.START_COORDINATION else "MWIDE"
    with pytest.raises(TransitionRefused) as refused:
        decide(facts(state, ressort=ressort), event, actor, FULL_INPUT, POLICY)
    subject = refused.value.subject
    assert subject is not None and subject.code == event.value
    assert f"{subject.label} ({event.value})" in str(refused.value)
    plain = refused.value.worded(codes=False)
    assert subject.label in plain and f"({event.value})" not in plain
    assert plain == str(refused.value).replace(f" ({event.value})", "")
