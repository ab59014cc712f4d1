"""axe-core on the list pages issue 13 item 6 and 8 change, at 1280px and 390px: the people
list with its MoJ filter and page numbers (a manager, and a prison worker's list with its
release dates), a timeline's second page, and the audit log in words."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from access.models import AgencyKind, Role
from tests.factories import (
    AgencyFactory,
    ContactFactory,
    CustodyEpisodeFactory,
    OffenderFactory,
    ProgrammeEpisodeFactory,
    staff,
)
from tests.test_phone_width import AXE, WIDTHS, check_page

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory


def sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("signed-in-user")).to_be_visible()


def test_the_list_pages_pass_axe_at_both_widths(
    live_server: Any, browser: Any, transactional_db: Any, monkeypatch: Any
) -> None:
    if not AXE.exists():
        pytest.fail("node_modules/axe-core is missing: run `make test` (npm ci) first")
    from offenders import timeline

    monkeypatch.setattr(timeline, "PAGE_SIZE", 5)
    today = timezone.localdate()
    prison = AgencyFactory(name="HMP Example", kind=AgencyKind.PRISON)
    staff(Role.PPO_MANAGER, username="manager")
    staff(Role.PRISON_WORKER, agency=prison, username="carat")
    people = []
    for _ in range(60):
        person = OffenderFactory()
        ProgrammeEpisodeFactory(offender=person, selected_on=dt.date(2020, 1, 1))
        people.append(person)
    CustodyEpisodeFactory(
        offender=people[0],
        establishment=prison,
        started_on=today - dt.timedelta(days=30),
        expected_release_on=today + dt.timedelta(days=60),
    )
    CustodyEpisodeFactory(
        offender=people[1],
        establishment=prison,
        started_on=today - dt.timedelta(days=300),
        released_on=today - dt.timedelta(days=10),
    )
    now = timezone.now()
    for i in range(12):
        ContactFactory(offender=people[0], occurred_at=now - dt.timedelta(hours=i))

    failures: list[str] = []
    context = browser.new_context(locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(15_000)
    page = context.new_page()
    base = live_server.url
    try:
        for size in WIDTHS.values():
            page.set_viewport_size(size)
            sign_in(page, base, "manager")
            page.goto(f"{base}/people/?q={people[0].last_name[:2]}&page=1")
            check_page(page, "people, searched", failures)
            page.goto(f"{base}/people/?page=2")
            expect(page.locator(".govuk-pagination__item--current")).to_have_text("2")
            check_page(page, "people, page 2", failures)
            page.goto(f"{base}/people/{people[0].pk}/timeline/?page=2")
            expect(page.get_by_test_id("timeline-pages")).to_be_visible()
            check_page(page, "timeline, page 2", failures)
            page.goto(f"{base}/people/{people[0].pk}/")
            check_page(page, "profile", failures)
            page.goto(f"{base}/audit/?page=2")
            expect(page.get_by_test_id("audit-people").first).to_be_visible()
            check_page(page, "audit log, page 2", failures)
            page.get_by_role("button", name="Sign out").click()
            expect(page).to_have_url(re.compile(r"/sign-in/"))
            sign_in(page, base, "carat")
            page.goto(f"{base}/people/")
            expect(page.get_by_role("columnheader", name="Release date")).to_be_visible()
            check_page(page, "prison list", failures)
            page.get_by_role("button", name="Sign out").click()
    finally:
        context.close()
    assert not failures, "\n\n".join(failures)
