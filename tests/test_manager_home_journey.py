"""The PPO manager's day starts with what needs action (issue 13.2) and the caseload is
sorted by need (issue 13.3), in Debian's Chromium.

Each count on the home page equals the rows behind its link; the caseload's first row is
the person most behind on contacts; axe-core finds nothing at 1280 and 390 px.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from access.models import Role
from offenders.models import ProgrammeKind, Supervision
from tests.factories import (
    ContactFactory,
    CustodyEpisodeFactory,
    OffenceCategoryFactory,
    OffenderFactory,
    OffendingEventFactory,
    ProgrammeEpisodeFactory,
    staff,
)
from tests.test_browser_journeys import assert_accessible, require_frontend_build, sign_in_as

pytestmark = pytest.mark.browser

WIDTHS = (1280, 390)


def person(kw: Any, last_name: str, kind: str = ProgrammeKind.PPO, **fields: Any) -> Any:
    p = OffenderFactory(
        first_name="Test",
        last_name=last_name,
        key_worker=kw,
        supervision=Supervision.NONE,
        **fields,
    )
    ProgrammeEpisodeFactory(offender=p, kind=kind)
    return p


def rows_in_caseload(page: Any) -> int:
    return page.get_by_test_id("caseload").locator("tbody tr[data-offender]").count()


def test_manager_counts_match_their_lists_and_the_most_behind_comes_first(
    live_server: Any, page: Any, page_problems: Any
) -> None:
    require_frontend_build()
    kw = staff(Role.KEY_WORKER, username="kw", first_name="Kim", last_name="Walker")
    staff(Role.PPO_MANAGER, username="manager", first_name="Mo", last_name="Manager")
    now = timezone.now()
    # Every one of these is below this week's target (no contact yet this week), so the
    # order is by the time since the last attended contact: never contacted first.
    person(kw, "Aardvark")  # never contacted: the most behind
    stale = person(kw, "Bramble")
    ContactFactory(offender=stale, worker=kw, occurred_at=now - dt.timedelta(days=20))
    # Arrested last week, never conferenced since selection: new offending since then.
    OffenceCategoryFactory()
    OffendingEventFactory(offender=stale, occurred_on=timezone.localdate() - dt.timedelta(days=7))
    older = person(kw, "Cobble")
    ContactFactory(offender=older, worker=kw, occurred_at=now - dt.timedelta(days=40))
    inside = person(kw, "Dimble")
    CustodyEpisodeFactory(
        offender=inside,
        started_on=timezone.localdate() - dt.timedelta(days=90),
        expected_release_on=timezone.localdate() + dt.timedelta(days=10),
    )
    person(kw, "Eddery", kind=ProgrammeKind.IOM)  # on a tier, not a PPO
    OffenderFactory(last_name="Poolside")  # not on the scheme

    sign_in_as(page, live_server, "manager")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Scheme overview")
        assert_accessible(page, f"manager's home at {width} px")
        first = page.get_by_test_id("caseload").locator("tbody tr[data-offender]").first
        expect(first.get_by_role("rowheader")).to_contain_text("Aardvark")
        # "Log contact" sits beside the name: the second cell of the row.
        expect(first.locator("td").first.get_by_role("link")).to_have_text(
            "Log contact for Test Aardvark"
        )

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/")
    links: list[tuple[str, int, str]] = []
    panels = page.get_by_test_id("needs-action").get_by_role("link")
    for i in range(panels.count()):
        link = panels.nth(i)
        count = int(link.get_by_test_id("panel-count").inner_text())
        links.append((link.inner_text(), count, link.get_attribute("href") or ""))
    headline = page.get_by_test_id("headline").get_by_test_id("headline-link")
    for i in range(headline.count()):
        link = headline.nth(i)
        text = link.inner_text()
        links.append((text, int(text.split()[0]), link.get_attribute("href") or ""))
    assert len(links) == 4 + 4, links
    counts = {text: count for text, count, _ in links}
    # Built above: below target and without a contact for 14 days, the 3 PPOs and the
    # IOM in the community (Dimble, in custody, has no contact target); Dimble due out
    # within 28 days; Bramble arrested since selection; 4 PPOs, 3 of them in the
    # community, 1 in custody, none on remand.
    assert sorted(counts.values()) == [0, 1, 1, 1, 3, 4, 4, 4], counts

    for text, count, href in links:
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{live_server.url}/{href}")
            assert rows_in_caseload(page) == count, (text, href)
            assert_accessible(page, f"caseload behind “{text}” at {width} px")
    assert not page_problems.all(), "\n".join(page_problems.all())
