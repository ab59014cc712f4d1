"""Scheme figures: exact headline counts, and a breakdown by age and sex that cannot be undone."""

from __future__ import annotations

import datetime as dt

import pytest

from access.errors import NotPermitted
from access.models import Role
from access.policy import actor_for
from access.tests.test_disclosure import pinned_down, small_shown
from offenders.models import CustodyKind, Offender, ProgrammeKind, Sex, years_before
from reporting.selectors import scheme_by_age_and_sex, scheme_headline
from tests.factories import (
    CustodyEpisodeFactory,
    OffenderFactory,
    ProgrammeEpisodeFactory,
    staff,
)

AS_OF = dt.date(2025, 6, 3)
UNDER_18 = years_before(AS_OF, 16)
ADULT = years_before(AS_OF, 30)


def ppo(sex: str, date_of_birth: dt.date, **fields: object) -> Offender:
    person = OffenderFactory(sex=sex, date_of_birth=date_of_birth, **fields)
    ProgrammeEpisodeFactory(
        offender=person, kind=ProgrammeKind.PPO, selected_on=dt.date(2024, 1, 1)
    )
    return person


def not_counted() -> None:
    """People who are not PPOs on the scheme on AS_OF, one of each kind."""
    OffenderFactory(sex=Sex.MALE, date_of_birth=ADULT)  # the known-offender pool
    ProgrammeEpisodeFactory(
        offender=OffenderFactory(sex=Sex.MALE, date_of_birth=ADULT),
        selected_on=dt.date(2024, 1, 1),
        deselected_on=dt.date(2025, 5, 1),
    )
    ProgrammeEpisodeFactory(
        offender=OffenderFactory(sex=Sex.FEMALE, date_of_birth=UNDER_18),
        kind=ProgrammeKind.DYO,
        selected_on=dt.date(2024, 1, 1),
    )
    ProgrammeEpisodeFactory(
        offender=OffenderFactory(sex=Sex.FEMALE, date_of_birth=ADULT),
        selected_on=AS_OF + dt.timedelta(days=1),
    )


def grid(table: object) -> list[list[int | None]]:
    rows = [[*(c.value for c in row.cells), row.total.value] for row in table.rows]  # type: ignore[attr-defined]
    totals = table.totals  # type: ignore[attr-defined]
    return [*rows, [*(c.value for c in totals.cells), totals.total.value]]


def test_headline_counts_are_exact_for_the_steering_group_however_small(db):
    community = ppo(Sex.MALE, ADULT, crasbo=True)
    ppo(Sex.FEMALE, ADULT)
    sentenced = ppo(Sex.MALE, ADULT)
    remanded = ppo(Sex.MALE, ADULT)
    CustodyEpisodeFactory(offender=sentenced, started_on=dt.date(2025, 1, 1))
    CustodyEpisodeFactory(offender=remanded, kind=CustodyKind.REMAND, started_on=AS_OF)
    CustodyEpisodeFactory(offender=community, started_on=dt.date(2024, 2, 1), released_on=AS_OF)
    not_counted()

    for role in (Role.STEERING_GROUP, Role.PPO_MANAGER):
        figures = {f.label: f.value for f in scheme_headline(user=staff(role), as_of=AS_OF)}
        assert figures["PPOs on the scheme"] == 4
        assert figures["In the community"] == 2
        assert figures["In custody, sentenced"] == 1
        assert figures["Remanded in custody"] == 1
        assert figures["With a CRASBO"] == 1


def test_only_the_steering_group_and_ppo_managers_see_scheme_figures(db):
    ppo(Sex.MALE, ADULT)
    for role in (Role.KEY_WORKER, Role.POLICE_OFFICER, Role.ADMINISTRATOR):
        user = staff(role)
        with pytest.raises(NotPermitted):
            scheme_headline(user=user, as_of=AS_OF)
        with pytest.raises(NotPermitted):
            scheme_by_age_and_sex(user=user, as_of=AS_OF)


