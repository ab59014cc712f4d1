"""Logging a contact from the caseload, safely and fast (issue 13.1), in Debian's Chromium.

The untouched form saves nothing and says what is missing; an attended face-to-face
contact is logged from the home page with the fewest clicks and key presses (counted
here and printed for the issue's note); "Save and log another" comes back to the caseload
with the next person's "Log contact" focused, so the next one starts with Enter.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from access.models import Role
from offenders.models import Contact, ContactOutcome, Supervision
from tests.factories import OffenderFactory, ProgrammeEpisodeFactory, staff
from tests.test_browser_journeys import assert_accessible, require_frontend_build, sign_in_as

pytestmark = pytest.mark.browser

# Issue 13.1's goals, from the home page.
MOST_KEYS = 19  # "well under 20 key presses"
# The form alone: skip link (2), each answer (Tab and Space: 4), Enter; the first type
# and the first outcome are the commonest (an office visit, attended).
FORM_KEYS = 7
# Issue 13.1 asks for 3 clicks; see test_an_attended_face_to_face_contact_by_mouse.
MOST_CLICKS = 4
# Enough Tab presses to cross any page here; reaching it means the target is unreachable.
TAB_LIMIT = 60


class Counted:
    """The page, with every click and key press made through it counted."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.clicks = 0
        self.keys = 0

    def click(self, locator: Any) -> None:
        locator.click()
        self.clicks += 1

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)
        self.keys += 1

    def tab_to(self, locator: Any) -> None:
        """Tab until `locator` has the focus, counting each press."""
        handle = locator.element_handle()
        for _ in range(TAB_LIMIT):
            if self.page.evaluate("e => document.activeElement === e", handle):
                return
            self.press("Tab")
        pytest.fail(f"{TAB_LIMIT} presses of Tab did not reach {locator}")

    def choose(self, group: Any, label: str) -> None:
        """Tab into a radio group with nothing chosen (the focus lands on its first
        radio), then Space for the first or the arrow keys, which choose as they move."""
        radios = group.get_by_role("radio")
        self.tab_to(radios.first)
        target = group.get_by_role("radio", name=label, exact=True)
        if self.page.evaluate("e => document.activeElement === e", target.element_handle()):
            self.press("Space")
        for _ in range(radios.count()):
            if target.is_checked():
                break
            self.press("ArrowDown")
        expect(target).to_be_checked()


def caseload(kw: Any, *last_names: str) -> list[Any]:
    people = []
    for name in last_names:
        person = OffenderFactory(last_name=name, key_worker=kw, supervision=Supervision.NONE)
        ProgrammeEpisodeFactory(offender=person)
        people.append(person)
    return people


def log_contact_link(page: Any, person: Any) -> Any:
    return page.locator(f'tr[data-offender="{person.pk}"]').get_by_role(
        "link", name=re.compile("^Log contact")
    )


def focused_href(page: Any) -> str:
    return str(page.evaluate("() => document.activeElement.getAttribute('href') || ''"))


@pytest.fixture
def kw(db: Any) -> Any:
    return staff(Role.KEY_WORKER, username="kw", first_name="Kim", last_name="Walker")


def test_the_untouched_form_saves_nothing_and_says_what_is_missing(
    live_server: Any, page: Any, page_problems: Any, kw: Any
) -> None:
    require_frontend_build()
    [person] = caseload(kw, "Adams")
    sign_in_as(page, live_server, "kw")
    log_contact_link(page, person).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Log a contact")
    # Nothing chosen for the person; the date and time are now.
    for radio in page.locator(".govuk-radios__input").all():
        expect(radio).not_to_be_checked()
    expect(page.locator('input[type="date"]')).to_have_count(0)
    expect(page.get_by_role("group", name="Date").get_by_label("Day")).not_to_have_value("")
    assert_accessible(page, "contact form")

    page.get_by_role("button", name="Save contact").click()

    expect(page).to_have_title(re.compile("^Error: "))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_text(
        ["Select the type of contact", "Select whether the person attended"]
    )
    expect(page.get_by_text("This field is required")).to_have_count(0)
    assert Contact.objects.count() == 0
    # Each error links to its question.
    summary.get_by_role("link", name="Select whether the person attended").click()
    expect(page.get_by_role("radio", name="Attended")).to_be_focused()
    assert_accessible(page, "contact form with errors")

    # A date that does not exist, in the GOV.UK date input's words.
    page.get_by_role("group", name="Date").get_by_label("Day").fill("31")
    page.get_by_role("group", name="Date").get_by_label("Month").fill("2")
    page.get_by_role("radio", name="Office visit – face to face").check()
    page.get_by_role("radio", name="Attended").check()
    page.get_by_role("button", name="Save contact").click()
    expect(page.locator(".govuk-error-summary").get_by_role("link")).to_have_text(
        [re.compile("^The date of the contact must be a real date$")]
    )
    assert Contact.objects.count() == 0
    assert not page_problems.all(), "\n".join(page_problems.all())


def test_an_attended_face_to_face_contact_by_mouse(
    live_server: Any, page: Any, page_problems: Any, kw: Any
) -> None:
    """Issue 13.1 asks for 3 clicks. With nothing pre-selected (the point of the change)
    the form needs two answers and a button: Log contact, the type, "Attended", Save — 4.
    Three would need one of the answers chosen for the person, or an answer that saves
    as it is chosen; both are what the change removes."""
    require_frontend_build()
    [person] = caseload(kw, "Adams")
    sign_in_as(page, live_server, "kw")
    expect(page.get_by_role("heading", level=1)).to_have_text("My caseload")
    user = Counted(page)

    user.click(log_contact_link(page, person))
    user.click(page.get_by_role("radio", name="Office visit – face to face"))
    user.click(page.get_by_role("radio", name="Attended"))
    user.click(page.get_by_role("button", name="Save contact"))

    expect(page).to_have_url(f"{live_server.url}/people/{person.pk}/timeline/")
    expect(page.get_by_role("alert")).to_contain_text(f"Contact logged for {person.full_name}")
    contact = Contact.objects.get()
    assert (contact.offender, contact.kind, contact.face_to_face, contact.outcome) == (
        person,
        "office",
        True,
        ContactOutcome.ATTENDED,
    )
    print(f"\nissue 13.1 by mouse from the home page: {user.clicks} clicks, {user.keys} keys")
    assert user.keys == 0
    assert user.clicks <= MOST_CLICKS
    assert not page_problems.all(), "\n".join(page_problems.all())


