"""Custody on the premium service: the reception needs assessment, the release plan, and
the alerts that tell a person's key worker and police officer what happened.

- **Reception needs assessment** (002 inspection: "within 24 hours of arrival in prison
  custody"): one per custody episode, due within `Scheme.reception_assessment_hours` of
  the reception. The reception is `received_at` when the prison recorded it (the arrival
  page does), otherwise the start of `started_on` in London. The deadline is that
  instant plus exactly N elapsed hours, and an assessment *at* the deadline is on time:
  received 10:00 Monday, 24 hours, an assessment at 10:00 Tuesday is on time and one at
  10:01 is late. Over a change of the clocks the hours are real hours (received 00:00
  on the Sunday the clocks go forward, due 01:00 BST on Monday).
- **Release plan** (004 §4.2, 003 §6.2(3)): per custody episode, for statutory and
  non-statutory PPOs alike: accommodation, treatment, supervision on release and the
  first appointment, each with the agency that owns it. Complete when every part is
  filled in. Made and changed only while the person is in that custody (an episode with a
  release recorded is closed). `version` refuses a stale save. `completed_at` says when a
  save last made it complete: the release_plans standard counts a release as on
  standard when the plan was complete on or before the day `Scheme.release_plan_weeks`
  weeks before the release (released Friday 12 June, 6 weeks: complete by the end of
  Friday 1 May is on time, on Saturday 2 May late). A plan emptied again loses its
  `completed_at`; completed again, it counts from then.
- **Alerts** (004 §4.2 "police and the key worker told"): `alert_people` writes one
  `Alert` for the person's key worker and one for their police officer when a release
  date is set or changes and when a reception is recorded; only to a recipient whose
  current membership lets them see the person, and never to whoever made the change.
  The home page lists them (`alert_list`) for people the reader may still see.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, Value, When
from django.urls import reverse
from django.utils import timezone

from access import audit
from access.errors import ApplicationError, NotPermitted, OutOfScope
from access.models import Agency, AuditAction, Role, Scheme
from access.policy import (
    Actor,
    RecordKind,
    actor_for,
    as_actor,
    can_see_person,
    can_write,
    grant,
    people_q,
    records_q,
    visible_fields,
)

from .models import CustodyEpisode, Offender, ProgrammeEpisode, ProgrammeKind
from .premium_models import Alert, AlertKind, ReceptionAssessment, ReleasePlan
from .selectors import CUSTODY_HISTORY_FIELDS, offender_get
from .standards import StandardMeasure, register

LONDON = ZoneInfo("Europe/London")
CUSTODY = "offenders.custodyepisode"
ALERT = "offenders.alert"
NEEDS_MAX = 4000
PART_MAX = 1000


def _long(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


# --- The reception needs assessment (002) ---------------------------------------------


def start_of_day(day: dt.date) -> dt.datetime:
    """Midnight at the start of `day` in London, as an aware datetime."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=LONDON)


def reception_instant(episode: CustodyEpisode) -> dt.datetime:
    """When the person was received: as recorded by the prison, or the start of the day
    the custody began (in London) for an episode recorded without a reception time."""
    return episode.received_at or start_of_day(episode.started_on)


def assessment_due_by(episode: CustodyEpisode, hours: int) -> dt.datetime:
    """The last instant at which the reception assessment is on time (N elapsed hours:
    the sum is done in UTC so a change of the clocks neither adds nor removes one)."""
    return reception_instant(episode).astimezone(dt.UTC) + dt.timedelta(hours=hours)


def assessed_on_time(episode: CustodyEpisode, assessed_at: dt.datetime, hours: int) -> bool:
    return assessed_at <= assessment_due_by(episode, hours)


def _refuse(message: str, field_name: str | None = None) -> ApplicationError:
    return ApplicationError(message, field_errors={field_name: [message]} if field_name else None)


def _episode_for_write(actor: Actor, custody_id: Any) -> CustodyEpisode:
    """The custody episode, locked for the save, if the actor may change this person's
    custody records: otherwise a 404 (outside scope, audited) or NotPermitted."""
    try:
        pk = int(custody_id)
    except (TypeError, ValueError):
        raise OutOfScope(CUSTODY, custody_id) from None
    episode = (
        CustodyEpisode.objects.select_for_update(of=("self",))
        .select_related("establishment")
        .filter(pk=pk)
        .first()
    )
    if episode is None:
        audit.denied(actor, CUSTODY, pk, "no such custody episode")
        raise OutOfScope(CUSTODY, pk)
    offender_get(user=actor, pk=episode.offender_id, write=True)
    if not can_write(actor, RecordKind.CUSTODY, episode.offender_id):
        raise NotPermitted("Your role cannot record custody for this person")
    return episode


