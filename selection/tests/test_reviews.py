"""Each kind of review on both sides of the day it falls due (selection.reviews docstring).

"Today" is 1 January 2030 throughout (time_machine), so every sweep below is back-dated
with `as_of`, as `run_reviews --as-of` does. Expected days are written out by hand.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from access.models import AuditAction, AuditEvent, Scheme
from offenders.models import (
    CustodyKind,
    DeselectionReason,
    DrugTestResult,
    EventKind,
    OffenceCategory,
    ProgrammeKind,
)
from selection.models import Review, ReviewKind, ReviewStatus, RiskAssessment, RoshLevel
from selection.reviews import sweep
from tests.factories import (
    AgencyFactory,
    CustodyEpisodeFactory,
    DrugTestFactory,
    OffenderFactory,
    OffendingEventFactory,
    ProgrammeEpisodeFactory,
)

pytestmark = pytest.mark.django_db

D = dt.date


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture(autouse=True)
def scheme_started():
    """The scheme's first selection, long before every day swept here."""
    ProgrammeEpisodeFactory(
        selected_on=D(2015, 1, 1),
        deselected_on=D(2015, 6, 1),
        deselection_reason=DeselectionReason.OTHER,
        exit_route="none",
    )


def reviews(kind: str, offender=None) -> list[Review]:
    found = Review.objects.filter(kind=kind)
    if offender is not None:
        found = found.filter(offender=offender)
    return list(found.order_by("pk"))


def ppo(selected_on=None, **person):
    offender = OffenderFactory(**person)
    ProgrammeEpisodeFactory(offender=offender, selected_on=selected_on or D(2025, 1, 1))
    return offender


def event(offender, kind=EventKind.ARREST, on=None, category="Shoplifting"):
    return OffendingEventFactory(
        offender=offender,
        kind=kind,
        occurred_on=on or D(2026, 1, 1),
        category=None
        if kind == EventKind.INTELLIGENCE
        else OffenceCategory.objects.get(name=category),
    )


# --- 003 §6.2(1): 6 months at liberty without arrest or intelligence ---------------------


def test_no_arrest_183_days_at_liberty_is_due_182_is_not():
    person = ppo()
    event(person, on=D(2026, 1, 1))
    sweep(as_of=D(2026, 7, 2))  # 182 days after the arrest
    assert reviews(ReviewKind.NO_ARREST) == []
    sweep(as_of=D(2026, 7, 3))  # 183 days
    [review] = reviews(ReviewKind.NO_ARREST)
    assert review.offender == person and review.due_on == D(2026, 7, 3)
    assert review.detail["days_at_liberty"] == 183
    assert review.detail["last_arrest_or_intelligence"] == "2026-01-01"


def test_no_arrest_the_clock_starts_at_selection():
    person = ppo(selected_on=D(2026, 1, 1))
    event(person, on=D(2025, 3, 1))  # before selection: the panel has seen it
    sweep(as_of=D(2026, 7, 1))  # 1 January to 1 July: 182 days on the scheme
    assert reviews(ReviewKind.NO_ARREST) == []
    sweep(as_of=D(2026, 7, 2))
    assert [r.due_on for r in reviews(ReviewKind.NO_ARREST)] == [D(2026, 7, 2)]


def test_an_intelligence_report_resets_the_clock():
    person = ppo()
    event(person, on=D(2026, 1, 1))
    event(person, kind=EventKind.INTELLIGENCE, on=D(2026, 3, 1))
    sweep(as_of=D(2026, 7, 3))
    assert reviews(ReviewKind.NO_ARREST) == []
    sweep(as_of=D(2026, 8, 30))  # 182 days after the report
    assert reviews(ReviewKind.NO_ARREST) == []
    sweep(as_of=D(2026, 8, 31))
    [review] = reviews(ReviewKind.NO_ARREST)
    assert review.due_on == D(2026, 8, 31)
    assert review.detail["quiet_from"] == "2026-03-02"


