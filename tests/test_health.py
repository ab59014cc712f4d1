"""`/healthz` (ppo_case/health.py): the database and the Celery broker, for docker-compose's
health checks and a load balancer."""

from __future__ import annotations

import json

import pytest
from django.db import OperationalError
from django.test import Client, override_settings
from django.urls import reverse

from access.models import AuditEvent
from ppo_case import health
from tests.ops_support import redis_url

# Nothing listens on port 1: a broker that is down.
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"


def _get(client: Client, **extra: str) -> tuple[int, dict[str, str]]:
    response = client.get("/healthz", **extra)
    assert response["Content-Type"] == "application/json"
    return response.status_code, json.loads(response.content)


@pytest.mark.django_db
@override_settings(REDIS_URL="")
def test_with_the_embedded_default_the_broker_is_not_used(client: Client) -> None:
    assert _get(client) == (200, {"database": "ok", "broker": "not used"})
    assert reverse("healthz") == "/healthz"


@pytest.mark.django_db
def test_a_broker_that_is_down_is_a_503_naming_it(client: Client) -> None:
    with override_settings(REDIS_URL=UNREACHABLE_REDIS):
        assert _get(client) == (503, {"database": "ok", "broker": "unavailable"})


@pytest.mark.django_db
def test_a_database_that_does_not_answer_is_a_503_naming_it(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Down:
        def cursor(self) -> None:
            raise OperationalError("connection refused")

    monkeypatch.setattr(health, "connections", {"default": Down()})
    with override_settings(REDIS_URL=""):
        assert _get(client) == (503, {"database": "unavailable", "broker": "not used"})


@pytest.mark.django_db
def test_a_real_broker_answers(client: Client) -> None:
    url = redis_url()  # skipped without REDIS_URL on a developer's machine; CI sets it
    with override_settings(REDIS_URL=url):
        assert _get(client) == (200, {"database": "ok", "broker": "ok"})


@pytest.mark.django_db
@override_settings(
    REDIS_URL="",
    SECURE_SSL_REDIRECT=True,
    ALLOWED_HOSTS=["ppo.example.org"],
)
def test_a_probe_over_plain_http_to_another_host_name_is_answered(client: Client) -> None:
    """What docker-compose's check sends: http://127.0.0.1:8000/healthz."""
    assert _get(client, HTTP_HOST="127.0.0.1:8000") == (
        200,
        {"database": "ok", "broker": "not used"},
    )
    # Every other page still redirects to HTTPS and checks the host.
    assert client.get("/", HTTP_HOST="ppo.example.org").status_code == 301
    assert client.get("/", HTTP_HOST="127.0.0.1:8000").status_code == 400


@pytest.mark.django_db
@override_settings(REDIS_URL="")
def test_no_session_no_audit_and_no_caching(client: Client) -> None:
    before = AuditEvent.objects.count()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert not response.cookies
    assert "no-store" in response["Cache-Control"]
    assert AuditEvent.objects.count() == before
    # Only GET and HEAD.
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405
