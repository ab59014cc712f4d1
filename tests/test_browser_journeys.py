"""End-to-end journeys in Debian's Chromium against the live server (Playwright, sync API).

Each journey also checks what a person would notice: the design system's CSS arrived,
the page's JavaScript modules ran without errors, and axe-core finds no serious or
critical accessibility problems.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import expect

from access.models import Role
from tests.factories import OffenderFactory, ProgrammeEpisodeFactory, staff

pytestmark = pytest.mark.browser

BUILT_CSS = Path(settings.BASE_DIR) / "frontend" / "build" / "app.css"
AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
PASSWORD = "correct-horse-battery"  # tests/factories.py UserFactory
BLOCKING_IMPACTS = {"serious", "critical"}
TRANSPARENT = ("rgba(0, 0, 0, 0)", "transparent")
ANY_VALUE = re.compile(".*")


def require_frontend_build() -> None:
    """The pages link frontend/build/app.css and axe-core comes from node_modules."""
    missing = [str(p.relative_to(settings.BASE_DIR)) for p in (BUILT_CSS, AXE) if not p.exists()]
    if missing:
        pytest.fail(
            f"Missing {', '.join(missing)}: run `make test` (it runs `npm ci` and "
            "`npm run build:css`) before the browser tests.",
            pytrace=False,
        )


# GOV.UK Frontend's conditional reveal sets aria-expanded on the radio that controls it;
# axe reports the attribute as not allowed on a radio. The design system keeps it on
# purpose (alphagov/govuk-frontend#979, #2823), so that one rule is allowed on those radios
# only, never elsewhere.
CONDITIONAL_REVEAL_RADIO = ("aria-allowed-attr", ".govuk-radios__input[aria-controls]")


def _allowed(violation: dict[str, Any], page: Any) -> bool:
    rule, selector = CONDITIONAL_REVEAL_RADIO
    if violation["id"] != rule:
        return False
    return all(
        page.locator(", ".join(node["target"])).first.evaluate(f"e => e.matches({selector!r})")
        for node in violation["nodes"]
    )


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations on the page as it is now."""
    # Evaluated through Playwright, not added as a <script>: the page's CSP refuses inline
    # scripts (README "Security headers"), and the test must not weaken it.
    page.evaluate(AXE.read_text())
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        v
        for v in result["violations"]
        if v.get("impact") in BLOCKING_IMPACTS and not _allowed(v, page)
    ]


def describe(violations: list[dict[str, Any]]) -> str:
    return json.dumps(
        [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [
                    {"target": n["target"], "html": n["html"][:200], "summary": n["failureSummary"]}
                    for n in v["nodes"]
                ],
            }
            for v in violations
        ],
        indent=2,
    )


def assert_accessible(page: Any, where: str) -> None:
    violations = axe_violations(page)
    assert not violations, f"axe-core on the {where}:\n{describe(violations)}"


def computed(page: Any, selector: str, prop: str) -> str:
    return page.locator(selector).first.evaluate(f"e => getComputedStyle(e).{prop}")


def assert_design_system_css(page: Any) -> None:
    """frontend/build/app.css applied: without it the width container has no maximum."""
    assert computed(page, ".govuk-width-container", "maxWidth") not in ("none", ""), (
        "the GOV.UK width container is unstyled: frontend/build/app.css did not apply"
    )


def expect_module_started(page: Any, module: str) -> None:
    """GOV.UK Frontend's initAll marks each component it starts with data-<module>-init."""
    expect(page.locator(f'[data-module="{module}"]').first).to_have_attribute(
        f"data-{module}-init", ANY_VALUE
    )


