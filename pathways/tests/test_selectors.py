"""plans_for, plan_snapshot and the rules they carry: distance travelled, the overdue
boundary (due yesterday is overdue, due today is not), scope and a fixed query count."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from access.policy import actor_for
from offenders.models import ProgrammeKind
from pathways import selectors
from pathways.models import Action, ActionStatus
from tests.factories import OffenderFactory, ProgrammeEpisodeFactory

from .conftest import TODAY
from .factories import ActionFactory, NeedFactory

pytestmark = pytest.mark.django_db


def _people_with_plans(world, n):
    people = []
    for i in range(n):
        person = OffenderFactory()
        ProgrammeEpisodeFactory(offender=person, kind=ProgrammeKind.PPO)
        NeedFactory(
            offender=person,
            pathway=world.accommodation,
            level="high",
            set_by=world.key_worker,
            set_by_agency=world.probation,
        )
        NeedFactory(offender=person, pathway=world.drugs, level="low", set_on=dt.date(2026, 2, 1))
        ActionFactory(offender=person, owner_agency=world.housing, owner=world.housing_worker)
        ActionFactory(
            offender=person,
            owner_agency=world.probation,
            pathway=world.drugs,
            due_on=dt.date(2026, 1, 1) + dt.timedelta(days=i),
        )
        people.append(person.pk)
    return people


def _queries(world, ids):
    actor = actor_for(world.manager)
    with CaptureQueriesContext(connection) as captured:
        plans = selectors.plans_for(
            actor=actor, offender_ids=ids, as_of=TODAY, since=dt.date(2026, 3, 1)
        )
        for plan in plans.values():
            for line in plan.needs:
                _ = (line.set_by, line.set_by_agency, line.pathway.name)
            for action in plan.actions:
                _ = (action.pathway.name, action.owner_agency.name, action.owner, action.overdue)
    return len(captured), plans


def test_plans_for_runs_the_same_queries_for_5_and_40_people(world):
    few = _people_with_plans(world, 5)
    many = few + _people_with_plans(world, 35)
    count_few, plans_few = _queries(world, few)
    count_many, plans_many = _queries(world, many)
    assert len(plans_few) == 5 and len(plans_many) == 40
    assert count_few == count_many
    assert count_many <= 4


def test_plans_for_gives_every_pathway_in_order_and_the_level_as_of_the_day(world):
    NeedFactory(
        offender=world.ppo, pathway=world.accommodation, level="high", set_on=dt.date(2026, 1, 5)
    )
    NeedFactory(
        offender=world.ppo,
        pathway=world.accommodation,
        level="low",
        set_on=dt.date(2026, 5, 1),
        set_by=world.housing_worker,
        set_by_agency=world.housing,
    )
    # Set after the day asked for: not yet known then.
    NeedFactory(
        offender=world.ppo, pathway=world.accommodation, level="none", set_on=dt.date(2026, 6, 13)
    )
    plan = selectors.plans_for(
        actor=actor_for(world.manager),
        offender_ids=[world.ppo.pk],
        as_of=TODAY,
        since=dt.date(2026, 3, 1),
    )[world.ppo.pk]
    assert [line.pathway.code for line in plan.needs] == [
        "accommodation",
        "ete",
        "health",
        "drugs_alcohol",
        "finance",
        "families",
        "attitudes",
        "victims",
    ]
    accommodation = plan.needs[0]
    assert (accommodation.level, accommodation.set_on) == ("low", dt.date(2026, 5, 1))
    assert accommodation.set_by == world.housing_worker.get_full_name()
    assert accommodation.set_by_agency == "Northgate Housing"
    # Distance travelled since the conference of 1 March: high then, low now.
    assert accommodation.level_since == "high"
    assert accommodation.change == -2
    assert accommodation.change_words == "Down from high"
    assert plan.needs[1].level == "" and plan.needs[1].change_words == "Not assessed"


def test_distance_travelled_on_a_need_first_assessed_since(world):
    NeedFactory(
        offender=world.ppo, pathway=world.finance, level="medium", set_on=dt.date(2026, 4, 1)
    )
    plan = selectors.plans_for(
        actor=actor_for(world.manager),
        offender_ids=[world.ppo.pk],
        as_of=TODAY,
        since=dt.date(2026, 3, 1),
    )[world.ppo.pk]
    finance = next(line for line in plan.needs if line.pathway.code == "finance")
    assert (finance.level, finance.level_since, finance.change) == ("medium", "", None)
    assert finance.change_words == "First assessed"
    without_since = selectors.plans_for(
        actor=actor_for(world.manager), offender_ids=[world.ppo.pk], as_of=TODAY
    )[world.ppo.pk]
    assert without_since.needs[4].level_since is None


def test_overdue_means_due_before_the_day_and_still_open(world):
    yesterday = ActionFactory(
        offender=world.ppo, owner_agency=world.housing, due_on=TODAY - dt.timedelta(days=1)
    )
    due_today = ActionFactory(offender=world.ppo, owner_agency=world.housing, due_on=TODAY)
    finished = ActionFactory(
        offender=world.ppo,
        owner_agency=world.housing,
        due_on=TODAY - dt.timedelta(days=5),
        status=ActionStatus.DONE,
        finished_on=dt.date(2026, 4, 1),
        outcome="Done",
    )
    in_progress = ActionFactory(
        offender=world.ppo,
        owner_agency=world.housing,
        due_on=TODAY - dt.timedelta(days=3),
        status=ActionStatus.IN_PROGRESS,
    )
    plan = selectors.plans_for(
        actor=actor_for(world.manager),
        offender_ids=[world.ppo.pk],
        as_of=TODAY,
        since=dt.date(2026, 3, 1),
    )[world.ppo.pk]
    overdue = {a.pk for a in plan.overdue_actions}
    assert overdue == {yesterday.pk, in_progress.pk}
    assert {a.pk for a in Action.objects.overdue_on(TODAY)} == overdue
    flags = {a.pk: a.overdue for a in plan.actions}
    assert flags == {
        yesterday.pk: True,
        due_today.pk: False,
        finished.pk: False,
        in_progress.pk: True,
    }
    assert [a.pk for a in plan.done_since_actions] == [finished.pk]
    later = selectors.plans_for(
        actor=actor_for(world.manager),
        offender_ids=[world.ppo.pk],
        as_of=TODAY,
        since=dt.date(2026, 4, 2),
    )[world.ppo.pk]
    assert later.done_since_actions == []


def test_plans_for_leaves_out_people_outside_the_readers_scope(world):
    ids = [world.ppo.pk, world.other.pk]
    partner = selectors.plans_for(
        actor=actor_for(world.housing_worker), offender_ids=ids, as_of=TODAY
    )
    assert set(partner) == {world.ppo.pk}
    assert selectors.plans_for(actor=actor_for(world.steering), offender_ids=ids, as_of=TODAY) == {}
    assert (
        selectors.plans_for(actor=actor_for(world.administrator), offender_ids=ids, as_of=TODAY)
        == {}
    )
    assert set(
        selectors.plans_for(actor=actor_for(world.police), offender_ids=ids, as_of=TODAY)
    ) == set(ids)


def test_plan_snapshot_is_plain_json_of_needs_and_actions(world):
    NeedFactory(
        offender=world.ppo,
        pathway=world.accommodation,
        level="high",
        set_by=world.key_worker,
        set_by_agency=world.probation,
    )
    action = ActionFactory(
        offender=world.ppo,
        owner_agency=world.housing,
        owner=world.housing_worker,
        description="Bid for a flat",
    )
    snapshot = selectors.plan_snapshot(offender_ids=[world.ppo.pk], as_of=TODAY)
    frozen = json.loads(json.dumps(snapshot[world.ppo.pk]))
    assert frozen["needs"][0] == {
        "pathway": "accommodation",
        "pathway_name": "Accommodation",
        "level": "high",
        "set_on": "2026-01-10",
        "set_by": world.key_worker.get_full_name(),
        "set_by_agency": "Probation agency",
    }
    assert frozen["actions"] == [
        {
            "id": action.pk,
            "pathway": "accommodation",
            "pathway_name": "Accommodation",
            "description": "Bid for a flat",
            "owner_agency": "Northgate Housing",
            "owner": world.housing_worker.get_full_name(),
            "due_on": "2026-07-01",
            "status": "open",
            "outcome": "",
        }
    ]
    # A later edit does not change what was frozen.
    Action.objects.filter(pk=action.pk).update(description="Changed later")
    assert frozen["actions"][0]["description"] == "Bid for a flat"


def test_distance_travelled_from_each_persons_own_day(world):
    """The agenda reads each person's need "then" on their own last conference's day."""
    other = OffenderFactory()
    ProgrammeEpisodeFactory(offender=other, kind=ProgrammeKind.PPO)
    for person in (world.ppo, other):
        NeedFactory(
            offender=person, pathway=world.finance, level="high", set_on=dt.date(2026, 1, 10)
        )
        NeedFactory(
            offender=person, pathway=world.finance, level="low", set_on=dt.date(2026, 3, 10)
        )
    days = {world.ppo.pk: dt.date(2026, 2, 1), other.pk: dt.date(2026, 3, 10)}
    plans = selectors.plans_for(
        actor=actor_for(world.manager),
        offender_ids=[world.ppo.pk, other.pk],
        as_of=TODAY,
        since=days,
    )

    def finance(pk):
        return next(line for line in plans[pk].needs if line.pathway.code == "finance")

    assert (finance(world.ppo.pk).level_since, finance(world.ppo.pk).level) == ("high", "low")
    # Set on the day itself counts as the level on that day: no change since.
    assert (finance(other.pk).level_since, finance(other.pk).level) == ("low", "low")
    assert plans[world.ppo.pk].since == days[world.ppo.pk]
    assert plans[other.pk].since == days[other.pk]
