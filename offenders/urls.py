from django.urls import path

from . import views

app_name = "offenders"

urlpatterns = [
    path("", views.offender_list_view, name="list"),
    path("new/", views.offender_create_view, name="create"),
    path("<int:pk>/", views.offender_detail_view, name="detail"),
    path("<int:pk>/edit/", views.offender_update_view, name="update"),
    path("<int:pk>/custody/new/", views.custody_create_view, name="custody-create"),
]
