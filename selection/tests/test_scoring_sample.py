"""Scoring's paths beside the rules of test_scoring.py: a sample of people scored as they
are in the whole pool, the pence added up in the database rounded half up exactly as the
explanation's Decimals are, every explanation mode giving the same ranking, and a sample's
ids passed to PostgreSQL as one array. These run on SQLite here and on PostgreSQL in CI
(the same tests, each database's own path).

AS_OF is 15 June 2026: the 12-month window starts after 15 June 2025, the 3-month recent
window after 15 March 2026, and the 90-day release window ends on 13 September 2026.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from access.models import AgencyKind, Role
from access.policy import actor_for, people
from offenders.models import DrugTestResult, EventKind, OffenceCategory, ProgrammeKind
from selection.models import Criterion, MatrixStatus, MatrixVersion, RiskAssessment
from selection.scoring import score_pool
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
IN_WINDOW = dt.date(2025, 12, 1)
RECENT = dt.date(2026, 5, 1)
LONDON_JUNE = dt.timezone(dt.timedelta(hours=1))


@pytest.fixture
def manager(db):
    return actor_for(MembershipFactory(role=Role.PPO_MANAGER).user, AS_OF)


def adopt(*criteria: tuple[str, str, str, str], threshold: str = "0") -> MatrixVersion:
    """A version built by hand (not through the services), then adopted."""
    version = MatrixVersion.objects.create(
        number=MatrixVersion.objects.count() + 100,
        status=MatrixStatus.DRAFT,
        threshold=Decimal(threshold),
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


def event(offender, kind=EventKind.ARREST, day=IN_WINDOW, category="Shoplifting"):
    return OffendingEventFactory(
        offender=offender,
        kind=kind,
        occurred_on=day,
        recorded_on=day,
        category=None if category is None else OffenceCategory.objects.get(name=category),
    )


def assess(offender, likelihood: int, day=dt.date(2026, 1, 10)):
    agency = AgencyFactory(name="Qs probation", kind=AgencyKind.PROBATION)
    return RiskAssessment.objects.create(
        offender=offender,
        assessed_on=day,
        tool="oasys",
        likelihood_score=likelihood,
        rosh_level="medium",
        agency=agency,
    )


def test_pence_are_rounded_half_up_as_the_explanation_rounds_them(manager):
    """Fractional measures (harm, likelihood) are rounded per person, half up, once per
    criterion; the score is the sum of the rounded points on every path."""
    version = adopt(("harm", "", "", "0.05"), ("likelihood", "", "", "0.15"))
    # Criminal damage weighs 2.1: 0.05 × 2.1 = 0.105 -> 0.11 (exactly half: up).
    half = OffenderFactory(first_name="Qshalf")
    event(half, category="Criminal damage")
    # Two of them, 4.2: 0.05 × 4.2 = 0.21 exactly.
    exact = OffenderFactory(first_name="Qsexact")
    event(exact, category="Criminal damage")
    event(exact, kind=EventKind.CONVICTION, category="Criminal damage")
    # Likelihood 73%: 0.15 × 7.3 = 1.095 -> 1.10; 41%: 0.15 × 4.1 = 0.615 -> 0.62.
    likely = OffenderFactory(first_name="Qslikely")
    assess(likely, 73)
    less = OffenderFactory(first_name="Qsless")
    assess(less, 41)
    # Below half: 0.05 × 1.0 (shoplifting) = 0.05; intelligence carries no harm.
    below = OffenderFactory(first_name="Qsbelow")
    event(below)
    event(below, kind=EventKind.INTELLIGENCE, category=None)

    expected = {
        "Qshalf": Decimal("0.11"),
        "Qsexact": Decimal("0.21"),
        "Qslikely": Decimal("1.10"),
        "Qsless": Decimal("0.62"),
        "Qsbelow": Decimal("0.05"),
    }
    for explain in ("none", "considered", "all"):
        scores = score_pool(people=people(manager), version=version, as_of=AS_OF, explain=explain)
        assert {s.first_name: s.score for s in scores} == expected
    for s in scores:
        assert sum(part.points for part in s.parts) == s.score


def test_ties_rank_by_last_name_then_first_name_in_any_case_then_record(manager):
    version = adopt(("events", "arrest", "", "1"))
    # Written out: "Smith" before "Smithson" whatever the first names; case does not
    # count; namesakes by record number.
    people_in_order = [
        ("Zed", "Smith"),
        ("al", "SMITHSON"),
        ("Bo", "smithson"),
        ("bo", "Smithson"),
        ("Al", "Smithsonian"),
    ]
    made = [OffenderFactory(first_name=first, last_name=last) for first, last in people_in_order]
    for person in reversed(made):
        event(person)
    for explain in ("none", "all"):
        scores = score_pool(people=people(manager), version=version, as_of=AS_OF, explain=explain)
        assert [s.offender_id for s in scores] == [person.pk for person in made]


@pytest.fixture
def scheme(manager):
    """A small scheme with every kind of measure, custody and tiers, and a version with
    every kind of criterion in odd pence."""
    version = adopt(
        ("events", "arrest", "", "1.07"),
        ("events", "charge", "", "2.13"),
        ("events", "intelligence", "", "0.31"),
        ("recent", "", "", "4.99"),
        ("harm", "", "", "0.35"),
        ("priority_crime", "", "Burglary – residential", "3.01"),
        ("community_impact", "", "", "2.50"),
        ("drug_misuse", "", "", "1.25"),
        ("positive_tests", "", "", "0.75"),
        ("likelihood", "", "", "0.45"),
        ("short_sentence", "", "", "6.66"),
        threshold="3",
    )
    everyone = {}
    for n in range(12):
        person = OffenderFactory(
            first_name=f"Qs{chr(97 + n)}", dip_client=n % 3 == 0, crasbo=n % 4 == 1
        )
        everyone[person.first_name] = person
        for i in range(n % 5):
            event(person, day=IN_WINDOW + dt.timedelta(days=i), category="Criminal damage")
        if n % 2:
            event(person, kind=EventKind.CHARGE, day=RECENT, category="Burglary – residential")
        if n % 3 == 1:
            event(person, kind=EventKind.INTELLIGENCE, category=None)
            event(person, day=dt.date(2025, 6, 15))  # a day before the window: not counted
        for i in range(n % 4):
            DrugTestFactory(
                offender=person,
                tested_at=dt.datetime(2026, 2, 1 + i, 9, 0, tzinfo=LONDON_JUNE),
                result=DrugTestResult.POSITIVE,
                substances="opiates",
            )
        if n % 5 == 2:
            assess(person, 30 + n)
    a, b, c, d, e = (everyone[name] for name in ("Qsa", "Qsb", "Qsc", "Qsd", "Qse"))
    # In custody, due out within the release window, from a short sentence: in the pool.
    CustodyEpisodeFactory(
        offender=a,
        started_on=dt.date(2026, 3, 1),
        sentence_length_months=6,
        expected_release_on=dt.date(2026, 9, 1),
    )
    # In custody for years, on no tier: not in the pool.
    CustodyEpisodeFactory(offender=b, expected_release_on=dt.date(2028, 1, 1))
    # In custody for years, but a PPO: in the pool, not "due out".
    CustodyEpisodeFactory(offender=c, expected_release_on=dt.date(2028, 1, 1))
    ProgrammeEpisodeFactory(offender=c, kind=ProgrammeKind.PPO)
    # Two custody episodes open, started the same day: the one recorded last says when.
    CustodyEpisodeFactory(
        offender=d, started_on=dt.date(2026, 1, 5), expected_release_on=dt.date(2027, 5, 1)
    )
    CustodyEpisodeFactory(
        offender=d, started_on=dt.date(2026, 1, 5), expected_release_on=dt.date(2026, 8, 1)
    )
    # On the IOM tier after a PPO episode that ended.
    ProgrammeEpisodeFactory(offender=e, kind=ProgrammeKind.PPO, deselected_on=dt.date(2026, 1, 1))
    ProgrammeEpisodeFactory(offender=e, kind=ProgrammeKind.IOM, selected_on=dt.date(2026, 1, 1))
    # A PPO with nothing against them: below the threshold, listed and explained all the same.
    quiet = OffenderFactory(first_name="Qsz")
    ProgrammeEpisodeFactory(offender=quiet, kind=ProgrammeKind.PPO)
    everyone[quiet.first_name] = quiet
    return version, everyone


def test_every_explanation_mode_ranks_alike_and_every_explanation_adds_up(manager, scheme):
    version, _ = scheme

    def run(explain: str):
        return score_pool(people=people(manager), version=version, as_of=AS_OF, explain=explain)

    ranked = {explain: run(explain) for explain in ("none", "considered", "all")}
    order = [(s.offender_id, s.score, s.tier, s.due_out_on) for s in ranked["none"]]
    for explain in ("considered", "all"):
        assert [(s.offender_id, s.score, s.tier, s.due_out_on) for s in ranked[explain]] == order
    assert all(not s.parts for s in ranked["none"])
    for s in ranked["all"]:
        assert len(s.parts) == version.criteria.count()
        assert sum(part.points for part in s.parts) == s.score
    kept = [s for s in ranked["considered"] if s.parts]
    assert {s.offender_id for s in kept} == {
        s.offender_id for s in ranked["all"] if s.above_threshold or s.tier
    }
    assert [s.parts for s in kept] == [
        s.parts for s in ranked["all"] if s.above_threshold or s.tier
    ]

    by_name = {s.first_name: s for s in ranked["none"]}
    explained = {s.first_name: s for s in kept}
    assert not by_name["Qsz"].above_threshold and len(explained["Qsz"].parts) == len(
        ranked["all"][0].parts
    )
    assert "Qsb" not in by_name  # in custody for years, on no tier
    assert by_name["Qsa"].in_custody and by_name["Qsa"].due_out_on == dt.date(2026, 9, 1)
    assert by_name["Qsc"].tier == ProgrammeKind.PPO and by_name["Qsc"].due_out_on is None
    assert by_name["Qsd"].due_out_on == dt.date(2026, 8, 1)
    assert by_name["Qse"].tier == ProgrammeKind.IOM
    # Qsa, worked out by hand (n = 0): a DIP client (1.25), no events, and due out on
    # 1 September from a 6-month sentence with no supervision, within 90 days (6.66).
    assert by_name["Qsa"].score == Decimal("1.25") + Decimal("6.66")
    # Qsd (n = 3): 3 criminal damage arrests (3 × 1.07 + harm 0.35 × 6.3 = 2.205 -> 2.21),
    # a recent charge for residential burglary (2.13 + 3.01 + recent 4.99 + harm
    # 0.35 × 9.6 = 3.36, so harm 0.35 × 15.9 = 5.565 -> 5.57), a DIP client (1.25) and
    # 3 positive tests (2.25).
    assert by_name["Qsd"].score == (
        Decimal("3.21") + Decimal("2.13") + Decimal("3.01") + Decimal("4.99") + Decimal("5.57")
    ) + Decimal("1.25") + Decimal("2.25")


def test_a_sample_scores_as_it_does_in_the_whole_pool(manager, scheme):
    version, everyone = scheme
    whole = {
        s.offender_id: s
        for s in score_pool(people=people(manager), version=version, as_of=AS_OF, explain="all")
    }
    names = ["Qsa", "Qsb", "Qsd", "Qsf", "Qsk"]
    sample = [everyone[name].pk for name in names]
    scored = score_pool(
        people=people(manager), version=version, as_of=AS_OF, offender_ids=sample, explain="all"
    )
    # Qsb is in custody for years and on no tier: not in the pool, sample or not.
    assert {s.first_name for s in scored} == {"Qsa", "Qsd", "Qsf", "Qsk"}
    for s in scored:
        assert s == whole[s.offender_id]
    assert [s.offender_id for s in scored] == [
        pk for pk in whole if pk in set(sample)
    ]  # the whole pool's order, kept
    assert score_pool(people=people(manager), version=version, as_of=AS_OF, offender_ids=[]) == []


@pytest.mark.parametrize("explain", ["none", "considered"])
def test_a_sample_takes_the_queries_the_whole_pool_takes(manager, scheme, explain):
    version, everyone = scheme

    def queries(**kwargs: object) -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            score_pool(
                people=people(manager), version=version, as_of=AS_OF, explain=explain, **kwargs
            )
        return [query["sql"] for query in captured]

    whole = queries()
    # A record number no one has marks the queries the sample's ids go into.
    marker = 987654321
    sample = queries(offender_ids=[person.pk for person in everyone.values()] + [marker])
    assert len(sample) == len(whole)
    with_ids = [sql for sql in sample if str(marker) in sql]
    # Custody, tiers, people, events, positive tests, assessments and short sentences (and,
    # on SQLite, the explanations' pass over the events, which PostgreSQL gives only the
    # kept people's ids).
    assert len(with_ids) == (
        8 if explain == "considered" and connection.vendor != "postgresql" else 7
    )
    if connection.vendor == "postgresql":
        # The ids go as one array, whatever their number: `= ANY('{…}')`, not `IN (…)`.
        assert all("= ANY('{" in sql and f",{marker}}}'" in sql for sql in with_ids)
    else:
        assert all(f", {marker})" in sql for sql in with_ids)
