"""Enforcement on a clock (001 §3.2e "fast-tracked recalls and breaches", 002 "speedy
enforcement"): a failure to attend by someone on a licence or an order opens a case with
an owner; its dated steps (a warning, then a breach laid or a recall requested) and its
outcome are recorded here, and the clock says whether the breach or recall came within
the scheme's standard (`Scheme.enforcement_working_days`, offenders.working_days).

Access: enforcement is casework on contacts. It is read with the CONTACTS grant, within
the people in scope and, for readers of their own agency's contacts only, the cases their
agency's contacts opened (`access.policy.records_q`); it is written by those who may write
that contact for the person (`can_write`). No role is named here.

Rules decided from the supervision (offenders.Supervision), where the brief was silent:

* A licence is enforced by a **recall** (the offender manager asks for the licence to be
  revoked); an order — community order, suspended sentence order, youth order — by a
  **breach laid** before the court. The other one is refused on that case.
* Steps come in order: a warning, if any, comes first, and the breach or recall after it;
  each step at most once; no step is dated before the failure, before an earlier step or
  in the future.
* The outcome follows the steps: "breach proven" needs a breach laid, "recalled" a recall
  requested, "warning only" a warning and no breach or recall; "absence found acceptable"
  and "withdrawn" need a reason.
* One case per failure: a second failure while a case is open opens its own case, with
  its own clock (each failure is one the standard applies to).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from access import audit
from access.errors import ApplicationError, NotPermitted, OutOfScope, Refused
from access.models import AuditAction, Scheme
from access.policy import Actor, RecordKind, as_actor, can_write, grant, records_q

from .models import (
    Contact,
    ContactOutcome,
    EnforcementCase,
    EnforcementOutcome,
    EnforcementStatus,
    EnforcementStep,
    EnforcementStepKind,
    Offender,
    Supervision,
)
from .selectors import offender_get
from .standards import StandardMeasure, register
from .working_days import (
    add_working_days,
    bank_holidays,
    latest_start_overdue,
    span_for,
    working_day_words,
    working_days_between,
)

ENFORCEMENT_CASE = "offenders.enforcementcase"
ENFORCEMENT_STEP = "offenders.enforcementstep"
NOTE_MAX = 2000
CITATION = "001 §3.2e"

Kind = EnforcementStepKind

# 001 §3.2e: the step that enforces each supervision a failure can be enforced on.
ENFORCING_STEP: dict[str, str] = {
    Supervision.LICENCE: Kind.RECALL_REQUESTED,
    Supervision.COMMUNITY_ORDER: Kind.BREACH_LAID,
    Supervision.SUSPENDED_SENTENCE: Kind.BREACH_LAID,
    Supervision.YOUTH_ORDER: Kind.BREACH_LAID,
}
ENFORCING_KINDS = frozenset({Kind.BREACH_LAID, Kind.RECALL_REQUESTED})
# Outcomes that say why, in the note.
OUTCOMES_WITH_REASON = frozenset(
    {EnforcementOutcome.ACCEPTABLE_ABSENCE, EnforcementOutcome.WITHDRAWN}
)


def long_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _refuse(message: str, field_name: str) -> ApplicationError:
    return ApplicationError(message, field_errors={field_name: [message]})


def _note(note: Any) -> str:
    text = str(note or "").strip()
    if len(text) > NOTE_MAX:
        raise _refuse(f"The note must be {NOTE_MAX:,} characters or fewer", "note")
    return text


def standard_days() -> int:
    return int(Scheme.current().enforcement_working_days)


class StaleCase(ApplicationError):
    """The case changed since the page was read: nothing saved, the current case told."""

    def __init__(self, current: EnforcementCase):
        super().__init__(
            "This enforcement case was changed by someone else since you opened it. Nothing "
            "was saved: check its steps as they are now and make your change again."
        )
        self.current = current


# --- who may -------------------------------------------------------------------------------


def may_read_enforcement(actor: Actor) -> bool:
    return grant(actor, RecordKind.CONTACTS).can_read


def cases_q(actor: Actor) -> Q:
    """The enforcement cases the actor may read, as a filter on `EnforcementCase`."""
    return records_q(actor, RecordKind.CONTACTS, ENFORCEMENT_CASE)


def case_agency_id(case: EnforcementCase) -> int | None:
    """The agency whose contact opened the case (what own-agency readers and writers go by)."""
    return case.contact.agency_id if case.contact_id and case.contact else None


def may_write_case(actor: Actor, case: EnforcementCase) -> bool:
    return can_write(
        actor, RecordKind.CONTACTS, case.offender_id, record_agency_id=case_agency_id(case)
    )


def allowed_step_kinds(case: EnforcementCase, recorded: list[str]) -> list[str]:
    """The steps that may still be recorded on the case, in the order they come."""
    if case.status != EnforcementStatus.OPEN:
        return []
    enforcing = ENFORCING_STEP.get(case.supervision)
    if enforcing in recorded:
        return []
    kinds = [] if Kind.WARNING in recorded else [str(Kind.WARNING)]
    return kinds + ([enforcing] if enforcing else [])


# --- services ------------------------------------------------------------------------------


def owner_for(offender: Offender, logged_by: Any) -> Any:
    """Who owns a new case: the person's offender manager, who lays a breach or asks for a
    recall; else their key worker; else whoever logged the failure."""
    return offender.offender_manager or offender.key_worker or logged_by


def enforcement_open(*, user: Any, contact: Contact) -> EnforcementCase | None:
    """Open the case a failed attendance calls for (001 §3.2e), in the caller's transaction
    (offenders.services.contact_log): only for a failure to attend by someone on a licence
    or an order; None otherwise. The contact's case if it has one already."""
    actor = as_actor(user)
    offender = contact.offender
    if contact.outcome != ContactOutcome.FAILED or offender.supervision not in ENFORCING_STEP:
        return None
    with transaction.atomic():
        if not can_write(
            actor, RecordKind.CONTACTS, offender.pk, record_agency_id=contact.agency_id
        ):
            raise NotPermitted("Your role cannot record enforcement for this person")
        existing = EnforcementCase.objects.filter(contact=contact).first()
        if existing is not None:
            return existing
        owner = owner_for(offender, actor.user)
        if owner is None:
            raise NotPermitted("An enforcement case needs someone to own it")
        case = EnforcementCase.objects.create(
            offender=offender,
            contact=contact,
            failed_on=timezone.localdate(contact.occurred_at),
            supervision=offender.supervision,
            owner=owner,
        )
        audit.altered(
            actor,
            AuditAction.CREATE,
            case,
            changed=["contact", "failed_on", "supervision", "owner"],
        )
    return case


