"""Reference data only: referrals are casework, changed through the pages' services
(ACCESS.md "Administration")."""

from django.contrib import admin

from access.admin_audit import AuditedChangesAdmin

from .models import Pathway


@admin.register(Pathway)
class PathwayAdmin(AuditedChangesAdmin):
    list_display = ["order", "name", "code"]
    search_fields = ["name"]
