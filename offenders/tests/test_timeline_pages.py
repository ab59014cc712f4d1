"""The timeline at any length of history (issue 15): each page reads a bounded number of
rows per kind, newest first; a chosen period is a range of local midnights; and the date
shown on each item is worked out once, in UK time, exactly as the page has always shown it."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from access.models import Role
from offenders.models import Supervision
from tests.factories import (
    ContactFactory,
    DrugTestFactory,
    OffenderFactory,
    OffendingEventFactory,
    ProgrammeEpisodeFactory,
    sign_in,
    staff,
)

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def kw(db):
    return staff(Role.KEY_WORKER, username="kw", first_name="Kim", last_name="Walker")


@pytest.fixture
def ppo(kw):
    person = OffenderFactory(key_worker=kw, supervision=Supervision.LICENCE)
    ProgrammeEpisodeFactory(offender=person, selected_on=dt.date(2020, 1, 1))
    return person


def timeline(client, person, **params):
    return client.get(reverse("offenders:timeline", args=[person.pk]), params)


def test_each_page_reads_at_most_its_rows_of_each_kind(client, kw, ppo):
    for n in range(60):
        OffendingEventFactory(offender=ppo, occurred_on=dt.date(2024, 1, 1) + dt.timedelta(n))
    sign_in(client, kw)
    for page, limit in ((1, 51), (2, 101), (9, 201)):
        with CaptureQueriesContext(connection) as ctx:
            assert timeline(client, ppo, page=page).status_code == 200
        events = [
            q["sql"]
            for q in ctx.captured_queries
            if q["sql"].startswith('SELECT "offenders_offendingevent"."kind"')
        ]
        assert len(events) == 1
        # Newest first by day then record, as the person's index on (day, id) is ordered
        # (the day by its place in the SELECT or by name).
        assert re.search(
            r'ORDER BY (?:\d+|"offenders_offendingevent"."occurred_on") DESC, '
            r'"offenders_offendingevent"."id" DESC LIMIT ' + str(limit) + r"\b",
            events[0],
        ), events[0]


def test_a_long_history_costs_the_same_queries_as_a_short_one(client, kw, ppo):
    short = OffenderFactory(key_worker=kw)
    ProgrammeEpisodeFactory(offender=short, selected_on=dt.date(2020, 1, 1))
    for person, count in ((short, 2), (ppo, 120)):
        for n in range(count):
            day = dt.date(2025, 1, 1) + dt.timedelta(n)
            OffendingEventFactory(offender=person, occurred_on=day)
            ContactFactory(
                offender=person, occurred_at=dt.datetime.combine(day, dt.time(9), LONDON)
            )
            DrugTestFactory(
                offender=person, tested_at=dt.datetime.combine(day, dt.time(11), LONDON)
            )
    sign_in(client, kw)
    counts = []
    for person in (short, ppo, short):
        with CaptureQueriesContext(connection) as ctx:
            assert timeline(client, person).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1] == counts[2]


def test_a_period_is_of_local_days(client, kw, ppo):
    # 23:30 UTC on 30 June is 00:30 on 1 July in London: a contact of 1 July.
    ContactFactory(offender=ppo, occurred_at=dt.datetime(2025, 6, 30, 23, 30, tzinfo=dt.UTC))
    DrugTestFactory(offender=ppo, tested_at=dt.datetime(2025, 6, 30, 22, 59, tzinfo=dt.UTC))
    sign_in(client, kw)

    def kinds(**period):
        items = timeline(client, ppo, kind=["contact", "drug_test"], **period).context["timeline"]
        return [i.kind for i in items.items]

    assert kinds(date_from="2025-07-01", date_to="2025-07-01") == ["contact"]
    assert kinds(date_from="2025-06-30", date_to="2025-06-30") == ["drug_test"]
    assert kinds(date_to="2025-06-30") == ["drug_test"]
    assert kinds(date_from="2025-07-01") == ["contact"]
    assert kinds(date_from="2025-06-30", date_to="2025-07-01") == ["contact", "drug_test"]


@pytest.mark.parametrize(
    ("moment", "machine", "shown"),
    [
        # Summer time: 13:05 UTC is 2:05pm in London.
        (
            dt.datetime(2025, 6, 3, 13, 5, tzinfo=dt.UTC),
            "2025-06-03T14:05:00+01:00",
            "3 June 2025 at 2:05pm",
        ),
        (
            dt.datetime(2025, 1, 9, 0, 7, tzinfo=dt.UTC),
            "2025-01-09T00:07:00+00:00",
            "9 January 2025 at 12:07am",
        ),
        (
            dt.datetime(2025, 1, 9, 12, 0, tzinfo=dt.UTC),
            "2025-01-09T12:00:00+00:00",
            "9 January 2025 at 12:00pm",
        ),
        (
            dt.datetime(2025, 10, 26, 0, 30, tzinfo=dt.UTC),
            "2025-10-26T01:30:00+01:00",
            "26 October 2025 at 1:30am",
        ),
    ],
)
def test_a_timed_item_shows_its_london_date_and_time(client, kw, ppo, moment, machine, shown):
    ContactFactory(offender=ppo, occurred_at=moment)
    page = sign_in(client, kw).get(reverse("offenders:timeline", args=[ppo.pk])).content.decode()
    assert f'<time datetime="{machine}">{shown}</time>' in page


def test_a_dated_item_shows_its_day_only(client, kw, ppo):
    OffendingEventFactory(offender=ppo, occurred_on=dt.date(2025, 3, 1))
    page = sign_in(client, kw).get(reverse("offenders:timeline", args=[ppo.pk])).content.decode()
    assert '<time datetime="2025-03-01">1 March 2025</time>' in page
