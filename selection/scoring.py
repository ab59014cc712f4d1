"""Scoring the pool with one matrix version: every score explained criterion by criterion.

DESIGN.md "selection"; 003 §4.2 and §4.5: the current PPOs *and* the wider pool are scored
with one consistent matrix, including people in custody whose release is imminent.

The rules, decided once here (the tests and the benchmark's hand-written SQL follow them):

* **The window** is the `window_months` months up to and including the run's date: an
  event counts if `months_before(as_of, window_months) < occurred_on <= as_of`. "Recent" is
  the same with `recent_months`.
* **Measures**, per person:
  - EVENTS (kind K): events of kind K in the window.
  - RECENT: 1 if an arrest or charge is recent, else 0.
  - HARM: the sum of the offence categories' harm weights over arrests, charges,
    convictions and cautions in the window (HARM.md weights, edited by the scheme).
  - PRIORITY_CRIME (category C): arrests, charges, convictions and cautions in the window
    for offences of category C.
  - COMMUNITY_IMPACT: 1 if subject to a CRASBO. DRUG_MISUSE: 1 if a DIP client.
  - POSITIVE_TESTS: positive drug tests taken in the window (by London date).
  - LIKELIHOOD: the likelihood score (%) of the latest risk assessment on or before the
    run's date, divided by 10.
  - SHORT_SENTENCE: 1 if a sentence of under 12 months with no supervision on release
    ended in the window, or is due to end within `release_window_days` (003 §4.5).
* **Points** = weight × measure, rounded to the penny; the **score** is the sum of the
  rounded points, so the explanation always adds up to the score.
* **The pool**: everyone the runner may see who is not in custody today, plus those in
  custody due out within `release_window_days` (003 §4.2 "offenders in custody whose
  release is imminent"), plus everyone on a tier today wherever they are.
* **Considered**: a score at or above the version's threshold (002 on §6.2(4)); people on
  a tier are listed whatever their score, marked if they fall below it.
* **Rank**: score, highest first; ties by last name, first name and record number.

The work is a fixed number of queries whatever the size of the pool: the pool, one grouped
pass over the window's events, positive tests, risk assessments and short-sentence
releases; the scores are then added up in Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    Count,
    Exists,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.utils import timezone

from access.policy import months_before
from offenders.models import (
    CustodyEpisode,
    CustodyKind,
    DrugTest,
    DrugTestResult,
    EventKind,
    Offender,
    OffendingEvent,
    ProgrammeEpisode,
    Supervision,
)

from .models import Criterion, CriterionKind, MatrixVersion, RiskAssessment

PENNY = Decimal("0.01")
# The events that carry an offence whose harm and category count (not intelligence,
# breaches or recalls, which have no offence category of their own).
OFFENCE_EVENTS = (EventKind.ARREST, EventKind.CHARGE, EventKind.CONVICTION, EventKind.CAUTION)
RECENT_EVENTS = (EventKind.ARREST, EventKind.CHARGE)
SHORT_SENTENCE_MONTHS = 12


@dataclass(frozen=True)
class Part:
    """One criterion's contribution to a score."""

    criterion_id: int
    label: str
    measure: Decimal
    weight: Decimal
    points: Decimal

    def as_json(self) -> dict[str, Any]:
        return {
            "criterion": self.criterion_id,
            "label": self.label,
            "measure": str(self.measure),
            "weight": str(self.weight),
            "points": str(self.points),
        }


@dataclass
class PersonScore:
    offender_id: int
    last_name: str
    first_name: str
    score: Decimal
    tier: str
    in_custody: bool
    due_out_on: dt.date | None
    above_threshold: bool
    parts: list[Part] = field(default_factory=list)

    @property
    def fired(self) -> list[Part]:
        """The criteria that gave points."""
        return [part for part in self.parts if part.points]