def test_a_charge_does_not_reset_the_clock_but_is_shown():
    person = ppo()
    event(person, on=D(2026, 1, 1))
    event(person, kind=EventKind.CHARGE, on=D(2026, 2, 1))
    sweep(as_of=D(2026, 7, 3))
    [review] = reviews(ReviewKind.NO_ARREST)
    assert review.detail["other_offending"] == {"charge": 1}


def test_seven_months_of_which_three_in_custody_is_not_due():
    person = ppo()
    event(person, on=D(2026, 1, 1))
    CustodyEpisodeFactory(
        offender=person,
        kind=CustodyKind.REMAND,
        sentence_length_months=None,
        started_on=D(2026, 2, 1),
        released_on=D(2026, 5, 1),
    )
    sweep(as_of=D(2026, 8, 1))
    assert reviews(ReviewKind.NO_ARREST) == []
    # 30 days in January (2nd-31st) + 153 from 1 May: the 183rd is 30 September.
    sweep(as_of=D(2026, 9, 29))
    assert reviews(ReviewKind.NO_ARREST) == []
    sweep(as_of=D(2026, 9, 30))
    [review] = reviews(ReviewKind.NO_ARREST)
    assert review.due_on == D(2026, 9, 30)
    assert review.detail["days_in_custody"] == 89  # 1 February to 30 April
    assert review.detail["days_at_liberty"] == 183


def test_no_arrest_shows_positive_drug_tests_in_the_quiet_period():
    person = ppo()
    event(person, on=D(2026, 1, 1))
    at = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)
    DrugTestFactory(
        offender=person, tested_at=at, result=DrugTestResult.POSITIVE, substances="opiates"
    )
    before = dt.datetime(2025, 12, 10, 10, 0, tzinfo=dt.UTC)
    DrugTestFactory(
        offender=person, tested_at=before, result=DrugTestResult.POSITIVE, substances="cocaine"
    )
    sweep(as_of=D(2026, 7, 3))
    [review] = reviews(ReviewKind.NO_ARREST)
    assert review.detail["positive_drug_tests"] == 1
    assert review.detail["substances"] == ["opiates"]
    assert review.detail["last_positive_test"] == "2026-03-10"


def test_no_arrest_is_resolved_by_an_arrest_recorded_later_in_its_quiet_period():
    person = ppo()
    event(person, on=D(2026, 1, 1))
    sweep(as_of=D(2026, 7, 3))
    event(person, on=D(2026, 6, 20))  # recorded late
    sweep(as_of=D(2026, 7, 4))
    [review] = reviews(ReviewKind.NO_ARREST)
    assert review.status == ReviewStatus.CLOSED and review.outcome == "resolved"
    assert "2026-06-20" in review.outcome_reason


def test_an_intelligence_report_on_the_first_quiet_day_resolves_it_the_day_before_does_not():
    person = ppo()
    event(person, on=D(2026, 1, 1))
    sweep(as_of=D(2026, 7, 3))
    event(person, kind=EventKind.INTELLIGENCE, on=D(2026, 1, 1))  # the same day: no change
    sweep(as_of=D(2026, 7, 4))
    [review] = reviews(ReviewKind.NO_ARREST)
    assert review.status == ReviewStatus.OPEN
    event(person, kind=EventKind.INTELLIGENCE, on=D(2026, 1, 2))  # its first quiet day
    sweep(as_of=D(2026, 7, 5))
    review.refresh_from_db()
    assert review.status == ReviewStatus.CLOSED and review.closed_on == D(2026, 7, 5)


def test_only_ppos_fall_due_for_the_no_arrest_review():
    person = OffenderFactory()
    ProgrammeEpisodeFactory(offender=person, kind=ProgrammeKind.IOM, selected_on=D(2025, 1, 1))
    sweep(as_of=D(2026, 7, 3))
    assert reviews(ReviewKind.NO_ARREST) == []


# --- 003 §6.2(3): likely in custody more than 2 years from now ---------------------------


def sentence(person, *, started_on=None, months=36, expected=None, released=None):
    return CustodyEpisodeFactory(
        offender=person,
        started_on=started_on or D(2026, 1, 1),
        sentence_length_months=months,
        expected_release_on=expected,
        released_on=released,
    )