def keyboard_contact(user: Any, *, kind: str, outcome: str, another: bool) -> None:
    """On the contact form just opened: skip link, the two answers, then Enter (the
    form's first button, "Save contact") or Tab on to "Save and log another"."""
    page = user.page
    expect(page.get_by_role("heading", level=1)).to_have_text("Log a contact")
    user.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    user.press("Enter")
    user.choose(page.get_by_role("group", name="Type of contact"), kind)
    user.choose(page.get_by_role("group", name="Did the person attend?"), outcome)
    if another:
        user.tab_to(page.get_by_role("button", name="Save and log another"))
    user.press("Enter")


def test_an_attended_face_to_face_contact_by_keyboard_alone(
    live_server: Any, page: Any, page_problems: Any, kw: Any
) -> None:
    """From the home page as it loads: the skip link, Tab to the first link in the main
    content (the person furthest behind on contacts, offered above the panels, filters and
    table), Enter, then the form's 7: under 20 in all (issue 13.1)."""
    require_frontend_build()
    [person, _] = caseload(kw, "Adams", "Brown")
    sign_in_as(page, live_server, "kw")
    expect(page.get_by_role("heading", level=1)).to_have_text("My caseload")
    # Start as a person at the keyboard does: nothing focused on the home page.
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    user = Counted(page)

    user.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    user.press("Enter")
    # The first link in the page's main content: the person furthest behind this week.
    offered = page.get_by_test_id("next-contact")
    expect(offered).to_contain_text(f"Furthest behind on contacts this week: {person.full_name}")
    user.tab_to(offered.get_by_role("link", name=f"Log a contact for {person.full_name}"))
    user.press("Enter")
    on_home = user.keys
    keyboard_contact(user, kind="Office visit – face to face", outcome="Attended", another=False)

    expect(page).to_have_url(f"{live_server.url}/people/{person.pk}/timeline/")
    contact = Contact.objects.get()
    assert (contact.kind, contact.face_to_face, contact.outcome) == ("office", True, "attended")
    print(
        f"\nissue 13.1 by keyboard from the home page: {user.keys} key presses "
        f"({on_home} on the home page to open the form, {user.keys - on_home} on the form), "
        f"{user.clicks} clicks"
    )
    assert user.clicks == 0
    assert user.keys - on_home <= FORM_KEYS
    assert user.keys <= MOST_KEYS
    assert not page_problems.all(), "\n".join(page_problems.all())


def test_save_and_log_another_comes_back_to_the_caseload_with_the_next_link_focused(
    live_server: Any, page: Any, page_problems: Any, kw: Any
) -> None:
    require_frontend_build()
    adams, brown, clark = caseload(kw, "Adams", "Brown", "Clark")
    sign_in_as(page, live_server, "kw")
    # In name order (the caseload's default is by need, which the contacts logged here
    # change): the links carry the order, so "next" is the next name all the way down.
    page.goto(f"{live_server.url}/?sort=name")
    user = Counted(page)

    user.click(log_contact_link(page, adams))
    user.click(page.get_by_role("radio", name="Home visit – face to face"))
    user.click(page.get_by_role("radio", name="Attended"))
    user.click(page.get_by_role("button", name="Save and log another"))

    expect(page.get_by_role("heading", level=1)).to_have_text("My caseload")
    expect(page.get_by_text(f"Contact logged for {adams.full_name}")).to_be_visible()
    expect(log_contact_link(page, brown)).to_be_focused()
    assert_accessible(page, "caseload after log another")

    # The next person by keyboard alone, from the focused link back to the caseload.
    user = Counted(page)
    user.press("Enter")
    expect(page.locator(".govuk-caption-l")).to_have_text(brown.full_name)
    keyboard_contact(user, kind="Office visit – face to face", outcome="Attended", another=True)
    expect(page.get_by_role("heading", level=1)).to_have_text("My caseload")
    expect(log_contact_link(page, clark)).to_be_focused()
    print(
        f"\nissue 13.1 by keyboard, the next person after Save and log another: "
        f"{user.keys} key presses back to the caseload, {user.clicks} clicks"
    )
    assert user.clicks == 0
    assert user.keys <= MOST_KEYS

    logged = {c.offender_id: (c.kind, c.face_to_face, c.outcome) for c in Contact.objects.all()}
    assert logged == {
        adams.pk: ("home_visit", True, "attended"),
        brown.pk: ("office", True, "attended"),
    }
    # The last person, by the arrow keys: nothing after them to focus, and no error.
    page.keyboard.press("Enter")
    keyboard_contact(
        Counted(page),
        kind="Phone or video call – not face to face",
        outcome="Failed to attend",
        another=True,
    )
    expect(page.get_by_text(f"Contact logged for {clark.full_name}")).to_be_visible()
    expect(page.locator("[autofocus]")).to_have_count(0)
    last = Contact.objects.get(offender=clark)
    assert (last.kind, last.face_to_face, last.outcome) == ("phone", False, "failed")
    assert not page_problems.all(), "\n".join(page_problems.all())
