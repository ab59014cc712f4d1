"""The sign-in pages with a second step, and setting up two-factor sign-in (access.two_factor).

The password step (`SignInView`, Django's LoginView) signs in someone who has no second
factor at once, as before. For someone who has one it only remembers, for five minutes and
in the not-yet-signed-in session, who got the password right; the code step then signs
them in. A wrong code signs nobody in.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from axes.helpers import get_lockout_response
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import load_backend
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login

from . import two_factor
from .errors import NotPermitted, Refused
from .two_factor import CODE_FIELD, CodeRefused

PENDING_KEY = "ppo_two_factor_pending"
PENDING_SECONDS = 5 * 60


class SignInView(auth_views.LoginView):
    """The password step. Lockout (django-axes) and the audit of failures work as before."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if not two_factor.has_second_factor(user):
            return super().form_valid(form)
        # A new session key: whoever knew the old one cannot finish this sign-in.
        self.request.session.cycle_key()
        self.request.session[PENDING_KEY] = {
            "user": user.pk,
            "backend": user.backend,
            "next": self.get_success_url(),
            "at": time.time(),
        }
        return redirect("sign-in-code")


def _pending(request: HttpRequest) -> tuple[Any, dict[str, Any]] | None:
    """Who got the password right in this session, if it was in the last five minutes."""
    data = request.session.get(PENDING_KEY)
    if not isinstance(data, dict):
        return None
    try:
        fresh = time.time() - float(data["at"]) <= PENDING_SECONDS
        known = data["backend"] in settings.AUTHENTICATION_BACKENDS
        backend = load_backend(data["backend"]) if known else None
        user = backend.get_user(data["user"]) if (fresh and backend) else None
    except (KeyError, TypeError, ValueError):
        user = None
    if user is None:
        request.session.pop(PENDING_KEY, None)
        return None
    return user, data


def _second_step(
    request: HttpRequest,
    *,
    template: str,
    check: Any,
    kind: str,
) -> HttpResponse:
    pending = _pending(request)
    if pending is None:
        messages.info(request, "Your sign-in timed out or was not started. Sign in again.")
        return redirect("login")
    user, data = pending
    error = ""
    if request.method == "POST":
        if two_factor.locked_out(request, user):
            request.session.pop(PENDING_KEY, None)
            return get_lockout_response(request, None, {"username": user.get_username()})
        try:
            device = check(user=user, code=request.POST.get(CODE_FIELD, ""))
        except CodeRefused as refusal:
            error = refusal.message
            if refusal.attempted:
                two_factor.failed_code_record(request, user, kind=kind)
                if getattr(request, "axes_locked_out", False):
                    # AxesMiddleware answers with the lockout page; this sign-in is over.
                    request.session.pop(PENDING_KEY, None)
        else:
            request.session.pop(PENDING_KEY, None)
            # django-otp records the device in the session when login() is called.
            user.otp_device = device
            auth_login(request, user, backend=data["backend"])
            if kind == "recovery code":
                left = two_factor.recovery_codes_left(user)
                messages.warning(
                    request,
                    f"You signed in with a recovery code. You have {left} left. If you no "
                    "longer have your authenticator app, set up two-factor sign-in again now.",
                )
                return redirect("two-factor")
            return HttpResponseRedirect(
                data.get("next") or resolve_url(settings.LOGIN_REDIRECT_URL)
            )
    return render(request, template, {"error": error})


@sensitive_post_parameters(CODE_FIELD)
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def sign_in_code(request: HttpRequest) -> HttpResponse:
    return _second_step(
        request,
        template="registration/two_factor_code.html",
        check=two_factor.authenticator_code_check,
        kind="authenticator code",
    )


@sensitive_post_parameters(CODE_FIELD)
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def sign_in_recovery(request: HttpRequest) -> HttpResponse:
    return _second_step(
        request,
        template="registration/two_factor_recovery.html",
        check=two_factor.recovery_code_check,
        kind="recovery code",
    )


# --- Setting it up, and the person's own page ------------------------------------------------


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _codes_page(request: HttpRequest, codes: list[str], *, next_url: str) -> HttpResponse:
    text = "PPO Case recovery codes for {}\nEach code works once.\n\n{}\n".format(
        request.user.get_username(), "\n".join(codes)
    )
    return render(
        request,
        "registration/two_factor_recovery_codes.html",
        {
            "codes": codes,
            "next": next_url,
            "download_href": "data:text/plain;charset=utf-8," + quote(text),
        },
    )


@sensitive_post_parameters(CODE_FIELD)
@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def two_factor_set_up(request: HttpRequest) -> HttpResponse:
    user = request.user
    if two_factor.has_second_factor(user) and not user.is_verified():  # type: ignore[union-attr]
        # TwoFactorMiddleware signs such a session out first; never offered a new device.
        raise Refused("auth.user", user.pk, "two-factor sign-in not used in this session")
    next_url = _next_url(request)
    error = ""
    if request.method == "POST":
        try:
            device, codes = two_factor.enrolment_confirm(
                user=user, code=request.POST.get(CODE_FIELD, "")
            )
        except CodeRefused as refusal:
            error = refusal.message
        else:
            otp_login(request, device)
            return _codes_page(request, codes, next_url=next_url)
    device = two_factor.enrolment_device(user)
    return render(
        request,
        "registration/two_factor_set_up.html",
        {
            "error": error,
            "qr_code": two_factor.qr_code_svg(device),
            "secret": two_factor.secret_in_groups(device),
            "again": two_factor.has_second_factor(user),
            "required": two_factor.is_required(),
            "next": next_url,
        },
    )


@login_required
@require_http_methods(["GET"])
def two_factor_manage(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "registration/two_factor.html",
        {"status": two_factor.status(request.user), "required": two_factor.is_required()},
    )


@login_required
@require_POST
def recovery_codes_new(request: HttpRequest) -> HttpResponse:
    try:
        codes = two_factor.recovery_codes_renew(user=request.user)
    except NotPermitted as refusal:
        messages.error(request, refusal.message)
        return redirect("two-factor")
    return _codes_page(request, codes, next_url=reverse("two-factor"))