def test_a_three_year_sentence_released_at_half_way_is_not_more_than_two_years():
    person = ppo()
    event(person, on=D(2025, 12, 20))
    sentence(person, months=36, expected=D(2027, 7, 1))
    sweep(as_of=D(2026, 1, 2))
    assert reviews(ReviewKind.LONG_CUSTODY) == []


@pytest.mark.parametrize(
    ("as_of", "due"),
    [(D(2026, 12, 31), True), (D(2027, 1, 1), False)],
)
def test_long_custody_release_the_day_after_two_years_is_due_on_the_day_is_not(as_of, due):
    person = ppo()
    sentence(person, months=72, expected=D(2029, 1, 1))
    sweep(as_of=as_of)
    found = reviews(ReviewKind.LONG_CUSTODY)
    assert bool(found) is due
    if due:
        assert found[0].due_on == D(2026, 1, 1)
        assert found[0].detail["expected_release_on"] == "2029-01-01"


def test_long_custody_says_whether_a_current_risk_assessment_exists():
    person = ppo()
    sentence(person, months=72, expected=D(2029, 1, 1))
    agency = AgencyFactory(name="Probation agency")
    RiskAssessment.objects.create(
        offender=person,
        assessed_on=D(2025, 3, 1),
        tool="oasys",
        likelihood_score=60,
        rosh_level=RoshLevel.MEDIUM,
        agency=agency,
    )
    sweep(as_of=D(2026, 3, 1))  # 365 days after the assessment: not current
    [review] = reviews(ReviewKind.LONG_CUSTODY)
    assert review.detail["risk_assessment_current"] is False
    assert review.detail["latest_risk_assessment"] == "2025-03-01"
    other = ppo()
    sentence(other, months=72, expected=D(2029, 1, 1))
    RiskAssessment.objects.create(
        offender=other,
        assessed_on=D(2025, 3, 2),
        tool="oasys",
        likelihood_score=60,
        rosh_level=RoshLevel.HIGH,
        agency=agency,
    )
    sweep(as_of=D(2026, 3, 1))
    [review] = reviews(ReviewKind.LONG_CUSTODY, other)
    assert review.detail["risk_assessment_current"] is True
    assert review.detail["rosh_level"] == "high"


def test_a_long_sentence_with_no_expected_release_is_chased_until_the_date_is_recorded():
    person = ppo()
    spell = sentence(person, months=60)
    short = ppo()
    sentence(short, months=24)  # cannot be more than 2 years
    sweep(as_of=D(2026, 2, 1))
    [chase] = reviews(ReviewKind.RELEASE_DATE_CHASE)
    assert chase.offender == person
    spell.expected_release_on = D(2028, 6, 1)
    spell.save()
    sweep(as_of=D(2026, 2, 2))
    chase.refresh_from_db()
    assert chase.outcome == "resolved" and "2028-06-01" in chase.outcome_reason
    assert reviews(ReviewKind.LONG_CUSTODY)[0].offender == person


# --- 003 §6.2(3): re-selection 3 months before release, or a chase ----------------------


def deselected_for_custody(expected=None, released=None, months=120):
    person = OffenderFactory()
    ProgrammeEpisodeFactory(
        offender=person,
        selected_on=D(2024, 1, 1),
        deselected_on=D(2026, 3, 1),
        deselection_reason=DeselectionReason.LONG_CUSTODY,
        exit_route="none",
    )
    spell = sentence(person, months=months, expected=expected, released=released)
    return person, spell


def test_reselection_review_three_months_before_the_expected_release():
    person, _ = deselected_for_custody(expected=D(2028, 10, 1))
    sweep(as_of=D(2028, 6, 30))
    assert reviews(ReviewKind.RESELECTION_RELEASE) == []
    sweep(as_of=D(2028, 7, 1))
    [review] = reviews(ReviewKind.RESELECTION_RELEASE)
    assert review.offender == person and review.due_on == D(2028, 7, 1)


