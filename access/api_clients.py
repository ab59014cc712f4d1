"""API clients: their tokens, who creates and revokes them, and how a request proves it
is one (issue 12).

A token is 32 random bytes from `secrets` (256 bits), shown once when the client is
created and stored only as its SHA-256. A token that long is not guessable and not in
any dictionary, so a slow password hash (PBKDF2, Argon2) would add nothing but latency to
every request: a fast hash of a high-entropy secret is the standard practice for API
keys, and looking the hash up by a unique index keeps comparison out of Python.

An API client acts as a member of its agency: a service user with an unusable password
(it cannot sign in to the pages or the admin) and a membership in the client's agency with
the client's role, so `access.policy.actor_for(client.user)` gives exactly the agency's
scope, field sets and grants (ACCESS.md "API client").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from . import audit
from .context import current
from .errors import ApplicationError, NotPermitted
from .models import Agency, ApiClient, AuditAction, Membership, Role
from .policy import Actor

TOKEN_PREFIX = "ppo_"  # noqa: S105 (a label, not a secret)
TOKEN_BYTES = 32
PREFIX_SHOWN = 8
# A token lives at most a year: a partner system renews it, so a leaked one dies.
MAX_LIFETIME = dt.timedelta(days=366)
# last_used_at is written at most once a minute per client: a busy partner system would
# otherwise write a row on every request, and "last used" to the minute is enough.
LAST_USED_RESOLUTION = dt.timedelta(seconds=60)
# Roles a partner system may act in: every role with casework or aggregates. The
# administrator's role manages users and reference data, which the API does not offer.
API_ROLES = [role for role in Role if role != Role.ADMINISTRATOR]
# Who creates, lists and revokes API clients (issue 12).
MANAGING_ROLES = frozenset({Role.PPO_MANAGER, Role.ADMINISTRATOR})
RECORD_TYPE = "access.apiclient"
INVALID_TOKEN = "The token is not valid, has expired or has been revoked"  # noqa: S105


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def may_manage_api_clients(actor: Actor) -> bool:
    return actor.role in MANAGING_ROLES and actor.user is not None


def _refuse(field: str, message: str) -> ApplicationError:
    return ApplicationError(message, field_errors={field: [message]})


def _service_username(name: str) -> str:
    base = f"api-{slugify(name)[:100] or 'client'}"
    users = get_user_model().objects
    username, n = base, 1
    while users.filter(username=username).exists():
        n += 1
        username = f"{base}-{n}"
    return username


def api_client_create(
    *,
    actor: Actor,
    name: str,
    agency: Agency,
    role: str,
    expires_at: dt.datetime,
    reason: str,
) -> tuple[ApiClient, str]:
    """A new API client for `agency` acting as `role`, and its token: the only time the
    token is ever seen. Audited with who created it and why."""
    if not may_manage_api_clients(actor):
        raise NotPermitted("Only a PPO manager or an administrator can create API clients")
    name, reason = (name or "").strip(), (reason or "").strip()
    now = timezone.now()
    if not name:
        raise _refuse("name", "Enter a name for the client, like the partner system's name")
    if len(name) > 200:
        raise _refuse("name", "The name must be 200 characters or fewer")
    if ApiClient.objects.filter(name__iexact=name).exists():
        raise _refuse("name", "An API client with this name already exists")
    if not agency.active:
        raise _refuse("agency", "Choose an active agency")
    if role not in API_ROLES:
        raise _refuse("role", "Choose the role the client acts in")
    if expires_at is None or expires_at <= now:
        raise _refuse("expires_at", "The expiry must be in the future")
    if expires_at > now + MAX_LIFETIME:
        raise _refuse("expires_at", "A token can last at most a year")
    if not reason:
        raise _refuse("reason", "Enter why this partner system needs access")
    token = new_token()
    with transaction.atomic():
        user = get_user_model()(username=_service_username(name), is_staff=False)
        user.set_unusable_password()
        user.save()
        membership = Membership(user=user, agency=agency, role=role, started_on=now.date())
        try:
            # The one check of which roles an agency's members may hold (ROLE_AGENCY_KINDS).
            membership.full_clean()
        except ValidationError as error:
            errors = error.message_dict
            message = (errors.get("role") or next(iter(errors.values())))[0]
            raise _refuse("role", message) from None
        membership.save()
        client = ApiClient.objects.create(
            name=name,
            agency=agency,
            role=role,
            user=user,
            token_prefix=token[:PREFIX_SHOWN],
            token_hash=token_hash(token),
            created_by=actor.user,
            created_at=now,
            expires_at=expires_at,
        )
        audit.record(
            actor,
            AuditAction.CREATE,
            record_type=RECORD_TYPE,
            records=[client.pk],
            detail={
                "reason": reason,
                "name": name,
                "agency": agency.name,
                "role": role,
                "expires_at": expires_at.isoformat(),
            },
        )
    return client, token


def api_client_revoke(*, actor: Actor, client: ApiClient, reason: str) -> ApiClient:
    """End a client's access now, for good: its token stops working and its service user
    is made inactive, so it has no membership the policy would honour either."""
    if not may_manage_api_clients(actor):
        raise NotPermitted("Only a PPO manager or an administrator can revoke API clients")
    reason = (reason or "").strip()
    if not reason:
        raise _refuse("reason", "Enter why the client's access is being revoked")
    with transaction.atomic():
        client = ApiClient.objects.select_for_update().get(pk=client.pk)
        if client.revoked_at is not None:
            raise ApplicationError("This client's access has already been revoked")
        client.revoked_at = timezone.now()
        client.revoked_by = actor.user
        client.save(update_fields=["revoked_at", "revoked_by"])
        get_user_model().objects.filter(pk=client.user_id).update(is_active=False)
        audit.record(
            actor,
            AuditAction.UPDATE,
            record_type=RECORD_TYPE,
            records=[client.pk],
            detail={"fields": ["revoked_at"], "reason": reason, "name": client.name},
        )
    return client


def api_client_list(*, actor: Actor) -> Any:
    if not may_manage_api_clients(actor):
        raise NotPermitted("Only a PPO manager or an administrator can see API clients")
    return ApiClient.objects.select_related("agency", "created_by", "revoked_by")


# --- Authenticating a request ------------------------------------------------------------


class ApiTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <token>` → the client's service user (request.user) and
    the client (request.auth). The only authentication on the API: no session, so no
    CSRF, and a signed-in browser cannot call it by accident."""

    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiClient] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("Send the header as: Authorization: Bearer <token>")
        try:
            token = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise AuthenticationFailed(INVALID_TOKEN) from None
        now = timezone.now()
        client = (
            ApiClient.objects.select_related("user", "agency")
            .filter(token_hash=token_hash(token))
            .first()
        )
        if client is None or not client.usable_at(now) or not client.user.is_active:
            # Written after the request's transaction has rolled back (access.middleware).
            reason = "unknown API token" if client is None else f"API token {client.status}"
            audit.denied(None, RECORD_TYPE, client.pk if client else "", reason)
            raise AuthenticationFailed(INVALID_TOKEN)
        if client.last_used_at is None or now - client.last_used_at >= LAST_USED_RESOLUTION:
            ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
            client.last_used_at = now
        ctx = current()
        ctx.recipient = client.agency.name
        ctx.api_client = client.name
        return client.user, client

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="PPO Case API"'


class IsApiClient(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, ApiClient)


class ApiClientRateThrottle(SimpleRateThrottle):
    """Requests per client (REST_FRAMEWORK DEFAULT_THROTTLE_RATES "api_client"), counted
    in the default cache: Redis when REDIS_URL is set, so every worker shares the count."""

    scope = "api_client"

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if isinstance(request.auth, ApiClient):
            ident = f"client-{request.auth.pk}"
        else:
            ident = self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
