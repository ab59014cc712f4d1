"""Reference data only: the pathways and the providers directory. Needs, actions and
referrals are casework, changed through the pages' services (ACCESS.md "Administration")."""

from django.contrib import admin

from access.admin_audit import AuditedChangesAdmin

from .models import Pathway, Provider


@admin.register(Pathway)
class PathwayAdmin(AuditedChangesAdmin):
    list_display = ["order", "name", "code"]
    search_fields = ["name"]


@admin.register(Provider)
class ProviderAdmin(AuditedChangesAdmin):
    """The providers directory (001 §3.2d: reserved capacity such as "four dwellings
    reserved for DIP/PPO clients"); each change audited with its reason."""

    list_display = ["name", "agency", "reserved_places", "active"]
    list_filter = ["active", "agency", "pathways"]
    search_fields = ["name"]
    filter_horizontal = ["pathways"]
    fields = [
        "name",
        "agency",
        "pathways",
        "reserved_places",
        "reserved_note",
        "phone",
        "email",
        "address",
        "active",
    ]