def test_reselection_review_on_an_early_release():
    deselected_for_custody(expected=D(2028, 10, 1), released=D(2027, 5, 5))
    sweep(as_of=D(2027, 5, 4))
    assert reviews(ReviewKind.RESELECTION_RELEASE) == []
    sweep(as_of=D(2027, 5, 5))
    assert [r.due_on for r in reviews(ReviewKind.RESELECTION_RELEASE)] == [D(2027, 5, 5)]


def test_no_expected_release_date_raises_a_chase_from_the_deselection_day():
    # 24 months: as a PPO, not long enough to be chased for the long-custody review.
    person, spell = deselected_for_custody(months=24)
    sweep(as_of=D(2026, 2, 28))
    assert reviews(ReviewKind.RELEASE_DATE_CHASE) == []
    sweep(as_of=D(2026, 3, 1))
    [chase] = reviews(ReviewKind.RELEASE_DATE_CHASE)
    assert chase.offender == person and chase.due_on == D(2026, 3, 1)
    spell.released_on = D(2026, 9, 1)
    spell.save()
    sweep(as_of=D(2026, 9, 1))
    chase.refresh_from_db()
    assert chase.outcome == "resolved"
    [review] = reviews(ReviewKind.RESELECTION_RELEASE)
    assert review.due_on == D(2026, 9, 1)


def test_one_chase_per_custody_before_and_after_the_deselection():
    deselected_for_custody(months=120)
    sweep(as_of=D(2026, 2, 28))  # still a PPO: chased for the long-custody review
    sweep(as_of=D(2026, 3, 1))  # de-selected: the same custody, the same chase
    [chase] = reviews(ReviewKind.RELEASE_DATE_CHASE)
    assert chase.due_on == D(2026, 1, 1)


def test_reselected_people_get_no_reselection_review():
    person, _ = deselected_for_custody(expected=D(2028, 10, 1))
    ProgrammeEpisodeFactory(offender=person, selected_on=D(2028, 1, 1))
    sweep(as_of=D(2028, 7, 1))
    assert reviews(ReviewKind.RESELECTION_RELEASE) == []


# --- 003 §6.2(5): two years on the scheme --------------------------------------------------


def test_two_years_on_the_scheme():
    person = ppo(selected_on=D(2024, 3, 1))
    sweep(as_of=D(2026, 2, 28))
    assert reviews(ReviewKind.TWO_YEARS) == []
    sweep(as_of=D(2026, 3, 1))
    [review] = reviews(ReviewKind.TWO_YEARS)
    assert review.offender == person and review.due_on == D(2026, 3, 1)
    sweep(as_of=D(2028, 2, 29))
    assert len(reviews(ReviewKind.TWO_YEARS)) == 1
    sweep(as_of=D(2028, 3, 1))
    assert [r.basis.rsplit(":", 1)[1] for r in reviews(ReviewKind.TWO_YEARS)] == ["24m", "48m"]


# --- 003 §5.7: a former PPO or IOM person arrested or charged ----------------------------


def former_ppo(left_on=None, *, to_iom=False):
    left_on = left_on or D(2026, 2, 1)
    person = OffenderFactory()
    ProgrammeEpisodeFactory(
        offender=person,
        selected_on=D(2024, 1, 1),
        deselected_on=left_on,
        deselection_reason=(
            DeselectionReason.STEPPED_DOWN if to_iom else DeselectionReason.STOPPED_OFFENDING
        ),
        exit_route="iom" if to_iom else "none",
    )
    if to_iom:
        ProgrammeEpisodeFactory(offender=person, kind=ProgrammeKind.IOM, selected_on=left_on)
    return person


@pytest.mark.parametrize("to_iom", [False, True])
def test_former_ppo_arrested_on_the_day_they_left_is_due_the_day_before_is_not(to_iom):
    person = former_ppo(to_iom=to_iom)
    event(person, on=D(2026, 1, 31))
    sweep(as_of=D(2026, 2, 10))
    assert reviews(ReviewKind.FORMER_REOFFENDING) == []
    charge = event(person, kind=EventKind.CHARGE, on=D(2026, 2, 1))
    sweep(as_of=D(2026, 2, 10))
    [review] = reviews(ReviewKind.FORMER_REOFFENDING)
    assert review.basis == f"event:{charge.pk}" and review.due_on == D(2026, 2, 1)


