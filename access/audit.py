"""Writing the audit trail (DPA 2018 s.62): consultation, alteration, disclosure, sign-in.

Every function writes its row in the caller's transaction. If the row cannot
be written the exception propagates and the transaction — the read or write
being recorded — is undone with it. So are its link rows (access.models.AuditEventPerson,
AuditEventRecord): the database writes an event's people as the row is inserted (no
query more), and an event of more than AUDIT_IDS_IN_ROW people or records has its lists
written here, a batch at a time.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .context import current
from .models import (
    AUDIT_IDS_IN_ROW,
    AuditAction,
    AuditEvent,
    AuditEventPerson,
    AuditEventRecord,
)
from .policy import Actor, as_actor

# Link rows per INSERT (SQLite's limit on parameters lowers it there by itself).
LINK_BATCH = 5000


def _ids(values: Iterable[Any]) -> list[int]:
    return sorted({int(getattr(v, "pk", v)) for v in values})


def _listed(fields: dict[str, Any]) -> tuple[dict[str, Any], list[int], list[int]]:
    """The row's values, and the people and records to link apart: past AUDIT_IDS_IN_ROW
    of either, the row lists neither (`ids_listed_apart`) and both become link rows."""
    people, records = fields.pop("offender_ids"), fields["record_ids"]
    apart = len(people) > AUDIT_IDS_IN_ROW or len(records) > AUDIT_IDS_IN_ROW
    row = {
        **fields,
        "record_ids": [] if apart else records,
        "offender_refs": "" if apart else AuditEvent.refs_for(people),
        "ids_listed_apart": apart,
    }
    return row, people if apart else [], records if apart else []


def _link(events: list[tuple[AuditEvent, list[int], list[int]]]) -> None:
    """The link rows of events listed apart: their people and records, a batch at a time.
    (An event whose row lists its people is linked to them by the database itself, as the
    row is inserted: access migration 0009.)"""
    people = [AuditEventPerson(event=e, offender_id=pk) for e, ids, _ in events for pk in ids]
    if people:
        AuditEventPerson.objects.bulk_create(people, batch_size=LINK_BATCH)
    records = [AuditEventRecord(event=e, record_id=pk) for e, _, ids in events for pk in ids]
    if records:
        AuditEventRecord.objects.bulk_create(records, batch_size=LINK_BATCH)


def record(
    who: Actor | Any,
    action: str,
    *,
    record_type: str = "",
    records: Iterable[Any] = (),
    offenders: Iterable[Any] = (),
    recipient: str = "",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    row, people, listed_records = _listed(
        _fields(
            who,
            action,
            record_type=record_type,
            records=records,
            offenders=offenders,
            recipient=recipient,
            detail=detail,
        )
    )
    event = AuditEvent.objects.create(**row)
    _link([(event, people, listed_records)])
    return event


def _fields(
    who: Actor | Any,
    action: str,
    *,
    record_type: str = "",
    records: Iterable[Any] = (),
    offenders: Iterable[Any] = (),
    recipient: str = "",
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The values of the audit row `record` writes, its people as `offender_ids`."""
    actor = who if isinstance(who, Actor) else (as_actor(who) if who is not None else None)
    ctx = current()
    user = actor.user if actor else None
    membership = actor.membership if actor else None
    return {
        "user": user,
        # The scheme acting by itself (policy.system_actor) is named by what it was doing.
        "username": getattr(user, "username", "")
        or (f"system: {actor.system}" if actor and actor.system else ""),
        "agency_name": membership.agency.name if membership else "",
        "role": (actor.role or "") if actor else "",
        "action": action,
        "record_type": record_type,
        "record_ids": _ids(records),
        "offender_ids": _ids(offenders),
        "channel": ctx.channel,
        "path": ctx.path[:500],
        "ip_address": ctx.ip_address,
        "recipient": recipient or ctx.recipient,
        "detail": {**(detail or {}), **({"api_client": ctx.api_client} if ctx.api_client else {})},
    }


def consulted(actor: Actor, record_type: str, records: Iterable[Any], **detail: Any) -> AuditEvent:
    """A list, search or export returned these records to the actor."""
    records = list(records)
    offenders = (
        records
        if record_type == "offenders.offender"
        else [getattr(r, "offender_id", None) for r in records if getattr(r, "offender_id", None)]
    )
    return record(
        actor,
        AuditAction.LIST,
        record_type=record_type,
        records=records,
        offenders=offenders,
        detail=detail,
    )


def viewed(actor: Actor, offender: Any, **detail: Any) -> AuditEvent:
    return record(
        actor,
        AuditAction.VIEW,
        record_type="offenders.offender",
        records=[offender],
        offenders=[offender],
        detail=detail,
    )


def altered(
    actor: Actor,
    action: str,
    instance: Any,
    *,
    offender_id: int | None = None,
    changed: Iterable[str] = (),
) -> AuditEvent:
    label = instance._meta.label_lower
    if offender_id is None:
        offender_id = (
            instance.pk if label == "offenders.offender" else getattr(instance, "offender_id", None)
        )
    return record(
        actor,
        action,
        record_type=label,
        records=[instance.pk],
        offenders=[offender_id] if offender_id else [],
        detail={"fields": sorted(changed)} if changed else {},
    )


def created_many(actor: Actor, instances: Iterable[Any]) -> list[AuditEvent]:
    """One "created" row per record, as `altered(actor, CREATE, …)` writes for one, in a
    single insert: for work that creates records by the thousand (the first sweep of
    reviews on a large scheme), where a row at a time would be most of its time."""
    listed = [
        _listed(
            _fields(
                actor,
                AuditAction.CREATE,
                record_type=instance._meta.label_lower,
                records=[instance.pk],
                offenders=[instance.offender_id] if getattr(instance, "offender_id", None) else [],
            )
        )
        for instance in instances
    ]
    events = AuditEvent.objects.bulk_create(
        [AuditEvent(**row) for row, _, _ in listed], batch_size=1000
    )
    _link(
        [
            (event, people, records)
            for event, (_, people, records) in zip(events, listed, strict=True)
        ]
    )
    return events


def denied(actor: Actor | None, record_type: str, record_id: Any, reason: str) -> None:
    """Record a refusal. Inside a request it is written after the request's
    transaction has rolled back (AuditContextMiddleware); elsewhere at once."""
    entry = {"record_type": record_type, "record_id": record_id, "reason": reason}
    ctx = current()
    if ctx.in_request:
        ctx.pending_denials.append({"actor": actor, **entry})
    else:
        write_denial(actor, **entry)


# The largest record number the database holds (a 64-bit integer): a refused lookup of a
# larger one names no one who could exist, so the trail keeps it as what was asked for.
LARGEST_RECORD_NUMBER = 2**63 - 1


def write_denial(actor: Actor | None, *, record_type: str, record_id: Any, reason: str) -> None:
    number = str(record_id)
    possible = number.isdigit() and 0 < int(number) <= LARGEST_RECORD_NUMBER
    detail: dict[str, Any] = {"reason": reason}
    if number.isdigit() and not possible:
        detail["asked_for"] = number[:40]
    record(
        actor,
        AuditAction.DENIED,
        record_type=record_type,
        records=[record_id] if possible else [],
        offenders=[record_id] if possible and record_type == "offenders.offender" else [],
        detail=detail,
    )
