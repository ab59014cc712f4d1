"""Rows.ATTENDED (ACCESS.md "conference minutes and agendas"), written once in the policy
and used two ways: the list of conferences (a queryset filter) and the check on one
conference (`conference_for_reader`) agree for every role; and the expected conferences per
role are written out here by hand from conftest.py's world."""

from __future__ import annotations

import pytest

from access.errors import OutOfScope, Refused
from access.policy import actor_for
from conferences import selectors

pytestmark = pytest.mark.django_db

# past: 2 March (treatment, HMP North invited); next: 15 June (treatment invited).
EXPECTED = {
    "manager": {"past", "next"},
    "key_worker": {"past", "next"},
    "police_officer": {"past", "next"},
    "prison_north": {"past"},
    "prison_south": set(),
    "partner": {"past", "next"},
    "housing_worker": set(),
}


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_list_and_single_check_agree(world, who):
    actor = actor_for(getattr(world, who))
    planned, closed = selectors.conference_list(user=actor)
    listed = {r.conference.pk for r in planned + closed}
    names = {"past": world.past.pk, "next": world.next.pk}
    assert listed == {names[n] for n in EXPECTED[who]}
    for key, pk in names.items():
        try:
            selectors.conference_for_reader(actor, pk)
            found = True
        except OutOfScope:
            found = False
        assert found is (key in EXPECTED[who]), (who, key)


def test_partner_sees_only_its_people_on_a_conference(world):
    actor = actor_for(world.partner)
    people = selectors.visible_people(actor, world.next)
    assert [p.offender_id for p in people] == [world.alpha.pk]


def test_steering_group_reads_no_conference(world):
    with pytest.raises(Refused):
        selectors.conference_list(user=world.steering)
