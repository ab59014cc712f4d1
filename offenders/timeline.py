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
from django.utils.dates import MONTHS

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
    # Worked out once for the items a page shows (`_dated`), not by template filters per row:
    # the <time> element's machine-readable value and the words shown.
    datetime_value: str = ""
    shown_at: str = ""


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


ONE_DAY = dt.timedelta(days=1)


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _dated(item: TimelineItem) -> TimelineItem:
    """The item's date (and time) as the page shows it, in local time: "3 June 2025 at
    2:05pm", and ISO 8601 for the <time> element (the `date` filter's "c" and "Y-m-d")."""
    local = timezone.localtime(item.at)
    day = f"{local.day} {MONTHS[local.month]} {local.year}"
    if item.has_time:
        hour = local.hour % 12 or 12
        item.datetime_value = local.isoformat()
        item.shown_at = f"{day} at {hour}:{local.minute:02d}{'pm' if local.hour > 11 else 'am'}"
    else:
        item.datetime_value = local.date().isoformat()
        item.shown_at = day
    return item


def _who_named(first: str | None, last: str | None, username: str | None, agency: str) -> str:
    """Who recorded it: the user's full name (or username, none when there is no user) and
    the agency's name."""
    name = (f"{first} {last}".strip() or username or "") if username is not None else ""
    return ", ".join(part for part in (name, agency or "") if part)


def _labels(model: Any, name: str) -> dict[Any, str]:
    """A field's choices as shown (`get_FOO_display` without a model instance)."""
    return {value: str(label) for value, label in model._meta.get_field(name).flatchoices}


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


