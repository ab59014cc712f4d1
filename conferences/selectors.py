"""Every read about case conferences, given the reader and scoped by the policy.

ACCESS.md "conference minutes and agendas": the PPO manager, key workers, police and YOT
read every conference; prison and partner staff only those their agency was invited to
or attended (`Rows.ATTENDED`, `access.policy.conferences_q`), and within a conference
only the people in their own scope (a partner: those referred to it). Nobody else reads
them (403). A conference a reader may not see is a 404, audited, like `offender_get`.

Functions that show people write the consultation to the audit trail themselves. The
agenda (`conferences.agenda`) builds on `conference_for_reader` and `visible_people`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Prefetch, Q

from access import audit
from access.errors import OutOfScope, Refused
from access.models import Agency, Membership
from access.policy import (
    Actor,
    RecordKind,
    Rows,
    as_actor,
    conferences_q,
    grant,
    records_q,
    visible_fields,
)
from offenders.models import Offender
from offenders.selectors import offender_get
from pathways.models import Pathway

from .due import DueLine, due_lines
from .models import (
    Attendance,
    CaseConference,
    ConferencePerson,
    CoreGroupMeeting,
)
from .services import current_ppos, may_run_conferences

CONFERENCE = "conferences.caseconference"
CONFERENCE_PERSON = "conferences.conferenceperson"
CORE_GROUP = "conferences.coregroupmeeting"
OFFENDER = "offenders.offender"
# The "due" page also lists those falling due in the next four weeks, to plan ahead.
DUE_SOON_DAYS = 28


def long_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def may_read_conferences(actor: Actor) -> bool:
    return grant(actor, RecordKind.CONFERENCES).can_read


def reads_every_conference(actor: Actor) -> bool:
    """Readers of the whole programme of conferences (not just those attended): they
    may see who is due one."""
    g = grant(actor, RecordKind.CONFERENCES)
    return g.can_read and g.rows is Rows.ALL


def reader(user: Any, as_of: dt.date | None = None, record_id: Any = "") -> Actor:
    actor = as_actor(user, as_of)
    if not may_read_conferences(actor):
        raise Refused(CONFERENCE, record_id, "role does not read case conferences")
    return actor


def person_name(actor: Actor, offender: Offender) -> str:
    # STYLE.md rule 10: the policy says whether this reader sees a name.
    if "full_name" in visible_fields(actor, RecordKind.IDENTITY):
        return offender.full_name
    return "Name not available to you"


def staff_name(user: Any) -> str:
    return str(user.get_full_name() or user.username) if user else ""


def people_q_for(actor: Actor) -> Q:
    """The `ConferencePerson` rows the actor may read (scope, and Rows.ATTENDED)."""
    return records_q(actor, RecordKind.CONFERENCES, CONFERENCE_PERSON)


# --- the list of conferences -------------------------------------------------------------


@dataclass
class ConferenceRow:
    conference: CaseConference
    people: int  # the people on it that the reader may see


def conference_list(*, user: Any) -> tuple[list[ConferenceRow], list[ConferenceRow]]:
    """(planned, closed) conferences the reader may see, with how many of the people on
    each they may see. Names nobody, so not audited. Two queries."""
    actor = reader(user)
    conferences = list(
        CaseConference.objects.filter(conferences_q(actor))
        .select_related("chair")
        .order_by("-held_on", "-pk")
    )
    counts = visible_people_counts(actor, [c.pk for c in conferences])
    rows = [ConferenceRow(c, counts.get(c.pk, 0)) for c in conferences]
    planned = [r for r in rows if not r.conference.is_closed]
    planned.sort(key=lambda r: (r.conference.held_on, r.conference.pk))
    return planned, [r for r in rows if r.conference.is_closed]


def conference_for_reader(actor: Actor, conference_id: Any) -> CaseConference:
    """One conference the reader may see (with its chair and attendances), or a 404
    with the refusal audited."""
    try:
        pk = int(conference_id)
    except (TypeError, ValueError):
        raise OutOfScope(CONFERENCE, conference_id) from None
    conference = (
        CaseConference.objects.filter(pk=pk)
        .filter(conferences_q(actor))
        .select_related("chair", "closed_by")
        .prefetch_related(
            Prefetch("attendances", queryset=Attendance.objects.select_related("agency"))
        )
        .first()
    )
    if conference is None:
        audit.denied(actor, CONFERENCE, pk, "outside scope")
        raise OutOfScope(CONFERENCE, pk)
    return conference


def visible_people(actor: Actor, conference: CaseConference) -> list[ConferencePerson]:
    """The people on the conference the reader may see, in the conference's order."""
    return list(
        ConferencePerson.objects.filter(conference=conference)
        .filter(people_q_for(actor))
        .select_related("offender__key_worker")
        .order_by("order", "pk")
    )