def _case_for_change(actor: Actor, case_id: Any, version: Any) -> EnforcementCase:
    try:
        pk = int(case_id)
    except (TypeError, ValueError):
        pk = None
    case = (
        EnforcementCase.objects.select_for_update(of=("self",))
        .select_related("offender", "contact")
        .filter(pk=pk)
        .first()
        if pk is not None
        else None
    )
    if case is None:
        audit.denied(actor, ENFORCEMENT_CASE, case_id, "no such case")
        raise OutOfScope(ENFORCEMENT_CASE, case_id)
    offender_get(user=actor, pk=case.offender_id, write=True)
    if not EnforcementCase.objects.filter(pk=case.pk).filter(cases_q(actor)).exists():
        audit.denied(actor, ENFORCEMENT_CASE, case.pk, "outside scope")
        raise OutOfScope(ENFORCEMENT_CASE, case.pk)
    if not may_write_case(actor, case):
        raise NotPermitted("Your role cannot record enforcement on this case")
    try:
        read_at = int(version)
    except (TypeError, ValueError):
        read_at = -1
    if read_at != case.version:
        raise StaleCase(case)
    if case.status != EnforcementStatus.OPEN:
        raise ApplicationError("This enforcement case is closed: nothing more can be recorded")
    return case


def _check_day(
    day: Any, *, case: EnforcementCase, last: EnforcementStep | None, as_of: dt.date, what: str
) -> dt.date:
    field_name = "taken_on" if what == "step" else "closed_on"
    if not isinstance(day, dt.date):
        raise _refuse(f"Enter the date of the {what}", field_name)
    if day > as_of:
        raise _refuse(f"The date of the {what} cannot be in the future", field_name)
    if day < case.failed_on:
        raise _refuse(
            f"The date of the {what} cannot be before the failure to attend it answers, "
            f"on {long_date(case.failed_on)}",
            field_name,
        )
    if last is not None and day < last.taken_on:
        raise _refuse(
            f"The date of the {what} cannot be before the earlier step, "
            f"{last.get_kind_display().lower()} on {long_date(last.taken_on)}",
            field_name,
        )
    return day


