"""Reference data only. Casework (people, episodes, offending, custody, contacts, drug tests)
is not in the admin: it is changed through the services the pages use, with their write
scope, own-agency rule and history (ACCESS.md "Administration")."""

from django.contrib import admin

from access.admin_audit import AuditedChangesAdmin

from .models import OffenceCategory


@admin.register(OffenceCategory)
class OffenceCategoryAdmin(AuditedChangesAdmin):
    list_display = ["name", "home_office_codes", "harm_weight", "cchi_median_days", "acquisitive"]
    list_filter = ["acquisitive"]
    search_fields = ["name", "home_office_codes"]