def test_breakdown_counts_ppos_by_age_band_on_the_day_and_by_sex(db):
    turns_18_tomorrow = AS_OF.replace(year=AS_OF.year - 18) + dt.timedelta(days=1)
    turned_18_today = AS_OF.replace(year=AS_OF.year - 18)
    for _ in range(4):
        ppo(Sex.MALE, UNDER_18)
    youngest_adult = ppo(Sex.MALE, turned_18_today)
    oldest_child = ppo(Sex.MALE, turns_18_tomorrow)
    for _ in range(4):
        ppo(Sex.MALE, ADULT)
    for _ in range(6):
        ppo(Sex.FEMALE, ADULT)
    for sex in (Sex.OTHER, Sex.OTHER, Sex.OTHER, Sex.UNKNOWN, Sex.UNKNOWN):
        ppo(sex, ADULT)
    not_counted()
    assert oldest_child.age_on(AS_OF) == 17 and youngest_adult.age_on(AS_OF) == 18

    table = scheme_by_age_and_sex(user=staff(Role.STEERING_GROUP), as_of=AS_OF)

    assert table.column_labels == ("Male", "Female", "Other or not known")
    assert [row.label for row in table.rows] == ["Under 18", "18 and over"]
    # Nothing is 1 to 4, so nothing is hidden and every count is the true one.
    assert grid(table) == [[5, 0, 0, 5], [5, 6, 5, 16], [10, 6, 5, 21]]
    assert not table.any_hidden
    assert table.caption == "PPOs on the scheme on 3 June 2025, by age and sex"


def test_breakdown_hides_a_small_count_and_every_count_that_would_give_it_away(db):
    for _ in range(2):
        ppo(Sex.MALE, UNDER_18)
    for _ in range(7):
        ppo(Sex.MALE, ADULT)
    for _ in range(6):
        ppo(Sex.FEMALE, ADULT)
    for _ in range(5):
        ppo(Sex.UNKNOWN, ADULT)

    for role in (Role.STEERING_GROUP, Role.PPO_MANAGER):
        table = scheme_by_age_and_sex(user=staff(role), as_of=AS_OF)
        shown = grid(table)
        assert shown[0][0] is None, "2 boys under 18"
        assert shown[0][3] is None, "the under-18 total is the same 2"
        assert shown[0][1] == 0 and shown[0][2] == 0
        assert shown[2][3] == 20, "the grand total is the exact headline count"
        assert small_shown(shown, fixed={(2, 3)}) == set()
        assert pinned_down(shown) == set()
        assert table.any_hidden
        assert "[c] not shown" in table.note


def test_breakdown_total_is_the_headline_count_of_ppos_on_the_scheme(db):
    for sex, born in ((Sex.MALE, UNDER_18), (Sex.FEMALE, ADULT), (Sex.OTHER, ADULT)):
        ppo(sex, born)
    not_counted()
    steering = staff(Role.STEERING_GROUP)
    headline = {f.label: f.value for f in scheme_headline(user=steering, as_of=AS_OF)}
    table = scheme_by_age_and_sex(user=steering, as_of=AS_OF)
    assert headline["PPOs on the scheme"] == 3
    assert table.totals.total.value == 3
    # Three people in three cells: each 1 is hidden, and so is every total but the
    # published one; the zeros stay (a zero names no one).
    assert table.totals.total.text == "3"
    assert grid(table) == [[None, 0, 0, None], [0, None, None, None], [None, None, None, 3]]
    assert pinned_down(grid(table)) == set()


def test_breakdown_is_one_query_however_many_people(db, django_assert_num_queries):
    actor = actor_for(staff(Role.STEERING_GROUP), AS_OF)
    for i in range(12):
        ppo((Sex.MALE, Sex.FEMALE, Sex.UNKNOWN)[i % 3], (UNDER_18, ADULT)[i % 2])
    with django_assert_num_queries(1):
        scheme_by_age_and_sex(user=actor)
