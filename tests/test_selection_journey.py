"""The PPO manager runs selection, reads one person's score and decides at a panel, in
Debian's Chromium.

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
from offenders.models import ProgrammeEpisode
from selection.models import (
    Criterion,
    CriterionKind,
    MatrixStatus,
    MatrixVersion,
    SelectionPanel,
)
from tests.factories import (
    OffenceCategoryFactory,
    OffenderFactory,
    OffendingEventFactory,
    ProgrammeEpisodeFactory,
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


def test_the_ppo_manager_selects_from_the_ranking_at_a_panel_and_steps_a_ppo_down_to_iom(
    live_server: Any, page: Any, page_problems: Any
) -> None:
    """Issue 7 "Done when": run a selection, read one person's explanation, record a panel
    decision selecting them and see them on the caseload; then step another PPO down to
    IOM and find them on the IOM caseload."""
    require_frontend_build()
    manager = staff(
        Role.PPO_MANAGER, username="qxmanager", first_name="Qxmanda", last_name="Runwell"
    )
    Scheme.current()
    adopt_journey_matrix()
    shoplifting = OffenceCategoryFactory(name="Shoplifting", harm_weight=1)
    today = timezone.localdate()
    # In the pool: 4 × 2 (arrests) + 5 (recent) + 4 × 1 (harm) = 17, ranked first.
    candidate = OffenderFactory(first_name="Qxdarrow", last_name="Pellingham")
    for _ in range(4):
        OffendingEventFactory(
            offender=candidate, category=shoplifting, occurred_on=today - dt.timedelta(days=10)
        )
    # A PPO for a year with no offending in the window: responding, so stepped down.
    responding = OffenderFactory(first_name="Qxstella", last_name="Downworth")
    ProgrammeEpisodeFactory(offender=responding, selected_on=today - dt.timedelta(days=365))

    sign_in_as(page, live_server, "qxmanager")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Selection").click()
    page.get_by_role("button", name="Run selection now").click()
    expect(page.get_by_role("alert")).to_contain_text("Selection run: 2 people listed")
    ranking = page.get_by_test_id("ranking")
    row = ranking.locator(f'tr[data-offender="{candidate.pk}"]')
    expect(row.locator("td").nth(1)).to_have_text("17")
    run_url = page.url

    # The explanation's points add up to the score.
    row.get_by_role("link", name=re.compile(r"^Qxdarrow Pellingham")).click()
    points = [Decimal(text) for text in page.get_by_test_id("points").all_text_contents()]
    assert sum(points) == Decimal(page.get_by_test_id("total-points").text_content() or "") == 17

    # The panel meets today; the manager records it, then its decision from the ranking.
    page.goto(f"{live_server.url}/selection/")
    page.get_by_role("link", name="Selection panels").click()
    page.get_by_role("link", name="Record a panel").click()
    assert_accessible(page, "record a panel")
    page.get_by_label("Day").fill(str(today.day))
    page.get_by_label("Month").fill(str(today.month))
    page.get_by_label("Year").fill(str(today.year))
    chair = page.get_by_label("Chair")
    expect(chair.locator(f'option[value="{manager.pk}"]')).to_contain_text("Qxmanda Runwell")
    chair.select_option(value=str(manager.pk))
    page.get_by_role("button", name="Record the panel").click()
    expect(page.get_by_role("alert")).to_be_visible()
    panel = SelectionPanel.objects.get()
    assert panel.held_on == today and panel.chair == manager

    page.goto(run_url)
    page.get_by_test_id("ranking").locator(f'tr[data-offender="{candidate.pk}"]').get_by_role(
        "link", name=re.compile("Record a decision")
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Which panel is the decision for?")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record a decision")
    expect(page.get_by_test_id("tier")).to_contain_text("Not on a tier", ignore_case=True)
    assert_accessible(page, "decision form")
    page.get_by_label("Select as a PPO").check()
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_role("alert")).to_contain_text(
        f"Qxdarrow Pellingham is a PPO from {today:%-d %B %Y}"
    )
    assert ProgrammeEpisode.objects.get(offender=candidate).selected_on == today

    # On the manager's caseload (the home page) from today.
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Home").click()
    expect(page.locator(f'a[href="/people/{candidate.pk}/"]')).to_have_text("Qxdarrow Pellingham")

    # Step the responding PPO down, found by name from the panel's page.
    page.goto(f"{live_server.url}/selection/panels/{panel.pk}/")
    page.get_by_label(re.compile("a person by name or identifier")).fill("Downworth")
    page.get_by_role("button", name="Search").click()
    page.get_by_test_id("search-results").get_by_role(
        "link", name="Record a decision about Qxstella Downworth"
    ).click()
    page.get_by_label("Step down to IOM").check()
    page.get_by_role("button", name="Record the decision").click()
    # Taking someone off the PPO tier is checked before it is recorded.
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check the decision before recording it"
    )
    assert ProgrammeEpisode.objects.get(offender=responding).deselected_on is None
    assert_accessible(page, "decision check page")
    page.get_by_role("button", name="Record the decision").click()
    expect(page.get_by_role("alert")).to_contain_text("Qxstella Downworth is on the IOM tier")
    episodes = ProgrammeEpisode.objects.filter(offender=responding).order_by("selected_on")
    assert [(e.kind, e.deselected_on) for e in episodes] == [("ppo", today), ("iom", None)]

    # The IOM caseload: the home page's tier filter.
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Home").click()
    # The tier filter's select (the table's column is labelled "Tier" too).
    tier = page.locator("select").filter(has=page.locator('option[value="iom"]')).first
    expect(tier.locator('option[value="iom"]')).to_have_text("IOM (1)")
    tier.select_option(value="iom")
    page.get_by_role("button", name="Apply filters").click()
    caseload = page.locator("table", has=page.locator("caption", has_text="IOM"))
    expect(caseload.locator("caption")).to_contain_text("1 person")
    expect(caseload.locator(f'a[href="/people/{responding.pk}/"]')).to_have_text(
        "Qxstella Downworth"
    )
    expect(caseload.locator(f'a[href="/people/{candidate.pk}/"]')).to_have_count(0)
    assert_accessible(page, "IOM caseload")
    assert not page_problems.all(), "\n".join(page_problems.all())
