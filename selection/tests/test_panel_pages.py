"""The selection panel pages and the risk assessment form, as each role sees them.

ACCESS.md "selection scores, panel decisions, reviews": the PPO manager reads and writes;
key workers and police read; YOT reads its own people; prison staff, partners, the
steering group and administrators nothing. Decisions are recorded by the panel's chair
or a PPO manager (selection.panel).

Today is 12 June 2026; the panel met on 10 June 2026. The people are invented:

* Qxppo Brannock, a PPO since 1 January 2025
* Qxpool Marrow, on no tier: selected as a PPO at the panel (departing from the ranking,
  as there is no run, with a reason)
* Qxother Fenwick, on no tier: deferred at the panel
* Qxyoung Tillet, 16, a DYO since 1 March 2026: deferred at the panel
* Qxiom Penhallow, on the IOM tier since 1 January 2026
"""

from __future__ import annotations

import datetime as dt
import html
import re
import uuid
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from access.errors import NotPermitted
from access.models import AgencyKind, AuditAction, AuditEvent, Role
from access.policy import actor_for
from offenders.models import DeselectionReason, ProgrammeEpisode, ProgrammeKind
from selection import panel as panels
from selection import panel_selectors
from selection.models import (
    DecisionKind,
    MatrixVersion,
    PanelDecision,
    RiskAssessment,
    RunEntry,
    SelectionPanel,
    SelectionRun,
)
from tests.factories import (
    AgencyFactory,
    OffenderFactory,
    ProgrammeEpisodeFactory,
    UserFactory,
    sign_in,
    staff,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 12)
HELD_ON = dt.date(2026, 6, 10)
DAY_BEFORE = dt.date(2026, 6, 9)
ALL_ROLES = [
    Role.PPO_MANAGER,
    Role.KEY_WORKER,
    Role.POLICE_OFFICER,
    Role.YOT_WORKER,
    Role.PRISON_WORKER,
    Role.PARTNER_WORKER,
    Role.STEERING_GROUP,
    Role.ADMINISTRATOR,
]
NAMES = {
    "ppo": "Qxppo Brannock",
    "pool": "Qxpool Marrow",
    "other": "Qxother Fenwick",
    "young": "Qxyoung Tillet",
    "iom": "Qxiom Penhallow",
}
# The panel's decisions each reader may see (ACCESS.md "Who is in scope" on 12 June 2026),
# written out by hand: Qxpool is a PPO since the panel, Qxother is in the pool, Qxyoung a
# DYO under 18.
DECISIONS_SEEN_BY = {
    Role.PPO_MANAGER: {"pool", "other", "young"},
    Role.POLICE_OFFICER: {"pool", "other", "young"},
    Role.KEY_WORKER: {"pool", "young"},  # current and former PPOs and DYOs
    Role.YOT_WORKER: {"young"},  # under 18, and DYOs
}
# Each page as each role: the HTTP status, written out by hand. The person on the
# decision, choose-panel and risk assessment pages is Qxyoung, whom every reader may see.
PAGES = ["list", "create", "panel", "decide", "choose", "risk"]
MANAGES = dict.fromkeys(PAGES, 200)
READS = {"list": 200, "create": 403, "panel": 200, "decide": 403, "choose": 403, "risk": 403}
NOTHING = dict.fromkeys(PAGES, 403)
EXPECTED_STATUS = {
    Role.PPO_MANAGER: MANAGES,
    Role.KEY_WORKER: READS,
    Role.POLICE_OFFICER: READS,
    Role.YOT_WORKER: READS,
    Role.PRISON_WORKER: NOTHING,
    Role.PARTNER_WORKER: NOTHING,
    Role.STEERING_GROUP: NOTHING,
    Role.ADMINISTRATOR: NOTHING,
}


@pytest.fixture(autouse=True)
def on_the_day():
    with time_machine.travel(dt.datetime(2026, 6, 12, 11, 0, tzinfo=dt.UTC), tick=False):
        yield


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def errors_of(response) -> str:
    """The error summary's text."""
    page = text_of(response)
    assert "govuk-error-summary" in page, "no error summary"
    return page.split('class="govuk-error-summary"', 1)[1].split("</ul>", 1)[0]


@pytest.fixture
def manager():
    return staff(Role.PPO_MANAGER, first_name="Qxmanda", last_name="Chairwell")


@pytest.fixture
def people():
    made = {}
    for key, name in NAMES.items():
        first, last = name.split()
        made[key] = OffenderFactory(first_name=first, last_name=last)
    ProgrammeEpisodeFactory(offender=made["ppo"], selected_on=dt.date(2025, 1, 1))
    young = made["young"]
    young.date_of_birth = dt.date(2010, 2, 1)
    young.save()
    ProgrammeEpisodeFactory(offender=young, kind=ProgrammeKind.DYO, selected_on=dt.date(2026, 3, 1))
    ProgrammeEpisodeFactory(
        offender=made["iom"], kind=ProgrammeKind.IOM, selected_on=dt.date(2026, 1, 1)
    )
    return made


@pytest.fixture
def police_agency():
    return AgencyFactory(name="Qxshire Police", kind=AgencyKind.POLICE)


