#!/usr/bin/env python
"""Build a large synthetic scheme in PostgreSQL for the benchmarks that need volume.

    createdb -h 127.0.0.1 -U postgres ppo_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ppo_bench .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ppo_bench \\
        .venv/bin/python benchmarks/builder.py [--scale 0.01] [--force]

One builder, sized by parameters, for every benchmark that needs a force-sized area (the
selection issue: 680,000 known offenders, about 8 million offending events of which the
most active tenth of people hold half, 8,000 PPOs). The selection, reporting and page
benchmarks call `build(...)` or, with an existing built database, `describe()`.

It writes with binary COPY straight into the Django tables of a migrated database, inside
one transaction, checking every foreign key as it goes (`SET CONSTRAINTS ALL IMMEDIATE`,
one COPY statement per million rows so PostgreSQL's queue of checks stays small), then
VACUUM ANALYZEs the tables it filled. It drops and recreates nothing Django owns. Every
name is invented from syllables; every identifier is made up (PNC IDs from a serial range
with a valid check letter).

It refuses to write into tables that already hold data; `--force` first TRUNCATEs the
tables it fills (and the tables that point at them, only if those are empty). It never
touches the audit trail (`access_auditevent` refuses DELETE and TRUNCATE is not wanted
there either) and keeps existing agencies, reusing its own by name.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import random
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ppo_case.settings.local")
# Debug mode keeps every query's SQL in memory: measure as in production.
os.environ.setdefault("DJANGO_DEBUG", "false")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from offenders.identifiers import format_pnc  # noqa: E402
from offenders.models import EventKind  # noqa: E402

DEFAULT_OFFENDERS = 680_000
DEFAULT_EVENTS = 8_000_000
DEFAULT_PPOS = 8_000
YEARS_OF_EVENTS = 5
COPY_BATCH = 1_000_000

# As benchmarks/import_events.py: the mix of event kinds a police feed sends.
KIND_WEIGHTS = {
    EventKind.ARREST: 40,
    EventKind.CHARGE: 15,
    EventKind.CONVICTION: 15,
    EventKind.CAUTION: 5,
    EventKind.INTELLIGENCE: 20,
    EventKind.BREACH: 3,
    EventKind.RECALL: 2,
}
NO_CATEGORY = {EventKind.INTELLIGENCE, EventKind.BREACH, EventKind.RECALL}
# Volume crime dominates; anything not named here weighs 2.
CATEGORY_WEIGHTS = {
    "Shoplifting": 20,
    "Other theft, making off without payment": 8,
    "Burglary – residential": 6,
    "Burglary – business/community": 3,
    "Theft from a vehicle": 5,
    "Drug possession": 8,
    "Violence without injury": 6,
    "Violence with injury": 4,
    "Criminal damage": 6,
    "Public order": 5,
    "Breach of court order, bail offences": 4,
}
# Activity per person: a Pareto draw (shape 1.25), capped so nobody has thousands of
# events, gives the most active tenth about half of all events (000 §1.1).
PARETO_SHAPE = 1.25
PARETO_CAP = 150.0

AGENCIES = [
    ("police", "Benchmark Constabulary", "police"),
    ("probation", "Benchmark Probation Service", "probation"),
    ("prison_a", "HMP Benchmark North", "prison"),
    ("prison_b", "HMP Benchmark South", "prison"),
    ("treatment", "Benchmark Drug Treatment Service", "treatment"),
]

# The tables the builder fills, in the order it fills them.
TABLES = [
    "offenders_offender",
    "offenders_offenderstrand",
    "offenders_offendingevent",
    "offenders_programmeepisode",
    "offenders_custodyepisode",
    "offenders_drugtest",
    "selection_riskassessment",
    "offenders_contact",
]

# Staff for the page benchmark (--key-workers N): a PPO manager and N key workers at the
# builder's probation service, the PPOs shared among the key workers in turn. Reused by
# username; their password is STAFF_PASSWORD (a benchmark database only).
STAFF_MANAGER = "bench-manager"
STAFF_KEY_WORKER = "bench-key-worker-{}"
STAFF_PASSWORD = "benchmark-only-password"  # noqa: S105
CONTACT_KINDS = {"office": 50, "home_visit": 20, "phone": 25, "outreach": 5}
CONTACT_OUTCOMES = {"attended": 85, "failed": 10, "excused": 5}

# Names are made of these, so no real person's name is used on purpose.
SYLLABLES = (  # noqa: SIM905
    "ab ar bel bri cal cor dan del dor el en fen gar hal is jan kel kor lan len lor mar mel "
    "mir nor ol or pel quin ral ren ros sal sel tam tor ul var ven wil yor zan"
).split()
SURNAME_ENDINGS = ["", "", "by", "ton", "well", "ham", "ley", "son", "field", "worth"]
ETHNICITY_WEIGHTS = {
    "white": 72,
    "black": 8,
    "asian": 9,
    "mixed": 5,
    "other": 2,
    "not_stated": 4,
}
SEX_WEIGHTS = {"M": 85, "F": 14, "X": 0.2, "U": 0.8}
SUPERVISION_WEIGHTS = {
    "none": 70,
    "community_order": 12,
    "licence": 10,
    "suspended_sentence": 7,
    "youth_order": 1,
}
SENTENCE_MONTHS = [2, 3, 4, 6, 8, 9, 10, 12, 15, 18, 24, 30, 36, 48, 60, 72, 96, 120]
DESELECTION_REASONS = [
    "stopped_offending",
    "moved_area",
    "long_custody",
    "list_review",
    "two_year_review",
    "high_risk_of_harm",
]
EXIT_ROUTES = ["iom", "iom", "dip_cjit", "transfer", "none"]
SUBSTANCES = ["opiates", "cocaine", "opiates, cocaine", "cannabis", "amphetamine"]
DRUG_RESULTS = {"negative": 60, "positive": 30, "refused": 6, "invalid": 4}


class BuildRefused(Exception):
    """The database is not one the builder may fill (a message a person can act on)."""


@dataclass
class Built:
    """What a build made (or, from `describe()`, what a built database holds)."""

    as_of: dt.date
    agencies: dict[str, int]
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    top_decile_share: float | None = None
    # The page benchmark's staff (usernames to ids) and its heavy PPO, when built.
    staff: dict[str, int] = field(default_factory=dict)
    heavy_ppo: int | None = None


def sizes(scale: float) -> dict[str, int]:
    """The issue's sizes times `scale` (0.01 for a quick check)."""
    return {
        "offenders": max(100, round(DEFAULT_OFFENDERS * scale)),
        "events": max(1_000, round(DEFAULT_EVENTS * scale)),
        "ppos": max(5, round(DEFAULT_PPOS * scale)),
    }


