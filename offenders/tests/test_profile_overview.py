"""The profile, overview first (issue 13.5), at a cost that does not depend on the length of
the record (issue 15): key worker, this week's compliance, last contact and the reader's
alerts at the top; contacts and drug tests before offending; offending grouped by
incident, the most recent few; tags that say what they are. Built with the factories only."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from access.models import AgencyKind, Role
from offenders.models import (
    Contact,
    ContactOutcome,
    DrugTest,
    EventKind,
    IomGrade,
    OffenceCategory,
    OffendingEvent,
)
from offenders.premium_models import Alert, AlertKind
from tests.factories import (
    AgencyFactory,
    ContactFactory,
    OffenceCategoryFactory,
    OffenderFactory,
    OffendingEventFactory,
    ProgrammeEpisodeFactory,
    ReferralFactory,
    sign_in,
    staff,
)

LONDON = ZoneInfo("Europe/London")


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LONDON)


@pytest.fixture(autouse=True)
def on_18_june(time_machine):
    # Wednesday 18 June 2025; the week runs from Monday 16 June.
    time_machine.move_to(local(2025, 6, 18, 12, 0), tick=False)


@pytest.fixture
def kw(db):
    return staff(Role.KEY_WORKER, username="kw", first_name="Kim", last_name="Walker")


@pytest.fixture
def ppo(kw):
    person = OffenderFactory(
        first_name="Qxprofile", last_name="Person", key_worker=kw, iom_grade=IomGrade.GREEN
    )
    ProgrammeEpisodeFactory(offender=person)
    return person


def profile_of(client, user, person):
    response = sign_in(client, user).get(reverse("offenders:detail", args=[person.pk]))
    assert response.status_code == 200
    return response


def history(person, events: int, police, shoplifting) -> None:
    """`events` offending events (a third of them intelligence), and as many contacts and
    drug tests, in bulk: one row a day going back from yesterday."""
    probation = AgencyFactory(name="Probation agency", kind=AgencyKind.PROBATION)
    worker = person.key_worker
    yesterday = dt.date(2025, 6, 17)
    OffendingEvent.objects.bulk_create(
        OffendingEvent(
            offender=person,
            kind=EventKind.INTELLIGENCE if n % 3 == 0 else EventKind.ARREST,
            category=shoplifting,
            occurred_on=yesterday - dt.timedelta(days=n),
            recorded_on=yesterday - dt.timedelta(days=n),
            source_agency=police,
            source_reference=f"H{person.pk}-{n}",
        )
        for n in range(events)
    )
    Contact.objects.bulk_create(
        Contact(
            offender=person,
            worker=worker,
            agency=probation,
            occurred_at=local(2025, 6, 17, 9) - dt.timedelta(days=n),
        )
        for n in range(events)
    )
    DrugTest.objects.bulk_create(
        DrugTest(
            offender=person, agency=probation, tested_at=local(2025, 6, 17, 10) - dt.timedelta(n)
        )
        for n in range(events)
    )


def test_a_profile_costs_the_same_for_5000_events_as_for_50(client, kw):
    police = AgencyFactory(name="Police agency", kind=AgencyKind.POLICE)
    shoplifting = OffenceCategoryFactory()
    short, long = (OffenderFactory(key_worker=kw) for _ in range(2))
    for person in (short, long):
        ProgrammeEpisodeFactory(offender=person)
    history(short, 50, police, shoplifting)
    history(long, 5000, police, shoplifting)
    sign_in(client, kw)
    # The first view of the service creates the scheme's settings row; count after it.
    client.get(reverse("offenders:detail", args=[short.pk]))

    def cost(person) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("offenders:detail", args=[person.pk]))
        assert response.status_code == 200
        return len(ctx.captured_queries), len(response.context["profile"].incidents)

    assert cost(long) == cost(short)
    profile = client.get(reverse("offenders:detail", args=[long.pk])).context["profile"]
    assert len(profile.contacts) == len(profile.drug_tests) == len(profile.incidents) == 10
    assert profile.more_contacts and profile.more_drug_tests and profile.more_incidents
    # Each query that reads the long record's rows is bounded: a LIMIT, an aggregate, or
    # the stages of the incidents already chosen (one clause per incident).
    with CaptureQueriesContext(connection) as ctx:
        client.get(reverse("offenders:detail", args=[long.pk]))
    reads = [
        q["sql"]
        for q in ctx.captured_queries
        if re.search(r'FROM "offenders_(offendingevent|contact|drugtest)"', q["sql"])
    ]
    assert reads
    for sql in reads:
        bounded = " LIMIT " in sql or "COUNT(" in sql or sql.count('"occurred_on" = ') >= 1
        assert bounded, sql


def test_offending_is_grouped_by_incident_newest_first(client, kw, ppo):
    burglary = OffenceCategory.objects.create(name="Burglary (dwelling)", harm_weight=5)
    OffenceCategoryFactory()

    def event(kind, occurred, recorded, category="Shoplifting"):
        return OffendingEventFactory(
            offender=ppo,
            kind=kind,
            occurred_on=occurred,
            recorded_on=recorded,
            category=OffenceCategory.objects.get(name=category),
        )

    # One burglary on 1 May: arrested that day, charged on the 3rd, convicted 20 June.
    event(EventKind.CONVICTION, dt.date(2025, 5, 1), dt.date(2025, 6, 10), burglary.name)
    event(EventKind.ARREST, dt.date(2025, 5, 1), dt.date(2025, 5, 1), burglary.name)
    event(EventKind.CHARGE, dt.date(2025, 5, 1), dt.date(2025, 5, 3), burglary.name)
    # A shoplifting the same day is another incident; so is each intelligence report.
    event(EventKind.ARREST, dt.date(2025, 5, 1), dt.date(2025, 5, 1))
    event(EventKind.INTELLIGENCE, dt.date(2025, 5, 20), dt.date(2025, 5, 21))
    event(EventKind.INTELLIGENCE, dt.date(2025, 5, 20), dt.date(2025, 5, 22))
    profile = profile_of(client, staff(Role.PPO_MANAGER), ppo).context["profile"]
    shown = [(i.occurred_on, i.title, [s.kind for s in i.stages]) for i in profile.incidents]
    assert sorted(shown[2:]) == [
        (dt.date(2025, 5, 1), "Burglary (dwelling)", ["arrest", "charge", "conviction"]),
        (dt.date(2025, 5, 1), "Shoplifting", ["arrest"]),
    ]
    assert shown[:2] == [
        (dt.date(2025, 5, 20), "Intelligence report", ["intelligence"]),
        (dt.date(2025, 5, 20), "Intelligence report", ["intelligence"]),
    ]
    assert not profile.more_incidents


def test_the_most_recent_ten_incidents_then_the_timeline(client, kw, ppo):
    OffenceCategoryFactory()
    for n in range(12):
        OffendingEventFactory(offender=ppo, occurred_on=dt.date(2025, 1, 1) + dt.timedelta(n))
    response = profile_of(client, staff(Role.PPO_MANAGER), ppo)
    profile = response.context["profile"]
    assert [i.occurred_on.day for i in profile.incidents] == list(range(12, 2, -1))
    assert profile.more_incidents
    page = response.content.decode()
    assert "The 10 most recent incidents" in page
    timeline = reverse("offenders:timeline", args=[ppo.pk])
    assert f'href="{timeline}?kind=offending&amp;kind=intelligence"' in page


def test_the_overview_comes_first_with_this_weeks_facts(client, kw, ppo):
    ContactFactory(offender=ppo, worker=kw, occurred_at=local(2025, 6, 16, 9))
    # Failed to attend, later: not the last *attended* contact.
    ContactFactory(
        offender=ppo, worker=kw, occurred_at=local(2025, 6, 17, 9), outcome=ContactOutcome.FAILED
    )
    Alert.objects.create(
        offender=ppo, recipient=kw, kind=AlertKind.RELEASE_DATE, message="Qx release date set"
    )
    someone_else = staff(Role.POLICE_OFFICER, username="police")
    Alert.objects.create(
        offender=ppo, recipient=someone_else, kind=AlertKind.RELEASE_DATE, message="Qx not yours"
    )
    response = profile_of(client, kw, ppo)
    overview = response.context["profile"].overview
    assert overview.key_worker == "Kim Walker"
    assert overview.this_week.contacts.shown == "1 of 4"
    assert overview.this_week.failed == 1
    assert overview.last_contact.occurred_at == local(2025, 6, 16, 9)
    assert [a.message for a in overview.alerts] == ["Qx release date set"]
    page = response.content.decode()
    assert "Qx not yours" not in page
    at = {
        name: page.index(marker)
        for name, marker in (
            ("overview", 'data-testid="profile-overview"'),
            ("contacts", ">Contacts</h2>"),
            ("tests", ">Drug tests</h2>"),
            ("offending", ">Offending</h2>"),
            ("details", ">Personal details</h2>"),
        )
    }
    assert at["overview"] < at["contacts"] < at["tests"] < at["offending"] < at["details"]


def test_tags_say_what_they_are(client, kw, ppo):
    page = profile_of(client, kw, ppo).content.decode()
    tags = re.findall(r'<strong class="govuk-tag[^"]*">([^<]+)</strong>', page)
    assert "IOM grade: Green" in tags
    assert "Tier: PPO" in tags
    assert "Status: Community" in tags
    assert "Green" not in tags and "PPO" not in tags


def test_a_partner_sees_no_key_worker_compliance_or_tier(client, kw, ppo):
    treatment = AgencyFactory(name="Treatment / CJIT agency", kind=AgencyKind.TREATMENT)
    ReferralFactory(offender=ppo, agency=treatment)
    partner = staff(Role.PARTNER_WORKER, agency=treatment)
    response = profile_of(client, partner, ppo)
    overview = response.context["profile"].overview
    assert overview.key_worker is None and overview.this_week is None
    page = response.content.decode()
    assert "Kim Walker" not in page
    assert "Tier:" not in page and "IOM grade" not in page
    assert 'data-testid="overview-key-worker"' not in page
