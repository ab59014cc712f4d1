#!/usr/bin/env python
"""Benchmark: the NI30 figures and the local measure at a force's size, beside SQL by hand.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ppo_bench \\
        .venv/bin/python benchmarks/reporting.py [--as-of YYYY-MM-DD] [--repeats 5]

On the builder's data (benchmarks/builder.py: 680,000 known offenders, 8 million events,
8,000 open PPO episodes and 4,000 closed), in one transaction that is rolled back at the
end (nothing is left behind, so a shared database is safe):

1. a PPO manager and a steering-group member are made, and the NI30 cohort of the
   financial year holding the day is drafted and confirmed (`reporting.cohorts`): the
   people on the PPO tier on its 1 April;
2. `ni30_figures` beside `NI30_SQL`, one hand-written query for the same figures;
3. `local_measure` for that cohort beside `LOCAL_SQL`;

each `--repeats` times (best and median), then every figure compared (mismatches must be
0). Goal (the reporting issue): each within 2× its hand-written query. Exits 1 on a
mismatch or a missed goal. Figures and findings: benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import builder  # sets up Django
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from timing import timed

from access.models import Agency, AgencyKind, Membership, Role
from reporting.cohorts import cohort_confirm, cohort_draft
from reporting.measures.common import add_months, complete_months, financial_year_of
from reporting.measures.local_measure import local_measure
from reporting.measures.ni30 import ni30_figures
from reporting.models import Ni30Cohort

GOAL_RATIO = 2.0
REPEATS = 5


class Rollback(Exception):
    """Raised at the end to undo everything the benchmark wrote."""


# 003 §3.7, Annex A by hand: members, members on the PPO tier on the day, and their
# convictions (by offence date, recorded by the day) in the baseline and in the year so far.
NI30_SQL = """
WITH m AS (SELECT offender_id FROM reporting_cohortmember WHERE cohort_id = %(cohort)s)
SELECT
    (SELECT count(*) FROM m),
    (SELECT count(*) FROM m WHERE EXISTS (
        SELECT 1 FROM offenders_programmeepisode e
        WHERE e.offender_id = m.offender_id AND e.kind = 'ppo' AND e.selected_on <= %(as_of)s
          AND (e.deselected_on IS NULL OR e.deselected_on > %(as_of)s))),
    count(*) FILTER (WHERE v.occurred_on BETWEEN %(bs)s AND %(be)s),
    count(*) FILTER (WHERE v.occurred_on BETWEEN %(ys)s AND %(to)s)
FROM m JOIN offenders_offendingevent v ON v.offender_id = m.offender_id
WHERE v.kind = 'conviction' AND v.recorded_on <= %(as_of)s
  AND (v.occurred_on BETWEEN %(bs)s AND %(be)s OR v.occurred_on BETWEEN %(ys)s AND %(to)s)
"""

# 001 §5.1–5.2 by hand: each member's entry (the PPO spell open on 1 April), those whose
# 12 months after entry have ended, their charges 12 months before and after entry, and
# in the whole months of the year so far.
LOCAL_SQL = """
WITH entry AS (
    SELECT e.offender_id, e.selected_on AS entered
    FROM offenders_programmeepisode e
    JOIN reporting_cohortmember m ON m.offender_id = e.offender_id AND m.cohort_id = %(cohort)s
    WHERE e.kind = 'ppo' AND e.selected_on <= %(ys)s
      AND (e.deselected_on IS NULL OR e.deselected_on > %(ys)s)
),
measured AS (
    SELECT * FROM entry WHERE (entered + interval '12 months')::date <= %(as_of)s::date + 1
)
SELECT
    (SELECT count(*) FROM entry),
    (SELECT count(*) FROM measured),
    w.before, w.after,
    (SELECT count(*) FROM measured m JOIN offenders_offendingevent v
       ON v.offender_id = m.offender_id AND v.kind = 'charge' AND v.recorded_on <= %(as_of)s
      AND v.occurred_on >= %(ys)s AND v.occurred_on < %(months_end)s)
