#!/usr/bin/env python
"""Benchmark: a selection run over a force-sized pool, beside one hand-written SQL query.

    createdb -h 127.0.0.1 -U postgres ppo_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ppo_bench .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ppo_bench \\
        .venv/bin/python benchmarks/selection_run.py [--no-build] [--scale 0.01]

The goals (the selection issue), on PostgreSQL with 680,000 known offenders and about
8 million offending events: scoring the whole pool in under 5 s and within 2× one
hand-written SQL query that computes the same scores; scoring ~2,000 people in under
0.2 s; a number of queries that does not depend on the size of the pool.

It builds the data with benchmarks/builder.py (or, with --no-build, uses a database the
builder has filled), then times `selection.scoring.score_pool` with the adopted matrix
version, today, explain="none" (--explain to change it): over the whole pool and over the
2,000 most active people (--sample random: 2,000 at random), three runs each, best and
median, queries counted.
Then it times one SQL query written by hand from the rules in selection/scoring.py's
docstring, reading the version's criteria from selection_criterion, and checks that it
gives every person the same score. Nothing is written by the timed code; the build is the
only write. Figures and findings: benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import os
import pstats
import random
import sys
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import builder  # sets up Django
from django.db import connection
from timing import add_settings_option, prepare_session, timed

from offenders.models import Offender
from selection.models import MatrixStatus, MatrixVersion
from selection.scoring import PersonScore, score_pool

GOAL_WHOLE_SECONDS = 5.0
GOAL_WHOLE_RATIO = 2.0
GOAL_SAMPLE_SECONDS = 0.2
SAMPLE_SIZE = 2_000
REPEATS = 3


# The rules of selection/scoring.py's docstring, as one query. %(version)s is the matrix
# version, %(as_of)s the run's date; each {only_X} restricts table X to the people in
# %(ids)s, or is empty for the whole pool. The weights are the version's rows in
# selection_criterion.
#
# Counted criteria (events of a kind, priority crimes) have a whole-number measure, so
# weight × count needs no rounding and the sum of their points is the sum, over the
# events, of the weights each event earns: one grouped pass over the events gives it.
# Harm and likelihood have fractional measures: their points are rounded per person, half
# up, in whole pence: (weight in pence × measure in tenths + 5) / 10 in integers, the same
# number as round(weight × measure, 2) and faster than numeric arithmetic. The score is
# added up in pence and ranked on them.
SCORES_SQL = """
WITH version AS (
    SELECT
        v.id,
        %(as_of)s::date AS as_of,
        (%(as_of)s::date - make_interval(months => v.window_months))::date AS since,
        (%(as_of)s::date - make_interval(months => v.recent_months))::date AS recent_since,
        %(as_of)s::date + v.release_window_days AS release_by
    FROM selection_matrixversion v
    WHERE v.id = %(version)s
),
criteria AS (
    SELECT c.kind, c.event_kind, c.category_id, c.weight
    FROM selection_criterion c
    WHERE c.version_id = %(version)s
),
event_cents AS (
    SELECT
        (100 * coalesce(sum(weight) FILTER (WHERE event_kind = 'arrest'), 0))::integer
            AS arrest,
        (100 * coalesce(sum(weight) FILTER (WHERE event_kind = 'charge'), 0))::integer
            AS charge,
        (100 * coalesce(sum(weight) FILTER (WHERE event_kind = 'conviction'), 0))::integer
            AS conviction,
        (100 * coalesce(sum(weight) FILTER (WHERE event_kind = 'caution'), 0))::integer
            AS caution,
        (100 * coalesce(sum(weight) FILTER (WHERE event_kind = 'intelligence'), 0))::integer
            AS intelligence,
        (100 * coalesce(sum(weight) FILTER (WHERE event_kind = 'breach'), 0))::integer
            AS breach,
        (100 * coalesce(sum(weight) FILTER (WHERE event_kind = 'recall'), 0))::integer
            AS recall
    FROM criteria
    WHERE kind = 'events'
),
category_weights AS (
    -- Read from the tables, not from `criteria`, so the events may be scanned in parallel.
    SELECT
        oc.id,
        (oc.harm_weight * 10)::integer AS harm_tenths,
        (100 * coalesce(sum(c.weight), 0))::integer AS priority_cents
    FROM offenders_offencecategory oc
    LEFT JOIN selection_criterion c
        ON c.version_id = %(version)s AND c.kind = 'priority_crime' AND c.category_id = oc.id
    GROUP BY oc.id
),
weights AS (
    SELECT
        (100 * coalesce(sum(weight) FILTER (WHERE kind = 'recent'), 0))::integer AS recent,
        (100 * coalesce(sum(weight) FILTER (WHERE kind = 'harm'), 0))::integer AS harm,
        (100 * coalesce(sum(weight) FILTER (WHERE kind = 'community_impact'), 0))::integer
            AS community_impact,
        (100 * coalesce(sum(weight) FILTER (WHERE kind = 'drug_misuse'), 0))::integer
            AS drug_misuse,
        (100 * coalesce(sum(weight) FILTER (WHERE kind = 'positive_tests'), 0))::integer
            AS positive_tests,
        (100 * coalesce(sum(weight) FILTER (WHERE kind = 'likelihood'), 0))::integer
            AS likelihood,
        (100 * coalesce(sum(weight) FILTER (WHERE kind = 'short_sentence'), 0))::integer
            AS short_sentence
    FROM criteria
),
open_custody AS (
    -- The episode open today that started last: it says when the person is due out.
    SELECT DISTINCT ON (ce.offender_id) ce.offender_id, ce.expected_release_on
    FROM offenders_custodyepisode ce, version v
    WHERE ce.started_on <= v.as_of AND (ce.released_on IS NULL OR ce.released_on > v.as_of)
      {only_ce}
    ORDER BY ce.offender_id, ce.started_on DESC
),
open_tier AS (
    SELECT DISTINCT ON (pe.offender_id) pe.offender_id, pe.kind
    FROM offenders_programmeepisode pe, version v
    WHERE pe.selected_on <= v.as_of AND (pe.deselected_on IS NULL OR pe.deselected_on > v.as_of)
      {only_pe}
    ORDER BY pe.offender_id, pe.selected_on DESC
),
pool AS (
    -- Not in custody today, or due out within the release window, or on a tier.
    SELECT o.id, o.last_name, o.first_name, o.crasbo, o.dip_client
    FROM offenders_offender o
    CROSS JOIN version v
    LEFT JOIN open_custody oc ON oc.offender_id = o.id
    LEFT JOIN open_tier ot ON ot.offender_id = o.id
    WHERE (oc.offender_id IS NULL OR oc.expected_release_on <= v.release_by
           OR ot.offender_id IS NOT NULL)
      {only_o}
),
event_measures AS (
    -- In whole cents and tenths: integers make a smaller, faster aggregate than numeric.
    -- The window's dates and the weights of event kinds are scalar subqueries, computed
    -- once, so that PostgreSQL may scan the events in parallel.
    SELECT
        e.offender_id,
        sum(
            CASE e.kind
                WHEN 'arrest' THEN (SELECT arrest FROM event_cents)
                WHEN 'charge' THEN (SELECT charge FROM event_cents)
                WHEN 'conviction' THEN (SELECT conviction FROM event_cents)
                WHEN 'caution' THEN (SELECT caution FROM event_cents)
                WHEN 'intelligence' THEN (SELECT intelligence FROM event_cents)
                WHEN 'breach' THEN (SELECT breach FROM event_cents)
                WHEN 'recall' THEN (SELECT recall FROM event_cents)
                ELSE 0
            END
            + CASE WHEN e.kind IN ('arrest', 'charge', 'conviction', 'caution')
                   THEN coalesce(cw.priority_cents, 0) ELSE 0 END
        ) FILTER (WHERE e.occurred_on > (SELECT since FROM version)) AS counted_cents,
        -- Harm and priority crimes count offences: arrests, charges, convictions, cautions.
        sum(cw.harm_tenths) FILTER (
            WHERE e.occurred_on > (SELECT since FROM version)
              AND e.kind IN ('arrest', 'charge', 'conviction', 'caution')
        ) AS harm_tenths,
        bool_or(
            e.occurred_on > (SELECT recent_since FROM version) AND e.kind IN ('arrest', 'charge')
        ) AS recent
    FROM offenders_offendingevent e
    LEFT JOIN category_weights cw ON cw.id = e.category_id
    WHERE e.occurred_on > (SELECT least(since, recent_since) FROM version)
      AND e.occurred_on <= (SELECT as_of FROM version)
      {only_e}
    GROUP BY e.offender_id
),
positive_tests AS (
    -- Taken on a London date in the window: from the London midnight after `since`
    -- to the London midnight after `as_of`.
    SELECT t.offender_id, count(*) AS tests
    FROM offenders_drugtest t, version v
    WHERE t.result = 'positive'
      AND t.tested_at >= ((v.since + 1)::timestamp AT TIME ZONE 'Europe/London')
      AND t.tested_at < ((v.as_of + 1)::timestamp AT TIME ZONE 'Europe/London')
      {only_t}
    GROUP BY t.offender_id
),
latest_assessment AS (
    SELECT DISTINCT ON (r.offender_id) r.offender_id, r.likelihood_score
    FROM selection_riskassessment r, version v
    WHERE r.assessed_on <= v.as_of
      {only_r}
    ORDER BY r.offender_id, r.assessed_on DESC, r.id DESC
),
short_sentence AS (
    -- Under 12 months, no supervision on release: released in the window, or in
    -- custody today and due out within the release window.
    SELECT DISTINCT ss.offender_id
    FROM offenders_custodyepisode ss, version v
    WHERE ss.kind = 'sentence'
      AND ss.sentence_length_months < 12
      AND ss.supervision_on_release IN ('', 'none')
      AND (
        (ss.released_on > v.since AND ss.released_on <= v.as_of)
        OR (ss.released_on IS NULL AND ss.started_on <= v.as_of
            AND ss.expected_release_on BETWEEN v.as_of AND v.release_by)
      )
      {only_ss}
)
SELECT scored.id, (scored.pence / 100.0)::numeric(12, 2) AS score
FROM (
    SELECT
        pool.id,
        pool.last_name,
        pool.first_name,
        coalesce(em.counted_cents, 0)
        + CASE WHEN em.recent THEN w.recent ELSE 0 END
        -- Fractional measures, rounded half up to the penny: (pence × tenths + 5) / 10.
        + (w.harm * coalesce(em.harm_tenths, 0) + 5) / 10
        + CASE WHEN pool.crasbo THEN w.community_impact ELSE 0 END
        + CASE WHEN pool.dip_client THEN w.drug_misuse ELSE 0 END
        + w.positive_tests * coalesce(pt.tests, 0)
        + (w.likelihood * coalesce(la.likelihood_score, 0) + 5) / 10
        + CASE WHEN ss.offender_id IS NOT NULL THEN w.short_sentence ELSE 0 END AS pence
    FROM pool
    CROSS JOIN weights w
    LEFT JOIN event_measures em ON em.offender_id = pool.id
    LEFT JOIN positive_tests pt ON pt.offender_id = pool.id
    LEFT JOIN latest_assessment la ON la.offender_id = pool.id
    LEFT JOIN short_sentence ss ON ss.offender_id = pool.id
) scored
ORDER BY
    scored.pence DESC,
    lower(scored.last_name) COLLATE "C",
    lower(scored.first_name) COLLATE "C",
    scored.id