@pytest.fixture
def panel(manager, police_agency):
    return panels.panel_create(
        user=manager,
        held_on=HELD_ON,
        chair_id=manager.pk,
        agency_ids=[police_agency.pk],
        notes="Quarterly review of the list",
    )


@pytest.fixture
def decided(manager, panel, people):
    """The panel's three decisions (fixture docstring)."""
    decide = panels.panel_decide
    decide(
        user=manager,
        panel_id=panel.pk,
        offender_id=people["pool"].pk,
        kind=DecisionKind.SELECT,
        reason="Local intelligence: prolific burglary",
    )
    decide(user=manager, panel_id=panel.pk, offender_id=people["other"].pk, kind="defer")
    decide(user=manager, panel_id=panel.pk, offender_id=people["young"].pk, kind="defer")
    return panel


def urls(panel, person) -> dict[str, str]:
    return {
        "list": reverse("selection:panels"),
        "create": reverse("selection:panel-create"),
        "panel": reverse("selection:panel", args=[panel.pk]),
        "decide": reverse("selection:panel-decide", args=[panel.pk, person.pk]),
        "choose": reverse("selection:person-decide", args=[person.pk]),
        "risk": reverse("selection:risk-assessment-create", args=[person.pk]),
    }


def decide_url(panel, person) -> str:
    return reverse("selection:panel-decide", args=[panel.pk, person.pk])


def tier_on(offender, day: dt.date) -> str:
    episode = ProgrammeEpisode.objects.filter(offender=offender).open_on(day).first()
    return episode.kind if episode else ""


def ranked(offender, *, rank: int, capacity: int = 2, above: bool = True) -> RunEntry:
    """A saved run of 9 June 2026 that lists the person (built directly)."""
    run = SelectionRun.objects.filter(as_of=DAY_BEFORE).first() or SelectionRun.objects.create(
        version=MatrixVersion.objects.get(number=1), as_of=DAY_BEFORE, capacity=capacity
    )
    return RunEntry.objects.create(
        run=run, offender=offender, rank=rank, score=Decimal("42.50"), above_threshold=above
    )


# --- who may open what -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_each_page_as_each_role(client, decided, people, role):
    user = staff(role)
    sign_in(client, user)
    for page, url in urls(decided, people["young"]).items():
        response = client.get(url)
        assert response.status_code == EXPECTED_STATUS[role][page], (role, page)
        if response.status_code == 403:
            assert "Qxyoung" not in text_of(response), page
    refused = [p for p, status in EXPECTED_STATUS[role].items() if status == 403]
    denials = AuditEvent.objects.filter(action=AuditAction.DENIED, user=user)
    # Every refusal is on the audit trail (the 403 handler writes it).
    assert denials.count() == len(refused), role


@pytest.mark.parametrize("role", ALL_ROLES)
def test_posts_by_anyone_but_the_manager_are_refused_and_save_nothing(
    client, decided, people, role
):
    if role == Role.PPO_MANAGER:
        return
    sign_in(client, staff(role))
    day = {"held_on-day": "10", "held_on-month": "6", "held_on-year": "2026"}
    assert client.post(reverse("selection:panel-create"), day).status_code == 403
    target = decide_url(decided, people["young"])
    assert client.post(target, {"kind": "defer"}).status_code == 403
    risk = reverse("selection:risk-assessment-create", args=[people["young"].pk])
    answers = {
        "tool": "oasys",
        "assessed_on-day": "1",
        "assessed_on-month": "6",
        "assessed_on-year": "2026",
        "likelihood_score": "40",
        "rosh_level": "low",
    }
    assert client.post(risk, answers).status_code == 403
    assert SelectionPanel.objects.count() == 1
    assert PanelDecision.objects.count() == 3
    assert RiskAssessment.objects.count() == 0


@pytest.mark.parametrize("role", list(DECISIONS_SEEN_BY))
def test_a_panel_page_shows_only_decisions_about_people_the_reader_may_see(client, decided, role):
    sign_in(client, staff(role))
    response = client.get(reverse("selection:panel", args=[decided.pk]))
    page = text_of(response)
    table = page.split('data-testid="decisions"', 1)[1].split("</table>", 1)[0]
    for key, name in NAMES.items():
        if key in DECISIONS_SEEN_BY[role]:
            assert name in table, (role, name)
        else:
            assert name not in page, (role, name)
    hidden = 3 - len(DECISIONS_SEEN_BY[role])
    assert response.context["page"].not_shown == hidden
    if hidden:
        assert f"{hidden} decision" in page and "not shown" in page
    else:
        assert 'data-testid="not-shown"' not in page


@pytest.mark.parametrize("role", list(DECISIONS_SEEN_BY))
def test_the_panel_list_counts_only_decisions_the_reader_may_see(client, decided, role):
    sign_in(client, staff(role))
    response = client.get(reverse("selection:panels"))
    (listed,) = response.context["panels"]
    assert listed.decision_count == len(DECISIONS_SEEN_BY[role])


def test_only_the_manager_is_offered_record_a_panel_and_record_a_decision(client, decided):
    for role, offered in ((Role.PPO_MANAGER, True), (Role.POLICE_OFFICER, False)):
        sign_in(client, staff(role))
        listing = text_of(client.get(reverse("selection:panels")))
        detail = text_of(client.get(reverse("selection:panel", args=[decided.pk])))
        assert ("Record a panel" in listing) is offered, role
        assert ("Record a decision" in detail) is offered, role