def test_one_open_former_review_at_a_time_and_a_new_one_only_after_the_close():
    from selection.reviews import review_close
    from tests.factories import staff

    person = former_ppo()
    event(person, on=D(2026, 3, 1))
    sweep(as_of=D(2026, 3, 5))
    event(person, on=D(2026, 3, 10))
    sweep(as_of=D(2026, 3, 12))
    [first] = reviews(ReviewKind.FORMER_REOFFENDING)
    manager = staff("ppo_manager")
    with time_machine.travel(dt.datetime(2026, 3, 20, 12, 0, tzinfo=dt.UTC), tick=False):
        review_close(user=manager, review_id=first.pk, outcome="no_change", reason="One-off")
    sweep(as_of=D(2026, 3, 25))
    assert len(reviews(ReviewKind.FORMER_REOFFENDING)) == 1
    event(person, on=D(2026, 3, 21))
    sweep(as_of=D(2026, 3, 25))
    assert len(reviews(ReviewKind.FORMER_REOFFENDING)) == 2


def test_a_current_ppo_arrested_is_not_a_former_reoffending_review():
    person = ppo()
    event(person, on=D(2026, 3, 1))
    sweep(as_of=D(2026, 3, 5))
    assert reviews(ReviewKind.FORMER_REOFFENDING) == []


# --- 003 §7.5 and 004 §5.1: Deter Young Offenders -------------------------------------------


def test_dyo_turning_18_is_due_three_months_before_the_birthday():
    person = OffenderFactory(date_of_birth=D(2008, 6, 15))
    ProgrammeEpisodeFactory(offender=person, kind=ProgrammeKind.DYO, selected_on=D(2025, 1, 10))
    sweep(as_of=D(2026, 3, 14))
    assert reviews(ReviewKind.DYO_TURNING_18) == []
    sweep(as_of=D(2026, 3, 15))
    [review] = reviews(ReviewKind.DYO_TURNING_18)
    assert review.due_on == D(2026, 3, 15) and review.detail["turns_18_on"] == "2026-06-15"


def test_dyo_periodic_review_every_three_months():
    person = OffenderFactory(date_of_birth=D(2012, 6, 15))
    ProgrammeEpisodeFactory(offender=person, kind=ProgrammeKind.DYO, selected_on=D(2025, 1, 10))
    sweep(as_of=D(2025, 4, 9))
    assert reviews(ReviewKind.DYO_PERIODIC) == []
    sweep(as_of=D(2025, 4, 10))
    assert [r.due_on for r in reviews(ReviewKind.DYO_PERIODIC)] == [D(2025, 4, 10)]
    sweep(as_of=D(2025, 7, 10))
    assert [r.due_on for r in reviews(ReviewKind.DYO_PERIODIC)] == [D(2025, 4, 10), D(2025, 7, 10)]


# --- 003 §6.2(4), §4.2: the list against the pool ------------------------------------------


def test_the_quarterly_list_review_is_due_on_the_quarters_first_day():
    sweep(as_of=D(2026, 3, 31))
    assert [r.basis for r in reviews(ReviewKind.LIST_REVIEW)] == [
        "list:2026-01-01/3m",
        "ni30:2026-27",
    ]
    sweep(as_of=D(2026, 4, 1))
    found = reviews(ReviewKind.LIST_REVIEW)
    assert found[-1].basis == "list:2026-04-01/3m" and found[-1].due_on == D(2026, 4, 1)
    assert all(r.offender_id is None for r in found)


