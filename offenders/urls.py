from django.urls import path

from . import views

app_name = "offenders"

urlpatterns = [
    path("", views.offender_list_view, name="list"),
    path("new/", views.offender_create_view, name="create"),
    path("<int:pk>/", views.offender_detail_view, name="detail"),
    path("<int:pk>/edit/", views.offender_update_view, name="update"),
    path("<int:pk>/custody/new/", views.custody_create_view, name="custody-create"),
    path("<int:pk>/custody/release/", views.custody_release_view, name="custody-release"),
    path("<int:pk>/timeline/", views.timeline_view, name="timeline"),
    path("<int:pk>/contacts/new/", views.contact_log_view, name="contact-log"),
    path("<int:pk>/drug-tests/new/", views.drug_test_view, name="drug-test"),
    path("<int:pk>/events/new/", views.event_record_view, name="event-record"),
    path("<int:pk>/grade/", views.grade_change_view, name="grade-change"),
    path("<int:pk>/contact-level/", views.contact_level_view, name="contact-level"),
]

from . import grade_views  # noqa: E402

urlpatterns += [
    path("grades/red/", grade_views.red_graded_view, name="red-graded"),
    path("grades/to-change/", grade_views.grade_prompts_view, name="grade-prompts"),
]

from . import compliance_views  # noqa: E402

urlpatterns += [
    path("compliance/", compliance_views.compliance_view, name="compliance"),
]

from . import import_views  # noqa: E402

urlpatterns += [
    path("import/", import_views.import_view, name="import"),
    path(
        "import/template/<slug:kind>.csv",
        import_views.import_template_view,
        name="import-template",
    ),
]

from . import custody_views  # noqa: E402

urlpatterns += [
    path("<int:pk>/custody/<int:custody_pk>/", custody_views.custody_view, name="custody"),
    path(
        "<int:pk>/custody/<int:custody_pk>/assessment/",
        custody_views.reception_assessment_view,
        name="reception-assessment",
    ),
    path(
        "<int:pk>/custody/<int:custody_pk>/release-plan/",
        custody_views.release_plan_view,
        name="release-plan",
    ),
    path(
        "<int:pk>/custody/<int:custody_pk>/release-date/",
        custody_views.release_date_view,
        name="release-date",
    ),
    path("arrivals/", custody_views.arrival_check_view, name="arrival-check"),
    path("arrivals/reception/", custody_views.arrival_reception_view, name="arrival-reception"),
    path("alerts/<int:alert_pk>/read/", custody_views.alert_read_view, name="alert-read"),
]

from . import enforcement_views  # noqa: E402

urlpatterns += [
    path(
        "<int:pk>/enforcement/",
        enforcement_views.enforcement_person_view,
        name="enforcement-person",
    ),
    path("enforcement/", enforcement_views.enforcement_list_view, name="enforcement-list"),
    path(
        "enforcement/<int:case_id>/",
        enforcement_views.enforcement_case_view,
        name="enforcement-case",
    ),
    path(
        "enforcement/<int:case_id>/steps/new/",
        enforcement_views.enforcement_step_view,
        name="enforcement-step",
    ),
    path(
        "enforcement/<int:case_id>/close/",
        enforcement_views.enforcement_close_view,
        name="enforcement-close",
    ),
]

from . import retention_views  # noqa: E402

urlpatterns += [
    path("retention/", retention_views.retention_report_view, name="retention"),
    path(
        "retention/<int:pk>/erase/",
        retention_views.retention_erase_view,
        name="retention-erase",
    ),
]