def test_a_chair_who_is_not_a_manager_records_that_panels_decisions_and_no_others(
    client, manager, people
):
    """may_decide agrees with panel_decide: the chair (a police officer) may, a police
    officer who does not chair it may not."""
    chair = staff(Role.POLICE_OFFICER, first_name="Qxchair", last_name="Inspector")
    chaired = panels.panel_create(user=manager, held_on=HELD_ON, chair_id=chair.pk)
    other = panels.panel_create(user=manager, held_on=HELD_ON, chair_id=manager.pk)
    sign_in(client, chair)
    assert client.get(decide_url(chaired, people["pool"])).status_code == 200
    assert client.get(decide_url(other, people["pool"])).status_code == 403
    response = client.post(
        decide_url(chaired, people["pool"]), {"kind": "select", "reason": "Chair's call"}
    )
    assert response.status_code == 302
    assert tier_on(people["pool"], HELD_ON) == ProgrammeKind.PPO
    assert client.post(decide_url(other, people["ppo"]), {"kind": "defer"}).status_code == 403
    for selection_panel, expected in ((chaired, True), (other, False)):
        actor = actor_for(chair)
        assert panel_selectors.may_decide(actor, selection_panel) is expected
        try:
            panels.panel_decide(
                user=chair, panel_id=selection_panel.pk, offender_id=people["iom"].pk, kind="defer"
            )
            recorded = True
        except NotPermitted:
            recorded = False
        assert recorded is expected
    # The chair is offered "Record a decision" beside the ranking's rows, and only the
    # panel they chair to record it at.
    assert panel_selectors.may_decide_any(chair)
    assert list(panel_selectors.decidable_panels(actor_for(chair))) == [chaired]
    assert not panel_selectors.may_decide_any(staff(Role.POLICE_OFFICER))


def test_missing_panels_and_people_are_not_found(client, manager, decided, people):
    sign_in(client, manager)
    assert client.get(reverse("selection:panel", args=[decided.pk + 100])).status_code == 404
    nobody = people["ppo"].pk + 1000
    assert (
        client.get(
            decide_url(decided, people["ppo"]).replace(f"/{people['ppo'].pk}/", f"/{nobody}/")
        ).status_code
        == 404
    )
    assert client.get(reverse("selection:risk-assessment-create", args=[nobody])).status_code == 404
    assert client.get(f"/selection/panels/{'9' * 20}/").status_code == 404


def test_a_yot_chair_of_a_selection_panel_deciding_about_someone_outside_their_scope_is_not_found(
    client, manager, people
):
    yot = staff(Role.YOT_WORKER)
    chaired = panels.panel_create(user=manager, held_on=HELD_ON, chair_id=yot.pk)
    sign_in(client, yot)
    assert client.get(decide_url(chaired, people["ppo"])).status_code == 404


# --- the panel list and recording a panel ----------------------------------------------------


def test_the_panel_list_shows_each_panel_with_its_chair_agencies_and_count(
    client, manager, decided
):
    sign_in(client, manager)
    page = text_of(client.get(reverse("selection:index")))
    assert f'href="{reverse("selection:panels")}"' in page
    page = text_of(client.get(reverse("selection:panels")))
    row = re.search(r'<tr class="govuk-table__row" data-panel=.*?</tr>', page, re.S).group(0)
    assert "10 June 2026" in row
    assert f'href="{reverse("selection:panel", args=[decided.pk])}"' in row
    assert "Qxmanda Chairwell" in row and "Qxshire Police" in row
    assert re.search(r"numeric\">3</td>", row)


def panel_post(**changes: str) -> dict[str, str]:
    data = {
        "held_on-day": "10",
        "held_on-month": "6",
        "held_on-year": "2026",
        "chair": "",
        "notes": "Monthly panel",
    }
    data.update(changes)
    return data


def test_recording_a_panel_saves_it_and_says_so(client, manager, police_agency):
    probation = AgencyFactory(name="Qxshire Probation", kind=AgencyKind.PROBATION)
    sign_in(client, manager)
    form = text_of(client.get(reverse("selection:panel-create")))
    assert 'name="held_on-day"' in form and 'for="id_held_on-day"' in form
    assert 'type="checkbox" value="' + str(police_agency.pk) + '"' in form
    response = client.post(
        reverse("selection:panel-create"),
        {**panel_post(chair=str(manager.pk)), "agencies": [police_agency.pk, probation.pk]},
        follow=True,
    )
    made = SelectionPanel.objects.get()
    assert response.redirect_chain == [(reverse("selection:panel", args=[made.pk]), 302)]
    assert "Selection panel of 10 June 2026 recorded" in text_of(response)
    assert made.held_on == HELD_ON and made.chair == manager and made.notes == "Monthly panel"
    assert set(made.agencies.all()) == {police_agency, probation}
    created = AuditEvent.objects.get(
        action=AuditAction.CREATE, record_type="selection.selectionpanel"
    )
    assert created.record_ids == [made.pk]


