"""What every page of the Django admin shares: changes audited with who, what and why.

The admin holds no casework (ACCESS.md "Administration": casework changes only through
the services the pages use). What is left — users, memberships, agencies, the scheme's
settings and reference data — is changed here with a required reason; each add or change
writes one audit row in the same transaction with the fields changed, their old and new
values (never a password or hash) and that reason. Nothing is deleted here: a membership
is ended, an account or agency made inactive. The audit log is the history, so Django's
own per-object history pages are refused.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse

from . import audit, services
from .errors import Refused
from .models import AuditAction
from .policy import actor_for

REASON_FIELD = "change_reason"
REASON_LABEL = "Reason for this change"


def reason_field() -> forms.CharField:
    return forms.CharField(
        label=REASON_LABEL,
        max_length=services.REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Required. Kept in the audit log with the change, for the PPO manager to see.",
    )


class ReasonModelForm(forms.ModelForm):
    change_reason = reason_field()


def jsonable(value: Any) -> Any:
    """A form value as it is written to the audit trail: records by id, dates as ISO text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Model):
        return value.pk
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, QuerySet | list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return sorted(items, key=str)
    return str(value)


def changed_fields(form: forms.BaseForm, *, created: bool) -> dict[str, dict[str, Any]]:
    """The fields this form changed, with old and new values; secrets only as changed."""
    names = [n for n in form.fields if n in form.cleaned_data] if created else form.changed_data
    fields: dict[str, dict[str, Any]] = {}
    for name in names:
        if name == REASON_FIELD:
            continue
        if name in services.SECRET_FIELDS:
            if form.cleaned_data.get(name):
                fields["password"] = {"changed": True}
            continue
        new = jsonable(form.cleaned_data.get(name))
        if created:
            fields[name] = {"new": new}
            continue
        old = jsonable(form[name].initial)
        # changed_data also lists a field whose shown initial value was not posted back
        # (fields with a callable default); the trail records real changes only.
        if old != new:
            fields[name] = {"old": old, "new": new}
    return fields


class AdminWithoutHistory(admin.ModelAdmin):
    """Base of every ModelAdmin here: no history pages, nothing deleted, reads audited."""

    # Lists and views of personal data (staff accounts, the audit log) are audited.
    audit_consultation = False

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: Any = None
    ) -> HttpResponse:
        # The audit log is the history; Django's LogEntry pages would show object data
        # to anyone with view permission, unaudited.
        raise PermissionDenied

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        cl = getattr(response, "context_data", {}).get("cl")
        if self.audit_consultation and cl is not None:
            audit.record(
                actor_for(request.user),
                AuditAction.LIST,
                record_type=self.model._meta.label_lower,
                records=list(cl.result_list),
            )
        return response

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        response = super().change_view(request, object_id, form_url, extra_context)
        original = getattr(response, "context_data", {}).get("original")
        if self.audit_consultation and request.method == "GET" and original is not None:
            audit.record(
                actor_for(request.user),
                AuditAction.VIEW,
                record_type=self.model._meta.label_lower,
                records=[original],
            )
        return response


class AuditedChangesAdmin(AdminWithoutHistory):
    """Add and change need a reason; each writes one audit row with what changed."""

    form: type[forms.ModelForm[Any]] = ReasonModelForm

    def _may_write(self, request: HttpRequest, obj: Any) -> bool:
        if obj is None:
            return self.has_add_permission(request)
        return self.has_change_permission(request, obj)

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = [
            (name, {**options, "fields": [f for f in options["fields"] if f != REASON_FIELD]})
            for name, options in super().get_fieldsets(request, obj)
        ]
        if self._may_write(request, obj):
            fieldsets.append((None, {"fields": [REASON_FIELD]}))
        return fieldsets

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Your own account or membership, a superuser's account: shown, never changed here.
        if obj is not None and services.change_refusal(actor=actor_for(request.user), instance=obj):
            return False
        return super().has_change_permission(request, obj)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        if request.method == "POST":
            obj = self.get_object(request, unquote(object_id))
            actor = actor_for(request.user)
            refusal = services.change_refusal(actor=actor, instance=obj) if obj else ""
            if obj is not None and refusal:
                # Audited by the 403 handler (access.views), once.
                raise Refused(obj._meta.label_lower, obj.pk, refusal)
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        services.admin_record_save(
            actor=actor_for(request.user),
            instance=obj,
            created=not change,
            fields=changed_fields(form, created=not change),
            reason=form.cleaned_data[REASON_FIELD],
        )