# ---------------------------------------------------------------------------- database


def _execute(sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall()) if cursor.description else []


def _copy(table: str, columns: Sequence[tuple[str, str]], rows: Iterable[Sequence[Any]]) -> int:
    """Binary COPY of `rows` into `table`, a statement per COPY_BATCH rows, each
    statement's foreign keys checked when it ends. Returns the number of rows."""
    names = ", ".join(name for name, _ in columns)
    types = [kind for _, kind in columns]
    sql = f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)"
    written = 0
    iterator = iter(rows)
    with connection.cursor() as cursor:
        raw = cursor.cursor
        while True:
            batch = list(itertools.islice(iterator, COPY_BATCH))
            if not batch:
                break
            with raw.copy(sql) as copy:
                copy.set_types(types)
                for row in batch:
                    copy.write_row(row)
            written += len(batch)
    return written


def _referencing_tables(tables: list[str]) -> list[str]:
    """Tables outside `tables` whose foreign keys point (perhaps through others) into them."""
    found: list[str] = []
    frontier = list(tables)
    while frontier:
        rows = _execute(
            "SELECT DISTINCT conrelid::regclass::text FROM pg_constraint "
            "WHERE contype = 'f' AND confrelid::regclass::text = ANY(%s)",
            [frontier],
        )
        frontier = [name for (name,) in rows if name not in tables and name not in found]
        found.extend(frontier)
    return sorted(found)


def _holding_data(tables: Iterable[str]) -> list[str]:
    return [
        table
        for table in tables
        if _execute(f"SELECT EXISTS (SELECT 1 FROM {table})")[0][0]  # noqa: S608
    ]


