"""A PPO recognised on arrival in prison custody (002 inspection; issue 10), in Debian's
Chromium.

The prison worker checks a new arrival's PNC ID and sees only the answer and the scheme
contact (nothing of the record), records the reception with an expected release in four
weeks; the key worker then signs in and finds the alert and the person on "Due out within
6 weeks, release plan incomplete", marks the alert read, and opens the custody record.
axe-core checks each page as the other journeys do.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from access.models import AgencyKind, Role, Scheme
from offenders.identifiers import format_pnc
from offenders.models import CustodyEpisode
from offenders.premium_models import Alert
from tests.factories import (
    AgencyFactory,
    OffenceCategoryFactory,
    OffenderFactory,
    OffendingEventFactory,
    ProgrammeEpisodeFactory,
    staff,
)
from tests.test_browser_journeys import (
    assert_accessible,
    assert_design_system_css,
    require_frontend_build,
    sign_in_as,
)

pytestmark = pytest.mark.browser

PNC = format_pnc(2003, 771204)

# Of the person's record, none of this may show on the check page.
NOT_ON_THE_CHECK_PAGE = ["Qxarrival", "Brennock", "1989", "12 March", "Qxtheft", "A4321QX"]


def test_a_prison_worker_recognises_a_ppo_and_the_key_worker_is_told(
    live_server: Any, page: Any, page_problems: Any
) -> None:
    require_frontend_build()
    Scheme.current()
    prison = AgencyFactory(name="HMP Qxbridge", kind=AgencyKind.PRISON)
    staff(Role.PRISON_WORKER, agency=prison, username="qxreception", first_name="Qxrena")
    staff(Role.PPO_MANAGER, username="qxmgr", first_name="Qxmona", last_name="Stirling")
    key_worker = staff(Role.KEY_WORKER, username="qxkw", first_name="Qxkira", last_name="Dale")
    police = staff(Role.POLICE_OFFICER, username="qxpc")
    person = OffenderFactory(
        first_name="Qxarrival",
        last_name="Brennock",
        date_of_birth=dt.date(1989, 3, 12),
        pnc_id=PNC,
        prison_number="A4321QX",
        key_worker=key_worker,
        police_officer=police,
    )
    ProgrammeEpisodeFactory(offender=person, selected_on=dt.date(2024, 2, 1))
    OffendingEventFactory(offender=person, category=OffenceCategoryFactory(name="Qxtheft"))
    release = timezone.localdate() + dt.timedelta(weeks=4)

    # The prison worker: "Arrivals" in the navigation, the check, the answer only.
    sign_in_as(page, live_server, "qxreception")
    page.get_by_role("link", name="Arrivals").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check a new arrival")
    assert_design_system_css(page)
    assert_accessible(page, "arrival check")
    page.get_by_label("PNC ID or prison number").fill("03/771204" + PNC[-1])
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_test_id("arrival-answer-text")).to_have_text("PPO")
    expect(page.get_by_test_id("scheme-contact")).to_contain_text("Qxmona Stirling")
    text = page.locator("main").inner_text()
    for shown in NOT_ON_THE_CHECK_PAGE:
        assert shown not in text, shown
    assert_accessible(page, "arrival check answer")

    # Record the reception: a sentence, due out in four weeks.
    form = page.get_by_test_id("reception-form")
    form.get_by_label("Sentence", exact=True).check()
    form.get_by_label("Sentence length in months").fill("3")
    form.get_by_label("Expected release date").fill(release.isoformat())
    form.get_by_role("button", name="Record the reception").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Reception recorded"
    )
    # Now in their scope: the custody record names the person.
    expect(page.get_by_role("heading", level=1)).to_have_text("Sentence at HMP Qxbridge")
    expect(page.locator(".govuk-caption-l")).to_have_text("Qxarrival Brennock")
    expect(page.get_by_test_id("release-plan-status")).to_contain_text("Incomplete")
    assert_accessible(page, "custody record")
    episode = CustodyEpisode.objects.get(offender=person)
    assert episode.received_at is not None and episode.expected_release_on == release

    # The key worker: the alert and the incomplete plan on their home page.
    page.context.clear_cookies()
    sign_in_as(page, live_server, "qxkw")
    expect(page).to_have_url(f"{live_server.url}/")
    alerts = page.get_by_test_id("alerts")
    expect(alerts).to_contain_text("Qxarrival Brennock was received into custody at HMP Qxbridge")
    expect(page.get_by_test_id("alerts-unread")).to_have_text("1 unread")
    due = page.get_by_test_id("release-plans-due")
    expect(due).to_contain_text("Due out within 6 weeks, release plan incomplete")
    row = due.locator(f'tr[data-custody="{episode.pk}"]')
    expect(row).to_contain_text("Qxarrival Brennock")
    expect(row).to_contain_text(f"{release.day} {release:%b %Y}")
    expect(row).to_contain_text("Accommodation, treatment, supervision on release")
    assert_accessible(page, "key worker's home page with an alert")

    alerts.get_by_role("button", name=re.compile("^Mark as read")).click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Alert marked as read"
    )
    expect(page.get_by_test_id("alerts-unread")).to_have_count(0)
    assert Alert.objects.get(recipient=key_worker).read_at is not None
    page.get_by_test_id("release-plans-due").get_by_role(
        "link", name=re.compile("Qxarrival Brennock")
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sentence at HMP Qxbridge")
    assert not page_problems.all(), page_problems.all()
