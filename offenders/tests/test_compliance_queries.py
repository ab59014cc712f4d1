"""The compliance page's work (issue 15): a number of queries that does not grow with the
people or the weeks, the person-weeks read once for the page and its standards, and the
figures read from that one table the same as each worked out on its own."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from access.models import Role
from access.policy import actor_for
from offenders.compliance import (
    compliance_summary,
    contacts_standard,
    drug_tests_standard,
    standard_periods,
    standards_summary,
    weekly_compliance,
)
from offenders.models import ContactOutcome, CustodyKind, ProgrammeKind, Supervision
from tests.factories import (
    ContactFactory,
    CustodyEpisodeFactory,
    DrugTestFactory,
    OffenderFactory,
    ProgrammeEpisodeFactory,
    sign_in,
    staff,
)

LONDON = ZoneInfo("Europe/London")
WEDNESDAY = dt.date(2025, 6, 18)


def local(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=LONDON)


@pytest.fixture
def kw(db):
    return staff(Role.KEY_WORKER, username="kw")


def person(kw, n: int, *, selected_on: dt.date, deselected_on: dt.date | None = None):
    """Someone on a tier with contacts and tests in most weeks of the last half-year."""
    who = OffenderFactory(
        key_worker=kw,
        last_name=f"Person{n:03d}",
        supervision=Supervision.LICENCE if n % 2 else Supervision.NONE,
    )
    ProgrammeEpisodeFactory(
        offender=who,
        kind=ProgrammeKind.IOM if n % 4 == 3 else ProgrammeKind.PPO,
        selected_on=selected_on,
        deselected_on=deselected_on,
    )
    for back in range(0, 26, 1 + n % 3):
        day = WEDNESDAY - dt.timedelta(weeks=back, days=n % 3)
        outcome = (ContactOutcome.ATTENDED, ContactOutcome.FAILED)[back % 4 == 3]
        for hour in range(9, 9 + 1 + (n + back) % 4):
            ContactFactory(offender=who, worker=kw, occurred_at=local(day, hour), outcome=outcome)
        DrugTestFactory(offender=who, tested_at=local(day, 15))
    return who


def scheme(kw, start: int, count: int) -> list:
    made = []
    for n in range(start, start + count):
        # Some joined this quarter, some left last quarter, some on the scheme throughout.
        selected_on = (dt.date(2024, 1, 1), dt.date(2025, 4, 14), dt.date(2025, 5, 5))[n % 3]
        deselected_on = dt.date(2025, 5, 26) if n % 5 == 4 else None
        made.append(person(kw, n, selected_on=selected_on, deselected_on=deselected_on))
    return made


def page_queries(client) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("offenders:compliance")).status_code == 200
    return [query["sql"] for query in ctx.captured_queries]


def test_the_page_queries_do_not_grow_with_the_people(client, kw, time_machine):
    time_machine.move_to(local(WEDNESDAY, 12), tick=False)
    scheme(kw, 0, 3)
    sign_in(client, kw)
    client.get(reverse("offenders:compliance"))  # creates the scheme settings row once
    few = page_queries(client)
    scheme(kw, 3, 27)
    many = page_queries(client)
    assert len(many) == len(few)


def test_the_page_queries_do_not_grow_with_the_weeks(client, kw, time_machine):
    # Early in a quarter the standards reach back 14 weeks; late in one, 26.
    scheme(kw, 0, 6)
    counts = []
    for day in (dt.date(2025, 7, 2), dt.date(2025, 9, 24)):
        time_machine.move_to(local(day, 12), tick=False)
        sign_in(client, kw)
        client.get(reverse("offenders:compliance"))
        counts.append(len(page_queries(client)))
    assert counts[0] == counts[1]


def test_the_page_reads_the_contacts_and_tests_once(client, kw, time_machine):
    time_machine.move_to(local(WEDNESDAY, 12), tick=False)
    scheme(kw, 0, 4)
    sign_in(client, kw)
    client.get(reverse("offenders:compliance"))
    queries = page_queries(client)
    # The page's 13 weeks and the standards' week and two quarters, from one read each.
    assert sum('FROM "offenders_contact"' in sql for sql in queries) == 1
    assert sum('FROM "offenders_drugtest"' in sql for sql in queries) == 1


def test_figures_from_the_shared_table_equal_each_worked_out_alone(kw, time_machine):
    time_machine.move_to(local(WEDNESDAY, 12), tick=False)
    people = scheme(kw, 0, 15)
    # In custody all week by two spells that meet (remand ends the day the sentence starts).
    CustodyEpisodeFactory(
        offender=people[1],
        kind=CustodyKind.REMAND,
        started_on=dt.date(2025, 5, 30),
        released_on=dt.date(2025, 6, 4),
    )
    CustodyEpisodeFactory(
        offender=people[1],
        kind=CustodyKind.SENTENCE,
        started_on=dt.date(2025, 6, 4),
        released_on=dt.date(2025, 6, 12),
    )
    actor = actor_for(kw)
    table = standards_summary(user=actor, as_of=WEDNESDAY)
    for index, period in enumerate(standard_periods(WEDNESDAY)):
        alone = [
            contacts_standard(actor, period.first_day, period.last_day),
            drug_tests_standard(actor, period.first_day, period.last_day),
        ]
        shared = {row.key: row.cells[index] for row in table.rows}
        assert [shared["contacts"], shared["drug_tests"]] == alone
        assert alone[0].total > 0 and alone[1].total > 0

    summary = compliance_summary(user=actor, as_of=WEDNESDAY)
    alone = weekly_compliance(
        user=actor,
        as_of=WEDNESDAY,
        offender_ids=[p.pk for p in people],
        complete_weeks=13,
        include_current=True,
    )
    assessed = [p.pk for p in people if any(w.tier for w in alone.by_person.get(p.pk, {}).values())]
    assert summary.people_counted == len(assessed)
    for period in summary.by_week:
        week = period.weeks[0]
        weeks = [alone.get(pk, week) for pk in assessed]
        contacts = [w.contacts for w in weeks if w is not None and w.contacts.applies]
        assert period.contacts.assessed == len(contacts)
        assert period.contacts.met == sum(m.met for m in contacts)
    this_week = {pk for pk in assessed if alone.get(pk, alone.weeks[-1]).below_target}
    assert {b.offender.pk for b in summary.below_target} == this_week
    custody_week = alone.get(people[1].pk, alone.weeks[-3])  # Monday 2 June
    assert custody_week.contacts.not_applicable_because == "In custody all week"
