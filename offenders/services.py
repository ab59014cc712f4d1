"""Every write to a person's record: checked against the policy, validated, saved and
audited in one transaction, or nothing at all."""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction
from django.utils import timezone

from access import audit
from access.errors import ApplicationError, NotPermitted
from access.models import AuditAction
from access.policy import (
    RecordKind,
    Write,
    as_actor,
    can_change_person,
    can_write,
    grant,
    kind_of_event,
)

from .custody_release import release_date_changed
from .enforcement import ENFORCING_STEP, enforcement_open
from .models import (
    Contact,
    ContactOutcome,
    CustodyEpisode,
    DrugTest,
    GradeChange,
    IomGrade,
    Offender,
    OffenderStrand,
    OffendingEvent,
    Strand,
)
from .selectors import offender_get

IDENTITY_MODEL_FIELDS = [
    "first_name",
    "last_name",
    "aliases",
    "date_of_birth",
    "sex",
    "ethnicity",
    "address",
    "phone",
    "pnc_id",
    "cro_number",
    "prison_number",
    "crn",
    "local_ref",
    "supervision",
    "dip_client",
    "crasbo",
    "mappa_level",
    "iom_grade",
    "asset_score",
    "scaled_approach",
    "key_worker",
    "offender_manager",
    "police_officer",
]


# The IOM grade is set when a person is added, and afterwards only by grade_change, which
# keeps its history (003 §5.6): "Change details" cannot change it.
EDITABLE_IDENTITY_FIELDS = [name for name in IDENTITY_MODEL_FIELDS if name != "iom_grade"]
# A person's strands are a set (000 §2.2), kept in OffenderStrand rather than a column:
# `data["strands"]` is the whole set; without the key the strands are left alone.
STRANDS = "strands"
GRADE_THROUGH_GRADE_CHANGE = (
    "The IOM grade is changed with “Change the IOM grade”, which records who changed it and why"
)


def _only_fields(data: dict[str, Any], allowed: list[str]) -> None:
    if "iom_grade" in data and "iom_grade" not in allowed:
        raise ApplicationError(
            GRADE_THROUGH_GRADE_CHANGE, field_errors={"iom_grade": [GRADE_THROUGH_GRADE_CHANGE]}
        )
    unknown = set(data) - set(allowed)
    if unknown:
        raise ApplicationError(f"Unknown fields: {', '.join(sorted(unknown))}")


def _strand_set(data: dict[str, Any]) -> set[str] | None:
    """The strands asked for, checked; None when `data` does not say."""
    if STRANDS not in data:
        return None
    chosen = data.pop(STRANDS) or []
    if isinstance(chosen, str):
        chosen = [chosen]
    unknown = sorted(str(value) for value in chosen if value not in Strand.values)
    if unknown:
        message = f"“{unknown[0][:40]}” is not a strand: choose from the list"
        raise ApplicationError(message, field_errors={STRANDS: [message]})
    return set(chosen)


def _set_strands(offender: Offender, strands: set[str]) -> bool:
    """Make the person's strands exactly `strands`; whether anything changed."""
    held = set(offender.strands.values_list("strand", flat=True))
    if held == strands:
        return False
    offender.strands.exclude(strand__in=strands).delete()
    OffenderStrand.objects.bulk_create(
        [OffenderStrand(offender=offender, strand=value) for value in sorted(strands - held)]
    )
    return True


class PossibleDuplicate(ApplicationError):
    """A person without a PNC ID whose name and date of birth match someone on the record."""

    def __init__(self, matches: list[int]):
        super().__init__(
            "A person with this name and date of birth is already on PPO Case. "
            "Check it is not them before adding someone new."
        )
        self.matches = matches


def same_name_and_birth(first_name: str, last_name: str, date_of_birth: Any) -> list[int]:
    """People recorded with this name (any case, spaces trimmed) and date of birth."""
    return list(
        Offender.objects.filter(
            first_name__iexact=first_name.strip(),
            last_name__iexact=last_name.strip(),
            date_of_birth=date_of_birth,
        ).values_list("pk", flat=True)
    )