FROM (
    SELECT count(*) FILTER (WHERE v.occurred_on < m.entered) AS before,
           count(*) FILTER (WHERE v.occurred_on >= m.entered) AS after
    FROM measured m JOIN offenders_offendingevent v
      ON v.offender_id = m.offender_id AND v.kind = 'charge' AND v.recorded_on <= %(as_of)s
     AND v.occurred_on >= (m.entered - interval '12 months')::date
     AND v.occurred_on < (m.entered + interval '12 months')::date
) w
"""


def sql_one(sql: str, params: dict[str, Any]) -> tuple[Any, ...]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    assert row is not None
    return tuple(row)


def staff_member(role: str, kind: str, name: str) -> Any:
    agency, _ = Agency.objects.get_or_create(name=f"Benchmark {kind}", defaults={"kind": kind})
    user = get_user_model().objects.create_user(username=f"benchmark.{name}")
    Membership.objects.create(user=user, agency=agency, role=role, started_on=dt.date(2000, 1, 1))
    return user


def compare(label: str, ours: tuple[Any, ...], by_hand: tuple[Any, ...], names: str) -> int:
    wrong = [
        f"{n}: {a} vs {b}" for n, a, b in zip(names.split(), ours, by_hand, strict=True) if a != b
    ]
    shown = ", ".join(f"{n} {a:,}" for n, a in zip(names.split(), ours, strict=True))
    print(f"{label} vs SQL: {shown}; {len(wrong)} mismatches {'; '.join(wrong)}")
    return len(wrong)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--as-of", type=dt.date.fromisoformat, help="default: the build's day")
    parser.add_argument("--repeats", type=int, default=REPEATS)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("The benchmark needs PostgreSQL: set DATABASE_URL.", file=sys.stderr)
        return 2
    if settings.DEBUG:
        print("WARNING: DEBUG is on: Django keeps every query in memory.", file=sys.stderr)
    built = builder.describe()
    as_of = args.as_of or built.as_of
    year = financial_year_of(as_of)
    pg = connection.pg_version  # type: ignore[attr-defined]
    print(
        f"PostgreSQL {pg // 10000}.{pg % 10000} | {built.rows['offenders_offender']:,} "
        f"offenders, {built.rows['offenders_offendingevent']:,} events (estimated) | as of {as_of}"
    )
    if Ni30Cohort.objects.filter(year_starts_on=dt.date(year, 4, 1)).exists():
        print("The database already holds this year's cohort: use a fresh build.", file=sys.stderr)
        return 2
    failed = False
    try:
        with transaction.atomic():
            manager = staff_member(Role.PPO_MANAGER, AgencyKind.PROBATION, "manager")
            steering = staff_member(Role.STEERING_GROUP, AgencyKind.LOCAL_AUTHORITY, "steering")
            cohort, _, _ = timed(
                "draft the cohort",
                lambda: cohort_draft(user=manager, year=year, as_of=as_of),
                1,
            )
            cohort_confirm(user=manager, year=year, as_of=as_of)
            print(f"  {cohort} of {cohort.members.count():,} members")
            ys = cohort.year_starts_on
            params = {
                "cohort": cohort.pk,
                "as_of": as_of,
                "bs": cohort.baseline_starts_on,
                "be": cohort.baseline_ends_on,
                "ys": ys,
                "to": min(as_of, dt.date(year + 1, 3, 31)),
                "months_end": add_months(ys, complete_months(ys, as_of)),
            }

            by_hand, ni30_sql_s, _ = timed(
                "NI30: hand-written SQL", lambda: sql_one(NI30_SQL, params), args.repeats
            )
            figures, ni30_s, _ = timed(
                "NI30: ni30_figures",
                lambda: ni30_figures(user=steering, as_of=as_of, year=year),
                args.repeats,
            )
            mismatches = compare(
                "NI30",
                (
                    figures.members,
                    figures.members_on_scheme,
                    figures.baseline_convictions,
                    figures.year_convictions,
                ),
                by_hand,
                "members on_scheme baseline year",
            )
            print(f"  change {figures.change_percent}%")

            local_by_hand, local_sql_s, _ = timed(
                "local measure: hand-written SQL",
                lambda: sql_one(LOCAL_SQL, params),
                args.repeats,
            )
            measure, local_s, _ = timed(
                "local measure: local_measure",
                lambda: local_measure(user=steering, as_of=as_of, cohort=year),
                args.repeats,
            )
            mismatches += compare(
                "local measure",
                (
                    measure.people,
                    measure.people_measured,
                    measure.charges_before,
                    measure.charges_after,
                    measure.charges_in_year,
                ),
                local_by_hand,
                "people measured before after in_year",
            )
            print(
                f"  reduction {measure.reduction_percent}%, target "
                f"{measure.target_reduction_percent}%, {measure.months_counted} months: "
                f"projected {measure.projected_charges} → {measure.projected_reduction_percent}%"
            )
            for label, ours, theirs in (
                ("NI30", ni30_s, ni30_sql_s),
                ("local measure", local_s, local_sql_s),
            ):
                ratio = ours / theirs
                meets = ratio <= GOAL_RATIO
                failed |= not meets
                print(
                    f"{label}: {ours:.3f} s vs SQL {theirs:.3f} s: ratio {ratio:.2f}×; "
                    f"goal within {GOAL_RATIO:.0f}×: {'meets' if meets else 'MISSES'}"
                )
            failed |= mismatches > 0
            raise Rollback
    except Rollback:
        pass
    print("rolled back: nothing written")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
