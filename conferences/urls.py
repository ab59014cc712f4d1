from django.urls import path

from . import views

app_name = "conferences"

urlpatterns = [
    path("", views.list_view, name="list"),
    path("due/", views.due_view, name="due"),
    path("new/", views.create_view, name="create"),
    path("<int:conference_id>/", views.detail_view, name="detail"),
    path("<int:conference_id>/agenda.pdf", views.agenda_pdf_view, name="agenda-pdf"),
    path("<int:conference_id>/attendance/", views.attendance_view, name="attendance"),
    path("<int:conference_id>/people/<int:person_id>/", views.person_record_view, name="person"),
    path("<int:conference_id>/people/<int:person_id>/need/", views.need_view, name="need"),
    path("<int:conference_id>/people/<int:person_id>/action/", views.action_view, name="action"),
    path("<int:conference_id>/close/", views.close_view, name="close"),
    path("person/<int:offender_id>/", views.person_tab_view, name="person-tab"),
    path("person/<int:offender_id>/core-group/", views.core_group_view, name="core-group"),
]
