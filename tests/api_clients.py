"""Helpers for the partner API's tests: API clients made directly, not by the service
under test (access.api_clients.api_client_create), and calls with a bearer token."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from access.models import Agency, ApiClient, Membership
from tests.factories import ROLE_DEFAULT_AGENCY, AgencyFactory, UserFactory


def make_api_client(
    role: str, agency: Agency | None = None, *, expires_in: dt.timedelta | None = None
) -> tuple[ApiClient, str]:
    """An API client acting as `role` for `agency` (a default agency of the role's kind),
    and its token."""
    if agency is None:
        kind = ROLE_DEFAULT_AGENCY[role]
        agency = AgencyFactory(name=f"{kind.label} agency", kind=kind)
    token = "test_" + secrets.token_urlsafe(24)
    n = ApiClient.objects.count() + 1
    user = get_user_model().objects.create(username=f"api-test-{n}-{role}")
    user.set_unusable_password()
    user.save()
    Membership.objects.create(user=user, agency=agency, role=role, started_on=dt.date(2020, 1, 1))
    client = ApiClient.objects.create(
        name=f"Test system {n} ({role})",
        agency=agency,
        role=role,
        user=user,
        token_prefix=token[:8],
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
        created_by=UserFactory(),
        expires_at=timezone.now() + (expires_in or dt.timedelta(days=30)),
    )
    return client, token


class Api:
    """Calls to /api/v1/ with a bearer token; JSON in and out."""

    def __init__(self, token: str | None):
        self.http = APIClient()
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def get(self, path: str, params: dict[str, Any] | None = None, **headers: Any) -> Any:
        return self.http.get(f"/api/v1/{path}", params or {}, **self.headers, **headers)

    def post(self, path: str, body: Any, **headers: Any) -> Any:
        return self.http.post(
            f"/api/v1/{path}",
            json.dumps(body, default=str),
            content_type="application/json",
            **self.headers,
            **headers,
        )


@pytest.fixture(autouse=True)
def fresh_throttle_counts() -> Iterator[None]:
    """The per-client throttle counts in the cache, which outlives a test's database:
    a client numbered 1 in one test must not inherit another test's requests."""
    cache.clear()
    yield
    cache.clear()
