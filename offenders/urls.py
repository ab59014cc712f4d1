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
