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

from . import profile_views  # noqa: E402

# The person's "Selection & panel" tab and the documents its decisions produce.
urlpatterns += [
    path("people/<selection_id:offender_id>/", profile_views.person_view, name="person"),
    path(
        "decisions/<selection_id:decision_id>/letter.pdf",
        profile_views.letter_view,
        name="decision-letter",
    ),
    path(
        "decisions/<selection_id:decision_id>/transfer/",
        profile_views.transfer_view,
        name="transfer",
    ),
    path(
        "transfers/<selection_id:transfer_id>/summary.pdf",
        profile_views.transfer_pdf_view,
        name="transfer-pdf",
    ),
]

from . import dyo_views  # noqa: E402

# Deter Young Offenders (003 §7): the list, and marking and ending a DYO.
urlpatterns += [
    path("dyo/", dyo_views.dyo_index_view, name="dyo"),
    path("dyo/people/<selection_id:offender_id>/mark/", dyo_views.dyo_mark_view, name="dyo-mark"),
    path("dyo/people/<selection_id:offender_id>/end/", dyo_views.dyo_end_view, name="dyo-end"),
]

from . import panel_views  # noqa: E402

# Selection panels, their decisions, and risk assessments (issue 7 items 5 and 6).
urlpatterns += [
    path("panels/", panel_views.panel_list_view, name="panels"),
    path("panels/new/", panel_views.panel_create_view, name="panel-create"),
    path("panels/<selection_id:panel_id>/", panel_views.panel_view, name="panel"),
    path(
        "panels/<selection_id:panel_id>/people/<selection_id:offender_id>/decision/",
        panel_views.panel_decide_view,
        name="panel-decide",
    ),
    path(
        "people/<selection_id:offender_id>/decisions/new/",
        panel_views.person_decide_view,
        name="person-decide",
    ),
    path(
        "people/<selection_id:offender_id>/risk-assessments/new/",
        panel_views.risk_assessment_create_view,
        name="risk-assessment-create",
    ),
]

from . import review_views  # noqa: E402

# The reviews that fall due by themselves (issue 8): the open ones, and closing one as
# "no change, reviewed".
urlpatterns += [
    path("reviews/", review_views.review_list_view, name="reviews"),
    path(
        "reviews/<selection_id:review_id>/close/",
        review_views.review_close_view,
        name="review-close",
    ),
    # A PPO transferring in from another area (003 §6.2(2)): its selection review falls due.
    path(
        "people/<selection_id:offender_id>/transfers-in/",
        review_views.transfer_in_list_view,
        name="transfers-in",
    ),
    path(
        "people/<selection_id:offender_id>/transfers-in/new/",
        review_views.transfer_in_create_view,
        name="transfer-in-create",
    ),
    path(
        "transfers-in/<selection_id:transfer_id>/correct/",
        review_views.transfer_in_correct_view,
        name="transfer-in-correct",
    ),
]
