from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

from .audit import write_denial
from .context import audit_context, client_ip, forget_memberships
from .models import Agency, Membership


def channel_of(path: str) -> str:
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/admin/"):
        return "admin"
    return "web"


@receiver(post_save, sender=Membership, dispatch_uid="access.forget_memberships.save")
@receiver(post_delete, sender=Membership, dispatch_uid="access.forget_memberships.delete")
@receiver(post_save, sender=Agency, dispatch_uid="access.forget_agencies.save")
def _membership_changed(**kwargs: Any) -> None:
    """A membership (or its agency) saved while a request is served: whoever acts next
    in it is read again (access.policy.actor_for remembers memberships per request)."""
    forget_memberships()


class AuditContextMiddleware:
    """Tells the audit trail where a request comes from, and writes refusals; holds the
    request's context, in which each user's membership is read once (access.context).

    A refusal (404 for a record outside scope) is raised inside the request's
    transaction, which then rolls back; it is written here, after the view's
    transaction has ended, so that the refusal is never lost with it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with audit_context(
            channel=channel_of(request.path),
            path=request.get_full_path(),
            ip_address=client_ip(request),
            in_request=True,
        ) as ctx:
            response = self.get_response(request)
            if ctx.pending_denials:
                with transaction.atomic():
                    for denial in ctx.pending_denials:
                        write_denial(
                            denial["actor"],
                            record_type=denial["record_type"],
                            record_id=denial["record_id"],
                            reason=denial["reason"],
                        )
            return response


class NoStoreMiddleware:
    """Pages and API responses carry people's data: no browser or proxy may keep a copy
    (`Cache-Control: no-store`), so the back button on a shared computer or a caching
    proxy cannot show them to the next person. Static files are served before this
    (WhiteNoise) and stay cacheable."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        add_never_cache_headers(response)
        return response