def test_the_chair_is_chosen_from_managers_police_and_key_workers_managers_first(client, manager):
    police = staff(Role.POLICE_OFFICER, first_name="Qxbobby", last_name="Aardvark")
    key_worker = staff(Role.KEY_WORKER, first_name="Qxkay", last_name="Abbot")
    yot = staff(Role.YOT_WORKER, first_name="Qxyot", last_name="Worker")
    prison = staff(Role.PRISON_WORKER, first_name="Qxprison", last_name="Warden")
    sign_in(client, manager)
    response = client.get(reverse("selection:panel-create"))
    chairs = [value for value, _ in response.context["form"].fields["chair"].choices if value]
    assert chairs == [manager.pk, police.pk, key_worker.pk]
    assert yot.pk not in chairs and prison.pk not in chairs
    # The signed-in manager is chosen to begin with.
    assert f'<option value="{manager.pk}" selected>' in text_of(response)


@pytest.mark.parametrize(
    "changes,message",
    [
        (
            {"held_on-day": "", "held_on-month": "", "held_on-year": ""},
            "Enter the date the panel met",
        ),
        ({"held_on-day": "12", "held_on-month": "7"}, "The panel's date cannot be in the future"),
        ({"held_on-month": ""}, "The date the panel met must include a month"),
        ({"held_on-day": "31", "held_on-month": "2"}, "The date the panel met must be a real date"),
        ({"held_on-year": "26"}, "Year must include 4 numbers"),
        ({"held_on-day": "x"}, "The date the panel met must be a real date"),
        ({"chair": ""}, "Choose who chaired the panel"),
        ({"chair": "999999"}, "Choose who chaired the panel from the list"),
    ],
)
def test_bad_panel_input_shows_the_message_and_saves_nothing(client, manager, changes, message):
    sign_in(client, manager)
    data = panel_post(chair=str(manager.pk))
    data.update(changes)
    response = client.post(reverse("selection:panel-create"), data)
    assert response.status_code == 200
    assert message in errors_of(response)
    page = text_of(response)
    assert "<title>Error: Record a selection panel" in page
    assert SelectionPanel.objects.count() == 0
    # What was typed is kept.
    assert 'value="Monthly panel"' in page or "Monthly panel</textarea>" in page


def test_the_date_error_links_to_the_day_box(client, manager):
    sign_in(client, manager)
    response = client.post(
        reverse("selection:panel-create"),
        panel_post(chair=str(manager.pk), **{"held_on-day": ""}),
    )
    assert 'href="#id_held_on-day"' in errors_of(response)
    assert 'id="id_held_on-day"' in text_of(response)


def test_a_panel_posted_twice_is_recorded_once(client, manager):
    sign_in(client, manager)
    token = str(uuid.uuid4())
    data = {**panel_post(chair=str(manager.pk)), "form_token": token}
    first = client.post(reverse("selection:panel-create"), data)
    second = client.post(reverse("selection:panel-create"), data, follow=True)
    assert SelectionPanel.objects.count() == 1
    assert first["Location"] == second.redirect_chain[-1][0]
    assert "already saved" in text_of(second)


# --- the panel page ---------------------------------------------------------------------------


def test_the_panel_page_shows_its_details_and_each_decision(client, manager, decided, people):
    sign_in(client, manager)
    response = client.get(reverse("selection:panel", args=[decided.pk]))
    page = text_of(response)
    assert "<title>Selection panel of 10 June 2026 – PPO Case</title>" in page
    details = page.split('data-testid="panel-details"', 1)[1].split("</dl>", 1)[0]
    assert "Qxmanda Chairwell" in details and "Qxshire Police" in details
    assert "Quarterly review of the list" in details
    assert "No selection run on or before the panel's date" in details
    rows = re.findall(r'<tr class="govuk-table__row" data-offender=.*?</tr>', page, re.S)
    assert [NAMES[k] in row for row, k in zip(rows, ["pool", "other", "young"], strict=True)]
    select = " ".join(rows[0].split())
    assert "Select as a PPO" in select
    assert "Not on a tier → PPO" in select
    assert "Local intelligence: prolific burglary" in select
    assert "Yes – departs" in select
    assert "Opened: PPO from 10 June 2026" in select
    assert f'href="{reverse("offenders:detail", args=[people["pool"].pk])}"' in select
    defer = " ".join(rows[2].split())
    assert "Defer" in defer and "Deter Young Offender → Deter Young Offender" in defer
    assert "No change of tier" in defer and "None given" in defer


def test_a_closed_episode_is_shown_with_its_dates(client, manager, panel, people):
    panels.panel_decide(
        user=manager,
        panel_id=panel.pk,
        offender_id=people["ppo"].pk,
        kind=DecisionKind.DESELECT,
        deselection_reason=DeselectionReason.MOVED_AREA,
        exit_outcome="moved_away",
    )
    sign_in(client, manager)
    page = " ".join(text_of(client.get(reverse("selection:panel", args=[panel.pk]))).split())
    assert "Closed: PPO 1 January 2025 to 10 June 2026" in page
    assert "Moved to another area" in page and "Outcome: Moved away" in page
    assert "PPO → Not on a tier" in page


def test_the_panel_page_is_audited_as_a_consultation_of_the_decisions_shown(
    client, decided, people
):
    key_worker = staff(Role.KEY_WORKER)
    sign_in(client, key_worker)
    client.get(reverse("selection:panel", args=[decided.pk]))
    event = AuditEvent.objects.get(user=key_worker, action=AuditAction.LIST)
    assert event.record_type == "selection.paneldecision"
    assert event.detail["panel"] == decided.pk
    shown = {people[k].pk for k in ("pool", "young")}
    assert set(event.offender_ids) == shown
    assert set(event.record_ids) == set(
        PanelDecision.objects.filter(offender_id__in=shown).values_list("pk", flat=True)
    )