def _at_within(qs: Any, moment: str, date_from: dt.date | None, date_to: dt.date | None) -> Any:
    """Records whose moment falls on a local day of the period, as a range of local
    midnights (the person's index on the moment serves it; `__date` would not)."""
    if date_to is not None and date_to < dt.date.max:
        qs = qs.filter(**{f"{moment}__lt": _start_of(date_to + ONE_DAY)})
    if date_from is not None:
        qs = qs.filter(**{f"{moment}__gte": _start_of(date_from)})
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

    # Each kind is read as the columns the items need (no model objects), newest first:
    # ORDER BY the moment DESC, id DESC with a LIMIT, which the person's index on the
    # moment serves walking backwards, so a page costs the same whatever the history.
    if {"offending", "intelligence"} & selected:
        events = OffendingEvent.objects.filter(offender=offender).filter(offending_events_q(actor))
        if "offending" not in selected:
            events = events.filter(kind="intelligence")
        if "intelligence" not in selected:
            events = events.exclude(kind="intelligence")
        events = _within(events, "occurred_on", None, date_from, date_to)
        event_kinds = _labels(OffendingEvent, "kind")
        for (
            kind,
            occurred_on,
            summary,
            reference,
            recorded_on,
            category,
            source,
            first,
            last,
            username,
        ) in _newest(
            events.values_list(
                "kind",
                "occurred_on",
                "summary",
                "source_reference",
                "recorded_on",
                "category__name",
                "source_agency__name",
                "recorded_by__first_name",
                "recorded_by__last_name",
                "recorded_by__username",
            ),
            "offending",
            truncated,
            limit,
            more,
        ):
            label = event_kinds.get(kind, kind)
            items.append(
                TimelineItem(
                    kind="intelligence" if kind == "intelligence" else "offending",
                    at=_start_of(occurred_on),
                    has_time=False,
                    title=f"{label}{f': {category}' if category is not None else ''}",
                    byline=_who_named(first, last, username, source) or source,
                    description=summary
                    or f"Reference {reference}, recorded {recorded_on:%-d %B %Y}",
                )
            )
    if "contact" in selected:
        contacts = Contact.objects.filter(offender=offender).filter(
            records_q(actor, RecordKind.CONTACTS, "offenders.contact")
        )
        contacts = _at_within(contacts, "occurred_at", date_from, date_to)
        outcomes, contact_kinds = _labels(Contact, "outcome"), _labels(Contact, "kind")
        for (
            occurred_at,
            kind,
            outcome,
            face_to_face,
            flagged,
            note,
            first,
            last,
            username,
            agency,
        ) in _newest(
            contacts.values_list(
                "occurred_at",
                "kind",
                "outcome",
                "face_to_face",
                "enforcement_flagged",
                "note",
                "worker__first_name",
                "worker__last_name",
                "worker__username",
                "agency__name",
            ),
            "contact",
            truncated,
            limit,
            more,
        ):
            tags = [
                (
                    outcomes.get(outcome, outcome),
                    "green"
                    if outcome == ContactOutcome.ATTENDED
                    else "red"
                    if outcome == ContactOutcome.FAILED
                    else "yellow",
                )
            ]
            if flagged:
                tags.append(("Fast-track breach or recall", "red"))
            items.append(
                TimelineItem(
                    kind="contact",
                    at=occurred_at,
                    title=f"Contact: {contact_kinds.get(kind, kind).lower()}"
                    + ("" if face_to_face else " (not face to face)"),
                    byline=_who_named(first, last, username, agency),
                    description=note,
                    tags=tags,
                )
            )
    if "drug_test" in selected:
        tests = DrugTest.objects.filter(offender=offender).filter(
            records_q(actor, RecordKind.DRUG_TESTS, "offenders.drugtest")
        )
        tests = _at_within(tests, "tested_at", date_from, date_to)
        results = _labels(DrugTest, "result")
        for tested_at, result, substances, first, last, username, agency in _newest(
            tests.values_list(
                "tested_at",
                "result",
                "substances",
                "tester__first_name",
                "tester__last_name",
                "tester__username",
                "agency__name",
            ),
            "drug_test",
            truncated,
            limit,
            more,
        ):
            shown = results.get(result, result)
            items.append(
                TimelineItem(
                    kind="drug_test",
                    at=tested_at,
                    title=f"Drug test: {shown.lower()}",
                    byline=_who_named(first, last, username, agency),
                    description=substances,
                    tags=[(shown, "red" if result == "positive" else "grey")],
                )
            )
    if "custody" in selected:
        custody = CustodyEpisode.objects.filter(offender=offender).filter(
            records_q(actor, RecordKind.CUSTODY, "offenders.custodyepisode")
        )
        custody = _within(custody, "started_on", "released_on", date_from, date_to)
        supervision = _labels(CustodyEpisode, "supervision_on_release")
        for (
            custody_kind,
            started_on,
            released_on,
            months,
            expected_release_on,
            on_release,
            establishment,
        ) in _newest(
            custody.values_list(
                "kind",
                "started_on",
                "released_on",
                "sentence_length_months",
                "expected_release_on",
                "supervision_on_release",
                "establishment__name",
            ),
            "custody",
            truncated,
            limit,
            more,
        ):
            length = f", {months} months" if months else ""
            start_title = f"{'Remanded' if custody_kind == 'remand' else 'Sentenced'}{length}"
            detail = establishment
            if expected_release_on and not released_on:
                detail = f"{detail}. Expected release {expected_release_on:%-d %B %Y}".lstrip(". ")
            items.append(
                TimelineItem(
                    "custody",
                    _start_of(started_on),
                    start_title,
                    description=detail,
                    has_time=False,
                )
            )
            if released_on:
                items.append(
                    TimelineItem(
                        "custody",
                        _start_of(released_on),
                        "Released from custody",
                        description=supervision.get(on_release, on_release),
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
        programmes = _labels(ProgrammeEpisode, "kind")
        reasons = _labels(ProgrammeEpisode, "deselection_reason")
        routes = _labels(ProgrammeEpisode, "exit_route")
        for programme, selected_on, decision, deselected_on, reason, route in _newest(
            spells_on_scheme.values_list(
                "kind",
                "selected_on",
                "selection_decision",
                "deselected_on",
                "deselection_reason",
                "exit_route",
            ),
            "programme",
            truncated,
            limit,
            more,
        ):
            label = programmes.get(programme, programme)
            items.append(
                TimelineItem(
                    "programme",
                    _start_of(selected_on),
                    f"Selected as a {label}",
                    description=decision,
                    has_time=False,
                )
            )
            if deselected_on:
                items.append(
                    TimelineItem(
                        "programme",
                        _start_of(deselected_on),
                        f"De-selected as a {label}",
                        description=" – ".join(
                            x for x in (reasons.get(reason, reason), routes.get(route, route)) if x
                        ),
                        has_time=False,
                    )
                )
    if "grade" in selected:
        changes = _at_within(
            GradeChange.objects.filter(offender=offender), "changed_at", date_from, date_to
        )
        from_grades, to_grades = (
            _labels(GradeChange, "from_grade"),
            _labels(GradeChange, "to_grade"),
        )
        for changed_at, from_grade, to_grade, reason, first, last, username, agency in _newest(
            changes.values_list(
                "changed_at",
                "from_grade",
                "to_grade",
                "reason",
                "changed_by__first_name",
                "changed_by__last_name",
                "changed_by__username",
                "agency__name",
            ),
            "grade",
            truncated,
            limit,
            more,
        ):
            items.append(
                TimelineItem(
                    "grade",
                    changed_at,
                    f"IOM grade changed from {from_grades.get(from_grade, from_grade) or 'none'}"
                    f" to {to_grades.get(to_grade, to_grade)}",
                    byline=_who_named(first, last, username, agency),
                    description=reason,
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
    items = [_dated(item) for item in items[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]]
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