def test_the_list_review_before_the_ni30_cohort_year_is_due_on_1_march():
    sweep(as_of=D(2026, 2, 28))
    assert not [r for r in reviews(ReviewKind.LIST_REVIEW) if r.basis.startswith("ni30")]
    sweep(as_of=D(2026, 3, 1))
    [ni30] = [r for r in reviews(ReviewKind.LIST_REVIEW) if r.basis.startswith("ni30")]
    assert ni30.due_on == D(2026, 3, 1) and ni30.detail["cohort_starts"] == "2026-04-01"


def test_a_monthly_list_review_setting():
    scheme = Scheme.current()
    scheme.list_review_interval_months = 1
    scheme.save()
    sweep(as_of=D(2026, 5, 17))
    assert "list:2026-05-01/1m" in [r.basis for r in reviews(ReviewKind.LIST_REVIEW)]


# --- 003 §6.2(6): high risk of harm: a MAPPA referral flag -------------------------------


def test_mappa_flag_for_an_offence_at_the_harm_weight_not_below():
    robbed = ppo()
    event(robbed, on=D(2026, 5, 1), category="Robbery – personal")  # 10.0
    burgled = ppo()
    event(burgled, on=D(2026, 5, 1), category="Burglary – residential")  # 9.6
    before = ppo(selected_on=D(2026, 5, 2))
    event(before, on=D(2026, 5, 1), category="Robbery – personal")  # before this episode
    ProgrammeEpisodeFactory(  # an earlier episode the offence falls after: not this one
        offender=before,
        selected_on=D(2020, 1, 1),
        deselected_on=D(2021, 1, 1),
        deselection_reason=DeselectionReason.OTHER,
        exit_route="none",
    )
    known = ppo(mappa_level=2)
    event(known, on=D(2026, 5, 1), category="Robbery – personal")  # already under MAPPA
    sweep(as_of=D(2026, 5, 2))
    assert [r.offender for r in reviews(ReviewKind.MAPPA_REFERRAL)] == [robbed]
    scheme = Scheme.current()
    scheme.mappa_harm_weight = Decimal("9.6")
    scheme.save()
    sweep(as_of=D(2026, 5, 2))
    assert {r.offender for r in reviews(ReviewKind.MAPPA_REFERRAL)} == {robbed, burgled}


def test_mappa_flag_for_a_high_risk_of_serious_harm_assessment():
    person = ppo()
    RiskAssessment.objects.create(
        offender=person,
        assessed_on=D(2026, 4, 1),
        tool="oasys",
        likelihood_score=40,
        rosh_level=RoshLevel.VERY_HIGH,
        agency=AgencyFactory(name="Probation agency"),
    )
    sweep(as_of=D(2026, 3, 31))
    assert reviews(ReviewKind.MAPPA_REFERRAL) == []
    sweep(as_of=D(2026, 4, 1))
    [flag] = reviews(ReviewKind.MAPPA_REFERRAL)
    assert flag.basis.startswith("assessment:") and flag.due_on == D(2026, 4, 1)


def test_mappa_flag_names_the_latest_offence_and_the_later_record_on_a_tied_day():
    person = ppo()
    event(person, on=D(2026, 2, 1), category="Robbery – personal")
    event(person, on=D(2026, 4, 1), category="Shoplifting")  # low harm: not a trigger
    first_on_day = event(person, on=D(2026, 3, 1), category="Robbery – personal")
    second_on_day = event(person, on=D(2026, 3, 1), category="Robbery – personal")
    assert second_on_day.pk > first_on_day.pk
    sweep(as_of=D(2026, 5, 1))
    [flag] = reviews(ReviewKind.MAPPA_REFERRAL)
    assert flag.basis == f"event:{second_on_day.pk}" and flag.due_on == D(2026, 3, 1)


