"""The plan's reporting year (issue 11): the offending that makes the NI30 cohorts and the
local measure tell the story a PPO scheme's figures tell, and the self-assessment's ratings.

The people's offending (demo/scheme/plan.py) is drawn with a recency weight and without
regard to when each person was selected, so on its own the cohorts' offending rises after
selection: last year's cohort would show NI30 convictions up by most of a half and the
local measure a rise, the opposite of 001 §5.1's Stockton (153 → 103, a 32% reduction),
whose shape the demo follows. What a real scheme sees is the burst of offending that gets
a person selected (the matrix scores recent volume, 000 §1.2), then fewer charges on the
scheme. So this module plans that burst, and nothing else: arrests, charges and (mostly)
convictions for offences committed at liberty before each cohort member's own entry to
the scheme, until

* the local measure (001 §5.1) of each cohort shows a reduction of about a third
  (TARGET_REDUCTION), and
* NI30 (003 §3.7–3.8) shows a fall from the baseline to the year (TARGET_FALL; for the
  current year, its months so far annualised).

Nothing is placed on or after a member's earliest entry among the cohorts, so no
addition falls in any cohort year or any "after" window: the years' figures are the
plan's own, only the "before" and baseline sides gain. The current cohort's baseline
(1 October – 30 September) runs into last year's cohort year, so its additions stop
before that year begins and cannot count in it.

Pure Python on plain data: the writer (demo/scheme/write_figures.py) reads each
member's entry, custody and charges and convictions from what the plan wrote, since a
financial year starts on a calendar day and the plan counts days before today. It draws
from its own `random.Random`, after everything else, so nothing planned before changes.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field

# 001 §5.1: "a reduction of 32%", within a few points either way.
TARGET_REDUCTION = (0.29, 0.35)
# NI30: a fall from the baseline to the year of one in six to one in four.
TARGET_FALL = (0.16, 0.24)
# A charge led to a conviction this often (as the plan's incidents, plan.py `incident`).
CONVICTED_SHARE = 0.78
CONVICTED_AFTER_DAYS = (21, 160)
# The youngest age at which the burst may fall (the plan's earliest first arrest).
YOUNGEST = 12
MONTHS = 12


def add_months(day: dt.date, months: int) -> dt.date:
    """As reporting.measures.common.add_months: the same day, clamped to the month's end."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


@dataclass(frozen=True)
class Member:
    """A cohort member as written: custody (first day, day of release or None), the
    days of their charges and convictions, and the offence categories they have been
    charged with."""

    person: int
    born: dt.date
    custody: tuple[tuple[dt.date, dt.date | None], ...]
    charges: tuple[dt.date, ...]
    convictions: tuple[dt.date, ...]
    categories: tuple[int, ...]


@dataclass(frozen=True)
class CohortYear:
    year: int  # the financial year starting 1 April `year`
    baseline: tuple[dt.date, dt.date]
    # (Member.person, entry): the start of the spell on the PPO tier on 1 April.
    members: tuple[tuple[int, dt.date], ...]


@dataclass(frozen=True)
class IncidentPlan:
    """An arrest and charge on the day of the offence, and the conviction for it."""

    person: int
    category: int | None
    occurred_on: dt.date
    charged_on: dt.date
    convicted_on: dt.date | None


@dataclass
class FiguresPlan:
    incidents: list[IncidentPlan] = field(default_factory=list)


