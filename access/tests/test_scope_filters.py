"""The scope filters as the planner sees them (issue 15): one `IN` of the ids each rule
admits, never OR'ed correlated EXISTS, giving the same people whichever way it is used
(a filter, its negation, through a relation)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from guardian.shortcuts import assign_perm

from access.models import AgencyKind, Role
from access.policy import actor_for, offending_events_q, people, people_q
from offenders.models import (
    Contact,
    CustodyKind,
    EventKind,
    Offender,
    OffendingEvent,
    ProgrammeKind,
)
from tests.factories import (
    AgencyFactory,
    ContactFactory,
    CustodyEpisodeFactory,
    MembershipFactory,
    OffenderFactory,
    OffendingEventFactory,
    ProgrammeEpisodeFactory,
    ReferralFactory,
)

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2026, 6, 15)
ADULT = dt.date(1990, 1, 1)
CHILD = dt.date(2010, 1, 1)  # 16 on AS_OF


@pytest.fixture
def people_by_name():
    prison = AgencyFactory(name="HMP Scope", kind=AgencyKind.PRISON)
    treatment = AgencyFactory(name="Scope Treatment", kind=AgencyKind.TREATMENT)
    made = {}

    def person(name: str, dob: dt.date = ADULT) -> Offender:
        made[name] = OffenderFactory(first_name=name, last_name="Scope", date_of_birth=dob)
        return made[name]

    ProgrammeEpisodeFactory(offender=person("ppo"), kind=ProgrammeKind.PPO)
    ProgrammeEpisodeFactory(offender=person("ppo_inside"), kind=ProgrammeKind.PPO)
    CustodyEpisodeFactory(
        offender=made["ppo_inside"],
        establishment=prison,
        started_on=dt.date(2026, 1, 1),
        kind=CustodyKind.SENTENCE,
    )
    # Admitted by both youth rules at once: under 18 and an open DYO.
    ProgrammeEpisodeFactory(offender=person("young_dyo", CHILD), kind=ProgrammeKind.DYO)
    person("child", CHILD)
    ReferralFactory(offender=person("referred"), agency=treatment)
    person("pool")
    for o in made.values():
        ContactFactory(offender=o)
    return {"people": made, "prison": prison, "treatment": treatment}


def _actor(role: str, world: dict) -> Any:
    agency: dict[str, Any] = {
        Role.PRISON_WORKER: world["prison"],
        Role.PARTNER_WORKER: world["treatment"],
    }
    kwargs: dict[str, Any] = {"role": role}
    if role in agency:
        kwargs["agency"] = agency[role]
    membership: Any = MembershipFactory(**kwargs)
    return actor_for(membership.user, AS_OF)


# Written out from ACCESS.md "Who is in scope", not from the policy.
EXPECTED = {
    Role.KEY_WORKER: {"ppo", "ppo_inside", "young_dyo"},
    Role.PRISON_WORKER: {"ppo_inside"},
    Role.YOT_WORKER: {"young_dyo", "child"},
    Role.PARTNER_WORKER: {"referred"},
    Role.STEERING_GROUP: set(),
}


def _first_names(qs) -> list[str]:
    return sorted(qs.values_list("first_name", flat=True))


@pytest.mark.parametrize("role", list(EXPECTED))
def test_the_filter_its_negation_and_the_relation_agree(role, people_by_name):
    actor = _actor(role, people_by_name)
    everyone = {o.first_name for o in people_by_name["people"].values()}
    seen = _first_names(people(actor))
    # Each person once, even when two rules admit them (the youth rules, a UNION).
    assert seen == sorted(EXPECTED[role])
    # The importers exclude by the write filter: exactly the others, none lost to NULLs.
    unseen = _first_names(Offender.objects.exclude(people_q(actor, write=True)))
    assert set(unseen) == everyone - set(_first_names(people(actor, write=True)))
    through_contacts = Contact.objects.filter(people_q(actor, prefix="offender__"))
    assert sorted(through_contacts.values_list("offender__first_name", flat=True)) == seen


@pytest.mark.parametrize("role", [r for r in EXPECTED if r != Role.STEERING_GROUP])
def test_a_scope_is_one_in_of_admitted_ids_never_an_exists(role, people_by_name):
    actor = _actor(role, people_by_name)
    sql = str(people(actor).query).upper()
    assert "EXISTS" not in sql
    assert sql.count('"OFFENDERS_OFFENDER"."ID" IN (') == 1


def test_an_explicit_grant_joins_the_rules_for_reading_only(people_by_name):
    actor = _actor(Role.KEY_WORKER, people_by_name)
    pool = people_by_name["people"]["pool"]
    assign_perm("offenders.view_offender", actor.user, pool)
    assert _first_names(people(actor)) == sorted(EXPECTED[Role.KEY_WORKER] | {"pool"})
    assert "pool" not in _first_names(people(actor, write=True))


def test_offending_and_intelligence_keep_their_own_grants(people_by_name):
    person = people_by_name["people"]["ppo"]
    arrest = OffendingEventFactory(offender=person, kind=EventKind.ARREST)
    intel = OffendingEventFactory(offender=person, kind=EventKind.INTELLIGENCE, category=None)
    key_worker = _actor(Role.KEY_WORKER, people_by_name)
    manager = _actor(Role.PPO_MANAGER, people_by_name)

    def ids(actor, **kw) -> set[int]:
        return set(
            OffendingEvent.objects.filter(offending_events_q(actor, **kw)).values_list(
                "pk", flat=True
            )
        )

    # A key worker reads offending, and only counts intelligence (ACCESS.md).
    assert ids(key_worker) == {arrest.pk}
    assert ids(key_worker, count_only=True) == {arrest.pk, intel.pk}
    assert ids(manager) == {arrest.pk, intel.pk}
