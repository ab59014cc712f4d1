from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from . import audit
from .models import Agency, AuditAction, AuditEvent, Membership, Scheme
from .policy import actor_for, can_read_audit_log


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["name"]
    filter_horizontal = ["pathways_served"]


@admin.register(Scheme)
class SchemeAdmin(admin.ModelAdmin):
    list_display = ["name", "area", "capacity_min", "capacity_max", "contact_target_per_week"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "agency", "role", "started_on", "ended_on"]
    list_filter = ["role", "agency"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "agency__name"]
    raw_id_fields = ["user"]


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read only for those the policy lets read the log; reading it is audited."""

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
    search_fields = ["username", "agency_name", "record_type", "offender_refs"]
    date_hierarchy = "at"

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_read_audit_log(actor_for(request.user))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_read_audit_log(actor_for(request.user))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        cl = getattr(response, "context_data", {}).get("cl")
        if cl is not None:
            audit.record(
                actor_for(request.user),
                AuditAction.LIST,
                record_type="access.auditevent",
                records=list(cl.result_list),
            )
        return response

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        if str(object_id).isdigit():
            audit.record(
                actor_for(request.user),
                AuditAction.VIEW,
                record_type="access.auditevent",
                records=[int(object_id)],
            )
        return super().change_view(request, object_id, form_url, extra_context)
