"""Partner systems' API clients and the idempotency keys of their creates (issue 12).

An API client acts as a member of its agency: it owns a service `User` and a `Membership`
of that user in the agency with the client's role, so `access.policy.actor_for` gives it
exactly that agency's scope, field sets and grants (ACCESS.md "API client: exactly the
scope of the role of the agency it belongs to") and every selector and service works as
for a person. Its token is stored only as a hash (access.api_clients).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from .models import Role


class ApiClient(models.Model):
    name = models.CharField(max_length=200, unique=True)
    agency = models.ForeignKey("access.Agency", on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=20, choices=Role.choices)
    # The service account the client acts as: an unusable password and no staff flag, so
    # it can never sign in to the pages or the admin; only the token authenticates it.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_client"
    )
    # The token's first characters, shown in lists so a partner can tell tokens apart.
    token_prefix = models.CharField(max_length=8)
    # SHA-256 of the token, hex. Never the token itself (access.api_clients.token_hash).
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "API client"

    def __str__(self) -> str:
        return f"{self.name} ({self.agency})"

    def usable_at(self, when: object) -> bool:
        return self.revoked_at is None and self.expires_at > when  # type: ignore[operator]

    @property
    def status(self) -> str:
        if self.revoked_at is not None:
            return "Revoked"
        if self.expires_at <= timezone.now():
            return "Expired"
        return "Active"


class IdempotencyKey(models.Model):
    """A create an API client made with an `Idempotency-Key` header (access.api).

    Holds no personal data: the digest of the request it answered, the status, the digest
    of the response and which record it made. A repeat of the same request with the key
    is answered with that record as the client may see it now; a different request with
    the same key is refused (409).
    """

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_digest = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_digest = models.CharField(max_length=64)
    record_type = models.CharField(max_length=100)
    record_id = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "key"], name="unique_idempotency_key")
        ]

    def __str__(self) -> str:
        return f"{self.key} by {self.client_id}"
