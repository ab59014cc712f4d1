"""The Django admin: users, memberships, agencies, the scheme's settings and the audit log.

ACCESS.md "Administration": only administrators use it; they manage *other* people's
accounts and memberships, every change audited with who, what and why (access.services).
Nobody changes their own account, role or membership here, and nobody becomes a
superuser here: superuser status, permissions and groups are read only for everyone.
"""

from __future__ import annotations

from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import (
    AdminPasswordChangeForm,
    AdminUserCreationForm,
    UserChangeForm,
)
from django.contrib.auth.models import Group, User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.html import escape
from django.views.decorators.debug import sensitive_post_parameters
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import audit, services, two_factor
from .admin_audit import (
    REASON_FIELD,
    AdminWithoutHistory,
    AuditedChangesAdmin,
    ReasonModelForm,
    reason_field,
)
from .errors import NotPermitted, Refused
from .models import Agency, AuditEvent, AuditEventPerson, BankHoliday, Membership, Scheme
from .policy import Actor, actor_for, can_read_audit_log, may_use_admin_site


def _site_has_permission(request: HttpRequest) -> bool:
    return may_use_admin_site(request.user)


def _autocomplete_not_offered(request: HttpRequest) -> HttpResponse:
    # No admin here declares autocomplete_fields; the endpoint would otherwise list any
    # searchable model (staff names with ids) to anyone with view permission, unaudited.
    raise Http404("Not offered")


_admin_login = admin.site.login


