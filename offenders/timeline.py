"""One timeline of everything that happened to a person, as the viewer may see it.

Each kind of record is read with its own policy filter (one query per kind, so the
number of queries does not grow with the record), then merged newest first.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils import timezone

from access import audit
from access.policy import RecordKind, as_actor, grant, offending_events_q, records_q, visible_fields

from .models import (
    Contact,
    ContactOutcome,
    CustodyEpisode,
    DrugTest,
    GradeChange,
    OffendingEvent,
    ProgrammeEpisode,
)
from .selectors import (
    CUSTODY_HISTORY_FIELDS,
    CustodySummary,
    custody_summary,
    offender_get,
    offending_counts_only,
)

# The kinds a viewer can filter by, in the order the filter shows them.
TIMELINE_KINDS = {
    "offending": "Offending",
    "intelligence": "Intelligence",
    "contact": "Contacts",
    "drug_test": "Drug tests",
    "custody": "Custody",
    "programme": "Scheme selection",
    "grade": "IOM grade",
}
PER_KIND_LIMIT = 200
# Items on one page of the timeline. Page n reads at most min(n × PAGE_SIZE, PER_KIND_LIMIT) + 1
# rows of each kind (one query per kind whatever the page), merges them and shows its slice.
PAGE_SIZE = 50


@dataclass
class TimelineItem:
    kind: str
    at: dt.datetime
    title: str
    byline: str = ""
    description: str = ""
    tags: list[tuple[str, str]] = field(default_factory=list)  # (text, govuk-tag modifier)
    has_time: bool = True


@dataclass
class Timeline:
    offender: Any
    items: list[TimelineItem]
    available_kinds: dict[str, str]
    selected_kinds: set[str]
    counts_only: dict[str, int]
    # Kinds with more records in the period than the page shows (newest kept).
    truncated: list[str] = field(default_factory=list)
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    per_kind_limit: int = 0
    # In custody yes or no and the release date, for a viewer who may not see the history.
    custody_summary: CustodySummary | None = None
    page: int = 1
    has_next: bool = False

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _who(user: Any, agency: Any) -> str:
    name = (user.get_full_name() or user.username) if user else ""
    return ", ".join(part for part in (name, getattr(agency, "name", "")) if part)


def _within(
    qs: Any, start: str, end: str | None, date_from: dt.date | None, date_to: dt.date | None
) -> Any:
    """Records overlapping the period: starting on or before `date_to` and (ending, or
    starting if there is no end) on or after `date_from`."""
    if date_to is not None:
        qs = qs.filter(**{f"{start}__lte": date_to})
    if date_from is not None:
        if end is None:
            qs = qs.filter(**{f"{start}__gte": date_from})
        else:
            qs = qs.filter(Q(**{f"{end}__gte": date_from}) | Q(**{f"{end}__isnull": True}))
    return qs


def _newest(qs: Any, kind: str, truncated: list[str], limit: int, more: list[str]) -> list[Any]:
    """At most `limit` records, newest first; one more is read to know if any are left: past
    PER_KIND_LIMIT the kind is `truncated` (choose a period), below it there is a next page."""
    rows = list(qs[: limit + 1])
    if len(rows) > limit:
        (truncated if limit >= PER_KIND_LIMIT else more).append(TIMELINE_KINDS[kind])
    return rows[:limit]


def offender_timeline(
    *,
    user: Any,
    pk: Any,
    kinds: set[str] | None = None,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    page: int = 1,
) -> Timeline:
    actor = as_actor(user)
    truncated: list[str] = []
    more: list[str] = []
    page = max(page, 1)
    limit = min(page * PAGE_SIZE, PER_KIND_LIMIT)
    offender = offender_get(user=actor, pk=pk)
    available: dict[str, str] = {}
    if grant(actor, RecordKind.OFFENDING).can_read:
        available["offending"] = TIMELINE_KINDS["offending"]
    if grant(actor, RecordKind.INTELLIGENCE).can_read:
        available["intelligence"] = TIMELINE_KINDS["intelligence"]
    for key, kind in (
        ("contact", RecordKind.CONTACTS),
        ("drug_test", RecordKind.DRUG_TESTS),
        ("programme", RecordKind.SELECTION),
    ):
        if grant(actor, kind).can_read:
            available[key] = TIMELINE_KINDS[key]
    # Dates into and out of custody are the custody history: only for those who may see
    # it. A partner sees in custody yes or no and the release date, on the profile.
    custody_fields = visible_fields(actor, RecordKind.CUSTODY)
    if custody_fields >= CUSTODY_HISTORY_FIELDS:
        available["custody"] = TIMELINE_KINDS["custody"]
    if "iom_grade" in visible_fields(actor, RecordKind.IDENTITY):
        available["grade"] = TIMELINE_KINDS["grade"]
    selected = (kinds & set(available)) if kinds else set(available)
    items: list[TimelineItem] = []

    if {"offending", "intelligence"} & selected:
        events = (
            OffendingEvent.objects.filter(offender=offender)
            .filter(offending_events_q(actor))
            .select_related("category", "source_agency", "recorded_by")
        )
        if "offending" not in selected:
            events = events.filter(kind="intelligence")
        if "intelligence" not in selected:
            events = events.exclude(kind="intelligence")
        events = _within(events, "occurred_on", None, date_from, date_to)
        for e in _newest(events, "offending", truncated, limit, more):
            items.append(
                TimelineItem(
                    kind="intelligence" if e.kind == "intelligence" else "offending",
                    at=_start_of(e.occurred_on),
                    has_time=False,
                    title=f"{e.get_kind_display()}{f': {e.category.name}' if e.category else ''}",
                    byline=_who(e.recorded_by, e.source_agency) or e.source_agency.name,
                    description=e.summary
                    or f"Reference {e.source_reference}, recorded {e.recorded_on:%-d %B %Y}",
                )
            )
    if "contact" in selected:
        contacts = (
            Contact.objects.filter(offender=offender)
            .filter(records_q(actor, RecordKind.CONTACTS, "offenders.contact"))
            .select_related("worker", "agency")
        )
        contacts = _within(contacts, "occurred_at__date", None, date_from, date_to)
        for c in _newest(contacts, "contact", truncated, limit, more):
            tags = [
                (
                    c.get_outcome_display(),
                    "green"
                    if c.outcome == ContactOutcome.ATTENDED
                    else "red"
                    if c.outcome == ContactOutcome.FAILED
                    else "yellow",
                )
            ]
            if c.enforcement_flagged:
                tags.append(("Fast-track breach or recall", "red"))
            items.append(
                TimelineItem(
                    kind="contact",
                    at=c.occurred_at,
                    title=f"Contact: {c.get_kind_display().lower()}"
                    + ("" if c.face_to_face else " (not face to face)"),
                    byline=_who(c.worker, c.agency),
                    description=c.note,
                    tags=tags,
                )
            )
    if "drug_test" in selected:
        tests = (
            DrugTest.objects.filter(offender=offender)
            .filter(records_q(actor, RecordKind.DRUG_TESTS, "offenders.drugtest"))
            .select_related("tester", "agency")
        )
        tests = _within(tests, "tested_at__date", None, date_from, date_to)
        for t in _newest(tests, "drug_test", truncated, limit, more):
            items.append(
                TimelineItem(
                    kind="drug_test",
                    at=t.tested_at,
                    title=f"Drug test: {t.get_result_display().lower()}",
                    byline=_who(t.tester, t.agency),
                    description=t.substances,
                    tags=[(t.get_result_display(), "red" if t.result == "positive" else "grey")],
                )
            )
    if "custody" in selected:
        custody = (
            CustodyEpisode.objects.filter(offender=offender)
            .filter(records_q(actor, RecordKind.CUSTODY, "offenders.custodyepisode"))
            .select_related("establishment")
        )
        custody = _within(custody, "started_on", "released_on", date_from, date_to)
        for spell in _newest(custody, "custody", truncated, limit, more):
            length = (
                f", {spell.sentence_length_months} months" if spell.sentence_length_months else ""
            )
            start_title = f"{'Remanded' if spell.kind == 'remand' else 'Sentenced'}{length}"
            detail = spell.establishment.name
            if spell.expected_release_on and not spell.released_on:
                detail = f"{detail}. Expected release {spell.expected_release_on:%-d %B %Y}".lstrip(
                    ". "
                )
            items.append(
                TimelineItem(
                    "custody",
                    _start_of(spell.started_on),
                    start_title,
                    description=detail,
                    has_time=False,
                )
            )
            if spell.released_on:
                items.append(
                    TimelineItem(
                        "custody",
                        _start_of(spell.released_on),
                        "Released from custody",
                        description=spell.get_supervision_on_release_display(),
                        has_time=False,
                    )
                )
    if "programme" in selected:
        spells_on_scheme = ProgrammeEpisode.objects.filter(offender=offender).filter(
            records_q(actor, RecordKind.SELECTION, "offenders.programmeepisode")
        )
        spells_on_scheme = _within(
            spells_on_scheme, "selected_on", "deselected_on", date_from, date_to
        )
        for p in _newest(spells_on_scheme, "programme", truncated, limit, more):
            items.append(
                TimelineItem(
                    "programme",
                    _start_of(p.selected_on),
                    f"Selected as a {p.get_kind_display()}",
                    description=p.selection_decision,
                    has_time=False,
                )
            )
            if p.deselected_on:
                items.append(
                    TimelineItem(
                        "programme",
                        _start_of(p.deselected_on),
                        f"De-selected as a {p.get_kind_display()}",
                        description=" – ".join(
                            x
                            for x in (
                                p.get_deselection_reason_display(),
                                p.get_exit_route_display(),
                            )
                            if x
                        ),
                        has_time=False,
                    )
                )
    if "grade" in selected:
        changes = GradeChange.objects.filter(offender=offender).select_related(
            "changed_by", "agency"
        )
        changes = _within(changes, "changed_at__date", None, date_from, date_to)
        for g in _newest(changes, "grade", truncated, limit, more):
            items.append(
                TimelineItem(
                    "grade",
                    g.changed_at,
                    f"IOM grade changed from {g.get_from_grade_display() or 'none'}"
                    f" to {g.get_to_grade_display()}",
                    byline=_who(g.changed_by, g.agency),
                    description=g.reason,
                )
            )

    # Newest first; a dated-only record sorts after timed records of the same day.
    items.sort(key=lambda i: (timezone.localtime(i.at).date(), i.has_time, i.at), reverse=True)
    counts_only = offending_counts_only(actor, offender)
    audit.viewed(
        actor,
        offender,
        shown=sorted(selected),
        view="timeline",
        page=page,
        period=[str(date_from or ""), str(date_to or "")],
    )
    if date_from or date_to:
        # Items of a spell that overlaps the period can fall outside it (a release after it).
        items = [
            i
            for i in items
            if (date_from is None or timezone.localtime(i.at).date() >= date_from)
            and (date_to is None or timezone.localtime(i.at).date() <= date_to)
        ]
    has_next = bool(more) or len(items) > page * PAGE_SIZE
    items = items[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    summary = None
    if custody_fields and "custody" not in available:
        summary = custody_summary(actor, offender, fields=custody_fields)
    return Timeline(
        offender,
        items,
        available,
        selected,
        counts_only,
        truncated,
        date_from,
        date_to,
        PER_KIND_LIMIT,
        summary,
        page,
        has_next,
    )