def test_mappa_flag_again_only_for_an_offence_after_the_day_the_last_one_closed():
    from selection.reviews import review_close
    from tests.factories import staff

    person = ppo()
    event(person, on=D(2026, 3, 1), category="Robbery – personal")
    sweep(as_of=D(2026, 3, 5))
    [first] = reviews(ReviewKind.MAPPA_REFERRAL)
    with time_machine.travel(dt.datetime(2026, 3, 20, 12, 0, tzinfo=dt.UTC), tick=False):
        review_close(
            user=staff("ppo_manager"), review_id=first.pk, outcome="no_change", reason="Referred"
        )
    event(person, on=D(2026, 3, 20), category="Robbery – personal")  # on the closing day
    sweep(as_of=D(2026, 3, 25))
    assert reviews(ReviewKind.MAPPA_REFERRAL) == [first]
    later = event(person, on=D(2026, 3, 21), category="Robbery – personal")
    sweep(as_of=D(2026, 3, 25))
    assert [r.basis for r in reviews(ReviewKind.MAPPA_REFERRAL)] == [
        first.basis,
        f"event:{later.pk}",
    ]


# --- 003 §6.2(2): a PPO transferring in from another area --------------------------------


def arrival(person, on=None):
    from selection.reviews import transfer_in_record
    from tests.factories import staff

    with time_machine.travel(dt.datetime(2026, 7, 10, 12, 0, tzinfo=dt.UTC), tick=False):
        return transfer_in_record(
            user=staff("ppo_manager"),
            offender_id=person.pk,
            from_scheme="Nordshire PPO scheme",
            from_area="Nordshire",
            arrived_on=on or D(2026, 6, 1),
        )


def test_a_transfer_in_is_due_on_the_day_of_arrival():
    person = OffenderFactory()
    transfer = arrival(person)
    sweep(as_of=D(2026, 5, 31))
    assert reviews(ReviewKind.TRANSFER_IN) == []
    sweep(as_of=D(2026, 6, 1))
    [review] = reviews(ReviewKind.TRANSFER_IN)
    assert review.offender == person and review.basis == f"transfer:{transfer.pk}"
    assert review.detail["from_scheme"] == "Nordshire PPO scheme"
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, record_type="selection.transferin", record_ids=[transfer.pk]
    ).exists()


def test_a_transfer_in_already_selected_since_arriving_is_not_reviewed():
    person = OffenderFactory()
    arrival(person)
    ProgrammeEpisodeFactory(offender=person, selected_on=D(2026, 6, 5))
    sweep(as_of=D(2026, 6, 10))
    assert reviews(ReviewKind.TRANSFER_IN) == []


def test_recording_a_transfer_in_is_refused_without_its_facts_or_by_others():
    from access.errors import ApplicationError, NotPermitted
    from selection.models import TransferIn
    from selection.reviews import transfer_in_record
    from tests.factories import staff

    person = OffenderFactory()
    with time_machine.travel(dt.datetime(2026, 7, 10, 12, 0, tzinfo=dt.UTC), tick=False):
        manager = staff("ppo_manager")
        with pytest.raises(ApplicationError) as refused:
            transfer_in_record(
                user=manager,
                offender_id=person.pk,
                from_scheme=" ",
                from_area="Nordshire",
                arrived_on=D(2026, 7, 11),
            )
        assert set(refused.value.field_errors) == {"from_scheme", "arrived_on"}
        with pytest.raises(NotPermitted):
            transfer_in_record(
                user=staff("police_officer"),
                offender_id=person.pk,
                from_scheme="Nordshire PPO scheme",
                from_area="Nordshire",
                arrived_on=D(2026, 7, 1),
            )
    assert not TransferIn.objects.exists()


# --- Audit ------------------------------------------------------------------------------------


def test_each_raised_review_is_audited_as_the_system_sweep():
    person = ppo(selected_on=D(2024, 3, 1))
    sweep(as_of=D(2026, 3, 1))
    [review] = reviews(ReviewKind.TWO_YEARS)
    [row] = AuditEvent.objects.filter(
        action=AuditAction.CREATE, record_type="selection.review", record_ids=[review.pk]
    )
    assert row.offender_ids == [person.pk]
    assert row.username == "system: review sweep" and row.role == "system"
    assert row.channel == "task" and row.user is None
    raised = Review.objects.count()
    assert (
        AuditEvent.objects.filter(action=AuditAction.CREATE, record_type="selection.review").count()
        == raised
    )
