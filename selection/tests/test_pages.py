"""The selection pages as each role sees them (ACCESS.md "selection scores, panel decisions,
reviews": the PPO manager reads and writes; key workers and police read; YOT reads its own
people; prison staff, partners, the steering group and administrators nothing).

The people are invented. Scores under the shipped matrix (arrest 2 points, recent arrest or
charge 5, harm 1 per harm weight, Shoplifting weighs 1, CRASBO 5), threshold 10:

* Qxalpha Brannock, PPO, five arrests 20 days ago: 10 + 5 + 5 = 20
* Qxpool Marrow, nobody's tier, four arrests 20 days ago: 8 + 5 + 4 = 17
* Qxyoung Tillet, 16, a DYO, three arrests 20 days ago: 6 + 5 + 3 = 14
* Qxgaol Penhallow, in custody due out in 30 days, four arrests 200 days ago: 8 + 4 = 12
* Qxlow Fenwick, PPO, a CRASBO and no offending: 5, listed below the threshold

With a capacity of 2 the line falls after rank 2.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
import uuid
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from access.models import AuditAction, AuditEvent, Role, Scheme
from access.policy import actor_for
from offenders.models import OffenceCategory
from ppo_case.navigation import navigation_for
from selection import services
from selection.models import (
    Criterion,
    CriterionKind,
    MatrixStatus,
    MatrixVersion,
    SelectionRun,
)
from selection.views import _csv_safe
from tests.factories import (
    CustodyEpisodeFactory,
    OffenderFactory,
    OffendingEventFactory,
    ProgrammeEpisodeFactory,
    UserFactory,
    sign_in,
    staff,
)

READERS = [Role.PPO_MANAGER, Role.KEY_WORKER, Role.POLICE_OFFICER, Role.YOT_WORKER]
REFUSED = [Role.PRISON_WORKER, Role.PARTNER_WORKER, Role.STEERING_GROUP, Role.ADMINISTRATOR]
# Who each reader may see of the five (ACCESS.md "Who is in scope"), written out by hand.
SEEN_BY = {
    Role.PPO_MANAGER: {"alpha", "pool", "young", "gaol", "low"},
    Role.POLICE_OFFICER: {"alpha", "pool", "young", "gaol", "low"},
    Role.KEY_WORKER: {"alpha", "young", "low"},  # current and former PPOs and DYOs
    Role.YOT_WORKER: {"young"},  # under 18, and DYOs
}
NAMES = {
    "alpha": "Qxalpha Brannock",
    "pool": "Qxpool Marrow",
    "young": "Qxyoung Tillet",
    "gaol": "Qxgaol Penhallow",
    "low": "Qxlow Fenwick",
}


def today() -> dt.date:
    return timezone.localdate()


def arrests(offender, count: int, days_ago: int) -> None:
    for _ in range(count):
        OffendingEventFactory(offender=offender, occurred_on=today() - dt.timedelta(days=days_ago))


def text_of(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def manager(db):
    return staff(Role.PPO_MANAGER, first_name="Qxmanda", last_name="Runwell")


@pytest.fixture
def people(db):
    scheme = Scheme.current()
    scheme.capacity_max = 2
    scheme.save()
    made = {}
    for key, name in NAMES.items():
        first, last = name.split()
        made[key] = OffenderFactory(first_name=first, last_name=last)
    ProgrammeEpisodeFactory(offender=made["alpha"], selected_on=dt.date(2024, 1, 1))
    ProgrammeEpisodeFactory(offender=made["low"], selected_on=dt.date(2024, 1, 1))
    young = made["young"]
    young.date_of_birth = today() - dt.timedelta(days=16 * 365)
    young.save()
    ProgrammeEpisodeFactory(offender=young, kind="dyo", selected_on=today() - dt.timedelta(days=90))
    low = made["low"]
    low.crasbo = True
    low.save()
    arrests(made["alpha"], 5, 20)
    arrests(made["pool"], 4, 20)
    arrests(young, 3, 20)
    arrests(made["gaol"], 4, 200)
    CustodyEpisodeFactory(
        offender=made["gaol"],
        started_on=today() - dt.timedelta(days=60),
        expected_release_on=today() + dt.timedelta(days=30),
    )
    return made


@pytest.fixture
def run(manager, people):
    return services.selection_run(user=manager)


def user_in(role: str):
    return staff(role)


def urls(run, offender) -> dict[str, str]:
    return {
        "index": reverse("selection:index"),
        "ranking": reverse("selection:run", args=[run.pk]),
        "explanation": reverse("selection:explanation", args=[run.pk, offender.pk]),
        "csv": reverse("selection:run-csv", args=[run.pk]),
        "matrix list": reverse("selection:matrix-list"),
        "matrix": reverse("selection:matrix", args=[run.version_id]),
    }


# --- who may open what -----------------------------------------------------------------------


@pytest.mark.parametrize("role", READERS)
def test_readers_of_selection_open_every_selection_page(client, run, people, role):
    sign_in(client, user_in(role))
    # Qxyoung Tillet (a DYO under 18) is in every reader's scope.
    for page, url in urls(run, people["young"]).items():
        assert client.get(url).status_code == 200, page


@pytest.mark.parametrize("role", REFUSED)
def test_prison_partners_steering_and_administrators_are_refused_every_selection_page(
    client, run, people, role
):
    sign_in(client, user_in(role))
    draft = services.matrix_draft_create(user=staff(Role.PPO_MANAGER))
    pages = {
        **urls(run, people["young"]),
        "what if": reverse("selection:matrix-what-if", args=[draft.pk]),
        "adopt": reverse("selection:matrix-adopt", args=[draft.pk]),
    }
    for page, url in pages.items():
        response = client.get(url)
        assert response.status_code == 403, page
        assert "Qxyoung" not in text_of(response), page
    assert client.post(reverse("selection:index"), {}).status_code == 403
    # Every refusal is on the audit trail (the 403 handler writes it).
    assert AuditEvent.objects.filter(action=AuditAction.DENIED).count() >= len(pages)


def test_a_user_without_a_role_is_refused(client, run, people):
    sign_in(client, UserFactory())
    for page, url in urls(run, people["young"]).items():
        assert client.get(url).status_code == 403, page


@pytest.mark.parametrize("role", READERS)
def test_each_reader_sees_exactly_the_people_in_their_scope_on_the_ranking_and_in_the_csv(
    client, run, role
):
    sign_in(client, user_in(role))
    ranking = text_of(client.get(reverse("selection:run", args=[run.pk])))
    download = client.get(reverse("selection:run-csv", args=[run.pk])).content.decode()
    for key, name in NAMES.items():
        if key in SEEN_BY[role]:
            assert name in ranking, name
            assert name in download, name
        else:
            assert name not in ranking, name
            assert name not in download, name
            assert name.split()[1] not in ranking, name


def test_a_yot_reader_is_told_how_many_people_are_not_shown(client, run):
    sign_in(client, user_in(Role.YOT_WORKER))
    response = client.get(reverse("selection:run", args=[run.pk]))
    assert response.context["ranking"].not_shown == 4
    assert "4 people in this run are outside the people you work with and are not shown" in text_of(
        response
    )
    # The explanation of someone outside their scope is "not found", not a name.
    outside = run.entries.get(rank=1).offender_id
    response = client.get(reverse("selection:explanation", args=[run.pk, outside]))
    assert response.status_code == 404


@pytest.mark.parametrize("role", READERS[1:])
def test_only_the_manager_is_offered_run_selection_and_a_post_by_anyone_else_is_refused(
    client, run, role
):
    sign_in(client, user_in(role))
    page = text_of(client.get(reverse("selection:index")))
    assert "Run selection now" not in page
    assert client.post(reverse("selection:index"), {}).status_code == 403
    assert SelectionRun.objects.count() == 1
    draft_url = reverse("selection:matrix", args=[run.version_id])
    assert "Make a new draft" not in text_of(client.get(draft_url))
    assert (
        client.post(reverse("selection:matrix-new-draft", args=[run.version_id])).status_code == 403
    )
    assert MatrixVersion.objects.count() == 1


def test_the_selection_nav_item_is_for_readers_of_selection_only(db):
    for role in READERS:
        labels = [item.label for item in navigation_for(actor_for(user_in(role)), "/selection/")]
        assert "Selection" in labels, role
    for role in REFUSED:
        labels = [item.label for item in navigation_for(actor_for(user_in(role)), "/")]
        assert "Selection" not in labels, role
    items = navigation_for(actor_for(user_in(Role.PPO_MANAGER)), "/selection/runs/3/")
    assert [item.label for item in items if item.active] == ["Selection"]


# --- the selection page and running selection --------------------------------------------------


def test_the_selection_page_shows_the_adopted_version_and_past_runs(client, manager, run):
    sign_in(client, manager)
    response = client.get(reverse("selection:index"))
    page = text_of(response)
    assert "<title>Selection – PPO Case</title>" in page
    adopted = MatrixVersion.objects.get(status=MatrixStatus.ADOPTED)
    assert f'href="{reverse("selection:matrix", args=[adopted.pk])}"' in page
    assert f"Version {adopted.number}" in page
    assert "10 points" in page  # the threshold
    runs = response.context["runs"]
    assert [(r.pk, r.listed, r.pool_size) for r in runs] == [(run.pk, 5, run.pool_size)]
    assert f'href="{reverse("selection:run", args=[run.pk])}"' in page
    assert "Qxmanda Runwell" in page
    assert "Run selection now" in page
    assert "This can take a few seconds" in page
    assert 'data-prevent-double-click="true"' in page
    assert re.search(r'name="form_token" value="[0-9a-f-]{36}"', page)


def test_run_selection_now_saves_a_run_and_shows_it_with_a_success_banner(client, manager, people):
    sign_in(client, manager)
    response = client.post(reverse("selection:index"), {}, follow=True)
    run = SelectionRun.objects.get()
    assert response.redirect_chain == [(reverse("selection:run", args=[run.pk]), 302)]
    page = text_of(response)
    assert "govuk-notification-banner--success" in page
    assert "Selection run: 5 people listed" in page
    assert run.run_by == manager


def test_run_selection_posted_twice_runs_once(client, manager, people):
    sign_in(client, manager)
    token = str(uuid.uuid4())
    first = client.post(reverse("selection:index"), {"form_token": token})
    second = client.post(reverse("selection:index"), {"form_token": token}, follow=True)
    assert SelectionRun.objects.count() == 1
    assert first["Location"] == second.redirect_chain[-1][0]
    assert "already saved" in text_of(second)


def test_run_selection_without_its_token_is_an_error_not_a_run(manager, people):
    client = Client()
    sign_in(client, manager)
    response = client.post(reverse("selection:index"), {})
    assert response.status_code == 200
    page = text_of(response)
    assert "govuk-error-summary" in page and "page was out of date" in page
    assert "<title>Error: Selection" in page
    assert SelectionRun.objects.count() == 0


def test_run_selection_without_an_adopted_matrix_says_so(client, manager, people):
    MatrixVersion.objects.filter(status=MatrixStatus.ADOPTED).update(status=MatrixStatus.RETIRED)
    sign_in(client, manager)
    response = client.post(reverse("selection:index"), {})
    assert response.status_code == 200
    assert "No selection matrix has been adopted" in text_of(response)
    assert SelectionRun.objects.count() == 0


# --- the ranking ------------------------------------------------------------------------------


def ranking_rows(page: str) -> list[str]:
    body = page.split('data-testid="ranking"', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr class=\"govuk-table__row\" data-offender=.*?</tr>", body, re.S)


def test_the_ranking_lists_people_by_rank_with_score_tier_and_where(client, manager, run, people):
    sign_in(client, manager)
    response = client.get(reverse("selection:run", args=[run.pk]))
    page = text_of(response)
    assert f"PPO selection ranking – {run.as_of:%-d %B %Y}, matrix version 1" in page
    rows = ranking_rows(page)
    order = ["alpha", "pool", "young", "gaol", "low"]
    for row, key in zip(rows, order, strict=True):
        assert NAMES[key] in row
    assert re.search(r"govuk-table__cell--numeric[^>]*>20</td>", rows[0])
    assert ">PPO</td>" in rows[0].replace("\n", "")
    assert ">Pool<" in rows[1]
    assert ">DYO<" in rows[2]
    release = today() + dt.timedelta(days=30)
    assert f"In custody, due out {release:%-d %B %Y}" in rows[3]
    assert "Community" in rows[0]
    # A PPO below the threshold is listed, and marked in words.
    assert "Below threshold" in rows[4]
    assert all("Below threshold" not in row for row in rows[:4])
    explanation = reverse("selection:explanation", args=[run.pk, people["alpha"].pk])
    assert f'href="{explanation}"' in rows[0]
    assert 'govuk-table__header govuk-table__header--numeric" aria-sort="ascending">Rank' in page


def test_the_capacity_line_falls_after_the_last_place_within_capacity(client, manager, run):
    sign_in(client, manager)
    page = text_of(client.get(reverse("selection:run", args=[run.pk])))
    rows = ranking_rows(page)
    marked = [i for i, row in enumerate(rows) if 'data-capacity-line="true"' in row]
    assert marked == [1]  # the row ranked 2: capacity 2
    assert "Capacity line: the scheme's 2 places end here" in rows[1]
    assert "The scheme has <strong>2</strong> places" in page


def test_the_ranking_shows_guidance_balance_criteria_and_the_csv_link(client, manager, run):
    sign_in(client, manager)
    response = client.get(reverse("selection:run", args=[run.pk]))
    page = text_of(response)
    assert "15–20 in smaller areas, 60–100 in larger ones" in page
    ranking = response.context["ranking"]
    # PPOs now: Qxalpha and Qxlow, both in the community; proposed: the top 2, both too.
    assert (ranking.balance_now.community, ranking.balance_now.custody) == (2, 0)
    assert ranking.balance_proposed.community_share == Decimal("100.0")
    assert "100.0%" in page
    assert "How scores are calculated" in page
    assert "Arrest events in the window" in page
    assert 'data-module="moj-sortable-table"' in page
    assert f'href="{reverse("selection:run-csv", args=[run.pk])}"' in page
    assert "Download this ranking (CSV)" in page
    assert "are not shown" not in page


def test_a_long_ranking_is_paged_and_then_not_sorted_in_the_browser(
    client, manager, run, monkeypatch
):
    monkeypatch.setattr("selection.views.RANKING_PAGE_SIZE", 2)
    sign_in(client, manager)
    page = text_of(client.get(reverse("selection:run", args=[run.pk])))
    assert 'data-module="moj-sortable-table"' not in page
    assert "aria-sort" not in page
    assert len(ranking_rows(page)) == 2
    assert "Showing <b>1</b> to <b>2</b> of <b>5</b>" in page
    last = text_of(client.get(reverse("selection:run", args=[run.pk]), {"page": "3"}))
    assert NAMES["low"] in last and NAMES["alpha"] not in last
    assert client.get(reverse("selection:run", args=[run.pk]), {"page": "x"}).status_code == 200


def test_the_ranking_page_runs_the_same_number_of_queries_however_long_the_run(
    client, manager, people
):
    sign_in(client, manager)
    short = services.selection_run(user=manager)
    for n in range(12):
        arrests(OffenderFactory(first_name=f"Qxextra{n}", last_name="Dunmore"), 5, 10)
    long = services.selection_run(user=manager)
    assert long.entries.count() == short.entries.count() + 12
    counts = []
    for each in (short, long):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("selection:run", args=[each.pk])).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_missing_runs_and_people_are_not_found(client, manager, run, people):
    sign_in(client, manager)
    assert client.get(reverse("selection:run", args=[run.pk + 100])).status_code == 404
    assert client.get(reverse("selection:run-csv", args=[run.pk + 100])).status_code == 404
    nobody = reverse("selection:explanation", args=[run.pk, people["alpha"].pk + 1000])
    assert client.get(nobody).status_code == 404
    assert client.get(reverse("selection:matrix", args=[9999])).status_code == 404
    # Numbers too big for the database's integer columns are not found, not a 500.
    huge = "9" * 20
    for url in (
        f"/selection/runs/{huge}/",
        f"/selection/runs/{huge}.csv",
        f"/selection/runs/{run.pk}/people/{huge}/",
        f"/selection/matrix/{huge}/",
        f"/selection/matrix/{huge}/what-if/",
    ):
        assert client.get(url).status_code == 404, url


# --- the explanation -------------------------------------------------------------------------


def test_the_explanation_lists_the_criteria_that_gave_points_and_they_add_up(
    client, manager, run, people
):
    sign_in(client, manager)
    url = reverse("selection:explanation", args=[run.pk, people["alpha"].pk])
    response = client.get(url)
    page = text_of(response)
    assert "Qxalpha Brannock" in page.split("<h1", 1)[0].split("govuk-caption-l", 1)[1]
    assert "<title>Score explanation – Qxalpha Brannock" in page
    assert f'href="{reverse("selection:run", args=[run.pk])}" class="govuk-back-link"' in page
    fired = response.context["fired"]
    assert [(p.label, p.measure, p.weight, p.points) for p in fired] == [
        ("Arrest events in the window", "5", "2", "10"),
        ("Arrested or charged in the recent months", "1", "5", "5"),
        ("Harm of the offences in the window", "5", "1", "5"),
    ]
    shown = [Decimal(p) for p in re.findall(r'data-testid="points">([\d.]+)<', page)]
    total = re.search(r'data-testid="total-points">([\d.]+)<', page)
    assert total and sum(shown) == Decimal(total.group(1)) == Decimal("20")
    assert "5 × 2 = " in page
    no_points = page.split("Criteria that gave no points", 1)[1]
    assert "Drug misuse" in no_points and "Arrest events" not in no_points


# --- the CSV ----------------------------------------------------------------------------------


def test_the_csv_download_is_the_ranking_as_an_audited_export(client, manager, run, people):
    sign_in(client, manager)
    exports = AuditEvent.objects.filter(action="export")
    assert not exports.exists()
    response = client.get(reverse("selection:run-csv", args=[run.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:7] == [
        "rank",
        "name",
        "score",
        "above_threshold",
        "tier",
        "in_custody",
        "due_out_on",
    ]
    assert rows[1][:5] == ["1", "Qxalpha Brannock", "20.00", "yes", "ppo"]
    assert len(rows) == 6
    event = exports.get()
    assert event.detail["run"] == run.pk
    assert f",{people['alpha'].pk}," in event.offender_refs


def test_the_csv_escapes_cells_a_spreadsheet_would_run_as_formulas(client, manager, people):
    for first in ("=HYPERLINK(qx)", "+Qxplus", "-Qxminus", "@Qxat"):
        arrests(OffenderFactory(first_name=first, last_name="Qxinject"), 5, 10)
    run = services.selection_run(user=manager)
    sign_in(client, manager)
    rows = list(
        csv.reader(
            io.StringIO(client.get(reverse("selection:run-csv", args=[run.pk])).content.decode())
        )
    )
    names = {row[1] for row in rows[1:]}
    assert {"'=HYPERLINK(qx) Qxinject", "'+Qxplus Qxinject", "'-Qxminus Qxinject"} <= names
    assert "'@Qxat Qxinject" in names
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


def test_csv_safe_leaves_ordinary_cells_alone():
    assert _csv_safe("Qxalpha Brannock") == "Qxalpha Brannock"
    assert _csv_safe("12.50") == "12.50"
    assert _csv_safe("") == ""
    assert _csv_safe("=1+1") == "'=1+1"
    assert _csv_safe("\t=1") == "'\t=1"


# --- the matrix -------------------------------------------------------------------------------


@pytest.fixture
def draft(manager):
    return services.matrix_draft_create(user=manager)


def snapshot(version: MatrixVersion) -> tuple:
    version.refresh_from_db()
    return (
        version.threshold,
        version.window_months,
        version.recent_months,
        version.release_window_days,
        version.description,
        sorted(
            (c.kind, c.event_kind, c.category_id, c.weight)
            for c in Criterion.objects.filter(version=version)
        ),
    )


def draft_post(version: MatrixVersion, **changes: str) -> dict[str, str]:
    """The draft form as its page posts it, unchanged unless told."""
    data = {
        "threshold": str(version.threshold),
        "window_months": str(version.window_months),
        "recent_months": str(version.recent_months),
        "release_window_days": str(version.release_window_days),
        "description": version.description,
        "add_kind": "",
        "add_event_kind": "",
        "add_category": "",
        "add_weight": "",
    }
    for c in version.criteria.all():
        data[f"weight_{c.pk}"] = str(c.weight)
    data.update(changes)
    return data


def test_the_matrix_pages_list_versions_and_show_one(client, manager, draft):
    sign_in(client, manager)
    page = text_of(client.get(reverse("selection:matrix-list")))
    assert "Version 1" in page and f"Version {draft.number}" in page
    assert "Adopted" in page and "Draft" in page
    adopted = MatrixVersion.objects.get(status=MatrixStatus.ADOPTED)
    page = text_of(client.get(reverse("selection:matrix", args=[adopted.pk])))
    assert "Arrest events in the window" in page
    assert "Make a new draft from this version" in page
    assert "Save draft" not in page
    page = text_of(client.get(reverse("selection:matrix", args=[draft.pk])))
    assert "Save draft" in page
    assert "What if we adopted this?" in page and "Adopt this version" in page
    assert page.count('inputmode="decimal"') == draft.criteria.count() + 2
    for c in draft.criteria.all():
        assert f'<label class="govuk-label govuk-visually-hidden" for="id_weight_{c.pk}">' in page


def test_a_reader_sees_a_draft_without_its_form(client, draft):
    sign_in(client, user_in(Role.KEY_WORKER))
    page = text_of(client.get(reverse("selection:matrix", args=[draft.pk])))
    assert "Save draft" not in page and "Adopt this version" not in page
    before = snapshot(draft)
    response = client.post(reverse("selection:matrix", args=[draft.pk]), draft_post(draft))
    assert response.status_code == 403
    assert snapshot(draft) == before


def test_a_draft_is_saved_with_new_weights_settings_and_criteria(client, manager, draft):
    sign_in(client, manager)
    arrest = draft.criteria.get(kind=CriterionKind.EVENTS, event_kind="arrest")
    caution = draft.criteria.get(kind=CriterionKind.EVENTS, event_kind="caution")
    category = OffenceCategory.objects.get(name="Shoplifting")
    data = draft_post(
        draft,
        threshold="12.5",
        recent_months="4",
        add_kind=CriterionKind.PRIORITY_CRIME,
        add_category=str(category.pk),
        add_weight="1.5",
        **{f"weight_{arrest.pk}": "3", f"remove_{caution.pk}": "on"},
    )
    response = client.post(reverse("selection:matrix", args=[draft.pk]), data, follow=True)
    assert response.redirect_chain == [(reverse("selection:matrix", args=[draft.pk]), 302)]
    assert f"Draft version {draft.number} saved" in text_of(response)
    draft.refresh_from_db()
    assert draft.threshold == Decimal("12.5") and draft.recent_months == 4
    assert Criterion.objects.get(pk=arrest.pk).weight == Decimal("3")
    assert not Criterion.objects.filter(pk=caution.pk).exists()
    assert draft.criteria.filter(kind=CriterionKind.PRIORITY_CRIME, category=category).exists()
    event = AuditEvent.objects.filter(action=AuditAction.UPDATE).latest("pk")
    # The audit row names every change, criteria added and removed included.
    assert sorted(event.detail["fields"]) == sorted(
        [
            "threshold",
            "recent_months",
            f"weight:{arrest.pk}",
            f"removed:{caution.pk}",
            "added:priority_crime",
        ]
    )


@pytest.mark.parametrize(
    "weight,message",
    [
        ("-2", "cannot be negative"),
        ("two", "as a number, like 2 or 1.5"),
        ("", "as a number, like 2 or 1.5"),
        ("NaN", "as a number, like 2 or 1.5"),
    ],
)
def test_a_bad_weight_shows_the_services_message_beside_it_and_changes_nothing(
    client, manager, draft, weight, message
):
    sign_in(client, manager)
    arrest = draft.criteria.get(kind=CriterionKind.EVENTS, event_kind="arrest")
    before = snapshot(draft)
    data = draft_post(draft, threshold="11", **{f"weight_{arrest.pk}": weight})
    response = client.post(reverse("selection:matrix", args=[draft.pk]), data)
    assert response.status_code == 200
    page = text_of(response)
    assert "<title>Error: " in page
    assert "govuk-error-summary" in page
    summary = page.split("govuk-error-summary__list", 1)[1].split("</ul>", 1)[0]
    assert f'href="#id_weight_{arrest.pk}"' in summary
    assert "weight of “Arrest events in the window”" in summary and message in summary
    assert f'id="id_weight_{arrest.pk}-error"' in page
    assert f'value="{weight}"' in page  # the person's input is kept
    assert snapshot(draft) == before


def test_removing_every_criterion_is_refused_and_changes_nothing(client, manager, draft):
    sign_in(client, manager)
    before = snapshot(draft)
    removes = {f"remove_{c.pk}": "on" for c in draft.criteria.all()}
    response = client.post(
        reverse("selection:matrix", args=[draft.pk]), draft_post(draft, **removes)
    )
    assert response.status_code == 200
    assert "A matrix needs at least one criterion" in text_of(response)
    assert snapshot(draft) == before


def test_a_threshold_above_every_possible_score_is_refused_and_changes_nothing(
    client, manager, draft
):
    sign_in(client, manager)
    before = snapshot(draft)
    unbounded = [
        c
        for c in draft.criteria.all()
        if c.kind in (CriterionKind.EVENTS, CriterionKind.HARM, CriterionKind.PRIORITY_CRIME)
        or c.kind == CriterionKind.POSITIVE_TESTS
    ]
    removes = {f"remove_{c.pk}": "on" for c in unbounded}
    data = draft_post(draft, threshold="500", **removes)
    response = client.post(reverse("selection:matrix", args=[draft.pk]), data)
    assert response.status_code == 200
    page = text_of(response)
    assert "is above the highest score anyone could get" in page
    assert 'href="#id_threshold"' in page and 'id="id_threshold-error"' in page
    assert snapshot(draft) == before


@pytest.mark.parametrize(
    "changes,field",
    [
        ({"window_months": "twelve"}, "window_months"),
        ({"window_months": "99"}, "window_months"),
        ({"add_kind": "events", "add_weight": "2"}, "add_event_kind"),
        ({"add_kind": "priority_crime", "add_weight": "x"}, "add_weight"),
    ],
)
def test_other_bad_draft_input_is_shown_on_its_field_and_changes_nothing(
    client, manager, draft, changes, field
):
    sign_in(client, manager)
    before = snapshot(draft)
    response = client.post(
        reverse("selection:matrix", args=[draft.pk]), draft_post(draft, **changes)
    )
    assert response.status_code == 200
    page = text_of(response)
    assert "govuk-error-summary" in page
    assert f'id="id_{field}-error"' in page
    assert snapshot(draft) == before


def test_an_adopted_version_cannot_be_changed_through_its_page(client, manager):
    adopted = MatrixVersion.objects.get(status=MatrixStatus.ADOPTED)
    sign_in(client, manager)
    before = snapshot(adopted)
    response = client.post(reverse("selection:matrix", args=[adopted.pk]), draft_post(adopted))
    assert response.status_code == 200
    assert "has been adopted and cannot be changed" in text_of(response)
    assert snapshot(adopted) == before


def test_make_a_new_draft_from_the_adopted_version(client, manager):
    adopted = MatrixVersion.objects.get(status=MatrixStatus.ADOPTED)
    sign_in(client, manager)
    response = client.post(reverse("selection:matrix-new-draft", args=[adopted.pk]), {})
    draft = MatrixVersion.objects.get(status=MatrixStatus.DRAFT)
    assert response["Location"] == reverse("selection:matrix", args=[draft.pk])
    assert draft.criteria.count() == adopted.criteria.count()
    assert client.get(reverse("selection:matrix-new-draft", args=[adopted.pk])).status_code == 302


def test_adopting_asks_are_you_sure_then_adopts(client, manager, draft):
    sign_in(client, manager)
    url = reverse("selection:matrix-adopt", args=[draft.pk])
    page = text_of(client.get(url))
    assert "govuk-panel--interruption" in page
    assert f"Are you sure you want to adopt version {draft.number}?" in page
    assert re.search(r'name="form_token" value="[0-9a-f-]{36}"', page)
    assert MatrixVersion.objects.get(pk=draft.pk).status == MatrixStatus.DRAFT
    response = client.post(url, {}, follow=True)
    assert response.redirect_chain == [(reverse("selection:matrix", args=[draft.pk]), 302)]
    assert f"Version {draft.number} adopted" in text_of(response)
    assert MatrixVersion.objects.get(pk=draft.pk).status == MatrixStatus.ADOPTED
    assert MatrixVersion.objects.get(number=1).status == MatrixStatus.RETIRED
    # Now adopted, there is nothing to confirm.
    assert client.get(url)["Location"] == reverse("selection:matrix", args=[draft.pk])


def test_adopting_an_unusable_draft_shows_why_and_changes_nothing(client, manager, draft):
    Criterion.objects.filter(version=draft).update(weight=0)
    sign_in(client, manager)
    response = client.post(reverse("selection:matrix-adopt", args=[draft.pk]), {})
    assert response.status_code == 200
    assert "Give at least one criterion a weight above 0" in text_of(response)
    assert MatrixVersion.objects.get(pk=draft.pk).status == MatrixStatus.DRAFT
    assert MatrixVersion.objects.get(number=1).status == MatrixStatus.ADOPTED


def test_what_if_shows_who_would_enter_and_leave_the_top_places(client, manager, people, draft):
    # Weighting a CRASBO at 50 puts Qxlow Fenwick (a CRASBO, no offending) at the top and
    # pushes Qxpool Marrow (17) out of the top 2.
    community = draft.criteria.get(kind=CriterionKind.COMMUNITY_IMPACT)
    services.matrix_draft_update(user=manager, version_id=draft.pk, weights={community.pk: "50"})
    sign_in(client, manager)
    response = client.get(reverse("selection:matrix-what-if", args=[draft.pk]))
    assert response.status_code == 200
    page = text_of(response)
    entering = page.split('data-testid="entering"', 1)[1].split("</table>", 1)[0]
    leaving = page.split('data-testid="leaving"', 1)[1].split("</table>", 1)[0]
    assert "Qxlow Fenwick" in entering and "Qxpool Marrow" in leaving
    assert "Qxalpha Brannock" not in entering + leaving
    sign_in(client, user_in(Role.POLICE_OFFICER))
    assert client.get(reverse("selection:matrix-what-if", args=[draft.pk])).status_code == 403
