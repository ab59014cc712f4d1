"""Writes to users, memberships, agencies, the scheme's settings and reference data.

ACCESS.md "Administration": an administrator manages *other* people's accounts; every
change is audited with who, what (the fields changed, old and new values, never a
password or its hash) and why (the reason typed on the form), in the same transaction
as the change. Nobody changes their own account, role or membership through the app and
nobody becomes a superuser through it: permissions come from memberships and the seed.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Model

from . import audit
from .errors import NotPermitted
from .models import ApiClient, AuditAction, AuditEvent, Membership
from .policy import Actor

# Whatever the form, these are never written to the audit trail, only that they changed.
SECRET_FIELDS = frozenset({"password", "password1", "password2"})
# Set only from the command line (createsuperuser) or the seed, never through the app.
PRIVILEGE_FIELDS = frozenset({"is_superuser", "user_permissions", "groups"})

REASON_MAX_LENGTH = 500


def _is_user(instance: Any) -> bool:
    return isinstance(instance, get_user_model())


def account_change_refusal(*, actor: Actor, user: Any) -> str:
    """Why this actor may not change this user's account, or "" if they may."""
    if actor.user is None:
        return "Sign in to change accounts."
    if user.pk is not None and user.pk == actor.user.pk:
        return (
            "You cannot change your own account, role or membership here. "
            "Ask another administrator to do it."
        )
    if user.is_superuser and not actor.user.is_superuser:
        return "Only a superuser can change a superuser's account."
    if user.pk is not None and ApiClient.objects.filter(user_id=user.pk).exists():
        # A partner system's service account (access.api_clients): it authenticates only
        # with its token, so it is never given a password, staff status or a new role here.
        return (
            "This is a partner system's API account: manage it on the API clients page, "
            "where its access can be revoked."
        )
    return ""


def membership_change_refusal(*, actor: Actor, user_id: int | None) -> str:
    if actor.user is None:
        return "Sign in to change memberships."
    if user_id is not None and user_id == actor.user.pk:
        return "You cannot add or change your own membership. Ask another administrator to do it."
    if user_id is not None and ApiClient.objects.filter(user_id=user_id).exists():
        # An API client's role is fixed when it is made (access.api_clients): a new role
        # is a new client, so what a token can do never changes under the partner's feet.
        return "This is a partner system's API account: its role is set when it is created."
    return ""


def change_refusal(*, actor: Actor, instance: Model) -> str:
    """Why this actor may not change this record here, or "" if they may."""
    if _is_user(instance):
        return account_change_refusal(actor=actor, user=instance)
    if isinstance(instance, Membership):
        return membership_change_refusal(actor=actor, user_id=instance.user_id)
    return ""


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise NotPermitted("Give a reason for this change; it is kept in the audit log.")
    if len(reason) > REASON_MAX_LENGTH:
        raise NotPermitted(f"Keep the reason to {REASON_MAX_LENGTH} characters or fewer.")
    return reason


def admin_record_save(
    *,
    actor: Actor,
    instance: Model,
    created: bool,
    fields: dict[str, dict[str, Any]],
    reason: str,
) -> AuditEvent:
    """Save a user, membership, agency, scheme setting or reference record, and audit it.

    `fields` is what changed: {name: {"old": ..., "new": ...}} ("new" only on creation),
    already free of secrets. The audit row and the change are one transaction.
    """
    reason = _clean_reason(reason)
    refusal = change_refusal(actor=actor, instance=instance)
    if refusal:
        raise NotPermitted(refusal)
    if PRIVILEGE_FIELDS & fields.keys():
        raise NotPermitted("Superuser status, permissions and groups are not changed here.")
    safe = {
        name: ({"changed": True} if name in SECRET_FIELDS else values)
        for name, values in fields.items()
    }
    with transaction.atomic():
        instance.save()
        return audit.record(
            actor,
            AuditAction.CREATE if created else AuditAction.UPDATE,
            record_type=instance._meta.label_lower,
            records=[instance.pk],
            detail={"fields": safe, "reason": reason},
        )


def user_password_set(*, actor: Actor, user: Any, password: str | None, reason: str) -> AuditEvent:
    """Set (or, with None, disable) another person's password for account recovery.

    Your own password is changed on the password-change page, which asks for the old one.
    """
    reason = _clean_reason(reason)
    refusal = account_change_refusal(actor=actor, user=user)
    if refusal:
        raise NotPermitted(refusal)
    with transaction.atomic():
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        user.save(update_fields=["password"])
        return audit.record(
            actor,
            AuditAction.UPDATE,
            record_type=user._meta.label_lower,
            records=[user.pk],
            detail={
                "fields": {"password": {"changed": True, "usable": password is not None}},
                "reason": reason,
            },
        )