def offender_create(*, user: Any, data: dict[str, Any], different_person: bool = False) -> Offender:
    """Add a person. Without a PNC ID to tell them apart, someone with the same name and
    date of birth is taken for a possible duplicate (PossibleDuplicate) unless the user
    has said this is a different person."""
    actor = as_actor(user)
    if grant(actor, RecordKind.IDENTITY).write is Write.NONE:
        raise NotPermitted("Your role cannot add people to the record")
    _only_fields(data, [*IDENTITY_MODEL_FIELDS, STRANDS])
    data = dict(data)
    strands = _strand_set(data)
    with transaction.atomic():
        offender = Offender(**data)
        offender.full_clean()
        if not offender.pnc_id and not different_person:
            matches = same_name_and_birth(
                offender.first_name, offender.last_name, offender.date_of_birth
            )
            if matches:
                raise PossibleDuplicate(matches)
        offender.save()
        # The person must fall within the creator's own scope (a YOT worker adds
        # under-18s); otherwise they would create a record they cannot see.
        if not can_change_person(actor, offender.pk):
            transaction.set_rollback(True)
            raise NotPermitted(
                "This person would be outside the people you work with, so you cannot add them"
            )
        if strands:
            _set_strands(offender, strands)
        changed = [*data.keys(), *([STRANDS] if strands else [])]
        audit.altered(actor, AuditAction.CREATE, offender, changed=changed)
        if offender.iom_grade:
            GradeChange.objects.create(
                offender=offender,
                from_grade="",
                to_grade=offender.iom_grade,
                reason="Grade given when the person was added",
                changed_by=actor.user,
                agency_id=actor.agency_id,
            )
    return offender


def offender_update(*, user: Any, offender_id: int, data: dict[str, Any]) -> Offender:
    actor = as_actor(user)
    with transaction.atomic():
        offender = offender_get(user=actor, pk=offender_id)
        if not can_write(actor, RecordKind.IDENTITY, offender.pk):
            raise NotPermitted("Your role cannot change this person's details")
        _only_fields(data, [*EDITABLE_IDENTITY_FIELDS, STRANDS])
        data = dict(data)
        strands = _strand_set(data)
        changed = [name for name, value in data.items() if getattr(offender, name) != value]
        for name in changed:
            setattr(offender, name, data[name])
        offender.full_clean()
        offender.save()
        if strands is not None and _set_strands(offender, strands):
            changed.append(STRANDS)
        audit.altered(actor, AuditAction.UPDATE, offender, changed=changed)
    return offender


def custody_episode_create(*, user: Any, offender_id: int, data: dict[str, Any]) -> CustodyEpisode:
    actor = as_actor(user)
    with transaction.atomic():
        offender = offender_get(user=actor, pk=offender_id)
        if not can_write(actor, RecordKind.CUSTODY, offender.pk):
            raise NotPermitted("Your role cannot record custody for this person")
        episode = CustodyEpisode(offender=offender, **data)
        episode.full_clean()
        episode.save()
        audit.altered(actor, AuditAction.CREATE, episode, changed=data.keys())
        # 004 §4.2: the key worker and police told when a release date is set.
        if episode.released_on is None:
            release_date_changed(actor, episode, None)
    return episode


def _own_agency_id(actor: Any) -> int:
    """The agency a record made now belongs to: the actor's own."""
    if actor.agency_id is None:
        raise NotPermitted("You have no current agency, so you cannot record this")
    return int(actor.agency_id)


def _require(
    actor: Any, kind: RecordKind, offender_id: int, *, agency_id: int | None = None, what: str
) -> None:
    if not can_write(actor, kind, offender_id, record_agency_id=agency_id):
        raise NotPermitted(f"Your role cannot {what} for this person")


def contact_log(
    *,
    user: Any,
    offender_id: int,
    occurred_at: Any,
    kind: str,
    outcome: str,
    face_to_face: bool = True,
    note: str = "",
) -> Contact:
    """Log a contact by the acting worker for their own agency.

    001 §3.2e: a failed-to-attend while on licence or a community order is flagged
    for fast-track breach or recall, and opens an enforcement case on a clock in the same
    transaction (offenders.enforcement.enforcement_open).
    """
    actor = as_actor(user)
    with transaction.atomic():
        offender = offender_get(user=actor, pk=offender_id, write=True)
        _require(
            actor, RecordKind.CONTACTS, offender.pk, agency_id=actor.agency_id, what="log contacts"
        )
        contact = Contact(
            offender=offender,
            worker=actor.user,
            agency_id=_own_agency_id(actor),
            occurred_at=occurred_at,
            kind=kind,
            outcome=outcome,
            face_to_face=face_to_face,
            note=note,
            enforcement_flagged=(
                outcome == ContactOutcome.FAILED and offender.supervision in ENFORCEABLE_SUPERVISION
            ),
        )
        contact.full_clean()
        contact.save()
        audit.altered(actor, AuditAction.CREATE, contact)
        if contact.enforcement_flagged:
            enforcement_open(user=actor, contact=contact)
    return contact


