"""The standards interface (offenders.standards) and the contact and drug-test standards
registered on it (offenders.contact_levels): percentages, the registry, who gets which
measure, and the person-weeks that meet each person's own level."""

from __future__ import annotations

import datetime as dt

import pytest

from access.models import Role
from access.policy import Actor, actor_for
from offenders import standards
from offenders.standards import StandardMeasure, measures, register
from tests.factories import staff


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@pytest.fixture
def registry():
    """The registry as the apps left it, restored after the test."""
    saved = dict(standards._registry)
    yield standards._registry
    standards._registry.clear()
    standards._registry.update(saved)


# --- StandardMeasure --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("met", "total", "expected"),
    [
        (1, 8, 12.5),
        (1, 3, 33.3),
        (2, 3, 66.7),  # 66.66… rounds up
        (1, 16, 6.3),  # 6.25: a half rounds up
        (3, 3, 100.0),
        (0, 5, 0.0),
        (0, 0, None),  # nothing measured: no percentage, not 0%
    ],
)
def test_percentage_to_one_decimal_place_halves_up(met, total, expected):
    measure = StandardMeasure(key="k", label="L", citation="001 §3.2b", met=met, total=total)
    assert measure.percentage == expected


def test_shown_says_when_nothing_was_measured():
    assert StandardMeasure("k", "L", "c", 1, 8).shown == "12.5%"
    assert StandardMeasure("k", "L", "c", 3, 3).shown == "100.0%"
    assert StandardMeasure("k", "L", "c", 0, 0).shown == "No cases in the period"


@pytest.mark.parametrize(("met", "total"), [(5, 4), (-1, 3), (0, -1)])
def test_a_measure_cannot_meet_more_than_it_counts(met, total):
    with pytest.raises(ValueError):
        StandardMeasure("k", "L", "c", met, total)


# --- The registry -------------------------------------------------------------------------------


def test_measures_calls_every_registered_function_in_order_and_drops_none(db, registry):
    registry.clear()
    calls: list[tuple[str, dt.date, dt.date]] = []

    @register
    def first(actor: Actor, first_day: dt.date, last_day: dt.date) -> StandardMeasure | None:
        calls.append((str(actor.role), first_day, last_day))
        return StandardMeasure("first", "First", "001 §3.2b", 1, 2)

    @register
    def not_for_this_reader(actor: Actor, first_day: dt.date, last_day: dt.date) -> None:
        return None

    @register
    def second(actor: Actor, first_day: dt.date, last_day: dt.date) -> StandardMeasure | None:
        return StandardMeasure("second", "Second", "001 §3.2e", 0, 0)

    register(first)  # ready() may run twice: registering again is harmless
    manager = staff(Role.PPO_MANAGER)
    found = measures(user=manager, first_day=d("2025-04-01"), last_day=d("2025-06-30"))
    assert [m.key for m in found] == ["first", "second"]
    assert calls == [(Role.PPO_MANAGER, d("2025-04-01"), d("2025-06-30"))]


def test_the_reader_is_passed_as_an_actor(db, registry):
    registry.clear()
    seen: list[Actor] = []

    @register
    def who(actor: Actor, first_day: dt.date, last_day: dt.date) -> None:
        seen.append(actor)

    kw = staff(Role.KEY_WORKER)
    measures(user=kw, first_day=d("2025-06-02"), last_day=d("2025-06-08"))
    measures(user=actor_for(kw), first_day=d("2025-06-02"), last_day=d("2025-06-08"))
    assert [a.role for a in seen] == [Role.KEY_WORKER, Role.KEY_WORKER]
    assert all(isinstance(a, Actor) and a.user == kw for a in seen)


def test_a_period_ending_before_it_starts_is_refused(db):
    with pytest.raises(ValueError):
        measures(user=staff(Role.PPO_MANAGER), first_day=d("2025-06-08"), last_day=d("2025-06-02"))


# --- Financial-year quarters ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "label", "first", "last"),
    [
        ("2025-03-31", "Q4 2024–25", "2025-01-01", "2025-03-31"),
        ("2025-04-01", "Q1 2025–26", "2025-04-01", "2025-06-30"),
        ("2025-06-30", "Q1 2025–26", "2025-04-01", "2025-06-30"),
        ("2025-07-01", "Q2 2025–26", "2025-07-01", "2025-09-30"),
        ("2025-12-31", "Q3 2025–26", "2025-10-01", "2025-12-31"),
        ("2026-01-01", "Q4 2025–26", "2026-01-01", "2026-03-31"),
    ],
)
def test_financial_year_quarters_at_their_boundaries(day, label, first, last):
    from offenders.compliance import quarter_containing

    quarter = quarter_containing(d(day))
    assert (quarter.label, quarter.first_day, quarter.last_day) == (label, d(first), d(last))


