"""`/healthz`: is the database answering, and is the Celery broker reachable?

200 `{"database": "ok", "broker": "ok"}` when both are; 503 with the one that failed
("unavailable") otherwise. With the embedded default (no REDIS_URL: tasks run in-process)
there is no broker: `"broker": "not used"`.

No session, no sign-in, no audit row, no personal data: it reads nothing but `SELECT 1`
and a Redis PING. `HealthCheckMiddleware` answers it first in MIDDLEWARE, before
SecurityMiddleware and CommonMiddleware, so a probe inside the container
(`http://127.0.0.1:8000/healthz`) gets neither the HTTPS redirect nor a 400 for a host
that is not in DJANGO_ALLOWED_HOSTS. The URL route exists too (reverse("healthz")).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_safe

PATH = "/healthz"
OK, FAILED, NOT_USED = "ok", "unavailable", "not used"
TIMEOUT_SECONDS = 3

log = logging.getLogger(__name__)


def database_status() -> str:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any failure means "not answering"
        log.warning("Health check: the database does not answer (%s)", type(error).__name__)
        return FAILED
    return OK


def broker_status() -> str:
    url = getattr(settings, "REDIS_URL", "")
    if not url:
        return NOT_USED
    import redis

    try:
        client = redis.Redis.from_url(
            url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS
        )
        try:
            client.ping()
        finally:
            client.close()
    except Exception as error:  # any failure means "not reachable"
        log.warning("Health check: the broker is not reachable (%s)", type(error).__name__)
        return FAILED
    return OK


@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    checks = {"database": database_status(), "broker": broker_status()}
    healthy = all(value in (OK, NOT_USED) for value in checks.values())
    response = JsonResponse(checks, status=200 if healthy else 503)
    add_never_cache_headers(response)
    return response


class HealthCheckMiddleware:
    """Answers GET/HEAD /healthz before any other middleware (see the module's docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.rstrip("/") == PATH and request.method in ("GET", "HEAD"):
            return healthz(request)
        return self.get_response(request)