def test_a_manager_finds_a_person_on_the_panel_page_to_record_a_decision(
    client, manager, panel, people
):
    sign_in(client, manager)
    response = client.get(reverse("selection:panel", args=[panel.pk]), {"q": "Qxiom"})
    page = text_of(response)
    results = page.split('data-testid="search-results"', 1)[1].split("</table>", 1)[0]
    assert "Qxiom Penhallow" in results and "Qxppo" not in results
    assert f'href="{decide_url(panel, people["iom"])}"' in results
    event = AuditEvent.objects.get(action=AuditAction.LIST, record_type="offenders.offender")
    assert event.offender_ids == [people["iom"].pk]
    assert event.detail["search"] == "Qxiom"


def test_the_panel_page_runs_the_same_number_of_queries_however_many_decisions(
    client, manager, panel, people
):
    sign_in(client, manager)
    url = reverse("selection:panel", args=[panel.pk])
    list_url = reverse("selection:panels")

    def count(target: str) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(target).status_code == 200
        return len(queries)

    panels.panel_decide(user=manager, panel_id=panel.pk, offender_id=people["ppo"].pk, kind="defer")
    few, few_list = count(url), count(list_url)
    for n in range(6):
        person = OffenderFactory(first_name=f"Qxextra{n}", last_name="Dunmore")
        panels.panel_decide(
            user=manager,
            panel_id=panel.pk,
            offender_id=person.pk,
            kind=DecisionKind.SELECT,
            reason="Extra",
        )
        panels.panel_create(user=manager, held_on=HELD_ON, chair_id=manager.pk)
    panels.panel_decide(
        user=manager,
        panel_id=panel.pk,
        offender_id=people["ppo"].pk,
        kind=DecisionKind.DESELECT,
        deselection_reason=DeselectionReason.STOPPED_OFFENDING,
        reason="Six months clear",
    )
    assert PanelDecision.objects.filter(panel=panel).count() == 8
    assert count(url) == few
    assert count(list_url) == few_list


# --- recording a decision ----------------------------------------------------------------------


def test_the_decision_form_shows_the_tier_the_ranking_and_the_decisions_that_apply(
    client, manager, panel, people
):
    ranked(people["ppo"], rank=1)
    sign_in(client, manager)
    response = client.get(decide_url(panel, people["ppo"]))
    page = " ".join(text_of(response).split())
    assert "PPO since 1 January 2025" in page
    assert "Ranked <strong>1</strong> with a score of 42.5 points" in page
    assert "Recommended" in page and "capacity of 2" in page
    offered = [value for value, *_ in response.context["context"].kinds]
    assert offered == ["step_down", "deselect", "defer", "exit_dip"]
    assert 'value="select"' not in page
    # The ranking recommends them: stepping down, de-selecting or exiting departs from it.
    for kind in ("step_down", "deselect", "exit_dip"):
        assert f'data-testid="departs-{kind}"' in page
    assert 'data-testid="departs-defer"' not in page
    # The reveals: the de-selection reasons and outcomes under "De-select".
    assert 'data-aria-controls="conditional-id_kind-2"' in page
    assert 'name="deselection_reason"' in page and 'name="exit_dip_outcome"' in page
    assert "None recorded" in page  # no risk assessment yet
    risk = reverse("selection:risk-assessment-create", args=[people["ppo"].pk])
    assert f'href="{risk}?next=' in page


def test_the_form_says_when_selecting_someone_departs_from_the_ranking(
    client, manager, panel, people
):
    ranked(people["pool"], rank=3)  # below the capacity of 2
    sign_in(client, manager)
    page = " ".join(text_of(client.get(decide_url(panel, people["pool"]))).split())
    assert "Not recommended" in page and "Ranked below the scheme's capacity of 2" in page
    assert 'data-testid="departs-select"' in page
    # An adult in the pool is not offered "Mark as a DYO" (the DYO pages are for under-18s).
    assert 'data-testid="dyo-page"' not in page


def test_selecting_someone_records_the_decision_and_says_what_changed(
    client, manager, panel, people
):
    ranked(people["pool"], rank=1)
    sign_in(client, manager)
    response = client.post(decide_url(panel, people["pool"]), {"kind": "select"}, follow=True)
    assert response.redirect_chain == [(reverse("selection:panel", args=[panel.pk]), 302)]
    assert "Qxpool Marrow is a PPO from 10 June 2026" in text_of(response)
    decision = PanelDecision.objects.get()
    assert (decision.kind, decision.from_tier, decision.to_tier) == ("select", "", "ppo")
    assert not decision.departs_from_ranking
    assert tier_on(people["pool"], DAY_BEFORE) == "" and tier_on(people["pool"], HELD_ON) == "ppo"


