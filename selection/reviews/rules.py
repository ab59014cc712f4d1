"""Each kind of review as one set-based rule: which are due on a day (selection.reviews).

A rule reads people only through the access policy (`people_q` for the acting system
actor) and returns `Due` rows; the sweep decides which are new and writes them.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from access.models import Scheme
from access.policy import Actor, months_before, people, people_q
from offenders.dates import birthday
from offenders.models import (
    CustodyEpisode,
    CustodyKind,
    DeselectionReason,
    DrugTest,
    DrugTestResult,
    EventKind,
    OffenceCategory,
    OffendingEvent,
    ProgrammeEpisode,
    ProgrammeKind,
)

from ..models import Review, ReviewKind, ReviewStatus, RiskAssessment, RoshLevel, TransferIn

# 003 §6.2(1): what stops the clock.
RESETS = (EventKind.ARREST, EventKind.INTELLIGENCE)
# 003 §5.7: "arrested or charged".
REOFFENDING = (EventKind.ARREST, EventKind.CHARGE)
# Events that carry an offence with a harm weight (selection.scoring).
OFFENCES = (EventKind.ARREST, EventKind.CHARGE, EventKind.CONVICTION, EventKind.CAUTION)
HIGH_ROSH = (RoshLevel.HIGH, RoshLevel.VERY_HIGH)
ADULT_AGE = 18
# 003 §4.2: the NI30 cohort year starts on 1 April; its list review is due a month before.
NI30_YEAR_START = (4, 1)
NI30_REVIEW_LEAD_MONTHS = 1
# Items of a review's detail that date an intelligence report: shown only to readers of
# intelligence (ACCESS.md: a key worker sees intelligence as counts only).
INTELLIGENCE_DETAIL_KEYS = frozenset({"last_arrest_or_intelligence", "quiet_from"})
# Newly raised reviews' details are read for this many people per query.
DETAIL_BATCH = 2000


@dataclass
class Due:
    kind: str
    offender_id: int | None
    basis: str
    due_on: dt.date
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, int, str]:
        return (self.kind, self.offender_id or 0, self.basis)


def months_after(day: dt.date, months: int) -> dt.date:
    return months_before(day, -months)


def liberty_days_needed(months: int) -> int:
    """A month is a twelfth of a year: 6 months at liberty is 183 days."""
    return math.ceil(months * 365 / 12)


def day_liberty_reaches(
    after: dt.date, days: int, custody: Iterable[tuple[dt.date, dt.date | None]]
) -> dt.date | None:
    """The day on which the person has been at liberty for `days` days counted from the
    day after `after`, skipping days in custody ([started_on, released_on)); None if they
    are in custody with no release before that."""
    cursor = after + dt.timedelta(days=1)
    remaining = days
    for started, released in sorted(custody, key=lambda c: c[0]):
        if released is not None and released <= cursor:
            continue
        start = max(started, cursor)
        free = (start - cursor).days
        if free >= remaining:
            return cursor + dt.timedelta(days=remaining - 1)
        remaining -= free
        if released is None:
            return None
        cursor = released
    return cursor + dt.timedelta(days=remaining - 1)


def days_in_custody(
    after: dt.date, until: dt.date, custody: Iterable[tuple[dt.date, dt.date | None]]
) -> int:
    """Days d with after < d <= until spent in custody."""
    total = 0
    first, last = after + dt.timedelta(days=1), until
    for started, released in custody:
        end = (released - dt.timedelta(days=1)) if released else last
        lo, hi = max(first, started), min(last, end)
        if hi >= lo:
            total += (hi - lo).days + 1
    return total


@dataclass
class Context:
    actor: Actor
    scheme: Scheme

    @property
    def as_of(self) -> dt.date:
        return self.actor.as_of

    def episodes(self, *kinds: str) -> QuerySet[ProgrammeEpisode]:
        """Episodes open today of these kinds, of people the actor may see."""
        return (
            ProgrammeEpisode.objects.filter(people_q(self.actor, prefix="offender__"))
            .open_on(self.as_of)
            .filter(kind__in=kinds)
        )


# --- 003 §6.2(1): no arrest or intelligence for 6 months at liberty ---------------------


def no_arrest(ctx: Context) -> list[Due]:
    as_of = ctx.as_of
    needed = liberty_days_needed(ctx.scheme.no_arrest_review_months)
    last_reset = (
        OffendingEvent.objects.filter(
            offender=OuterRef("offender_id"), kind__in=RESETS, occurred_on__lte=as_of
        )
        .order_by("-occurred_on")
        .values("occurred_on")[:1]
    )
    rows = list(
        ctx.episodes(ProgrammeKind.PPO)
        .annotate(last_reset=Subquery(last_reset))
        .values("pk", "offender_id", "selected_on", "last_reset")
    )
    candidates = []
    for row in rows:
        after = row["selected_on"] - dt.timedelta(days=1)
        if row["last_reset"] and row["last_reset"] > after:
            after = row["last_reset"]
        # Fewer calendar days than needed: cannot be due whatever the custody.
        if (as_of - after).days >= needed:
            candidates.append((row, after))
    if not candidates:
        return []
    earliest = min(after for _, after in candidates)
    custody: dict[int, list[tuple[dt.date, dt.date | None]]] = defaultdict(list)
    spells = (
        CustodyEpisode.objects.filter(
            offender__in=ctx.episodes(ProgrammeKind.PPO).values("offender_id"),
            started_on__lte=as_of,
        )
        .filter(Q(released_on__isnull=True) | Q(released_on__gt=earliest))
        .values_list("offender_id", "started_on", "released_on")
    )
    for offender_id, started, released in spells:
        custody[offender_id].append((started, released))
    found = []
    for row, after in candidates:
        spells_of = custody.get(row["offender_id"], [])
        due_on = day_liberty_reaches(after, needed, spells_of)
        if due_on is None or due_on > as_of:
            continue
        inside = days_in_custody(after, as_of, spells_of)
        quiet_from = after + dt.timedelta(days=1)
        found.append(
            Due(
                ReviewKind.NO_ARREST,
                row["offender_id"],
                f"ppo:{row['pk']}:quiet-from:{quiet_from.isoformat()}",
                due_on,
                {
                    "quiet_from": quiet_from.isoformat(),
                    "last_arrest_or_intelligence": (
                        row["last_reset"].isoformat() if row["last_reset"] else None
                    ),
                    "days_at_liberty": (as_of - after).days - inside,
                    "days_in_custody": inside,
                    "days_needed": needed,
                },
            )
        )
    return found


def no_arrest_signs(dues: list[Due], as_of: dt.date) -> None:
    """Add the signs of continued offending in each quiet period (003 §6.2(1): "unless
    there are other indications of continued offending, such as continued problematic drug
    misuse"): positive drug tests and other offending events, read for the new reviews."""
    for start in range(0, len(dues), DETAIL_BATCH):
        batch = dues[start : start + DETAIL_BATCH]
        ids = [d.offender_id for d in batch]
        earliest = min(dt.date.fromisoformat(d.detail["quiet_from"]) for d in batch)
        tests: dict[int, list[tuple[dt.date, str]]] = defaultdict(list)
        rows = DrugTest.objects.filter(
            offender_id__in=ids,
            result=DrugTestResult.POSITIVE,
            tested_at__date__gte=earliest,
            tested_at__date__lte=as_of,
        ).values_list("offender_id", "tested_at", "substances")
        for offender_id, tested_at, substances in rows:
            tests[offender_id].append((timezone.localdate(tested_at), substances))
        events: dict[int, list[tuple[dt.date, str]]] = defaultdict(list)
        event_rows = (
            OffendingEvent.objects.filter(
                offender_id__in=ids, occurred_on__gte=earliest, occurred_on__lte=as_of
            )
            .exclude(kind__in=RESETS)
            .values_list("offender_id", "occurred_on", "kind")
        )
        for offender_id, occurred_on, kind in event_rows:
            events[offender_id].append((occurred_on, kind))
        for due in batch:
            since = dt.date.fromisoformat(due.detail["quiet_from"])
            positives = sorted(
                (day, what) for day, what in tests.get(due.offender_id or 0, []) if day >= since
            )
            due.detail["positive_drug_tests"] = len(positives)
            due.detail["last_positive_test"] = positives[-1][0].isoformat() if positives else None
            due.detail["substances"] = sorted({what for _, what in positives if what})
            counts: dict[str, int] = defaultdict(int)
            for day, kind in events.get(due.offender_id or 0, []):
                if day >= since:
                    counts[kind] += 1
            due.detail["other_offending"] = dict(sorted(counts.items()))


# --- 003 §6.2(3): long custody, re-selection before release, the release-date chase -----


def long_sentence_horizon(as_of: dt.date, scheme: Scheme) -> dt.date:
    """003 §6.2(3): "likely to be in custody for more than 2 years" from `as_of`, judged by
    the expected release date: a release after this day is long; on it, it is not."""
    return months_after(as_of, scheme.long_sentence_months)


def serving_long_sentence(as_of: dt.date, scheme: Scheme) -> QuerySet[CustodyEpisode]:
    """Custody under sentence open on `as_of` with an expected release after the horizon
    (`long_sentence_horizon`): the one definition, for the reviews and for who is not due a
    case conference (001 §3.2a). A sentence with no expected release date is not in it."""
    return (
        CustodyEpisode.objects.open_on(as_of)
        .filter(kind=CustodyKind.SENTENCE)
        .filter(expected_release_on__gt=long_sentence_horizon(as_of, scheme))
    )


def long_custody(ctx: Context) -> list[Due]:
    from ..panel import RISK_ASSESSMENT_CURRENT_DAYS

    as_of = ctx.as_of
    horizon = long_sentence_horizon(as_of, ctx.scheme)
    ppo = ctx.episodes(ProgrammeKind.PPO).filter(offender=OuterRef("offender_id"))
    latest = RiskAssessment.objects.filter(
        offender=OuterRef("offender_id"), assessed_on__lte=as_of
    ).order_by("-assessed_on", "-pk")
    rows = (
        CustodyEpisode.objects.filter(people_q(ctx.actor, prefix="offender__"))
        .open_on(as_of)
        .filter(kind=CustodyKind.SENTENCE)
        .filter(Exists(ppo))
        .annotate(
            episode_id=Subquery(ppo.values("pk")[:1]),
            selected_on=Subquery(ppo.values("selected_on")[:1]),
            assessed_on=Subquery(latest.values("assessed_on")[:1]),
            rosh_level=Subquery(latest.values("rosh_level")[:1]),
        )
        .values(
            "pk",
            "offender_id",
            "started_on",
            "expected_release_on",
            "sentence_length_months",
            "episode_id",
            "selected_on",
            "assessed_on",
            "rosh_level",
        )
    )
    current_since = as_of - dt.timedelta(days=RISK_ASSESSMENT_CURRENT_DAYS)
    found = []
    for row in rows:
        due_on = max(row["started_on"], row["selected_on"])
        expected = row["expected_release_on"]
        if expected is not None and expected > horizon:
            assessed = row["assessed_on"]
            found.append(
                Due(
                    ReviewKind.LONG_CUSTODY,
                    row["offender_id"],
                    f"ppo:{row['episode_id']}:custody:{row['pk']}",
                    due_on,
                    {
                        "custody_id": row["pk"],
                        "expected_release_on": expected.isoformat(),
                        "sentence_length_months": row["sentence_length_months"],
                        "latest_risk_assessment": assessed.isoformat() if assessed else None,
                        "rosh_level": row["rosh_level"] or None,
                        "risk_assessment_current": bool(assessed and assessed > current_since),
                    },
                )
            )
        elif expected is None and (row["sentence_length_months"] or 0) > (
            ctx.scheme.long_sentence_months
        ):
            found.append(
                Due(
                    ReviewKind.RELEASE_DATE_CHASE,
                    row["offender_id"],
                    f"custody:{row['pk']}",
                    due_on,
                    {
                        "custody_id": row["pk"],
                        "why": "A PPO serving a sentence longer than "
                        f"{ctx.scheme.long_sentence_months} months with no expected release "
                        "date: whether they are likely to be in custody more than 2 years "
                        "from now depends on it (003 §6.2(3)).",
                    },
                )
            )
    return found


def before_release(ctx: Context) -> list[Due]:
    as_of = ctx.as_of
    later = ProgrammeEpisode.objects.filter(
        offender=OuterRef("offender_id"), selected_on__gte=OuterRef("deselected_on")
    )
    spell = CustodyEpisode.objects.filter(
        offender=OuterRef("offender_id"), started_on__lte=OuterRef("deselected_on")
    ).filter(Q(released_on__isnull=True) | Q(released_on__gt=OuterRef("deselected_on")))
    spell = spell.order_by("-started_on", "-pk")
    rows = (
        ProgrammeEpisode.objects.filter(people_q(ctx.actor, prefix="offender__"))
        .filter(
            kind=ProgrammeKind.PPO,
            deselection_reason=DeselectionReason.LONG_CUSTODY,
            deselected_on__lte=as_of,
        )
        .filter(~Exists(later))
        .annotate(
            custody_id=Subquery(spell.values("pk")[:1]),
            expected=Subquery(spell.values("expected_release_on")[:1]),
            released=Subquery(spell.values("released_on")[:1]),
        )
        .filter(custody_id__isnull=False)
        .values("pk", "offender_id", "deselected_on", "custody_id", "expected", "released")
    )
    lead = ctx.scheme.reselection_lead_months
    found = []
    for row in rows:
        expected, released = row["expected"], row["released"]
        detail = {
            "custody_id": row["custody_id"],
            "deselected_on": row["deselected_on"].isoformat(),
            "expected_release_on": expected.isoformat() if expected else None,
            "released_on": released.isoformat() if released else None,
        }
        if expected is None and released is None:
            found.append(
                Due(
                    ReviewKind.RELEASE_DATE_CHASE,
                    row["offender_id"],
                    f"custody:{row['custody_id']}",
                    row["deselected_on"],
                    detail,
                )
            )
            continue
        due_on = months_before(expected, lead) if expected else released
        if released is not None and due_on is not None and released < due_on:
            due_on = released
        if due_on is not None and due_on <= as_of:
            found.append(
                Due(
                    ReviewKind.RESELECTION_RELEASE,
                    row["offender_id"],
                    f"custody:{row['custody_id']}",
                    due_on,
                    detail,
                )
            )
    return found


# --- 003 §6.2(5), 004 §5.1: reviews by time on a tier --------------------------------------


def _every(start: dt.date, months: int, as_of: dt.date) -> tuple[int, dt.date] | None:
    """The latest whole number of `months` periods from `start` reached by `as_of`."""
    if months <= 0:
        return None
    elapsed = (as_of.year - start.year) * 12 + as_of.month - start.month
    periods = elapsed // months
    while periods > 0 and months_after(start, periods * months) > as_of:
        periods -= 1
    if periods <= 0:
        return None
    return periods * months, months_after(start, periods * months)


def two_years(ctx: Context) -> list[Due]:
    months = ctx.scheme.programme_review_months
    found = []
    for pk, offender_id, selected_on in ctx.episodes(ProgrammeKind.PPO).values_list(
        "pk", "offender_id", "selected_on"
    ):
        reached = _every(selected_on, months, ctx.as_of)
        if reached:
            age, due_on = reached
            found.append(
                Due(
                    ReviewKind.TWO_YEARS,
                    offender_id,
                    f"ppo:{pk}:{age}m",
                    due_on,
                    {"selected_on": selected_on.isoformat(), "months_on_the_scheme": age},
                )
            )
    return found


def dyo_reviews(ctx: Context) -> list[Due]:
    as_of = ctx.as_of
    lead = ctx.scheme.dyo_exit_lead_months
    found = []
    rows = ctx.episodes(ProgrammeKind.DYO).values_list(
        "pk", "offender_id", "selected_on", "offender__date_of_birth"
    )
    for pk, offender_id, selected_on, born in rows:
        turns_18 = birthday(born, ADULT_AGE)
        due_on = months_before(turns_18, lead)
        if due_on <= as_of:
            # 003 §7.5: an exit strategy with one lead agency.
            found.append(
                Due(
                    ReviewKind.DYO_TURNING_18,
                    offender_id,
                    f"dyo:{pk}:18",
                    due_on,
                    {"turns_18_on": turns_18.isoformat()},
                )
            )
        reached = _every(selected_on, ctx.scheme.dyo_review_months, as_of)
        if reached:
            age, periodic_on = reached
            found.append(
                Due(
                    ReviewKind.DYO_PERIODIC,
                    offender_id,
                    f"dyo:{pk}:{age}m",
                    periodic_on,
                    {"selected_on": selected_on.isoformat(), "months_as_a_dyo": age},
                )
            )
    return found


# --- 003 §6.2(4), §4.2: the whole list against the pool ------------------------------------


def list_review(ctx: Context) -> list[Due]:
    as_of = ctx.as_of
    months = ctx.scheme.list_review_interval_months
    first_month = (as_of.month - 1) // months * months + 1
    starts = dt.date(as_of.year, first_month, 1)
    found = [
        Due(
            ReviewKind.LIST_REVIEW,
            None,
            f"list:{starts.isoformat()}/{months}m",
            starts,
            {"period_starts": starts.isoformat(), "period_months": months},
        )
    ]
    cohort_starts = dt.date(as_of.year, *NI30_YEAR_START)
    if as_of >= cohort_starts:
        cohort_starts = dt.date(as_of.year + 1, *NI30_YEAR_START)
    due_on = months_before(cohort_starts, NI30_REVIEW_LEAD_MONTHS)
    if as_of >= due_on:
        year = f"{cohort_starts.year}-{(cohort_starts.year + 1) % 100:02d}"
        found.append(
            Due(
                ReviewKind.LIST_REVIEW,
                None,
                f"ni30:{year}",
                due_on,
                {"ni30_cohort_year": year, "cohort_starts": cohort_starts.isoformat()},
            )
        )
    return found


# --- One open review per person, for the latest trigger -----------------------------------


def _latest_after_close(rows: Iterable[dict[str, Any]], triggers: list[str]) -> list[dict]:
    """Rows with no open review of the kind, and their latest trigger (the one with the
    latest date among `triggers`, each a (name_on, name_id) pair of annotations) after the
    last closing day of one."""
    chosen = []
    for row in rows:
        if row["has_open"]:
            continue
        best = None
        for name in triggers:
            on, pk = row.get(f"{name}_on"), row.get(f"{name}_id")
            if on is None or (row["closed_on"] and on <= row["closed_on"]):
                continue
            if best is None or on > best[1]:
                best = (name, on, pk)
        if best:
            chosen.append({**row, "trigger": best})
    return chosen


def former_reoffending(ctx: Context) -> list[Due]:
    as_of = ctx.as_of
    kind = ReviewKind.FORMER_REOFFENDING
    open_now = ProgrammeEpisode.objects.filter(offender=OuterRef("pk")).open_on(as_of)
    left = ProgrammeEpisode.objects.filter(
        offender=OuterRef("pk"),
        kind__in=[ProgrammeKind.PPO, ProgrammeKind.IOM],
        deselected_on__lte=as_of,
    ).order_by("-deselected_on")
    events = OffendingEvent.objects.filter(
        offender=OuterRef("pk"),
        kind__in=REOFFENDING,
        occurred_on__gte=OuterRef("since"),
        occurred_on__lte=as_of,
    ).order_by("-occurred_on", "-pk")
    reviews = Review.objects.filter(kind=kind, offender=OuterRef("pk"))
    ever = ProgrammeEpisode.objects.filter(
        offender=OuterRef("pk"),
        kind__in=[ProgrammeKind.PPO, ProgrammeKind.IOM],
        selected_on__lte=as_of,
    )
    rows = list(
        # Only people ever on the PPO or IOM tier: a semi-join, not the whole pool.
        people(ctx.actor)
        .filter(Exists(ever))
        # No sort by name: nothing here is shown in order.
        .order_by()
        .annotate(
            open_kind=Subquery(open_now.values("kind")[:1]),
            iom_since=Subquery(open_now.filter(kind=ProgrammeKind.IOM).values("selected_on")[:1]),
            last_left=Subquery(left.values("deselected_on")[:1]),
        )
        .filter(Q(open_kind__isnull=True) | Q(open_kind=ProgrammeKind.IOM))
        .annotate(since=Coalesce("iom_since", "last_left"))
        .filter(since__isnull=False)
        .annotate(
            event_id=Subquery(events.values("pk")[:1]),
            has_open=Exists(reviews.filter(status=ReviewStatus.OPEN)),
            closed_on=Subquery(
                reviews.filter(status=ReviewStatus.CLOSED)
                .order_by("-closed_on")
                .values("closed_on")[:1]
            ),
        )
        .filter(event_id__isnull=False)
        .values(
            "pk",
            "open_kind",
            "since",
            "event_id",
            "has_open",
            "closed_on",
        )
    )
    # The events found, read in one query (one subquery above, not three).
    picked = {
        pk: (day, what)
        for pk, day, what in OffendingEvent.objects.filter(
            pk__in=[row["event_id"] for row in rows if not row["has_open"]]
        ).values_list("pk", "occurred_on", "kind")
    }
    for row in rows:
        row["event_on"], row["event_kind"] = picked.get(row["event_id"], (None, None))
    found = []
    for row in _latest_after_close(rows, ["event"]):
        _, on, pk = row["trigger"]
        found.append(
            Due(
                kind,
                row["pk"],
                f"event:{pk}",
                on,
                {
                    "event_id": pk,
                    "event_kind": row["event_kind"],
                    "tier": row["open_kind"] or "former",
                    "left_ppo_tier_on": row["since"].isoformat(),
                },
            )
        )
    return found


def mappa_referral(ctx: Context) -> list[Due]:
    as_of = ctx.as_of
    kind = ReviewKind.MAPPA_REFERRAL
    reviews = Review.objects.filter(kind=kind, offender=OuterRef("offender_id"))
    high = list(
        OffenceCategory.objects.filter(harm_weight__gte=ctx.scheme.mappa_harm_weight).values_list(
            "pk", flat=True
        )
    )
    # Each person's latest trigger within the current episode (on or after its
    # `selected_on`, not before it): one backward step along the person's events per
    # person (the person-and-date index), rather than every high-harm offence since
    # selection read into Python. Ties on a day go to the latest record, so the same
    # trigger is picked on every run. `_latest_after_close` then keeps it only if it falls
    # after the day the last review of the kind closed.
    event = (
        OffendingEvent.objects.filter(
            offender=OuterRef("offender_id"),
            occurred_on__gte=OuterRef("selected_on"),
            occurred_on__lte=as_of,
            kind__in=OFFENCES,
            category_id__in=high,
        )
        .order_by("-occurred_on", "-pk")
        .values("pk")[:1]
    )
    assessment = (
        RiskAssessment.objects.filter(
            offender=OuterRef("offender_id"),
            assessed_on__gte=OuterRef("selected_on"),
            assessed_on__lte=as_of,
            rosh_level__in=HIGH_ROSH,
        )
        .order_by("-assessed_on", "-pk")
        .values("pk")[:1]
    )
    rows = list(
        ctx.episodes(ProgrammeKind.PPO, ProgrammeKind.IOM, ProgrammeKind.DYO)
        .filter(offender__mappa_level__isnull=True)
        .annotate(has_open=Exists(reviews.filter(status=ReviewStatus.OPEN)))
        .filter(has_open=False)
        .annotate(
            closed_on=Subquery(
                reviews.filter(status=ReviewStatus.CLOSED)
                .order_by("-closed_on")
                .values("closed_on")[:1]
            )
        )
        .annotate(event_id=Subquery(event), assessment_id=Subquery(assessment))
        .values("offender_id", "kind", "has_open", "closed_on", "event_id", "assessment_id")
    )
    # Filtered here, not in SQL: a filter on the two subqueries would run each twice.
    rows = [r for r in rows if r["event_id"] or r["assessment_id"]]
    # The days of the triggers found, in one query each.
    event_on = dict(
        OffendingEvent.objects.filter(
            pk__in=[r["event_id"] for r in rows if r["event_id"]]
        ).values_list("pk", "occurred_on")
    )
    assessment_on = dict(
        RiskAssessment.objects.filter(
            pk__in=[r["assessment_id"] for r in rows if r["assessment_id"]]
        ).values_list("pk", "assessed_on")
    )
    for row in rows:
        row["event_on"] = event_on.get(row["event_id"])
        row["assessment_on"] = assessment_on.get(row["assessment_id"])
    found = []
    for row in _latest_after_close(rows, ["event", "assessment"]):
        name, on, pk = row["trigger"]
        found.append(
            Due(
                kind,
                row["offender_id"],
                f"{name}:{pk}",
                on,
                {
                    f"{name}_id": pk,
                    "trigger": "an offence with a high harm weight"
                    if name == "event"
                    else "a high or very high risk of serious harm assessment",
                    "harm_weight_at_least": str(ctx.scheme.mappa_harm_weight),
                    "tier": row["kind"],
                },
            )
        )
    return found


# --- 003 §6.2(2): a PPO transferring in from another area ---------------------------------


def transfer_in(ctx: Context) -> list[Due]:
    """Each recorded arrival (`TransferIn`) on or before the day, unless the person has
    been put on the PPO tier since they arrived (a panel has already decided)."""
    selected_since = ProgrammeEpisode.objects.filter(
        offender=OuterRef("offender_id"),
        kind=ProgrammeKind.PPO,
        selected_on__gte=OuterRef("arrived_on"),
        selected_on__lte=ctx.as_of,
    )
    rows = (
        TransferIn.objects.filter(people_q(ctx.actor, prefix="offender__"))
        .filter(arrived_on__lte=ctx.as_of)
        .filter(~Exists(selected_since))
        .values("pk", "offender_id", "arrived_on", "from_scheme", "from_area")
    )
    return [
        Due(
            ReviewKind.TRANSFER_IN,
            row["offender_id"],
            f"transfer:{row['pk']}",
            row["arrived_on"],
            {
                "transfer_id": row["pk"],
                "from_scheme": row["from_scheme"],
                "from_area": row["from_area"],
            },
        )
        for row in rows
    ]


RULES = (
    no_arrest,
    long_custody,
    before_release,
    two_years,
    former_reoffending,
    dyo_reviews,
    list_review,
    mappa_referral,
    transfer_in,
)
