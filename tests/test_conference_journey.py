"""The PPO manager runs a case conference and the housing partner clears the action it
set, in Debian's Chromium (issue 9, first "Done when"; 001 §3.1, §3.2a).

Home ("Case conferences due") → the PPOs due → arrange a conference for today with those
ticked → the agenda (the people, the compliance section) → one person's record: minutes,
then an Accommodation action owned by the housing agency — refused without a due date,
then added due in two weeks → close the conference through its confirmation page → the
frozen plan shows the action. Then `partner.housing` signs in → "Actions" (nav), whose
page is "My actions" → the action → done without an outcome is refused, then done with
one → no longer among the open actions. axe-core checks each page as the other journeys
do, and no page logs a console error or fails a request.

The world is written with the factories and the models, never the services under test:
a PPO last conferenced four months ago (due, 001 §3.2a: every 3 months), a PPO selected
forty days ago and never conferenced (due a month after selection, conferences.due), and
a PPO conferenced three weeks ago (not due). The housing agency serves Accommodation and
holds an open referral of the first PPO (ACCESS.md: an open referral is what lets a
partner see a person).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from access.models import AgencyKind, Role, Scheme
from conferences.models import CaseConference, ConferencePerson, ConferenceStatus
from pathways.models import PATHWAYS, Action, ActionStatus, Pathway
from pathways.tests.factories import ProviderFactory
from tests.factories import (
    AgencyFactory,
    OffenderFactory,
    ProgrammeEpisodeFactory,
    ReferralFactory,
    staff,
)
from tests.test_browser_journeys import (
    assert_accessible,
    assert_design_system_css,
    require_frontend_build,
    sign_in_as,
)

pytestmark = pytest.mark.browser

HOUSING = "Qxnorth Housing Trust"
ACTION_TEXT = "Qxaction: find a tenancy with Qxnorth Supported Housing before the review"


def the_eight_pathways() -> dict[str, Pathway]:
    """000 §5.1's pathways. A data migration writes them, but an earlier browser test's
    database flush may have removed them."""
    for order, (code, name) in enumerate(PATHWAYS, start=1):
        Pathway.objects.get_or_create(code=code, defaults={"name": name, "order": order})
    return {p.code: p for p in Pathway.objects.all()}


def closed_conference(held_on: dt.date, people: list[Any], chair: Any) -> CaseConference:
    """A past conference, closed with empty frozen plans: written directly."""
    conference = CaseConference.objects.create(
        held_on=held_on,
        chair=chair,
        created_by=chair,
        status=ConferenceStatus.CLOSED,
        closed_at=timezone.now() - (timezone.localdate() - held_on),
        closed_by=chair,
    )
    for order, person in enumerate(people, start=1):
        ConferencePerson.objects.create(
            conference=conference,
            offender=person,
            order=order,
            frozen_plan={"as_of": held_on.isoformat(), "needs": [], "actions": []},
        )
    return conference


def fill_date(scope: Any, day: dt.date) -> None:
    scope.get_by_label("Day").fill(str(day.day))
    scope.get_by_label("Month").fill(str(day.month))
    scope.get_by_label("Year").fill(str(day.year))


def long_date(day: dt.date) -> str:
    return f"{day:%-d %B %Y}"


def test_the_ppo_manager_runs_a_conference_and_the_housing_partner_marks_its_action_done(
    live_server: Any, page: Any, page_problems: Any
) -> None:
    require_frontend_build()
    today = timezone.localdate()
    in_two_weeks = today + dt.timedelta(days=14)
    Scheme.current()
    pathways = the_eight_pathways()
    manager = staff(
        Role.PPO_MANAGER, username="qxconfmanager", first_name="Qxconna", last_name="Chairwell"
    )
    housing = AgencyFactory(name=HOUSING, kind=AgencyKind.HOUSING)
    housing.pathways_served.set([pathways["accommodation"]])
    AgencyFactory(name="Qxriver Recovery Service", kind=AgencyKind.TREATMENT)
    staff(
        Role.PARTNER_WORKER,
        housing,
        username="partner.housing",
        first_name="Qxpatrice",
        last_name="Homewood",
    )

    # Due: last conferenced about four months ago (interval 3 months, 001 §3.2a).
    housed = OffenderFactory(first_name="Qxhoused", last_name="Marrick")
    ProgrammeEpisodeFactory(offender=housed, selected_on=today - dt.timedelta(days=400))
    closed_conference(today - dt.timedelta(days=122), [housed], manager)
    # Due: a new PPO, selected forty days ago and never conferenced (due after a month).
    newcomer = OffenderFactory(first_name="Qxnewppo", last_name="Talland")
    ProgrammeEpisodeFactory(offender=newcomer, selected_on=today - dt.timedelta(days=40))
    # Not due: conferenced three weeks ago.
    recent = OffenderFactory(first_name="Qxrecent", last_name="Vosper")
    ProgrammeEpisodeFactory(offender=recent, selected_on=today - dt.timedelta(days=400))
    closed_conference(today - dt.timedelta(days=21), [recent], manager)

    provider = ProviderFactory(
        name="Qxnorth Supported Housing", agency=housing, serves=["accommodation"]
    )
    ReferralFactory(
        offender=housed,
        agency=housing,
        provider=provider,
        pathway=pathways["accommodation"],
        opened_on=today - dt.timedelta(days=30),
    )

    # Home: the manager's "Case conferences due" panel.
    sign_in_as(page, live_server, "qxconfmanager")
    expect(page).to_have_url(f"{live_server.url}/")
    due_link = page.get_by_test_id("conferences-due-total")
    expect(due_link).to_have_text("2 PPOs due a conference")
    assert_design_system_css(page)
    assert_accessible(page, "home page with conferences due")
    due_link.click()

    # The PPOs due, both ticked; the one conferenced three weeks ago is not listed.
    expect(page.get_by_role("heading", level=1)).to_have_text("PPOs due a case conference")
    due = page.get_by_test_id("due")
    expect(due.locator("caption")).to_have_text("2 due now, 0 due in the next 4 weeks")
    expect(due.get_by_label("Choose Qxhoused Marrick")).to_be_checked()
    expect(due.get_by_label("Choose Qxnewppo Talland")).to_be_checked()
    expect(due).not_to_contain_text("Qxrecent Vosper")
    expect(due.locator(f'tr[data-offender="{newcomer.pk}"]')).to_contain_text(
        "None since selection"
    )
    assert_accessible(page, "PPOs due a conference")
    page.get_by_role("button", name="Arrange a conference for the people ticked").click()

    # Arrange it for today: the people ticked come through, the manager chairs.
    expect(page.get_by_role("heading", level=1)).to_have_text("Arrange a case conference")
    people = page.get_by_role("group", name=re.compile("^PPOs to review"))
    expect(people.get_by_label("Qxhoused Marrick")).to_be_checked()
    expect(people.get_by_label("Qxnewppo Talland")).to_be_checked()
    expect(people.get_by_label("Qxrecent Vosper")).not_to_be_checked()
    expect(page.get_by_label("Chair")).to_have_value(str(manager.pk))
    assert_accessible(page, "arrange a conference")
    fill_date(page.get_by_role("group", name="When is the conference?"), today)
    page.get_by_label("Where").fill("Qxford House, room 2")
    page.get_by_role("group", name=re.compile("^Agencies invited")).get_by_label(HOUSING).check()
    arrange = page.get_by_role("button", name="Arrange the conference")
    expect(arrange).to_have_attribute("data-prevent-double-click", "true")
    arrange.click()

    # The agenda names both people and has the sections to discuss.
    expect(page).to_have_url(re.compile(r"/conferences/\d+/$"))
    expect(page.get_by_role("alert")).to_contain_text(
        f"Case conference of {long_date(today)} arranged"
    )
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Agenda for {long_date(today)}")
    conference = CaseConference.objects.get(status=ConferenceStatus.PLANNED)
    assert conference.held_on == today and conference.chair == manager
    assert list(conference.people.values_list("offender_id", flat=True)) == [
        housed.pk,
        newcomer.pk,
    ]
    assert [a.agency for a in conference.attendances.all()] == [housing]
    cases = page.get_by_test_id("cases")
    expect(cases).to_contain_text("Qxhoused Marrick")
    expect(cases).to_contain_text("Qxnewppo Talland")
    expect(page.get_by_test_id("attendance")).to_contain_text(HOUSING)
    section = page.get_by_role("region", name=re.compile("Qxhoused Marrick"))
    expect(section.get_by_role("heading", name="Offending and custody")).to_be_visible()
    expect(
        section.get_by_role("heading", name="Contact and drug tests against target")
    ).to_be_visible()
    expect(section.get_by_role("heading", name="Action plan")).to_be_visible()
    expect(page.get_by_test_id("agenda-person")).to_have_count(2)
    assert_accessible(page, "agenda")
    section.get_by_role("link", name="Record the review of Qxhoused Marrick").click()

    # The review: minutes.
    expect(page.get_by_role("heading", level=1)).to_have_text("Qxhoused Marrick")
    assert_accessible(page, "a person's record at the conference")
    page.get_by_label("Minutes").fill("Qxminutes: the tenancy at Qxnorth is the first priority.")
    page.get_by_role("button", name="Save the review").click()
    expect(page.get_by_role("alert")).to_contain_text("Record for Qxhoused Marrick saved")
    section = page.get_by_role("region", name=re.compile("Qxhoused Marrick"))
    expect(section.get_by_test_id("record")).to_contain_text("Qxminutes: the tenancy")
    section.get_by_role("link", name="Record the review of Qxhoused Marrick").click()

    # An action without a due date: the error summary, the typing kept, nothing saved.
    action_form = page.locator("form", has=page.get_by_role("button", name="Add the action"))
    # The need form above has a "Pathway" too: each label must lead to its own field.
    action_form.locator("label", has_text="Pathway").click()
    expect(action_form.get_by_label("Pathway")).to_be_focused()
    action_form.get_by_label("Pathway").select_option(label="Accommodation")
    action_form.get_by_label("Action").fill(ACTION_TEXT)
    action_form.get_by_label("Owner agency").select_option(label=HOUSING)
    action_form.get_by_role("button", name="Add the action").click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Enter the date the action is due")
    summary.get_by_role("link", name="Enter the date the action is due").click()
    due_group = page.get_by_role("group", name="Due", exact=True)
    expect(due_group.get_by_label("Day")).to_be_focused()
    action_form = page.locator("form", has=page.get_by_role("button", name="Add the action"))
    expect(action_form.get_by_label("Action")).to_have_value(ACTION_TEXT)
    assert_accessible(page, "the action form with an error")
    assert not Action.objects.exists()

    fill_date(due_group, in_two_weeks)
    action_form.get_by_role("button", name="Add the action").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Accommodation: action for Qxhoused Marrick added"
    )
    action = Action.objects.get()
    assert (action.offender, action.pathway.code, action.owner_agency, action.owner) == (
        housed,
        "accommodation",
        housing,
        None,
    )
    assert (action.due_on, action.status) == (in_two_weeks, ActionStatus.OPEN)

    # Back on the agenda, the plan shows it; then close, through the confirmation page.
    page.get_by_role("link", name="Back to the agenda").click()
    section = page.get_by_role("region", name=re.compile("Qxhoused Marrick"))
    expect(section.get_by_test_id("plan")).to_contain_text(ACTION_TEXT)
    page.get_by_role("link", name="Close the conference").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Close the conference of {long_date(today)}?"
    )
    expect(page.get_by_test_id("close-confirm")).to_contain_text("cannot be undone")
    assert_accessible(page, "close the conference")
    conference.refresh_from_db()
    assert conference.status == ConferenceStatus.PLANNED
    page.get_by_role("button", name="Close and freeze the plans").click()

    expect(page.get_by_role("alert")).to_contain_text("closed: the plans are frozen as agreed")
    expect(page.get_by_test_id("closed")).to_contain_text("nothing more can be recorded")
    section = page.get_by_role("region", name=re.compile("Qxhoused Marrick"))
    frozen = section.get_by_test_id("frozen-actions")
    row = frozen.locator("tr", has_text=ACTION_TEXT)
    expect(row).to_contain_text("Accommodation")
    expect(row).to_contain_text(HOUSING)
    expect(row).to_contain_text(long_date(in_two_weeks))
    expect(row).to_contain_text("Open")
    expect(page.get_by_test_id("close-link")).to_have_count(0)
    expect(section.get_by_test_id("record-link")).to_have_count(0)
    assert_accessible(page, "closed conference")
    conference.refresh_from_db()
    assert conference.status == ConferenceStatus.CLOSED

    # The housing partner: "Actions" in the navigation is "My actions".
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Sign in"))
    sign_in_as(page, live_server, "partner.housing")
    expect(page).to_have_url(f"{live_server.url}/")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Actions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My actions")
    expect(
        page.get_by_role("navigation", name="Actions navigation").get_by_role(
            "link", name="My actions"
        )
    ).to_have_attribute("aria-current", "page")
    listed = page.get_by_test_id(f"action-{action.pk}")
    expect(listed).to_contain_text("Qxhoused Marrick")
    expect(listed).to_contain_text("Accommodation")
    expect(listed).to_contain_text(ACTION_TEXT)
    expect(page.get_by_test_id("actions").locator("tbody tr")).to_have_count(1)
    assert_accessible(page, "my actions")
    listed.get_by_role("link", name=re.compile(r"^Update action for Qxhoused Marrick")).click()

    # Done needs an outcome: refused without one, then saved with one.
    expect(page.get_by_role("heading", level=1)).to_have_text("Update an action")
    assert_accessible(page, "update an action")
    page.get_by_role("group", name="Status").get_by_label("Done", exact=True).check()
    save = page.get_by_role("button", name="Save the action")
    save.click()
    expect(page).to_have_title(re.compile(r"^Error: "))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter the outcome of an action that is done")
    summary.get_by_role("link", name="Enter the outcome of an action that is done").click()
    expect(page.get_by_label("Outcome")).to_be_focused()
    assert_accessible(page, "update an action with an error")
    action.refresh_from_db()
    assert action.status == ActionStatus.OPEN

    page.get_by_label("Outcome").fill("Qxoutcome: tenancy signed at Qxnorth Supported Housing")
    page.get_by_role("button", name="Save the action").click()
    expect(page.get_by_role("alert")).to_contain_text("Accommodation action updated: done")
    action.refresh_from_db()
    assert (action.status, action.finished_on) == (ActionStatus.DONE, today)
    assert action.outcome.startswith("Qxoutcome")

    # No longer open: gone from "My actions".
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Actions").click()
    expect(page.get_by_test_id(f"action-{action.pk}")).to_have_count(0)
    expect(page.get_by_test_id("actions")).to_contain_text("You have no open actions.")
    # The plan agreed at the conference stays as it was agreed.
    frozen_actions = ConferencePerson.objects.get(
        conference=conference, offender=housed
    ).frozen_plan["actions"]
    assert [(a["id"], a["status"]) for a in frozen_actions] == [(action.pk, "open")]
    assert not page_problems.all(), "\n".join(page_problems.all())