class _Figures:
    def __init__(self, seed: int, today: dt.date, members: dict[int, Member]) -> None:
        self.rng = random.Random(f"demo-figures:{seed}")
        self.today = today
        self.members = members
        self.charges = {p: list(m.charges) for p, m in members.items()}
        self.convictions = {p: list(m.convictions) for p, m in members.items()}
        self.plan = FiguresPlan()
        self.latest: dict[int, dt.date] = {}
        self.before_windows: dict[int, list[tuple[dt.date, dt.date]]] = {}
        self.cohorts: list[CohortYear] = []
        # Each cohort's baseline convictions for its fall (TARGET_FALL).
        self.wanted: dict[int, int] = {}

    def at_liberty(self, person: int, day: dt.date) -> bool:
        return not any(
            start <= day and (end is None or day < end)
            for start, end in self.members[person].custody
        )

    def days(self, person: int, first: dt.date, last: dt.date) -> list[dt.date]:
        """The days at liberty from `first` to `last` (inclusive) that may hold an addition."""
        member = self.members[person]
        first = max(first, add_months(member.born, YOUNGEST * MONTHS))
        last = min(last, self.latest[person] - dt.timedelta(days=1))
        span = (last - first).days + 1
        return [
            d
            for d in (first + dt.timedelta(days=n) for n in range(max(0, span)))
            if self.at_liberty(person, d)
        ]

    def baseline_full(self, person: int, day: dt.date) -> bool:
        """Whether a conviction on `day` would take a cohort's baseline past the count
        its fall needs (a charge there is then one of those not convicted)."""
        return any(
            first <= day <= last and self.baseline_count(cohort) >= self.wanted[cohort.year]
            for cohort in self.cohorts
            if person in dict(cohort.members)
            for first, last in [cohort.baseline]
        )

    def baseline_count(self, cohort: CohortYear) -> int:
        first, last = cohort.baseline
        return sum(1 for p, _ in cohort.members for d in self.convictions[p] if first <= d <= last)

    def incident(self, person: int, day: dt.date, *, convicted: bool | None = None) -> None:
        rng = self.rng
        member = self.members[person]
        if convicted is None:
            convicted = rng.random() < CONVICTED_SHARE and not self.baseline_full(person, day)
        charged_on = min(self.today, day + dt.timedelta(days=rng.randint(0, 2)))
        convicted_on = None
        if convicted:
            convicted_on = min(
                self.today, day + dt.timedelta(days=rng.randint(*CONVICTED_AFTER_DAYS))
            )
            self.convictions[person].append(day)
        self.charges[person].append(day)
        category = rng.choice(member.categories) if member.categories else None
        self.plan.incidents.append(IncidentPlan(person, category, day, charged_on, convicted_on))

    def local_measure(self, cohort: CohortYear, settled: set[tuple[int, dt.date]]) -> None:
        """001 §5.1: charges in each measured member's 12 months before entry, against
        the 12 months after it, to a reduction within TARGET_REDUCTION."""
        entries = dict(cohort.members)
        measured = [
            p
            for p, entry in cohort.members
            if add_months(entry, MONTHS) <= self.today + dt.timedelta(days=1)
        ]
        if not measured:
            return

        def windows(p: int) -> tuple[dt.date, dt.date, dt.date]:
            entry = entries[p]
            return add_months(entry, -MONTHS), entry, add_months(entry, MONTHS)

        def count(p: int, first: dt.date, before: dt.date) -> int:
            return sum(1 for d in self.charges[p] if first <= d < before)

        before = sum(count(p, w[0], w[1]) for p in measured for w in [windows(p)])
        after = sum(count(p, w[1], w[2]) for p in measured for w in [windows(p)])
        wanted = math.ceil(after / (1 - self.rng.uniform(*TARGET_REDUCTION)))
        room = {
            p: self.days(p, windows(p)[0], windows(p)[1] - dt.timedelta(days=1)) for p in measured
        }
        # The heavier offenders on the scheme had the bigger burst before it.
        # Members measured with the same entry in an earlier cohort keep what it gave them
        # (topping them up again would overshoot the earlier cohort's reduction).
        weights = {
            p: 1 + count(p, windows(p)[1], windows(p)[2])
            for p in measured
            if room[p] and (p, entries[p]) not in settled
        }
        for _ in range(max(0, wanted - before)):
            if not weights:
                return
            p = self.rng.choices(list(weights), weights=list(weights.values()))[0]
            self.incident(p, self.rng.choice(room[p]))

    def ni30_wanted(self, cohort: CohortYear) -> int:
        """003 §3.8: the baseline convictions for a fall within TARGET_FALL to the
        year's (so far, annualised); the additions never change the year's."""
        starts = dt.date(cohort.year, 4, 1)
        counted_to = min(self.today, add_months(starts, MONTHS) - dt.timedelta(days=1))
        in_year = sum(
            1 for p, _ in cohort.members for d in self.convictions[p] if starts <= d <= counted_to
        )
        whole_year = in_year * 365 / max(1, (counted_to - starts).days + 1)
        return math.ceil(whole_year / (1 - self.rng.uniform(*TARGET_FALL)))

    def ni30(self, cohort: CohortYear, stop_before: dt.date) -> None:
        """Convictions for offences in the baseline, up to the count wanted, outside the
        members' "before" windows (the local measure has had its share there)."""
        first, last = cohort.baseline
        last = min(last, stop_before - dt.timedelta(days=1))
        members = [p for p, _ in cohort.members]
        room = {}
        for p in members:
            days = self.days(p, first, last)
            windows = self.before_windows.get(p, [])
            outside = [d for d in days if not any(a <= d < b for a, b in windows)]
            room[p] = outside
        people = [p for p in members if room[p]]
        for _ in range(max(0, self.wanted[cohort.year] - self.baseline_count(cohort))):
            if not people:
                return
            p = self.rng.choice(people)
            self.incident(p, self.rng.choice(room[p]), convicted=True)


def plan_figures(
    seed: int, today: dt.date, members: list[Member], cohorts: list[CohortYear]
) -> FiguresPlan:
    """The offending before entry that the cohorts' figures need (module docstring), for
    `cohorts` in order, the earlier year first."""
    by_person = {m.person: m for m in members}
    work = _Figures(seed, today, by_person)
    # Never on or after a member's earliest entry among the cohorts (module docstring).
    for cohort in cohorts:
        for person, entry in cohort.members:
            work.latest[person] = min(work.latest.get(person, entry), entry)
    earliest_year = min((dt.date(c.year, 4, 1) for c in cohorts), default=today)
    work.cohorts = list(cohorts)
    for cohort in cohorts:
        work.wanted[cohort.year] = work.ni30_wanted(cohort)
        for person, entry in cohort.members:
            work.before_windows.setdefault(person, []).append((add_months(entry, -MONTHS), entry))
    # The local measure's charges first, convicted only while a baseline needs it; then
    # NI30 tops up its baselines away from the "before" windows, so neither measure
    # overshoots by the other's additions.
    settled: set[tuple[int, dt.date]] = set()
    for cohort in cohorts:
        work.local_measure(cohort, settled)
        settled |= set(cohort.members)
    for cohort in cohorts:
        work.ni30(cohort, earliest_year)
    return work.plan
