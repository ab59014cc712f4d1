from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from . import audit
from .context import client_ip, current
from .models import AuditAction
from .policy import actor_for


def _ip(request: Any) -> None:
    if request is not None:
        current().ip_address = client_ip(request) or current().ip_address


@receiver(user_logged_in)
def audit_sign_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    _ip(request)
    audit.record(actor_for(user), AuditAction.SIGN_IN)


@receiver(user_logged_out)
def audit_sign_out(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit.record(actor_for(user), AuditAction.SIGN_OUT)


@receiver(user_login_failed)
def audit_failed_sign_in(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    _ip(request)
    audit.record(
        None,
        AuditAction.SIGN_IN_FAILED,
        detail={"username": str(credentials.get("username", ""))[:150]},
    )