def enforcement_step_record(
    *,
    user: Any,
    case_id: Any,
    version: Any,
    kind: str,
    taken_on: Any,
    note: str = "",
) -> EnforcementStep:
    """Record a step on an open case: a warning, a breach laid (orders) or a recall
    requested (licence), in order, each once, dated from the failure on and not in the
    future (see the module docstring)."""
    actor = as_actor(user)
    if actor.user is None:
        raise NotPermitted("Sign in to record this")
    note = _note(note)
    with transaction.atomic():
        case = _case_for_change(actor, case_id, version)
        steps = list(case.steps.order_by("taken_on", "pk"))
        recorded = [step.kind for step in steps]
        if kind not in Kind.values:
            raise _refuse("Choose the step taken", "kind")
        enforcing = ENFORCING_STEP.get(case.supervision)
        if kind in ENFORCING_KINDS and kind != enforcing:
            if case.supervision == Supervision.LICENCE:
                message = (
                    "A licence is enforced by recall, not by a breach at court: "
                    "record “Recall requested”"
                )
            else:
                message = (
                    "An order is enforced by laying a breach before the court, not by "
                    "recall: record “Breach laid”"
                )
            raise _refuse(message, "kind")
        if kind in recorded:
            earlier = next(step for step in steps if step.kind == kind)
            raise _refuse(
                f"“{earlier.get_kind_display()}” is already recorded on this case, "
                f"on {long_date(earlier.taken_on)}",
                "kind",
            )
        if kind == Kind.WARNING and enforcing in recorded:
            raise _refuse(
                "A warning comes before a breach is laid or a recall requested, not after",
                "kind",
            )
        day = _check_day(
            taken_on, case=case, last=steps[-1] if steps else None, as_of=actor.as_of, what="step"
        )
        step = EnforcementStep(
            case=case, kind=kind, taken_on=day, note=note, recorded_by=actor.user
        )
        step.full_clean()
        step.save()
        case.version += 1
        case.save(update_fields=["version"])
        audit.altered(
            actor,
            AuditAction.CREATE,
            step,
            offender_id=case.offender_id,
            changed=["kind", "taken_on", *(["note"] if note else [])],
        )
    return step


def enforcement_close(
    *,
    user: Any,
    case_id: Any,
    version: Any,
    outcome: str,
    note: str = "",
    closed_on: dt.date | None = None,
) -> EnforcementCase:
    """Close an open case with its outcome, which must follow the steps recorded (see the
    module docstring). Closing cannot be undone."""
    actor = as_actor(user)
    if actor.user is None:
        raise NotPermitted("Sign in to record this")
    note = _note(note)
    with transaction.atomic():
        case = _case_for_change(actor, case_id, version)
        steps = list(case.steps.order_by("taken_on", "pk"))
        recorded = {step.kind for step in steps}
        if outcome not in EnforcementOutcome.values:
            raise _refuse("Choose the outcome", "outcome")
        needs = {
            EnforcementOutcome.BREACH_PROVEN: (Kind.BREACH_LAID, "a breach laid"),
            EnforcementOutcome.RECALLED: (Kind.RECALL_REQUESTED, "a recall requested"),
            EnforcementOutcome.WARNING_ONLY: (Kind.WARNING, "a warning given"),
        }
        if outcome == EnforcementOutcome.WARNING_ONLY and recorded & ENFORCING_KINDS:
            raise _refuse(
                "A breach or recall has been recorded, so the outcome is not a warning only",
                "outcome",
            )
        if outcome in needs:
            needed, words = needs[EnforcementOutcome(outcome)]
            if needed not in recorded:
                raise _refuse(
                    f"“{EnforcementOutcome(outcome).label}” needs {words} on this case: "
                    "record that step first",
                    "outcome",
                )
        if outcome in OUTCOMES_WITH_REASON and not note:
            raise _refuse("Enter why the case is closed with this outcome", "note")
        day = _check_day(
            closed_on if closed_on is not None else actor.as_of,
            case=case,
            last=steps[-1] if steps else None,
            as_of=actor.as_of,
            what="closing",
        )
        case.status = EnforcementStatus.CLOSED
        case.outcome = outcome
        case.outcome_note = note
        case.closed_on = day
        case.version += 1
        case.full_clean()
        case.save()
        audit.altered(
            actor,
            AuditAction.UPDATE,
            case,
            changed=["status", "outcome", "closed_on", *(["outcome_note"] if note else [])],
        )
    return case