# --- who is due a conference ----------------------------------------------------------------


@dataclass
class DueRow:
    offender: Offender
    name: str
    line: DueLine

    @property
    def last_conference_text(self) -> str:
        if self.line.last_conference_on is None:
            return f"None since selection on {long_date(self.line.selected_on)}"
        return long_date(self.line.last_conference_on)


@dataclass
class DueList:
    as_of: dt.date
    interval_months: int
    rows: list[DueRow] = field(default_factory=list)
    may_arrange: bool = False

    @property
    def due_now(self) -> list[DueRow]:
        return [r for r in self.rows if r.line.is_due]

    @property
    def due_soon(self) -> list[DueRow]:
        return [r for r in self.rows if not r.line.is_due]


def due_for_conference(
    *, user: Any, as_of: dt.date | None = None, within_days: int = DUE_SOON_DAYS
) -> DueList:
    """The current PPOs in the reader's scope who are due a conference on `as_of`
    (conferences.due), and those falling due within `within_days` after it, neither
    booked nor serving a long sentence; earliest due first. Audited as a consultation of
    the people listed. For readers of every conference (not those who see only the
    conferences they attended: the rule looks at all of them)."""
    actor = reader(user, as_of)
    if not reads_every_conference(actor):
        raise Refused(CONFERENCE, "", "role reads only the conferences it attended")
    from access.models import Scheme

    horizon = actor.as_of + dt.timedelta(days=within_days)
    lines = {
        pk: line
        for pk, line in due_lines(actor, as_of=actor.as_of).items()
        if line.booked_on is None and not line.long_sentence and line.due_on <= horizon
    }
    people = Offender.objects.filter(pk__in=list(lines)).select_related("key_worker")
    rows = [DueRow(o, person_name(actor, o), lines[o.pk]) for o in people]
    rows.sort(key=lambda r: (r.line.due_on, r.offender.last_name, r.offender.pk))
    audit.consulted(actor, OFFENDER, [r.offender for r in rows], view="due a conference")
    return DueList(
        as_of=actor.as_of,
        interval_months=Scheme.current().conference_interval_months,
        rows=rows,
        may_arrange=may_run_conferences(actor),
    )


def due_count(*, user: Any) -> tuple[int, int] | None:
    """For the PPO manager's home page: (due now, of them overdue), or None for a reader
    of only the conferences they attended. Names nobody, so not audited."""
    actor = as_actor(user)
    if not reads_every_conference(actor):
        return None
    due = [line for line in due_lines(actor, as_of=actor.as_of).values() if line.is_due]
    return len(due), sum(1 for line in due if line.overdue)


# --- arranging one: the choices ----------------------------------------------------------------


def chair_choices(as_of: dt.date) -> list[tuple[int, str]]:
    """Staff who may chair: those whose role writes conferences first (the PPO manager,
    001 §3.1: the manager chairs), then every other active member of staff."""
    from access.policy import TABLE

    writers = {role for role, kinds in TABLE.items() if kinds.get(RecordKind.CONFERENCES, None)}
    memberships = (
        Membership.objects.active_on(as_of)
        .filter(agency__active=True, user__is_active=True, role__in=writers)
        .select_related("user", "agency")
    )

    def rank(m: Membership) -> tuple[int, str, str]:
        g = TABLE[m.role][RecordKind.CONFERENCES]
        return (0 if g.write else 1, (m.user.last_name or m.user.username).lower(), m.role)

    seen: set[int] = set()
    choices = []
    for m in sorted(memberships, key=rank):
        if m.user_id in seen:
            continue
        seen.add(m.user_id)
        choices.append((m.user_id, f"{staff_name(m.user)} – {m.get_role_display()}, {m.agency}"))
    return choices


def agency_choices() -> list[tuple[int, str]]:
    return list(Agency.objects.filter(active=True).order_by("name").values_list("pk", "name"))


def ppo_choices(actor: Actor) -> list[tuple[int, str]]:
    """The current PPOs a conference may review (services.current_ppos), by name."""
    people = current_ppos(actor, actor.as_of).order_by("last_name", "first_name", "pk")
    return [(o.pk, person_name(actor, o)) for o in people]


def pathway_choices() -> list[Pathway]:
    return list(Pathway.objects.order_by("order", "pk"))


# --- frozen plans -------------------------------------------------------------------------------


def _iso_words(value: Any) -> str:
    try:
        return long_date(dt.date.fromisoformat(str(value)))
    except ValueError:
        return ""


