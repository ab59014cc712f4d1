"""The PPO manager runs selection and reads one person's score, in Debian's Chromium.

Sign in → Selection → "Run selection now" → the ranking → a person's score explanation,
whose points must add up to the total shown. axe-core checks the ranking and the
explanation as the other journeys do.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import Max
from django.utils import timezone
from playwright.sync_api import expect

from access.models import Role, Scheme
from selection.models import Criterion, CriterionKind, MatrixStatus, MatrixVersion
from tests.factories import (
    OffenceCategoryFactory,
    OffenderFactory,
    OffendingEventFactory,
    staff,
)
from tests.test_browser_journeys import (
    assert_accessible,
    assert_design_system_css,
    expect_module_started,
    require_frontend_build,
    sign_in_as,
)

pytestmark = pytest.mark.browser


def adopt_journey_matrix() -> MatrixVersion:
    """A small matrix made for this journey, adopted. Written directly (not through the
    services), and whatever an earlier browser test's database flush left behind."""
    number = (MatrixVersion.objects.aggregate(n=Max("number"))["n"] or 0) + 1
    version = MatrixVersion.objects.create(
        number=number, status=MatrixStatus.DRAFT, threshold=Decimal("10")
    )
    for kind, event_kind, weight in (
        (CriterionKind.EVENTS, "arrest", "2"),
        (CriterionKind.RECENT, "", "5"),
        (CriterionKind.HARM, "", "1"),
        (CriterionKind.DRUG_MISUSE, "", "5"),
    ):
        Criterion.objects.create(
            version=version, kind=kind, event_kind=event_kind, weight=Decimal(weight)
        )
    MatrixVersion.objects.filter(status=MatrixStatus.ADOPTED).update(status=MatrixStatus.RETIRED)
    MatrixVersion.objects.filter(pk=version.pk).update(
        status=MatrixStatus.ADOPTED, adopted_at=timezone.now()
    )
    return version


def test_the_ppo_manager_runs_selection_and_reads_a_score_explanation(
    live_server: Any, page: Any, page_problems: Any
) -> None:
    require_frontend_build()
    staff(Role.PPO_MANAGER, username="qxmanager", first_name="Qxmanda", last_name="Runwell")
    Scheme.current()
    version = adopt_journey_matrix()
    shoplifting = OffenceCategoryFactory(name="Shoplifting", harm_weight=1)
    # Four arrests ten days ago: 4 × 2 + 5 (recent) + 4 × 1 (harm) = 17, over the threshold.
    person = OffenderFactory(first_name="Qxdarrow", last_name="Pellingham")
    for _ in range(4):
        OffendingEventFactory(
            offender=person,
            category=shoplifting,
            occurred_on=timezone.localdate() - dt.timedelta(days=10),
        )

    sign_in_as(page, live_server, "qxmanager")
    expect(page).to_have_url(f"{live_server.url}/")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Selection").click()

    expect(page).to_have_url(f"{live_server.url}/selection/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Selection")
    expect(page.get_by_test_id("adopted-matrix")).to_contain_text(f"Version {version.number}")
    assert_design_system_css(page)
    assert_accessible(page, "selection page")

    run_now = page.get_by_role("button", name="Run selection now")
    expect(run_now).to_have_attribute("data-prevent-double-click", "true")
    run_now.click()

    expect(page).to_have_url(re.compile(r"/selection/runs/\d+/$"))
    expect(page.get_by_role("alert")).to_contain_text("Selection run: 1 person listed")
    ranking = page.get_by_test_id("ranking")
    expect(ranking.locator("caption")).to_contain_text(
        f"PPO selection ranking – {timezone.localdate():%-d %B %Y}, matrix version {version.number}"
    )
    row = ranking.locator(f'tr[data-offender="{person.pk}"]')
    expect(row).to_contain_text("Qxdarrow Pellingham")
    expect(row.locator("td").nth(1)).to_have_text("17")
    # moj-sortable-table started: the sortable headers became buttons.
    expect_module_started(page, "moj-sortable-table")
    expect(ranking.get_by_role("button", name="Score")).to_be_visible()
    assert_accessible(page, "selection ranking")

    row.get_by_role("link", name=re.compile(r"^Qxdarrow Pellingham")).click()

    expect(page).to_have_url(re.compile(rf"/selection/runs/\d+/people/{person.pk}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Score explanation")
    expect(page.get_by_test_id("person")).to_have_text("Qxdarrow Pellingham")
    points = [Decimal(text) for text in page.get_by_test_id("points").all_text_contents()]
    total = Decimal(page.get_by_test_id("total-points").text_content() or "")
    assert len(points) == 3, points
    assert sum(points) == total == Decimal("17")
    # The criteria that gave nothing are folded away, and open from the keyboard.
    summary = page.locator("summary", has_text="Criteria that gave no points")
    summary.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("no-points")).to_contain_text("Drug misuse")
    assert_accessible(page, "score explanation")

    page.get_by_role("link", name="Back to the ranking").click()
    expect(page.get_by_test_id("ranking")).to_be_visible()
    assert not page_problems.all(), "\n".join(page_problems.all())


def test_the_ppo_manager_makes_a_draft_and_a_negative_weight_is_refused(
    live_server: Any, page: Any, page_problems: Any
) -> None:
    require_frontend_build()
    staff(Role.PPO_MANAGER, username="qxmanager", first_name="Qxmanda", last_name="Runwell")
    version = adopt_journey_matrix()

    sign_in_as(page, live_server, "qxmanager")
    expect(page).to_have_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/selection/matrix/{version.pk}/")
    page.get_by_role("button", name="Make a new draft from this version").click()

    expect(page.get_by_role("alert")).to_contain_text(f"made from version {version.number}")
    draft = MatrixVersion.objects.get(status=MatrixStatus.DRAFT)
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Version {draft.number}")
    assert_accessible(page, "matrix draft form")
    weight = page.get_by_label("Weight for Arrest events in the window")
    expect(weight).to_have_attribute("inputmode", "decimal")
    weight.fill("-3")
    page.get_by_role("button", name="Save draft").click()

    expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("cannot be negative")
    summary.get_by_role("link").first.click()
    expect(page.get_by_label("Weight for Arrest events in the window")).to_be_focused()
    assert_accessible(page, "matrix draft form with an error")
    assert draft.criteria.get(kind=CriterionKind.EVENTS).weight == Decimal("2")
    assert not page_problems.all(), "\n".join(page_problems.all())