def reception_assessment_record(
    *, user: Any, custody_id: Any, assessed_at: dt.datetime, needs: str
) -> ReceptionAssessment:
    """Record the needs assessment on reception (002): when it was done, the needs found,
    by the acting worker for their agency. Once per custody episode."""
    actor = as_actor(user)
    with transaction.atomic():
        episode = _episode_for_write(actor, custody_id)
        if actor.agency_id is None:
            raise NotPermitted("You have no current agency, so you cannot record this")
        if ReceptionAssessment.objects.filter(custody=episode).exists():
            raise _refuse("The reception assessment for this custody is already recorded")
        text = (needs or "").strip()
        if not text:
            raise _refuse("Enter the needs found at the assessment", "needs")
        if len(text) > NEEDS_MAX:
            raise _refuse(f"The needs must be {NEEDS_MAX} characters or fewer", "needs")
        received = reception_instant(episode)
        if assessed_at < received:
            raise _refuse(
                "The assessment cannot be before the reception, "
                f"{timezone.localtime(received):%-d %B %Y at %H:%M}",
                "date",
            )
        if assessed_at > timezone.now():
            raise _refuse("The date and time of the assessment cannot be in the future", "date")
        assessment = ReceptionAssessment(
            custody=episode,
            assessed_at=assessed_at,
            needs=text,
            assessed_by=actor.user,
            agency_id=actor.agency_id,
        )
        assessment.full_clean()
        assessment.save()
        audit.altered(
            actor,
            AuditAction.CREATE,
            assessment,
            offender_id=episode.offender_id,
            changed=["assessed_at", "needs"],
        )
    return assessment


# --- The release plan (004 §4.2, 003 §6.2(3)) ------------------------------------------

# (text field, owning agency field, what the part is called)
TEXT_PARTS = (
    ("accommodation", "accommodation_owner", "accommodation"),
    ("treatment", "treatment_owner", "treatment"),
    ("supervision", "supervision_owner", "supervision on release"),
)
PLAN_FIELDS = (
    "accommodation",
    "accommodation_owner",
    "treatment",
    "treatment_owner",
    "supervision",
    "supervision_owner",
    "first_appointment_at",
    "first_appointment_with",
    "first_appointment_owner",
)
OWNER_FIELDS = frozenset(name for name in PLAN_FIELDS if name.endswith("_owner"))


def missing_parts(plan: ReleasePlan | None) -> list[str]:
    """What the plan still lacks, in words ("accommodation", "who owns the treatment"…);
    empty when it is complete. No plan lacks everything."""
    missing: list[str] = []
    for text_field, owner_field, label in TEXT_PARTS:
        if plan is None or not getattr(plan, text_field).strip():
            missing.append(label)
        elif getattr(plan, f"{owner_field}_id") is None:
            missing.append(f"who owns the {label}")
    if plan is None or plan.first_appointment_at is None or not plan.first_appointment_with:
        missing.append("first appointment")
    elif plan.first_appointment_owner_id is None:
        missing.append("who owns the first appointment")
    return missing


def plan_is_complete(plan: ReleasePlan | None) -> bool:
    return plan is not None and not missing_parts(plan)


class StalePlan(ApplicationError):
    def __init__(self) -> None:
        super().__init__(
            "Someone else saved this release plan after you opened this page. Nothing was "
            "saved: the current plan is shown, so you can make your change again."
        )


def _owner(value: Any, label: str, name: str) -> Agency | None:
    if value in (None, ""):
        return None
    agency = value if isinstance(value, Agency) else Agency.objects.filter(pk=value).first()
    if agency is None or not agency.active:
        raise _refuse(f"Choose the agency that owns the {label} from the list", name)
    return agency


