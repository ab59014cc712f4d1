"""Two-factor sign-in (issue 14): a code from an authenticator app, or a recovery code.

Built on django-otp: its TOTP device (RFC 6238; it refuses a code of a time step already
used, and slows down repeated wrong codes) and its static device for the ten single-use
recovery codes. Recovery codes are kept only as a hash (`_stored_form`), so the database
cannot give them back; they are shown once, on the page that makes them.

The rule, applied once for every page by `TwoFactorMiddleware`:
- a signed-in session of someone who has set up two-factor sign-in must have been verified
  with it (the password step alone never signs them in: access.two_factor_views);
- with `PPO_REQUIRE_TWO_FACTOR` on, someone who has not set it up can only set it up;
- the partner API authenticates by token, not session, and is left alone.

Wrong codes count toward django-axes's lockout of the account and address (the same
AXES_FAILURE_LIMIT as wrong passwords), and are audited as failed sign-ins.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from base64 import b32encode
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import segno
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.safestring import SafeString, mark_safe
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp import verify_token as otp_verify_token
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import audit
from .errors import ApplicationError, NotPermitted
from .models import AuditAction, AuditEvent
from .policy import Actor, may_use_admin_site
from .services import _clean_reason, account_change_refusal

RECOVERY_CODE_COUNT = 10
# 12 characters from 31 that cannot be mistaken for one another (no 0/o, 1/l/i): about 59
# bits each, shown as xxxx-xxxx-xxxx.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_LENGTH = 12
AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"

CODE_FIELD = "code"
NO_CODE = "Enter the 6-digit code from your authenticator app"
CODE_NOT_DIGITS = "Enter the code as 6 digits, like 123456"
CODE_WRONG = "The code is not right. Enter the 6-digit code your authenticator app shows now"
CODE_REPLAYED = (
    "That code has already been used. Wait for your authenticator app to show a new code, "
    "then enter it"
)
NO_RECOVERY_CODE = "Enter one of your recovery codes"
RECOVERY_WRONG = (
    "That recovery code is not right or has already been used. Each recovery code works once"
)


class CodeRefused(ApplicationError):
    """A one-time code not accepted. `attempted` is False when no code was checked (empty,
    malformed, or too soon after a wrong one), so it does not count toward the lockout."""

    def __init__(self, message: str, *, attempted: bool):
        super().__init__(message, field_errors={CODE_FIELD: [message]})
        self.attempted = attempted


def is_required() -> bool:
    return bool(getattr(settings, "PPO_REQUIRE_TWO_FACTOR", True))


# --- Reads: a person's own devices ---------------------------------------------------------


def authenticator(user: Any) -> TOTPDevice | None:
    """The person's authenticator app, once set up (confirmed with a code)."""
    if not getattr(user, "pk", None):
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()


def has_second_factor(user: Any) -> bool:
    if not getattr(user, "pk", None):
        return False
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def recovery_codes_left(user: Any) -> int:
    device = StaticDevice.objects.filter(user=user).first()
    return device.token_set.count() if device else 0


@dataclass(frozen=True)
class Status:
    set_up_on: Any  # datetime of the authenticator's set-up, or None
    recovery_codes_left: int


def status(user: Any) -> Status:
    device = authenticator(user)
    return Status(
        set_up_on=device.created_at if device else None,
        recovery_codes_left=recovery_codes_left(user) if device else 0,
    )


# --- Enrolment -------------------------------------------------------------------------------


def enrolment_device(user: Any) -> TOTPDevice:
    """The not-yet-confirmed authenticator the set-up page shows: the same secret each time
    the page is opened, until a code from it confirms it."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


def secret_in_groups(device: TOTPDevice) -> str:
    """The secret as the authenticator app asks for it (base 32), in groups of four."""
    secret = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_code_svg(device: TOTPDevice) -> SafeString:
    """The otpauth:// address as an inline SVG QR code: no image request, no script."""
    svg = segno.make(device.config_url, error="m").svg_inline(
        scale=5,
        dark="#0b0c0c",
        light="#ffffff",
        title="QR code to scan with your authenticator app",
        svgclass="app-qr-code",
    )
    # segno writes only path data and the title given above (escaped): no user input.
    return mark_safe(svg)  # noqa: S308