# --- the clock -----------------------------------------------------------------------------


class ClockState:
    MET = "met"
    LATE = "late"
    OVERDUE = "overdue"
    DUE = "due"
    NOT_ENFORCED = "not_enforced"


CLOCK_WORDS = {
    ClockState.MET: ("On time", "govuk-tag--green"),
    ClockState.LATE: ("Late", "govuk-tag--red"),
    ClockState.OVERDUE: ("Overdue", "govuk-tag--red"),
    ClockState.DUE: ("Within standard", "govuk-tag--blue"),
    ClockState.NOT_ENFORCED: ("Closed without breach or recall", "govuk-tag--grey"),
}


@dataclass(frozen=True)
class StepLine:
    step: EnforcementStep
    # Working days since the step before it (the failure, for the first step).
    working_days: int
    since_failure: int


@dataclass
class CaseClock:
    case: EnforcementCase
    standard_days: int
    # The standard's last working day: a breach or recall on it is on time.
    last_day: dt.date
    as_of: dt.date
    steps: list[StepLine] = field(default_factory=list)
    holidays: frozenset[dt.date] = frozenset()

    @property
    def supervision_label(self) -> str:
        value = self.case.supervision
        return str(Supervision(value).label) if value in Supervision.values else value

    @property
    def by_recall(self) -> bool:
        return ENFORCING_STEP.get(self.case.supervision) == Kind.RECALL_REQUESTED

    @property
    def enforced(self) -> StepLine | None:
        return next((line for line in self.steps if line.step.kind in ENFORCING_KINDS), None)

    @property
    def state(self) -> str:
        enforced = self.enforced
        if enforced is not None:
            return ClockState.MET if enforced.step.taken_on <= self.last_day else ClockState.LATE
        if self.case.status != EnforcementStatus.OPEN:
            return ClockState.NOT_ENFORCED
        return ClockState.OVERDUE if self.as_of > self.last_day else ClockState.DUE

    @property
    def overdue(self) -> bool:
        return self.state == ClockState.OVERDUE

    @property
    def label(self) -> str:
        return CLOCK_WORDS[self.state][0]

    @property
    def tag_class(self) -> str:
        return CLOCK_WORDS[self.state][1]

    @property
    def days_so_far(self) -> int:
        """Working days since the failure: to the breach or recall, the closing, or today."""
        enforced = self.enforced
        if enforced is not None:
            return enforced.since_failure
        end = self.case.closed_on or self.as_of
        return self._days(end)

    def _days(self, end: dt.date) -> int:
        return max(0, working_days_between(self.case.failed_on, end, self.holidays))


def clocks_for(
    cases: list[EnforcementCase], *, as_of: dt.date, days: int | None = None
) -> list[CaseClock]:
    """Each case's clock: one query for the bank holidays (the cases' steps prefetched)."""
    if not cases:
        return []
    days = standard_days() if days is None else days
    first = min(case.failed_on for case in cases)
    last = max(as_of, span_for(max(case.failed_on for case in cases), days))
    for case in cases:
        for step in case.steps.all():
            last = max(last, step.taken_on)
        if case.closed_on:
            last = max(last, case.closed_on)
    holidays = bank_holidays(first, last)
    clocks = []
    for case in cases:
        lines = []
        previous = case.failed_on
        for step in sorted(case.steps.all(), key=lambda s: (s.taken_on, s.pk)):
            lines.append(
                StepLine(
                    step=step,
                    working_days=working_days_between(previous, step.taken_on, holidays),
                    since_failure=working_days_between(case.failed_on, step.taken_on, holidays),
                )
            )
            previous = step.taken_on
        clock = CaseClock(
            case=case,
            standard_days=days,
            last_day=add_working_days(case.failed_on, days, holidays),
            as_of=as_of,
            steps=lines,
            holidays=holidays,
        )
        clocks.append(clock)
    return clocks


