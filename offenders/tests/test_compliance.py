"""Premium-service compliance (001 §3.2b four contacts a week, §3.2f two drug tests a week
for licensees): week boundaries in UK time, what counts, who is assessed, the RAG rating,
the scheme-wide figures, scoping and query counts."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from access.errors import NotPermitted
from access.models import AgencyKind, AuditAction, AuditEvent, Role, Scheme
from access.policy import actor_for
from offenders.compliance import (
    Rag,
    can_see_compliance,
    complete_weeks_before,
    compliance_summary,
    percentage,
    rag_for,
    week_containing,
    week_start_of,
    weekly_compliance,
)
from offenders.models import ContactOutcome, CustodyKind, ProgrammeKind, Supervision
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
UTC = dt.UTC


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LONDON)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture
def kw(db):
    return staff(Role.KEY_WORKER, username="kw", first_name="Kim", last_name="Walker")


def ppo(kw, *, selected_on="2024-01-01", supervision=Supervision.NONE, **fields):
    person = OffenderFactory(key_worker=kw, supervision=supervision, **fields)
    ProgrammeEpisodeFactory(offender=person, selected_on=d(selected_on))
    return person


def contacts(person, worker, *moments, outcome=ContactOutcome.ATTENDED):
    for moment in moments:
        ContactFactory(offender=person, worker=worker, occurred_at=moment, outcome=outcome)


def drug_tests_at(person, *moments):
    for moment in moments:
        DrugTestFactory(offender=person, tested_at=moment)


def week_of(table, person, monday: str):
    return table.by_person[person.pk][d(monday)]


# --- RAG: one definition, at its boundaries ---------------------------------------------------


@pytest.mark.parametrize(
    ("done", "target", "expected"),
    [
        (5, 4, Rag.GREEN),
        (4, 4, Rag.GREEN),  # 001 §3.2b: four contacts is the target met
        (3, 4, Rag.AMBER),
        (2, 4, Rag.AMBER),  # exactly half is amber
        (1, 4, Rag.RED),
        (0, 4, Rag.RED),
        (2, 2, Rag.GREEN),  # 001 §3.2f: twice-weekly tests
        (1, 2, Rag.AMBER),
        (0, 2, Rag.RED),
        (2, 3, Rag.AMBER),  # half of an odd target rounds up: 1.5 -> 2
        (1, 3, Rag.RED),
        (0, 0, Rag.GREEN),
    ],
)
def test_rag_thresholds_at_their_boundaries(done, target, expected):
    assert rag_for(done, target) is expected


def test_rag_is_stated_in_words_not_colour_alone():
    assert [r.label for r in (Rag.GREEN, Rag.AMBER, Rag.RED)] == [
        "Green – target met",
        "Amber – half or more",
        "Red – below half",
    ]


def test_percentages_round_halves_up():
    assert percentage(1, 8) == 13  # 12.5
    assert percentage(8, 21) == 38
    assert percentage(0, 3) == 0
    assert percentage(0, 0) is None


# --- Weeks in UK local time ------------------------------------------------------------------


def test_weeks_run_monday_to_sunday_and_the_current_one_stops_at_as_of():
    week = week_containing(d("2025-06-18"))  # a Wednesday
    assert (week.start, week.last_day, week.end, week.complete) == (
        d("2025-06-16"),
        d("2025-06-18"),
        d("2025-06-22"),
        False,
    )
    assert week.ends_at == local(2025, 6, 19)
    assert [w.start for w in complete_weeks_before(d("2025-06-16"), 2)] == [
        d("2025-06-02"),
        d("2025-06-09"),
    ]


def test_a_moment_belongs_to_the_week_of_its_london_date():
    # Monday 00:00 BST is Sunday 23:00 UTC: already the new week.
    assert week_start_of(dt.datetime(2025, 6, 22, 23, 0, tzinfo=UTC)) == d("2025-06-23")
    assert week_start_of(dt.datetime(2025, 6, 22, 22, 59, tzinfo=UTC)) == d("2025-06-16")
    # In GMT, UTC and local agree.
    assert week_start_of(dt.datetime(2025, 1, 19, 23, 59, tzinfo=UTC)) == d("2025-01-13")
    assert week_start_of(dt.datetime(2025, 1, 20, 0, 0, tzinfo=UTC)) == d("2025-01-20")


def test_week_boundary_in_gmt_sunday_2359_and_monday_midnight(kw):
    person = ppo(kw)
    contacts(person, kw, local(2025, 1, 19, 23, 59), local(2025, 1, 20, 0, 0))
    table = weekly_compliance(
        user=kw,
        as_of=d("2025-01-27"),
        offender_ids=[person.pk],
        complete_weeks=2,
        include_current=False,
    )
    assert week_of(table, person, "2025-01-13").contacts.done == 1
    # A contact at exactly Monday 00:00 local belongs to the new week.
    assert week_of(table, person, "2025-01-20").contacts.done == 1


def test_week_boundary_in_bst_uses_local_not_utc_dates(kw):
    person = ppo(kw)
    contacts(
        person,
        kw,
        local(2025, 6, 22, 23, 30),  # Sunday 23:30 BST = Sunday 22:30 UTC
        local(2025, 6, 22, 23, 59),  # Sunday 23:59 BST
        local(2025, 6, 23, 0, 0),  # Monday 00:00 BST = Sunday 23:00 UTC: the new week
        dt.datetime(2025, 6, 22, 23, 30, tzinfo=UTC),  # Monday 00:30 BST: the new week
    )
    table = weekly_compliance(
        user=kw,
        as_of=d("2025-06-30"),
        offender_ids=[person.pk],
        complete_weeks=2,
        include_current=False,
    )
    assert week_of(table, person, "2025-06-16").contacts.done == 2
    assert week_of(table, person, "2025-06-23").contacts.done == 2


def test_week_of_the_clocks_going_forward(kw):
    # Clocks go forward at 01:00 UTC on Sunday 30 March 2025; that Sunday 23:30 BST is
    # 22:30 UTC and still in the week of Monday 24 March.
    person = ppo(kw)
    contacts(person, kw, local(2025, 3, 24, 0, 0), local(2025, 3, 30, 23, 30))
    contacts(person, kw, local(2025, 3, 31, 0, 0))
    table = weekly_compliance(
        user=kw,
        as_of=d("2025-04-07"),
        offender_ids=[person.pk],
        complete_weeks=2,
        include_current=False,
    )
    assert week_of(table, person, "2025-03-24").contacts.done == 2
    assert week_of(table, person, "2025-03-31").contacts.done == 1


def test_week_of_the_clocks_going_back(kw):
    # Clocks go back at 01:00 UTC on Sunday 26 October 2025: local 01:00-02:00 happens
    # twice, and that week is 169 hours long. Both 01:30s are Sunday 26 October, in the
    # week of Monday 20 October; Sunday 23:59 GMT is too; Monday 27 00:00 GMT is not.
    person = ppo(kw)
    contacts(
        person,
        kw,
        local(2025, 10, 20, 0, 0),  # Monday 00:00 BST = Sunday 19 October 23:00 UTC
        local(2025, 10, 26, 1, 30),  # 01:30 BST (fold 0) = 00:30 UTC
        dt.datetime(2025, 10, 26, 1, 30, fold=1, tzinfo=LONDON),  # 01:30 GMT = 01:30 UTC
        local(2025, 10, 26, 23, 59),  # Sunday 23:59 GMT
    )
    contacts(person, kw, local(2025, 10, 27, 0, 0))
    # Two different moments (Python compares datetimes in one zone ignoring fold: use UTC).
    first, second = (
        dt.datetime(2025, 10, 26, 1, 30, fold=fold, tzinfo=LONDON).astimezone(UTC)
        for fold in (0, 1)
    )
    assert (first, second) == (
        dt.datetime(2025, 10, 26, 0, 30, tzinfo=UTC),
        dt.datetime(2025, 10, 26, 1, 30, tzinfo=UTC),
    )
    table = weekly_compliance(
        user=kw,
        as_of=d("2025-11-03"),
        offender_ids=[person.pk],
        complete_weeks=2,
        include_current=False,
    )
    assert week_of(table, person, "2025-10-20").contacts.done == 4
    assert week_of(table, person, "2025-10-27").contacts.done == 1


def test_the_week_in_progress_counts_nothing_after_as_of(kw):
    person = ppo(kw)
    contacts(person, kw, local(2025, 6, 18, 23, 59), local(2025, 6, 19, 0, 0))
    table = weekly_compliance(user=kw, as_of=d("2025-06-18"), offender_ids=[person.pk])
    assert week_of(table, person, "2025-06-16").contacts.done == 1


# --- What counts, and who is assessed ---------------------------------------------------------


def test_target_met_at_exactly_four_attended_contacts_not_three(kw):
    four, three = ppo(kw), ppo(kw)
    monday = local(2025, 6, 9, 10, 0)
    contacts(four, kw, *(monday + dt.timedelta(days=n) for n in range(4)))
    contacts(three, kw, *(monday + dt.timedelta(days=n) for n in range(3)))
    table = weekly_compliance(
        user=kw,
        as_of=d("2025-06-16"),
        offender_ids=[four.pk, three.pk],
        complete_weeks=1,
        include_current=False,
    )
    met = week_of(table, four, "2025-06-09").contacts
    short = week_of(table, three, "2025-06-09").contacts
    assert (met.shown, met.met, met.rag) == ("4 of 4", True, Rag.GREEN)
    assert (short.shown, short.met, short.rag) == ("3 of 4", False, Rag.AMBER)


def test_failed_and_excused_contacts_are_not_contacts_made_but_are_reported(kw):
    person = ppo(kw)
    monday = local(2025, 6, 9, 10, 0)
    contacts(person, kw, monday, monday + dt.timedelta(days=1))
    contacts(person, kw, monday + dt.timedelta(days=2), outcome=ContactOutcome.FAILED)
    contacts(
        person,
        kw,
        monday + dt.timedelta(days=3),
        monday + dt.timedelta(days=4),
        outcome=ContactOutcome.EXCUSED,
    )
    table = weekly_compliance(
        user=kw,
        as_of=d("2025-06-16"),
        offender_ids=[person.pk],
        complete_weeks=1,
        include_current=False,
    )
    week = week_of(table, person, "2025-06-09")
    assert (week.contacts.done, week.failed, week.excused) == (2, 1, 2)
    assert week.contacts.rag is Rag.AMBER


def test_contacts_by_any_agency_count(kw):
    person = ppo(kw)
    police = AgencyFactory(name="Police agency", kind=AgencyKind.POLICE)
    officer = staff(Role.POLICE_OFFICER, agency=police)
    ContactFactory(
        offender=person, worker=officer, agency=police, occurred_at=local(2025, 6, 10, 9)
    )
    contacts(person, kw, local(2025, 6, 11, 9))
    table = weekly_compliance(
        user=kw,
        as_of=d("2025-06-16"),
        offender_ids=[person.pk],
        complete_weeks=1,
        include_current=False,
    )
    assert week_of(table, person, "2025-06-09").contacts.done == 2


def test_drug_test_target_applies_to_licensees_only(kw):
    licensee = ppo(kw, supervision=Supervision.LICENCE)
    ordered = ppo(kw, supervision=Supervision.COMMUNITY_ORDER)
    for person in (licensee, ordered):
        drug_tests_at(person, local(2025, 6, 10, 9), local(2025, 6, 12, 9))
    table = weekly_compliance(
        user=kw,
        as_of=d("2025-06-16"),
        offender_ids=[licensee.pk, ordered.pk],
        complete_weeks=1,
        include_current=False,
    )
    on_licence = week_of(table, licensee, "2025-06-09").drug_tests
    not_on_licence = week_of(table, ordered, "2025-06-09").drug_tests
    assert (on_licence.shown, on_licence.rag) == ("2 of 2", Rag.GREEN)
    assert (not_on_licence.shown, not_on_licence.applies) == ("n/a", False)
    assert not_on_licence.not_applicable_because == "Not on licence"


def test_one_drug_test_of_two_is_amber(kw):
    licensee = ppo(kw, supervision=Supervision.LICENCE)
    drug_tests_at(licensee, local(2025, 6, 10, 9))
    table = weekly_compliance(
        user=kw,
        as_of=d("2025-06-16"),
        offender_ids=[licensee.pk],
        complete_weeks=1,
        include_current=False,
    )
    assert week_of(table, licensee, "2025-06-09").drug_tests.rag is Rag.AMBER


def test_custody_for_the_whole_week_takes_the_person_out_of_the_contact_target(kw):
    inside = ppo(kw, supervision=Supervision.LICENCE)
    CustodyEpisodeFactory(offender=inside, started_on=d("2025-06-01"))
    remanded_midweek = ppo(kw)
    CustodyEpisodeFactory(
        offender=remanded_midweek,
        kind=CustodyKind.REMAND,
        started_on=d("2025-06-12"),
        sentence_length_months=None,
    )
    # Remand then sentence, back to back: in custody every day, across two episodes.
    remand_then_sentence = ppo(kw)
    CustodyEpisodeFactory(
        offender=remand_then_sentence,
        kind=CustodyKind.REMAND,
        started_on=d("2025-06-02"),
        released_on=d("2025-06-11"),
        sentence_length_months=None,
    )
    CustodyEpisodeFactory(offender=remand_then_sentence, started_on=d("2025-06-11"))
    released_on_sunday = ppo(kw)
    CustodyEpisodeFactory(
        offender=released_on_sunday, started_on=d("2025-05-01"), released_on=d("2025-06-15")
    )
    people = [inside, remanded_midweek, remand_then_sentence, released_on_sunday]
    table = weekly_compliance(
        user=kw,
        as_of=d("2025-06-16"),
        offender_ids=[p.pk for p in people],
        complete_weeks=1,
        include_current=False,
    )
    week = {p.pk: week_of(table, p, "2025-06-09") for p in people}
    assert week[inside.pk].contacts.applies is False
    assert week[inside.pk].contacts.not_applicable_because == "In custody all week"
    assert week[inside.pk].drug_tests.applies is False
    assert week[remand_then_sentence.pk].contacts.applies is False
    # In the community for part of the week: assessed against the full target.
    assert week[remanded_midweek.pk].contacts.shown == "0 of 4"
    assert week[released_on_sunday.pk].contacts.shown == "0 of 4"


def test_weeks_off_every_tier_are_not_assessed(kw):
    later = ppo(kw, selected_on="2025-06-15")  # selected on the Sunday
    pool = OffenderFactory(key_worker=kw)  # on no tier: a key worker cannot even see them
    table = weekly_compliance(
        user=kw,
        as_of=d("2025-06-16"),
        offender_ids=[later.pk, pool.pk],
        complete_weeks=2,
        include_current=False,
    )
    assert week_of(table, later, "2025-06-02").contacts.not_applicable_because == (
        "Not on a tier (PPO, IOM or DYO) this week"
    )
    assert week_of(table, later, "2025-06-09").contacts.shown == "0 of 4"
    assert pool.pk not in table.by_person


# --- Each tier against its own level (DESIGN.md rule 7) ----------------------------------------


def on_tier(kw, kind, *, selected_on="2024-01-01", supervision=Supervision.NONE, **fields):
    person = OffenderFactory(key_worker=kw, supervision=supervision, **fields)
    ProgrammeEpisodeFactory(offender=person, kind=kind, selected_on=d(selected_on))
    return person


def one_week(user, *people):
    """The complete week of Monday 9 June 2025 for `people`."""
    table = weekly_compliance(
        user=user,
        as_of=d("2025-06-16"),
        offender_ids=[p.pk for p in people],
        complete_weeks=1,
        include_current=False,
    )
    return {p.pk: week_of(table, p, "2025-06-09") for p in people}


def in_week_of_9_june(count: int) -> list[dt.datetime]:
    return [local(2025, 6, 9 + n, 10) for n in range(count)]


@pytest.mark.parametrize(
    ("kind", "done", "shown", "rag"),
    [
        # IOM, 003 §4.6 "less intensive": two contacts a week by default.
        (ProgrammeKind.IOM, 2, "2 of 2", Rag.GREEN),
        (ProgrammeKind.IOM, 1, "1 of 2", Rag.AMBER),
        # PPO, 001 §3.2b: four.
        (ProgrammeKind.PPO, 4, "4 of 4", Rag.GREEN),
        (ProgrammeKind.PPO, 3, "3 of 4", Rag.AMBER),
        (ProgrammeKind.PPO, 2, "2 of 4", Rag.AMBER),
        # DYO, the intensive Scaled Approach (003 §7.4): four by default.
        (ProgrammeKind.DYO, 4, "4 of 4", Rag.GREEN),
        (ProgrammeKind.DYO, 3, "3 of 4", Rag.AMBER),
    ],
)
def test_each_tier_is_measured_against_its_own_contact_level(db, kind, done, shown, rag):
    manager = staff(Role.PPO_MANAGER)
    worker = staff(Role.KEY_WORKER)
    person = on_tier(None, kind)
    contacts(person, worker, *in_week_of_9_june(done))
    week = one_week(manager, person)[person.pk]
    assert (week.tier, week.contacts.shown, week.contacts.rag) == (kind, shown, rag)
    assert week.contacts.met is (rag is Rag.GREEN)


def test_each_tiers_drug_test_level_for_licensees(db):
    manager = staff(Role.PPO_MANAGER)
    iom = on_tier(None, ProgrammeKind.IOM, supervision=Supervision.LICENCE)
    ppo_person = on_tier(None, ProgrammeKind.PPO, supervision=Supervision.LICENCE)
    dyo = on_tier(None, ProgrammeKind.DYO, supervision=Supervision.LICENCE)
    for person in (iom, ppo_person, dyo):
        drug_tests_at(person, local(2025, 6, 10, 9))
    weeks = one_week(manager, iom, ppo_person, dyo)
    assert (weeks[iom.pk].drug_tests.shown, weeks[iom.pk].drug_tests.met) == ("1 of 1", True)
    assert (weeks[ppo_person.pk].drug_tests.shown, weeks[ppo_person.pk].drug_tests.met) == (
        "1 of 2",
        False,
    )
    # The guidance sets no drug testing for young people: no DYO test target by default.
    assert weeks[dyo.pk].drug_tests.applies is False
    assert weeks[dyo.pk].drug_tests.not_applicable_because == "No drug test target set for DYOs"


def test_each_tiers_level_comes_from_the_scheme_settings(db):
    Scheme.objects.create(
        name="S",
        area="A",
        iom_contact_target_per_week=3,
        iom_drug_test_target_per_week=2,
        dyo_contact_target_per_week=0,
    )
    manager = staff(Role.PPO_MANAGER)
    worker = staff(Role.KEY_WORKER)
    iom = on_tier(None, ProgrammeKind.IOM, supervision=Supervision.LICENCE)
    dyo = on_tier(None, ProgrammeKind.DYO)
    contacts(iom, worker, *in_week_of_9_june(2))
    drug_tests_at(iom, local(2025, 6, 10, 9), local(2025, 6, 11, 9))
    weeks = one_week(manager, iom, dyo)
    assert weeks[iom.pk].contacts.shown == "2 of 3"
    assert weeks[iom.pk].contacts.rag is Rag.AMBER
    assert weeks[iom.pk].drug_tests.shown == "2 of 2"
    # A level of 0 sets no target: not assessed, and said so.
    assert weeks[dyo.pk].contacts.applies is False
    assert weeks[dyo.pk].contacts.not_applicable_because == "No contact target set for DYOs"


def test_a_week_is_measured_against_the_tier_held_last_in_it(db):
    """Stepped down to IOM on Wednesday 11 June: the IOM level for that week, the PPO level
    the week before; stepped up from IOM on Sunday 15 June: the PPO level that week."""
    manager = staff(Role.PPO_MANAGER)
    worker = staff(Role.KEY_WORKER)
    down = OffenderFactory()
    ProgrammeEpisodeFactory(
        offender=down,
        selected_on=d("2024-01-01"),
        deselected_on=d("2025-06-11"),
        deselection_reason="stepped_down",
    )
    ProgrammeEpisodeFactory(offender=down, kind=ProgrammeKind.IOM, selected_on=d("2025-06-11"))
    up = OffenderFactory()
    ProgrammeEpisodeFactory(
        offender=up,
        kind=ProgrammeKind.IOM,
        selected_on=d("2024-01-01"),
        deselected_on=d("2025-06-15"),
    )
    ProgrammeEpisodeFactory(offender=up, selected_on=d("2025-06-15"))
    for person in (down, up):
        contacts(person, worker, *in_week_of_9_june(2))
        contacts(person, worker, local(2025, 6, 3, 10), local(2025, 6, 4, 10))
    table = weekly_compliance(
        user=manager,
        as_of=d("2025-06-16"),
        offender_ids=[down.pk, up.pk],
        complete_weeks=2,
        include_current=False,
    )
    assert week_of(table, down, "2025-06-02").contacts.shown == "2 of 4"
    assert week_of(table, down, "2025-06-09").contacts.shown == "2 of 2"
    assert week_of(table, down, "2025-06-09").tier == ProgrammeKind.IOM
    assert week_of(table, up, "2025-06-02").contacts.shown == "2 of 2"
    assert week_of(table, up, "2025-06-09").contacts.shown == "2 of 4"


def test_targets_come_from_the_scheme_settings(kw):
    Scheme.objects.create(
        name="S", area="A", contact_target_per_week=3, drug_test_target_per_week=1
    )
    person = ppo(kw, supervision=Supervision.LICENCE)
    contacts(person, kw, *(local(2025, 6, 9 + n, 10) for n in range(3)))
    drug_tests_at(person, local(2025, 6, 10, 9))
    table = weekly_compliance(
        user=kw,
        as_of=d("2025-06-16"),
        offender_ids=[person.pk],
        complete_weeks=1,
        include_current=False,
    )
    week = week_of(table, person, "2025-06-09")
    assert (week.contacts.shown, week.drug_tests.shown) == ("3 of 3", "1 of 1")


# --- Scheme-wide figures on a small constructed scheme -----------------------------------------
#
# as_of Wednesday 18 June 2025. Complete weeks: the 13 from Monday 17 March to Sunday
# 15 June; the last 4 are those starting 19 May, 26 May, 2 June and 9 June.
#
#   A  PPO since 2024, not on licence. 4 contacts in the weeks of 17 Mar, 19 May, 26 May,
#      2 Jun; 3 in the week of 9 Jun; none otherwise. 13 weeks: 4 met of 13; 4 weeks: 3 of 4.
#      This week: 4 contacts.
#   B  PPO from Monday 2 June, on licence. 4 contacts in each of the weeks of 2 and 9 June;
#      tests: 2 in the week of 2 June, 1 in the week of 9 June. Contacts 2 of 2; tests 1 of 2.
#      This week: 1 contact, no test -> below target (red).
#   C  PPO since 2024, on licence, sentenced 1 Jan, released Wednesday 28 May: in custody
#      every day of the 10 weeks 17 Mar - 19 May (n/a). Contacts 0, 4, 4 in the weeks of
#      26 May, 2 Jun, 9 Jun -> 2 of 3; tests 0, 0, 2 -> 1 of 3. This week: 2 contacts, 2 tests
#      -> below target on contacts (amber).
#   D  PPO until Tuesday 1 April (first day off the scheme): weeks of 17 Mar, 24 Mar and 31 Mar
#      assessed with no contacts -> 0 of 3, none in the last 4 weeks.
#   E  a DYO since 2024, not on licence: assessed against the DYO level (4 contacts by
#      default), with one contact in the week of 9 June and none otherwise: 0 of 13, 0 of 4.
#      This week: no contact -> below target (red).
#
# PPOs only (A to D), as the PPO tier's own figures:
#   Contacts, 13 weeks: met 4 + 2 + 2 + 0 = 8 of 13 + 2 + 3 + 3 = 21 -> 38%.
#   Contacts, 4 weeks:  met 3 + 2 + 2 = 7 of 4 + 2 + 3 = 9 -> 78%.
#   Drug tests (B and C), 13 and 4 weeks: met 1 + 1 = 2 of 2 + 3 = 5 -> 40%.
# Every tier together (E's weeks added): contacts 8 of 34 -> 24% over 13 weeks, 7 of 13
# -> 54% over 4; drug tests as for the PPOs (E is not on licence).
# Week of 9 June: A 3 (no), B 4, C 4, D n/a, E 1 (no) -> 2 of 4 -> 50%.

AS_OF = d("2025-06-18")


def four_contacts(person, worker, monday: dt.date, count: int = 4):
    contacts(
        person,
        worker,
        *(
            local(monday.year, monday.month, monday.day, 10) + dt.timedelta(days=n)
            for n in range(count)
        ),
    )


@pytest.fixture
def small_scheme(kw):
    other_kw = staff(Role.KEY_WORKER, username="kw2")
    a = ppo(kw, first_name="Alan", last_name="Adams")
    for monday in ("2025-03-17", "2025-05-19", "2025-05-26", "2025-06-02"):
        four_contacts(a, kw, d(monday))
    four_contacts(a, kw, d("2025-06-09"), 3)
    # This week, up to Wednesday 18 June: four contacts, so not below target.
    contacts(a, kw, local(2025, 6, 16, 9), local(2025, 6, 16, 15), local(2025, 6, 17, 9))
    contacts(a, kw, local(2025, 6, 18, 9))

    b = ppo(
        kw,
        selected_on="2025-06-02",
        supervision=Supervision.LICENCE,
        first_name="Bea",
        last_name="Brown",
    )
    four_contacts(b, kw, d("2025-06-02"))
    four_contacts(b, kw, d("2025-06-09"))
    four_contacts(b, kw, d("2025-06-16"), 1)
    drug_tests_at(b, local(2025, 6, 3, 9), local(2025, 6, 5, 9), local(2025, 6, 10, 9))

    c = ppo(other_kw, supervision=Supervision.LICENCE, first_name="Cal", last_name="Clark")
    CustodyEpisodeFactory(offender=c, started_on=d("2025-01-01"), released_on=d("2025-05-28"))
    four_contacts(c, other_kw, d("2025-06-02"))
    four_contacts(c, other_kw, d("2025-06-09"))
    four_contacts(c, other_kw, d("2025-06-16"), 2)
    drug_tests_at(
        c,
        local(2025, 6, 10, 9),
        local(2025, 6, 12, 9),
        local(2025, 6, 16, 9),
        local(2025, 6, 17, 9),
    )

    deselected = OffenderFactory(key_worker=kw, first_name="Dan", last_name="Dean")
    ProgrammeEpisodeFactory(
        offender=deselected,
        selected_on=d("2024-01-01"),
        deselected_on=d("2025-04-01"),
        deselection_reason="moved_area",
    )
    e = OffenderFactory(key_worker=kw, first_name="Eve", last_name="Evans")
    ProgrammeEpisodeFactory(offender=e, kind=ProgrammeKind.DYO)
    four_contacts(e, kw, d("2025-06-09"), 1)
    return {"a": a, "b": b, "c": c, "d": deselected, "e": e, "other_kw": other_kw}


def test_scheme_figures_for_4_and_13_weeks_match_the_hand_count(small_scheme):
    manager = staff(Role.PPO_MANAGER)
    summary = compliance_summary(user=manager, as_of=AS_OF)
    by_tier = {tier.targets.tier: tier for tier in summary.by_tier}
    four, thirteen = by_tier[ProgrammeKind.PPO].periods
    assert (len(four.weeks), four.first_day, four.last_day) == (4, d("2025-05-19"), d("2025-06-15"))
    assert (len(thirteen.weeks), thirteen.first_day) == (13, d("2025-03-17"))
    assert (thirteen.contacts.met, thirteen.contacts.assessed, thirteen.contacts.share) == (
        8,
        21,
        38,
    )
    assert (four.contacts.met, four.contacts.assessed, four.contacts.share) == (7, 9, 78)
    assert (thirteen.drug_tests.met, thirteen.drug_tests.assessed) == (2, 5)
    assert (four.drug_tests.met, four.drug_tests.assessed, four.drug_tests.shown) == (2, 5, "40%")
    dyo_four, dyo_thirteen = by_tier[ProgrammeKind.DYO].periods
    assert (dyo_thirteen.contacts.met, dyo_thirteen.contacts.assessed) == (0, 13)
    assert (dyo_four.contacts.met, dyo_four.contacts.assessed) == (0, 4)
    assert dyo_four.drug_tests.assessed == 0
    assert not by_tier[ProgrammeKind.IOM].assessed
    every_four, every_thirteen = summary.periods
    assert (every_thirteen.contacts.met, every_thirteen.contacts.assessed) == (8, 34)
    assert (every_four.contacts.met, every_four.contacts.assessed, every_four.contacts.share) == (
        7,
        13,
        54,
    )
    assert (every_four.drug_tests.met, every_four.drug_tests.assessed) == (2, 5)
    week_of_9_june = summary.by_week[0]
    assert week_of_9_june.first_day == d("2025-06-09")
    assert (week_of_9_june.contacts.met, week_of_9_june.contacts.assessed) == (2, 4)
    assert len(summary.by_week) == 13
    # D is counted (on the scheme in the period), and so is the DYO.
    assert summary.people_counted == 5


def test_below_target_this_week_lists_the_worst_first(small_scheme):
    manager = staff(Role.PPO_MANAGER)
    summary = compliance_summary(user=manager, as_of=AS_OF)
    names = [b.offender.first_name for b in summary.below_target]
    assert names == ["Bea", "Eve", "Cal"]  # red (by name), then amber
    bea, eve, cal = summary.below_target
    assert (bea.this_week.contacts.shown, bea.this_week.contacts.rag) == ("1 of 4", Rag.RED)
    assert (eve.this_week.tier, eve.this_week.contacts.shown) == (ProgrammeKind.DYO, "0 of 4")
    assert (cal.this_week.contacts.shown, cal.this_week.drug_tests.shown) == ("2 of 4", "2 of 2")
    event = AuditEvent.objects.get(action=AuditAction.LIST, detail__view="compliance")
    assert event.offender_ids == sorted(small_scheme[k].pk for k in ("b", "c", "e"))


def test_a_key_workers_figures_cover_only_their_people(small_scheme, kw):
    summary = compliance_summary(user=kw, as_of=AS_OF)
    four, thirteen = next(t for t in summary.by_tier if t.targets.tier == "ppo").periods
    assert [b.offender.first_name for b in summary.below_target] == ["Bea", "Eve"]
    # A and B in the last 4 weeks: 3 + 2 met of 4 + 2; tests: B's 1 of 2.
    assert (four.contacts.met, four.contacts.assessed) == (5, 6)
    assert (four.drug_tests.met, four.drug_tests.assessed) == (1, 2)
    # 13 weeks: A 4 of 13, B 2 of 2, D 0 of 3.
    assert (thirteen.contacts.met, thirteen.contacts.assessed) == (6, 18)
    # With their DYO, E: 4 and 13 more weeks, none met.
    every_four, every_thirteen = summary.periods
    assert (every_four.contacts.met, every_four.contacts.assessed) == (5, 10)
    assert (every_thirteen.contacts.met, every_thirteen.contacts.assessed) == (6, 31)


# --- Who may see compliance --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.PPO_MANAGER, True),
        (Role.KEY_WORKER, True),
        (Role.POLICE_OFFICER, True),
        (Role.YOT_WORKER, True),
        (Role.PRISON_WORKER, False),
        (Role.PARTNER_WORKER, False),
        (Role.STEERING_GROUP, False),
        (Role.ADMINISTRATOR, False),
    ],
)
def test_only_roles_reading_every_contact_see_compliance(db, role, allowed):
    actor = actor_for(staff(role))
    assert can_see_compliance(actor) is allowed


def test_a_partner_cannot_compute_compliance(db):
    partner = staff(Role.PARTNER_WORKER)
    with pytest.raises(NotPermitted):
        weekly_compliance(user=partner, as_of=AS_OF, offender_ids=[])
    with pytest.raises(NotPermitted):
        compliance_summary(user=partner, as_of=AS_OF)


def test_people_outside_scope_are_dropped(db):
    yot = staff(Role.YOT_WORKER)
    adult = ppo(None, date_of_birth=d("1980-01-01"))
    table = weekly_compliance(user=yot, as_of=AS_OF, offender_ids=[adult.pk])
    assert table.by_person == {}


# --- The page ---------------------------------------------------------------------------------


def get_page(client, user):
    sign_in(client, user)
    return client.get(reverse("offenders:compliance"))


@pytest.fixture
def on_18_june(time_machine):
    time_machine.move_to(local(2025, 6, 18, 12, 0), tick=False)


def test_page_for_a_key_worker_lists_only_their_people(client, small_scheme, kw, on_18_june):
    response = get_page(client, kw)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Premium service compliance" in page
    assert "Bea Brown" in page
    assert "Cal Clark" not in page  # someone else's
    assert "83%" in page  # PPOs, last 4 weeks, 5 of 6 PPO-weeks
    assert "50%" in page  # every tier, last 4 weeks: 5 of 10 person-weeks
    assert "2 contacts a week; 1 drug test a week for people on licence" in page  # IOM


def test_page_for_a_manager_shows_the_scheme(client, small_scheme, on_18_june):
    page = get_page(client, staff(Role.PPO_MANAGER)).content.decode()
    assert "Bea Brown" in page and "Cal Clark" in page
    assert "78%" in page and "38%" in page
    assert "Red – below half" in page and "Amber – half or more" in page


@pytest.mark.parametrize("role", [Role.PARTNER_WORKER, Role.PRISON_WORKER, Role.STEERING_GROUP])
def test_page_refuses_roles_that_see_part_of_the_record(client, small_scheme, role, on_18_june):
    if role == Role.PARTNER_WORKER:
        treatment = AgencyFactory(name="Treatment / CJIT agency", kind=AgencyKind.TREATMENT)
        user = staff(role, agency=treatment)
        ReferralFactory(offender=small_scheme["b"], agency=treatment)
    else:
        user = staff(role)
    response = get_page(client, user)
    assert response.status_code == 403
    assert "Bea Brown" not in response.content.decode()
    assert AuditEvent.objects.filter(action=AuditAction.DENIED, user=user).exists()


def test_page_query_count_does_not_grow_with_the_scheme(client, kw, on_18_june):
    def add(count):
        for _ in range(count):
            person = ppo(kw, supervision=Supervision.LICENCE)
            contacts(person, kw, local(2025, 6, 10, 9), local(2025, 6, 17, 9))
            drug_tests_at(person, local(2025, 6, 11, 9))

    def measure():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("offenders:compliance")).status_code == 200
        return len(ctx.captured_queries)

    sign_in(client, kw)
    add(5)
    client.get(reverse("offenders:compliance"))  # creates the scheme settings row once
    small = measure()
    add(60)
    assert measure() == small
