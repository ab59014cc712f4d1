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

The work is a fixed number of queries whatever the size of the pool: the criteria, the
people, their open custody episodes and tiers, the offence categories' harm weights, one
grouped pass over the window's events that adds up their points in the database, positive
tests, risk assessments and short-sentence releases; and, when explanations are kept, one
more grouped pass over the events of the people whose explanation is kept. The rest is
added up in Python, in whole pence.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from operator import itemgetter
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import (
    Case,
    Count,
    Expression,
    ExpressionWrapper,
    F,
    IntegerField,
    Lookup,
    Max,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.utils import timezone

from access.policy import months_before
from offenders.models import (
    CustodyEpisode,
    CustodyKind,
    DrugTest,
    DrugTestResult,
    EventKind,
    OffenceCategory,
    Offender,
    OffendingEvent,
    ProgrammeEpisode,
    Supervision,
)

from .models import Criterion, CriterionKind, MatrixVersion, RiskAssessment

PENNY = Decimal("0.01")
# A C-level sort key: the first item of a row (the sort then compares strings or whole
# numbers directly, much faster than it compares tuples).
_FIRST = itemgetter(0)
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


# Slots: a whole-pool run makes one per person (660,670 at a force's size), and an
# instance without a __dict__ is quicker to make and to free (benchmarks/README.md).
@dataclass(slots=True)
class PersonScore:
    offender_id: int
    last_name: str
    first_name: str
    score: Decimal
    tier: str
    in_custody: bool
    due_out_on: dt.date | None
    above_threshold: bool
    # Empty (one shared tuple) unless the run keeps this person's explanation.
    parts: Sequence[Part] = ()

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


class _AnyOf(Lookup):  # type: ignore[type-arg]
    """`column = ANY(%s)`: a sample's ids as one array parameter (PostgreSQL), not an `IN`
    list of thousands of parameters for Django to prepare and the server to plan."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        # One text parameter, '{1,2,…}', cast on the server: psycopg would otherwise
        # adapt the list item by item, which costs more than the query's planning.
        array = "{" + ",".join(map(str, self.rhs)) + "}"
        db_type = self.lhs.output_field.rel_db_type(connection)
        return f"{lhs} = ANY(%s::{db_type}[])", (*lhs_params, array)


class _ByCategory(Expression):
    """The whole number an event's offence category maps to (0 for none or another):
    on PostgreSQL one array lookup per event, elsewhere a `CASE` over the categories."""

    output_field = IntegerField()

    def __init__(self, values: dict[int, int]) -> None:
        super().__init__()
        self.values = values
        self.column: Any = F("category_id")
        self.case: Any = Case(
            *[When(category_id=category, then=Value(n)) for category, n in values.items() if n],
            default=Value(0),
        )

    def get_source_expressions(self) -> list[Any]:
        return [self.column, self.case]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        self.column, self.case = exprs

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        return compiler.compile(self.case)  # type: ignore[no-any-return]

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:
        ids = [category for category, n in self.values.items() if n]
        if not ids or min(ids) < 1 or max(ids) > 10_000:
            return self.as_sql(compiler, connection)
        column, params = compiler.compile(self.column)
        array = "{" + ",".join(str(self.values.get(i, 0)) for i in range(1, max(ids) + 1)) + "}"
        return f"COALESCE((%s::integer[])[{column}], 0)", (array, *params)


def _takes_arrays(db: str) -> bool:
    return connections[db].vendor == "postgresql"


def _restrict(qs: QuerySet[Any], offender_ids: list[int] | None, field: str) -> Any:
    if offender_ids is None:
        return qs
    if _takes_arrays(qs.db):
        return qs.filter(_AnyOf(F(field), offender_ids))
    return qs.filter(**{f"{field}__in": offender_ids})


def _fetch(rows: QuerySet[Any]) -> list[tuple[Any, ...]]:
    """A `values_list` query's rows as the database driver gives them, without Django's
    row-by-row iteration and converters: for the large queries, whose values are ids,
    names, whole numbers and true/false (SQLite's 1/0, only ever read as true or false)."""
    try:
        sql, params = rows.query.get_compiler(using=rows.db).as_sql()
    except EmptyResultSet:  # `IN ()` on an empty sample: Django asks nothing.
        return []
    with connections[rows.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# One person of the pool: the order of a tie (names in lower case, see `pool`), record
# number, last name, first name, DIP client, CRASBO, in custody today, due out on (the open
# custody episode's expected release if within the release window: 003 §4.4 counts
# imminent releases as community; a long sentence's date is not "due out"), tier today
# ("" for none).
PoolRow = tuple[str, int, str, str, bool, bool, bool, "dt.date | None", str]


def pool(
    people: QuerySet[Offender], window: Window, offender_ids: list[int] | None = None
) -> list[PoolRow]:
    """Who is scored, from the people the runner may see (see the module docstring).

    Three plain queries joined here, not correlated subqueries run for every person: the
    people, each one's custody episode open on the run's date that started last, and each
    one's tier today (the episode selected last). Among episodes that started (or were
    selected) on the same day, the one recorded last counts."""
    custody: dict[int, dt.date | None] = dict(
        _restrict(CustodyEpisode.objects.open_on(window.as_of), offender_ids, "offender_id")
        .order_by("offender_id", "started_on", "pk")
        .values_list("offender_id", "expected_release_on")
    )
    tiers: dict[int, str] = dict(
        _restrict(ProgrammeEpisode.objects.open_on(window.as_of), offender_ids, "offender_id")
        .order_by("offender_id", "selected_on", "pk")
        .values_list("offender_id", "kind")
    )
    people_rows = _fetch(
        _restrict(people, offender_ids, "pk")
        # Ranked in Python by score: the database's name order would only cost a sort.
        .order_by()
        .values_list("pk", "last_name", "first_name", "dip_client", "crasbo")
    )
    # In record-number order (as a table read from the start gives them, so this sort
    # only checks), so that people sorted later by name alone keep it among namesakes.
    people_rows.sort(key=_FIRST)
    release_by = window.release_by
    rows: list[PoolRow] = []
    append = rows.append
    for pk, last_name, first_name, dip_client, crasbo in people_rows:
        tier = tiers.get(pk, "")
        if pk in custody:
            due = custody[pk]
            if due is not None and due > release_by:
                due = None
            # In custody: only if due out within the release window, or on a tier.
            if due is None and not tier:
                continue
            in_custody = True
        else:
            in_custody, due = False, None
        append(
            (
                # Ties rank by last name, then first name, in lower case: as one string,
                # the last name and a NUL before the first, which orders exactly as the
                # pair does (a name holds no NUL: PostgreSQL cannot store one and Django's
                # forms refuse it) and sorts faster than pairs.
                f"{last_name.lower()}\0{first_name.lower()}",
                pk,
                last_name,
                first_name,
                dip_client,
                crasbo,
                in_custody,
                due,
                tier,
            )
        )
    return rows


@dataclass(frozen=True)
class _Pence:
    """A version's weights in whole pence, by what each criterion reads. Criteria of one
    kind add up (a version holds each at most once, but nothing here relies on it)."""

    per_event: dict[str, int]  # EVENTS: event kind -> pence per event
    per_offence: dict[int, int]  # PRIORITY_CRIME: category -> pence per offence
    harm: list[int]  # HARM: pence per unit of harm, each criterion rounded apart
    recent: int  # RECENT: pence once
    crasbo: int  # COMMUNITY_IMPACT
    dip_client: int  # DRUG_MISUSE
    per_test: int  # POSITIVE_TESTS: pence per positive test
    likelihood: list[int]  # LIKELIHOOD: pence per 10%, each criterion rounded apart
    short_sentence: int  # SHORT_SENTENCE

    @classmethod
    def of(cls, criteria: list[Criterion]) -> _Pence:
        per_event: dict[str, int] = {}
        per_offence: dict[int, int] = {}
        once: dict[str, int] = {}
        harm: list[int] = []
        likelihood: list[int] = []
        for c in criteria:
            pence = _cents(c.weight)
            if not pence:
                continue
            if c.kind == CriterionKind.EVENTS:
                per_event[c.event_kind] = per_event.get(c.event_kind, 0) + pence
            elif c.kind == CriterionKind.PRIORITY_CRIME:
                assert c.category_id is not None
                per_offence[c.category_id] = per_offence.get(c.category_id, 0) + pence
            elif c.kind == CriterionKind.HARM:
                harm.append(pence)
            elif c.kind == CriterionKind.LIKELIHOOD:
                likelihood.append(pence)
            else:
                once[c.kind] = once.get(c.kind, 0) + pence
        return cls(
            per_event=per_event,
            per_offence=per_offence,
            harm=harm,
            recent=once.get(CriterionKind.RECENT, 0),
            crasbo=once.get(CriterionKind.COMMUNITY_IMPACT, 0),
            dip_client=once.get(CriterionKind.DRUG_MISUSE, 0),
            per_test=once.get(CriterionKind.POSITIVE_TESTS, 0),
            likelihood=likelihood,
            short_sentence=once.get(CriterionKind.SHORT_SENTENCE, 0),
        )

    @property
    def reads_events(self) -> bool:
        return bool(self.per_event or self.per_offence or self.harm or self.recent)


def _event_points(pence: _Pence, window: Window, offender_ids: list[int] | None) -> dict[int, int]:
    """One grouped pass over the window's events: each person's points, in pence, from
    every criterion that reads events, added up in the database.

    Per event: the pence of its kind, plus those of its category if it is an offence of a
    local priority crime (both whole pence: no rounding); per person, the harm of the
    offences in tenths (harm weights have one decimal place), turned into pence rounded half
    up once per harm criterion; and the recent points once if an arrest or charge is recent.
    Integers only, so SQLite and PostgreSQL give the same pence as the Decimal explanation."""
    if not pence.reads_events:
        return {}
    offence = Q(kind__in=OFFENCE_EVENTS)
    by_kind = []
    for kind in EventKind.values:
        each = pence.per_event.get(kind, 0)
        if kind in OFFENCE_EVENTS and pence.per_offence:
            by_category = [
                When(category_id=category, then=Value(each + extra))
                for category, extra in pence.per_offence.items()
            ]
            by_kind.append(When(kind=kind, then=Case(*by_category, default=Value(each))))
        elif each:
            by_kind.append(When(kind=kind, then=Value(each)))
    points: Any = Value(0)
    if by_kind:
        points = Sum(Case(*by_kind, default=Value(0)))
    if pence.harm:
        harm = {
            category: _tenths(harm_weight)
            for category, harm_weight in OffenceCategory.objects.values_list("pk", "harm_weight")
        }
        tenths = Sum(Case(When(offence, then=_ByCategory(harm)), default=Value(0)))
        for each in pence.harm:
            # weight × harm = pence × tenths / 10 pence, rounded half up (both >= 0).
            points = points + (tenths * Value(each) + Value(5)) / Value(10)
    if pence.recent:
        recent = Q(kind__in=RECENT_EVENTS, occurred_on__gt=window.recent_since)
        points = points + Max(Case(When(recent, then=Value(pence.recent)), default=Value(0)))
    rows = _restrict(
        OffendingEvent.objects.filter(occurred_on__gt=window.since, occurred_on__lte=window.as_of),
        offender_ids,
        "offender_id",
    )
    return dict(
        _fetch(
            rows.values("offender_id")
            .annotate(points=ExpressionWrapper(points, output_field=IntegerField()))
            .values_list("offender_id", "points")
            .order_by()
        )
    )


def _event_measures(
    criteria: list[Criterion], window: Window, offender_ids: list[int] | None
) -> dict[int, dict[str, Any]]:
    """For explanations: one grouped pass over the window's events, a column per
    criterion that reads them."""
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
    return dict(rows.values_list("offender_id", "likelihood_score"))


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


def _tenths(value: Decimal) -> int:
    return int((value * 10).to_integral_value(rounding=ROUND_HALF_UP))


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

    Scores are added up in whole pence: the events' points in the database, then, per
    source of the other measures, the points of the people it has; parts are built only for
    the people whose explanation is kept, from one more pass over their events.
    """
    ids = None if offender_ids is None else sorted({int(pk) for pk in offender_ids})
    # A whole pool is millions of small objects, none in a reference cycle: the cyclic
    # collector, left on, walks them over and over as they are made (it took three times
    # as long as making them, measured on a force-sized pool; see benchmarks/README.md).
    with _collector_paused():
        return _score(people, version, as_of, ids, explain)


@contextmanager
def _collector_paused() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _score(
    people: QuerySet[Offender],
    version: MatrixVersion,
    as_of: dt.date,
    ids: list[int] | None,
    explain: str,
) -> list[PersonScore]:
    criteria = list(version.criteria.select_related("category"))
    window = Window.of(version, as_of)
    pence = _Pence.of(criteria)
    people_rows = pool(people, window, ids)
    kinds = {c.kind for c in criteria}
    tests = _positive_tests(window, ids) if CriterionKind.POSITIVE_TESTS in kinds else {}
    likelihood = _likelihood(window, ids) if CriterionKind.LIKELIHOOD in kinds else {}
    short = _short_sentence(window, ids) if CriterionKind.SHORT_SENTENCE in kinds else set()

    points = _event_points(pence, window, ids)
    if pence.per_test:
        for pk, n in tests.items():
            points[pk] = points.get(pk, 0) + pence.per_test * n
    for each in pence.likelihood:
        for pk, percent in likelihood.items():
            # weight × percent / 10 = pence × percent / 10 pence, rounded half up.
            points[pk] = points.get(pk, 0) + (each * percent + 5) // 10
    if pence.short_sentence:
        for pk in short:
            points[pk] = points.get(pk, 0) + pence.short_sentence

    # Ranked by score, highest first, then by names and record number. Many people share
    # a score (most of all 0): each score's people are put together and only a score held
    # by two or more is sorted by name, which makes far fewer comparisons than sorting the
    # whole pool by (score, names).
    points_of = points.get
    dip_pence, crasbo_pence = pence.dip_client, pence.crasbo
    by_pence: dict[int, list[PoolRow]] = {}
    for row in people_rows:
        total = points_of(row[1], 0)
        if row[4]:
            total += dip_pence
        if row[5]:
            total += crasbo_pence
        held = by_pence.get(total)
        if held is None:
            by_pence[total] = [row]
        else:
            held.append(row)
    threshold = _cents(version.threshold)
    scores: list[PersonScore] = []
    append = scores.append
    for total in sorted(by_pence, reverse=True):
        held = by_pence[total]
        if len(held) > 1:
            # By name (a sort is stable: namesakes stay in record-number order).
            held.sort(key=_FIRST)
        score = Decimal(total) / 100
        above = total >= threshold
        for _, pk, last_name, first_name, _, _, in_custody, due, tier in held:
            append(PersonScore(pk, last_name, first_name, score, tier, in_custody, due, above))

    if explain in ("all", "considered"):
        kept = [s for s in scores if explain == "all" or s.above_threshold or s.tier]
        if kept:
            # Only the kept people's events, as one array on PostgreSQL; elsewhere (SQLite:
            # the demo and the tests) an `IN` list of them could pass the database's limit
            # on parameters, so the pass reads the pool's and only the kept are used.
            only = ids
            if explain == "considered" and _takes_arrays(people.db):
                only = [s.offender_id for s in kept]
            measured = _event_measures(criteria, window, only)
            flags = {row[1]: row for row in people_rows}
            explainer = _Explainer(criteria)
            for s in kept:
                s.parts = explainer.parts(
                    flags[s.offender_id],
                    measured.get(s.offender_id, {}),
                    tests,
                    likelihood,
                    short,
                )
    return scores


ZERO, ONE = Decimal(0), Decimal(1)


class _Explainer:
    """Builds explanations: every criterion, its measure, weight and points.

    A whole-pool run keeps the explanations of everyone considered (270,941 people of
    660,670 at a force's size, 15 criteria each): each criterion is read once here, not
    once per person, and a `Part` (immutable) is made once per criterion and measure and
    shared by everyone with that measure — most measures are 0 or 1."""

    def __init__(self, criteria: list[Criterion]) -> None:
        self.plan = [(n, c, c.kind, f"c{c.pk}") for n, c in enumerate(criteria)]
        self.made: dict[tuple[int, Any], Part] = {}

    def part(self, n: int, c: Criterion, measure: Decimal) -> Part:
        # By the digits, not the value: 1.0 and 1 are equal but read differently.
        key = (n, measure.as_tuple())
        found = self.made.get(key)
        if found is None:
            found = Part(c.pk, c.label, measure, c.weight, _money(c.weight * measure))
            self.made[key] = found
        return found

    def parts(
        self,
        person: PoolRow,
        measured: dict[str, Any],
        tests: dict[int, int],
        likelihood: dict[int, int],
        short: set[int],
    ) -> list[Part]:
        pk, dip_client, crasbo = person[1], person[4], person[5]
        return [
            self.part(
                n,
                c,
                _measure(kind, key, pk, dip_client, crasbo, measured, tests, likelihood, short),
            )
            for n, c, kind, key in self.plan
        ]


def _measure(
    kind: str,
    key: str,
    pk: int,
    dip_client: bool,
    crasbo: bool,
    measured: dict[str, Any],
    tests: dict[int, int],
    likelihood: dict[int, int],
    short: set[int],
) -> Decimal:
    if kind in (CriterionKind.EVENTS, CriterionKind.PRIORITY_CRIME, CriterionKind.HARM):
        return Decimal(measured.get(key) or 0)
    if kind == CriterionKind.RECENT:
        return ONE if measured.get(key) else ZERO
    if kind == CriterionKind.COMMUNITY_IMPACT:
        return ONE if crasbo else ZERO
    if kind == CriterionKind.DRUG_MISUSE:
        return ONE if dip_client else ZERO
    if kind == CriterionKind.POSITIVE_TESTS:
        return Decimal(tests.get(pk, 0))
    if kind == CriterionKind.LIKELIHOOD:
        return Decimal(likelihood.get(pk, 0)) / 10
    if kind == CriterionKind.SHORT_SENTENCE:
        return ONE if pk in short else ZERO
    raise ValueError(f"Unknown criterion kind {kind!r}")


def considered(scores: list[PersonScore]) -> list[PersonScore]:
    """Those a run lists: at or above the threshold, or on a tier today."""
    return [s for s in scores if s.above_threshold or s.tier]