def test_the_quarter_before_crosses_the_financial_year():
    from offenders.compliance import quarter_containing

    assert quarter_containing(d("2025-05-10")).before().label == "Q4 2024–25"
    assert quarter_containing(d("2026-01-10")).before().label == "Q3 2025–26"


# --- The standards on the compliance page --------------------------------------------------------


AS_OF = dt.date(2025, 6, 18)


def _ppo(**fields):
    from tests.factories import OffenderFactory, ProgrammeEpisodeFactory

    person = OffenderFactory(**fields)
    ProgrammeEpisodeFactory(offender=person, selected_on=d("2024-01-01"))
    return person


def _attend(person, *days):
    from zoneinfo import ZoneInfo

    from tests.factories import ContactFactory

    for day in days:
        at = dt.datetime(day.year, day.month, day.day, 10, tzinfo=ZoneInfo("Europe/London"))
        ContactFactory(offender=person, occurred_at=at)


@pytest.fixture
def measured(db):
    """One PPO with their own level of 2 from Monday 2 June, who has two attended contacts
    every week from 31 March to 15 June 2025 (weeks of the PPO tier's 4 before that)."""
    from offenders.models import ContactLevel

    person = _ppo()
    ContactLevel.objects.create(
        offender=person,
        contacts_per_week=2,
        drug_tests_per_week=0,
        starts_on=d("2025-06-02"),
        reason="Conference",
    )
    monday = d("2025-03-31")
    while monday <= d("2025-06-09"):
        _attend(person, monday, monday + dt.timedelta(days=2))
        monday += dt.timedelta(weeks=1)
    return person


def test_standards_summary_for_the_week_and_the_two_quarters(measured):
    from offenders.compliance import standards_summary

    table = standards_summary(user=staff(Role.PPO_MANAGER), as_of=AS_OF)
    assert [(p.label, p.first_day, p.last_day) for p in table.periods] == [
        ("Last complete week", d("2025-06-09"), d("2025-06-15")),
        ("Q1 2025–26 so far", d("2025-04-01"), AS_OF),
        ("Q4 2024–25", d("2025-01-01"), d("2025-03-31")),
    ]
    rows = {row.key: row for row in table.rows}
    week, quarter, previous = rows["contacts"].cells
    assert (week.met, week.total) == (1, 1)
    # Q1 so far: the weeks of 7 April to 9 June (the week of 31 March is Q4's: its Monday
    # is); met in the two weeks of the person's own level of 2 (2 and 9 June).
    assert (quarter.met, quarter.total, quarter.percentage) == (2, 10, 20.0)
    # Q4: the 13 weeks whose Monday is from 1 January to 31 March 2025, at the tier's 4.
    assert (previous.met, previous.total) == (0, 13)
    assert rows["contacts"].citation == "001 §3.2b"
    assert rows["drug_tests"].cells[0].total == 0  # not on licence: no drug-test weeks


def test_standards_are_not_for_roles_that_see_part_of_the_record(measured):
    from offenders.compliance import standards_summary

    table = standards_summary(user=staff(Role.PRISON_WORKER), as_of=AS_OF)
    assert not {"contacts", "drug_tests"} & {row.key for row in table.rows}


def test_the_compliance_page_shows_the_standards(client, measured, time_machine):
    from zoneinfo import ZoneInfo

    from django.urls import reverse

    from tests.factories import sign_in

    time_machine.move_to(dt.datetime(2025, 6, 18, 12, tzinfo=ZoneInfo("Europe/London")), tick=False)
    sign_in(client, staff(Role.PPO_MANAGER))
    page = client.get(reverse("offenders:compliance")).content.decode()
    assert 'data-testid="standards"' in page
    assert 'data-standard="contacts"' in page and 'data-standard="drug_tests"' in page
    assert "Q1 2025–26 so far" in page and "Q4 2024–25" in page
    assert "20.0%" in page and "2 of 10" in page
    assert "No cases in the period" in page  # drug tests