def _check_database(force: bool) -> None:
    if connection.vendor != "postgresql":
        raise BuildRefused(
            f"The database is {connection.vendor}: the builder needs PostgreSQL "
            "(set DATABASE_URL to a migrated PostgreSQL database)."
        )
    missing = [t for t in TABLES if t not in connection.introspection.table_names()]
    if missing:
        raise BuildRefused(
            f"Tables {', '.join(missing)} do not exist: run `manage.py migrate` on this "
            "database first."
        )
    if not _execute("SELECT EXISTS (SELECT 1 FROM offenders_offencecategory)")[0][0]:
        raise BuildRefused("No offence categories: run `manage.py migrate` (offenders 0002).")
    full = _holding_data(TABLES)
    if full and not force:
        raise BuildRefused(
            f"{', '.join(full)} already hold data. Use a fresh database, describe() / "
            "--no-build to reuse what is there, or --force to empty these tables first."
        )
    if full:
        others = _referencing_tables(TABLES)
        held = _holding_data(others)
        if held:
            raise BuildRefused(
                f"Other records point at these people (in {', '.join(held)}); --force only "
                "empties the builder's own tables. Use a fresh database."
            )
        # Every referencing table is empty: naming them lets TRUNCATE go ahead without
        # CASCADE, which could reach further than this list.
        _execute(f"TRUNCATE {', '.join(TABLES + others)} RESTART IDENTITY")


def _agencies() -> dict[str, int]:
    ids: dict[str, int] = {}
    for key, name, kind in AGENCIES:
        _execute(
            "INSERT INTO access_agency (name, kind, active) VALUES (%s, %s, true) "
            "ON CONFLICT (name) DO NOTHING",
            [name, kind],
        )
        ids[key] = _execute("SELECT id FROM access_agency WHERE name = %s", [name])[0][0]
    return ids


# ---------------------------------------------------------------------------- people


def _name(rng: random.Random, parts: int, ending: str = "") -> str:
    return ("".join(rng.choice(SYLLABLES) for _ in range(parts)) + ending).capitalize()


def _weighted(rng: random.Random, weights: dict[str, float], k: int) -> list[str]:
    return rng.choices(list(weights), list(weights.values()), k=k)


