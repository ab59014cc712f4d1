"""Every write about case conferences: arranging one, recording it as it runs, closing
it, and the core-group meetings between conferences (001 §3.1).

ACCESS.md "conference minutes and agendas": only the PPO manager writes them (RW); the
others read. Each function checks the policy, validates, saves and writes its audit row
in one transaction, or saves nothing.

A planned conference and each person reviewed at it carry a `version` (optimistic
concurrency): every save names the version the form was opened at, and a save of an
older one is refused (`StaleRecord`) rather than overwriting what someone else saved.
A closed conference is never changed again (`ClosedConference`): closing freezes each
person's plan as agreed, and only a new conference reviews them again.

Needs and actions set at a conference are written through the pathways services
(`pathways.services.need_set` / `action_create`, with the conference date as the
earliest due date), never here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from access import audit
from access.errors import ApplicationError, NotPermitted
from access.models import Agency, AuditAction, Membership
from access.policy import Actor, RecordKind, as_actor, may_write_kind, people_q
from offenders import contact_levels
from offenders.models import Offender, ProgrammeEpisode, ProgrammeKind
from offenders.selectors import offender_get
from pathways import services as pathway_services
from pathways.models import Action, Need
from pathways.selectors import plan_snapshot

from .models import (
    Attendance,
    CaseConference,
    ConferencePerson,
    ConferenceStatus,
    CoreGroupMeeting,
)

CONFERENCE = "conferences.caseconference"
CONFERENCE_PERSON = "conferences.conferenceperson"
NOTES_MAX = 4000
MINUTES_MAX = 20000
ATTENDEES_MAX = 500
LOCATION_MAX = 200
# 001 §3.2b: four contacts a week is the premium service; a conference may set more.
CONTACT_LEVEL_MAX = 14


def long_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _refuse(message: str, field: str) -> ApplicationError:
    return ApplicationError(message, field_errors={field: [message]})


def may_run_conferences(actor: Actor) -> bool:
    """The services' rule, so that "Arrange a conference" and the recording forms are
    offered only to those they accept (the PPO manager)."""
    return may_write_kind(actor, RecordKind.CONFERENCES)


def _runner(user: Any, as_of: dt.date | None = None) -> Actor:
    actor = as_actor(user, as_of)
    if not may_run_conferences(actor):
        raise NotPermitted("Only the PPO manager arranges and records case conferences")
    return actor


class ClosedConference(ApplicationError):
    """The conference is closed: its record and plans are frozen."""

    def __init__(self, conference: CaseConference):
        closed = timezone.localtime(conference.closed_at).date() if conference.closed_at else None
        when = f" on {long_date(closed)}" if closed else ""
        super().__init__(
            f"The case conference of {long_date(conference.held_on)} was closed{when}: its "
            "record and the plans agreed at it can no longer be changed. Nothing was saved. "
            "Arrange a new conference to review these people again."
        )


class StaleRecord(ApplicationError):
    """Someone saved the record after the form was opened: nothing was saved."""

    def __init__(self, what: str):
        super().__init__(
            f"Someone else saved {what} after you opened this page. Nothing was saved: "
            "the current record is shown, with what you entered, so you can make your "
            "change again."
        )


def _check_version(version: Any, current: int, what: str) -> None:
    try:
        given = int(version)
    except (TypeError, ValueError):
        raise StaleRecord(what) from None
    if given != current:
        raise StaleRecord(what)


def _planned(conference_id: Any, *, version: Any = None) -> CaseConference:
    """The conference, locked for the save, if it is still planned (and at `version`)."""
    try:
        pk = int(conference_id)
    except (TypeError, ValueError):
        raise ApplicationError("There is no such conference") from None
    conference = CaseConference.objects.select_for_update().filter(pk=pk).first()
    if conference is None:
        raise ApplicationError("There is no such conference")
    if conference.is_closed:
        raise ClosedConference(conference)
    if version is not None:
        _check_version(version, conference.version, "this conference's record")
    return conference


def _text(value: Any, *, field: str, limit: int, required: str = "") -> str:
    text = str(value or "").strip()
    if required and not text:
        raise _refuse(required, field)
    if len(text) > limit:
        raise _refuse(f"Enter no more than {limit:,} characters", field)
    return text


def _chair(chair_id: Any, day: dt.date) -> Any:
    """A chair is a member of staff active on the day, in an active agency."""
    try:
        pk = int(chair_id)
    except (TypeError, ValueError):
        raise _refuse("Choose who chairs the conference", "chair") from None
    if not (
        Membership.objects.active_on(day)
        .filter(user_id=pk, user__is_active=True, agency__active=True)
        .exists()
    ):
        raise _refuse("Choose a chair from the list of current staff", "chair")
    return get_user_model().objects.get(pk=pk)


def current_ppos(actor: Actor, as_of: dt.date) -> Any:
    """The people a conference may review: on the PPO tier today and in the actor's
    writable scope."""
    on_ppo = ProgrammeEpisode.objects.open_on(as_of).filter(kind=ProgrammeKind.PPO)
    return Offender.objects.filter(people_q(actor, write=True)).filter(
        pk__in=on_ppo.values("offender_id")
    )


def _ids(values: Any) -> list[int]:
    found: list[int] = []
    for value in values or []:
        try:
            number = int(value)
        except (TypeError, ValueError):
            continue
        if number not in found:
            found.append(number)
    return found


def conference_create(
    *,
    user: Any,
    held_on: dt.date,
    chair_id: int,
    people_ids: list[int],
    agency_ids: list[int],
    location: str = "",
    as_of: dt.date | None = None,
) -> CaseConference:
    """Arrange a conference for a day (today or later) with the PPOs chosen (at least one,
    each a current PPO the manager may see) and the agencies invited."""
    actor = _runner(user, as_of)
    if not isinstance(held_on, dt.date):
        raise _refuse("Enter the date of the conference", "held_on")
    if held_on < actor.as_of:
        raise _refuse("The conference date cannot be in the past", "held_on")
    location = _text(location, field="location", limit=LOCATION_MAX)
    people = _ids(people_ids)
    if not people:
        raise _refuse("Choose at least one PPO to review at the conference", "people")
    agencies = _ids(agency_ids)
    with transaction.atomic():
        chair = _chair(chair_id, actor.as_of)
        allowed = set(
            current_ppos(actor, actor.as_of).filter(pk__in=people).values_list("pk", flat=True)
        )
        if len(allowed) != len(people):
            raise _refuse(
                "Choose only people who are PPOs today: someone chosen is not on the PPO tier "
                "or is not one of your people",
                "people",
            )
        found_agencies = list(Agency.objects.filter(pk__in=agencies, active=True))
        if len(found_agencies) != len(agencies):
            raise _refuse("Choose agencies from the list", "agencies")
        conference = CaseConference(
            held_on=held_on, chair=chair, location=location, created_by=actor.user
        )
        conference.full_clean()
        conference.save()
        ConferencePerson.objects.bulk_create(
            ConferencePerson(conference=conference, offender_id=pk, order=n)
            for n, pk in enumerate(people, start=1)
        )
        Attendance.objects.bulk_create(
            Attendance(conference=conference, agency=agency) for agency in found_agencies
        )
        audit.record(
            actor,
            AuditAction.CREATE,
            record_type=CONFERENCE,
            records=[conference],
            offenders=people,
            detail={"agencies": sorted(a.pk for a in found_agencies)},
        )
    return conference


def attendance_record(
    *,
    user: Any,
    conference_id: int,
    version: int,
    attendance: dict[int, tuple[bool | None, str]],
    as_of: dt.date | None = None,
) -> CaseConference:
    """Record which invited agencies attended, and who came for each:
    `attendance` maps an agency id to (attended, names)."""
    actor = _runner(user, as_of)
    with transaction.atomic():
        conference = _planned(conference_id, version=version)
        rows = {a.agency_id: a for a in Attendance.objects.filter(conference=conference)}
        unknown = set(attendance) - set(rows)
        if unknown:
            raise ApplicationError("Record attendance only for the agencies invited")
        changed = []
        for agency_id, (attended, names) in attendance.items():
            row = rows[agency_id]
            names = _text(names, field=f"attendees_{agency_id}", limit=ATTENDEES_MAX)
            if attended is not True and names:
                raise _refuse(
                    f"{row.agency.name}: names are for an agency that attended",
                    f"attendees_{agency_id}",
                )
            if (row.attended, row.attendees) != (attended, names):
                row.attended, row.attendees = attended, names
                changed.append(row)
        Attendance.objects.bulk_update(changed, ["attended", "attendees"])
        conference.version += 1
        conference.save(update_fields=["version"])
        audit.record(
            actor,
            AuditAction.UPDATE,
            record_type=CONFERENCE,
            records=[conference],
            detail={"fields": ["attendance"], "agencies": sorted(r.agency_id for r in changed)},
        )
    return conference


def _person(conference_person_id: Any) -> ConferencePerson:
    try:
        pk = int(conference_person_id)
    except (TypeError, ValueError):
        raise ApplicationError("There is no such person at this conference") from None
    person = (
        ConferencePerson.objects.select_for_update().filter(pk=pk).select_related("conference")
    ).first()
    if person is None:
        raise ApplicationError("There is no such person at this conference")
    return person


def conference_person_record(
    *,
    user: Any,
    conference_person_id: int,
    version: int,
    minutes: str = "",
    offender_comment: str = "",
    contact_level_per_week: int | None = None,
    next_conference_on: dt.date | None = None,
    as_of: dt.date | None = None,
) -> ConferencePerson:
    """The record of one person's review: the minutes, their own comment on the plan
    (001 §3.1), the contact level per week the conference sets (001 §3.2b) and the date
    of their next conference (after this one)."""
    actor = _runner(user, as_of)
    minutes = _text(minutes, field="minutes", limit=MINUTES_MAX)
    offender_comment = _text(offender_comment, field="offender_comment", limit=NOTES_MAX)
    if contact_level_per_week is not None and not (
        0 <= int(contact_level_per_week) <= CONTACT_LEVEL_MAX
    ):
        raise _refuse(
            f"Enter the contact level as a whole number from 0 to {CONTACT_LEVEL_MAX}",
            "contact_level_per_week",
        )
    with transaction.atomic():
        person = _person(conference_person_id)
        _planned(person.conference_id)
        offender_get(user=actor, pk=person.offender_id, write=True)
        conference = person.conference
        if next_conference_on is not None and next_conference_on <= conference.held_on:
            raise _refuse(
                f"The next conference must be after this one, {long_date(conference.held_on)}",
                "next_conference_on",
            )
        _check_version(version, person.version, "this person's record at the conference")
        values = {
            "minutes": minutes,
            "offender_comment": offender_comment,
            "contact_level_per_week": contact_level_per_week,
            "next_conference_on": next_conference_on,
        }
        changed = [name for name, value in values.items() if getattr(person, name) != value]
        for name, value in values.items():
            setattr(person, name, value)
        person.version += 1
        person.full_clean()
        person.save()
        audit.altered(actor, AuditAction.UPDATE, person, changed=changed)
        if contact_level_per_week is not None and "contact_level_per_week" in changed:
            _set_contact_level(actor, person.offender_id, contact_level_per_week, conference)
    return person


def _set_contact_level(
    actor: Actor, offender_id: int, contacts: int, conference: CaseConference
) -> None:
    """001 §3.2b: the level the conference sets becomes the person's own from its day,
    through the one service for levels (history, reason, audit); their drug-test level
    stays what it is on that day. A refusal there refuses the whole record."""
    in_force = contact_levels.level_on(user=actor, offender=offender_id, day=conference.held_on)
    try:
        contact_levels.contact_level_set(
            user=actor,
            offender_id=offender_id,
            contacts_per_week=contacts,
            drug_tests_per_week=in_force.drug_tests if in_force else 0,
            starts_on=conference.held_on,
            reason=f"Set at the case conference of {long_date(conference.held_on)}",
            as_of=actor.as_of,
        )
    except ApplicationError as refused:
        raise _refuse(refused.message, "contact_level_per_week") from refused


def conference_need_set(
    *,
    user: Any,
    conference_person_id: int,
    pathway_id: int,
    level: str,
    note: str = "",
    as_of: dt.date | None = None,
) -> Need:
    """A need level agreed at the conference, recorded through the pathways service."""
    actor = _runner(user, as_of)
    with transaction.atomic():
        person = _person(conference_person_id)
        _planned(person.conference_id)
        return pathway_services.need_set(
            user=actor,
            offender_id=person.offender_id,
            pathway_id=pathway_id,
            level=level,
            note=note,
            as_of=actor.as_of,
        )


def conference_action_create(
    *,
    user: Any,
    conference_person_id: int,
    pathway_id: int,
    description: str,
    owner_agency_id: int | None,
    owner_id: int | None = None,
    due_on: dt.date | None,
    as_of: dt.date | None = None,
) -> Action:
    """A new action agreed at the conference, through the pathways service: it cannot
    fall due before the conference that set it."""
    actor = _runner(user, as_of)
    with transaction.atomic():
        person = _person(conference_person_id)
        conference = _planned(person.conference_id)
        return pathway_services.action_create(
            user=actor,
            offender_id=person.offender_id,
            pathway_id=pathway_id,
            description=description,
            owner_agency_id=owner_agency_id,
            owner_id=owner_id,
            due_on=due_on,
            not_before=conference.held_on,
            as_of=actor.as_of,
        )


def conference_close(
    *, user: Any, conference_id: int, version: int, as_of: dt.date | None = None
) -> CaseConference:
    """Close the conference: freeze every reviewed person's plan as it stands
    (`pathways.selectors.plan_snapshot` into `frozen_plan`), and refuse every later change.
    It cannot be undone (a new conference reviews them again). Only on or after the day
    it is held."""
    actor = _runner(user, as_of)
    with transaction.atomic():
        conference = _planned(conference_id, version=version)
        if conference.held_on > actor.as_of:
            raise ApplicationError(
                "A conference can be closed only on or after the day it is held, "
                f"{long_date(conference.held_on)}"
            )
        people = list(ConferencePerson.objects.select_for_update().filter(conference=conference))
        ids = [p.offender_id for p in people]
        snapshot = plan_snapshot(offender_ids=ids, as_of=actor.as_of)
        for person in people:
            person.frozen_plan = snapshot.get(person.offender_id, {"needs": [], "actions": []})
            person.version += 1
        ConferencePerson.objects.bulk_update(people, ["frozen_plan", "version"])
        conference.status = ConferenceStatus.CLOSED
        conference.closed_at = timezone.now()
        conference.closed_by = actor.user
        conference.version += 1
        conference.save(update_fields=["status", "closed_at", "closed_by", "version"])
        audit.record(
            actor,
            AuditAction.UPDATE,
            record_type=CONFERENCE,
            records=[conference],
            offenders=ids,
            detail={"fields": ["status", "frozen_plan"], "closed": True},
        )
    return conference


def core_group_record(
    *,
    user: Any,
    offender_id: int,
    held_on: dt.date,
    notes: str,
    agency_ids: list[int],
    as_of: dt.date | None = None,
) -> CoreGroupMeeting:
    """A core-group meeting between conferences (001 §3.1): its date (not in the future),
    short notes and the agencies present. Listed on the person's next agenda."""
    actor = _runner(user, as_of)
    if not isinstance(held_on, dt.date):
        raise _refuse("Enter the date of the meeting", "held_on")
    if held_on > actor.as_of:
        raise _refuse("The meeting date cannot be in the future", "held_on")
    notes = _text(notes, field="notes", limit=NOTES_MAX, required="Enter notes of the meeting")
    agencies = _ids(agency_ids)
    with transaction.atomic():
        offender = offender_get(user=actor, pk=offender_id, write=True)
        found = list(Agency.objects.filter(pk__in=agencies, active=True))
        if len(found) != len(agencies):
            raise _refuse("Choose agencies from the list", "agencies")
        meeting = CoreGroupMeeting(
            offender=offender, held_on=held_on, notes=notes, recorded_by=actor.user
        )
        meeting.full_clean()
        meeting.save()
        meeting.agencies.set(found)
        audit.altered(actor, AuditAction.CREATE, meeting, changed=["held_on", "notes", "agencies"])
    return meeting