def test_a_decision_posted_twice_is_recorded_once(client, manager, panel, people):
    sign_in(client, manager)
    data = {"kind": "select", "reason": "Intelligence", "form_token": str(uuid.uuid4())}
    first = client.post(decide_url(panel, people["pool"]), data)
    second = client.post(decide_url(panel, people["pool"]), data, follow=True)
    assert PanelDecision.objects.count() == 1
    assert ProgrammeEpisode.objects.filter(offender=people["pool"]).count() == 1
    assert first["Location"] == second.redirect_chain[-1][0]
    assert "already saved" in text_of(second)


def deselect_answers(**changes: str) -> dict[str, str]:
    data = {
        "kind": "deselect",
        "deselection_reason": DeselectionReason.STOPPED_OFFENDING,
        "deselect_exit_outcome": "employment",
        # Filled in under another reveal, then the chair changed their mind: ignored.
        "exit_dip_outcome": "treatment",
        "reason": "Six months without arrest",
    }
    data.update(changes)
    return data


def test_a_deselection_is_checked_before_it_is_recorded(client, manager, panel, people):
    sign_in(client, manager)
    token = str(uuid.uuid4())
    url = decide_url(panel, people["ppo"])
    check = client.post(url, {**deselect_answers(), "form_token": token})
    assert check.status_code == 200
    page = " ".join(text_of(check).split())
    assert "Check the decision before recording it" in page
    assert "Stopped offending" in page and "In employment" in page
    assert "Their PPO episode, from 1 January 2025, ends on 10 June 2026" in page
    assert "exit route: None" in page
    assert f'name="form_token" value="{token}"' in page
    # Checking saved nothing, and left nothing on the audit trail but the view of the page.
    assert PanelDecision.objects.count() == 0
    assert tier_on(people["ppo"], HELD_ON) == ProgrammeKind.PPO
    assert (
        not AuditEvent.objects.filter(action=AuditAction.CREATE)
        .exclude(record_type="selection.selectionpanel")
        .exists()
    )
    assert not AuditEvent.objects.filter(action=AuditAction.UPDATE).exists()
    viewed = AuditEvent.objects.get(action=AuditAction.VIEW)
    assert viewed.detail["view"] == "check a panel decision"
    assert viewed.offender_ids == [people["ppo"].pk]
    # The check page carries only the answers that belong to "De-select".
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page))
    assert "exit_dip_outcome" not in hidden
    assert hidden["deselect_exit_outcome"] == "employment"

    confirmed = client.post(url, {**hidden, "form_token": token, "confirm": "1"}, follow=True)
    assert confirmed.redirect_chain == [(reverse("selection:panel", args=[panel.pk]), 302)]
    assert "Qxppo Brannock is no longer a PPO from 10 June 2026" in text_of(confirmed)
    decision = PanelDecision.objects.get()
    assert decision.deselection_reason == DeselectionReason.STOPPED_OFFENDING
    assert decision.exit_outcome == "employment"
    assert decision.closed_episode.deselected_on == HELD_ON
    assert tier_on(people["ppo"], DAY_BEFORE) == "ppo" and tier_on(people["ppo"], HELD_ON) == ""
    # Confirming again (a double click) records nothing more.
    again = client.post(url, {**hidden, "form_token": token, "confirm": "1"}, follow=True)
    assert "already saved" in text_of(again)
    assert PanelDecision.objects.count() == 1


def test_change_on_the_check_page_goes_back_to_the_form_with_the_answers(
    client, manager, panel, people
):
    sign_in(client, manager)
    url = decide_url(panel, people["ppo"])
    response = client.post(url, {**deselect_answers(), "change": "id_reason"})
    page = text_of(response)
    assert "What did the panel decide?" in page
    assert 'value="deselect" checked' in page
    assert "Six months without arrest</textarea>" in page
    assert PanelDecision.objects.count() == 0


def test_stepping_down_is_checked_then_says_they_are_on_the_iom_tier(
    client, manager, panel, people
):
    sign_in(client, manager)
    url = decide_url(panel, people["ppo"])
    check = client.post(url, {"kind": "step_down"})
    page = " ".join(text_of(check).split())
    assert "Check the decision before recording it" in page
    assert "Their PPO episode, from 1 January 2025, ends on 10 June 2026" in page
    assert "A new IOM episode starts on 10 June 2026" in page
    assert "exit route: Integrated Offender Management" in page
    assert PanelDecision.objects.count() == 0
    token = re.search(r'name="form_token" value="([0-9a-f-]+)"', page).group(1)
    done = client.post(
        url, {"kind": "step_down", "reason": "", "form_token": token, "confirm": "1"}, follow=True
    )
    assert "Qxppo Brannock is on the IOM tier from 10 June 2026 and no longer a PPO" in text_of(
        done
    )
    assert tier_on(people["ppo"], HELD_ON) == ProgrammeKind.IOM


def test_a_deferral_is_recorded_without_a_check_and_says_nothing_changed(
    client, manager, panel, people
):
    sign_in(client, manager)
    response = client.post(decide_url(panel, people["iom"]), {"kind": "defer"}, follow=True)
    assert "Decision deferred: Qxiom Penhallow is still on the IOM tier" in text_of(response)
    assert PanelDecision.objects.get().kind == "defer"


