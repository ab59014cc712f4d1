"""The policy's counting scope (ACCESS.md "Aggregates and small numbers"): everyone for
the roles that see scheme-wide figures, nobody for the rest — as a queryset of people and
as a condition on records, which must agree."""

from __future__ import annotations

import pytest

from access.models import Role
from access.policy import actor_for, counted_records, people_for_counting
from offenders.models import OffendingEvent
from tests.factories import OffenderFactory, OffendingEventFactory, staff

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("role", "counts"),
    [
        (Role.PPO_MANAGER, True),
        (Role.STEERING_GROUP, True),
        (Role.KEY_WORKER, False),
        (Role.POLICE_OFFICER, False),
        (Role.PARTNER_WORKER, False),
        (Role.ADMINISTRATOR, False),
    ],
)
def test_records_counted_are_those_of_the_people_counted(role, counts):
    people = [OffenderFactory() for _ in range(3)]
    for person in people:
        OffendingEventFactory(offender=person)
    actor = actor_for(staff(role))
    by_record = OffendingEvent.objects.filter(counted_records(actor)).count()
    by_person = OffendingEvent.objects.filter(offender__in=people_for_counting(actor)).count()
    assert by_record == by_person == (3 if counts else 0)
