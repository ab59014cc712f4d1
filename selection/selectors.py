"""Reads for selection: runs, their rankings and explanations, what-if comparisons.

Every read is given the requesting user and returns only what the policy lets them see:
the selection record kind (ACCESS.md "selection scores, panel decisions, reviews": the
PPO manager, key workers and police read; YOT reads its own people; prison staff and
partners nothing) and, within a run, only the people in the reader's scope. Whatever
names a person is audited as a consultation (or, for a CSV, an export).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet

from access import audit
from access.errors import OutOfScope, Refused
from access.models import AuditAction, Scheme
from access.policy import RecordKind, as_actor, grant, people, people_q

from .models import MatrixStatus, MatrixVersion, RunEntry, SelectionRun
from .scoring import PersonScore, score_pool

RUN = "selection.selectionrun"
OFFENDER = "offenders.offender"
# 003 §4.3: "15 to 20 PPOs in smaller CDRP/CSP areas; but 60 to 100 in larger areas" —
# a minimum ambition for offenders tackled in the community, not a ceiling.
GUIDANCE_SMALL_AREA = (15, 20)
GUIDANCE_LARGE_AREA = (60, 100)


def selection_reader(user: Any, record_type: str = RUN, record_id: Any = "") -> Any:
    """The actor, if their role reads selection records (ACCESS.md "selection scores,
    panel decisions, reviews"); otherwise a 403, audited. Every selection page asks this."""
    actor = as_actor(user)
    if not grant(actor, RecordKind.SELECTION).can_read:
        raise Refused(record_type, record_id, "role does not read selection")
    return actor


def _reader(user: Any) -> Any:
    return selection_reader(user)


def record_id(value: Any) -> int | None:
    """A record number from a URL or form, or None: never one the database cannot hold."""
    text = str(value)
    if not text.isdigit() or len(text) > 18:
        return None
    return int(text)


_record_id = record_id


def matrix_list(*, user: Any) -> QuerySet[MatrixVersion]:
    _reader(user)
    return (
        MatrixVersion.objects.select_related("adopted_by", "created_by")
        .annotate(
            criteria_count=Count("criteria", distinct=True),
            run_count=Count("runs", distinct=True),
        )
        .order_by("-number")
    )


def matrix_get(*, user: Any, version_id: Any) -> MatrixVersion:
    """One matrix version with its criteria (no personal data: not audited)."""
    _reader(user)
    pk = _record_id(version_id)
    version = (
        MatrixVersion.objects.select_related("adopted_by", "created_by")
        .prefetch_related("criteria__category")
        .filter(pk=pk)
        .first()
        if pk is not None
        else None
    )
    if version is None:
        raise OutOfScope("selection.matrixversion", version_id)
    return version


def adopted_matrix(*, user: Any) -> MatrixVersion | None:
    _reader(user)
    return (
        MatrixVersion.objects.filter(status=MatrixStatus.ADOPTED)
        .annotate(criteria_count=Count("criteria"))
        .first()
    )


def run_list(*, user: Any) -> QuerySet[SelectionRun]:
    """Past runs, with how many people each listed (a count: names no one)."""
    _reader(user)
    return (
        SelectionRun.objects.select_related("version", "run_by")
        .annotate(listed=Count("entries"))
        .order_by("-run_at", "-pk")
    )


@dataclass
class Balance:
    """003 §4.4: the community/custody balance, counting imminent releases as community."""

    community: int = 0
    due_out: int = 0
    custody: int = 0

    @property
    def community_share(self) -> Decimal:
        total = self.community + self.due_out + self.custody
        if not total:
            return Decimal(0)
        return (Decimal(100) * (self.community + self.due_out) / total).quantize(Decimal("0.1"))


@dataclass
class Ranking:
    run: SelectionRun
    entries: list[RunEntry]
    capacity: int
    # Entries not shown to this reader (outside their scope): counted, never named.
    not_shown: int = 0
    balance_now: Balance = field(default_factory=Balance)
    balance_proposed: Balance = field(default_factory=Balance)

    @property
    def guidance(self) -> str:
        small, large = GUIDANCE_SMALL_AREA, GUIDANCE_LARGE_AREA
        return (
            f"{small[0]}–{small[1]} in smaller areas, {large[0]}–{large[1]} in larger ones "
            "(a minimum for offenders tackled in the community, 003 §4.3)"
        )


def _balance(entries: list[tuple[bool, Any]]) -> Balance:
    """From (in custody, due out on) pairs: counts, naming no one."""
    balance = Balance()
    for in_custody, due_out_on in entries:
        if not in_custody:
            balance.community += 1
        elif due_out_on is not None:
            balance.due_out += 1
        else:
            balance.custody += 1
    return balance


def run_ranking(*, user: Any, run_id: Any) -> Ranking:
    """A saved run as this reader may see it; the people shown are audited."""
    actor = _reader(user)
    pk = _record_id(run_id)
    run = (
        SelectionRun.objects.select_related("version", "run_by").filter(pk=pk).first()
        if pk is not None
        else None
    )
    if run is None:
        audit.denied(actor, RUN, run_id, "no such run")
        raise OutOfScope(RUN, run_id)
    every = RunEntry.objects.filter(run=run)
    visible = list(
        every.filter(people_q(actor, prefix="offender__"))
        .select_related("offender")
        .order_by("rank")
    )
    capacity = run.capacity or Scheme.current().capacity_max
    # The balance is a count over the whole run (003 §4.4), the same for every reader: it
    # names no one, and a reader who sees part of the run still sees the scheme's balance.
    whole = list(
        every.order_by("rank").values_list("tier", "above_threshold", "in_custody", "due_out_on")
    )
    top = [(c, d) for _, above, c, d in whole if above][:capacity]
    ranking = Ranking(
        run=run,
        entries=visible,
        capacity=capacity,
        not_shown=len(whole) - len(visible),
        balance_now=_balance([(c, d) for tier, _, c, d in whole if tier == "ppo"]),
        balance_proposed=_balance(top),
    )
    audit.consulted(
        actor,
        "selection.runentry",
        visible,
        run=run.pk,
        view="selection ranking",
    )
    return ranking


def run_entry(*, user: Any, run_id: Any, offender_id: Any) -> RunEntry:
    """One person's score in a run, explained criterion by criterion."""
    actor = _reader(user)
    run_pk, offender_pk = _record_id(run_id), _record_id(offender_id)
    entry = (
        RunEntry.objects.filter(run_id=run_pk, offender_id=offender_pk)
        .filter(people_q(actor, prefix="offender__"))
        .select_related("run__version", "offender")
        .first()
        if run_pk is not None and offender_pk is not None
        else None
    )
    if entry is None:
        audit.denied(actor, OFFENDER, offender_id, "not in this run or outside scope")
        raise OutOfScope(OFFENDER, offender_id)
    audit.viewed(actor, entry.offender, view="score explanation", run=entry.run_id)
    return entry


def run_csv_rows(*, user: Any, run_id: Any) -> tuple[SelectionRun, list[list[str]]]:
    """The ranking as CSV rows (header first), through the same policy; an export."""
    actor = _reader(user)
    pk = _record_id(run_id)
    run = (
        SelectionRun.objects.select_related("version").filter(pk=pk).first()
        if pk is not None
        else None
    )
    if run is None:
        audit.denied(actor, RUN, run_id, "no such run")
        raise OutOfScope(RUN, run_id)
    entries = list(
        RunEntry.objects.filter(run=run)
        .filter(people_q(actor, prefix="offender__"))
        .select_related("offender")
        .order_by("rank")
    )
    header = ["rank", "name", "score", "above_threshold", "tier", "in_custody", "due_out_on"]
    labels: list[str] = []
    for entry in entries:
        for part in entry.explanation:
            if part["label"] not in labels:
                labels.append(part["label"])
    rows = [header + labels]
    for entry in entries:
        points = {part["label"]: part["points"] for part in entry.explanation}
        rows.append(
            [
                str(entry.rank),
                entry.offender.full_name,
                str(entry.score),
                "yes" if entry.above_threshold else "no",
                entry.tier or "pool",
                "yes" if entry.in_custody else "no",
                entry.due_out_on.isoformat() if entry.due_out_on else "",
                *(points.get(label, "") for label in labels),
            ]
        )
    audit.record(
        actor,
        AuditAction.EXPORT,
        record_type="selection.runentry",
        records=entries,
        offenders=[entry.offender_id for entry in entries],
        detail={"run": run.pk, "format": "csv"},
    )
    return run, rows


@dataclass
class WhatIf:
    draft: MatrixVersion
    adopted: MatrixVersion
    as_of: dt.date
    capacity: int
    entering: list[PersonScore]
    leaving: list[PersonScore]
    draft_top: list[PersonScore]


def what_if(*, user: Any, draft_id: Any, as_of: dt.date | None = None) -> WhatIf:
    """Who would enter and leave the top of the list (the scheme's capacity) if the draft
    were adopted, scored on the same data and day. The people named are audited."""
    from .services import may_change_selection

    actor = _reader(user)
    if not may_change_selection(actor):
        raise Refused(RUN, "", "role does not change the matrix")
    draft = MatrixVersion.objects.filter(
        pk=_record_id(draft_id) or 0, status=MatrixStatus.DRAFT
    ).first()
    adopted = MatrixVersion.objects.filter(status=MatrixStatus.ADOPTED).first()
    if draft is None or adopted is None:
        raise OutOfScope("selection.matrixversion", draft_id)
    as_of = as_of or actor.as_of
    capacity = Scheme.current().capacity_max
    pool = people(actor)

    def top(version: MatrixVersion) -> list[PersonScore]:
        scores = score_pool(people=pool, version=version, as_of=as_of, explain="none")
        return [s for s in scores if s.above_threshold][:capacity]

    draft_top, adopted_top = top(draft), top(adopted)
    draft_ids = {s.offender_id for s in draft_top}
    adopted_ids = {s.offender_id for s in adopted_top}
    result = WhatIf(
        draft=draft,
        adopted=adopted,
        as_of=as_of,
        capacity=capacity,
        entering=[s for s in draft_top if s.offender_id not in adopted_ids],
        leaving=[s for s in adopted_top if s.offender_id not in draft_ids],
        draft_top=draft_top,
    )
    shown = {s.offender_id for s in result.entering + result.leaving + result.draft_top}
    audit.record(
        actor,
        AuditAction.LIST,
        record_type=OFFENDER,
        records=shown,
        offenders=shown,
        detail={"view": "matrix what-if", "draft": draft.number, "adopted": adopted.number},
    )
    return result