@pytest.mark.parametrize(
    "person,answers,field,message",
    [
        ("pool", {"kind": "select"}, "reason", "departs from the latest selection ranking"),
        ("pool", {"kind": "step_down"}, "kind", "“Step down to IOM” does not apply"),
        ("iom", {"kind": "select", "reason": "x"}, "kind", "does not apply to someone on the IOM"),
        (
            "ppo",
            {"kind": "deselect", "reason": "x"},
            "deselection_reason",
            "Choose the reason for de-selection",
        ),
        (
            "ppo",
            {"kind": "deselect", "deselection_reason": "other"},
            "reason",
            "Say why, for a de-selection for another reason",
        ),
        (
            "ppo",
            {"kind": "deselect", "deselection_reason": "long_custody", "reason": "x"},
            "deselection_reason",
            "needs a risk assessment from the last 12 months",
        ),
        ("ppo", {}, "kind", "Choose a decision"),
        ("ppo", {"kind": "promote"}, "kind", "Choose a decision from the list"),
    ],
)
def test_bad_decision_input_shows_the_message_and_saves_nothing(
    client, manager, panel, people, person, answers, field, message
):
    sign_in(client, manager)
    response = client.post(decide_url(panel, people[person]), answers)
    assert response.status_code == 200
    assert message in errors_of(response)
    assert f'href="#id_{field}"' in errors_of(response)
    assert "<title>Error: Record a decision" in text_of(response)
    assert PanelDecision.objects.count() == 0
    assert not ProgrammeEpisode.objects.filter(selected_on=HELD_ON).exists()
    assert not ProgrammeEpisode.objects.filter(deselected_on__isnull=False).exists()


def test_a_departing_deselection_without_a_reason_is_stopped_before_the_check(
    client, manager, panel, people
):
    ranked(people["ppo"], rank=1)
    sign_in(client, manager)
    response = client.post(
        decide_url(panel, people["ppo"]),
        {"kind": "deselect", "deselection_reason": DeselectionReason.LIST_REVIEW},
    )
    assert "departs from the latest selection ranking" in errors_of(response)
    assert "Check the decision" not in text_of(response)


def test_the_decision_form_is_audited_as_a_view_of_the_person(client, manager, panel, people):
    sign_in(client, manager)
    client.get(decide_url(panel, people["young"]))
    event = AuditEvent.objects.get(action=AuditAction.VIEW)
    assert event.offender_ids == [people["young"].pk]
    assert event.detail["view"] == "record a panel decision"
    assert event.detail["panel"] == panel.pk


def test_a_young_persons_dyo_decision_points_to_the_dyo_pages(client, manager, panel, people):
    sign_in(client, manager)
    response = client.get(decide_url(panel, people["young"]))
    page = text_of(response)
    offered = [value for value, *_ in response.context["context"].kinds]
    assert offered == ["defer"]
    assert 'data-testid="dyo-page"' in page
    assert f'href="{reverse("selection:dyo-end", args=[people["young"].pk])}"' in page


# --- from a ranking row ---------------------------------------------------------------------


@pytest.fixture
def run_with_people(people):
    entry = ranked(people["pool"], rank=1)
    ranked(people["ppo"], rank=2)
    return entry.run


def test_the_manager_goes_from_a_ranking_row_to_record_a_decision(
    client, manager, panel, people, run_with_people
):
    sign_in(client, manager)
    page = text_of(client.get(reverse("selection:run", args=[run_with_people.pk])))
    choose = reverse("selection:person-decide", args=[people["pool"].pk])
    assert f'href="{choose}"' in page
    # The panel page's "choose from the ranking" keeps the panel, and the row leads straight
    # to its decision form.
    panel_page = text_of(client.get(reverse("selection:panel", args=[panel.pk])))
    ranking = f"{reverse('selection:run', args=[run_with_people.pk])}?panel={panel.pk}"
    assert f'href="{ranking}"' in panel_page
    page = text_of(client.get(ranking))
    assert f'href="{choose}?panel={panel.pk}"' in page
    response = client.get(f"{choose}?panel={panel.pk}")
    assert response.status_code == 302
    assert response["Location"] == decide_url(panel, people["pool"])
    # Without a panel: the page asks which.
    which = client.get(choose)
    assert "Which panel is the decision for?" in text_of(which)
    assert "Selection panel of 10 June 2026" in text_of(which)
    bad = client.get(f"{choose}?panel=99999")
    assert "Choose the panel the decision was made at" in text_of(bad)


def test_readers_who_record_no_decisions_are_not_offered_them_on_the_ranking(
    client, panel, run_with_people
):
    sign_in(client, staff(Role.POLICE_OFFICER))
    page = text_of(client.get(reverse("selection:run", args=[run_with_people.pk])))
    assert "Record a decision" not in page
    assert 'data-testid="decide"' not in page


def test_a_manager_with_no_panel_yet_is_told_to_record_one_first(client, manager, people):
    sign_in(client, manager)
    response = client.get(reverse("selection:person-decide", args=[people["pool"].pk]))
    assert response.status_code == 200
    page = text_of(response)
    assert "No selection panel has been recorded yet" in page
    assert f'href="{reverse("selection:panel-create")}"' in page


# --- risk assessments ---------------------------------------------------------------------------


def risk_answers(**changes: str) -> dict[str, str]:
    data = {
        "tool": "oasys",
        "assessed_on-day": "3",
        "assessed_on-month": "6",
        "assessed_on-year": "2026",
        "likelihood_score": "45",
        "rosh_level": "high",
    }
    data.update(changes)
    return data


