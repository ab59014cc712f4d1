"""The scheme profile, refresh indicators, equality monitoring, offending mix and outcomes
after de-selection: band boundaries on both sides, small numbers hidden so that nothing
can be worked out by subtraction, aggregates refused to a key worker, constant queries."""

from __future__ import annotations

import datetime as dt

import pytest

from access.errors import ApplicationError, NotPermitted
from access.models import Role
from access.tests.test_disclosure import pinned_down
from offenders.models import (
    CustodyKind,
    DeselectionReason,
    EventKind,
    ExitRoute,
    Offender,
    ProgrammeKind,
    Sex,
    years_before,
)
from reporting import profile
from tests.factories import (
    CustodyEpisodeFactory,
    OffenceCategoryFactory,
    OffenderFactory,
    OffendingEventFactory,
    ProgrammeEpisodeFactory,
    staff,
)

AS_OF = dt.date(2025, 6, 3)
ADULT = years_before(AS_OF, 30)
UNDER_18 = years_before(AS_OF, 16)


@pytest.fixture
def manager(db):
    return staff(Role.PPO_MANAGER)


def ppo(selected_on: dt.date = dt.date(2024, 1, 1), **fields: object) -> Offender:
    fields.setdefault("date_of_birth", ADULT)
    person = OffenderFactory(**fields)
    ProgrammeEpisodeFactory(offender=person, kind=ProgrammeKind.PPO, selected_on=selected_on)
    return person


def test_time_on_programme_bands_turn_on_each_anniversary(manager):
    # 003 §3.5: "2 years or less", then 3, 4, "5 years or longer" share out the rest.
    for years in (2, 3, 4):
        anniversary = years_before(AS_OF, years)
        ppo(selected_on=anniversary)  # exactly `years`: the lower band
        ppo(selected_on=anniversary - dt.timedelta(days=1))  # a day over: the next band
    ppo(selected_on=AS_OF)  # selected today
    table = profile.refresh_indicators(user=manager, as_of=AS_OF).time_on_programme
    counts = [line.cells[0].value for line in table.rows]
    assert counts == [2, 2, 2, 1, 7]
    assert profile.time_on_programme_band(years_before(AS_OF, 2), AS_OF) == 0
    assert profile.time_on_programme_band(years_before(AS_OF, 2) - dt.timedelta(1), AS_OF) == 1


def test_convictions_in_the_last_12_months_bands_and_window(manager):
    first_day = dt.date(2024, 6, 4)  # the 12 months to 3 June 2025 start the day after 3 June
    none_in_window = ppo()
    OffendingEventFactory(
        offender=none_in_window, kind=EventKind.CONVICTION, occurred_on=dt.date(2024, 6, 3)
    )
    OffendingEventFactory(  # recorded after the day: not known on it
        offender=none_in_window,
        kind=EventKind.CONVICTION,
        occurred_on=AS_OF,
        recorded_on=AS_OF + dt.timedelta(days=1),
    )
    OffendingEventFactory(offender=none_in_window, kind=EventKind.ARREST, occurred_on=AS_OF)
    six = ppo()
    for i in range(6):
        OffendingEventFactory(
            offender=six, kind=EventKind.CONVICTION, occurred_on=first_day + dt.timedelta(i)
        )
    seven = ppo()
    for i in range(7):
        OffendingEventFactory(
            offender=seven, kind=EventKind.CONVICTION, occurred_on=AS_OF - dt.timedelta(i)
        )
    one = ppo()
    OffendingEventFactory(offender=one, kind=EventKind.CONVICTION, occurred_on=first_day)
    table = profile.refresh_indicators(user=manager, as_of=AS_OF).convictions_last_12_months
    assert [line.cells[0].value for line in table.rows] == [1, 2, 1, 4]


def test_custody_share_sentence_lengths_and_capacity(manager):
    short, exactly_12, long_, remanded = ppo(), ppo(), ppo(), ppo()
    ppo()
    CustodyEpisodeFactory(offender=short, sentence_length_months=11, started_on=dt.date(2025, 5, 1))
    CustodyEpisodeFactory(offender=exactly_12, sentence_length_months=12)
    CustodyEpisodeFactory(offender=long_, sentence_length_months=30)
    CustodyEpisodeFactory(offender=remanded, kind=CustodyKind.REMAND, sentence_length_months=None)
    refresh = profile.refresh_indicators(user=manager, as_of=AS_OF)
    assert [line.cells[0].value for line in refresh.sentences.rows] == [1, 2, 0, 3]
    assert str(refresh.custody_share) == "80.0"
    assert refresh.capacity.in_community == 1
    assert refresh.capacity.on_scheme == 5
    assert refresh.capacity.against_local == "Below the scheme's capacity of 15 to 20"
    assert not refresh.capacity.meets_small_area_ambition


