"""Pages that fit a phone (issue 13 item 4): at 390px no page scrolls sideways, wide tables
scroll inside their own focusable, labelled region, and axe-core's WCAG 2.2 AA rules find
nothing, for every role of the demo scheme, at 1280px (a desktop) and 390px (a phone).

The data is the demo seed itself (`demo.seed_demo`, as `make run` shows it), seeded once;
each role's login then opens the sign-in page's successors as a person on a phone would:
home, the caseload filtered (each "needs action" filter the role is offered, the manager's
home panels among them, and a status filter), every item of the service navigation, a
person's profile (once with its "More actions" menu open), the person's timeline, and the
contact form submitted untouched (a form with errors) where the role may log a contact.
The compliance page is one of the navigation items of the roles that have it.

One seed for both widths: the seed is most of the run time, and a test on
`transactional_db` is flushed after it, so the widths are a loop inside the one test (each
failure names its width) rather than two parametrised tests seeding twice.
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
DESKTOP = {"width": 1280, "height": 800}
WIDTHS = {"1280px": DESKTOP, "390px": PHONE}
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


def wider_than_the_screen(page: Any, width: int) -> list[str]:
    """The elements that reach past the right edge of the screen, for the failure message."""
    return page.evaluate(
        """(width) => [...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > width + 1)
            .slice(0, 5)
            .map(e => `${e.tagName.toLowerCase()}.${e.getAttribute('class') || ''}`
                      + ` ends at ${Math.round(e.getBoundingClientRect().right)}px`)""",
        width,
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
    screen = page.viewport_size["width"]
    where = f"{screen}px, {where}"
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > screen:
        failures.append(f"{where}: {width}px wide: {wider_than_the_screen(page, screen)}")
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


def filtered_caseloads(page: Any) -> list[str]:
    """The home page's caseload filtered: every "needs action" panel's list where the role
    has the panels (the manager), otherwise its first "needs action" filter, or else its
    first status filter. One or two states for most roles, to keep the run short."""
    panels = page.eval_on_selector_all(
        "[data-testid=needs-action] a[href]", "els => els.map(e => e.getAttribute('href'))"
    )
    if panels:
        return panels
    needs = page.eval_on_selector_all(
        "#filter-need option[value]:not([value=''])", "els => els.map(e => e.value)"
    )
    statuses = page.eval_on_selector_all(
        "#filter-status option[value]:not([value=''])", "els => els.map(e => e.value)"
    )
    return [f"?need={need}" for need in needs[:1]] or [f"?status={s}" for s in statuses[:1]]


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
    from tests.factories import ensure_reference_data

    ensure_reference_data()
    result = demo.seed_demo(1)
    # One login for each role, the first the seed lists.
    logins: dict[str, str] = {}
    for login in result.logins:
        logins.setdefault(login.role, login.username)
    assert len(logins) == 8, logins

    failures: list[str] = []
    problems: list[str] = []
    states: list[str] = []
    context = browser.new_context(viewport=PHONE, locale="en-GB", timezone_id="Europe/London")
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        for size in WIDTHS.values():
            page.set_viewport_size(size)
            states += every_role(page, live_server.url, logins, result.password, failures)
    finally:
        context.close()
    for width in WIDTHS:
        at_width = [state for state in states if state.startswith(f"{width}, ")]
        assert any("More actions open" in s for s in at_width), f"{width}: no More actions menu"
        assert any("contact form with errors" in s for s in at_width), f"{width}: no form"
        assert any("/compliance/" in s for s in at_width), f"{width}: no compliance page"
        assert any("caseload filtered (?need=" in s for s in at_width), f"{width}: no filter"
    assert not failures, "\n\n".join(failures)
    # A refused script or style (the CSP) or a failed module is a console error.
    assert not problems, "\n".join(problems)


def every_role(
    page: Any, base: str, logins: dict[str, str], password: str, failures: list[str]
) -> list[str]:
    """Every role's pages at the page's current width; the page states checked."""
    checked: list[str] = []

    def check(where: str) -> None:
        check_page(page, where, failures)
        checked.append(f"{page.viewport_size['width']}px, {where}")

    page.goto(f"{base}/sign-in/")
    check("sign-in page")
    opened_menu = False
    for username in logins.values():
        page.goto(f"{base}/sign-in/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password", exact=True).fill(password)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_test_id("signed-in-user")).to_be_visible()
        expect(page.get_by_test_id("security-marking")).to_contain_text("OFFICIAL-SENSITIVE")
        check(f"{username}: home")
        for query in filtered_caseloads(page):
            page.goto(f"{base}/{query}")
            check(f"{username}: caseload filtered ({query})")

        links = nav_links(page)
        assert links, f"{username} has no navigation"
        person = first_person(page)
        for label, href in links:
            if href == "/":
                continue
            page.goto(f"{base}{href}")
            check(f"{username}: {label} ({href})")
            person = person or first_person(page)

        if person:
            page.goto(f"{base}{person}")
            check(f"{username}: profile")
            menu = page.locator('[data-module="moj-button-menu"]')
            if menu.count() and not opened_menu:
                # The profile's other actions are grouped in MoJ's button menu.
                toggle = menu.get_by_role("button", name="More actions")
                toggle.click()
                expect(toggle).to_have_attribute("aria-expanded", "true")
                expect(menu.get_by_role("link").first).to_be_visible()
                check(f"{username}: profile, More actions open")
                opened_menu = True
            page.goto(f"{base}{person}timeline/")
            check(f"{username}: timeline")
            form = page.goto(f"{base}{person}contacts/new/")
            if form is not None and form.status == 200:
                # Saved untouched: no type or outcome chosen, so errors and nothing saved.
                page.locator("main form button[type=submit]").first.click()
                expect(page.locator(".govuk-error-summary")).to_be_visible()
                check(f"{username}: contact form with errors")
        page.get_by_role("button", name="Sign out").click()
        expect(page).to_have_url(re.compile(r"/sign-in/"))
    return checked