@dataclass(frozen=True)
class Window:
    as_of: dt.date
    since: dt.date  # exclusive
    recent_since: dt.date  # exclusive
    release_by: dt.date  # inclusive

    @classmethod
    def of(cls, version: MatrixVersion, as_of: dt.date) -> Window:
        return cls(
            as_of=as_of,
            since=months_before(as_of, version.window_months),
            recent_since=months_before(as_of, version.recent_months),
            release_by=as_of + dt.timedelta(days=version.release_window_days),
        )

    def local_start(self) -> dt.datetime:
        """The first moment of the window, in London time: the day after `since`."""
        day = self.since + dt.timedelta(days=1)
        return timezone.make_aware(dt.datetime.combine(day, dt.time.min))

    def local_end(self) -> dt.datetime:
        """The first moment after the window: midnight at the end of `as_of`."""
        day = self.as_of + dt.timedelta(days=1)
        return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def pool(people: QuerySet[Offender], version: MatrixVersion, as_of: dt.date) -> QuerySet[Any]:
    """Who is scored, from the people the runner may see (see the module docstring)."""
    window = Window.of(version, as_of)
    open_custody = CustodyEpisode.objects.filter(offender=OuterRef("pk")).open_on(as_of)
    open_tier = ProgrammeEpisode.objects.filter(offender=OuterRef("pk")).open_on(as_of)
    return (
        people.annotate(
            in_custody=Exists(open_custody),
            due_out_on=Subquery(
                open_custody.order_by("-started_on").values("expected_release_on")[:1]
            ),
            tier=Subquery(open_tier.order_by("-selected_on").values("kind")[:1]),
        )
        .filter(
            Q(in_custody=False)
            | Q(due_out_on__lte=window.release_by)
            | Q(tier__isnull=False)
        )
        .values(
            "pk", "last_name", "first_name", "dip_client", "crasbo", "in_custody", "due_out_on",
            "tier",
        )
        # Ranked in Python by score: the database's name order would only cost a sort.
        .order_by()
    )  # fmt: skip


def _restrict(qs: QuerySet[Any], offender_ids: Iterable[int] | None, field: str) -> Any:
    return qs if offender_ids is None else qs.filter(**{f"{field}__in": list(offender_ids)})


def _event_measures(
    criteria: list[Criterion], window: Window, offender_ids: list[int] | None
) -> dict[int, dict[str, Any]]:
    """One grouped pass over the window's events: a column per criterion that reads them."""
    in_window = Q(occurred_on__gt=window.since, occurred_on__lte=window.as_of)
    offence = Q(kind__in=OFFENCE_EVENTS)
    columns: dict[str, Any] = {}
    for c in criteria:
        if c.kind == CriterionKind.EVENTS:
            columns[f"c{c.pk}"] = Count("pk", filter=Q(kind=c.event_kind))
        elif c.kind == CriterionKind.PRIORITY_CRIME:
            columns[f"c{c.pk}"] = Count("pk", filter=offence & Q(category_id=c.category_id))
        elif c.kind == CriterionKind.HARM:
            columns[f"c{c.pk}"] = Sum("category__harm_weight", filter=offence)
        elif c.kind == CriterionKind.RECENT:
            columns[f"c{c.pk}"] = Max(
                "occurred_on",
                filter=Q(kind__in=RECENT_EVENTS, occurred_on__gt=window.recent_since),
            )
    if not columns:
        return {}
    rows = _restrict(OffendingEvent.objects.filter(in_window), offender_ids, "offender_id")
    return {
        row.pop("offender_id"): row
        for row in rows.values("offender_id").annotate(**columns).order_by()
    }


def _positive_tests(window: Window, offender_ids: list[int] | None) -> dict[int, int]:
    tests = DrugTest.objects.filter(
        result=DrugTestResult.POSITIVE,
        tested_at__gte=window.local_start(),
        tested_at__lt=window.local_end(),
    )
    rows = _restrict(tests, offender_ids, "offender_id").values("offender_id")
    return dict(rows.annotate(n=Count("pk")).values_list("offender_id", "n").order_by())


