"""The local measure (001 §5.1–5.2): the seed's 153 → 103 → 32.7%, 30 → 60 → 60.8%, and
the 37.7% target, from data built here; its windows to the day."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from access.errors import ApplicationError, NotPermitted
from access.models import Role
from offenders.models import EventKind
from reporting.measures.local_measure import local_measure
from tests.factories import staff

from .measure_data import confirmed_cohort, events, ppo, share_out, spread

AS_OF = dt.date(2025, 9, 30)
# The seed's 32 offenders (001 §5.1), entering the scheme in the first quarter of 2024.
PEOPLE = 32
ENTRIES = spread(dt.date(2024, 1, 1), dt.date(2024, 3, 31), PEOPLE)


def months(day: dt.date, n: int) -> dt.date:
    from reporting.measures.common import add_months

    return add_months(day, n)


@pytest.fixture
def seed_scheme(db):
    """001 §5.1–5.2, shaped: 153 charges in the 12 months before each entry, 103 in the
    12 months after, 30 from April to September 2025; and everything that must not count."""
    people = []
    before = share_out(153, PEOPLE)
    after = share_out(103, PEOPLE)
    # 30 charges from 1 April to 30 September 2025, one each for 30 of them.
    in_year = spread(dt.date(2025, 4, 1), AS_OF, 30)
    for i, entry in enumerate(ENTRIES):
        # One member is de-selected in June 2025: still measured, still tracked.
        person = ppo(entry, dt.date(2025, 6, 15) if i == 0 else None)
        people.append(person)
        events(
            person, EventKind.CHARGE, spread(months(entry, -12), entry - dt.timedelta(1), before[i])
        )
        after_ends = months(entry, 12) - dt.timedelta(1)
        events(person, EventKind.CHARGE, spread(entry, after_ends, after[i]))
        events(person, EventKind.CHARGE, in_year[i : i + 1])
        # Not charges, or outside every window: never counted.
        events(person, EventKind.ARREST, [entry, months(entry, -1)])
        events(person, EventKind.CHARGE, [months(entry, -12) - dt.timedelta(1)])
        events(person, EventKind.CONVICTION, [entry])
    # A charge between the end of the first year on and 1 April 2025 (counted nowhere),
    # and one committed in September but recorded after the "as at" day.
    events(people[-1], EventKind.CHARGE, [dt.date(2025, 3, 31)])
    events(people[1], EventKind.CHARGE, [dt.date(2025, 9, 20)], recorded_on=dt.date(2025, 10, 1))
    # Selected in the period but less than 12 months before AS_OF would be another group;
    # people selected later, and a person only in the known-offender pool, are not in it.
    late = ppo(dt.date(2025, 5, 1))
    events(late, EventKind.CHARGE, [dt.date(2025, 6, 1)] * 4)
    return people


def test_seed_figures_for_people_selected_in_a_period(seed_scheme):
    figures = local_measure(
        user=staff(Role.STEERING_GROUP),
        as_of=AS_OF,
        date_from=dt.date(2024, 1, 1),
        date_to=dt.date(2024, 3, 31),
    )
    assert figures.people == 32
    assert figures.people_measured == 32
    assert (figures.charges_before, figures.charges_after) == (153, 103)
    assert figures.reduction_percent == Decimal("32.7")
    # "a further 5% per annum": 32.7% becomes 37.7% (the seed wrote 32% and 37%).
    assert figures.target_reduction_percent == Decimal("37.7")
    assert figures.projection_year == "2025/26"
    assert figures.months_counted == 6
    assert figures.charges_in_year == 30
    assert figures.projected_charges == Decimal("60.0")
    assert figures.projected_reduction_percent == Decimal("60.8")


def test_seed_figures_for_the_cohort_of_the_year(seed_scheme):
    confirmed_cohort(2025, seed_scheme)
    figures = local_measure(user=staff(Role.PPO_MANAGER), as_of=AS_OF, cohort=2025)
    assert figures.group == "The 2025/26 NI30 cohort"
    assert (figures.people, figures.charges_before, figures.charges_after) == (32, 153, 103)
    assert (figures.reduction_percent, figures.target_reduction_percent) == (
        Decimal("32.7"),
        Decimal("37.7"),
    )
    assert (figures.charges_in_year, figures.projected_reduction_percent) == (30, Decimal("60.8"))


def test_the_target_is_a_further_n_points_a_year(seed_scheme):
    figures = local_measure(
        user=staff(Role.STEERING_GROUP),
        as_of=AS_OF,
        date_from=dt.date(2024, 1, 1),
        date_to=dt.date(2024, 3, 31),
        further_percent_a_year="4.5",
        target_years=3,
    )
    # 001 §5.1: "a further 15% over three years": 32.68% + 3 × 4.5 = 46.18%.
    assert figures.target_reduction_percent == Decimal("46.2")


def test_only_whole_months_of_the_year_are_annualised(seed_scheme):
    figures = local_measure(
        user=staff(Role.STEERING_GROUP),
        as_of=dt.date(2025, 9, 29),
        date_from=dt.date(2024, 1, 1),
        date_to=dt.date(2024, 3, 31),
    )
    # September has not ended: April–August, 5 months, and September's charges wait.
    assert figures.months_counted == 5
    assert figures.charges_in_year < 30
    assert figures.projected_charges == Decimal(figures.charges_in_year * 12) / 5


def test_windows_the_day_before_entry_is_before_and_the_entry_day_after(db):
    entry = dt.date(2024, 3, 1)
    person = ppo(entry)
    # Before: 1 March 2023 – 29 February 2024. After: 1 March 2024 – 28 February 2025.
    events(person, EventKind.CHARGE, [dt.date(2023, 2, 28)])  # 12 months + 1 day before
    events(person, EventKind.CHARGE, [dt.date(2023, 3, 1), dt.date(2024, 2, 29)])
    events(person, EventKind.CHARGE, [entry, entry, dt.date(2025, 2, 28)])
    events(person, EventKind.CHARGE, [dt.date(2025, 3, 1)])  # the 13th month
    manager = staff(Role.PPO_MANAGER)

    def measured(as_of: dt.date):  # type: ignore[no-untyped-def]
        return local_measure(user=manager, as_of=as_of, date_from=entry, date_to=entry)

    waiting = measured(dt.date(2025, 2, 27))
    assert (waiting.people, waiting.people_measured, waiting.people_not_yet_12_months) == (1, 0, 1)
    assert (waiting.charges_before, waiting.charges_after, waiting.reduction_percent) == (
        0,
        0,
        None,
    )

    done = measured(dt.date(2025, 2, 28))
    assert (done.people_measured, done.charges_before, done.charges_after) == (1, 2, 3)
    assert done.reduction_percent == Decimal("-50.0")


def test_a_person_selected_twice_in_the_period_counts_once_from_the_first(db):
    person = ppo(dt.date(2023, 1, 10), dt.date(2023, 6, 1))
    from offenders.models import ProgrammeEpisode

    ProgrammeEpisode.objects.create(offender=person, selected_on=dt.date(2023, 9, 1))
    events(person, EventKind.CHARGE, [dt.date(2022, 12, 1), dt.date(2023, 8, 1)])
    figures = local_measure(
        user=staff(Role.STEERING_GROUP),
        as_of=dt.date(2025, 1, 1),
        date_from=dt.date(2023, 1, 1),
        date_to=dt.date(2023, 12, 31),
    )
    assert (figures.people, figures.charges_before, figures.charges_after) == (1, 1, 1)


def test_an_empty_group_gives_no_percentages_and_no_division_by_zero(db):
    figures = local_measure(
        user=staff(Role.STEERING_GROUP),
        as_of=AS_OF,
        date_from=dt.date(2024, 1, 1),
        date_to=dt.date(2024, 3, 31),
    )
    assert (figures.people, figures.reduction_percent, figures.target_reduction_percent) == (
        0,
        None,
        None,
    )
    assert figures.projected_reduction_percent is None


def test_a_key_worker_is_refused(seed_scheme):
    with pytest.raises(NotPermitted):
        local_measure(
            user=staff(Role.KEY_WORKER),
            as_of=AS_OF,
            date_from=dt.date(2024, 1, 1),
            date_to=dt.date(2024, 3, 31),
        )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"date_from": dt.date(2024, 1, 1)}, "both the first and the last day"),
        ({"date_from": dt.date(2024, 3, 1), "date_to": dt.date(2024, 1, 1)}, "must end on or"),
        ({"date_from": dt.date(2025, 9, 1), "date_to": dt.date(2025, 10, 1)}, "after the “as at”"),
        ({"cohort": 2025, "date_from": dt.date(2024, 1, 1)}, "not both"),
        ({"cohort": 2025}, "no NI30 cohort for 2025/26"),
        ({"cohort": 2024, "further_percent_a_year": "x"}, "percentage"),
    ],
)
def test_bad_input_is_a_clear_message(db, options, message):
    with pytest.raises(ApplicationError, match=message):
        local_measure(user=staff(Role.STEERING_GROUP), as_of=AS_OF, **options)


def test_a_future_day_is_refused(db):
    with pytest.raises(ApplicationError, match="in the future"):
        local_measure(
            user=staff(Role.STEERING_GROUP),
            as_of=dt.date.today() + dt.timedelta(days=1),
            date_from=dt.date(2024, 1, 1),
            date_to=dt.date(2024, 3, 31),
        )


def test_queries_do_not_grow_with_the_group(seed_scheme, django_assert_max_num_queries):
    user = staff(Role.STEERING_GROUP)
    with django_assert_max_num_queries(5):
        local_measure(
            user=user, as_of=AS_OF, date_from=dt.date(2024, 1, 1), date_to=dt.date(2024, 3, 31)
        )
