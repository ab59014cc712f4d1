from django.contrib import admin

from access.admin_audit import PolicyScopedAdmin
from access.policy import RecordKind

from .models import (
    Contact,
    CustodyEpisode,
    DrugTest,
    OffenceCategory,
    Offender,
    OffendingEvent,
    ProgrammeEpisode,
)


@admin.register(OffenceCategory)
class OffenceCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "home_office_codes", "harm_weight", "cchi_median_days", "acquisitive"]
    list_filter = ["acquisitive"]
    search_fields = ["name", "home_office_codes"]


@admin.register(Offender)
class OffenderAdmin(PolicyScopedAdmin):
    record_kind = RecordKind.IDENTITY
    offender_path = ""
    list_display = ["last_name", "first_name", "date_of_birth", "pnc_id", "iom_grade", "strand"]
    list_filter = ["iom_grade", "strand", "supervision", "dip_client", "crasbo", "sex"]
    search_fields = ["first_name", "last_name", "aliases", "pnc_id", "crn", "prison_number"]
    raw_id_fields = ["key_worker", "offender_manager", "police_officer"]


@admin.register(ProgrammeEpisode)
class ProgrammeEpisodeAdmin(PolicyScopedAdmin):
    record_kind = RecordKind.SELECTION
    list_display = ["offender", "kind", "selected_on", "deselected_on", "deselection_reason"]
    list_filter = ["kind", "deselection_reason", "exit_route"]
    search_fields = ["offender__first_name", "offender__last_name", "offender__pnc_id"]
    raw_id_fields = ["offender"]


@admin.register(OffendingEvent)
class OffendingEventAdmin(PolicyScopedAdmin):
    record_kind = RecordKind.OFFENDING
    list_display = [
        "offender",
        "kind",
        "category",
        "occurred_on",
        "source_agency",
        "source_reference",
    ]
    list_filter = ["kind", "category", "source_agency"]
    search_fields = ["source_reference", "offender__last_name", "offender__pnc_id"]
    raw_id_fields = ["offender", "recorded_by"]

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        # Offending events and intelligence are separate kinds in the policy.
        from access.policy import offending_events_q

        return admin.ModelAdmin.get_queryset(self, request).filter(
            offending_events_q(self._actor(request))
        )


@admin.register(CustodyEpisode)
class CustodyEpisodeAdmin(PolicyScopedAdmin):
    record_kind = RecordKind.CUSTODY
    list_display = [
        "offender",
        "kind",
        "establishment",
        "started_on",
        "expected_release_on",
        "released_on",
    ]
    list_filter = ["kind", "establishment"]
    search_fields = ["offender__last_name", "offender__pnc_id"]
    raw_id_fields = ["offender"]


@admin.register(Contact)
class ContactAdmin(PolicyScopedAdmin):
    record_kind = RecordKind.CONTACTS
    list_display = ["offender", "occurred_at", "kind", "outcome", "worker", "agency"]
    list_filter = ["kind", "outcome", "agency"]
    search_fields = ["offender__last_name", "offender__pnc_id"]
    raw_id_fields = ["offender", "worker"]


@admin.register(DrugTest)
class DrugTestAdmin(PolicyScopedAdmin):
    record_kind = RecordKind.DRUG_TESTS
    list_display = ["offender", "tested_at", "result", "agency"]
    list_filter = ["result", "agency"]
    search_fields = ["offender__last_name", "offender__pnc_id"]
    raw_id_fields = ["offender", "tester"]
