"""Where the current action comes from (web, api, admin, command, task), for the audit trail."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class AuditContext:
    channel: str = "command"
    path: str = ""
    ip_address: str | None = None
    # Refusals raised inside a request's transaction are written after it has
    # rolled back, so that the refusal itself is never lost (see middleware).
    pending_denials: list[dict[str, Any]] = field(default_factory=list)
    in_request: bool = False


_current: contextvars.ContextVar[AuditContext | None] = contextvars.ContextVar(
    "ppo_audit_context", default=None
)


def current() -> AuditContext:
    return _current.get() or AuditContext()


@contextmanager
def audit_context(**kwargs: Any) -> Iterator[AuditContext]:
    ctx = AuditContext(**kwargs)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
