"""The reports pages and their CSVs: every page answers the steering group with figures and
names no one (checked against a list written here, not taken from the code under test);
bad and future dates are shown in the error summary; the CSV carries the same figures with
a dated filename and is audited as a disclosure; queries do not grow with the data."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from access.models import AuditAction, AuditEvent, Role
from offenders.models import EventKind
from reporting.tests.measure_data import confirmed_cohort, events, ppo
from tests.factories import sign_in, staff

AS_OF = dt.date(2025, 9, 30)
AS_OF_QUERY = {"as_of-day": "30", "as_of-month": "9", "as_of-year": "2025"}
PAGES = [
    "reporting:index",
    "reporting:ni30",
    "reporting:local-measure",
    "reporting:reoffending",
    "reporting:profile",
    "reporting:equality",
    "reporting:offending-mix",
    "reporting:outcomes",
]

# Written out by hand: who is in the test data, and what would identify them.
PEOPLE = [
    ("Quillabeth", "Marrowdyne", "1988-02-14", "2005/0012345Q"),
    ("Thornwald", "Gessaply", "1979-11-03", "2006/0023456R"),
    ("Ysolde", "Penhallick", "1995-06-27", "2007/0034567S"),
]


def _build(extra: int = 0) -> list:
    people = []
    for first, last, born, pnc in PEOPLE:
        people.append(
            ppo(
                dt.date(2024, 1, 15),
                first_name=first,
                last_name=last,
                date_of_birth=dt.date.fromisoformat(born),
                pnc_id=pnc,
            )
        )
    for _ in range(extra):
        people.append(ppo(dt.date(2024, 2, 1)))
    # One de-selected in the cohort year: still a cohort member.
    people.append(ppo(dt.date(2023, 5, 1), dt.date(2025, 7, 29)))
    for person in people:
        events(person, EventKind.CHARGE, [dt.date(2024, 10, 1), dt.date(2025, 9, 20)])
        events(person, EventKind.CONVICTION, [dt.date(2023, 11, 1), dt.date(2025, 5, 1)])
    confirmed_cohort(2024, people)
    confirmed_cohort(2025, people)
    return people


@pytest.fixture
def scheme(db, settings, monkeypatch):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: AS_OF)
    return _build()


@pytest.fixture
def steering(client, scheme):
    sign_in(client, staff(Role.STEERING_GROUP))
    return client


def _no_one_named(text: str) -> None:
    for first, last, born, pnc in PEOPLE:
        born_day = dt.date.fromisoformat(born)
        for needle in (
            first,
            last,
            pnc,
            born,
            born_day.strftime("%d/%m/%Y"),
            f"{born_day.day} {born_day:%B %Y}",
        ):
            assert needle not in text, needle


@pytest.mark.parametrize("page", PAGES)
def test_each_page_and_its_csv_names_no_one(steering, page):
    response = steering.get(reverse(page), AS_OF_QUERY)
    assert response.status_code == 200
    text = response.content.decode()
    assert "There is a problem" not in text
    assert 'data-testid="as-at">30 September 2025<' in text
    _no_one_named(text)
    download = steering.get(reverse(page), {**AS_OF_QUERY, "format": "csv"})
    assert download.status_code == 200
    assert download["Content-Type"].startswith("text/csv")
    assert "as-at-2025-09-30.csv" in download["Content-Disposition"]
    body = download.content.decode()
    assert body.startswith(text.split("<title>")[0][:0])  # bytes decode cleanly
    assert "2025-09-30" in body
    _no_one_named(body)


def test_the_csv_is_audited_as_a_disclosure_to_the_readers_agency(steering):
    assert not AuditEvent.objects.filter(action=AuditAction.DISCLOSE).exists()
    steering.get(reverse("reporting:ni30"), {**AS_OF_QUERY, "format": "csv"})
    event = AuditEvent.objects.get(action=AuditAction.DISCLOSE)
    assert event.detail["report"] == "ni30"
    assert event.detail["format"] == "csv"
    assert event.detail["as_of"] == "2025-09-30"
    # The page itself is not a disclosure.
    steering.get(reverse("reporting:ni30"), AS_OF_QUERY)
    assert AuditEvent.objects.filter(action=AuditAction.DISCLOSE).count() == 1


def test_ni30_figures_on_the_page_and_in_the_csv_agree(steering):
    # 4 members, each one conviction in the baseline (Oct 2023–Sep 2024) and one in the
    # 2024-25 year (May 2025 is in 2025-26, so not in 2024-25). Cohort 2025: May 2025.
    page = steering.get(reverse("reporting:ni30"), {**AS_OF_QUERY, "year": "2025"})
    text = page.content.decode()
    assert 'data-testid="members">4 (3 on the scheme, 1 de-selected' in text
    assert 'data-testid="in-year">4<' in text
    body = steering.get(
        reverse("reporting:ni30"), {**AS_OF_QUERY, "year": "2025", "format": "csv"}
    ).content.decode()
    assert "Convictions in the cohort year,4" in body
    assert "Members de-selected (still tracked),1" in body
    # The charts and their tables are on the page.
    assert 'aria-labelledby="ni30-by-year-title ni30-by-year-desc"' in text
    assert 'data-testid="cohort-charges-per-week-table"' in text


def test_the_weekly_chart_counts_ppos_on_the_scheme_each_week(steering):
    text = steering.get(reverse("reporting:index"), AS_OF_QUERY).content.decode()
    assert 'aria-labelledby="ppos-per-week-title ppos-per-week-desc"' in text
    # The index leads to the annual report too.
    assert f'href="{reverse("reporting:annual-reports")}"' in text
    body = steering.get(
        reverse("reporting:index"), {**AS_OF_QUERY, "format": "csv"}
    ).content.decode()
    # 13 weeks to 30 September 2025, the first ending on 8 July; the de-selected person
    # left on 29 July 2025, so is off the scheme at the end of that day (ProgrammeEpisode
    # open_on: de-selected after the day).
    assert "Week ending,PPOs\r\n8 Jul,4\r\n" in body
    assert "22 Jul,4" in body
    assert "29 Jul,3" in body
    assert "30 Sep,3" in body


def test_a_bad_date_and_a_future_date_are_in_the_error_summary(steering):
    bad = steering.get(
        reverse("reporting:ni30"), {"as_of-day": "31", "as_of-month": "2", "as_of-year": "2025"}
    )
    assert bad.status_code == 200
    text = bad.content.decode()
    assert "There is a problem" in text and "As at must be a real date" in text
    assert '<a href="#as_of-day">' in text
    assert text.count("govuk-input--error") == 3
    assert 'value="31"' in text  # shown again as typed
    future = steering.get(
        reverse("reporting:profile"),
        {"as_of-day": "1", "as_of-month": "10", "as_of-year": "2025"},
    )
    assert "is in the future" in future.content.decode()
    part = steering.get(reverse("reporting:reoffending"), {"as_of-day": "1", "as_of-year": "2025"})
    assert "must include a month" in part.content.decode()
    # No CSV for a page in error.
    refused = steering.get(
        reverse("reporting:ni30"),
        {"as_of-day": "31", "as_of-month": "2", "as_of-year": "2025", "format": "csv"},
    )
    assert refused["Content-Type"].startswith("text/html")


def test_a_year_without_a_cohort_is_a_message_not_a_500(steering):
    response = steering.get(reverse("reporting:ni30"), {**AS_OF_QUERY, "year": "2019"})
    assert response.status_code == 200
    text = response.content.decode()
    assert "There is no NI30 cohort for 2019/20" in text
    assert "There is a problem" in text
    bad_year = steering.get(reverse("reporting:reoffending"), {**AS_OF_QUERY, "year": "20x5"})
    assert "must be a year" in bad_year.content.decode()


def test_the_local_measure_by_cohort_or_by_period(steering):
    cohort = steering.get(reverse("reporting:local-measure"), {**AS_OF_QUERY, "year": "2024"})
    assert cohort.status_code == 200
    assert "The 2024/25 NI30 cohort" in cohort.content.decode()
    period = steering.get(
        reverse("reporting:local-measure"),
        {
            **AS_OF_QUERY,
            "group": "period",
            "from-day": "1",
            "from-month": "1",
            "from-year": "2024",
            "to-day": "31",
            "to-month": "3",
            "to-year": "2024",
        },
    )
    text = period.content.decode()
    assert "People selected as PPOs from 1 January 2024 to 31 March 2024" in text
    missing = steering.get(reverse("reporting:local-measure"), {**AS_OF_QUERY, "group": "period"})
    assert "Enter the first and the last day of selection" in missing.content.decode()


@pytest.mark.parametrize("role", [Role.KEY_WORKER, Role.POLICE_OFFICER])
def test_roles_without_aggregates_get_403(client, scheme, role):
    sign_in(client, staff(role))
    for page in PAGES:
        assert client.get(reverse(page)).status_code == 403, page
        assert client.get(reverse(page), {"format": "csv"}).status_code == 403, page


@pytest.mark.parametrize("page", PAGES)
def test_queries_do_not_grow_with_the_data(client, db, monkeypatch, page):
    from django.utils import timezone

    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: AS_OF)
    _build()
    sign_in(client, staff(Role.STEERING_GROUP))
    url = reverse(page)
    client.get(url, AS_OF_QUERY)  # warm caches (sessions, content types)
    with CaptureQueriesContext(connection) as small:
        assert client.get(url, AS_OF_QUERY).status_code == 200
    for _ in range(6):
        person = ppo(dt.date(2024, 3, 1))
        events(person, EventKind.CHARGE, [dt.date(2025, 9, 1)])
    with CaptureQueriesContext(connection) as large:
        assert client.get(url, AS_OF_QUERY).status_code == 200
    assert len(large) == len(small), page


def test_a_share_written_as_text_is_shown_in_the_table(db):
    from django.template.loader import render_to_string

    from access.disclosure import Shown
    from reporting.profile import Line, Table

    table = Table(
        "Caption", "Sex", ("PPOs", "Share"), (Line("Male", (Shown(7), "70.0%")),), True, False
    )
    html = render_to_string("reporting/_table.html", {"table": table})
    assert ">7\n</td>" in html and ">70.0%</td>" in html
