"""Proven re-offending as 004 reports it: 74.9% and 4.70 offences per re-offender, 77.3%
the year before and a fall of 2.3 points; 1.2% of offenders and 5.6% of re-offences; the
profile at identification."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from access.errors import ApplicationError, NotPermitted
from access.models import Role
from offenders.models import EventKind, ProgrammeEpisode
from reporting.measures.reoffending import proven_reoffending
from tests.factories import OffenderFactory, staff

from .measure_data import events, ppo

AS_OF = dt.date(2025, 10, 1)
YEAR = 2024  # 1 April 2024 – 31 March 2025


@pytest.fixture
def shaped_like_004(db):
    """267 people managed as PPOs in 2024/25, 200 of whom committed 940 proven offences
    in it (74.906%, 4.70 each); 211 managed in 2023/24, 163 of whom re-offended (77.251%)."""
    both_years = [ppo(dt.date(2023, 1, 1)) for _ in range(211)]
    this_year_only = [ppo(dt.date(2024, 6, 1)) for _ in range(56)]
    for person in both_years[:163]:
        events(person, EventKind.CONVICTION, [dt.date(2023, 7, 1)])
    reoffenders = both_years[:150] + this_year_only[:50]
    for i, person in enumerate(reoffenders):
        n = 5 if i < 140 else 4
        # Convictions and cautions alike are proven (the MoJ measure).
        events(person, EventKind.CONVICTION, [dt.date(2024, 4, 1)] * (n - 1))
        events(person, EventKind.CAUTION, [dt.date(2025, 3, 31)])
    # Not proven, outside the year, or recorded after the day: never counted.
    for person in both_years[150:]:
        events(person, EventKind.ARREST, [dt.date(2024, 5, 1)])
        events(person, EventKind.CHARGE, [dt.date(2024, 5, 1)])
        events(person, EventKind.CONVICTION, [dt.date(2023, 3, 31), dt.date(2025, 4, 1)])
    events(
        both_years[200],
        EventKind.CONVICTION,
        [dt.date(2025, 1, 1)],
        recorded_on=AS_OF + dt.timedelta(1),
    )
    # De-selected on 1 April 2023 (their first day off): managed in neither year.
    gone = ppo(dt.date(2022, 1, 1), dt.date(2023, 4, 1))
    events(gone, EventKind.CONVICTION, [dt.date(2023, 7, 1), dt.date(2024, 7, 1)])


def test_rate_and_offences_per_reoffender_as_004(shaped_like_004):
    figures = proven_reoffending(user=staff(Role.STEERING_GROUP), as_of=AS_OF, year=YEAR)
    year = figures.this_year
    assert (year.managed, year.reoffenders, year.reoffences) == (267, 200, 940)
    assert year.rate_percent == Decimal("74.9")
    assert year.offences_per_reoffender == Decimal("4.70")
    assert year.complete is True
    last = figures.last_year
    assert (last.managed, last.reoffenders) == (211, 163)
    assert last.rate_percent == Decimal("77.3")
    # From the exact rates, as 004 prints it: 77.25% → 74.91% is 2.3 points, not 2.4.
    assert figures.change_points == Decimal("-2.3")


def test_the_year_is_complete_six_months_after_it_ends(shaped_like_004):
    figures = proven_reoffending(
        user=staff(Role.PPO_MANAGER), as_of=dt.date(2025, 9, 29), year=YEAR
    )
    assert figures.this_year.complete is False


def test_shares_of_all_offenders_and_of_all_proven_reoffences_and_the_profile(db):
    # 3 PPOs managed in 2024/25, with 14 proven offences in it.
    first = ppo(dt.date(2022, 1, 10), date_of_birth=dt.date(1990, 1, 11))  # 31 on the day
    events(first, EventKind.CONVICTION, [dt.date(2021, 1, 1)] * 3 + [dt.date(2022, 1, 10)])
    events(first, EventKind.CONVICTION, [dt.date(2024, 6, 1)] * 5)
    again = OffenderFactory(date_of_birth=dt.date(1994, 5, 1))  # 25 at first selection
    ProgrammeEpisode.objects.create(
        offender=again,
        selected_on=dt.date(2019, 5, 1),
        deselected_on=dt.date(2020, 1, 1),
        deselection_reason="stopped_offending",
    )
    ProgrammeEpisode.objects.create(offender=again, selected_on=dt.date(2024, 5, 1))
    events(again, EventKind.CAUTION, [dt.date(2024, 6, 1)] * 4)
    # Selected on the year's last day: managed in it.
    last_day = ppo(dt.date(2025, 3, 31), date_of_birth=dt.date(1985, 3, 31))  # 40
    events(last_day, EventKind.CONVICTION, [dt.date(2015, 1, 1)] * 5 + [dt.date(2025, 3, 31)] * 5)
    # Selected the day after: not managed in 2024/25, an offender like any other.
    after = ppo(dt.date(2025, 4, 1))
    events(after, EventKind.CONVICTION, [dt.date(2024, 9, 1)])
    # 246 more offenders: 235 proven offences in the year, 11 proven only before it.
    for i in range(246):
        person = OffenderFactory()
        events(
            person, EventKind.CONVICTION, [dt.date(2024, 8, 1) if i < 235 else dt.date(2020, 1, 1)]
        )
    # Known but never proven to offend, or proven only after the day: not offenders.
    for _ in range(5):
        events(OffenderFactory(), EventKind.ARREST, [dt.date(2024, 8, 1)])
    events(
        OffenderFactory(),
        EventKind.CONVICTION,
        [dt.date(2024, 8, 1)],
        recorded_on=AS_OF + dt.timedelta(1),
    )

    figures = proven_reoffending(user=staff(Role.STEERING_GROUP), as_of=AS_OF, year=YEAR)
    year = figures.this_year
    assert (year.managed, year.reoffenders, year.reoffences) == (3, 3, 14)
    assert (year.all_offenders, year.all_reoffences) == (250, 250)
    assert year.share_of_offenders_percent == Decimal("1.2")
    assert year.share_of_reoffences_percent == Decimal("5.6")
    assert figures.last_year.managed == 1  # `first`, on the tier since 2022
    profile = figures.profile
    # Convictions before first selection: 3, 0 (none before 2019), 5 → 2.7; ages 31, 25, 40.
    assert (profile.people, profile.average_convictions_before) == (3, Decimal("2.7"))
    assert profile.average_age == Decimal("32.0")


def test_an_empty_scheme_gives_no_rates(db):
    figures = proven_reoffending(user=staff(Role.STEERING_GROUP), as_of=AS_OF, year=YEAR)
    assert (figures.this_year.managed, figures.this_year.rate_percent) == (0, None)
    assert figures.this_year.offences_per_reoffender is None
    assert figures.change_points is None
    assert figures.profile.average_age is None


def test_a_key_worker_is_refused(db):
    with pytest.raises(NotPermitted):
        proven_reoffending(user=staff(Role.KEY_WORKER), as_of=AS_OF, year=YEAR)


def test_a_year_not_started_or_a_future_day_is_refused(db):
    with pytest.raises(ApplicationError, match="no figures for it yet"):
        proven_reoffending(user=staff(Role.STEERING_GROUP), as_of=AS_OF, year=2026)
    with pytest.raises(ApplicationError, match="in the future"):
        proven_reoffending(
            user=staff(Role.STEERING_GROUP), as_of=dt.date.today() + dt.timedelta(days=1)
        )