def test_profile_counts_and_hides_small_breakdowns_so_nothing_can_be_subtracted(manager):
    for _ in range(7):
        ppo(sex=Sex.MALE)
    for _ in range(3):
        ppo(sex=Sex.FEMALE, dip_client=True)
    for _ in range(6):
        ppo(sex=Sex.MALE, date_of_birth=UNDER_18)
    OffenderFactory(sex=Sex.FEMALE, date_of_birth=ADULT)  # not on the scheme
    result = profile.scheme_profile(user=manager, as_of=AS_OF)
    assert result.total.value == 16
    table = result.by_age_and_sex
    grid = [[c.value for c in line.cells] for line in table.rows]
    # 3 women: hidden, and so must be another count in each sum it is part of.
    assert grid[1][1] is None
    assert grid[2][3] == 16  # the headline total is exact
    assert not pinned_down(grid), grid
    # Adults also in DIP (3) is hidden too, and its partner, since all adults may be known.
    dip = result.adults_in_dip
    assert dip.rows[0].cells[0].hidden
    assert dip.rows[1].cells[0].hidden or dip.rows[2].cells[0].hidden
    assert result.average_age.value is not None


def test_equality_tables_hide_what_the_profile_hides(manager):
    for _ in range(8):
        ppo(sex=Sex.MALE, ethnicity="white")
    for _ in range(2):
        ppo(sex=Sex.FEMALE, ethnicity="black")
    eq = profile.equality_monitoring(user=manager, as_of=AS_OF)
    by_sex = eq.caseload_by_sex
    assert by_sex.value("Female") is None
    # "Male" would give the women by subtraction from the exact total.
    assert by_sex.value("Male") is None
    assert by_sex.value("All PPOs on the scheme") == 10
    assert eq.caseload_by_ethnicity.value("White") is None


def test_selection_outcomes_by_sex_are_protected_with_exact_outcome_totals(manager):
    from selection.models import DecisionKind, PanelDecision, SelectionPanel

    panel = SelectionPanel.objects.create(held_on=dt.date(2025, 5, 1), chair=manager)
    for _ in range(9):
        PanelDecision.objects.create(
            panel=panel, offender=OffenderFactory(sex=Sex.MALE), kind=DecisionKind.SELECT
        )
    for _ in range(2):
        PanelDecision.objects.create(
            panel=panel, offender=OffenderFactory(sex=Sex.FEMALE), kind=DecisionKind.DEFER
        )
    late = SelectionPanel.objects.create(held_on=dt.date(2025, 6, 4), chair=manager)
    PanelDecision.objects.create(panel=late, offender=OffenderFactory(), kind=DecisionKind.SELECT)
    eq = profile.equality_monitoring(user=manager, as_of=AS_OF, date_from=dt.date(2025, 4, 1))
    table = eq.outcomes_by_sex
    assert [c.value for c in table.row("All").cells] == [9, 2, 11]
    female = table.row("Female").cells
    assert female[1].hidden and female[2].hidden
    # The men's "not selected" (0) shown beside the exact 2 would pin the women's 2.
    male = table.row("Male").cells
    assert any(cell.hidden for cell in male)


def test_needs_of_women_young_people_and_mental_health(manager):
    from pathways.tests.factories import NeedFactory, pathway

    women = [ppo(sex=Sex.FEMALE) for _ in range(5)]
    for person in women:
        NeedFactory(offender=person, pathway=pathway("health"), level="high", set_on=AS_OF)
        NeedFactory(
            offender=person,
            pathway=pathway("accommodation"),
            level="medium",
            set_on=dt.date(2025, 1, 10),
        )
    # A later "low" replaces the earlier "medium" for one of them, but only from 10 June.
    NeedFactory(
        offender=women[0],
        pathway=pathway("accommodation"),
        level="low",
        set_on=dt.date(2025, 6, 10),
    )
    table = profile.equality_monitoring(user=manager, as_of=AS_OF).needs
    accommodation = table.row("Accommodation").cells
    assert [accommodation[0].value, accommodation[2].value, accommodation[3].value] == [5, 5, 5]
    assert accommodation[1].value == 0
    assert table.row("Mental and Physical Health").cells[2] == "Not applicable"


def test_offending_mix_counts_charges_while_on_the_scheme(manager):
    shop = OffenceCategoryFactory(name="Test theft", harm_weight=1, acquisitive=False)
    burglary = OffenceCategoryFactory(name="Test burglary", harm_weight=5, acquisitive=True)
    person = ppo(selected_on=dt.date(2025, 4, 10))
    OffendingEventFactory(
        offender=person, kind=EventKind.CHARGE, occurred_on=dt.date(2025, 4, 9), category=burglary
    )  # before selection
    OffendingEventFactory(
        offender=person, kind=EventKind.CHARGE, occurred_on=dt.date(2025, 4, 10), category=burglary
    )
    OffendingEventFactory(
        offender=person, kind=EventKind.CHARGE, occurred_on=dt.date(2025, 5, 1), category=shop
    )
    OffendingEventFactory(
        offender=person, kind=EventKind.ARREST, occurred_on=dt.date(2025, 5, 2), category=shop
    )
    mix = profile.offending_mix(user=manager, as_of=AS_OF)
    assert mix.whole_period.offences == 2
    assert mix.whole_period.acquisitive == 1
    assert str(mix.whole_period.acquisitive_share) == "50.0"
    assert mix.by_category.value("Test burglary") == 1
    assert [q.period.first_day for q in mix.quarters] == [dt.date(2025, 4, 1)]


