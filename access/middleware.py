from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

from .audit import write_denial
from .context import audit_context, client_ip


def channel_of(path: str) -> str:
    if path.startswith("/api/"):
        return "api"
    if path.startswith("/admin/"):
        return "admin"
    return "web"


class AuditContextMiddleware:
    """Tells the audit trail where a request comes from, and writes refusals.

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