def _likelihood(window: Window, offender_ids: list[int] | None) -> dict[int, int]:
    """The latest assessment's score on or before the run's date (latest date, then row)."""
    rows = _restrict(
        RiskAssessment.objects.filter(assessed_on__lte=window.as_of), offender_ids, "offender_id"
    ).order_by("offender_id", "assessed_on", "pk")
    latest: dict[int, int] = {}
    for offender_id, score in rows.values_list("offender_id", "likelihood_score"):
        latest[offender_id] = score
    return latest


def _short_sentence(window: Window, offender_ids: list[int] | None) -> set[int]:
    episodes = CustodyEpisode.objects.filter(
        kind=CustodyKind.SENTENCE,
        sentence_length_months__lt=SHORT_SENTENCE_MONTHS,
        supervision_on_release__in=["", Supervision.NONE],
    ).filter(
        Q(released_on__gt=window.since, released_on__lte=window.as_of)
        | Q(
            released_on__isnull=True,
            started_on__lte=window.as_of,
            expected_release_on__gte=window.as_of,
            expected_release_on__lte=window.release_by,
        )
    )
    rows = _restrict(episodes, offender_ids, "offender_id")
    return set(rows.values_list("offender_id", flat=True).distinct())


def _money(value: Decimal) -> Decimal:
    return value.quantize(PENNY, rounding=ROUND_HALF_UP)


def _cents(value: Decimal) -> int:
    return int((value * 100).to_integral_value(rounding=ROUND_HALF_UP))


def _points_cents(weight_cents: int, measure: Decimal) -> int:
    """weight × measure in pence, rounded half up (as Decimal.quantize would)."""
    return _cents(Decimal(weight_cents) * measure / 100)


def score_pool(
    *,
    people: QuerySet[Offender],
    version: MatrixVersion,
    as_of: dt.date,
    offender_ids: Iterable[int] | None = None,
    explain: str = "considered",
) -> list[PersonScore]:
    """Scores for the pool, ranked. `people` is the policy's queryset of whom the runner
    may see. `explain`: "all" keeps every person's parts, "considered" only those listed
    (above the threshold or on a tier), "none" keeps no parts (the fastest).

    Scores are added up sparsely in whole pence: each source of measures adds the points
    of the people it has, so the work grows with what people did, not with the pool times
    the criteria; parts are built only for the people whose explanation is kept.
    """
    ids = None if offender_ids is None else sorted(set(offender_ids))
    criteria = list(version.criteria.select_related("category"))
    window = Window.of(version, as_of)
    people_rows = list(_restrict(pool(people, version, as_of), ids, "pk"))
    events = _event_measures(criteria, window, ids)
    kinds = {c.kind for c in criteria}
    tests = _positive_tests(window, ids) if CriterionKind.POSITIVE_TESTS in kinds else {}
    likelihood = _likelihood(window, ids) if CriterionKind.LIKELIHOOD in kinds else {}
    short = _short_sentence(window, ids) if CriterionKind.SHORT_SENTENCE in kinds else set()

    cents: dict[int, int] = {}
    weight = {c.pk: _cents(c.weight) for c in criteria if c.weight}

    def add(pk: int, amount: int) -> None:
        if amount:
            cents[pk] = cents.get(pk, 0) + amount

    for c in criteria:
        w = weight.get(c.pk)
        if not w:
            continue
        column = f"c{c.pk}"
        if c.kind in (CriterionKind.EVENTS, CriterionKind.PRIORITY_CRIME):
            for pk, row in events.items():
                add(pk, w * (row.get(column) or 0))
        elif c.kind == CriterionKind.HARM:
            for pk, row in events.items():
                if row.get(column):
                    add(pk, _points_cents(w, Decimal(row[column])))
        elif c.kind == CriterionKind.RECENT:
            for pk, row in events.items():
                add(pk, w if row.get(column) else 0)
        elif c.kind == CriterionKind.POSITIVE_TESTS:
            for pk, n in tests.items():
                add(pk, w * n)
        elif c.kind == CriterionKind.LIKELIHOOD:
            for pk, score in likelihood.items():
                add(pk, _points_cents(w, Decimal(score) / 10))
        elif c.kind == CriterionKind.SHORT_SENTENCE:
            for pk in short:
                add(pk, w)
    flag_weights = [
        (flag, weight[c.pk])
        for c in criteria
        if c.pk in weight
        for kind, flag in (
            (CriterionKind.COMMUNITY_IMPACT, "crasbo"),
            (CriterionKind.DRUG_MISUSE, "dip_client"),
        )
        if c.kind == kind
    ]
    threshold_cents = _cents(version.threshold)
    labels = {c.pk: c.label for c in criteria}
    scores: list[PersonScore] = []
    for person in people_rows:
        pk = person["pk"]
        total = cents.get(pk, 0)
        for flag, w in flag_weights:
            if person[flag]:
                total += w
        tier = person["tier"] or ""
        above = total >= threshold_cents
        keep = explain == "all" or (explain == "considered" and (above or tier))
        parts = (
            _parts(criteria, labels, person, events.get(pk, {}), tests, likelihood, short)
            if keep
            else []
        )
        due = person["due_out_on"]
        scores.append(
            PersonScore(
                offender_id=pk,
                last_name=person["last_name"],
                first_name=person["first_name"],
                score=Decimal(total) / 100,
                tier=tier,
                in_custody=person["in_custody"],
                # "Due out" only within the release window (003 §4.4 counts imminent
                # releases as community); a long sentence's date is not "due out".
                due_out_on=(
                    due
                    if person["in_custody"] and due is not None and due <= window.release_by
                    else None
                ),
                above_threshold=above,
                parts=parts,
            )
        )
    scores.sort(key=lambda s: (-s.score, s.last_name.lower(), s.first_name.lower(), s.offender_id))
    return scores