class _Plan:
    """The people and their activity, drawn once; the tables are written from it."""

    def __init__(
        self,
        *,
        offenders: int,
        events: int,
        ppos: int,
        seed: int,
        as_of: dt.date,
        key_workers: Sequence[int] = (),
        heavy_events: int = 0,
        heavy_contacts: int = 0,
    ):
        self.rng = random.Random(seed)
        self.as_of = as_of
        self.count = offenders
        self.events = events
        first = _execute("SELECT COALESCE(MAX(id), 0) + 1 FROM offenders_offender")[0][0]
        self.ids = list(range(first, first + offenders))
        rng = self.rng
        self.activity = [min(rng.paretovariate(PARETO_SHAPE), PARETO_CAP) for _ in self.ids]
        by_activity = sorted(range(offenders), key=self.activity.__getitem__, reverse=True)
        self.ppos = sorted(by_activity[:ppos])
        # Former PPOs: people among the next most active, de-selected in the past.
        former_from = by_activity[ppos : ppos * 4]
        self.former = sorted(rng.sample(former_from, min(len(former_from), ppos // 2)))
        self.dip = [rng.random() < 0.10 for _ in self.ids]
        self.crasbo = [rng.random() < 0.03 for _ in self.ids]
        for index in self.ppos:
            # PPOs are chosen for drug-related acquisitive crime: most are DIP clients.
            self.dip[index] = self.dip[index] or rng.random() < 0.6
        # About 5% in custody today: more likely the more active.
        top_decile = by_activity[: offenders // 10]
        in_custody = set(rng.sample(top_decile, min(len(top_decile), offenders // 50)))
        while len(in_custody) < offenders // 20:
            in_custody.add(rng.randrange(offenders))
        self.in_custody = sorted(in_custody)
        self.released = sorted(rng.sample(range(offenders), offenders * 8 // 100))
        # The page benchmark: PPOs shared among key workers in turn, and one PPO (the
        # first) with a long history, its events on top of the drawn ones.
        self.key_worker = {
            index: key_workers[n % len(key_workers)]
            for n, index in enumerate(self.ppos)
            if key_workers
        }
        self.heavy = self.ppos[0] if (heavy_events or heavy_contacts) and self.ppos else None
        self.heavy_events = heavy_events if self.heavy is not None else 0
        self.heavy_contacts = heavy_contacts if self.heavy is not None else 0
        self.events = max(0, events - self.heavy_events)


def _offender_rows(plan: _Plan) -> Iterator[tuple[Any, ...]]:
    rng = plan.rng
    n = plan.count
    sexes = _weighted(rng, SEX_WEIGHTS, n)
    ethnicities = _weighted(rng, ETHNICITY_WEIGHTS, n)
    supervisions = _weighted(rng, SUPERVISION_WEIGHTS, n)
    born_from = dt.date(1960, 1, 1).toordinal()
    born_to = dt.date(2008, 12, 31).toordinal()
    ppos = set(plan.ppos)
    created_from = dt.datetime(2012, 1, 1, tzinfo=dt.UTC)
    span = (timezone.now() - created_from).total_seconds()
    for index, pk in enumerate(plan.ids):
        created = created_from + dt.timedelta(seconds=rng.random() * span)
        updated = created + dt.timedelta(
            seconds=rng.random() * (span - (created - created_from).total_seconds())
        )
        is_ppo = index in ppos
        yield (
            pk,
            _name(rng, rng.choice((1, 2, 2))),
            _name(rng, rng.choice((2, 2, 3)), rng.choice(SURNAME_ENDINGS)),
            "",
            dt.date.fromordinal(rng.randint(born_from, born_to)),
            sexes[index],
            ethnicities[index],
            "",
            "",
            # PNC IDs: year of the first record, serial from a range demo data does not use.
            format_pnc(1990 + index % 30, 1_000_000 + index // 30),
            "",
            "",
            "",
            "",
            supervisions[index],
            plan.dip[index],
            plan.crasbo[index],
            "red" if is_ppo else "",
            "",
            created,
            updated,
            plan.key_worker.get(index),
        )


OFFENDER_COLUMNS = [
    ("id", "bigint"),
    ("first_name", "varchar"),
    ("last_name", "varchar"),
    ("aliases", "varchar"),
    ("date_of_birth", "date"),
    ("sex", "varchar"),
    ("ethnicity", "varchar"),
    ("address", "text"),
    ("phone", "varchar"),
    ("pnc_id", "varchar"),
    ("cro_number", "varchar"),
    ("prison_number", "varchar"),
    ("crn", "varchar"),
    ("local_ref", "varchar"),
    ("supervision", "varchar"),
    ("dip_client", "bool"),
    ("crasbo", "bool"),
    ("iom_grade", "varchar"),
    ("scaled_approach", "varchar"),
    ("created_at", "timestamptz"),
    ("updated_at", "timestamptz"),
    ("key_worker_id", "int4"),
]


def _strand_rows(plan: _Plan) -> Iterator[tuple[Any, ...]]:
    """Every PPO on Catch and Convict (a person's strands are a set, OffenderStrand)."""
    for index in plan.ppos:
        yield (plan.ids[index], "catch_convict")


STRAND_COLUMNS = [("offender_id", "bigint"), ("strand", "varchar")]


# ---------------------------------------------------------------------------- events


def _category_weights() -> tuple[list[int], list[float]]:
    rows = _execute("SELECT id, name FROM offenders_offencecategory ORDER BY id")
    return [pk for pk, _ in rows], [float(CATEGORY_WEIGHTS.get(name, 2)) for _, name in rows]


def _event_rows(plan: _Plan, police: int, counts: list[int]) -> Iterator[tuple[Any, ...]]:
    """Events in the order a force records them (by day), each day's people drawn by
    activity, so a person's events are spread through the table as in real life."""
    rng = plan.rng
    days = YEARS_OF_EVENTS * 365 + YEARS_OF_EVENTS // 4
    first_day = plan.as_of - dt.timedelta(days=days - 1)
    dates = [first_day + dt.timedelta(days=d) for d in range(days)]
    people = list(range(plan.count))
    cumulative = list(itertools.accumulate(plan.activity))
    kinds = [str(kind) for kind in KIND_WEIGHTS]
    kind_cumulative = list(itertools.accumulate(KIND_WEIGHTS.values()))
    category_ids, category_weights = _category_weights()
    category_cumulative = list(itertools.accumulate(category_weights))
    no_category = {str(kind) for kind in NO_CATEGORY}
    ids = plan.ids
    total = plan.events
    last = days - 1
    number = 0
    for d in range(days):
        today = total * (d + 1) // days - total * d // days
        who = rng.choices(people, cum_weights=cumulative, k=today)
        what = rng.choices(kinds, cum_weights=kind_cumulative, k=today)
        which = rng.choices(category_ids, cum_weights=category_cumulative, k=today)
        occurred = dates[d]
        for person, kind, category in zip(who, what, which, strict=True):
            number += 1
            counts[person] += 1
            recorded = dates[min(last, d + int(rng.random() * 11))]
            yield (
                ids[person],
                kind,
                None if kind in no_category else category,
                occurred,
                recorded,
                police,
                f"B{number:09d}",
                "",
            )
    if plan.heavy is not None:
        # The heavy PPO's long history, spread over the same years.
        for _ in range(plan.heavy_events):
            number += 1
            counts[plan.heavy] += 1
            d = rng.randrange(days)
            kind = rng.choices(kinds, cum_weights=kind_cumulative)[0]
            category = rng.choices(category_ids, cum_weights=category_cumulative)[0]
            yield (
                ids[plan.heavy],
                kind,
                None if kind in no_category else category,
                dates[d],
                dates[min(last, d + int(rng.random() * 11))],
                police,
                f"B{number:09d}",
                "",
            )


EVENT_COLUMNS = [
    ("offender_id", "bigint"),
    ("kind", "varchar"),
    ("category_id", "bigint"),
    ("occurred_on", "date"),
    ("recorded_on", "date"),
    ("source_agency_id", "bigint"),
    ("source_reference", "varchar"),
    ("summary", "text"),
]


# ---------------------------------------------------------------------------- the rest


def _programme_rows(plan: _Plan) -> Iterator[tuple[Any, ...]]:
    rng = plan.rng
    as_of = plan.as_of
    for index in plan.ppos:
        selected = as_of - dt.timedelta(days=rng.randint(0, 1400))
        yield (plan.ids[index], "ppo", selected, f"Selection panel of {selected}", None, "", "")
    for index in plan.former:
        selected = as_of - dt.timedelta(days=rng.randint(400, 1800))
        ended = min(
            as_of - dt.timedelta(days=1), selected + dt.timedelta(days=rng.randint(90, 900))
        )
        yield (
            plan.ids[index],
            "ppo",
            selected,
            f"Selection panel of {selected}",
            ended,
            rng.choice(DESELECTION_REASONS),
            rng.choice(EXIT_ROUTES),
        )


PROGRAMME_COLUMNS = [
    ("offender_id", "bigint"),
    ("kind", "varchar"),
    ("selected_on", "date"),
    ("selection_decision", "varchar"),
    ("deselected_on", "date"),
    ("deselection_reason", "varchar"),
    ("exit_route", "varchar"),
]


def _custody_rows(plan: _Plan, prisons: list[int]) -> Iterator[tuple[Any, ...]]:
    """Today's custody (about 5%: release dates over the next two years, some from short
    sentences with no supervision to follow) and past episodes that ended before it."""
    rng = plan.rng
    as_of = plan.as_of
    started: dict[int, dt.date] = {}
    for index in plan.in_custody:
        prison = rng.choice(prisons)
        if rng.random() < 0.15:
            start = as_of - dt.timedelta(days=rng.randint(1, 200))
            due = as_of + dt.timedelta(days=rng.randint(7, 120)) if rng.random() < 0.5 else None
            started[index] = start
            yield (plan.ids[index], "remand", start, None, due, None, "", prison)
            continue
        months = rng.choice(SENTENCE_MONTHS)
        if months < 12:
            start = as_of - dt.timedelta(days=rng.randint(0, months * 15))
            due = as_of + dt.timedelta(days=rng.randint(0, months * 15))
            supervision = rng.choice(("", "none", "none", "licence"))
        else:
            start = as_of - dt.timedelta(days=rng.randint(0, min(1500, months * 15)))
            due = as_of + dt.timedelta(days=rng.randint(1, 730))
            supervision = "licence"
        started[index] = start
        yield (plan.ids[index], "sentence", start, months, due, None, supervision, prison)
    for index in plan.released:
        latest = started.get(index, as_of + dt.timedelta(days=1)) - dt.timedelta(days=1)
        released = latest - dt.timedelta(days=rng.randint(0, 1700))
        if rng.random() < 0.1:
            start = released - dt.timedelta(days=rng.randint(1, 200))
            row = (plan.ids[index], "remand", start, None, None, released, "", rng.choice(prisons))
            yield row
            continue
        months = rng.choice(SENTENCE_MONTHS)
        start = released - dt.timedelta(days=months * 15)
        supervision = rng.choice(("", "none", "none", "licence")) if months < 12 else "licence"
        yield (
            plan.ids[index],
            "sentence",
            start,
            months,
            released,
            released,
            supervision,
            rng.choice(prisons),
        )


CUSTODY_COLUMNS = [
    ("offender_id", "bigint"),
    ("kind", "varchar"),
    ("started_on", "date"),
    ("sentence_length_months", "int4"),
    ("expected_release_on", "date"),
    ("released_on", "date"),
    ("supervision_on_release", "varchar"),
    ("establishment_id", "bigint"),
]


def _drug_test_rows(plan: _Plan, agencies: list[int]) -> Iterator[tuple[Any, ...]]:
    """PPOs tested about twice a month over two years, other DIP clients now and then.
    Times run through the whole day in UTC, so some fall on the next London day."""
    rng = plan.rng
    midnight = dt.datetime.combine(plan.as_of, dt.time.min, tzinfo=dt.UTC)
    results = list(DRUG_RESULTS)
    result_weights = list(DRUG_RESULTS.values())
    ppos = set(plan.ppos)
    for index, pk in enumerate(plan.ids):
        if index in ppos:
            tests, days = rng.randint(10, 40), 730
        elif plan.dip[index]:
            tests, days = rng.randint(0, 6), YEARS_OF_EVENTS * 365
        else:
            continue
        for _ in range(tests):
            # Up to the end of yesterday: nothing is tested in the future.
            at = midnight - dt.timedelta(seconds=rng.randint(1, days * 86_400))
            result = rng.choices(results, result_weights)[0]
            substances = rng.choice(SUBSTANCES) if result == "positive" else ""
            yield (pk, at, result, substances, "", rng.choice(agencies))


DRUG_TEST_COLUMNS = [
    ("offender_id", "bigint"),
    ("tested_at", "timestamptz"),
    ("result", "varchar"),
    ("substances", "varchar"),
    ("note", "text"),
    ("agency_id", "bigint"),
]


def _risk_rows(plan: _Plan, probation: int) -> Iterator[tuple[Any, ...]]:
    """Every PPO assessed one to four times, 4% of the others once or twice; now and then
    twice on one day (the later row is the latest assessment)."""
    rng = plan.rng
    now = timezone.now()
    ppos = set(plan.ppos)
    for index, pk in enumerate(plan.ids):
        if index in ppos:
            count = rng.randint(1, 4)
        elif rng.random() < 0.04:
            count = rng.randint(1, 2)
        else:
            continue
        days = sorted(rng.randint(0, 3 * 365) for _ in range(count))
        if count > 1 and rng.random() < 0.1:
            days[1] = days[0]
        for ago in days:
            yield (
                pk,
                plan.as_of - dt.timedelta(days=ago),
                "oasys",
                rng.randint(0, 100),
                "medium",
                now,
                probation,
            )


RISK_COLUMNS = [
    ("offender_id", "bigint"),
    ("assessed_on", "date"),
    ("tool", "varchar"),
    ("likelihood_score", "int2"),
    ("rosh_level", "varchar"),
    ("created_at", "timestamptz"),
    ("agency_id", "bigint"),
]


def _contact_rows(plan: _Plan, contacts: int, probation: int) -> Iterator[tuple[Any, ...]]:
    """`contacts` contacts of current PPOs over the last two years (the heavy PPO's
    `heavy_contacts` among them), each by the person's key worker at the probation
    service; none without a key worker to make them."""
    if not plan.key_worker or contacts <= 0:
        return
    rng = plan.rng
    now = dt.datetime.combine(plan.as_of, dt.time(hour=12), tzinfo=dt.UTC)
    kinds, kind_weights = list(CONTACT_KINDS), list(CONTACT_KINDS.values())
    outcomes, outcome_weights = list(CONTACT_OUTCOMES), list(CONTACT_OUTCOMES.values())
    heavy = plan.heavy_contacts if plan.heavy is not None else 0
    others = [index for index in plan.ppos if index != plan.heavy]
    who = [plan.heavy] * min(heavy, contacts) + rng.choices(
        others or plan.ppos, k=max(0, contacts - heavy)
    )
    created = timezone.now()
    for index in who:
        assert index is not None
        at = now - dt.timedelta(seconds=rng.randint(3_600, 730 * 86_400))
        kind = rng.choices(kinds, kind_weights)[0]
        yield (
            plan.ids[index],
            plan.key_worker[index],
            probation,
            at,
            kind,
            kind != "phone",
            rng.choices(outcomes, outcome_weights)[0],
            "",
            False,
            created,
        )


CONTACT_COLUMNS = [
    ("offender_id", "bigint"),
    ("worker_id", "int4"),
    ("agency_id", "bigint"),
    ("occurred_at", "timestamptz"),
    ("kind", "varchar"),
    ("face_to_face", "bool"),
    ("outcome", "varchar"),
    ("note", "text"),
    ("enforcement_flagged", "bool"),
    ("created_at", "timestamptz"),
]


def _staff(key_workers: int, probation: int) -> dict[str, int]:
    """A PPO manager and `key_workers` key workers at the probation service (reused by
    username, memberships made once): usernames to user ids."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from access.models import Membership, Role

    if key_workers <= 0:
        return {}
    password = make_password(STAFF_PASSWORD)
    wanted = [(STAFF_MANAGER, Role.PPO_MANAGER)] + [
        (STAFF_KEY_WORKER.format(n), Role.KEY_WORKER) for n in range(1, key_workers + 1)
    ]
    ids: dict[str, int] = {}
    for username, role in wanted:
        user, _ = get_user_model().objects.get_or_create(
            username=username,
            defaults={"password": password, "first_name": "Bench", "last_name": username},
        )
        if not Membership.objects.filter(user=user).exists():
            Membership.objects.create(
                user=user, agency_id=probation, role=role, started_on=dt.date(2020, 1, 1)
            )
        ids[username] = user.pk
    return ids


# ---------------------------------------------------------------------------- build


def top_decile_share(counts: Iterable[int]) -> float:
    """The share of all events held by the most active tenth of people."""
    ordered = sorted(counts, reverse=True)
    total = sum(ordered)
    return sum(ordered[: max(1, len(ordered) // 10)]) / total if total else 0.0


def build(
    *,
    offenders: int = DEFAULT_OFFENDERS,
    events: int = DEFAULT_EVENTS,
    ppos: int = DEFAULT_PPOS,
    seed: int = 1,
    as_of: dt.date | None = None,
    force: bool = False,
    report: Callable[[str], None] = print,
    key_workers: int = 0,
    contacts: int = 0,
    heavy_events: int = 0,
    heavy_contacts: int = 0,
) -> Built:
    """Fill the migrated PostgreSQL database Django is connected to; see the module doc.

    The page benchmark's extras, all off by default: `key_workers` (a PPO manager and that
    many key workers at the probation service, the PPOs shared among them), `contacts`
    (of PPOs by their key workers; needs key workers) and a heavy PPO with `heavy_events`
    more events (out of `events`) and `heavy_contacts` of the contacts.

    Raises BuildRefused, with what to do, if the database is not one to fill."""
    as_of = as_of or timezone.localdate()
    if connection.in_atomic_block:
        raise BuildRefused("Call build() outside a transaction: it commits, then vacuums.")
    if ppos * 4 > offenders:
        raise BuildRefused("ppos must be at most a quarter of offenders")
    if contacts and not key_workers:
        raise BuildRefused("contacts need key workers to make them (key_workers=3)")
    if heavy_events > events:
        raise BuildRefused("heavy_events must be at most events")
    start = time.perf_counter()
    built = Built(as_of=as_of, agencies={})
    with transaction.atomic():
        _check_database(force)
        _execute("SET LOCAL synchronous_commit = off")
        # Check each COPY's foreign keys when it ends, not all 10 million at commit.
        _execute("SET CONSTRAINTS ALL IMMEDIATE")
        built.agencies = _agencies()
        built.staff = _staff(key_workers, built.agencies["probation"])
        plan = _Plan(
            offenders=offenders,
            events=events,
            ppos=ppos,
            seed=seed,
            as_of=as_of,
            key_workers=[pk for name, pk in built.staff.items() if name != STAFF_MANAGER],
            heavy_events=heavy_events,
            heavy_contacts=heavy_contacts,
        )
        built.heavy_ppo = plan.ids[plan.heavy] if plan.heavy is not None else None
        counts = [0] * offenders
        prisons = [built.agencies["prison_a"], built.agencies["prison_b"]]
        tests_by = [built.agencies["treatment"], built.agencies["probation"]]
        police, probation = built.agencies["police"], built.agencies["probation"]
        steps: list[tuple[str, list[tuple[str, str]], Iterable[Sequence[Any]]]] = [
            ("offenders_offender", OFFENDER_COLUMNS, _offender_rows(plan)),
            ("offenders_offenderstrand", STRAND_COLUMNS, _strand_rows(plan)),
            ("offenders_offendingevent", EVENT_COLUMNS, _event_rows(plan, police, counts)),
            ("offenders_programmeepisode", PROGRAMME_COLUMNS, _programme_rows(plan)),
            ("offenders_custodyepisode", CUSTODY_COLUMNS, _custody_rows(plan, prisons)),
            ("offenders_drugtest", DRUG_TEST_COLUMNS, _drug_test_rows(plan, tests_by)),
            ("selection_riskassessment", RISK_COLUMNS, _risk_rows(plan, probation)),
            ("offenders_contact", CONTACT_COLUMNS, _contact_rows(plan, contacts, probation)),
        ]
        for table, columns, rows in steps:
            began = time.perf_counter()
            written = _copy(table, columns, rows)
            seconds = time.perf_counter() - began
            built.rows[table] = written
            built.seconds[table] = seconds
            report(
                f"  {table:<28} {written:>10,} rows {seconds:7.1f} s {written / seconds:>9,.0f}/s"
            )
        # Later inserts (the app, other benchmarks) take ids after ours.
        _execute(
            "SELECT setval(pg_get_serial_sequence('offenders_offender', 'id'), "
            "(SELECT MAX(id) FROM offenders_offender))"
        )
        began = time.perf_counter()
    built.seconds["commit"] = time.perf_counter() - began
    report(f"  {'commit':<28} {'':>15} {built.seconds['commit']:7.1f} s")
    began = time.perf_counter()
    for table in TABLES:
        _execute(f"VACUUM (ANALYZE) {table}")
    built.seconds["vacuum analyze"] = time.perf_counter() - began
    report(f"  {'vacuum analyze':<28} {'':>15} {built.seconds['vacuum analyze']:7.1f} s")
    built.seconds["total"] = time.perf_counter() - start
    built.top_decile_share = top_decile_share(counts)
    return built


def describe(as_of: dt.date | None = None) -> Built:
    """What an already-built database holds (for benchmarks run with --no-build)."""
    agencies = {
        key: rows[0][0]
        for key, name, _ in AGENCIES
        if (rows := _execute("SELECT id FROM access_agency WHERE name = %s", [name]))
    }
    built = Built(as_of=as_of or timezone.localdate(), agencies=agencies)
    for table in TABLES:
        # The planner's estimate after ANALYZE: exact counts of 8 million rows take seconds.
        built.rows[table] = int(
            _execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [table])[0][0]
        )
    return built


def most_active(limit: int) -> list[int]:
    """The `limit` people with the most offending events (any date), most first."""
    rows = _execute(
        "SELECT offender_id FROM offenders_offendingevent GROUP BY offender_id "
        "ORDER BY count(*) DESC, offender_id LIMIT %s",
        [limit],
    )
    return [pk for (pk,) in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="0.01 for a quick check")
    parser.add_argument("--offenders", type=int, help="default 680,000 × scale")
    parser.add_argument("--events", type=int, help="default 8,000,000 × scale")
    parser.add_argument("--ppos", type=int, help="default 8,000 × scale")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--force", action="store_true", help="empty the builder's tables first")
    parser.add_argument("--key-workers", type=int, default=0, help="staff for the pages (0)")
    parser.add_argument("--contacts", type=int, default=0, help="contacts of PPOs (0)")
    parser.add_argument("--heavy-events", type=int, default=0, help="one PPO's extra events")
    parser.add_argument("--heavy-contacts", type=int, default=0, help="its share of contacts")
    args = parser.parse_args()
    wanted = sizes(args.scale)
    for name in wanted:
        if getattr(args, name) is not None:
            wanted[name] = getattr(args, name)
    print(
        f"building {wanted['offenders']:,} offenders, {wanted['events']:,} events, "
        f"{wanted['ppos']:,} PPOs (seed {args.seed}) in {connection.settings_dict['NAME']}"
    )
    try:
        built = build(
            **wanted,
            seed=args.seed,
            force=args.force,
            key_workers=args.key_workers,
            contacts=args.contacts,
            heavy_events=args.heavy_events,
            heavy_contacts=args.heavy_contacts,
        )
    except BuildRefused as refused:
        print(f"refused: {refused}", file=sys.stderr)
        return 2
    print(
        f"built in {built.seconds['total']:.1f} s; as of {built.as_of}; the most active "
        f"tenth of people hold {built.top_decile_share:.1%} of events"
    )
    print(f"load average {' '.join(f'{n:.1f}' for n in os.getloadavg())} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
