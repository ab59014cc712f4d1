"""Django admin for personal data goes through the same policy and audit trail as pages.

An administrator has no casework scope, so these admin pages show them nothing; a
staff PPO manager sees what the policy lets them see. Every list, view and change
made here is audited like any other.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse

from . import audit
from .models import AuditAction
from .policy import RecordKind, actor_for, grant, people_q, records_q


class PolicyScopedAdmin(admin.ModelAdmin):
    record_kind: RecordKind = RecordKind.IDENTITY
    # Path from this model to its Offender; "" when the model is Offender itself.
    offender_path = "offender"

    def _actor(self, request: HttpRequest) -> Any:
        return actor_for(request.user)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        actor = self._actor(request)
        qs = super().get_queryset(request)
        if not self.offender_path:
            return qs.filter(people_q(actor))
        return qs.filter(records_q(actor, self.record_kind, self.model._meta.label_lower))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return grant(self._actor(request), self.record_kind).can_read

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return grant(self._actor(request), self.record_kind).can_read

    def _can_write(self, request: HttpRequest) -> bool:
        return bool(grant(self._actor(request), self.record_kind).write)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._can_write(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._can_write(request)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._can_write(request)

    def _offender_id(self, obj: Any) -> int | None:
        return obj.pk if not self.offender_path else getattr(obj, f"{self.offender_path}_id")

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        cl = (
            getattr(response, "context_data", {}).get("cl")
            if hasattr(response, "context_data")
            else None
        )
        if cl is not None:
            rows = list(cl.result_list)
            audit.record(
                self._actor(request),
                AuditAction.LIST,
                record_type=self.model._meta.label_lower,
                records=rows,
                offenders=[i for i in (self._offender_id(r) for r in rows) if i],
            )
        return response

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        if request.method == "GET":
            obj = self.get_object(request, object_id)
            if obj is not None:
                audit.record(
                    self._actor(request),
                    AuditAction.VIEW,
                    record_type=self.model._meta.label_lower,
                    records=[obj],
                    offenders=[i for i in [self._offender_id(obj)] if i],
                )
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        audit.altered(
            self._actor(request),
            AuditAction.UPDATE if change else AuditAction.CREATE,
            obj,
            offender_id=self._offender_id(obj),
            changed=form.changed_data,
        )

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        audit.altered(
            self._actor(request), AuditAction.DELETE, obj, offender_id=self._offender_id(obj)
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)
