"""Pages that fit a phone (issue 13 item 4): at 390px no page scrolls sideways, wide tables
scroll inside their own focusable, labelled region, and axe-core's WCAG 2.2 AA rules find
nothing, for every role of the demo scheme.

The data is the demo seed itself (`demo.seed_demo`, as `make run` shows it), seeded once;
each role's login then opens the sign-in page's successors as a person on a phone would:
home, every item of the service navigation, a person's profile (once with its "More
actions" menu open) and the person's timeline. One browser, one page for every role.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import expect

from demo import scheme as demo

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
AXE = settings.BASE_DIR / "node_modules" / "axe-core" / "axe.min.js"
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
PERSON_PAGE = re.compile(r"^/people/\d+/$")

# Two markups the design system ships on purpose, allowed where they occur and nowhere
# else: GOV.UK's conditional reveal keeps aria-expanded on its radios
# (alphagov/govuk-frontend#979, #2823), and GOV.UK's file upload names its button by
# aria-labelledby with the button itself in the list, so its visible words are in its name
# (alphagov/govuk-frontend#5652), which axe does not follow.
ALLOWED = {
    "aria-allowed-attr": "e => e.matches('.govuk-radios__input[aria-controls]')",
    "label-content-name-mismatch": (
        "e => e.matches('.govuk-file-upload-button')"
        " && (e.getAttribute('aria-labelledby') || '').split(' ').includes(e.id)"
    ),
}


def _allowed(violation: dict[str, Any], page: Any) -> bool:
    check = ALLOWED.get(violation["id"])
    if check is None:
        return False
    return all(
        page.locator(", ".join(node["target"])).first.evaluate(check) for node in violation["nodes"]
    )


def axe_violations(page: Any) -> list[dict[str, Any]]:
    # Evaluated through Playwright: the page's CSP refuses an injected <script>.
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text())
    result = page.evaluate(
        "async tags => await axe.run(document, "
        "{runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_22_AA,
    )
    return [v for v in result["violations"] if not _allowed(v, page)]


def describe(violations: list[dict[str, Any]]) -> str:
    return json.dumps(
        [
            {
                "id": v["id"],
                "help": v["help"],
                "nodes": [{"target": n["target"], "html": n["html"][:160]} for n in v["nodes"]],
            }
            for v in violations
        ],
        indent=1,
    )


def wider_than_the_screen(page: Any) -> list[str]:
    """The elements that reach past the right edge of the screen, for the failure message."""
    return page.evaluate(
        """(width) => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > width + 1)
            .slice(0, 5)
            .map(e => `${e.tagName.toLowerCase()}.${e.getAttribute('class') || ''}`
                      + ` ends at ${Math.round(e.getBoundingClientRect().right)}px`)""",
        PHONE["width"],
    )


def scroll_regions(page: Any) -> list[dict[str, Any]]:
    return page.evaluate(
        """() => [...document.querySelectorAll('.app-scroll-region')].map(e => ({
            tabindex: e.getAttribute('tabindex'),
            role: e.getAttribute('role'),
            label: e.getAttribute('aria-label') || '',
            position: getComputedStyle(e).position,
            overflowX: getComputedStyle(e).overflowX,
            scrolls: e.scrollWidth > e.clientWidth,
        }))"""
    )


def check_page(page: Any, where: str, failures: list[str]) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        failures.append(f"{where}: {width}px wide at 390px: {wider_than_the_screen(page)}")
    for region in scroll_regions(page):
        if (
            region["tabindex"] != "0"
            or region["role"] != "region"
            or not region["label"].strip()
            or region["label"] == "Table"
            or region["position"] != "relative"
            or region["overflowX"] not in ("auto", "scroll")
        ):
            failures.append(f"{where}: a scroll region not focusable, labelled, relative: {region}")
    violations = axe_violations(page)
    if violations:
        failures.append(f"{where}: axe-core WCAG 2.2 AA:\n{describe(violations)}")


def nav_links(page: Any) -> list[tuple[str, str]]:
    return page.eval_on_selector_all(
        ".govuk-service-navigation__link[href]",
        "els => els.map(e => [e.textContent.trim(), e.getAttribute('href')])",
    )


def first_person(page: Any) -> str | None:
    hrefs = page.eval_on_selector_all(
        "main a[href^='/people/']", "els => els.map(e => e.getAttribute('href'))"
    )
    return next((h for h in hrefs if PERSON_PAGE.match(h)), None)


def test_every_roles_main_pages_fit_a_phone_and_pass_axe(
    live_server: Any, browser: Any, transactional_db: Any
) -> None:
    if not AXE.exists():
        pytest.fail("node_modules/axe-core is missing: run `make test` (npm ci) first")
    result = demo.seed_demo(1)
    # One login for each role, the first the seed lists.
    logins: dict[str, str] = {}
    for login in result.logins:
        logins.setdefault(login.role, login.username)
    assert len(logins) == 8, logins

    failures: list[str] = []
    problems: list[str] = []
    context = browser.new_context(viewport=PHONE, locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        page.goto(f"{live_server.url}/sign-in/")
        check_page(page, "sign-in page", failures)
        opened_menu = False
        for username in logins.values():
            page.goto(f"{live_server.url}/sign-in/")
            page.get_by_label("Username").fill(username)
            page.get_by_label("Password", exact=True).fill(result.password)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_test_id("signed-in-user")).to_be_visible()
            expect(page.get_by_test_id("security-marking")).to_contain_text("OFFICIAL-SENSITIVE")
            check_page(page, f"{username}: home", failures)

            links = nav_links(page)
            assert links, f"{username} has no navigation"
            person = first_person(page)
            for label, href in links:
                if href == "/":
                    continue
                page.goto(f"{live_server.url}{href}")
                check_page(page, f"{username}: {label} ({href})", failures)
                person = person or first_person(page)

            if person:
                page.goto(f"{live_server.url}{person}")
                check_page(page, f"{username}: profile", failures)
                menu = page.locator('[data-module="moj-button-menu"]')
                if menu.count() and not opened_menu:
                    # The profile's other actions are grouped in MoJ's button menu.
                    toggle = menu.get_by_role("button", name="More actions")
                    toggle.click()
                    expect(toggle).to_have_attribute("aria-expanded", "true")
                    expect(menu.get_by_role("link").first).to_be_visible()
                    check_page(page, f"{username}: profile, More actions open", failures)
                    opened_menu = True
                page.goto(f"{live_server.url}{person}timeline/")
                check_page(page, f"{username}: timeline", failures)
            page.get_by_role("button", name="Sign out").click()
            expect(page).to_have_url(re.compile(r"/sign-in/"))
    finally:
        context.close()
    assert opened_menu, "no role's profile had a More actions menu"
    assert not failures, "\n\n".join(failures)
    # A refused script or style (the CSP) or a failed module is a console error.
    assert not problems, "\n".join(problems)
