#!/usr/bin/env python
"""Benchmark: render the agenda PDF of a 40-PPO case conference.

    .venv/bin/python benchmarks/agenda_pdf.py [--people 40] [--runs 3]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ppo_case \\
        .venv/bin/python benchmarks/agenda_pdf.py

The goal (issue 9, "Done when"): the agenda PDF of a 40-PPO conference renders with
WeasyPrint in under 5 seconds on this machine. The script builds a throwaway conference —
40 invented PPOs, each with a quarter's offending events, contacts and drug tests, needs on
the eight pathways and actions, a closed conference three months ago — then times
`conferences.agenda.agenda_pdf(...).pdf` (the whole read, scoped and audited, plus
WeasyPrint) `--runs` times and prints the best and median times and the number of queries
of one run. It exits 1 if the best run misses the goal.

It leaves nothing behind: everything happens inside one transaction that is rolled back
at the end. The database must be migrated (`manage.py migrate`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ppo_case.settings.local")
os.environ.setdefault("DJANGO_DEBUG", "false")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from access.models import Agency, AgencyKind, Membership, Role  # noqa: E402
from conferences.agenda import agenda_pdf  # noqa: E402
from conferences.models import (  # noqa: E402
    Attendance,
    CaseConference,
    ConferencePerson,
    ConferenceStatus,
)
from offenders.models import (  # noqa: E402
    Contact,
    DrugTest,
    EventKind,
    OffenceCategory,
    Offender,
    OffendingEvent,
    ProgrammeEpisode,
    ProgrammeKind,
)
from pathways.models import Action, ActionStatus, Need, NeedLevel, Pathway  # noqa: E402

GOAL_SECONDS = 5.0
SYLLABLES = ("bra", "dov", "fen", "gil", "hask", "jor", "kel", "lun", "mav", "nor", "pell")


class Rollback(Exception):
    pass


def name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize()


def build(people: int, rng: random.Random) -> tuple[object, CaseConference]:
    """The synthetic conference (bulk_create throughout); returns (manager, conference)."""
    today = timezone.localdate()
    tag = f"bench-agenda-{time.time_ns()}"
    probation = Agency.objects.create(name=f"{tag} probation", kind=AgencyKind.PROBATION)
    police = Agency.objects.create(name=f"{tag} police", kind=AgencyKind.POLICE)
    housing = Agency.objects.create(name=f"{tag} housing", kind=AgencyKind.HOUSING)
    manager = get_user_model().objects.create_user(f"{tag}-manager", first_name="Bench")
    Membership.objects.create(
        user=manager, agency=probation, role=Role.PPO_MANAGER, started_on=dt.date(2020, 1, 1)
    )
    category, _ = OffenceCategory.objects.get_or_create(
        name="Shoplifting", defaults={"harm_weight": 1}
    )
    offenders = Offender.objects.bulk_create(
        Offender(
            first_name=name(rng),
            last_name=name(rng),
            date_of_birth=dt.date(1985 + n % 15, 1 + n % 12, 1 + n % 28),
            key_worker=manager,
        )
        for n in range(people)
    )
    ProgrammeEpisode.objects.bulk_create(
        ProgrammeEpisode(offender=o, kind=ProgrammeKind.PPO, selected_on=dt.date(2024, 1, 1))
        for o in offenders
    )
    last = today - dt.timedelta(days=91)
    kinds = [EventKind.ARREST, EventKind.CHARGE, EventKind.INTELLIGENCE, EventKind.CONVICTION]
    events, contacts, tests, needs, actions = [], [], [], [], []
    pathways = list(Pathway.objects.order_by("order"))
    for n, offender in enumerate(offenders):
        for i in range(10):
            kind = kinds[i % len(kinds)]
            events.append(
                OffendingEvent(
                    offender=offender,
                    kind=kind,
                    category=None if kind == EventKind.INTELLIGENCE else category,
                    occurred_on=last + dt.timedelta(days=1 + rng.randrange(88)),
                    recorded_on=today,
                    source_agency=police,
                    source_reference=f"{tag}-{n}-{i}",
                )
            )
        for day in range(0, 90, 2):
            contacts.append(
                Contact(
                    offender=offender,
                    worker=manager,
                    agency=probation,
                    occurred_at=timezone.now() - dt.timedelta(days=day, hours=rng.randrange(8)),
                )
            )
        for day in range(0, 90, 4):
            tests.append(
                DrugTest(
                    offender=offender,
                    agency=probation,
                    tested_at=timezone.now() - dt.timedelta(days=day),
                )
            )
        for pathway in pathways:
            for set_on in (last - dt.timedelta(days=30), today - dt.timedelta(days=10)):
                needs.append(
                    Need(
                        offender=offender,
                        pathway=pathway,
                        level=rng.choice(NeedLevel.values),
                        set_on=set_on,
                        set_by=manager,
                        set_by_agency=probation,
                    )
                )
        for i in range(6):
            done = i % 3 == 0
            actions.append(
                Action(
                    offender=offender,
                    pathway=pathways[i % len(pathways)],
                    description=f"Synthetic action {i} for the {pathways[i].name} pathway",
                    owner_agency=housing if i % 2 else probation,
                    due_on=today + dt.timedelta(days=rng.randrange(-30, 60)),
                    status=ActionStatus.DONE if done else ActionStatus.OPEN,
                    outcome="Done" if done else "",
                    finished_on=today - dt.timedelta(days=5) if done else None,
                    created_on=last,
                )
            )
    OffendingEvent.objects.bulk_create(events)
    Contact.objects.bulk_create(contacts)
    DrugTest.objects.bulk_create(tests)
    Need.objects.bulk_create(needs)
    Action.objects.bulk_create(actions)
    past = CaseConference.objects.create(
        held_on=last, chair=manager, created_by=manager, status=ConferenceStatus.CLOSED
    )
    ConferencePerson.objects.bulk_create(
        ConferencePerson(conference=past, offender=o, order=n, frozen_plan={})
        for n, o in enumerate(offenders)
    )
    conference = CaseConference.objects.create(held_on=today, chair=manager, created_by=manager)
    ConferencePerson.objects.bulk_create(
        ConferencePerson(conference=conference, offender=o, order=n + 1)
        for n, o in enumerate(offenders)
    )
    Attendance.objects.bulk_create(
        Attendance(conference=conference, agency=a) for a in (probation, police, housing)
    )
    return manager, conference


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--people", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(f"Database: {connection.vendor}")
    timings: list[float] = []
    queries = 0
    size = 0
    try:
        with transaction.atomic():
            manager, conference = build(args.people, random.Random(args.seed))
            for run in range(args.runs):
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    document = agenda_pdf(user=manager, conference_id=conference.pk)
                    size = len(document.pdf)
                    timings.append(time.perf_counter() - started)
                if run == 0:
                    queries = len(captured)
            raise Rollback
    except Rollback:
        pass
    best, median = min(timings), statistics.median(timings)
    print(
        f"Agenda PDF, {args.people} PPOs: best {best:.2f} s, median {median:.2f} s "
        f"over {args.runs} runs; {queries} queries a run; {size / 1024:.0f} KB"
    )
    if best > GOAL_SECONDS:
        print(f"MISSED the goal of {GOAL_SECONDS:.0f} s")
        return 1
    print(f"Within the goal of {GOAL_SECONDS:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
