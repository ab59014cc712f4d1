"""Every write to a person's record: checked against the policy, validated, saved and
audited in one transaction, or nothing at all."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from access import audit
from access.errors import NotPermitted
from access.models import AuditAction
from access.policy import RecordKind, as_actor, can_write, grant, people_q

from .models import CustodyEpisode, Offender
from .selectors import offender_get

IDENTITY_FIELDS = [
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
    "strand",
    "asset_score",
    "scaled_approach",
    "key_worker",
    "offender_manager",
    "police_officer",
]


def offender_create(*, user: Any, data: dict[str, Any]) -> Offender:
    actor = as_actor(user)
    if grant(actor, RecordKind.IDENTITY).write == 0:
        raise NotPermitted("Your role cannot add people to the record")
    unknown = set(data) - set(IDENTITY_FIELDS)
    if unknown:
        raise NotPermitted(f"Unknown fields: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        offender = Offender(**data)
        offender.full_clean()
        offender.save()
        # The person must fall within the creator's own scope (a YOT worker adds
        # under-18s); otherwise they would create a record they cannot see.
        if not Offender.objects.filter(pk=offender.pk).filter(people_q(actor, write=True)).exists():
            transaction.set_rollback(True)
            raise NotPermitted(
                "This person would be outside the people you work with, so you cannot add them"
            )
        audit.altered(actor, AuditAction.CREATE, offender, changed=data.keys())
    return offender


def offender_update(*, user: Any, offender_id: int, data: dict[str, Any]) -> Offender:
    actor = as_actor(user)
    with transaction.atomic():
        offender = offender_get(user=actor, pk=offender_id)
        if not can_write(actor, RecordKind.IDENTITY, offender.pk):
            raise NotPermitted("Your role cannot change this person's details")
        unknown = set(data) - set(IDENTITY_FIELDS)
        if unknown:
            raise NotPermitted(f"Unknown fields: {', '.join(sorted(unknown))}")
        changed = [name for name, value in data.items() if getattr(offender, name) != value]
        for name in changed:
            setattr(offender, name, data[name])
        offender.full_clean()
        offender.save()
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
    return episode
