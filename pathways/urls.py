from django.urls import path

from . import views

app_name = "pathways"

urlpatterns = [
    path("people/<int:offender_id>/", views.person_plan_view, name="person"),
    path("people/<int:offender_id>/needs/new/", views.need_set_view, name="need-set"),
    path("people/<int:offender_id>/actions/new/", views.action_create_view, name="action-create"),
    path(
        "people/<int:offender_id>/referrals/new/",
        views.referral_create_view,
        name="referral-create",
    ),
    path("actions/", views.my_actions_view, name="my-actions"),
    path("actions/overdue/", views.overdue_actions_view, name="overdue-actions"),
    path("actions/<int:action_id>/", views.action_update_view, name="action-update"),
    path("referrals/<int:referral_id>/", views.referral_update_view, name="referral-update"),
    path("providers/", views.providers_view, name="providers"),
    path("gaps/", views.gaps_view, name="gaps"),
]
