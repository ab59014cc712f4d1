from django.contrib import admin

from access.admin_audit import PolicyScopedAdmin
from access.policy import RecordKind

from .models import Pathway, Referral


@admin.register(Pathway)
class PathwayAdmin(admin.ModelAdmin):
    list_display = ["order", "name", "code"]
    search_fields = ["name"]


@admin.register(Referral)
class ReferralAdmin(PolicyScopedAdmin):
    record_kind = RecordKind.PATHWAYS
    list_display = ["offender", "agency", "pathway", "opened_on", "closed_on"]
    list_filter = ["agency", "pathway"]
    search_fields = ["offender__last_name", "offender__pnc_id"]
    raw_id_fields = ["offender"]