def test_the_risk_assessment_form_has_a_stable_url_for_the_profile_tab(people):
    pk = people["ppo"].pk
    url = reverse("selection:risk-assessment-create", args=[pk])
    assert url == f"/selection/people/{pk}/risk-assessments/new/"


def test_recording_a_risk_assessment_saves_it_and_goes_back(client, manager, people):
    sign_in(client, manager)
    url = reverse("selection:risk-assessment-create", args=[people["ppo"].pk])
    form = text_of(client.get(url))
    assert "<title>Record a risk assessment – Qxppo Brannock – PPO Case</title>" in form
    assert 'for="id_assessed_on-day"' in form and 'for="id_likelihood_score"' in form
    viewed = AuditEvent.objects.get(action=AuditAction.VIEW)
    assert viewed.detail["view"] == "record a risk assessment"
    response = client.post(url, risk_answers(), follow=True)
    detail = reverse("offenders:detail", args=[people["ppo"].pk])
    assert response.redirect_chain == [(detail, 302)]
    assert (
        "Risk assessment recorded for Qxppo Brannock: OASys, 3 June 2026, likelihood of "
        "re-offending 45%, risk of serious harm high"
    ) in text_of(response)
    made = RiskAssessment.objects.get()
    assert (made.tool, made.assessed_on, made.likelihood_score, made.rosh_level) == (
        "oasys",
        dt.date(2026, 6, 3),
        45,
        "high",
    )
    assert made.assessed_by == manager and made.agency.kind == AgencyKind.PROBATION
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, record_type="selection.riskassessment"
    ).exists()


def test_a_risk_assessment_goes_back_to_the_page_it_came_from_on_this_site_only(
    client, manager, panel, people
):
    sign_in(client, manager)
    url = reverse("selection:risk-assessment-create", args=[people["ppo"].pk])
    back = decide_url(panel, people["ppo"])
    response = client.post(f"{url}?next={back}", {**risk_answers(), "next": back})
    assert response["Location"] == back
    response = client.post(url, {**risk_answers(), "next": "https://elsewhere.example/"})
    assert response["Location"] == reverse("offenders:detail", args=[people["ppo"].pk])
    for elsewhere in ("//elsewhere.example/", "offenders/1/", "javascript:alert(1)"):
        response = client.post(url, {**risk_answers(), "next": elsewhere})
        assert response["Location"] == reverse("offenders:detail", args=[people["ppo"].pk])


def test_a_recorded_risk_assessment_lets_a_long_custody_deselection_through_to_the_check(
    client, manager, panel, people
):
    sign_in(client, manager)
    client.post(
        reverse("selection:risk-assessment-create", args=[people["ppo"].pk]), risk_answers()
    )
    response = client.post(
        decide_url(panel, people["ppo"]),
        {"kind": "deselect", "deselection_reason": "long_custody", "reason": "Nine years"},
    )
    assert "Check the decision before recording it" in text_of(response)
    page = text_of(client.get(decide_url(panel, people["ppo"])))
    assert "OASys, 3 June 2026: likelihood of re-offending 45%, risk of serious harm high" in (
        " ".join(page.split())
    )


@pytest.mark.parametrize(
    "changes,field,message",
    [
        ({"tool": ""}, "tool", "Choose the assessment tool"),
        (
            {"assessed_on-day": "", "assessed_on-month": "", "assessed_on-year": ""},
            "assessed_on-day",
            "Enter the date of the assessment",
        ),
        ({"assessed_on-day": "13"}, "assessed_on-day", "cannot be in the future"),
        ({"assessed_on-year": "1890"}, "assessed_on-day", "must be on or after 1 January 1900"),
        ({"likelihood_score": "101"}, "likelihood_score", "a whole number from 0 to 100"),
        ({"likelihood_score": "-1"}, "likelihood_score", "a whole number from 0 to 100"),
        ({"likelihood_score": "4.5"}, "likelihood_score", "a whole number from 0 to 100"),
        ({"likelihood_score": ""}, "likelihood_score", "Enter the likelihood of re-offending"),
        ({"rosh_level": "extreme"}, "rosh_level", "from the list"),
    ],
)
def test_bad_risk_assessment_input_shows_the_message_and_saves_nothing(
    client, manager, people, changes, field, message
):
    sign_in(client, manager)
    url = reverse("selection:risk-assessment-create", args=[people["ppo"].pk])
    response = client.post(url, risk_answers(**changes))
    assert response.status_code == 200
    assert message in errors_of(response)
    assert f'href="#id_{field}"' in errors_of(response)
    assert RiskAssessment.objects.count() == 0


def test_a_risk_assessment_before_the_person_was_born_is_refused_by_the_service(
    client, manager, people
):
    sign_in(client, manager)
    url = reverse("selection:risk-assessment-create", args=[people["young"].pk])
    response = client.post(url, risk_answers(**{"assessed_on-year": "2009"}))
    assert "cannot be before the person's date of birth" in errors_of(response)
    assert RiskAssessment.objects.count() == 0


def test_a_user_without_a_role_is_refused_every_page(client, decided, people):
    sign_in(client, UserFactory())
    for page, url in urls(decided, people["young"]).items():
        assert client.get(url).status_code == 403, page