# Supervision whose breach can be fast-tracked (001 §3.2e "fast-tracked recalls and breaches"):
# a licence (recall) or an order (breach), offenders.enforcement.ENFORCING_STEP.
ENFORCEABLE_SUPERVISION = frozenset(ENFORCING_STEP)


def drug_test_record(
    *,
    user: Any,
    offender_id: int,
    tested_at: Any,
    result: str,
    substances: str = "",
    note: str = "",
) -> DrugTest:
    actor = as_actor(user)
    with transaction.atomic():
        offender = offender_get(user=actor, pk=offender_id, write=True)
        _require(
            actor,
            RecordKind.DRUG_TESTS,
            offender.pk,
            agency_id=actor.agency_id,
            what="record drug tests",
        )
        test = DrugTest(
            offender=offender,
            tested_at=tested_at,
            agency_id=_own_agency_id(actor),
            tester=actor.user,
            result=result,
            substances=substances,
            note=note,
        )
        test.full_clean()
        test.save()
        audit.altered(actor, AuditAction.CREATE, test)
    return test


def offending_event_record(
    *,
    user: Any,
    offender_id: int,
    kind: str,
    occurred_on: Any,
    recorded_on: Any = None,
    category: Any = None,
    source_reference: str = "",
    summary: str = "",
) -> OffendingEvent:
    """An arrest, charge, intelligence report… recorded by hand (police, PPO manager).

    Without a reference from the source system the event gets one of our own, so the
    uniqueness of (source, reference) that keeps imports idempotent still holds.
    """
    actor = as_actor(user)
    kind_of_record = kind_of_event(kind)
    with transaction.atomic():
        offender = offender_get(user=actor, pk=offender_id, write=True)
        _require(actor, kind_of_record, offender.pk, what=f"record {kind_of_record.value} records")
        event = OffendingEvent(
            offender=offender,
            kind=kind,
            category=category,
            occurred_on=occurred_on,
            recorded_on=recorded_on or timezone.localdate(),
            source_agency_id=_own_agency_id(actor),
            source_reference=source_reference or f"PPOCASE-{uuid.uuid4().hex[:12].upper()}",
            summary=summary,
            recorded_by=actor.user,
        )
        event.full_clean()
        event.save()
        audit.altered(actor, AuditAction.CREATE, event)
    return event


def custody_release(
    *, user: Any, offender_id: int, released_on: Any, supervision_on_release: str = ""
) -> CustodyEpisode:
    """Record the release that ends the open custody episode."""
    actor = as_actor(user)
    with transaction.atomic():
        offender = offender_get(user=actor, pk=offender_id, write=True)
        _require(actor, RecordKind.CUSTODY, offender.pk, what="record custody")
        episode = (
            CustodyEpisode.objects.select_for_update()
            .filter(offender=offender, released_on__isnull=True)
            .order_by("-started_on")
            .first()
        )
        if episode is None:
            raise ApplicationError("This person has no open custody episode to release them from")
        episode.released_on = released_on
        if supervision_on_release:
            episode.supervision_on_release = supervision_on_release
        episode.full_clean()
        episode.save()
        if supervision_on_release:
            offender.supervision = supervision_on_release
            offender.save(update_fields=["supervision", "updated_at"])
        audit.altered(
            actor, AuditAction.UPDATE, episode, changed=["released_on", "supervision_on_release"]
        )
    return episode


def grade_change(*, user: Any, offender_id: int, to_grade: str, reason: str) -> GradeChange:
    """Change the IOM grade (003 §5.6) with a reason; the history keeps who, when, from and to."""
    actor = as_actor(user)
    with transaction.atomic():
        offender = offender_get(user=actor, pk=offender_id, write=True)
        _require(actor, RecordKind.IDENTITY, offender.pk, what="change the IOM grade")
        if to_grade not in IomGrade.values:
            raise ApplicationError("Choose a grade", field_errors={"to_grade": ["Choose a grade"]})
        if not reason.strip():
            raise ApplicationError(
                "Enter the reason for the change",
                field_errors={"reason": ["Enter the reason for the change"]},
            )
        if to_grade == offender.iom_grade:
            raise ApplicationError(
                "The person already has this grade",
                field_errors={"to_grade": ["The person already has this grade"]},
            )
        change = GradeChange.objects.create(
            offender=offender,
            from_grade=offender.iom_grade,
            to_grade=to_grade,
            reason=reason.strip(),
            changed_by=actor.user,
            agency_id=actor.agency_id,
        )
        offender.iom_grade = to_grade
        offender.save(update_fields=["iom_grade", "updated_at"])
        audit.altered(actor, AuditAction.UPDATE, offender, changed=["iom_grade"])
    return change
