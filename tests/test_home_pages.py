"""Each role's starting point, and the admin going through the same policy as the pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from access.models import AgencyKind, AuditAction, AuditEvent, Role
from offenders.models import ProgrammeKind
from tests.factories import (
    AgencyFactory,
    CustodyEpisodeFactory,
    OffenderFactory,
    ProgrammeEpisodeFactory,
    sign_in,
    staff,
)


@pytest.fixture
def scheme(db):
    kw = staff(Role.KEY_WORKER, username="kw")
    other_kw = staff(Role.KEY_WORKER, username="kw2")
    mine = OffenderFactory(first_name="Qxmine", key_worker=kw)
    theirs = OffenderFactory(first_name="Qxtheirs", key_worker=other_kw)
    in_custody = OffenderFactory(first_name="Qxinside", key_worker=kw)
    for person in (mine, theirs, in_custody):
        ProgrammeEpisodeFactory(offender=person, kind=ProgrammeKind.PPO)
    CustodyEpisodeFactory(offender=in_custody)
    OffenderFactory(first_name="Qxpool")
    return {"kw": kw}


def home(client, user):
    sign_in(client, user)
    return client.get(reverse("home"))


def test_anonymous_people_are_sent_to_sign_in(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_key_worker_starts_on_their_own_caseload(client, scheme):
    response = home(client, scheme["kw"])
    page = response.content.decode()
    assert "My caseload" in page
    assert "Qxmine" in page and "Qxinside" in page
    assert "Qxtheirs" not in page and "Qxpool" not in page
    event = AuditEvent.objects.get(action=AuditAction.LIST)
    assert len(event.offender_ids) == 2


def test_manager_sees_the_whole_scheme_and_its_figures(client, scheme):
    page = home(client, staff(Role.PPO_MANAGER)).content.decode()
    assert "Scheme overview" in page
    assert "Qxmine" in page and "Qxtheirs" in page and "Qxinside" in page
    assert "Qxpool" not in page  # the pool is searchable, not the caseload
    assert "PPOs on the scheme" in page


def test_steering_group_sees_figures_and_no_one_by_name(client, scheme):
    from access.tests.test_disclosure import grid_from_html, pinned_down

    response = home(client, staff(Role.STEERING_GROUP))
    page = response.content.decode()
    assert "Scheme figures" in page
    for name in ("Qxmine", "Qxtheirs", "Qxinside", "Qxpool"):
        assert name not in page
    # ACCESS.md: the scheme's headline counts are shown exactly, however small.
    figures = {f.label: f.value for f in response.context["headline"]}
    assert figures["PPOs on the scheme"] == 3
    assert figures["In the community"] == 2
    assert figures["In custody, sentenced"] == 1
    assert figures["Remanded in custody"] == 0
    assert "fewer than 5" not in page
    # All three are adults of unrecorded sex: any shown 0 would point at their cell, so
    # the breakdown shows only the published total.
    shown = grid_from_html(page, "age-sex-table")
    assert shown == [[None] * 4, [None] * 4, [None, None, None, 3]]
    assert pinned_down(shown) == set()
    assert "[c] not shown so that no one can be identified" in page
    assert client.get(reverse("offenders:list")).context["page"].paginator.count == 0


def test_steering_figures_show_exact_headline_and_protected_breakdown(client, scheme):
    import datetime as dt

    from django.utils import timezone

    from access.tests.test_disclosure import grid_from_html, pinned_down, small_shown
    from offenders.models import Sex, years_before

    today = timezone.localdate()
    people = [(Sex.MALE, 16)] * 2 + [(Sex.MALE, 30)] * 6 + [(Sex.FEMALE, 30)] * 5
    for sex, age in people:
        born = years_before(today, age) - dt.timedelta(days=40)
        ProgrammeEpisodeFactory(offender=OffenderFactory(sex=sex, date_of_birth=born))
    response = home(client, staff(Role.STEERING_GROUP))
    page = response.content.decode()
    figures = {f.label: f.value for f in response.context["headline"]}
    assert figures["PPOs on the scheme"] == 16
    assert figures["In the community"] == 15
    assert figures["In custody, sentenced"] == 1
    # Under 18: 2 boys. Adults: 6 men, 5 women, 3 of unrecorded sex (the fixture's).
    shown = grid_from_html(page, "age-sex-table")
    assert shown[0][0] is None and shown[0][3] is None
    assert shown[2][3] == 16
    assert small_shown(shown, fixed={(2, 3)}) == set()
    assert pinned_down(shown) == set(), shown
    assert '<th scope="row" class="govuk-table__header">Under 18</th>' in page
    assert "govuk-table__cell--numeric" in page


def test_prison_worker_starts_with_people_in_their_establishment(client, scheme):
    prison = AgencyFactory(name="Prison agency", kind=AgencyKind.PRISON)
    page = home(client, staff(Role.PRISON_WORKER, agency=prison)).content.decode()
    assert "Qxinside" in page
    assert "Qxmine" not in page


def test_user_without_membership_is_told_so(client, db):
    from tests.factories import UserFactory

    page = home(client, UserFactory()).content.decode()
    assert "You have no current role on the scheme" in page


# --- The PPO manager's "needs action" panels and headline (issue 13.2) -------------------------


def _at(day: int, hour: int = 9):
    import datetime as dt
    from zoneinfo import ZoneInfo

    return dt.datetime(2025, 6, day, hour, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture
def manager_day(db, time_machine):
    """Wednesday 18 June 2025; the week from Monday 16 June. Built without the caseload code:
    who is below target, who has had no contact for 14 days, who is PPO, IOM or DYO."""
    import datetime as dt

    from tests.factories import ContactFactory

    time_machine.move_to(_at(18, 12), tick=False)
    kw = staff(Role.KEY_WORKER, username="kw")

    def person(name, kind=ProgrammeKind.PPO, contacts=(), custody=False):
        p = OffenderFactory(last_name=name, key_worker=kw)
        ProgrammeEpisodeFactory(offender=p, kind=kind)
        for when in contacts:
            ContactFactory(offender=p, worker=kw, occurred_at=when)
        if custody:
            CustodyEpisodeFactory(offender=p, started_on=dt.date(2025, 1, 1))
        return p

    week = [_at(16, h) for h in (8, 9, 10, 11, 12, 13)]  # more than any weekly target
    person("Metppo", contacts=week)  # PPO, met: no panel
    person("Shortppo", contacts=[_at(17)])  # PPO, below target, contacted yesterday
    person("Staleppo", contacts=[_at(2)])  # PPO, below target, 16 days since contact
    person("Neverppo")  # PPO, below target, never contacted
    person("Insideppo", custody=True)  # PPO in custody: no contact target, no panel
    person("Metiom", kind=ProgrammeKind.IOM, contacts=week)  # IOM in the community
    person("Staleiom", kind=ProgrammeKind.IOM, contacts=[_at(1)])  # IOM, below, 17 days
    person("Metdyo", kind=ProgrammeKind.DYO, contacts=week)  # DYO in the community
    OffenderFactory(last_name="Pool")  # not on the scheme
    return {"kw": kw}


def _rows_behind(client, href: str) -> list[str]:
    response = client.get(reverse("home") + href)
    assert response.status_code == 200
    return [row.offender.last_name for row in response.context["caseload"].rows]


def test_each_needs_action_count_equals_the_rows_behind_its_link(client, manager_day):
    sign_in(client, staff(Role.PPO_MANAGER))
    response = client.get(reverse("home"))
    panels = {p.key: p for p in response.context["needs_action"]}
    assert list(panels) == ["below_target", "no_contact", "release_soon", "new_offending"]
    expected = {
        "below_target": {"Shortppo", "Staleppo", "Neverppo", "Staleiom"},
        "no_contact": {"Staleppo", "Neverppo", "Staleiom"},
        # Insideppo's release date is not known; nobody has any offending recorded.
        "release_soon": set(),
        "new_offending": set(),
    }
    page = response.content.decode()
    for key, panel in panels.items():
        behind = _rows_behind(client, panel.href)
        assert panel.count == len(behind) == len(expected[key]), key
        assert set(behind) == expected[key]
        assert f'href="{panel.href}" data-testid="panel-{key}"' in page.replace("&amp;", "&")


def test_headline_figures_link_to_exactly_the_people_they_count(client, manager_day):
    """The old mismatch: "PPOs on the scheme" beside a table that also holds IOM and DYO."""
    sign_in(client, staff(Role.PPO_MANAGER))
    response = client.get(reverse("home"))
    headline = {f.label: f for f in response.context["headline"]}
    assert headline["PPOs on the scheme"].value == 5
    assert headline["In the community"].value == 4
    assert headline["In custody, sentenced"].value == 1
    for label in ("PPOs on the scheme", "In the community", "In custody, sentenced"):
        figure = headline[label]
        assert len(_rows_behind(client, figure.href)) == figure.value, label
    # The whole table is 8 people and says what it counts.
    assert len(response.context["rows"]) == 8
    assert "8 people on a tier today (PPO, IOM or DYO)" in response.content.decode()
    assert "PPOs only, today." in response.content.decode()


def test_manager_home_query_count_does_not_grow_with_people(client, manager_day):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories import ContactFactory

    sign_in(client, staff(Role.PPO_MANAGER))
    client.get(reverse("home"))  # the first view creates the scheme settings row

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("home")).status_code == 200
        return len(ctx.captured_queries)

    before = count()
    for n in range(20):
        p = OffenderFactory(last_name=f"Extra{n:02d}", key_worker=manager_day["kw"])
        ProgrammeEpisodeFactory(offender=p, kind=ProgrammeKind.PPO)
        ContactFactory(offender=p, worker=manager_day["kw"], occurred_at=_at(3 + n % 10))
    assert count() == before


# --- Releases in the next 28 days; arrests and charges since the last conference ------------


@pytest.fixture
def release_and_offending_day(db, time_machine):
    """Wednesday 18 June 2025, built with the factories only. Custody: expected out today,
    on 16 July (the 28th day), on 17 July (the 29th), one already released yesterday, and
    one IOM person due out on 1 July. Offending, each a PPO selected on 1 January 2025:
    Conffresh (conference closed 2 June, an arrest 3 June), Confstale (conference 2 June,
    its arrest on 2 June itself, an intelligence report 10 June), Neverconf (never
    conferenced, a charge on 1 February), Preselect (never conferenced, an arrest on
    31 December 2024, before selection), Oldconf (a conference closed on 1 March, one
    held on 2 June but not closed, a charge on 1 April and an arrest on 5 June)."""
    import datetime as dt

    from conferences.models import CaseConference, ConferencePerson, ConferenceStatus
    from offenders.models import EventKind
    from tests.factories import OffenceCategoryFactory, OffendingEventFactory

    time_machine.move_to(_at(18, 12), tick=False)
    OffenceCategoryFactory()
    manager = staff(Role.PPO_MANAGER, username="manager")

    def person(name, kind=ProgrammeKind.PPO):
        p = OffenderFactory(last_name=name)
        ProgrammeEpisodeFactory(offender=p, kind=kind, selected_on=dt.date(2025, 1, 1))
        return p

    def inside(name, release, kind=ProgrammeKind.PPO, **fields):
        p = person(name, kind)
        CustodyEpisodeFactory(
            offender=p, started_on=dt.date(2025, 1, 1), expected_release_on=release, **fields
        )
        return p

    inside("Outtoday", dt.date(2025, 6, 18))
    inside("Outday28", dt.date(2025, 7, 16))
    inside("Outday29", dt.date(2025, 7, 17))
    inside("Outalready", dt.date(2025, 6, 20), released_on=dt.date(2025, 6, 17))
    inside("Outiom", dt.date(2025, 7, 1), kind=ProgrammeKind.IOM)

    def conference(held_on, people, status=ConferenceStatus.CLOSED):
        c = CaseConference.objects.create(
            held_on=held_on, chair=manager, created_by=manager, status=status
        )
        for p in people:
            ConferencePerson.objects.create(conference=c, offender=p)

    def event(p, kind, day):
        OffendingEventFactory(offender=p, kind=kind, occurred_on=day)

    fresh, stale, never, preselect, old = (
        person(n) for n in ("Conffresh", "Confstale", "Neverconf", "Preselect", "Oldconf")
    )
    conference(dt.date(2025, 6, 2), [fresh, stale])
    conference(dt.date(2025, 3, 1), [old])
    conference(dt.date(2025, 6, 2), [old], status=ConferenceStatus.PLANNED)
    event(fresh, EventKind.ARREST, dt.date(2025, 6, 3))
    event(stale, EventKind.ARREST, dt.date(2025, 6, 2))
    event(stale, EventKind.INTELLIGENCE, dt.date(2025, 6, 10))
    event(never, EventKind.CHARGE, dt.date(2025, 2, 1))
    event(preselect, EventKind.ARREST, dt.date(2024, 12, 31))
    event(old, EventKind.CHARGE, dt.date(2025, 4, 1))
    event(old, EventKind.ARREST, dt.date(2025, 6, 5))
    return {"manager": manager}


def test_release_and_new_offending_counts_equal_their_lists(client, release_and_offending_day):
    sign_in(client, release_and_offending_day["manager"])
    response = client.get(reverse("home"))
    panels = {p.key: p for p in response.context["needs_action"]}
    expected = {
        "release_soon": {"Outtoday", "Outday28", "Outiom"},
        "new_offending": {"Conffresh", "Neverconf", "Oldconf"},
    }
    for key, names in expected.items():
        behind = _rows_behind(client, panels[key].href)
        assert panels[key].count == len(behind) == len(names), key
        assert set(behind) == names, key


def test_the_lists_say_why_each_person_is_on_them(client, release_and_offending_day):
    sign_in(client, release_and_offending_day["manager"])
    response = client.get(reverse("home"), {"need": "release_soon"})
    notes = {r.offender.last_name: r.need_note for r in response.context["caseload"].rows}
    assert notes == {
        "Outtoday": "18 June 2025",
        "Outday28": "16 July 2025",
        "Outiom": "1 July 2025",
    }
    page = response.content.decode()
    assert ">Expected release</th>" in page
    assert "3 people on a tier today (PPO, IOM or DYO) – due for release in the next 28 days" in (
        page
    )
    response = client.get(reverse("home"), {"need": "new_offending"})
    notes = {r.offender.last_name: r.need_note for r in response.context["caseload"].rows}
    assert notes == {
        "Conffresh": "1 arrest since the last conference on 2 June 2025",
        "Neverconf": "1 charge since selection on 1 January 2025",
        "Oldconf": "1 arrest, 1 charge since the last conference on 1 March 2025",
    }
    # One consultation of the list shown; the panels' own count of everyone names nobody.
    lists = [
        e
        for e in AuditEvent.objects.filter(action=AuditAction.LIST).order_by("pk")
        if e.detail.get("view") == "caseload"
    ]
    assert [e.detail["filters"] for e in lists] == [
        {"need": "release_soon"},
        {"need": "new_offending"},
    ]
    assert len(lists[-1].offender_ids) == 3


def test_a_key_worker_is_offered_releases_but_not_the_conference_list(client, db):
    """Readers of custody dates get the release list (their own people); the conference
    list is for readers of every conference and of offending: a key worker reads both,
    a prison worker neither conferences as a whole nor the filter."""
    import datetime as dt

    kw = staff(Role.KEY_WORKER, username="kw")
    mine = OffenderFactory(last_name="Minesoon", key_worker=kw)
    theirs = OffenderFactory(last_name="Theirsoon")
    for p in (mine, theirs):
        ProgrammeEpisodeFactory(offender=p)
        CustodyEpisodeFactory(
            offender=p,
            started_on=dt.date(2025, 1, 1),
            expected_release_on=timezone_today() + dt.timedelta(days=3),
        )
    sign_in(client, kw)
    response = client.get(reverse("home"), {"need": "release_soon"})
    assert [r.offender.last_name for r in response.context["caseload"].rows] == ["Minesoon"]
    assert "needs_action" not in response.context  # the panels are the manager's

    prison = staff(
        Role.PRISON_WORKER, agency=AgencyFactory(name="HMP Elsewhere", kind=AgencyKind.PRISON)
    )
    sign_in(client, prison)
    response = client.get(reverse("home"), {"need": "new_offending"})
    assert response.status_code == 200
    assert "“new_offending” is not a need we can list" in response.content.decode()
    assert "new_offending" not in response.context["caseload"].needs


def timezone_today():
    from django.utils import timezone

    return timezone.localdate()


def test_the_yot_list_says_not_on_a_tier_once_not_on_every_row(client, db):
    """Issue 13.8: young people on no tier each had "Not on a tier (PPO, IOM or DYO) this
    week" in two cells; the list says it once, the cells n/a."""
    import datetime as dt

    from django.utils import timezone

    from offenders.models import years_before

    born = years_before(timezone.localdate(), 16)
    for n in range(3):
        OffenderFactory(last_name=f"Young{n}", date_of_birth=born - dt.timedelta(days=10))
    dyo = OffenderFactory(last_name="Youngdyo", date_of_birth=born - dt.timedelta(days=10))
    ProgrammeEpisodeFactory(offender=dyo, kind=ProgrammeKind.DYO)
    yot = staff(Role.YOT_WORKER, agency=AgencyFactory(name="YOT agency", kind=AgencyKind.YOT))
    response = home(client, yot)
    page = response.content.decode()
    assert len(response.context["rows"]) == 4
    assert page.count("Not on a tier (PPO, IOM or DYO) this week") == 0
    assert page.count("not on a tier (PPO, IOM or DYO) this week") == 1
    assert "3 of the people listed are not on a tier" in page


