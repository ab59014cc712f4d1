"""Panel decisions: the only thing that changes a tier, on the panel's date.

The panel meets on 10 June 2026. A tier closed by a decision ends that day (the person is
on it on 9 June, not on 10 June); the tier it opens starts that day.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from access.errors import ApplicationError, NotPermitted
from access.models import AgencyKind, AuditAction, AuditEvent, Role
from access.policy import actor_for, can_see_person
from offenders.models import DeselectionReason, ExitRoute, ProgrammeEpisode, ProgrammeKind
from selection import panel as panels
from selection.models import (
    DecisionKind,
    MatrixVersion,
    PanelDecision,
    RiskAssessment,
    RunEntry,
    SelectionRun,
)
from tests.factories import AgencyFactory, OffenderFactory, ProgrammeEpisodeFactory, staff

pytestmark = pytest.mark.django_db

HELD_ON = dt.date(2026, 6, 10)
DAY_BEFORE = dt.date(2026, 6, 9)


@pytest.fixture(autouse=True)
def on_the_day():
    with time_machine.travel(dt.datetime(2026, 6, 12, 12, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def manager():
    return staff(Role.PPO_MANAGER)


@pytest.fixture
def panel(manager):
    return panels.panel_create(user=manager, held_on=HELD_ON, chair_id=manager.pk)


def tier_on(offender, day: dt.date) -> str:
    episode = ProgrammeEpisode.objects.filter(offender=offender).open_on(day).first()
    return episode.kind if episode else ""


def ranked(offender, *, rank: int, above: bool = True, capacity: int = 2, as_of=DAY_BEFORE):
    """A saved run that lists the person (built directly, not by the service under test)."""
    run = SelectionRun.objects.filter(as_of=as_of).first() or SelectionRun.objects.create(
        version=MatrixVersion.objects.get(number=1), as_of=as_of, capacity=capacity
    )
    return RunEntry.objects.create(
        run=run, offender=offender, rank=rank, score=Decimal(50 - rank), above_threshold=above
    )


def decide(user, panel, offender, kind, **kwargs):
    return panels.panel_decide(
        user=user, panel_id=panel.pk, offender_id=offender.pk, kind=kind, **kwargs
    )


def test_selecting_someone_from_the_pool_opens_a_ppo_episode_on_the_panels_date(manager, panel):
    person = OffenderFactory()
    ranked(person, rank=1)
    decision = decide(manager, panel, person, DecisionKind.SELECT)
    assert tier_on(person, DAY_BEFORE) == "" and tier_on(person, HELD_ON) == ProgrammeKind.PPO
    assert decision.opened_episode.selected_on == HELD_ON
    assert decision.opened_episode.opened_by_decision == decision
    assert (decision.from_tier, decision.to_tier) == ("", ProgrammeKind.PPO)
    assert not decision.departs_from_ranking
    actions = set(
        AuditEvent.objects.filter(offender_refs=f",{person.pk},").values_list(
            "action", "record_type"
        )
    )
    assert (AuditAction.CREATE, "offenders.programmeepisode") in actions
    assert (AuditAction.CREATE, "selection.paneldecision") in actions


def test_stepping_down_closes_the_ppo_tier_and_opens_iom_the_same_day(manager, panel):
    person = OffenderFactory()
    ProgrammeEpisodeFactory(offender=person, selected_on=dt.date(2025, 1, 1))
    decision = decide(manager, panel, person, DecisionKind.STEP_DOWN, reason="Doing well")
    assert tier_on(person, DAY_BEFORE) == ProgrammeKind.PPO
    assert tier_on(person, HELD_ON) == ProgrammeKind.IOM
    closed = decision.closed_episode
    assert closed.deselected_on == HELD_ON
    assert closed.deselection_reason == DeselectionReason.STEPPED_DOWN
    assert closed.exit_route == ExitRoute.IOM
    # A stepped-down PPO is still a former PPO: the key workers keep them (ACCESS.md).
    key_worker = actor_for(staff(Role.KEY_WORKER), HELD_ON)
    assert can_see_person(key_worker, person.pk)


def test_stepping_up_from_iom_returns_them_to_the_ppo_tier(manager, panel):
    person = OffenderFactory()
    ProgrammeEpisodeFactory(
        offender=person, kind=ProgrammeKind.IOM, selected_on=dt.date(2025, 6, 1)
    )
    ranked(person, rank=1)
    decide(manager, panel, person, DecisionKind.STEP_UP)
    assert tier_on(person, DAY_BEFORE) == ProgrammeKind.IOM
    assert tier_on(person, HELD_ON) == ProgrammeKind.PPO


@pytest.mark.parametrize(
    "kind,tier",
    [
        (DecisionKind.STEP_DOWN, ""),
        (DecisionKind.STEP_UP, ProgrammeKind.PPO),
        (DecisionKind.SELECT, ProgrammeKind.PPO),
        (DecisionKind.SELECT, ProgrammeKind.IOM),
        (DecisionKind.DESELECT, ""),
        (DecisionKind.EXIT_DIP, ProgrammeKind.IOM),
    ],
)
def test_a_decision_on_someone_not_on_the_tier_it_moves_them_from_is_refused(
    manager, panel, kind, tier
):
    person = OffenderFactory(first_name="Qxwrongtier")
    if tier:
        ProgrammeEpisodeFactory(offender=person, kind=tier, selected_on=dt.date(2025, 1, 1))
    before = list(ProgrammeEpisode.objects.values_list("pk", "deselected_on"))
    with pytest.raises(ApplicationError, match="does not apply"):
        decide(
            manager,
            panel,
            person,
            kind,
            deselection_reason=DeselectionReason.STOPPED_OFFENDING,
            reason="Qx",
        )
    assert list(ProgrammeEpisode.objects.values_list("pk", "deselected_on")) == before
    assert not PanelDecision.objects.exists()


def test_a_tier_that_starts_the_day_after_the_panel_is_not_there_to_move(manager, panel):
    person = OffenderFactory()
    ProgrammeEpisodeFactory(offender=person, selected_on=HELD_ON + dt.timedelta(days=1))
    with pytest.raises(ApplicationError):
        decide(manager, panel, person, DecisionKind.STEP_DOWN)


def test_deselection_needs_one_of_the_reasons(manager, panel):
    person = OffenderFactory()
    ProgrammeEpisodeFactory(offender=person, selected_on=dt.date(2025, 1, 1))
    with pytest.raises(ApplicationError, match="reason for de-selection"):
        decide(manager, panel, person, DecisionKind.DESELECT)
    with pytest.raises(ApplicationError, match="Say why"):
        decide(manager, panel, person, DecisionKind.DESELECT, deselection_reason="other")
    decision = decide(
        manager,
        panel,
        person,
        DecisionKind.DESELECT,
        deselection_reason=DeselectionReason.MOVED_AREA,
        exit_outcome="moved_away",
    )
    assert decision.closed_episode.exit_route == ExitRoute.TRANSFER
    assert tier_on(person, HELD_ON) == ""


def test_long_custody_deselection_needs_a_current_risk_assessment(manager, panel):
    person = OffenderFactory(date_of_birth=dt.date(1990, 1, 1))
    ProgrammeEpisodeFactory(offender=person, selected_on=dt.date(2025, 1, 1))
    agency = AgencyFactory(name="Qx probation", kind=AgencyKind.PROBATION)

    def assess(day: dt.date) -> None:
        RiskAssessment.objects.create(
            offender=person,
            assessed_on=day,
            tool="oasys",
            likelihood_score=60,
            rosh_level="high",
            agency=agency,
        )

    assess(dt.date(2025, 6, 10))  # 365 days before the panel: no longer current
    with pytest.raises(ApplicationError, match="risk assessment"):
        decide(manager, panel, person, DecisionKind.DESELECT, deselection_reason="long_custody")
    assess(dt.date(2025, 6, 11))  # 364 days before: current
    decision = decide(
        manager, panel, person, DecisionKind.DESELECT, deselection_reason="long_custody"
    )
    assert decision.closed_episode.deselection_reason == DeselectionReason.LONG_CUSTODY


def test_departing_from_the_ranking_needs_a_reason(manager, panel):
    low = OffenderFactory()
    ranked(low, rank=3)  # capacity 2: beyond it
    with pytest.raises(ApplicationError, match="departs from the latest selection ranking"):
        decide(manager, panel, low, DecisionKind.SELECT)
    decision = decide(manager, panel, low, DecisionKind.SELECT, reason="Known to be active")
    assert decision.departs_from_ranking

    top = OffenderFactory()
    ProgrammeEpisodeFactory(offender=top, selected_on=dt.date(2025, 1, 1))
    ranked(top, rank=1)
    with pytest.raises(ApplicationError, match="departs"):
        decide(manager, panel, top, DecisionKind.STEP_DOWN)


def test_someone_below_the_threshold_is_not_recommended_whatever_their_rank(manager, panel):
    person = OffenderFactory()
    ranked(person, rank=1, above=False)
    with pytest.raises(ApplicationError, match="departs"):
        decide(manager, panel, person, DecisionKind.SELECT)


def test_a_defer_changes_nothing(manager, panel):
    person = OffenderFactory()
    decision = decide(manager, panel, person, DecisionKind.DEFER)
    assert decision.opened_episode is None and decision.closed_episode is None
    assert not ProgrammeEpisode.objects.filter(offender=person).exists()


def test_managed_exit_to_dip(manager, panel):
    person = OffenderFactory()
    ProgrammeEpisodeFactory(offender=person, selected_on=dt.date(2025, 1, 1))
    decision = decide(
        manager,
        panel,
        person,
        DecisionKind.EXIT_DIP,
        deselection_reason=DeselectionReason.LIST_REVIEW,
        exit_outcome="treatment",
    )
    assert decision.closed_episode.exit_route == ExitRoute.DIP_CJIT
    assert decision.exit_outcome == "treatment"


def test_only_the_chair_or_a_ppo_manager_records_decisions(manager):
    police_chair = staff(Role.POLICE_OFFICER)
    panel = panels.panel_create(user=manager, held_on=HELD_ON, chair_id=police_chair.pk)
    person = OffenderFactory()
    ranked(person, rank=1)
    with pytest.raises(NotPermitted):
        decide(staff(Role.POLICE_OFFICER), panel, person, DecisionKind.SELECT)
    with pytest.raises(NotPermitted):
        decide(staff(Role.KEY_WORKER), panel, person, DecisionKind.SELECT)
    decide(police_chair, panel, person, DecisionKind.SELECT)
    assert tier_on(person, HELD_ON) == ProgrammeKind.PPO


def test_a_panel_cannot_be_recorded_before_it_meets(manager):
    with pytest.raises(ApplicationError):
        panels.panel_create(user=manager, held_on=dt.date(2026, 6, 13), chair_id=manager.pk)
    with pytest.raises(NotPermitted):
        panels.panel_create(user=staff(Role.KEY_WORKER), held_on=HELD_ON, chair_id=manager.pk)


def test_an_under_18_dyo_is_not_selected_as_a_ppo(manager, panel):
    teen = OffenderFactory(date_of_birth=dt.date(2008, 6, 11))  # 18 on 11 June 2026
    ProgrammeEpisodeFactory(offender=teen, kind=ProgrammeKind.DYO, selected_on=dt.date(2025, 1, 1))
    ranked(teen, rank=1)
    with pytest.raises(ApplicationError, match="under 18"):
        decide(manager, panel, teen, DecisionKind.SELECT)
    adult = OffenderFactory(date_of_birth=dt.date(2008, 6, 10))  # 18 on the panel's date
    ProgrammeEpisodeFactory(offender=adult, kind=ProgrammeKind.DYO, selected_on=dt.date(2025, 1, 1))
    ranked(adult, rank=2)
    decide(manager, panel, adult, DecisionKind.SELECT)
    assert tier_on(adult, DAY_BEFORE) == ProgrammeKind.DYO
    assert tier_on(adult, HELD_ON) == ProgrammeKind.PPO


def test_one_tier_at_a_time():
    person = OffenderFactory()
    ProgrammeEpisodeFactory(offender=person, selected_on=dt.date(2025, 1, 1))
    overlapping = ProgrammeEpisode(
        offender=person, kind=ProgrammeKind.IOM, selected_on=dt.date(2025, 6, 1)
    )
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="already on a tier"):
        overlapping.full_clean()