def test_a_period_after_the_day_or_backwards_is_a_message(manager):
    with pytest.raises(ApplicationError, match="after the “as at” day"):
        profile.offending_mix(user=manager, as_of=AS_OF, date_to=AS_OF + dt.timedelta(1))
    with pytest.raises(ApplicationError, match="after it ends"):
        profile.deselection_outcomes(
            user=manager, as_of=AS_OF, date_from=AS_OF, date_to=AS_OF - dt.timedelta(1)
        )


def test_arrest_free_counts_only_those_whose_window_has_passed(manager):
    # De-selected 3 December 2024: the 6 months run to 2 June 2025, passed by 3 June.
    out = dt.date(2024, 12, 3)
    free = OffenderFactory()
    ProgrammeEpisodeFactory(
        offender=free,
        selected_on=dt.date(2023, 1, 1),
        deselected_on=out,
        deselection_reason=DeselectionReason.STOPPED_OFFENDING,
        exit_route=ExitRoute.IOM,
    )
    arrested_last_day = OffenderFactory()
    ProgrammeEpisodeFactory(
        offender=arrested_last_day,
        selected_on=dt.date(2023, 1, 1),
        deselected_on=out,
        deselection_reason=DeselectionReason.MOVED_AREA,
    )
    OffendingEventFactory(
        offender=arrested_last_day, kind=EventKind.ARREST, occurred_on=dt.date(2025, 6, 2)
    )
    arrested_after = OffenderFactory()
    ProgrammeEpisodeFactory(
        offender=arrested_after,
        selected_on=dt.date(2023, 1, 1),
        deselected_on=out,
        deselection_reason=DeselectionReason.MOVED_AREA,
    )
    OffendingEventFactory(offender=arrested_after, kind=EventKind.ARREST, occurred_on=AS_OF)
    # De-selected 4 December: the 6 months end on 3 June, the "as at" day: followed.
    ends_today = OffenderFactory()
    ProgrammeEpisodeFactory(
        offender=ends_today,
        selected_on=dt.date(2023, 1, 1),
        deselected_on=out + dt.timedelta(days=1),
        deselection_reason=DeselectionReason.OTHER,
    )
    not_yet = OffenderFactory()  # 5 December: the 6 months end on 4 June, not passed
    ProgrammeEpisodeFactory(
        offender=not_yet,
        selected_on=dt.date(2023, 1, 1),
        deselected_on=out + dt.timedelta(days=2),
        deselection_reason=DeselectionReason.OTHER,
    )
    result = profile.deselection_outcomes(
        user=manager, as_of=AS_OF, date_from=dt.date(2024, 4, 1), date_to=AS_OF
    )
    six, twelve = result.arrest_free
    assert (six.followed, six.arrest_free, six.not_yet) == (4, 3, 1)
    assert str(six.share) == "75.0"
    assert (twelve.followed, twelve.share) == (0, None)
    assert result.exits == 5
    assert result.reasons.value("Moved to another area") == 2
    assert result.exit_routes.value("Not recorded") == 4


@pytest.mark.parametrize("role", [Role.KEY_WORKER, Role.POLICE_OFFICER, Role.PARTNER_WORKER])
def test_roles_without_aggregates_are_refused(db, role):
    user = staff(role)
    for report in (
        profile.scheme_profile,
        profile.refresh_indicators,
        profile.equality_monitoring,
        profile.offending_mix,
        profile.deselection_outcomes,
    ):
        with pytest.raises(NotPermitted):
            report(user=user, as_of=AS_OF)


def test_the_steering_group_gets_the_figures(db):
    ppo()
    assert profile.scheme_profile(user=staff(Role.STEERING_GROUP), as_of=AS_OF).total.value == 1


def test_queries_do_not_grow_with_the_caseload(manager, django_assert_num_queries):
    def run() -> None:
        profile.scheme_profile(user=manager, as_of=AS_OF)
        profile.refresh_indicators(user=manager, as_of=AS_OF)
        profile.equality_monitoring(user=manager, as_of=AS_OF)
        profile.offending_mix(user=manager, as_of=AS_OF)
        profile.deselection_outcomes(user=manager, as_of=AS_OF)

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ppo()
    run()  # the scheme's settings row is made on first use
    with CaptureQueriesContext(connection) as few:
        run()
    for _ in range(12):
        person = ppo(sex=Sex.FEMALE)
        OffendingEventFactory(
            offender=person, kind=EventKind.CHARGE, occurred_on=dt.date(2025, 5, 1)
        )
    with django_assert_num_queries(len(few.captured_queries)):
        run()


def test_the_report_command_prints_profile_and_refresh(manager):
    import io
    import json

    from django.core.management import call_command

    ppo()
    for name in ("profile", "refresh"):
        out = io.StringIO()
        call_command(
            "report", name, "--as-of", AS_OF.isoformat(), "--as", manager.username, stdout=out
        )
        figures = json.loads(out.getvalue())
        assert figures, name
    assert figures["on_scheme"] == 1
