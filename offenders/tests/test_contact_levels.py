"""A person's own contact level (001 §3.2b "reviewed by Conference"): setting it and what is
refused, the level each week is measured against (their own or their tier's, the Monday
rule, lapsing with the tier), the person's page as each role, and query counts.

Levels under test are written straight to the table (ContactLevel.objects.create) unless
the test is about the service, so the measuring code is tested apart from the writing."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from access.errors import ApplicationError, NotPermitted, OutOfScope, Refused
from access.models import AgencyKind, AuditAction, AuditEvent, Role
from offenders.compliance import (
    complete_weeks_before,
    tally,
    weekly_compliance,
)
from offenders.contact_levels import (
    FUTURE_LIMIT_DAYS,
    contact_level_set,
    level_on,
    levels_for,
)
from offenders.models import ContactLevel, ContactOutcome, ProgrammeKind, Supervision
from tests.factories import (
    AgencyFactory,
    ContactFactory,
    CustodyEpisodeFactory,
    DrugTestFactory,
    OffenderFactory,
    ProgrammeEpisodeFactory,
    ReferralFactory,
    sign_in,
    staff,
)

LONDON = ZoneInfo("Europe/London")
# A Wednesday; the last complete week is Monday 9 to Sunday 15 June 2025.
AS_OF = dt.date(2025, 6, 18)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LONDON)


@pytest.fixture
def manager(db):
    return staff(Role.PPO_MANAGER, username="mgr")


@pytest.fixture
def kw(db):
    return staff(Role.KEY_WORKER, username="kw")


def on_tier(kind=ProgrammeKind.PPO, *, selected_on="2024-01-01", deselected_on=None, **fields):
    person = fields.pop("person", None) or OffenderFactory(**fields)
    ProgrammeEpisodeFactory(
        offender=person,
        kind=kind,
        selected_on=d(selected_on),
        deselected_on=d(deselected_on) if deselected_on else None,
        deselection_reason="stepped_down" if deselected_on else "",
    )
    return person


def own_level(person, starts_on, contacts, tests=2):
    return ContactLevel.objects.create(
        offender=person,
        contacts_per_week=contacts,
        drug_tests_per_week=tests,
        starts_on=d(starts_on),
        reason="Test level",
    )


def attended(person, monday: str, count: int):
    start = d(monday)
    for n in range(count):
        day = start + dt.timedelta(days=n % 7)
        ContactFactory(
            offender=person,
            occurred_at=local(day.year, day.month, day.day, 10, n),
            outcome="attended",
        )


def weeks_of(user, *people, weeks=2, as_of=AS_OF):
    table = weekly_compliance(
        user=user,
        as_of=as_of,
        offender_ids=[p.pk for p in people],
        complete_weeks=weeks,
        include_current=False,
    )
    return table


def week(table, person, monday):
    return table.by_person[person.pk][d(monday)]


# --- The level measured against --------------------------------------------------------------


def test_a_persons_own_level_overrides_the_tiers(manager):
    own = on_tier()
    tiered = on_tier()
    own_level(own, "2025-05-01", 6)
    attended(own, "2025-06-09", 4)
    attended(tiered, "2025-06-09", 4)
    table = weeks_of(manager, own, tiered)
    mine, theirs = week(table, own, "2025-06-09"), week(table, tiered, "2025-06-09")
    assert (mine.contacts.shown, mine.contacts.met) == ("4 of 6", False)
    assert mine.level.is_own and mine.level.source == "Set for this person"
    # Without one, the PPO tier's four (001 §3.2b).
    assert (theirs.contacts.shown, theirs.contacts.met) == ("4 of 4", True)
    assert not theirs.level.is_own and theirs.level.source == "The level for PPOs"


def test_a_lower_own_level_is_met_where_the_tiers_would_not_be(manager):
    person = on_tier()
    own_level(person, "2025-05-01", 2)
    attended(person, "2025-06-09", 2)
    table = weeks_of(manager, person)
    assert week(table, person, "2025-06-09").contacts.met is True
    counted = tally(table, [w for w in table.weeks if w.start == d("2025-06-09")]).contacts
    assert (counted.met, counted.assessed) == (1, 1)


@pytest.mark.parametrize(
    ("starts_on", "target_week_of_9_june", "target_week_of_16_june"),
    [
        ("2025-06-08", 6, 6),  # the Sunday before: in force on Monday 9th
        ("2025-06-09", 6, 6),  # that Monday: that very week
        ("2025-06-10", 4, 6),  # the Tuesday: the tier's that week, its own from the 16th
        ("2025-06-15", 4, 6),  # the Sunday: likewise
        ("2025-06-16", 4, 6),  # the next Monday
        ("2025-06-17", 4, 4),  # after the next Monday: the tier's in both weeks
    ],
)
def test_a_week_uses_the_level_in_force_on_its_monday(
    manager, starts_on, target_week_of_9_june, target_week_of_16_june
):
    person = on_tier()
    own_level(person, starts_on, 6)
    table = weeks_of(manager, person, weeks=2, as_of=d("2025-06-23"))
    assert week(table, person, "2025-06-09").contacts.target == target_week_of_9_june
    assert week(table, person, "2025-06-16").contacts.target == target_week_of_16_june


def test_the_latest_level_in_force_wins_and_a_correction_on_the_same_day_too(manager):
    person = on_tier()
    own_level(person, "2025-01-06", 8)
    own_level(person, "2025-06-02", 5)
    own_level(person, "2025-06-02", 3)  # recorded later, same start: the correction
    table = weeks_of(manager, person)
    assert week(table, person, "2025-06-09").contacts.target == 3


def test_an_own_level_lapses_when_the_person_changes_tier(manager):
    person = on_tier(ProgrammeKind.PPO, selected_on="2024-01-01", deselected_on="2025-06-04")
    on_tier(ProgrammeKind.IOM, selected_on="2025-06-04", person=person)
    own_level(person, "2025-03-03", 7)  # set while a PPO
    table = weeks_of(manager, person, weeks=3)
    assert week(table, person, "2025-05-26").contacts.target == 7
    # Stepped down on Wednesday 4 June: that week and after, the IOM tier's two.
    assert week(table, person, "2025-06-02").contacts.target == 2
    assert week(table, person, "2025-06-09").contacts.target == 2
    assert week(table, person, "2025-06-09").level.tier == ProgrammeKind.IOM


def test_an_own_drug_test_level_applies_to_licensees_only(manager):
    licensee = on_tier(supervision=Supervision.LICENCE)
    other = on_tier(supervision=Supervision.NONE)
    for person in (licensee, other):
        own_level(person, "2025-05-01", 4, tests=3)
        DrugTestFactory(offender=person, tested_at=local(2025, 6, 10, 9))
        DrugTestFactory(offender=person, tested_at=local(2025, 6, 11, 9))
    table = weeks_of(manager, licensee, other)
    assert week(table, licensee, "2025-06-09").drug_tests.shown == "2 of 3"
    assert week(table, other, "2025-06-09").drug_tests.applies is False


def test_an_own_level_of_zero_sets_no_target(manager):
    person = on_tier()
    own_level(person, "2025-05-01", 0)
    table = weeks_of(manager, person)
    measure = week(table, person, "2025-06-09").contacts
    assert (measure.applies, measure.not_applicable_because) == (
        False,
        "No contact target set for this person",
    )


def test_custody_all_week_still_wins_over_an_own_level(manager):
    person = on_tier()
    own_level(person, "2025-05-01", 6)
    CustodyEpisodeFactory(offender=person, started_on=d("2025-06-01"))
    table = weeks_of(manager, person)
    assert week(table, person, "2025-06-09").contacts.not_applicable_because == (
        "In custody all week"
    )


# --- levels_for / level_on ----------------------------------------------------------------------


def test_levels_for_gives_each_week_its_level(manager):
    own = on_tier()
    tiered = on_tier(ProgrammeKind.IOM)
    off = OffenderFactory()
    own_level(own, "2025-06-11", 6, tests=1)
    found = levels_for(
        user=manager,
        offender_ids=[own.pk, tiered.pk, off.pk],
        first_day=d("2025-06-04"),
        last_day=d("2025-06-16"),
    )
    assert sorted(found[own.pk]) == [d("2025-06-02"), d("2025-06-09"), d("2025-06-16")]
    assert [(lv.contacts, lv.is_own) for lv in found[own.pk].values()] == [
        (4, False),
        (4, False),
        (6, True),
    ]
    assert {lv.contacts for lv in found[tiered.pk].values()} == {2}
    assert set(found[off.pk].values()) == {None}


def test_levels_for_runs_the_same_queries_for_1_and_30_people(manager, django_assert_num_queries):
    people = [on_tier()]
    own_level(people[0], "2025-01-01", 5)
    levels_for(user=manager, offender_ids=[], first_day=AS_OF, last_day=AS_OF)  # scheme row
    with django_assert_num_queries(5):  # membership, scheme, people, tier spells, levels
        levels_for(
            user=manager,
            offender_ids=[p.pk for p in people],
            first_day=d("2025-01-01"),
            last_day=AS_OF,
        )
    for _ in range(29):
        person = on_tier()
        own_level(person, "2025-02-01", 6)
        own_level(person, "2025-03-01", 3)
        people.append(person)
    with django_assert_num_queries(5):
        found = levels_for(
            user=manager,
            offender_ids=[p.pk for p in people],
            first_day=d("2025-01-01"),
            last_day=AS_OF,
        )
    assert len(found) == 30


def test_weekly_compliance_queries_do_not_grow_with_levels(manager, django_assert_num_queries):
    people = [on_tier() for _ in range(2)]
    weeks_of(manager, *people)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        weeks_of(manager, *people)
    for _ in range(20):
        person = on_tier()
        own_level(person, "2025-02-03", 6)
        own_level(person, "2025-06-10", 5)
        attended(person, "2025-06-09", 3)
        people.append(person)
    with CaptureQueriesContext(connection) as many:
        weeks_of(manager, *people)
    assert len(many.captured_queries) == len(few.captured_queries)


def test_level_on_a_day(manager):
    person = on_tier()
    own_level(person, "2025-06-11", 6)
    assert level_on(user=manager, offender=person, day=d("2025-06-10")).contacts == 4
    assert level_on(user=manager, offender=person, day=d("2025-06-11")).contacts == 6
    assert level_on(user=manager, offender=OffenderFactory(), day=AS_OF) is None


def test_levels_are_not_read_outside_scope_or_by_partial_readers(db):
    adult = on_tier(ProgrammeKind.PPO, date_of_birth=d("1980-01-01"))
    own_level(adult, "2025-01-01", 6)
    yot = staff(Role.YOT_WORKER)
    assert levels_for(user=yot, offender_ids=[adult.pk], first_day=AS_OF, last_day=AS_OF) == {}
    assert level_on(user=yot, offender=adult, day=AS_OF) is None
    prison = staff(Role.PRISON_WORKER)
    assert level_on(user=prison, offender=adult, day=AS_OF) is None


# --- Setting a level ------------------------------------------------------------------------------


def set_level(user, person, **overrides):
    values = {
        "contacts_per_week": 6,
        "drug_tests_per_week": 2,
        "starts_on": AS_OF,
        "reason": "Reviewed: more contact while housing is settled",
        "as_of": AS_OF,
    }
    values.update(overrides)
    return contact_level_set(user=user, offender_id=person.pk, **values)


def test_setting_a_level_records_who_why_and_audits_it(kw):
    person = on_tier(key_worker=kw)
    level = set_level(kw, person)
    assert (level.contacts_per_week, level.drug_tests_per_week, level.starts_on) == (6, 2, AS_OF)
    assert level.set_by == kw and level.set_by_agency.kind == AgencyKind.PROBATION
    assert level.reason == "Reviewed: more contact while housing is settled"
    event = AuditEvent.objects.get(action=AuditAction.CREATE, record_type="offenders.contactlevel")
    assert event.record_ids == [level.pk] and event.offender_ids == [person.pk]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"contacts_per_week": -1}, "contacts_per_week", "from 0 to 21"),
        ({"contacts_per_week": 22}, "contacts_per_week", "from 0 to 21"),
        ({"contacts_per_week": "four"}, "contacts_per_week", "whole number"),
        ({"contacts_per_week": True}, "contacts_per_week", "whole number"),
        ({"drug_tests_per_week": -1}, "drug_tests_per_week", "from 0 to 14"),
        ({"drug_tests_per_week": 15}, "drug_tests_per_week", "from 0 to 14"),
        ({"reason": "   "}, "reason", "Enter why"),
        ({"reason": "x" * 2001}, "reason", "2000 characters"),
        ({"starts_on": d("2023-12-31")}, "starts_on", "cannot start before 1 January 2024"),
        (
            {"starts_on": AS_OF + dt.timedelta(days=FUTURE_LIMIT_DAYS + 1)},
            "starts_on",
            "must start by 18 September 2025",
        ),
    ],
)
def test_bad_levels_are_refused_and_nothing_saved(kw, overrides, field, message):
    person = on_tier(key_worker=kw)
    with pytest.raises(ApplicationError) as refused:
        set_level(kw, person, **overrides)
    assert field in refused.value.field_errors
    assert message in refused.value.message
    assert not ContactLevel.objects.exists()
    assert not AuditEvent.objects.filter(record_type="offenders.contactlevel").exists()


@pytest.mark.parametrize(
    ("contacts", "tests", "starts_on"),
    [
        (0, 0, d("2024-01-01")),  # the lowest, from the first day of the tier spell
        (21, 14, AS_OF + dt.timedelta(days=FUTURE_LIMIT_DAYS)),  # the highest, the latest
    ],
)
def test_levels_at_the_limits_are_accepted(kw, contacts, tests, starts_on):
    person = on_tier(key_worker=kw)
    set_level(
        kw, person, contacts_per_week=contacts, drug_tests_per_week=tests, starts_on=starts_on
    )
    assert ContactLevel.objects.get().contacts_per_week == contacts


def test_a_person_on_no_tier_has_no_level_to_set(manager):
    person = on_tier(deselected_on="2025-05-01")
    with pytest.raises(ApplicationError, match="not on a tier"):
        set_level(manager, person)
    assert not ContactLevel.objects.exists()


def test_a_start_before_the_current_tier_spell_is_refused(manager):
    person = on_tier(ProgrammeKind.PPO, deselected_on="2025-03-01")
    on_tier(ProgrammeKind.IOM, selected_on="2025-03-01", person=person)
    with pytest.raises(ApplicationError, match="1 March 2025"):
        set_level(manager, person, starts_on=d("2025-02-28"))
    set_level(manager, person, starts_on=d("2025-03-01"))
    assert ContactLevel.objects.count() == 1


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.PPO_MANAGER, True),
        (Role.KEY_WORKER, True),
        (Role.POLICE_OFFICER, True),
        (Role.YOT_WORKER, True),
        (Role.PRISON_WORKER, False),
        (Role.PARTNER_WORKER, False),
    ],
)
def test_those_who_write_every_contact_set_levels(db, role, allowed):
    person = on_tier(date_of_birth=d("2009-01-01"))  # under 18: in the YOT worker's scope
    prison = AgencyFactory(name="HMP Testing", kind=AgencyKind.PRISON)
    CustodyEpisodeFactory(offender=person, establishment=prison, started_on=d("2025-06-01"))
    user = staff(role, agency=prison if role == Role.PRISON_WORKER else None)
    if role == Role.PARTNER_WORKER:
        ReferralFactory(offender=person, agency=AgencyFactory(name="Treatment / CJIT agency"))
    if allowed:
        set_level(user, person)
        assert ContactLevel.objects.count() == 1
    else:
        with pytest.raises(NotPermitted):
            set_level(user, person)
        assert not ContactLevel.objects.exists()


@pytest.mark.parametrize(
    ("role", "refusal", "status"),
    # The YOT worker's people are under 18 or DYOs: this adult is outside their scope (404).
    # The steering group sees no one's records: refused whatever the person (403).
    [(Role.STEERING_GROUP, Refused, 403), (Role.YOT_WORKER, OutOfScope, 404)],
)
def test_someone_outside_scope_is_refused_and_it_is_audited(client, db, role, refusal, status):
    person = on_tier(date_of_birth=d("1980-01-01"))
    user = staff(role)
    with pytest.raises(refusal):
        set_level(user, person)
    sign_in(client, user)
    url = reverse("offenders:contact-level", args=[person.pk])
    assert client.get(url).status_code == status
    assert post_level(client, person).status_code == status
    assert not ContactLevel.objects.exists()
    assert AuditEvent.objects.filter(action=AuditAction.DENIED, user=user).count() == 2


# --- The person's page --------------------------------------------------------------------------


@pytest.fixture
def on_18_june(time_machine):
    time_machine.move_to(local(2025, 6, 18, 12, 0), tick=False)


def page_as(client, user, person):
    sign_in(client, user)
    return client.get(reverse("offenders:detail", args=[person.pk]))


def test_the_page_shows_the_own_level_and_its_history(client, kw, on_18_june):
    person = on_tier(key_worker=kw)
    own_level(person, "2025-03-05", 5)
    latest = own_level(person, "2025-06-04", 6)
    latest.reason = "Set at the case conference of 4 June 2025"
    latest.save()
    page = page_as(client, kw, person).content.decode()
    assert 'data-testid="contact-level"' in page
    assert 'data-testid="level-contacts">6<' in page
    assert "Set for this person, from 4 June 2025" in page
    assert "Set at the case conference of 4 June 2025" in page
    assert "measured from 9 Jun" in page  # the Wednesday start counts from the Monday after
    assert page.count("In force</strong>") == 1
    assert "Change the contact level" in page
    event = AuditEvent.objects.filter(action=AuditAction.VIEW, user=kw).latest("pk")
    assert "contact_level" in event.detail["shown"]


def test_the_page_says_when_the_tiers_level_applies(client, kw, on_18_june):
    person = on_tier(ProgrammeKind.IOM, key_worker=kw, date_of_birth=d("1990-01-01"))
    on_tier(ProgrammeKind.PPO, person=person, selected_on="2023-01-01", deselected_on="2024-01-01")
    page = page_as(client, kw, person).content.decode()
    assert 'data-testid="level-contacts">2<' in page
    assert "The level for the IOM tier" in page
    assert "No level has been set for this person" in page


@pytest.mark.parametrize(
    ("role", "sees_card", "sees_form"),
    [
        (Role.PPO_MANAGER, True, True),
        (Role.KEY_WORKER, True, True),
        (Role.POLICE_OFFICER, True, True),
        (Role.YOT_WORKER, True, True),
        (Role.PRISON_WORKER, False, False),
        (Role.PARTNER_WORKER, False, False),
    ],
)
def test_the_page_as_each_role(client, on_18_june, db, role, sees_card, sees_form):
    person = on_tier(date_of_birth=d("2009-01-01"))
    own_level(person, "2025-06-02", 6)
    prison = AgencyFactory(name="HMP Testing", kind=AgencyKind.PRISON)
    CustodyEpisodeFactory(offender=person, establishment=prison, started_on=d("2025-06-01"))
    user = staff(role, agency=prison if role == Role.PRISON_WORKER else None)
    if role == Role.PARTNER_WORKER:
        ReferralFactory(offender=person, agency=AgencyFactory(name="Treatment / CJIT agency"))
    response = page_as(client, user, person)
    assert response.status_code == 200
    page = response.content.decode()
    assert ('data-testid="contact-level"' in page) is sees_card
    assert ("Test level" in page) is sees_card  # the history's reason
    assert ("Change the contact level" in page) is sees_form
    form = client.get(reverse("offenders:contact-level", args=[person.pk]))
    assert form.status_code == (200 if sees_form else 403)


def post_level(client, person, **values):
    data = {
        "contacts_per_week": "6",
        "drug_tests_per_week": "2",
        "starts_on": "2025-06-18",
        "reason": "Reviewed at supervision",
    }
    data.update(values)
    return client.post(reverse("offenders:contact-level", args=[person.pk]), data)


def test_the_form_sets_the_level(client, kw, on_18_june):
    person = on_tier(key_worker=kw)
    sign_in(client, kw)
    form = client.get(reverse("offenders:contact-level", args=[person.pk]))
    assert 'value="4"' in form.content.decode()  # starts from the level in force
    response = post_level(client, person)
    assert response.status_code == 302
    assert response["Location"].endswith(f"/{person.pk}/#contact-level")
    level = ContactLevel.objects.get()
    assert (level.contacts_per_week, level.starts_on, level.set_by) == (6, AS_OF, kw)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"contacts_per_week": "-1"}, "cannot be below 0"),
        ({"contacts_per_week": "22"}, "cannot be more than 21"),
        ({"contacts_per_week": "lots"}, "whole number"),
        ({"drug_tests_per_week": "15"}, "cannot be more than 14"),
        ({"reason": ""}, "Enter why the level is being set"),
        ({"starts_on": "2025-02-30"}, "as a real date"),
        ({"starts_on": "2023-06-01"}, "cannot start before 1 January 2024"),
        ({"starts_on": "2026-06-01"}, "must start by 18 September 2025"),
    ],
)
def test_bad_input_on_the_form_says_why_and_saves_nothing(client, kw, on_18_june, values, message):
    person = on_tier(key_worker=kw)
    sign_in(client, kw)
    response = post_level(client, person, **values)
    assert response.status_code == 200
    page = response.content.decode()
    assert "govuk-error-summary" in page and message in page
    assert not ContactLevel.objects.exists()


def test_a_repeated_submission_saves_once(client, kw, on_18_june):
    person = on_tier(key_worker=kw)
    sign_in(client, kw)
    post_level(client, person, form_token="11111111-1111-4111-8111-111111111111")
    again = post_level(client, person, form_token="11111111-1111-4111-8111-111111111111")
    assert again.status_code == 302
    assert ContactLevel.objects.count() == 1


def test_the_page_runs_the_same_queries_with_a_long_history(client, kw, on_18_june):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    person = on_tier(key_worker=kw)
    sign_in(client, kw)
    own_level(person, "2025-01-06", 5)
    client.get(reverse("offenders:detail", args=[person.pk]))

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            client.get(reverse("offenders:detail", args=[person.pk]))
        return len(ctx.captured_queries)

    few = count()
    for n in range(30):
        own_level(person, (d("2025-01-07") + dt.timedelta(days=n)).isoformat(), 5 + n % 3)
    assert count() == few


# --- The standards ------------------------------------------------------------------------------


def test_the_contacts_and_drug_test_standards_count_against_each_persons_level(manager):
    from access.policy import actor_for
    from offenders.compliance import contacts_standard, drug_tests_standard

    raised = on_tier(supervision=Supervision.LICENCE)
    own_level(raised, "2025-05-05", 6, tests=1)
    attended(raised, "2025-06-09", 4)  # 4 of 6: not met (the tier's 4 would be)
    DrugTestFactory(offender=raised, tested_at=local(2025, 6, 10, 9))  # 1 of 1: met
    tiered = on_tier(supervision=Supervision.LICENCE)
    attended(tiered, "2025-06-09", 4)  # 4 of 4: met
    ContactFactory(
        offender=tiered, occurred_at=local(2025, 6, 10, 9), outcome=ContactOutcome.FAILED
    )
    actor = actor_for(manager, AS_OF)
    last_week = complete_weeks_before(AS_OF, 1)[0]
    contacts = contacts_standard(actor, last_week.start, last_week.end)
    tests = drug_tests_standard(actor, last_week.start, last_week.end)
    assert (contacts.key, contacts.met, contacts.total, contacts.percentage) == (
        "contacts",
        1,
        2,
        50.0,
    )
    assert (tests.key, tests.met, tests.total) == ("drug_tests", 1, 2)
    # The week in progress is never counted, even when the period covers it.
    assert contacts_standard(actor, d("2025-06-16"), d("2025-06-22")).total == 0
