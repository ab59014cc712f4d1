"""Writing the audit trail (DPA 2018 s.62): consultation, alteration, disclosure, sign-in.

Every function writes its row in the caller's transaction. If the row cannot
be written the exception propagates and the transaction — the read or write
being recorded — is undone with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .context import current
from .models import AuditAction, AuditEvent
from .policy import Actor, as_actor


def _ids(values: Iterable[Any]) -> list[int]:
    return sorted({int(getattr(v, "pk", v)) for v in values})


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
    return AuditEvent.objects.create(
        **_fields(
            who,
            action,
            record_type=record_type,
            records=records,
            offenders=offenders,
            recipient=recipient,
            detail=detail,
        )
    )


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
    """The values of the audit row `record` writes."""
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
        "offender_refs": AuditEvent.refs_for(_ids(offenders)),
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
    events = [
        AuditEvent(
            **_fields(
                actor,
                AuditAction.CREATE,
                record_type=instance._meta.label_lower,
                records=[instance.pk],
                offenders=[instance.offender_id] if getattr(instance, "offender_id", None) else [],
            )
        )
        for instance in instances
    ]
    return AuditEvent.objects.bulk_create(events, batch_size=1000)


def denied(actor: Actor | None, record_type: str, record_id: Any, reason: str) -> None:
    """Record a refusal. Inside a request it is written after the request's
    transaction has rolled back (AuditContextMiddleware); elsewhere at once."""
    entry = {"record_type": record_type, "record_id": record_id, "reason": reason}
    ctx = current()
    if ctx.in_request:
        ctx.pending_denials.append({"actor": actor, **entry})
    else:
        write_denial(actor, **entry)


def write_denial(actor: Actor | None, *, record_type: str, record_id: Any, reason: str) -> None:
    offenders = [record_id] if record_type == "offenders.offender" and record_id else []
    record(
        actor,
        AuditAction.DENIED,
        record_type=record_type,
        records=[record_id] if str(record_id).isdigit() else [],
        offenders=offenders,
        detail={"reason": reason},
    )