def release_plan_save(
    *, user: Any, custody_id: Any, version: Any, data: dict[str, Any]
) -> ReleasePlan:
    """Make or change the release plan of a custody episode read at `version` (0: there
    was no plan when the page was opened). Any part may be left for later; the plan is
    complete when every part and its owner are filled in."""
    actor = as_actor(user)
    unknown = set(data) - set(PLAN_FIELDS)
    if unknown:
        raise ApplicationError(f"Unknown fields: {', '.join(sorted(unknown))}")
    try:
        read_at = int(version)
    except (TypeError, ValueError):
        raise StalePlan() from None
    with transaction.atomic():
        episode = _episode_for_write(actor, custody_id)
        if episode.released_on is not None:
            raise _refuse(
                "This custody ended with the release on "
                f"{_long(episode.released_on)}: a release plan is made only while the person "
                "is in custody"
            )
        plan = ReleasePlan.objects.select_for_update().filter(custody=episode).first()
        creating = plan is None
        if (plan.version if plan else 0) != read_at:
            raise StalePlan()
        if plan is None:
            plan = ReleasePlan(custody=episode, version=0)
        changed: list[str] = []
        for text_field, owner_field, label in TEXT_PARTS:
            if text_field in data:
                text = str(data[text_field] or "").strip()
                if len(text) > PART_MAX:
                    raise _refuse(f"The {label} must be {PART_MAX} characters or fewer", text_field)
                if text != getattr(plan, text_field):
                    setattr(plan, text_field, text)
                    changed.append(text_field)
            if owner_field in data:
                agency = _owner(data[owner_field], label, owner_field)
                if (agency.pk if agency else None) != getattr(plan, f"{owner_field}_id"):
                    setattr(plan, owner_field, agency)
                    changed.append(owner_field)
        if "first_appointment_at" in data:
            when = data["first_appointment_at"]
            if when is not None and timezone.localtime(when).date() < episode.started_on:
                raise _refuse(
                    "The first appointment cannot be before the custody began, "
                    f"{_long(episode.started_on)}",
                    "first_appointment_at",
                )
            horizon = Scheme.current().date_horizon_years
            if when is not None and when.year > timezone.localdate().year + horizon:
                raise _refuse(
                    "The first appointment is too far ahead: check the year",
                    "first_appointment_at",
                )
            if when != plan.first_appointment_at:
                plan.first_appointment_at = when
                changed.append("first_appointment_at")
        if "first_appointment_with" in data:
            who = str(data["first_appointment_with"] or "").strip()
            if len(who) > 200:
                raise _refuse(
                    "Who the appointment is with must be 200 characters or fewer",
                    "first_appointment_with",
                )
            if who != plan.first_appointment_with:
                plan.first_appointment_with = who
                changed.append("first_appointment_with")
        if "first_appointment_owner" in data:
            agency = _owner(
                data["first_appointment_owner"], "first appointment", "first_appointment_owner"
            )
            if (agency.pk if agency else None) != plan.first_appointment_owner_id:
                plan.first_appointment_owner = agency
                changed.append("first_appointment_owner")
        if not changed and not creating:
            return plan
        now = timezone.now()
        if plan_is_complete(plan):
            if plan.completed_at is None:
                plan.completed_at = now
                changed.append("completed_at")
        elif plan.completed_at is not None:
            plan.completed_at = None
            changed.append("completed_at")
        plan.version += 1
        plan.updated_by = actor.user
        plan.updated_at = now
        plan.full_clean()
        plan.save()
        audit.altered(
            actor,
            AuditAction.CREATE if creating else AuditAction.UPDATE,
            plan,
            offender_id=episode.offender_id,
            changed=changed,
        )
    return plan


# --- The release date, and telling people (004 §4.2) -----------------------------------


def alert_people(*, actor: Actor, offender: Offender, kind: str, message: str) -> list[Alert]:
    """One alert for the person's key worker and one for their police officer (not for
    whoever is acting: they know), each only if their current membership lets them see
    the person (alerts name people). Audited as records created, in the caller's
    transaction."""
    wanted = [
        user_id
        for user_id in dict.fromkeys([offender.key_worker_id, offender.police_officer_id])
        if user_id is not None and user_id != getattr(actor.user, "pk", None)
    ]
    if not wanted:
        return []
    from django.contrib.auth import get_user_model

    recipients = get_user_model().objects.filter(pk__in=wanted, is_active=True)
    alerts = [
        Alert(offender=offender, recipient=recipient, kind=kind, message=message[:300])
        for recipient in recipients
        if can_see_person(actor_for(recipient, actor.as_of), offender.pk)
    ]
    if not alerts:
        return []
    created = Alert.objects.bulk_create(alerts)
    audit.created_many(actor, created)
    return created