"""
# The column that names the person in each table of SCORES_SQL, by its alias.
PERSON_COLUMNS = {
    "o": "o.id",
    "ce": "ce.offender_id",
    "pe": "pe.offender_id",
    "e": "e.offender_id",
    "t": "t.offender_id",
    "r": "r.offender_id",
    "ss": "ss.offender_id",
}


def scores_sql(ids: list[int] | None) -> str:
    """SCORES_SQL for the whole pool (ids None) or only for the people in %(ids)s."""
    return SCORES_SQL.format(
        **{
            f"only_{alias}": "" if ids is None else f"AND {column} = ANY(%(ids)s)"
            for alias, column in PERSON_COLUMNS.items()
        }
    )


def fractional_criteria(version: MatrixVersion) -> list[str]:
    """Kinds the SQL cannot score exactly if a version has two of them: two harm (or
    likelihood) criteria would each be rounded apart by score_pool, but added first here.
    The database lets this happen: see the README."""
    kinds = list(
        version.criteria.filter(kind__in=["harm", "likelihood"]).values_list("kind", flat=True)
    )
    return sorted({kind for kind in kinds if kinds.count(kind) > 1})


def sql_scores(version: MatrixVersion, as_of: dt.date, ids: list[int] | None) -> list[Any]:
    with connection.cursor() as cursor:
        cursor.execute(scores_sql(ids), {"version": version.pk, "as_of": as_of, "ids": ids})
        return list(cursor.fetchall())


def compare(orm: list[PersonScore], sql: list[Any], label: str) -> int:
    """Print and return how many people the two disagree on (missing or scored apart)."""
    by_orm = {s.offender_id: s.score for s in orm}
    by_sql: dict[int, Decimal] = dict(sql)
    only_orm = by_orm.keys() - by_sql.keys()
    only_sql = by_sql.keys() - by_orm.keys()
    apart = [pk for pk in by_orm.keys() & by_sql.keys() if by_orm[pk] != by_sql[pk]]
    mismatches = len(only_orm) + len(only_sql) + len(apart)
    top_orm = [s.offender_id for s in orm[:20]]
    top_sql = [pk for pk, _ in sql[:20]]
    print(
        f"{label}: {mismatches} mismatches ({len(only_orm)} only in score_pool, "
        f"{len(only_sql)} only in SQL, {len(apart)} scored differently); top 20 overlap "
        f"{len(set(top_orm) & set(top_sql))}/20, same order: {top_orm == top_sql}"
    )
    for pk in sorted(apart)[:5]:
        print(f"  offender {pk}: score_pool {by_orm[pk]}, SQL {by_sql[pk]}")
    return mismatches


def verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-build", action="store_true", help="use the data already built")
    parser.add_argument("--scale", type=float, default=1.0, help="builder sizes × scale")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--force", action="store_true", help="rebuild over existing data")
    parser.add_argument("--people", type=int, default=SAMPLE_SIZE, help="the smaller run's size")
    parser.add_argument(
        "--sample", choices=["active", "random"], default="active", help="which people"
    )
    parser.add_argument(
        "--as-of", type=dt.date.fromisoformat, help="the run's date (default: the build's, today)"
    )
    parser.add_argument("--repeats", type=int, default=REPEATS, help="runs of each timing")
    parser.add_argument("--profile", action="store_true", help="cProfile one whole-pool run")
    parser.add_argument(
        "--explain",
        choices=["none", "considered", "all"],
        default="none",
        help="score_pool's explanations (the benchmark's goals are for none)",
    )
    add_settings_option(parser)
    args = parser.parse_args()
    if not prepare_session(args.set):
        return 2
    if args.no_build:
        built = builder.describe()
    else:
        sizes = builder.sizes(args.scale)
        print(f"building {', '.join(f'{v:,} {k}' for k, v in sizes.items())}")
        try:
            built = builder.build(**sizes, seed=args.seed, force=args.force)
        except builder.BuildRefused as refused:
            print(f"refused: {refused}", file=sys.stderr)
            return 2
        print(f"built in {built.seconds['total']:.0f} s")
    as_of = args.as_of or built.as_of
    offenders = built.rows["offenders_offender"]
    version = MatrixVersion.objects.get(status=MatrixStatus.ADOPTED)
    if doubled := fractional_criteria(version):
        print(
            f"WARNING: the version has more than one {' and '.join(doubled)} criterion: "
            "the SQL adds their weights before rounding, score_pool rounds each.",
            file=sys.stderr,
        )
    pg = connection.pg_version  # type: ignore[attr-defined]
    print(
        f"PostgreSQL {pg // 10000}.{pg % 10000} | {offenders:,} offenders, "
        f"{built.rows['offenders_offendingevent']:,} events (estimated) | matrix version "
        f"{version.number}, {version.criteria.count()} criteria | as of {as_of}"
        + (f" | {', '.join(args.set)}" if args.set else "")
        + (f" | explain={args.explain}" if args.explain != "none" else "")
    )
    if args.sample == "active":
        sample = builder.most_active(args.people)
    else:
        everyone = list(Offender.objects.values_list("pk", flat=True))
        sample = random.Random(args.seed).sample(everyone, min(args.people, len(everyone)))

    def orm(ids: list[int] | None) -> Callable[[], list[PersonScore]]:
        return lambda: score_pool(
            people=Offender.objects.all(),
            version=version,
            as_of=as_of,
            offender_ids=ids,
            explain=args.explain,
        )

    few = f"{len(sample):,} {args.sample}"
    repeats = args.repeats

    def people_count(result: list[Any]) -> str:
        return f"  {len(result):>8,} people"

    orm_all, orm_all_s, orm_all_q = timed(
        "score_pool, whole pool", orm(None), repeats, people_count
    )
    orm_few, orm_few_s, orm_few_q = timed(f"score_pool, {few}", orm(sample), repeats, people_count)
    sql_all, sql_all_s, _ = timed(
        "hand-written SQL, whole pool",
        lambda: sql_scores(version, as_of, None),
        repeats,
        people_count,
    )
    sql_few, sql_few_s, _ = timed(
        f"hand-written SQL, {few}",
        lambda: sql_scores(version, as_of, sample),
        repeats,
        people_count,
    )
    print(
        f"ratio score_pool / SQL: whole pool {orm_all_s / sql_all_s:.1f}×, "
        f"{len(sample):,} people {orm_few_s / sql_few_s:.1f}×"
    )
    mismatches = compare(orm_all, sql_all, "whole pool") + compare(
        orm_few, sql_few, f"{len(sample):,} people"
    )

    if args.profile:
        profile = cProfile.Profile()
        profile.runcall(orm(None))
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)

    full_size = offenders >= builder.DEFAULT_OFFENDERS * 0.99
    goals = {
        f"whole pool under {GOAL_WHOLE_SECONDS:g} s": orm_all_s < GOAL_WHOLE_SECONDS,
        f"whole pool within {GOAL_WHOLE_RATIO:g}× SQL": orm_all_s <= GOAL_WHOLE_RATIO * sql_all_s,
        f"{len(sample):,} people under {GOAL_SAMPLE_SECONDS:g} s": orm_few_s < GOAL_SAMPLE_SECONDS,
        "query count independent of pool size": orm_all_q == orm_few_q,
        "SQL and score_pool agree": mismatches == 0,
    }
    for goal, ok in goals.items():
        print(f"{verdict(ok)}: {goal}")
    if not full_size:
        print(f"(the timing goals are for {builder.DEFAULT_OFFENDERS:,} offenders)")
    print(f"load average {' '.join(f'{n:.1f}' for n in os.getloadavg())} on {os.cpu_count()} CPUs")
    return 0 if all(goals.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