def test_the_key_workers_home_offers_first_whoever_is_furthest_behind_in_any_order(
    client, manager_day
):
    """Issue 13.1: the first link in the main content logs a contact for the person most
    below this week's contact target (ties: longest without an attended contact, never
    contacted longest of all), however the list is sorted; the link carries the person's
    row in the list, as the row's own link does, for "Save and log another"."""
    import re

    sign_in(client, manager_day["kw"])
    for order in ("", "?sort=name&dir=desc", "?sort=name&dir=asc"):
        page = client.get(reverse("home") + order).content.decode()
        offered = re.search(r'data-testid="next-contact">(.*?)</p>', page, re.S)
        assert offered, order
        assert "Furthest behind on contacts this week: " in offered.group(1)
        assert "Neverppo" in offered.group(1) and "0 of " in offered.group(1)
        rows = re.findall(r'<tr class="govuk-table__row" data-offender="(\d+)"', page)
        link = re.search(r'href="/people/(\d+)/contacts/new/\?row=(\d+)', offered.group(1))
        assert link, offered.group(1)
        assert rows[int(link.group(2))] == link.group(1)
        first_link = re.search(r'<main.*?<a [^>]*href="([^"]+)"', page, re.S)
        assert first_link and first_link.group(1).startswith(link.group(0).removeprefix('href="'))


def test_nobody_is_offered_when_everyone_listed_has_met_this_weeks_target(client, db):
    from tests.factories import ContactFactory

    kw = staff(Role.KEY_WORKER, username="kw")
    met = OffenderFactory(last_name="Metonly", key_worker=kw)
    ProgrammeEpisodeFactory(offender=met, kind=ProgrammeKind.PPO)
    from django.utils import timezone

    now = timezone.now()
    for hours in range(6):
        ContactFactory(offender=met, worker=kw, occurred_at=now - timezone.timedelta(minutes=hours))
    page = home(client, kw).content.decode()
    assert "Metonly" in page
    assert 'data-testid="next-contact"' not in page