def release_date_changed(
    actor: Actor, episode: CustodyEpisode, previous: dt.date | None
) -> list[Alert]:
    """Tell the key worker and police that a release date was set or changed."""
    if episode.expected_release_on == previous or episode.expected_release_on is None:
        return []
    offender = episode.offender
    where = episode.establishment.name
    new = _long(episode.expected_release_on)
    if previous is None:
        message = f"{offender.full_name}: expected release from {where} set to {new}"
    else:
        message = (
            f"{offender.full_name}: expected release from {where} changed from "
            f"{_long(previous)} to {new}"
        )
    return alert_people(
        actor=actor, offender=offender, kind=AlertKind.RELEASE_DATE, message=message
    )


def custody_release_date_set(
    *, user: Any, custody_id: Any, expected_release_on: dt.date | None
) -> CustodyEpisode:
    """Set or change the expected release date of an open custody episode; the key worker
    and police are told (`release_date_changed`)."""
    actor = as_actor(user)
    with transaction.atomic():
        episode = _episode_for_write(actor, custody_id)
        if episode.released_on is not None:
            raise _refuse(
                f"This custody ended with the release on {_long(episode.released_on)}",
                "expected_release_on",
            )
        previous = episode.expected_release_on
        if expected_release_on == previous:
            return episode
        episode.expected_release_on = expected_release_on
        episode.full_clean()
        episode.save(update_fields=["expected_release_on", "updated_at"])
        audit.altered(actor, AuditAction.UPDATE, episode, changed=["expected_release_on"])
        release_date_changed(actor, episode, previous)
    return episode


@dataclass
class AlertPanel:
    alerts: list[Alert] = field(default_factory=list)
    unread: int = 0


ALERTS_SHOWN = 20


# The roles alerts are written for (the person's key worker and police officer): their
# home page always has the panel; anyone else's only when they hold an alert.
ALERT_ROLES = frozenset({Role.KEY_WORKER, Role.POLICE_OFFICER})


