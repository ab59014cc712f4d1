#!/usr/bin/env python
"""Benchmark: the daily sweep of reviews over a force-sized scheme, beside hand-written SQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ppo_bench \\
        .venv/bin/python benchmarks/review_sweep.py [--as-of YYYY-MM-DD] [--repeats 3]

The goal (the reviews issue): `selection.reviews.sweep` on the builder's full-size data
(benchmarks/builder.py: 680,000 known offenders, 8 million events, 8,000 PPOs) in under
1 s, beside one SQL query written by hand from the rules of selection/reviews/rules.py
that finds the same reviews due.

It times, in one transaction that is rolled back at the end (nothing is left behind; the
audit trail refuses DELETE, so rolling back is the only clean way):

1. `SWEEP_SQL`, the hand-written query: every review due on the day, as (kind, person,
   due day), for the kinds about people (the list review is a date, not a query);
2. the first sweep on a scheme with no reviews yet: it raises every review due (thousands
   at full size: a first install, or a sweep after a long outage) and audits each;
3. the daily sweep: the same day again, as the scheduled task runs it every day once the
   reviews are raised (the same rules, nothing new to raise), `--repeats` times;
4. each rule of one daily sweep on its own, to show where the time goes;

then checks that the sweep raised exactly what the SQL finds (mismatches must be 0). The
script exits 1 if the daily sweep misses the goal or anything mismatches. The data must
have been built first (builder.py); figures and findings: benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import builder  # sets up Django
from django.db import connection, transaction
from timing import QueryCounter, add_settings_option, prepare_session, timed

from access.models import Scheme
from access.policy import system_actor
from selection.models import Review, ReviewKind
from selection.reviews import rules, sweep
from selection.reviews.rules import Context, liberty_days_needed
from selection.reviews.sweeper import SWEEP_ACTOR

GOAL_SECONDS = 1.0
REPEATS = 3


# The rules of selection/reviews/rules.py, by hand. Parameters: as_of, the days at
# liberty that make six months (`liberty_days_needed`), the long-custody horizon in
# months, the re-selection lead, the programme-review and DYO-review intervals, the DYO
# exit lead, the MAPPA harm weight. Month arithmetic is PostgreSQL's `+ interval`, which
# clamps to the month's last day as `months_before` does.
SWEEP_SQL = """
WITH p AS (
    SELECT %(as_of)s::date AS as_of, %(needed)s::int AS needed,
           (%(as_of)s::date + make_interval(months => %(long_months)s))::date AS horizon,
           %(long_months)s::int AS long_months, %(lead)s::int AS lead,
           %(programme_months)s::int AS programme_months, %(dyo_months)s::int AS dyo_months,
           %(dyo_lead)s::int AS dyo_lead,
           ARRAY(SELECT id FROM offenders_offencecategory
                 WHERE harm_weight >= %(mappa)s::numeric) AS high
),
open_ep AS (
    SELECT e.* FROM offenders_programmeepisode e, p
    WHERE e.selected_on <= p.as_of AND (e.deselected_on IS NULL OR e.deselected_on > p.as_of)
),
-- 003 §6.2(1): after = the later of the day before selection and the last arrest or
-- intelligence report; due once the days at liberty since then reach `needed`.
quiet AS (
    SELECT e.offender_id,
           greatest(e.selected_on - 1, (
               SELECT max(v.occurred_on) FROM offenders_offendingevent v
               WHERE v.offender_id = e.offender_id AND v.kind IN ('arrest', 'intelligence')
                 AND v.occurred_on <= p.as_of)) AS after
    FROM open_ep e, p WHERE e.kind = 'ppo'
),
no_arrest AS (
    SELECT 'no_arrest' AS kind, q.offender_id,
           CASE WHEN inside = 0 THEN q.after + p.needed END AS due_on
    FROM quiet q, p, LATERAL (
        SELECT coalesce(sum(greatest(0,
                   least(p.as_of, coalesce(c.released_on - 1, p.as_of))
                   - greatest(c.started_on, q.after + 1) + 1)), 0) AS inside
        FROM offenders_custodyepisode c
        WHERE c.offender_id = q.offender_id AND c.started_on <= p.as_of
    ) custody
    WHERE p.as_of - q.after - inside >= p.needed
),
-- 003 §6.2(3): a PPO in custody under sentence today.
sentenced AS (
    SELECT c.offender_id, c.expected_release_on, c.sentence_length_months,
           greatest(c.started_on, e.selected_on) AS due_on
    FROM offenders_custodyepisode c JOIN open_ep e
      ON e.offender_id = c.offender_id AND e.kind = 'ppo', p
    WHERE c.kind = 'sentence' AND c.started_on <= p.as_of
      AND (c.released_on IS NULL OR c.released_on > p.as_of)
),
long_custody AS (
    SELECT 'long_custody', s.offender_id, s.due_on FROM sentenced s, p
    WHERE s.expected_release_on > p.horizon
    UNION ALL
    SELECT 'release_date_chase', s.offender_id, s.due_on FROM sentenced s, p
    WHERE s.expected_release_on IS NULL AND coalesce(s.sentence_length_months, 0) > p.long_months
),
-- De-selected for custody, not selected again since: the spell they were in.
deselected AS (
    SELECT d.offender_id, d.deselected_on, spell.expected_release_on AS expected,
           spell.released_on AS released
    FROM offenders_programmeepisode d, p, LATERAL (
        SELECT c.expected_release_on, c.released_on FROM offenders_custodyepisode c
        WHERE c.offender_id = d.offender_id AND c.started_on <= d.deselected_on
          AND (c.released_on IS NULL OR c.released_on > d.deselected_on)
        ORDER BY c.started_on DESC, c.id DESC LIMIT 1
    ) spell
    WHERE d.kind = 'ppo' AND d.deselection_reason = 'long_custody'
      AND d.deselected_on <= p.as_of
      AND NOT EXISTS (SELECT 1 FROM offenders_programmeepisode later
                      WHERE later.offender_id = d.offender_id
                        AND later.selected_on >= d.deselected_on)
),
before_release AS (
    SELECT 'release_date_chase', offender_id, deselected_on FROM deselected
    WHERE expected IS NULL AND released IS NULL
    UNION ALL
    SELECT 'reselection_release', offender_id, due_on FROM (
        SELECT offender_id, least(
                   CASE WHEN expected IS NOT NULL
                        THEN (expected - make_interval(months => p.lead))::date
                        ELSE released END,
                   coalesce(released, 'infinity'::date)) AS due_on
        FROM deselected, p WHERE expected IS NOT NULL OR released IS NOT NULL
    ) r, p WHERE due_on <= p.as_of
),
-- 003 §6.2(5), 004 §5.1: the latest whole number of intervals reached.
periodic AS (
    SELECT e.kind, e.offender_id, e.selected_on,
           CASE e.kind WHEN 'ppo' THEN p.programme_months ELSE p.dyo_months END AS months,
           ((extract(year FROM p.as_of) - extract(year FROM e.selected_on)) * 12
            + extract(month FROM p.as_of) - extract(month FROM e.selected_on))::int AS elapsed
    FROM open_ep e, p WHERE e.kind IN ('ppo', 'dyo')
),
periods AS (
    SELECT kind, offender_id, due_on FROM (
        SELECT kind, offender_id, CASE
                   WHEN (selected_on + make_interval(months => elapsed / months * months))::date
                        <= p.as_of THEN elapsed / months
                   ELSE elapsed / months - 1 END AS n, selected_on, months
        FROM periodic, p WHERE months > 0
    ) k, LATERAL (SELECT (selected_on + make_interval(months => n * months))::date AS due_on) d
    WHERE n > 0
),
by_time AS (
    SELECT CASE kind WHEN 'ppo' THEN 'two_years' ELSE 'dyo_periodic' END, offender_id, due_on
    FROM periods
    UNION ALL
    SELECT 'dyo_turning_18', e.offender_id, t.due_on
    FROM open_ep e JOIN offenders_offender o ON o.id = e.offender_id, p,
         LATERAL (SELECT ((o.date_of_birth + interval '18 years')::date
                          - make_interval(months => p.dyo_lead))::date AS due_on) t
    WHERE e.kind = 'dyo' AND t.due_on <= p.as_of
),
-- 003 §5.7: former PPO or IOM people (now on IOM or on no tier) arrested or charged since.
former AS (
    SELECT o.id AS offender_id, coalesce(iom.selected_on, left_on.day) AS since
    FROM (SELECT DISTINCT e.offender_id AS id FROM offenders_programmeepisode e, p
          WHERE e.kind IN ('ppo', 'iom') AND e.selected_on <= p.as_of) o CROSS JOIN p
    -- The episodes table, not the open_ep CTE: a CTE scanned per person is a full scan each.
    LEFT JOIN LATERAL (SELECT e.kind FROM offenders_programmeepisode e
                       WHERE e.offender_id = o.id AND e.selected_on <= p.as_of
                         AND (e.deselected_on IS NULL OR e.deselected_on > p.as_of)
                       LIMIT 1) now_on ON true
    LEFT JOIN LATERAL (SELECT e.selected_on FROM offenders_programmeepisode e
                       WHERE e.offender_id = o.id AND e.kind = 'iom' AND e.selected_on <= p.as_of
                         AND (e.deselected_on IS NULL OR e.deselected_on > p.as_of)
                       LIMIT 1) iom ON true
    LEFT JOIN LATERAL (SELECT max(e.deselected_on) AS day FROM offenders_programmeepisode e
                       WHERE e.offender_id = o.id AND e.kind IN ('ppo', 'iom')
                         AND e.deselected_on <= p.as_of) left_on ON true
    WHERE coalesce(now_on.kind, 'iom') = 'iom'
),
former_reoffending AS (
    SELECT 'former_reoffending', f.offender_id, v.occurred_on
    FROM former f, p, LATERAL (
        SELECT v.occurred_on FROM offenders_offendingevent v
        WHERE v.offender_id = f.offender_id AND v.kind IN ('arrest', 'charge')
          AND v.occurred_on >= f.since AND v.occurred_on <= p.as_of
        ORDER BY v.occurred_on DESC LIMIT 1
    ) v
    WHERE f.since IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM selection_review r WHERE r.kind = 'former_reoffending'
          AND r.offender_id = f.offender_id
          AND (r.status = 'open' OR r.closed_on >= v.occurred_on))
),
-- 003 §6.2(6): the latest high-harm offence or high risk assessment in the episode.
mappa AS (
    SELECT 'mappa_referral', e.offender_id, greatest(ev.day, ra.day) AS due_on
    FROM open_ep e JOIN offenders_offender o ON o.id = e.offender_id, p,
         LATERAL (SELECT max(v.occurred_on) AS day FROM (
                      SELECT v.occurred_on FROM offenders_offendingevent v
                      WHERE v.offender_id = e.offender_id
                        AND v.kind IN ('arrest', 'charge', 'conviction', 'caution')
                        AND v.category_id = ANY (p.high)
                        AND v.occurred_on BETWEEN e.selected_on AND p.as_of
                      ORDER BY v.occurred_on DESC LIMIT 1) v) ev,
         LATERAL (SELECT max(a.assessed_on) AS day FROM selection_riskassessment a
                  WHERE a.offender_id = e.offender_id AND a.rosh_level IN ('high', 'very_high')
                    AND a.assessed_on BETWEEN e.selected_on AND p.as_of) ra
    WHERE e.kind IN ('ppo', 'iom', 'dyo') AND o.mappa_level IS NULL
      AND greatest(ev.day, ra.day) IS NOT NULL
      AND NOT EXISTS (
          SELECT 1 FROM selection_review r WHERE r.kind = 'mappa_referral'
            AND r.offender_id = e.offender_id
            AND (r.status = 'open' OR r.closed_on >= greatest(ev.day, ra.day)))
),
-- 003 §6.2(2): arrivals not yet put on the PPO tier since.
transfer_in AS (
    SELECT 'transfer_in', t.offender_id, t.arrived_on
    FROM selection_transferin t, p
    WHERE t.arrived_on <= p.as_of AND NOT EXISTS (
        SELECT 1 FROM offenders_programmeepisode e
        WHERE e.offender_id = t.offender_id AND e.kind = 'ppo'
          AND e.selected_on >= t.arrived_on AND e.selected_on <= p.as_of)
)
SELECT * FROM no_arrest
UNION ALL SELECT * FROM long_custody
UNION ALL SELECT * FROM before_release
UNION ALL SELECT * FROM by_time
UNION ALL SELECT * FROM former_reoffending
UNION ALL SELECT * FROM mappa
UNION ALL SELECT * FROM transfer_in
"""


def sql_due(as_of: dt.date) -> list[tuple[str, int, dt.date | None]]:
    scheme = Scheme.current()
    params = {
        "as_of": as_of,
        "needed": liberty_days_needed(scheme.no_arrest_review_months),
        "long_months": scheme.long_sentence_months,
        "lead": scheme.reselection_lead_months,
        "programme_months": scheme.programme_review_months,
        "dyo_months": scheme.dyo_review_months,
        "dyo_lead": scheme.dyo_exit_lead_months,
        "mappa": scheme.mappa_harm_weight,
    }
    with connection.cursor() as cursor:
        cursor.execute(SWEEP_SQL, params)
        return list(cursor.fetchall())


def compare(raised: list[tuple[str, int, dt.date]], found: list[Any]) -> int:
    """How many reviews the sweep and the SQL disagree on, by (kind, person), and on the
    due day where the SQL gives one (it leaves it out for a quiet period broken by
    custody, whose due day needs the days counted one spell at a time)."""
    swept = {(kind, person): due for kind, person, due in raised}
    by_sql: dict[tuple[str, int], dt.date | None] = {}
    for kind, person, due in found:
        key = (kind, person)
        # One review per person and kind here: the earliest day (a release-date chase can
        # come from both the long-custody and the before-release rules).
        if key not in by_sql or (due and (by_sql[key] is None or due < by_sql[key])):
            by_sql[key] = due
    only_sweep = swept.keys() - by_sql.keys()
    only_sql = by_sql.keys() - swept.keys()
    apart = [
        k for k in swept.keys() & by_sql.keys() if by_sql[k] is not None and by_sql[k] != swept[k]
    ]
    mismatches = len(only_sweep) + len(only_sql) + len(apart)
    print(
        f"sweep vs SQL: {len(swept):,} reviews about people, {mismatches} mismatches "
        f"({len(only_sweep)} only in the sweep, {len(only_sql)} only in SQL, "
        f"{len(apart)} due on another day)"
    )
    for key in sorted(only_sweep)[:3]:
        print(f"  only in the sweep: {key} due {swept[key]}")
    for key in sorted(only_sql)[:3]:
        print(f"  only in SQL: {key} due {by_sql[key]}")
    for key in sorted(apart)[:3]:
        print(f"  {key}: sweep {swept[key]}, SQL {by_sql[key]}")
    return mismatches


def rule_breakdown(as_of: dt.date) -> None:
    ctx = Context(actor=system_actor(SWEEP_ACTOR, as_of), scheme=Scheme.current())
    for rule in rules.RULES:
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            start = time.perf_counter()
            found = rule(ctx)
            seconds = time.perf_counter() - start
        print(
            f"  {rule.__name__:<20} {seconds:7.3f} s  {counter.count:>2} queries"
            f"  {len(found):>6,} due"
        )


class Rollback(Exception):
    pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--as-of", type=dt.date.fromisoformat, help="default: the build's day")
    parser.add_argument("--repeats", type=int, default=REPEATS, help="runs of each timing")
    add_settings_option(parser)
    args = parser.parse_args()
    if not prepare_session(args.set):
        return 2
    built = builder.describe()
    as_of = args.as_of or built.as_of
    pg = connection.pg_version  # type: ignore[attr-defined]
    print(
        f"PostgreSQL {pg // 10000}.{pg % 10000} | {built.rows['offenders_offender']:,} "
        f"offenders, {built.rows['offenders_offendingevent']:,} events (estimated) | "
        f"as of {as_of}" + (f" | {', '.join(args.set)}" if args.set else "")
    )
    if Review.objects.exists():
        print("The database already holds reviews: use a fresh build.", file=sys.stderr)
        return 2
    failed = False
    try:
        with transaction.atomic():
            found, _, _ = timed("hand-written SQL", lambda: sql_due(as_of), args.repeats)
            first, first_seconds, first_queries = timed(
                "first sweep (raises every review)", lambda: sweep(as_of=as_of), 1
            )
            print(f"  raised {first.total_raised:,}: {dict(sorted(first.raised.items()))}")
            _, sql_after_seconds, _ = timed(
                "hand-written SQL, reviews raised", lambda: sql_due(as_of), args.repeats
            )
            daily, daily_seconds, daily_queries = timed(
                "daily sweep (nothing new to raise)", lambda: sweep(as_of=as_of), args.repeats
            )
            print(f"  raised {daily.total_raised}, already raised {daily.already_raised:,}")
            print("one daily sweep, rule by rule:")
            rule_breakdown(as_of)
            raised = [
                (r.kind, r.offender_id, r.due_on)
                for r in Review.objects.exclude(kind=ReviewKind.LIST_REVIEW)
            ]
            mismatches = compare(raised, found)
            print(
                f"daily sweep {daily_seconds:.3f} s vs SQL {sql_after_seconds:.3f} s: "
                f"ratio {daily_seconds / sql_after_seconds:.1f}×, {daily_queries} queries; "
                f"goal under {GOAL_SECONDS} s: "
                + ("meets" if daily_seconds < GOAL_SECONDS else "MISSES")
            )
            print(
                f"first sweep {first_seconds:.3f} s, {first_queries:,} queries, "
                f"{Counter(r[0] for r in raised).total():,} reviews about people"
            )
            failed = daily_seconds >= GOAL_SECONDS or mismatches > 0
            raise Rollback
    except Rollback:
        pass
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