def _sign_in_with_two_factor(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    # The admin's own sign-in form has no second step (access.two_factor): the service's
    # sign-in page is used instead. Someone already signed in but not allowed here still
    # sees the admin's "not authorised" page.
    if request.user.is_authenticated:
        return _admin_login(request, extra_context)
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"))


# The project runs Django's default admin site (settings and urls name it), so its
# site-wide rules are set on that one instance; every admin URL, the autocomplete one
# included, is wrapped in `has_permission`.
admin.site.has_permission = _site_has_permission  # type: ignore[method-assign]
admin.site.autocomplete_view = _autocomplete_not_offered  # type: ignore[method-assign]
admin.site.login = _sign_in_with_two_factor  # type: ignore[method-assign]

# ACCESS.md "Administration": the admin holds users, memberships, agencies, the scheme's
# settings, reference data and the audit log, nothing else. Permissions come from
# memberships and the seed, not from groups; django-axes's sign-in records stay out (the
# audit log has every sign-in; a lockout ends after AXES_COOLOFF_TIME or `axes_reset`).
# django-otp's devices stay out too (they would show the secrets): an administrator resets
# someone's second factor with the action on the users' list, which audits it.
admin.site.unregister(User)
for _model in (Group, AccessAttempt, AccessLog, AccessFailureLog, TOTPDevice, StaticDevice):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


# --- Users -------------------------------------------------------------------------------


class UserChangeWithReasonForm(UserChangeForm):
    change_reason = reason_field()


class UserAddWithReasonForm(AdminUserCreationForm):
    change_reason = reason_field()


class PasswordSetWithReasonForm(AdminPasswordChangeForm):
    change_reason = reason_field()


class TwoFactorResetForm(forms.Form):
    change_reason = reason_field()


@admin.register(User)
class StaffUserAdmin(AuditedChangesAdmin, DjangoUserAdmin):
    form = UserChangeWithReasonForm
    add_form = UserAddWithReasonForm
    change_password_form = PasswordSetWithReasonForm
    change_user_password_template = "admin/auth/user/change_password_with_reason.html"  # noqa: S105
    readonly_fields = ["is_superuser", "groups", "user_permissions", "last_login", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    list_display = ["username", "email", "first_name", "last_name", "is_staff", "two_factor_set_up"]
    actions = ["reset_two_factor"]
    audit_consultation = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        devices = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return super().get_queryset(request).annotate(has_two_factor=Exists(devices))

    @admin.display(description="Two-factor sign-in", boolean=True)
    def two_factor_set_up(self, obj: Any) -> bool:
        return bool(getattr(obj, "has_two_factor", False))

    @admin.action(
        description="Reset two-factor sign-in of the selected people", permissions=["change"]
    )
    def reset_two_factor(self, request: HttpRequest, queryset: QuerySet[User]) -> Any:
        """Loss of device: remove their authenticator and recovery codes, after a
        confirmation page with a reason; audited per person (access.two_factor)."""
        actor = actor_for(request.user)
        people = list(queryset.order_by("username"))
        form = TwoFactorResetForm(request.POST if request.POST.get("post") else None)
        if form.is_valid():
            try:
                with transaction.atomic():
                    for person in people:
                        two_factor.second_factor_reset(
                            actor=actor, user=person, reason=form.cleaned_data[REASON_FIELD]
                        )
            except NotPermitted as refusal:
                messages.error(request, f"Nothing was reset. {person.get_username()}: {refusal}")
                return None
            names = ", ".join(person.get_username() for person in people)
            messages.success(request, f"Two-factor sign-in reset for {names}.")
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Reset two-factor sign-in",
            "opts": self.opts,
            "people": people,
            "form": form,
            "required": two_factor.is_required(),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "registration/admin_two_factor_reset.html", context)

    @method_decorator(sensitive_post_parameters())
    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        """Set another person's password (account recovery), with a reason, audited.

        Replaces Django's view so that the new password is set by the service that audits
        it; your own password is changed on the password-change page, with the old one.
        """
        user = self.get_object(request, unquote(id))
        if user is None:
            raise Http404("No such user.")
        actor = actor_for(request.user)
        refusal = services.account_change_refusal(actor=actor, user=user)
        if refusal:
            raise Refused("auth.user", user.pk, refusal)
        if not self.has_change_permission(request, user):
            raise PermissionDenied
        if request.method == "POST":
            form = self.change_password_form(user, request.POST)
            if form.is_valid():
                usable = form.cleaned_data["set_usable_password"]
                if not usable and "unset-password" not in request.POST:
                    messages.error(request, "Conflicting form data submitted. Please try again.")
                    return HttpResponseRedirect(request.get_full_path())
                services.user_password_set(
                    actor=actor,
                    user=user,
                    password=form.cleaned_data["password1"] if usable else None,
                    reason=form.cleaned_data[REASON_FIELD],
                )
                self.log_change(request, user, [{"changed": {"fields": ["password"]}}])
                messages.success(
                    request,
                    "Password changed." if usable else "Password-based sign-in was disabled.",
                )
                return HttpResponseRedirect(
                    reverse(f"{self.admin_site.name}:auth_user_change", args=(user.pk,))
                )
        else:
            form = self.change_password_form(user)
        title = "Change password: %s" if user.has_usable_password() else "Set password: %s"
        context = {
            **self.admin_site.each_context(request),
            "title": title % escape(user.get_username()),
            "form_url": form_url,
            "form": form,
            "is_popup": IS_POPUP_VAR in request.POST or IS_POPUP_VAR in request.GET,
            "is_popup_var": IS_POPUP_VAR,
            "add": True,
            "change": False,
            "has_delete_permission": False,
            "has_change_permission": True,
            "has_absolute_url": False,
            "opts": self.opts,
            "original": user,
            "save_as": False,
            "show_save": True,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.change_user_password_template, context)


# --- Memberships, agencies, the scheme ------------------------------------------------------


class MembershipForm(ReasonModelForm):
    # Set per request by MembershipAdmin.get_form: who is making the change.
    actor: Actor | None = None

    class Meta:
        model = Membership
        fields = "__all__"

    def clean_user(self) -> Any:
        user = self.cleaned_data.get("user")
        if user is not None and self.actor is not None:
            refusal = services.membership_change_refusal(actor=self.actor, user_id=user.pk)
            if refusal:
                audit.denied(self.actor, "access.membership", self.instance.pk or "", refusal)
                raise ValidationError(refusal)
        return user


@admin.register(Membership)
class MembershipAdmin(AuditedChangesAdmin):
    form = MembershipForm
    list_display = ["user", "agency", "role", "started_on", "ended_on"]
    list_filter = ["role", "agency"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "agency__name"]
    raw_id_fields = ["user"]
    audit_consultation = True

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": actor_for(request.user)})


@admin.register(Agency)
class AgencyAdmin(AuditedChangesAdmin):
    list_display = ["name", "kind", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["name"]
    filter_horizontal = ["pathways_served"]


@admin.register(Scheme)
class SchemeAdmin(AuditedChangesAdmin):
    list_display = ["name", "area", "capacity_min", "capacity_max", "contact_target_per_week"]


@admin.register(BankHoliday)
class BankHolidayAdmin(AuditedChangesAdmin):
    """Reference data: the days besides weekends that the premium service's clocks do not
    count (offenders.working_days). England and Wales 2025–2027 ship with the app; the
    administrator adds later years and any local holiday, each change with its reason."""

    list_display = ["day", "name"]
    search_fields = ["name"]
    date_hierarchy = "day"


# --- The audit log ---------------------------------------------------------------------------


@admin.register(AuditEvent)
class AuditEventAdmin(AdminWithoutHistory):
    """Read only for those the policy lets read the log; reading it is audited."""

    audit_consultation = True
    list_display = [
        "at",
        "username",
        "agency_name",
        "action",
        "record_type",
        "channel",
        "ip_address",
    ]
    list_filter = ["action", "channel", "role"]
    search_fields = ["username", "agency_name", "record_type"]
    date_hierarchy = "at"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[AuditEvent], search_term: str
    ) -> tuple[QuerySet[AuditEvent], bool]:
        """A record number also finds the events about that person, exactly and by the
        index of the audit trail's links (events of thousands of people included)."""
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term.isdigit():
            about = AuditEventPerson.objects.filter(offender_id=int(term)).values("event_id")
            found |= queryset.filter(pk__in=about)
        return found, may_have_duplicates

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_read_audit_log(actor_for(request.user))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_read_audit_log(actor_for(request.user))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
