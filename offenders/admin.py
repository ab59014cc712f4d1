"""Reference data only. Casework (people, episodes, offending, custody, contacts, drug tests)
is not in the admin: it is changed through the services the pages use, with their write
scope, own-agency rule and history (ACCESS.md "Administration")."""

from django.contrib import admin

from access.admin_audit import AuditedChangesAdmin

from .models import OffenceCategory, RetentionRule


@admin.register(OffenceCategory)
class OffenceCategoryAdmin(AuditedChangesAdmin):
    list_display = ["name", "home_office_codes", "harm_weight", "cchi_median_days", "acquisitive"]
    list_filter = ["acquisitive"]
    search_fields = ["name", "home_office_codes"]


@admin.register(RetentionRule)
class RetentionRuleAdmin(AuditedChangesAdmin):
    """The scheme's own retention periods (offenders.retention): a kind with no rule keeps
    its default. Each change needs a reason and is audited; 0 or negative months are
    refused by the model's validators with their message, and nothing is saved."""

    list_display = ["kind", "months", "note"]
