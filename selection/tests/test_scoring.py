"""Scoring the pool: each criterion at its boundary dates, explanations that add up, the
pool's edges (custody, imminent release, tiers), the threshold, and a fixed number of
queries whatever the size of the pool.

Dates are written out (AS_OF is 15 June 2026; the 12-month window starts after 15 June
2025; the 3-month recent window after 15 March 2026), not computed with the helpers under
test.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from access.models import AgencyKind, Role
from access.policy import actor_for, people
from offenders.models import (
    CustodyKind,
    DrugTestResult,
    EventKind,
    OffenceCategory,
    ProgrammeKind,
    Supervision,
)
from selection.models import Criterion, CriterionKind, MatrixStatus, MatrixVersion
from selection.scoring import considered, score_pool
from tests.factories import (
    AgencyFactory,
    CustodyEpisodeFactory,
    DrugTestFactory,
    MembershipFactory,
    OffenderFactory,
    OffendingEventFactory,
    ProgrammeEpisodeFactory,
)

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2026, 6, 15)
WINDOW_FIRST_DAY = dt.date(2025, 6, 16)
WINDOW_DAY_BEFORE = dt.date(2025, 6, 15)
RECENT_FIRST_DAY = dt.date(2026, 3, 16)
RECENT_DAY_BEFORE = dt.date(2026, 3, 15)


@pytest.fixture
def manager(db):
    return actor_for(MembershipFactory(role=Role.PPO_MANAGER).user, AS_OF)


def version_with(*criteria: tuple[str, str, str, str], threshold: str = "0") -> MatrixVersion:
    """A draft built by hand (not through the services under test), then adopted."""
    number = MatrixVersion.objects.count() + 100
    version = MatrixVersion.objects.create(
        number=number, status=MatrixStatus.DRAFT, threshold=Decimal(threshold)
    )
    for kind, event_kind, category, weight in criteria:
        Criterion.objects.create(
            version=version,
            kind=kind,
            event_kind=event_kind,
            category=OffenceCategory.objects.get(name=category) if category else None,
            weight=Decimal(weight),
        )
    MatrixVersion.objects.filter(status=MatrixStatus.ADOPTED).update(status=MatrixStatus.RETIRED)
    MatrixVersion.objects.filter(pk=version.pk).update(status=MatrixStatus.ADOPTED)
    version.refresh_from_db()
    return version


def scores_by_name(manager, version, **kwargs) -> dict[str, object]:
    scores = score_pool(people=people(manager), version=version, as_of=AS_OF, **kwargs)
    return {s.first_name: s for s in scores}


def event(offender, kind=EventKind.ARREST, day=AS_OF, category="Shoplifting"):
    return OffendingEventFactory(
        offender=offender,
        kind=kind,
        occurred_on=day,
        recorded_on=day,
        category=OffenceCategory.objects.get(name=category)
        if category and kind not in (EventKind.INTELLIGENCE, EventKind.BREACH, EventKind.RECALL)
        else None,
    )


def test_events_count_inside_the_window_at_its_boundaries(manager):
    version = version_with(("events", "arrest", "", "2"))
    person = OffenderFactory(first_name="Qxwindow")
    event(person, day=WINDOW_FIRST_DAY)  # counts
    event(person, day=WINDOW_DAY_BEFORE)  # one day too early
    event(person, day=AS_OF)  # counts
    event(person, day=AS_OF + dt.timedelta(days=1))  # after the run's date
    event(person, kind=EventKind.CHARGE, day=AS_OF)  # another kind
    score = scores_by_name(manager, version)["Qxwindow"]
    assert score.parts[0].measure == 2
    assert score.score == Decimal("4.00")


def test_recent_arrest_or_charge_at_its_boundaries(manager):
    version = version_with(("recent", "", "", "5"))
    inside = OffenderFactory(first_name="Qxinside")
    event(inside, kind=EventKind.CHARGE, day=RECENT_FIRST_DAY)
    outside = OffenderFactory(first_name="Qxoutside")
    event(outside, day=RECENT_DAY_BEFORE)
    intel = OffenderFactory(first_name="Qxintel")
    event(intel, kind=EventKind.INTELLIGENCE, day=AS_OF)  # not an arrest or charge
    scores = scores_by_name(manager, version)
    assert scores["Qxinside"].score == Decimal("5.00")
    assert scores["Qxoutside"].score == 0
    assert scores["Qxintel"].score == 0


def test_harm_sums_the_categories_weights_of_offences_only(manager):
    version = version_with(("harm", "", "", "0.5"))
    person = OffenderFactory(first_name="Qxharm")
    event(person, kind=EventKind.CONVICTION, category="Burglary – residential")  # 9.6
    event(person, kind=EventKind.ARREST, category="Shoplifting")  # 1.0
    event(person, kind=EventKind.INTELLIGENCE)  # no offence
    event(person, kind=EventKind.BREACH)  # no offence
    score = scores_by_name(manager, version)["Qxharm"]
    assert score.parts[0].measure == Decimal("10.6")
    assert score.score == Decimal("5.30")


def test_a_local_priority_crime_counts_its_category_only(manager):
    version = version_with(("priority_crime", "", "Burglary – residential", "3"))
    person = OffenderFactory(first_name="Qxpriority")
    event(person, kind=EventKind.CHARGE, category="Burglary – residential")
    event(person, kind=EventKind.ARREST, category="Burglary – residential")
    event(person, kind=EventKind.ARREST, category="Shoplifting")
    assert scores_by_name(manager, version)["Qxpriority"].score == Decimal("6.00")


def test_flags_positive_tests_and_likelihood(manager):
    from selection.models import RiskAssessment

    version = version_with(
        ("community_impact", "", "", "5"),
        ("drug_misuse", "", "", "4"),
        ("positive_tests", "", "", "1.5"),
        ("likelihood", "", "", "1"),
    )
    person = OffenderFactory(first_name="Qxflags", crasbo=True, dip_client=True)
    london = dt.timezone(dt.timedelta(hours=1))  # BST in June
    for moment, result in (
        (dt.datetime(2025, 6, 16, 0, 5, tzinfo=london), DrugTestResult.POSITIVE),  # first day
        (dt.datetime(2025, 6, 15, 23, 55, tzinfo=london), DrugTestResult.POSITIVE),  # day before
        (dt.datetime(2026, 6, 15, 23, 59, tzinfo=london), DrugTestResult.POSITIVE),  # last day
        (dt.datetime(2026, 6, 1, 10, 0, tzinfo=london), DrugTestResult.NEGATIVE),
    ):
        DrugTestFactory(offender=person, tested_at=moment, result=result, substances="opiates")
    agency = AgencyFactory(name="Qx probation", kind=AgencyKind.PROBATION)
    for day, likelihood in ((dt.date(2026, 1, 1), 40), (dt.date(2026, 6, 15), 73)):
        RiskAssessment.objects.create(
            offender=person,
            assessed_on=day,
            tool="oasys",
            likelihood_score=likelihood,
            rosh_level="medium",
            agency=agency,
        )
    RiskAssessment.objects.create(  # after the run's date: not used
        offender=person,
        assessed_on=dt.date(2026, 6, 16),
        tool="oasys",
        likelihood_score=99,
        rosh_level="high",
        agency=agency,
    )
    score = scores_by_name(manager, version)["Qxflags"]
    measures = {part.label: part.measure for part in score.parts}
    assert measures["Community impact: subject to a CRASBO"] == 1
    assert measures["Drug misuse: a DIP client"] == 1
    assert measures["Positive drug tests in the window"] == 2
    assert measures["Likelihood of re-offending, latest assessment"] == Decimal("7.3")
    assert score.score == Decimal("5") + Decimal("4") + Decimal("3") + Decimal("7.3")


def test_release_from_a_short_sentence_without_supervision(manager):
    """003 §4.5: priority to those released from under 12 months with no supervision."""
    version = version_with(("short_sentence", "", "", "10"), threshold="0")
    cases = {
        # released in the window from 6 months, no supervision: yes
        "Qxyes": {"sentence_length_months": 6, "released_on": dt.date(2026, 5, 1)},
        # 12 months is not "under 12 months"
        "Qxtwelve": {"sentence_length_months": 12, "released_on": dt.date(2026, 5, 1)},
        # released on licence
        "Qxlicence": {
            "sentence_length_months": 6,
            "released_on": dt.date(2026, 5, 1),
            "supervision_on_release": Supervision.LICENCE,
        },
        # released before the window
        "Qxlongago": {"sentence_length_months": 6, "released_on": WINDOW_DAY_BEFORE},
        # still in, due out within 90 days (15 June + 90 = 13 September 2026)
        "Qxdueout": {"sentence_length_months": 6, "expected_release_on": dt.date(2026, 9, 13)},
        # due out a day after the window
        "Qxlater": {"sentence_length_months": 6, "expected_release_on": dt.date(2026, 9, 14)},
    }
    for name, fields in cases.items():
        person = OffenderFactory(first_name=name)
        CustodyEpisodeFactory(
            offender=person,
            kind=CustodyKind.SENTENCE,
            started_on=dt.date(2025, 12, 1),
            **fields,
        )
    scores = scores_by_name(manager, version)
    assert {n for n, s in scores.items() if s.score} == {"Qxyes", "Qxdueout"}
    # In custody and not due out within the window: not in the pool at all.
    assert "Qxlater" not in scores
    assert scores["Qxdueout"].in_custody and scores["Qxdueout"].due_out_on == dt.date(2026, 9, 13)


def test_the_parts_add_up_to_the_score_and_round_to_the_penny(manager):
    version = version_with(
        ("events", "arrest", "", "0.33"),
        ("harm", "", "", "0.17"),
        ("likelihood", "", "", "1.11"),
    )
    person = OffenderFactory(first_name="Qxsum")
    for _ in range(3):
        event(person, category="Criminal damage")  # harm 2.1 each
    score = scores_by_name(manager, version, explain="all")["Qxsum"]
    assert sum(part.points for part in score.parts) == score.score
    # 3 × 0.33 = 0.99; 6.3 × 0.17 = 1.071 -> 1.07
    assert [part.points for part in score.parts] == [Decimal("0.99"), Decimal("1.07"), 0]
    assert score.fired == score.parts[:2]


def test_the_pool_and_the_threshold(manager):
    version = version_with(("events", "arrest", "", "1"), threshold="2")
    active = OffenderFactory(first_name="Qxactive")
    event(active)
    event(active)
    quiet = OffenderFactory(first_name="Qxquiet")
    event(quiet)
    # Both PPOs score 0: the tie is broken by last name (written out, not made up).
    ppo_quiet = OffenderFactory(first_name="Qxppoquiet", last_name="Bqx")
    ProgrammeEpisodeFactory(offender=ppo_quiet, kind=ProgrammeKind.PPO)
    inside_ppo = OffenderFactory(first_name="Qxinsideppo", last_name="Aqx")
    ProgrammeEpisodeFactory(offender=inside_ppo, kind=ProgrammeKind.PPO)
    CustodyEpisodeFactory(offender=inside_ppo, started_on=dt.date(2026, 1, 1))
    scores = score_pool(people=people(manager), version=version, as_of=AS_OF)
    by_name = {s.first_name: s for s in scores}
    assert by_name["Qxactive"].above_threshold and not by_name["Qxquiet"].above_threshold
    listed = [s.first_name for s in considered(scores)]
    # On a tier: listed whatever the score, in custody or not.
    assert listed == ["Qxactive", "Qxinsideppo", "Qxppoquiet"]
    assert by_name["Qxppoquiet"].tier == ProgrammeKind.PPO


def test_ties_rank_by_name(manager):
    version = version_with(("events", "arrest", "", "1"))
    for first, last in (("Qxb", "Zed"), ("Qxa", "Able"), ("Qxc", "Able")):
        event(OffenderFactory(first_name=first, last_name=last))
    ranked = [
        s.first_name for s in score_pool(people=people(manager), version=version, as_of=AS_OF)
    ]
    assert ranked[:3] == ["Qxa", "Qxc", "Qxb"]


def test_scoring_sees_only_the_people_the_runner_may_see(db):
    version = version_with(("events", "arrest", "", "1"))
    event(OffenderFactory(first_name="Qxpool"))
    key_worker = actor_for(MembershipFactory(role=Role.KEY_WORKER).user, AS_OF)
    assert score_pool(people=people(key_worker), version=version, as_of=AS_OF) == []


def test_the_number_of_queries_does_not_grow_with_the_pool(manager):
    version = version_with(
        ("events", "arrest", "", "1"),
        ("harm", "", "", "1"),
        ("recent", "", "", "1"),
        ("positive_tests", "", "", "1"),
        ("likelihood", "", "", "1"),
        ("short_sentence", "", "", "1"),
    )

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            score_pool(people=people(manager), version=version, as_of=AS_OF)
        return len(queries)

    event(OffenderFactory())
    small = count()
    for _ in range(25):
        person = OffenderFactory()
        event(person)
        DrugTestFactory(offender=person, result=DrugTestResult.POSITIVE, substances="x")
    assert count() == small


def test_the_default_matrix_ships_adopted():
    assert MatrixVersion.objects.get(status=MatrixStatus.ADOPTED).number == 1
    kinds = set(MatrixVersion.objects.get(number=1).criteria.values_list("kind", flat=True))
    assert kinds == set(CriterionKind.values)


def test_a_ppo_serving_a_long_sentence_is_not_due_out(manager):
    """003 §4.4 counts imminent releases as community: only within the release window."""
    version = version_with(("events", "arrest", "", "1"))
    for name, expected in (("Qxsoon", dt.date(2026, 9, 13)), ("Qxyears", dt.date(2029, 1, 1))):
        person = OffenderFactory(first_name=name)
        ProgrammeEpisodeFactory(offender=person, kind=ProgrammeKind.PPO)
        CustodyEpisodeFactory(
            offender=person, started_on=dt.date(2025, 1, 1), expected_release_on=expected
        )
    scores = scores_by_name(manager, version)
    assert scores["Qxsoon"].due_out_on == dt.date(2026, 9, 13)
    assert scores["Qxyears"].in_custody and scores["Qxyears"].due_out_on is None
