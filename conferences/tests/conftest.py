"""The conference tests' world, built with the factories only (never the code under test).

Today is Friday 12 June 2026. Agencies: a probation service (the manager's and the key
worker's), two prisons (North and South), a treatment agency and a housing agency.

People (invented names):

* Qxconfalpha Ashdown — a PPO since 1 January 2025, remanded at HMP North since 1 May
  2026, referred to the treatment agency. Events since the last conference: an arrest
  (10 April 2026) and an intelligence report (20 April 2026).
* Qxconfbeta Brennan — a PPO since 1 January 2025, in the community, referred to nobody.
  An arrest on 5 May 2026.

Conferences:

* "past": 2 March 2026, closed, reviewing both; treatment and HMP North invited.
* "next": 15 June 2026, planned, reviewing both; treatment only invited (not HMP North).
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from access.models import AgencyKind, Role
from conferences.models import Attendance, CaseConference, ConferencePerson, ConferenceStatus
from offenders.models import CustodyKind, EventKind
from tests.factories import (
    AgencyFactory,
    CustodyEpisodeFactory,
    OffenceCategoryFactory,
    OffenderFactory,
    OffendingEventFactory,
    ProgrammeEpisodeFactory,
    ReferralFactory,
    staff,
)

TODAY = dt.date(2026, 6, 12)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(dt.datetime(2026, 6, 12, 11, 0, tzinfo=dt.UTC), tick=False):
        yield


class World:
    pass


@pytest.fixture
def world(db):
    w = World()
    OffenceCategoryFactory()
    w.probation = AgencyFactory(name="Probation agency", kind=AgencyKind.PROBATION)
    w.police = AgencyFactory(name="Police agency", kind=AgencyKind.POLICE)
    w.north = AgencyFactory(name="HMP North", kind=AgencyKind.PRISON)
    w.south = AgencyFactory(name="HMP South", kind=AgencyKind.PRISON)
    w.treatment = AgencyFactory(name="Treatment agency", kind=AgencyKind.TREATMENT)
    w.housing = AgencyFactory(name="Housing agency", kind=AgencyKind.HOUSING)
    w.manager = staff(Role.PPO_MANAGER, w.probation, first_name="Mona", last_name="Chair")
    w.key_worker = staff(Role.KEY_WORKER, w.probation)
    w.police_officer = staff(Role.POLICE_OFFICER, w.police)
    w.prison_north = staff(Role.PRISON_WORKER, w.north)
    w.prison_south = staff(Role.PRISON_WORKER, w.south)
    w.partner = staff(Role.PARTNER_WORKER, w.treatment)
    w.housing_worker = staff(Role.PARTNER_WORKER, w.housing)
    w.steering = staff(Role.STEERING_GROUP, w.probation)

    w.alpha = OffenderFactory(first_name="Qxconfalpha", last_name="Ashdown")
    w.beta = OffenderFactory(first_name="Qxconfbeta", last_name="Brennan")
    for person in (w.alpha, w.beta):
        ProgrammeEpisodeFactory(offender=person, selected_on=dt.date(2025, 1, 1))
    CustodyEpisodeFactory(
        offender=w.alpha,
        kind=CustodyKind.REMAND,
        establishment=w.north,
        started_on=dt.date(2026, 5, 1),
        sentence_length_months=None,
    )
    ReferralFactory(offender=w.alpha, agency=w.treatment, opened_on=dt.date(2026, 1, 1))
    OffendingEventFactory(
        offender=w.alpha,
        kind=EventKind.ARREST,
        occurred_on=dt.date(2026, 4, 10),
        source_agency=w.police,
    )
    OffendingEventFactory(
        offender=w.alpha,
        kind=EventKind.INTELLIGENCE,
        category=None,
        occurred_on=dt.date(2026, 4, 20),
        source_agency=w.police,
        summary="Qxsecret intelligence summary",
    )
    OffendingEventFactory(
        offender=w.beta,
        kind=EventKind.ARREST,
        occurred_on=dt.date(2026, 5, 5),
        source_agency=w.police,
    )
    w.past = conference(
        w, dt.date(2026, 3, 2), [w.alpha, w.beta], [w.treatment, w.north], closed=True
    )
    w.next = conference(w, dt.date(2026, 6, 15), [w.alpha, w.beta], [w.treatment])
    return w


def conference(w, held_on, people, agencies, *, closed=False):
    made = CaseConference.objects.create(
        held_on=held_on,
        chair=w.manager,
        created_by=w.manager,
        location="Room 4",
        status=ConferenceStatus.CLOSED if closed else ConferenceStatus.PLANNED,
        closed_at=timezone.now() if closed else None,
        closed_by=w.manager if closed else None,
    )
    for n, person in enumerate(people, start=1):
        ConferencePerson.objects.create(
            conference=made,
            offender=person,
            order=n,
            frozen_plan={"as_of": held_on.isoformat(), "needs": [], "actions": []}
            if closed
            else None,
        )
    for agency in agencies:
        Attendance.objects.create(conference=made, agency=agency)
    return made