# --- selectors -----------------------------------------------------------------------------


def _reader(user: Any, as_of: dt.date | None = None, record_id: Any = "") -> Actor:
    actor = as_actor(user, as_of)
    if not may_read_enforcement(actor):
        raise Refused(ENFORCEMENT_CASE, record_id, "role reads no contacts")
    return actor


def _cases(actor: Actor) -> QuerySet[EnforcementCase]:
    return (
        EnforcementCase.objects.filter(cases_q(actor))
        .select_related("offender", "owner", "contact")
        .prefetch_related("steps__recorded_by")
    )


@dataclass
class PersonEnforcement:
    offender: Offender
    clocks: list[CaseClock]
    standard_days: int


def person_enforcement(
    *, user: Any, offender_id: Any, as_of: dt.date | None = None
) -> PersonEnforcement:
    """A person's enforcement cases with their clocks, newest failure first: the person
    page's "Enforcement" tab. Audited as a view of the person."""
    actor = as_actor(user, as_of)
    offender = offender_get(user=actor, pk=offender_id)
    if not may_read_enforcement(actor):
        raise Refused(ENFORCEMENT_CASE, offender.pk, "role reads no contacts")
    days = standard_days()
    cases = list(_cases(actor).filter(offender=offender).order_by("-failed_on", "-pk"))
    audit.viewed(actor, offender, view="enforcement", shown=["enforcement"])
    return PersonEnforcement(
        offender=offender,
        clocks=clocks_for(cases, as_of=actor.as_of, days=days),
        standard_days=days,
    )


@dataclass
class CaseView:
    clock: CaseClock
    may_write: bool
    step_kinds: list[str]

    @property
    def case(self) -> EnforcementCase:
        return self.clock.case

    @property
    def offender(self) -> Offender:
        return self.clock.case.offender


def enforcement_case(*, user: Any, case_id: Any, as_of: dt.date | None = None) -> CaseView:
    """One case as this reader may see it, with its clock and what they may still record.
    A case outside their reading is not found (404, audited); a role that reads no
    contacts is refused (403). Audited as a consultation of the case."""
    actor = _reader(user, as_of, case_id)
    try:
        pk = int(case_id)
    except (TypeError, ValueError):
        pk = None
    case = _cases(actor).filter(pk=pk).first() if pk is not None else None
    if case is None:
        audit.denied(actor, ENFORCEMENT_CASE, case_id, "outside scope")
        raise OutOfScope(ENFORCEMENT_CASE, case_id)
    (clock,) = clocks_for([case], as_of=actor.as_of)
    may_write = case.status == EnforcementStatus.OPEN and may_write_case(actor, case)
    audit.consulted(actor, ENFORCEMENT_CASE, [case], view="enforcement case")
    return CaseView(
        clock=clock,
        may_write=may_write,
        step_kinds=allowed_step_kinds(case, [line.step.kind for line in clock.steps])
        if may_write
        else [],
    )


def open_cases(*, user: Any, as_of: dt.date | None = None) -> QuerySet[EnforcementCase]:
    """The open cases the reader may see (a queryset: the caller audits what it shows)."""
    actor = as_actor(user, as_of)
    if not may_read_enforcement(actor):
        return EnforcementCase.objects.none()
    return _cases(actor).filter(status=EnforcementStatus.OPEN)


def overdue_q(as_of: dt.date, days: int) -> Q:
    """Open, no breach laid or recall requested, and the standard's last working day
    before `as_of` (one query for the holidays it spans)."""
    lookback = as_of - (span_for(as_of, days) - as_of)
    cutoff = latest_start_overdue(as_of, days, bank_holidays(lookback, as_of))
    enforced = EnforcementStep.objects.filter(case=OuterRef("pk"), kind__in=ENFORCING_KINDS)
    return Q(status=EnforcementStatus.OPEN, failed_on__lte=cutoff) & ~Q(Exists(enforced))


