from django.urls import path

from . import annual_report_views, views

app_name = "reporting"

urlpatterns = [
    path("annual/", annual_report_views.annual_reports, name="annual-reports"),
    path(
        "annual/<int:report_id>/", annual_report_views.annual_report_progress, name="annual-report"
    ),
    path(
        "annual/<int:report_id>/pdf/",
        annual_report_views.annual_report_download,
        name="annual-report-pdf",
    ),
    path("", views.index, name="index"),
    path("ni30/", views.ni30_view, name="ni30"),
    path("local-measure/", views.local_measure_view, name="local-measure"),
    path("reoffending/", views.reoffending_view, name="reoffending"),
    path("profile/", views.scheme_profile_view, name="profile"),
    path("equality/", views.equality_view, name="equality"),
    path("offending-mix/", views.offending_mix_view, name="offending-mix"),
    path("deselection-outcomes/", views.outcomes_view, name="outcomes"),
    path("self-assessment/", views.self_assessment_view, name="self-assessment"),
    path(
        "self-assessment/<int:year>/<str:subsection>/",
        views.self_assessment_edit,
        name="self-assessment-edit",
    ),
]
