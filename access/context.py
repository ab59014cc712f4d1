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
    # An API request (access.api_clients): the client is the "who" and its agency the
    # recipient of whatever the request discloses (issue 12).
    recipient: str = ""
    api_client: str = ""
    # Each user's membership on a day, read once per request (access.policy.actor_for):
    # the view, the navigation and every selector it calls ask the same question, and
    # within one request the answer cannot change unless a membership is saved, which
    # empties this (access.middleware). Never kept across requests (ACCESS.md).
    memberships: dict[tuple[Any, Any], Any] = field(default_factory=dict)


_current: contextvars.ContextVar[AuditContext | None] = contextvars.ContextVar(
    "ppo_audit_context", default=None
)


def current() -> AuditContext:
    return _current.get() or AuditContext()


def request_context() -> AuditContext | None:
    """The context of the request being served, or None outside one (commands, tasks,
    a function called directly), where nothing is remembered."""
    ctx = _current.get()
    return ctx if ctx is not None and ctx.in_request else None


def forget_memberships() -> None:
    """Drop the memberships this request has read (one was saved or deleted)."""
    ctx = _current.get()
    if ctx is not None:
        ctx.memberships.clear()


@contextmanager
def audit_context(**kwargs: Any) -> Iterator[AuditContext]:
    ctx = AuditContext(**kwargs)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def client_ip(request: Any) -> str | None:
    """The address a request came from, for the audit trail and sign-in lockout.

    Behind PPO_PROXY_COUNT trusted reverse proxies, each appending to X-Forwarded-For,
    the client is that many entries from the right; anything further left could be
    forged by the client. With no proxies configured the header is ignored.
    """
    from django.conf import settings

    proxies = getattr(settings, "PPO_PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies > 0 and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-min(proxies, len(hops))]
    return request.META.get("REMOTE_ADDR") or None