def mine_q(actor: Actor) -> Q:
    """A key worker's own: people allocated to them, and cases they own."""
    return (
        Q(offender__key_worker=actor.user)
        | Q(offender__offender_manager=actor.user)
        | Q(owner=actor.user)
    )


def overdue_cases(
    *, user: Any, as_of: dt.date | None = None, mine: bool = False
) -> list[CaseClock] | None:
    """The overdue cases (see `overdue_q`) the reader may see, oldest failure first, with
    their clocks; `mine` keeps those of the reader's own people (`mine_q`). None for a
    reader of no contacts. A fixed number of queries; audited when it names anyone."""
    actor = as_actor(user, as_of)
    if not may_read_enforcement(actor):
        return None
    days = standard_days()
    cases = _cases(actor).filter(overdue_q(actor.as_of, days))
    if mine:
        cases = cases.filter(mine_q(actor))
    found = list(cases.order_by("failed_on", "pk"))
    if found:
        audit.consulted(actor, ENFORCEMENT_CASE, found, view="overdue enforcement")
    return clocks_for(found, as_of=actor.as_of, days=days)


@dataclass
class CaseListPage:
    page: Page[EnforcementCase]
    clocks: list[CaseClock]
    overdue_only: bool
    standard_days: int


def open_cases_page(
    *, user: Any, overdue_only: bool = False, page_number: Any = 1, per_page: int = 50
) -> CaseListPage:
    """The open cases (or only the overdue ones), oldest failure first, one page at a
    time; the rows shown are audited."""
    actor = _reader(user)
    days = standard_days()
    cases = open_cases(user=actor)
    if overdue_only:
        cases = cases.filter(overdue_q(actor.as_of, days))
    page = Paginator(cases.order_by("failed_on", "pk"), per_page).get_page(page_number)
    rows = list(page.object_list)
    if rows:
        audit.consulted(actor, ENFORCEMENT_CASE, rows, view="open enforcement cases")
    return CaseListPage(
        page=page,
        clocks=clocks_for(rows, as_of=actor.as_of, days=days),
        overdue_only=overdue_only,
        standard_days=days,
    )


def register_tab() -> None:
    """The person page's "Enforcement" tab (offenders.tabs), for readers of contacts."""
    from .tabs import register as register_person_tab

    register_person_tab(
        key="enforcement",
        label="Enforcement",
        url_name="offenders:enforcement-person",
        offered=may_read_enforcement,
        order=20,
    )


def case_url(case: EnforcementCase) -> str:
    return reverse("offenders:enforcement-case", args=[case.pk])


# --- the standard (offenders.standards) ----------------------------------------------------


@register
def enforcement_standard(
    actor: Actor, first_day: dt.date, last_day: dt.date
) -> StandardMeasure | None:
    """001 §3.2e: the cases in the reader's scope whose failure fell from `first_day` to
    `last_day`, met when the breach was laid or the recall requested by the standard's
    last working day. Not counted (yet): a case still within the standard on the reader's
    day, and one closed without a breach or recall (the absence found acceptable, a
    warning only, withdrawn: the standard did not apply). A case open past its last day
    counts as not met. Three queries; None for a reader of no contacts."""
    actor = as_actor(actor)
    if not may_read_enforcement(actor):
        return None
    days = standard_days()
    label = f"Breach laid or recall requested within {working_day_words(days)}"
    rows = list(
        EnforcementCase.objects.filter(cases_q(actor))
        .filter(failed_on__gte=first_day, failed_on__lte=last_day)
        .values_list("pk", "failed_on", "status")
    )
    if not rows:
        return StandardMeasure("enforcement", label, CITATION, 0, 0)
    enforced_on = dict(
        EnforcementStep.objects.filter(
            case_id__in=[pk for pk, _, _ in rows], kind__in=ENFORCING_KINDS
        ).values_list("case_id", "taken_on")
    )
    holidays = bank_holidays(first_day, span_for(last_day, days))
    met = total = 0
    for pk, failed_on, status in rows:
        deadline = add_working_days(failed_on, days, holidays)
        taken = enforced_on.get(pk)
        if taken is not None:
            total += 1
            met += taken <= deadline
        elif status == EnforcementStatus.OPEN and actor.as_of > deadline:
            total += 1
    return StandardMeasure("enforcement", label, CITATION, met, total)
