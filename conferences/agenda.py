"""The generated agenda of a case conference (001 §3.1, DESIGN.md "conferences"): per
person reviewed, what happened since their last conference, and the sections to record.

**The period** for each person runs from the day after their last *closed* conference
held before this one (and since their current selection), or — with none — from their
selection date, but no further back than `conference_interval_months` before the
conference (a person selected two years ago and never conferenced gets the last interval,
not two years). It ends on the conference day, or today for a conference still to come.

**Per person**: offending events and custody changes in the period; contact and drug-test
compliance in the complete weeks of the period against their tier's target
(`offenders.compliance`, the caseload's own rules); the action plan per pathway — actions
overdue, done in the period, need levels now and at the last conference (`pathways.selectors
.plans_for`; a closed conference shows the plan frozen when it closed instead); open
reviews (selection); core-group meetings in the period; and the record of the conference.

**Each reader's agenda respects the policy**: only the people on the conference in their
scope (a partner: the people referred to it; `conferences.selectors.visible_people`);
events they may read listed, those they may only count as a count by kind
(`access.policy.offending_events_q(count_only=True)`: a key worker sees intelligence
reports as a count; a partner sees offending only as counts and intelligence not at all);
custody only in the fields the policy gives them; compliance only for the roles it is
computed for (`offenders.compliance.can_see_compliance`); plans only for readers of plans;
reviews only for readers of selection records.

**A fixed number of queries** whatever the number of people; the need levels "then" are
each person's own, on the day before their period starts (their last conference), and the
page names that day for each person.

The page is audited as a consultation of the people shown, the PDF as an export of them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Max
from django.template.loader import render_to_string

from access import audit
from access.models import AuditAction, Scheme
from access.policy import (
    Actor,
    Read,
    RecordKind,
    grant,
    months_before,
    offending_events_q,
    records_q,
    visible_fields,
)
from offenders.compliance import (
    ComplianceTable,
    PeriodCompliance,
    can_see_compliance,
    monday_of,
    tally,
    weekly_compliance,
)
from offenders.models import (
    CustodyEpisode,
    EventKind,
    OffendingEvent,
    ProgrammeEpisode,
    ProgrammeKind,
)
from pathways.models import Action
from pathways.selectors import PersonPlan, is_done_since, plans_for
from ppo_case.pdf import render_pdf
from selection.review_selectors import detail_lines, is_overdue, may_read_reviews, open_reviews

from .models import Attendance, CaseConference, ConferencePerson, ConferenceStatus
from .selectors import (
    CORE_GROUP,
    OFFENDER,
    conference_for_reader,
    long_date,
    person_name,
    reader,
    shown_plan,
    visible_people,
)
from .services import may_run_conferences

ONE_DAY = dt.timedelta(days=1)
# Compliance is read for at most this many complete weeks (a 6-month interval and a bit).
MAX_COMPLIANCE_WEEKS = 27
EVENT_KIND_LABELS = dict(EventKind.choices)


@dataclass(frozen=True)
class EventLine:
    occurred_on: dt.date
    kind: str
    category: str
    source: str


@dataclass(frozen=True)
class CustodyLine:
    text: str


@dataclass(frozen=True)
class ComplianceLine:
    """The person's compliance over the complete weeks of the period."""

    period: PeriodCompliance | None
    weeks: int
    excused: int
    failed: int


@dataclass(frozen=True)
class ReviewLine:
    kind: str
    due_on: dt.date
    overdue: bool
    detail: list[str]


@dataclass
class PathwayLine:
    """One pathway of the plan: the need now and then, actions overdue / done / open."""

    name: str
    level: str
    level_then: str
    change: str
    overdue: list[Action] = field(default_factory=list)
    done: list[Action] = field(default_factory=list)
    still_open: list[Action] = field(default_factory=list)


@dataclass
class AgendaPerson:
    person: ConferencePerson
    name: str
    # The first day of the period, and how it was chosen (module docstring).
    from_day: dt.date
    since_words: str
    # None: the reader may not read them (only counts, or nothing).
    events: list[EventLine] | None = None
    event_counts: list[tuple[str, int]] = field(default_factory=list)
    custody: list[CustodyLine] | None = None
    compliance: ComplianceLine | None = None
    pathways: list[PathwayLine] | None = None
    overdue_count: int = 0
    done_count: int = 0
    frozen: dict[str, Any] | None = None
    # The day the need levels "then" are read for: the day before the period starts.
    need_then_on: dt.date | None = None
    reviews: list[ReviewLine] | None = None
    meetings: list[Any] = field(default_factory=list)

    @property
    def offender(self) -> Any:
        return self.person.offender


