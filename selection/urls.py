from django.urls import path, register_converter

from . import views


class RecordIdConverter:
    """A record number that fits a 64-bit integer column: a longer one is "not found"
    here, rather than an overflow error in the database (SQLite and PostgreSQL)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(RecordIdConverter, "selection_id")

app_name = "selection"

urlpatterns = [
    path("", views.index_view, name="index"),
    path("runs/<selection_id:run_id>/", views.run_view, name="run"),
    path("runs/<selection_id:run_id>.csv", views.run_csv_view, name="run-csv"),
    path(
        "runs/<selection_id:run_id>/people/<selection_id:offender_id>/",
        views.explanation_view,
        name="explanation",
    ),
    path("matrix/", views.matrix_list_view, name="matrix-list"),
    path("matrix/<selection_id:version_id>/", views.matrix_view, name="matrix"),
    path(
        "matrix/<selection_id:version_id>/what-if/",
        views.matrix_what_if_view,
        name="matrix-what-if",
    ),
    path(
        "matrix/<selection_id:version_id>/adopt/",
        views.matrix_adopt_view,
        name="matrix-adopt",
    ),
    path(
        "matrix/<selection_id:version_id>/new-draft/",
        views.matrix_new_draft_view,
        name="matrix-new-draft",
    ),
]