def alert_list(*, user: Any, as_of: dt.date | None = None) -> AlertPanel | None:
    """The reader's own alerts, unread first then newest, about people they may still
    see today (a person who left their scope drops out). Audited as a consultation.
    None (no panel) for a reader with none whose role is not one alerts are for."""
    actor = as_actor(user, as_of)
    if actor.user is None or actor.membership is None:
        return None
    mine = Alert.objects.filter(recipient=actor.user).filter(people_q(actor, prefix="offender__"))
    alerts = list(
        mine.select_related("offender").order_by(
            Case(
                When(read_at__isnull=True, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            ),
            "-created_at",
            "-pk",
        )[:ALERTS_SHOWN]
    )
    if not alerts:
        return AlertPanel() if actor.role in ALERT_ROLES else None
    audit.consulted(actor, ALERT, alerts, view="alerts")
    return AlertPanel(alerts=alerts, unread=mine.filter(read_at__isnull=True).count())


def alert_mark_read(*, user: Any, alert_id: Any) -> Alert:
    """Mark one of the reader's own alerts read (again: nothing changes)."""
    actor = as_actor(user)
    with transaction.atomic():
        try:
            pk = int(alert_id)
        except (TypeError, ValueError):
            raise OutOfScope(ALERT, alert_id) from None
        alert = (
            Alert.objects.select_for_update()
            .filter(pk=pk, recipient_id=getattr(actor.user, "pk", None))
            .filter(people_q(actor, prefix="offender__"))
            .first()
        )
        if alert is None:
            audit.denied(actor, ALERT, pk, "not the reader's alert")
            raise OutOfScope(ALERT, pk)
        if alert.read_at is None:
            alert.read_at = timezone.now()
            alert.save(update_fields=["read_at"])
            audit.altered(actor, AuditAction.UPDATE, alert, changed=["read_at"])
    return alert


# --- "Due out, plan incomplete" on the home pages --------------------------------------

# The home pages that carry the list (004 §4.2: manager, key worker, prison, police).
PLANS_DUE_ROLES = frozenset(
    {Role.PPO_MANAGER, Role.KEY_WORKER, Role.PRISON_WORKER, Role.POLICE_OFFICER}
)


@dataclass(frozen=True)
class PlanDue:
    episode: CustodyEpisode
    missing: list[str]

    @property
    def offender(self) -> Offender:
        return self.episode.offender

    @property
    def url(self) -> str:
        return reverse("offenders:custody", args=[self.episode.offender_id, self.episode.pk])


@dataclass(frozen=True)
class PlansDue:
    weeks: int
    until: dt.date
    rows: list[PlanDue]


def release_plans_due(*, user: Any, as_of: dt.date | None = None) -> PlansDue | None:
    """People on the reader's caseload (offenders.caseload: a key worker's own people,
    everyone on a tier for the manager and police, the establishment's for prison staff)
    expected out of custody within `Scheme.release_plan_weeks` weeks (today to that day,
    both included) whose release plan is missing or incomplete, soonest first. None for a
    role whose home page does not carry the list. Audited as a consultation."""
    from .caseload import caseload_people

    actor = as_actor(user, as_of)
    if actor.role not in PLANS_DUE_ROLES or not grant(actor, RecordKind.CUSTODY).can_read:
        return None
    weeks = Scheme.current().release_plan_weeks
    until = actor.as_of + dt.timedelta(weeks=weeks)
    episodes = list(
        CustodyEpisode.objects.filter(records_q(actor, RecordKind.CUSTODY, CUSTODY))
        .filter(offender__in=caseload_people(actor).values("pk"))
        .filter(
            released_on__isnull=True,
            started_on__lte=actor.as_of,
            expected_release_on__gte=actor.as_of,
            expected_release_on__lte=until,
        )
        .exclude(release_plan__completed_at__isnull=False)
        .select_related("offender", "establishment", "release_plan")
        .order_by("expected_release_on", "pk")
    )
    if episodes:
        audit.consulted(actor, CUSTODY, episodes, view="release plans due")
    rows = [PlanDue(episode=e, missing=missing_parts(_plan_of(e))) for e in episodes]
    return PlansDue(weeks=weeks, until=until, rows=rows)


def _plan_of(episode: CustodyEpisode) -> ReleasePlan | None:
    try:
        return episode.release_plan
    except ReleasePlan.DoesNotExist:
        return None


# --- One custody episode's page ---------------------------------------------------------


@dataclass(frozen=True)
class CustodyRecord:
    episode: CustodyEpisode
    assessment: ReceptionAssessment | None
    plan: ReleasePlan | None
    hours: int
    weeks: int
    can_change: bool

    @property
    def received(self) -> dt.datetime:
        return reception_instant(self.episode)

    @property
    def received_recorded(self) -> bool:
        return self.episode.received_at is not None

    @property
    def due_by(self) -> dt.datetime:
        return assessment_due_by(self.episode, self.hours)

    @property
    def assessed_on_time(self) -> bool | None:
        if self.assessment is None:
            return None
        return assessed_on_time(self.episode, self.assessment.assessed_at, self.hours)

    @property
    def missing(self) -> list[str]:
        return missing_parts(self.plan)

    @property
    def is_open(self) -> bool:
        return self.episode.released_on is None

    @property
    def plan_due_by(self) -> dt.date | None:
        day = self.episode.expected_release_on
        return day - dt.timedelta(weeks=self.weeks) if day else None


def custody_record(*, user: Any, offender_id: Any, custody_id: Any) -> CustodyRecord:
    """One custody episode with its reception assessment and release plan, for a reader
    of whole custody records (not a partner, who sees only in custody yes/no and the
    release date). Audited as a view of the person."""
    actor = as_actor(user)
    offender = offender_get(user=actor, pk=offender_id)
    try:
        pk = int(custody_id)
    except (TypeError, ValueError):
        raise OutOfScope(CUSTODY, custody_id) from None
    episode = (
        CustodyEpisode.objects.filter(pk=pk, offender=offender)
        .filter(records_q(actor, RecordKind.CUSTODY, CUSTODY))
        .select_related(
            "offender",
            "establishment",
            "reception_assessment__assessed_by",
            "reception_assessment__agency",
            "release_plan__accommodation_owner",
            "release_plan__treatment_owner",
            "release_plan__supervision_owner",
            "release_plan__first_appointment_owner",
            "release_plan__updated_by",
        )
        .first()
    )
    if episode is None or not visible_fields(actor, RecordKind.CUSTODY) >= CUSTODY_HISTORY_FIELDS:
        audit.denied(actor, CUSTODY, pk, "outside scope")
        raise OutOfScope(CUSTODY, pk)
    try:
        assessment: ReceptionAssessment | None = episode.reception_assessment
    except ReceptionAssessment.DoesNotExist:
        assessment = None
    scheme = Scheme.current()
    record = CustodyRecord(
        episode=episode,
        assessment=assessment,
        plan=_plan_of(episode),
        hours=scheme.reception_assessment_hours,
        weeks=scheme.release_plan_weeks,
        can_change=can_write(actor, RecordKind.CUSTODY, offender.pk),
    )
    audit.viewed(actor, offender, view="custody record", custody=episode.pk)
    return record


# --- The standards (offenders.standards) -----------------------------------------------


def _ppo_on(day_field: str) -> Q:
    """Custody episodes of someone on the PPO tier on the episode's own day (`day_field`)."""
    on_tier = ProgrammeEpisode.objects.filter(
        offender=OuterRef("offender"), kind=ProgrammeKind.PPO, selected_on__lte=OuterRef(day_field)
    ).filter(Q(deselected_on__isnull=True) | Q(deselected_on__gt=OuterRef(day_field)))
    return Q(Exists(on_tier))


def _custody_in_scope(actor: Actor) -> Any:
    return CustodyEpisode.objects.filter(records_q(actor, RecordKind.CUSTODY, CUSTODY))


@register
def reception_assessments(
    actor: Actor, first_day: dt.date, last_day: dt.date
) -> StandardMeasure | None:
    """Receptions of PPOs into custody in the period (by the day of the reception) whose
    needs assessment was made within `Scheme.reception_assessment_hours` (002). A
    reception not yet assessed whose deadline is still ahead is not yet counted either
    way. One query, plus the scheme's settings."""
    if not grant(actor, RecordKind.CUSTODY).can_read:
        return None
    hours = Scheme.current().reception_assessment_hours
    period_start, period_end = start_of_day(first_day), start_of_day(last_day + dt.timedelta(1))
    rows = (
        _custody_in_scope(actor)
        .filter(
            Q(received_at__gte=period_start, received_at__lt=period_end)
            | Q(received_at__isnull=True, started_on__gte=first_day, started_on__lte=last_day)
        )
        .filter(_ppo_on("started_on"))
        .values_list("received_at", "started_on", "reception_assessment__assessed_at")
    )
    # Judged as on `as_of`: by the end of that day, or now for today.
    cutoff = min(timezone.now(), start_of_day(actor.as_of + dt.timedelta(1)))
    met = total = 0
    for received_at, started_on, assessed_at in rows:
        received = received_at or start_of_day(started_on)
        due = received.astimezone(dt.UTC) + dt.timedelta(hours=hours)
        if assessed_at is None and due > cutoff:
            continue
        total += 1
        met += assessed_at is not None and assessed_at <= due
    return StandardMeasure(
        key="reception_assessments",
        label=f"Needs assessed within {hours} hours of reception into custody",
        citation="002",
        met=met,
        total=total,
    )


@register
def release_plans(actor: Actor, first_day: dt.date, last_day: dt.date) -> StandardMeasure | None:
    """Releases of PPOs in the period (by the day of release) whose release plan was
    complete on or before the day `Scheme.release_plan_weeks` weeks before the release
    (004 §4.2, 003 §6.2(3)): by `ReleasePlan.completed_at`, in London. A release with no
    plan, or a plan never complete, did not meet it. One query, plus the settings."""
    if not grant(actor, RecordKind.CUSTODY).can_read:
        return None
    weeks = Scheme.current().release_plan_weeks
    rows = (
        _custody_in_scope(actor)
        .filter(released_on__gte=first_day, released_on__lte=last_day)
        .filter(_ppo_on("released_on"))
        .values_list("released_on", "release_plan__completed_at")
    )
    met = total = 0
    for released_on, completed_at in rows:
        total += 1
        deadline = released_on - dt.timedelta(weeks=weeks)
        met += completed_at is not None and completed_at.astimezone(LONDON).date() <= deadline
    return StandardMeasure(
        key="release_plans",
        label=f"Release plan complete {weeks} weeks before release",
        citation="004 §4.2",
        met=met,
        total=total,
    )
