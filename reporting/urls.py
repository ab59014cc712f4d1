from django.urls import path

from . import views

app_name = "reporting"

urlpatterns = [
    path("", views.index, name="index"),
    path("profile/", views.scheme_profile_view, name="profile"),
    path("self-assessment/", views.self_assessment_view, name="self-assessment"),
    path(
        "self-assessment/<int:year>/<str:subsection>/",
        views.self_assessment_edit,
        name="self-assessment-edit",
    ),
]