def _parts(
    criteria: list[Criterion],
    labels: dict[int, str],
    person: dict[str, Any],
    measured: dict[str, Any],
    tests: dict[int, int],
    likelihood: dict[int, int],
    short: set[int],
) -> list[Part]:
    """One person's explanation: every criterion, its measure, weight and points."""
    parts = []
    for c in criteria:
        measure = _measure(c, person, measured, tests, likelihood, short, person["pk"])
        parts.append(Part(c.pk, labels[c.pk], measure, c.weight, _money(c.weight * measure)))
    return parts


def _measure(
    c: Criterion,
    person: dict[str, Any],
    measured: dict[str, Any],
    tests: dict[int, int],
    likelihood: dict[int, int],
    short: set[int],
    pk: int,
) -> Decimal:
    kind = c.kind
    if kind in (CriterionKind.EVENTS, CriterionKind.PRIORITY_CRIME):
        return Decimal(measured.get(f"c{c.pk}") or 0)
    if kind == CriterionKind.HARM:
        return Decimal(measured.get(f"c{c.pk}") or 0)
    if kind == CriterionKind.RECENT:
        return Decimal(1 if measured.get(f"c{c.pk}") else 0)
    if kind == CriterionKind.COMMUNITY_IMPACT:
        return Decimal(1 if person["crasbo"] else 0)
    if kind == CriterionKind.DRUG_MISUSE:
        return Decimal(1 if person["dip_client"] else 0)
    if kind == CriterionKind.POSITIVE_TESTS:
        return Decimal(tests.get(pk, 0))
    if kind == CriterionKind.LIKELIHOOD:
        return Decimal(likelihood.get(pk, 0)) / 10
    if kind == CriterionKind.SHORT_SENTENCE:
        return Decimal(1 if pk in short else 0)
    raise ValueError(f"Unknown criterion kind {kind!r}")


def considered(scores: list[PersonScore]) -> list[PersonScore]:
    """Those a run lists: at or above the threshold, or on a tier today."""
    return [s for s in scores if s.above_threshold or s.tier]