@dataclass
class Agenda:
    conference: CaseConference
    until: dt.date
    people: list[AgendaPerson]
    attendances: list[Attendance]
    # Which sections the reader gets at all, and why not (said once, at the top).
    shows: dict[str, bool]
    may_run: bool
    interval_months: int
    generated_on: dt.date


def _period(
    people: list[ConferencePerson], conference: CaseConference, interval: int
) -> dict[int, tuple[dt.date, str]]:
    """Each person's first day of the period and the words for it (two queries)."""
    ids = [p.offender_id for p in people]
    selected = dict(
        ProgrammeEpisode.objects.filter(offender_id__in=ids, kind=ProgrammeKind.PPO)
        .filter(selected_on__lte=conference.held_on)
        .order_by()
        .values("offender_id")
        .annotate(on=Max("selected_on"))
        .values_list("offender_id", "on")
    )
    last = dict(
        ConferencePerson.objects.filter(
            offender_id__in=ids,
            conference__status=ConferenceStatus.CLOSED,
            conference__held_on__lt=conference.held_on,
        )
        .exclude(conference=conference)
        .order_by()
        .values("offender_id")
        .annotate(on=Max("conference__held_on"))
        .values_list("offender_id", "on")
    )
    earliest = months_before(conference.held_on, interval)
    found = {}
    for pk in ids:
        selected_on, last_on = selected.get(pk), last.get(pk)
        if last_on is not None and (selected_on is None or last_on >= selected_on):
            found[pk] = (last_on + ONE_DAY, f"since the last conference on {long_date(last_on)}")
        elif selected_on is not None and selected_on >= earliest:
            found[pk] = (selected_on, f"since selection on {long_date(selected_on)}")
        else:
            found[pk] = (
                earliest,
                f"in the {interval} months before this conference (no conference since selection)",
            )
    return found


def _events(
    actor: Actor, ids: list[int], first: dt.date, until: dt.date
) -> tuple[dict[int, list[EventLine]] | None, dict[int, list[tuple[dt.date, str]]]]:
    """Events the reader may read (None when they may read none), and the (day, kind) of
    those they may only count. Two queries at most."""
    readable = offending_events_q(actor)
    reads_any = (
        grant(actor, RecordKind.OFFENDING).can_read
        or grant(actor, RecordKind.INTELLIGENCE).can_read
    )
    window = {"offender_id__in": ids, "occurred_on__gte": first, "occurred_on__lte": until}
    listed: dict[int, list[EventLine]] | None = None
    if reads_any:
        listed = defaultdict(list)
        for event in (
            OffendingEvent.objects.filter(readable, **window)
            .select_related("category", "source_agency")
            .order_by("-occurred_on", "-pk")
        ):
            listed[event.offender_id].append(
                EventLine(
                    occurred_on=event.occurred_on,
                    kind=str(EVENT_KIND_LABELS.get(event.kind, event.kind)),
                    category=event.category.name if event.category else "",
                    source=event.source_agency.name,
                )
            )
    counted: dict[int, list[tuple[dt.date, str]]] = defaultdict(list)
    count_only = offending_events_q(actor, count_only=True) & ~readable
    for offender_id, day, kind in (
        OffendingEvent.objects.filter(count_only, **window)
        .order_by()
        .values_list("offender_id", "occurred_on", "kind")
    ):
        counted[offender_id].append((day, kind))
    return listed, counted


def _custody_words(episode: CustodyEpisode, fields: frozenset[str]) -> str:
    parts: list[str] = []
    if "kind" in fields:
        parts.append(episode.get_kind_display())
    else:
        parts.append("In custody")
    if "establishment" in fields:
        parts.append(f"at {episode.establishment.name}")
    if "started_on" in fields:
        parts.append(f"from {long_date(episode.started_on)}")
    if "sentence_length_months" in fields and episode.sentence_length_months:
        parts.append(f"({episode.sentence_length_months} months)")
    if episode.released_on is not None and "released_on" in fields:
        parts.append(f"– released {long_date(episode.released_on)}")
    elif episode.expected_release_on is not None and "expected_release_on" in fields:
        parts.append(f"– expected release {long_date(episode.expected_release_on)}")
    return " ".join(parts)