def shown_plan(frozen: Any) -> dict[str, Any] | None:
    """A frozen plan (pathways.selectors.plan_snapshot's JSON) in words for a page: dates
    as "3 March 2026", statuses and levels by their labels. The caller has decided that the
    reader may read plans (ACCESS.md "pathway needs and action plan"), at display time."""
    from pathways.models import ActionStatus, NeedLevel

    if not isinstance(frozen, dict):
        return None
    levels, statuses = dict(NeedLevel.choices), dict(ActionStatus.choices)
    return {
        "as_of": _iso_words(frozen.get("as_of")),
        "needs": [
            {**n, "level": str(levels.get(n.get("level"), "Not assessed"))}
            for n in frozen.get("needs", [])
        ],
        "actions": [
            {
                **a,
                "due_on": _iso_words(a.get("due_on")),
                "status": str(statuses.get(a.get("status"), a.get("status", ""))),
            }
            for a in frozen.get("actions", [])
        ],
    }


# --- one person's conferences (the profile tab) ------------------------------------------------


@dataclass
class PersonConference:
    person: ConferencePerson
    conference: CaseConference


@dataclass
class PersonConferences:
    offender: Offender
    name: str
    conferences: list[ConferencePerson]
    meetings: list[CoreGroupMeeting]
    reads_plans: bool
    may_record_meeting: bool
    due: DueLine | None = None


def person_conferences(
    *, user: Any, offender_id: Any, as_of: dt.date | None = None
) -> PersonConferences:
    """A person's conferences (with their frozen plans) and core-group meetings, as this
    reader may see them (Rows.ATTENDED for prison and partner staff); audited as a view."""
    actor = reader(user, as_of, offender_id)
    offender = offender_get(user=actor, pk=offender_id)
    reviews = list(
        ConferencePerson.objects.filter(offender=offender)
        .filter(people_q_for(actor))
        .select_related("conference__chair")
        .order_by("-conference__held_on", "-pk")
    )
    meetings = list(
        CoreGroupMeeting.objects.filter(offender=offender)
        .filter(records_q(actor, RecordKind.CONFERENCES, CORE_GROUP))
        .select_related("recorded_by")
        .prefetch_related("agencies")
        .order_by("-held_on", "-pk")
    )
    reads_plans = grant(actor, RecordKind.PATHWAYS).can_read
    for review in reviews:
        review.shown_plan = shown_plan(review.frozen_plan) if reads_plans else None  # type: ignore[attr-defined]
    due = None
    if reads_every_conference(actor):
        due = due_lines(actor, as_of=actor.as_of, offender_ids=[offender.pk]).get(offender.pk)
    audit.viewed(
        actor,
        offender,
        view="conferences",
        conferences=[r.conference_id for r in reviews],
        core_group_meetings=[m.pk for m in meetings],
    )
    return PersonConferences(
        offender=offender,
        name=person_name(actor, offender),
        conferences=reviews,
        meetings=meetings,
        reads_plans=reads_plans,
        may_record_meeting=may_run_conferences(actor),
        due=due,
    )


# --- the caseload's "Next conference" column ------------------------------------------------


def next_conference_by_person(
    *, user: Any, offender_ids: list[int], as_of: dt.date | None = None
) -> dict[int, str] | None:
    """For the caseload: each person's next planned conference ("22 June 2026"), else
    "due 2 December 2026" from the due rule (nothing while serving a long sentence). One
    query (the due rule's, which also finds the next planned conference). None — no
    column — for a reader who does not read every conference: prison and partner staff
    read only those their agency is invited to, and are not told when anyone is due (their
    caseloads keep their own few columns). The caller audits the rows."""
    actor = as_actor(user, as_of)
    if not reads_every_conference(actor):
        return None
    ids = list(offender_ids)
    if not ids:
        return {}
    found: dict[int, str] = {}
    for pk, line in due_lines(actor, as_of=actor.as_of, offender_ids=ids).items():
        if line.booked_on is not None:
            found[pk] = long_date(line.booked_on)
        elif not line.long_sentence:
            found[pk] = f"due {long_date(line.due_on)}"
    return found


# --- the list for the partner API (issue 12) ------------------------------------------------


def conference_queryset(*, user: Any, as_of: dt.date | None = None) -> Any:
    """The case conferences the reader may see (`access.policy.conferences_q`: prison and
    partner staff only those their agency was invited to), as `conference_list` lists
    them, for the partner API; refused (403) to a role that reads none. Names nobody."""
    actor = reader(user, as_of)
    return CaseConference.objects.filter(conferences_q(actor)).select_related("chair")


def visible_people_counts(actor: Actor, conference_ids: list[int]) -> dict[int, int]:
    """How many of the people on each conference the reader may see (one query), as
    `conference_list` counts them."""
    return dict(
        ConferencePerson.objects.filter(people_q_for(actor))
        .filter(conference_id__in=conference_ids)
        .order_by()
        .values("conference_id")
        .annotate(n=Count("pk"))
        .values_list("conference_id", "n")
    )
