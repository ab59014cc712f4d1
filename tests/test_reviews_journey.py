"""The PPO manager clears a due review and records a PPO transferring in, in Debian's
Chromium (issue 8; 003 §6.2).

Home ("Reviews due") → the reviews list → filtered by kind → one person's review →
"no change, reviewed" refused without a reason, then closed with one → the count drops.
Then the person arriving from another area: their "Selection & panel" tab → "Record a
transfer in" → the new selection review on the list (003 §6.2(2)). axe-core checks each
page as the other journeys do.

The reviews the journey starts with are written directly, not by the sweep: the journey
is about the pages, and the sweep has its own tests.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from access.models import Role, Scheme
from selection.models import Review, ReviewKind, ReviewOutcome, ReviewStatus, TransferIn
from tests.factories import OffenderFactory, ProgrammeEpisodeFactory, staff
from tests.test_browser_journeys import (
    assert_accessible,
    assert_design_system_css,
    expect_module_started,
    require_frontend_build,
    sign_in_as,
)

pytestmark = pytest.mark.browser


def due_review(kind: str, offender: Any, due_on: dt.date) -> Review:
    return Review.objects.create(
        kind=kind,
        offender=offender,
        basis=f"journey:{kind}:{offender.pk}",
        due_on=due_on,
        raised_on=due_on,
    )


def test_the_ppo_manager_closes_a_review_and_records_a_transfer_in(
    live_server: Any, page: Any, page_problems: Any
) -> None:
    require_frontend_build()
    staff(Role.PPO_MANAGER, username="qxrevmanager", first_name="Qxreva", last_name="Clearwell")
    Scheme.current()
    today = timezone.localdate()
    two_years = OffenderFactory(first_name="Qxtwoyear", last_name="Haldane")
    ProgrammeEpisodeFactory(offender=two_years, selected_on=today - dt.timedelta(days=731))
    quiet = OffenderFactory(first_name="Qxquiet", last_name="Morrow")
    ProgrammeEpisodeFactory(offender=quiet, selected_on=today - dt.timedelta(days=400))
    arriving = OffenderFactory(
        first_name="Qxarrive", last_name="Penhallow", date_of_birth=dt.date(1990, 5, 14)
    )
    review = due_review(ReviewKind.TWO_YEARS, two_years, today)
    due_review(ReviewKind.NO_ARREST, quiet, today - dt.timedelta(days=3))

    # Home: the "Reviews due" panel counts both, one overdue.
    sign_in_as(page, live_server, "qxrevmanager")
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_test_id("reviews-due-total")).to_have_text("2 reviews due")
    expect(page.get_by_test_id("reviews-overdue")).to_have_text("1 overdue")
    assert_design_system_css(page)
    assert_accessible(page, "home page with reviews due")
    page.get_by_test_id("reviews-due-total").click()

    # The list, then only the two-year reviews.
    expect(page).to_have_url(f"{live_server.url}/selection/reviews/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Reviews due")
    reviews = page.get_by_test_id("reviews")
    expect(reviews.locator("caption")).to_contain_text("2 reviews due")
    assert_accessible(page, "reviews list")
    page.get_by_label("Kind of review").select_option(value=ReviewKind.TWO_YEARS)
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"\?kind=two_years"))
    expect(reviews.locator("caption")).to_contain_text("1 review due matching the filters")
    expect(reviews.locator("tbody tr[data-review]")).to_have_count(1)
    row = reviews.locator(f'tr[data-review="{review.pk}"]')
    expect(row).to_contain_text("Qxtwoyear Haldane")
    expect(reviews).not_to_contain_text("Qxquiet Morrow")

    # One person's review: a close without a reason is refused, nothing saved.
    row.get_by_role("link", name=re.compile(r"^Close: no change, reviewed")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Close the review: no change, reviewed"
    )
    expect(page.get_by_test_id("person")).to_have_text("Qxtwoyear Haldane")
    expect(page.get_by_test_id("review")).to_contain_text("Two years on the scheme")
    expect_module_started(page, "govuk-character-count")
    assert_accessible(page, "close a review")
    page.get_by_role("button", name="Close the review").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Enter why nothing needs to change")
    summary.get_by_role("link").first.click()
    reason = page.get_by_label("Why does nothing need to change?")
    expect(reason).to_be_focused()
    assert_accessible(page, "close a review with an error")
    review.refresh_from_db()
    assert review.status == ReviewStatus.OPEN

    reason.fill("Still prolific: three arrests this year. Stays on the scheme.")
    page.get_by_role("button", name="Close the review").click()
    expect(page).to_have_url(f"{live_server.url}/selection/reviews/")
    expect(page.get_by_role("alert")).to_contain_text(
        "Review closed: no change, reviewed – Two years on the scheme, Qxtwoyear Haldane"
    )
    expect(reviews.locator("caption")).to_contain_text("1 review due")
    expect(reviews).not_to_contain_text("Qxtwoyear Haldane")
    review.refresh_from_db()
    assert (review.status, review.outcome) == (ReviewStatus.CLOSED, ReviewOutcome.NO_CHANGE)
    assert review.outcome_reason.startswith("Still prolific")

    # The count on the home page dropped with it.
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Home").click()
    expect(page.get_by_test_id("reviews-due-total")).to_have_text("1 review due")

    # A PPO transferring in: recorded from their "Selection & panel" tab.
    page.goto(f"{live_server.url}/people/{arriving.pk}/")
    page.get_by_role("navigation", name="Person navigation").get_by_role(
        "link", name="Selection & panel"
    ).click()
    expect(page).to_have_url(f"{live_server.url}/selection/people/{arriving.pk}/")
    page.get_by_role("link", name="Record a transfer in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Record a transfer in from another area"
    )
    expect(page.get_by_test_id("person")).to_have_text("Qxarrive Penhallow")
    assert_accessible(page, "record a transfer in")

    # A date in the future is refused, and what was typed is kept.
    tomorrow = today + dt.timedelta(days=1)
    page.get_by_label("Which scheme does the person come from?").fill("Nordshire PPO scheme")
    page.get_by_label("Which area does the person come from?").fill("Nordshire")
    page.get_by_label("Day").fill(str(tomorrow.day))
    page.get_by_label("Month").fill(str(tomorrow.month))
    page.get_by_label("Year").fill(str(tomorrow.year))
    save = page.get_by_role("button", name="Record the transfer in")
    expect(save).to_have_attribute("data-prevent-double-click", "true")
    save.click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("The date of arrival cannot be in the future")
    summary.get_by_role("link").first.click()
    expect(page.get_by_label("Day")).to_be_focused()
    expect(page.get_by_label("Which area does the person come from?")).to_have_value("Nordshire")
    assert_accessible(page, "record a transfer in with an error")
    assert not TransferIn.objects.exists()

    arrived = today - dt.timedelta(days=2)
    page.get_by_label("Day").fill(str(arrived.day))
    page.get_by_label("Month").fill(str(arrived.month))
    page.get_by_label("Year").fill(str(arrived.year))
    page.get_by_label("Notes").fill("Offender manager at Nordshire: Qxpat Lowry")
    page.get_by_role("button", name="Record the transfer in").click()
    expect(page).to_have_url(f"{live_server.url}/selection/people/{arriving.pk}/transfers-in/")
    expect(page.get_by_role("alert")).to_contain_text(
        f"a selection review is due from {arrived:%-d %B %Y}"
    )
    expect(page.get_by_test_id("transfers-in")).to_contain_text("Nordshire PPO scheme")
    assert_accessible(page, "transfers in")

    # The new selection review is on the list.
    page.get_by_role("link", name="Reviews due for Qxarrive Penhallow").click()
    listed = page.get_by_test_id("reviews")
    expect(listed.locator("tbody tr[data-review]")).to_have_count(1)
    new_row = listed.locator(f'tr[data-offender="{arriving.pk}"]')
    expect(new_row).to_contain_text("Transferred in from another area")
    expect(new_row).to_contain_text("From scheme: Nordshire PPO scheme")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Home").click()
    expect(page.get_by_test_id("reviews-due-total")).to_have_text("2 reviews due")
    transfer = TransferIn.objects.get()
    assert Review.objects.filter(
        kind=ReviewKind.TRANSFER_IN, basis=f"transfer:{transfer.pk}", due_on=arrived
    ).exists()
    assert not page_problems.all(), "\n".join(page_problems.all())