def _custody(
    actor: Actor, ids: list[int], first: dt.date, until: dt.date
) -> dict[int, list[CustodyLine]] | None:
    """Custody episodes that began or ended in the period, or are open at its end, in
    the fields the reader may see. One query."""
    fields = visible_fields(actor, RecordKind.CUSTODY)
    if not fields:
        return None
    found: dict[int, list[CustodyLine]] = defaultdict(list)
    episodes = (
        CustodyEpisode.objects.filter(
            records_q(actor, RecordKind.CUSTODY, "offenders.custodyepisode")
        )
        .filter(offender_id__in=ids, started_on__lte=until)
        .exclude(released_on__lt=first)
        .select_related("establishment")
        .order_by("-started_on", "-pk")
    )
    for episode in episodes:
        found[episode.offender_id].append(CustodyLine(_custody_words(episode, fields)))
    return found


def _compliance(
    actor: Actor, ids: list[int], from_days: dict[int, dt.date], until: dt.date
) -> dict[int, ComplianceLine] | None:
    """Each person's complete weeks in the period, against target (offenders.compliance)."""
    if not can_see_compliance(actor) or not ids:
        return None
    first = min(from_days.values())
    weeks = min((monday_of(until) - monday_of(first)).days // 7, MAX_COMPLIANCE_WEEKS)
    table = weekly_compliance(
        user=actor, as_of=until, offender_ids=ids, complete_weeks=weeks, include_current=False
    )
    found = {}
    for pk in ids:
        per_week = table.by_person.get(pk)
        if per_week is None:
            continue
        own = [w for w in table.weeks if w.start >= from_days[pk]]
        alone = ComplianceTable(
            as_of=table.as_of, weeks=own, targets=table.targets, by_person={pk: per_week}
        )
        found[pk] = ComplianceLine(
            period=tally(alone, own) if own else None,
            weeks=len(own),
            excused=sum(per_week[w.start].excused for w in own if w.start in per_week),
            failed=sum(per_week[w.start].failed for w in own if w.start in per_week),
        )
    return found


def _pathway_lines(plan: PersonPlan, from_day: dt.date) -> tuple[list[PathwayLine], int, int]:
    lines = []
    overdue_total = done_total = 0
    for need in plan.needs:
        on_pathway = plan.actions_on(need.pathway.pk)
        line = PathwayLine(
            name=need.pathway.name,
            level=need.level_label,
            level_then=need.level_since_label,
            change=need.change_words,
            overdue=[a for a in on_pathway if getattr(a, "overdue", False)],
            done=[a for a in on_pathway if is_done_since(a, from_day)],
            still_open=[
                a for a in on_pathway if a in plan.open_actions and not getattr(a, "overdue", False)
            ],
        )
        overdue_total += len(line.overdue)
        done_total += len(line.done)
        lines.append(line)
    return lines, overdue_total, done_total


def _reviews(actor: Actor, ids: list[int]) -> dict[int, list[ReviewLine]] | None:
    if not may_read_reviews(actor):
        return None
    reads_intelligence = grant(actor, RecordKind.INTELLIGENCE).read is Read.FULL
    found: dict[int, list[ReviewLine]] = defaultdict(list)
    for review in open_reviews(actor).filter(offender_id__in=ids).order_by("due_on", "pk"):
        found[review.offender_id or 0].append(
            ReviewLine(
                kind=review.get_kind_display(),
                due_on=review.due_on,
                overdue=is_overdue(review, actor.as_of),
                detail=detail_lines(review.detail, reads_intelligence=reads_intelligence),
            )
        )
    return found


def _meetings(actor: Actor, ids: list[int], first: dt.date, until: dt.date) -> dict[int, list]:
    from .models import CoreGroupMeeting

    found: dict[int, list] = defaultdict(list)
    for meeting in (
        CoreGroupMeeting.objects.filter(records_q(actor, RecordKind.CONFERENCES, CORE_GROUP))
        .filter(offender_id__in=ids, held_on__gte=first, held_on__lte=until)
        .select_related("recorded_by")
        .prefetch_related("agencies")
        .order_by("held_on", "pk")
    ):
        found[meeting.offender_id].append(meeting)
    return found


def build_agenda(actor: Actor, conference: CaseConference) -> Agenda:
    """The agenda as this reader may see it (module docstring). Does not audit."""
    scheme = Scheme.current()
    interval = scheme.conference_interval_months
    until = min(actor.as_of, conference.held_on)
    people = visible_people(actor, conference)
    ids = [p.offender_id for p in people]
    periods = _period(people, conference, interval) if people else {}
    from_days = {pk: day for pk, (day, _) in periods.items()}
    first = min(from_days.values(), default=until)

    events, counted = _events(actor, ids, first, until) if ids else (None, {})
    custody = _custody(actor, ids, first, until) if ids else None
    compliance = _compliance(actor, ids, from_days, until)
    reads_plans = grant(actor, RecordKind.PATHWAYS).can_read
    plan_since = {pk: day - ONE_DAY for pk, day in from_days.items()}
    plans = (
        plans_for(actor=actor, offender_ids=ids, as_of=until, since=plan_since)
        if reads_plans and not conference.is_closed and ids
        else {}
    )
    reviews = _reviews(actor, ids) if ids else None
    meetings = _meetings(actor, ids, first, until) if ids else {}

    rows = []
    for person in people:
        pk = person.offender_id
        from_day, words = periods[pk]
        row = AgendaPerson(
            person=person,
            name=person_name(actor, person.offender),
            from_day=from_day,
            since_words=words,
            meetings=[m for m in meetings.get(pk, []) if m.held_on >= from_day],
        )
        if events is not None:
            row.events = [e for e in events.get(pk, []) if e.occurred_on >= from_day]
        by_kind: dict[str, int] = defaultdict(int)
        for day, kind in counted.get(pk, []):
            if day >= from_day:
                by_kind[kind] += 1
        row.event_counts = [
            (str(label), by_kind[kind]) for kind, label in EventKind.choices if by_kind.get(kind)
        ]
        if custody is not None:
            row.custody = custody.get(pk, [])
        if compliance is not None:
            row.compliance = compliance.get(pk)
        if conference.is_closed:
            row.frozen = shown_plan(person.frozen_plan) if reads_plans else None
        elif pk in plans:
            row.pathways, row.overdue_count, row.done_count = _pathway_lines(plans[pk], from_day)
            row.need_then_on = plans[pk].since
        if reviews is not None:
            row.reviews = reviews.get(pk, [])
        rows.append(row)

    return Agenda(
        conference=conference,
        until=until,
        people=rows,
        attendances=list(conference.attendances.all()),
        shows={
            "events": events is not None,
            "custody": custody is not None or not ids,
            "compliance": can_see_compliance(actor),
            "plans": reads_plans,
            "reviews": may_read_reviews(actor),
        },
        may_run=may_run_conferences(actor) and not conference.is_closed,
        interval_months=interval,
        generated_on=actor.as_of,
    )


def agenda(*, user: Any, conference_id: Any, as_of: dt.date | None = None) -> Agenda:
    """The agenda page: audited as a consultation of the people shown."""
    actor = reader(user, as_of, conference_id)
    conference = conference_for_reader(actor, conference_id)
    built = build_agenda(actor, conference)
    audit.consulted(
        actor,
        OFFENDER,
        [row.offender for row in built.people],
        view="conference agenda",
        conference=conference.pk,
    )
    return built


@dataclass
class AgendaDocument:
    filename: str
    html: str

    @property
    def pdf(self) -> bytes:
        return render_pdf(self.html)


def agenda_pdf(*, user: Any, conference_id: Any, as_of: dt.date | None = None) -> AgendaDocument:
    """The agenda as a PDF to hand round the table: the same content as the page for the
    same reader, audited as an export of the people in it (as selection letters are)."""
    actor = reader(user, as_of, conference_id)
    conference = conference_for_reader(actor, conference_id)
    built = build_agenda(actor, conference)
    html = render_to_string(
        "conferences/agenda_pdf.html",
        {"agenda": built, "scheme": Scheme.current(), "reader": actor},
    )
    offenders = [row.offender for row in built.people]
    audit.record(
        actor,
        AuditAction.EXPORT,
        record_type=OFFENDER,
        records=offenders,
        offenders=offenders,
        detail={"document": "case conference agenda", "conference": conference.pk, "format": "pdf"},
    )
    return AgendaDocument(
        filename=f"conference-agenda-{conference.held_on.isoformat()}-{conference.pk}.pdf",
        html=html,
    )