def test_key_worker_signs_in_sees_caseload_and_opens_a_profile(
    live_server: Any, page: Any, page_problems: Any
) -> None:
    require_frontend_build()
    key_worker = staff(Role.KEY_WORKER, username="kw", first_name="Kim", last_name="Walker")
    offender = OffenderFactory(first_name="Darren", last_name="Pollard", key_worker=key_worker)
    ProgrammeEpisodeFactory(offender=offender)
    stylesheets: dict[str, int] = {}
    page.on(
        "response",
        lambda response: (
            stylesheets.__setitem__(response.url, response.status)
            if response.request.resource_type == "stylesheet"
            else None
        ),
    )

    page.goto(live_server.url)

    expect(page).to_have_url(re.compile(r"/sign-in/\?next=/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Sign in"))
    assert stylesheets, "the sign-in page linked no stylesheet"
    assert all(status == 200 for status in stylesheets.values()), stylesheets
    assert_design_system_css(page)
    assert computed(page, ".govuk-button", "backgroundColor") not in TRANSPARENT
    # The page's JavaScript modules ran: the password input shows its "Show" button only
    # once its module has started.
    expect_module_started(page, "govuk-password-input")
    expect(page.get_by_role("button", name="Show password")).to_be_visible()
    assert_accessible(page, "sign-in page")

    page.get_by_label("Username").fill("kw")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("My caseload")
    expect(page.get_by_test_id("signed-in-user")).to_have_text("Kim Walker")
    person = page.get_by_test_id("caseload").get_by_role("link", name="Darren Pollard", exact=True)
    expect(person).to_be_visible()
    expect_module_started(page, "govuk-service-navigation")
    assert_accessible(page, "caseload page")

    person.click()

    expect(page).to_have_url(f"{live_server.url}/people/{offender.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Darren Pollard")
    assert_design_system_css(page)
    expect_module_started(page, "govuk-service-navigation")
    assert not page_problems.all(), "\n".join(page_problems.all())


def sign_in_as(page: Any, live_server: Any, username: str) -> None:
    page.goto(f"{live_server.url}/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_key_worker_logs_a_contact_and_sees_it_on_the_timeline_and_in_the_weeks_count(
    live_server: Any, page: Any, page_problems: Any
) -> None:
    """Issue "Daily casework": caseload → profile → one short form → timeline and count."""
    require_frontend_build()
    key_worker = staff(Role.KEY_WORKER, username="kw", first_name="Kim", last_name="Walker")
    offender = OffenderFactory(first_name="Darren", last_name="Pollard", key_worker=key_worker)
    ProgrammeEpisodeFactory(offender=offender)

    sign_in_as(page, live_server, "kw")
    row = page.locator(f'tr[data-offender="{offender.pk}"]')
    expect(row.get_by_test_id("contacts")).to_contain_text("0 of 4")
    row.get_by_role("link", name="Darren Pollard", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Darren Pollard")

    page.get_by_role("link", name="Log contact").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log a contact")
    assert_accessible(page, "log contact form")
    # Issue 13.1: now, me and my agency are given; the type and attendance are asked.
    expect(page.get_by_label("Attended")).not_to_be_checked()
    page.get_by_label("Home visit – face to face").check()
    page.get_by_label("Attended").check()
    page.get_by_label("Notes").fill("Discussed the tenancy and the CJIT appointment.")
    page.get_by_role("button", name="Save contact").click()

    expect(page).to_have_url(f"{live_server.url}/people/{offender.pk}/timeline/")
    expect(page.get_by_role("alert")).to_contain_text("Contact logged")
    first = page.get_by_test_id("timeline").locator(".moj-timeline__item").first
    expect(first.locator(".moj-timeline__title")).to_have_text("Contact: home visit")
    expect(first).to_contain_text("by Kim Walker")
    expect(first).to_contain_text("Discussed the tenancy")
    assert_accessible(page, "timeline")

    page.get_by_role("link", name="Home").click()
    expect(
        page.locator(f'tr[data-offender="{offender.pk}"]').get_by_test_id("contacts")
    ).to_contain_text("1 of 4")
    assert not page_problems.all(), "\n".join(page_problems.all())