def enrolment_confirm(*, user: Any, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the new authenticator with a code from it; it replaces any earlier one, and
    ten new recovery codes replace any earlier ones. Returns the device and the codes,
    which are not kept: the caller shows them once."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    if device is None:
        raise CodeRefused(
            "The set-up page was out of date. Scan the QR code again, then enter a new code",
            attempted=False,
        )
    _verify_authenticator(user, device, code)
    had_one = has_second_factor(user)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = _recovery_codes_replace(user)
        audit.record(
            user,
            AuditAction.UPDATE,
            record_type=user._meta.label_lower,
            records=[user.pk],
            detail={
                "fields": {
                    "second_factor": {
                        "old": "set up" if had_one else "not set up",
                        "new": "set up again" if had_one else "set up",
                    }
                }
            },
        )
    return device, codes


def recovery_codes_renew(*, user: Any) -> list[str]:
    """Ten new recovery codes for someone with an authenticator; the old ones stop working."""
    if not has_second_factor(user):
        raise NotPermitted("Set up two-factor sign-in first")
    with transaction.atomic():
        codes = _recovery_codes_replace(user)
        audit.record(
            user,
            AuditAction.UPDATE,
            record_type=user._meta.label_lower,
            records=[user.pk],
            detail={"fields": {"recovery_codes": {"changed": True}}},
        )
    return codes


def _recovery_codes_replace(user: Any) -> list[str]:
    # The same device with new codes: a session verified with a recovery code stays so.
    device = StaticDevice.objects.filter(user=user).order_by("pk").first()
    if device is None:
        device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME)
    StaticDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.token_set.all().delete()
    device.throttle_reset()
    codes = [
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    device.token_set.bulk_create(
        [device.token_set.model(device=device, token=_stored_form(user, c)) for c in codes]
    )
    return [f"{c[:4]}-{c[4:8]}-{c[8:]}" for c in codes]


def _stored_form(user: Any, code: str) -> str:
    """What is kept of a recovery code: a hash, salted with the account, cut to the 16
    characters django-otp's static token holds (64 bits: guessing one is no shorter than
    guessing the 59-bit code itself)."""
    return hashlib.sha256(f"ppo-case recovery code:{user.pk}:{code}".encode()).hexdigest()[:16]


def _normalised_recovery_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


# --- Checking a code at sign-in --------------------------------------------------------------


def _too_soon(device: Any) -> None:
    allowed, info = device.verify_is_allowed()
    if not allowed:
        locked_until = (info or {}).get("locked_until")
        wait = max(1, int(locked_until.timestamp() - time.time()) + 1) if locked_until else 1
        raise CodeRefused(
            f"The last code was not right. Wait {wait} second{'s' if wait != 1 else ''}, "
            "then try again",
            attempted=False,
        )


def _was_used_already(device: TOTPDevice, token: int) -> bool:
    """Whether the code is right for a time step already used (a replay), not just wrong."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return bool(totp.verify(token, device.tolerance)) and totp.t() <= device.last_t


def _verify_authenticator(user: Any, device: TOTPDevice, code: str) -> TOTPDevice:
    code = re.sub(r"\s", "", code or "")
    if not code:
        raise CodeRefused(NO_CODE, attempted=False)
    if not re.fullmatch(r"\d{6}", code):
        raise CodeRefused(CODE_NOT_DIGITS, attempted=False)
    _too_soon(device)
    verified = otp_verify_token(user, device.persistent_id, code)
    if verified is None:
        device.refresh_from_db()
        raise CodeRefused(
            CODE_REPLAYED if _was_used_already(device, int(code)) else CODE_WRONG,
            attempted=True,
        )
    return verified


def authenticator_code_check(*, user: Any, code: str) -> TOTPDevice:
    """The device that accepts this code at sign-in; CodeRefused otherwise."""
    device = authenticator(user)
    if device is None:
        raise CodeRefused(CODE_WRONG, attempted=True)
    return _verify_authenticator(user, device, code)


def recovery_code_check(*, user: Any, code: str) -> StaticDevice:
    """The recovery-code device, having used up this code; CodeRefused otherwise."""
    code = _normalised_recovery_code(code)
    if not code:
        raise CodeRefused(NO_RECOVERY_CODE, attempted=False)
    device = StaticDevice.objects.filter(user=user).first()
    if device is None or not has_second_factor(user):
        raise CodeRefused(RECOVERY_WRONG, attempted=True)
    _too_soon(device)
    verified = otp_verify_token(user, device.persistent_id, _stored_form(user, code))
    if verified is None:
        raise CodeRefused(RECOVERY_WRONG, attempted=True)
    return verified


def failed_code_record(request: HttpRequest, user: Any, *, kind: str) -> None:
    """A wrong code: one more failure toward django-axes's lockout of this account and
    address (as a wrong password is), and a failed sign-in in the audit trail, marked as
    the second step: the password was right."""
    credentials = {"username": user.get_username()}
    AxesProxyHandler.user_login_failed(sender=__name__, credentials=credentials, request=request)
    audit.record(
        None,
        AuditAction.SIGN_IN_FAILED,
        detail={"username": user.get_username()[:150], "second_factor": kind},
    )


def locked_out(request: HttpRequest, user: Any) -> bool:
    if not getattr(settings, "AXES_ENABLED", True):
        return False
    return bool(AxesProxyHandler.is_locked(request, {"username": user.get_username()}))


# --- An administrator's reset (loss of device) -----------------------------------------------


def second_factor_reset(*, actor: Actor, user: Any, reason: str) -> AuditEvent:
    """Remove a person's authenticator and recovery codes (they lost their phone), audited
    with who reset whose and why. They next sign in with their password alone and, where
    two-factor sign-in is required, set it up again at once; any session they have open
    ends at its next request. Nobody resets their own (ACCESS.md "Administration")."""
    reason = _clean_reason(reason)
    if not may_use_admin_site(actor.user):
        raise NotPermitted("Only an administrator can reset someone's two-factor sign-in.")
    refusal = account_change_refusal(actor=actor, user=user)
    if refusal:
        raise NotPermitted(refusal)
    with transaction.atomic():
        had_one = has_second_factor(user)
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        return audit.record(
            actor,
            AuditAction.UPDATE,
            record_type=user._meta.label_lower,
            records=[user.pk],
            detail={
                "account": user.get_username(),
                "fields": {
                    "second_factor": {"old": "set up" if had_one else "not set up", "new": "reset"}
                },
                "reason": reason,
            },
        )


# --- The rule, for every page ----------------------------------------------------------------


class TwoFactorMiddleware:
    """After django-otp's OTPMiddleware: enforces the rule in this module's docstring."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    @cached_property
    def _sign_in_paths(self) -> frozenset[str]:
        names = ["login", "logout", "sign-in-code", "sign-in-recovery"]
        return frozenset(reverse(name) for name in names)

    @cached_property
    def _set_up_path(self) -> str:
        return reverse("two-factor-set-up")

    def _left_alone(self, path: str) -> bool:
        # The partner API authenticates by bearer token (access.api_clients), never by
        # session; static files are served before this by WhiteNoise in production.
        return path.startswith(("/api/v1/", settings.STATIC_URL or "/static/"))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._left_alone(request.path):
            return self.get_response(request)
        session = getattr(request, "session", None)
        had_device = bool(session is not None and session.get(DEVICE_ID_SESSION_KEY))
        user = request.user
        # OTPMiddleware gives every user `is_verified()`: a code was used in this session.
        if user.is_authenticated and not user.is_verified():  # type: ignore[union-attr,attr-defined]
            if had_device or has_second_factor(user):
                # Signed in without the code (another sign-in page), or the device that
                # verified this session was reset or replaced: sign in again, with a code.
                logout(request)
                messages.info(
                    request,
                    "Sign in again with your password and a code from your authenticator app.",
                )
                return redirect_to_login(request.get_full_path())
            if is_required() and request.path not in self._sign_in_paths | {self._set_up_path}:
                return HttpResponseRedirect(
                    f"{self._set_up_path}?{urlencode({'next': request.get_full_path()})}"
                )
        return self.get_response(request)
