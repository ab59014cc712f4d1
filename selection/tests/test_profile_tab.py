"""The person's "Selection & panel" tab (issue 7 item 7), as each role sees it.

ACCESS.md "selection scores, panel decisions, reviews": the PPO manager, key workers and
police read them; YOT reads its own people; prison staff, partners, the steering group and
administrators nothing. The expectations below are written out by hand, person by person:

* Qxadult Penrose, 40, a PPO since 1 January 2025, in custody at HMP Qxmoor and referred
  to the treatment agency: prison staff there and the partner see him, YOT does not.
* Qxyoung Ashdown, 16, a Deter Young Offender since 1 March 2026: YOT's person.

The panel meets on 10 June 2026; "today" is 12 June 2026.
"""

from __future__ import annotations

import datetime as dt
import html
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from access.models import AgencyKind, AuditAction, AuditEvent, Role
from access.policy import actor_for
from offenders import tabs
from offenders.models import DeselectionReason, ProgrammeKind
from selection import panel as panels
from selection import services
from selection.models import DecisionKind, MatrixVersion, RunEntry, SelectionRun
from tests.factories import (
    AgencyFactory,
    CustodyEpisodeFactory,
    OffenderFactory,
    ProgrammeEpisodeFactory,
    ReferralFactory,
    sign_in,
    staff,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 12)
HELD_ON = dt.date(2026, 6, 10)
TAB_LABEL = "Selection &amp; panel"

ROLES = [
    Role.PPO_MANAGER,
    Role.KEY_WORKER,
    Role.POLICE_OFFICER,
    Role.PRISON_WORKER,
    Role.YOT_WORKER,
    Role.PARTNER_WORKER,
    Role.STEERING_GROUP,
    Role.ADMINISTRATOR,
]
# The tab page's status for (Qxadult Penrose, Qxyoung Ashdown). 403: the role reads no
# selection records, whoever the person; 404: a reader, but not of this person.
PAGE_STATUS = {
    Role.PPO_MANAGER: (200, 200),
    Role.KEY_WORKER: (200, 200),
    Role.POLICE_OFFICER: (200, 200),
    Role.PRISON_WORKER: (403, 403),
    Role.YOT_WORKER: (404, 200),
    Role.PARTNER_WORKER: (403, 403),
    Role.STEERING_GROUP: (403, 403),
    Role.ADMINISTRATOR: (403, 403),
}
# On Qxadult Penrose's overview: is the tab offered? A number: the overview itself is refused
# with that status (404 outside scope; 403 for a role that sees no one's records).
TAB_ON_ADULT_OVERVIEW = {
    Role.PPO_MANAGER: True,
    Role.KEY_WORKER: True,
    Role.POLICE_OFFICER: True,
    Role.PRISON_WORKER: False,
    Role.YOT_WORKER: 404,
    Role.PARTNER_WORKER: False,
    Role.STEERING_GROUP: 403,
    Role.ADMINISTRATOR: 403,
}


@pytest.fixture(autouse=True)
def on_the_day():
    with time_machine.travel(dt.datetime(2026, 6, 12, 12, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def prison():
    return AgencyFactory(name="HMP Qxmoor", kind=AgencyKind.PRISON)


@pytest.fixture
def treatment():
    return AgencyFactory(name="Qxtreat CJIT", kind=AgencyKind.TREATMENT)


@pytest.fixture
def adult(prison, treatment):
    person = OffenderFactory(
        first_name="Qxadult", last_name="Penrose", date_of_birth=dt.date(1986, 2, 3)
    )
    ProgrammeEpisodeFactory(offender=person, selected_on=dt.date(2025, 1, 1))
    CustodyEpisodeFactory(offender=person, establishment=prison, started_on=dt.date(2026, 5, 1))
    ReferralFactory(offender=person, agency=treatment, opened_on=dt.date(2026, 1, 5))
    return person


@pytest.fixture
def young():
    person = OffenderFactory(
        first_name="Qxyoung", last_name="Ashdown", date_of_birth=dt.date(2010, 1, 20)
    )
    ProgrammeEpisodeFactory(
        offender=person, kind=ProgrammeKind.DYO, selected_on=dt.date(2026, 3, 1)
    )
    return person


def user_for(role: str, prison, treatment):
    agency = {Role.PRISON_WORKER: prison, Role.PARTNER_WORKER: treatment}.get(role)
    return staff(role, agency=agency)


def page(client, person):
    return client.get(reverse("selection:person", args=[person.pk]))


@pytest.mark.parametrize("role", ROLES)
def test_the_tab_page_answers_each_role_as_access_md_says(
    client, role, adult, young, prison, treatment
):
    sign_in(client, user_for(role, prison, treatment))
    statuses = (page(client, adult).status_code, page(client, young).status_code)
    assert statuses == PAGE_STATUS[role]


@pytest.mark.parametrize("role", ROLES)
def test_the_tab_is_offered_on_the_overview_only_to_those_the_page_lets_in(
    client, role, adult, young, prison, treatment
):
    sign_in(client, user_for(role, prison, treatment))
    response = client.get(reverse("offenders:detail", args=[adult.pk]))
    expected = TAB_ON_ADULT_OVERVIEW[role]
    if not isinstance(expected, bool):
        assert response.status_code == expected
        return
    assert response.status_code == 200
    text = response.content.decode()
    assert (TAB_LABEL in text) is expected
    assert (reverse("selection:person", args=[adult.pk]) in text) is expected


def test_yot_is_offered_the_tab_on_its_own_persons_overview_and_timeline(
    client, young, prison, treatment
):
    sign_in(client, staff(Role.YOT_WORKER))
    url = reverse("selection:person", args=[young.pk])
    for name in ("offenders:detail", "offenders:timeline"):
        response = client.get(reverse(name, args=[young.pk]))
        assert response.status_code == 200
        assert url in response.content.decode()


def test_the_tab_is_current_on_its_own_page_and_not_on_the_overview(client, adult):
    sign_in(client, staff(Role.PPO_MANAGER))
    url = reverse("selection:person", args=[adult.pk])
    current = f'aria-current="page" href="{url}"'
    assert current in page(client, adult).content.decode()
    overview = client.get(reverse("offenders:detail", args=[adult.pk])).content.decode()
    assert current not in overview and f'href="{url}"' in overview


def test_someone_who_does_not_exist_is_not_found(client):
    sign_in(client, staff(Role.PPO_MANAGER))
    assert client.get("/selection/people/999999/").status_code == 404
    assert client.get("/selection/people/9999999999999999999999/").status_code == 404


def test_viewing_the_tab_is_audited_as_a_view_of_the_person(client, adult):
    manager = staff(Role.PPO_MANAGER)
    sign_in(client, manager)
    assert page(client, adult).status_code == 200
    views = AuditEvent.objects.filter(
        action=AuditAction.VIEW,
        record_type="offenders.offender",
        offender_refs=f",{adult.pk},",
        user=manager,
    )
    assert views.count() == 1
    assert views.get().detail["view"] == "selection and panel"


def test_a_refused_role_is_audited(client, adult, prison, treatment):
    worker = user_for(Role.PRISON_WORKER, prison, treatment)
    sign_in(client, worker)
    assert page(client, adult).status_code == 403
    denied = AuditEvent.objects.filter(action=AuditAction.DENIED, user=worker)
    assert denied.count() == 1
    assert not AuditEvent.objects.filter(action=AuditAction.VIEW, user=worker).exists()


# --- what the page shows -----------------------------------------------------------------


def run_entry(person, *, as_of: dt.date, rank: int, score: str) -> RunEntry:
    run = SelectionRun.objects.create(
        version=MatrixVersion.objects.get(number=1), as_of=as_of, capacity=5
    )
    return RunEntry.objects.create(
        run=run, offender=person, rank=rank, score=Decimal(score), tier="ppo"
    )


@pytest.fixture
def history(adult):
    """Qxadult Penrose: two runs, a risk assessment, stepped down to IOM at the panel."""
    manager = staff(Role.PPO_MANAGER, first_name="Qxmanda", last_name="Chairwell")
    first = run_entry(adult, as_of=dt.date(2026, 3, 1), rank=4, score="21.5")
    second = run_entry(adult, as_of=dt.date(2026, 6, 1), rank=9, score="12")
    services.risk_assessment_record(
        user=manager,
        offender_id=adult.pk,
        assessed_on=dt.date(2026, 5, 20),
        tool="oasys",
        likelihood_score=63,
        rosh_level="high",
    )
    panel = panels.panel_create(user=manager, held_on=HELD_ON, chair_id=manager.pk)
    decision = panels.panel_decide(
        user=manager,
        panel_id=panel.pk,
        offender_id=adult.pk,
        kind=DecisionKind.STEP_DOWN,
        reason="Qxreason engaging well with treatment",
    )
    return {"manager": manager, "runs": (first, second), "decision": decision}


def section(text: str, testid: str) -> str:
    """The rows of a table (its body, not its caption or headings)."""
    start = text.index("<tbody", text.index(f'data-testid="{testid}"'))
    return text[start : text.index("</table>", start)]


def test_the_page_shows_scores_decisions_risk_and_tiers(client, adult, history):
    sign_in(client, staff(Role.KEY_WORKER))
    text = html.unescape(page(client, adult).content.decode())
    first, second = history["runs"]

    scores = section(text, "scores")
    assert scores.index("1 Jun 2026") < scores.index("1 Mar 2026")  # newest first
    assert "21.5" in scores and ">12<" in scores.replace(" ", "")
    for entry in (first, second):
        assert reverse("selection:explanation", args=[entry.run_id, adult.pk]) in scores

    decisions = section(text, "decisions")
    assert "Step down to IOM" in decisions
    assert "PPO to IOM" in decisions
    assert "Qxreason engaging well with treatment" in decisions
    assert "Chair: Qxmanda Chairwell" in decisions

    risk = section(text, "risk-assessments")
    assert "20 May 2026" in risk and "OASys" in risk and "63%" in risk and "High" in risk

    tiers = section(text, "tiers")
    assert tiers.index(">IOM<") < tiers.index(">PPO<")  # the open IOM tier first
    assert "Current" in tiers
    assert "Step down to IOM, selection panel of 10 June 2026" in tiers
    assert DeselectionReason.STEPPED_DOWN.label in tiers
    assert "Integrated Offender Management" in tiers  # the PPO tier's exit route


def test_documents_and_the_risk_assessment_link_are_for_the_manager_only(client, adult, history):
    sign_in(client, staff(Role.POLICE_OFFICER))
    text = page(client, adult).content.decode()
    assert "Documents" not in text and "letter-link" not in text
    assert "Record a risk assessment" not in text


def test_the_risk_assessment_link_goes_to_its_form_when_there_is_one(client, adult):
    from django.urls import NoReverseMatch

    sign_in(client, staff(Role.PPO_MANAGER))
    text = page(client, adult).content.decode()
    try:
        url = reverse("selection:risk-assessment-create", args=[adult.pk])
    except NoReverseMatch:
        assert "Record a risk assessment" not in text
    else:
        assert "Record a risk assessment" in text and url in text


def test_the_page_takes_the_same_queries_however_long_the_history(client, adult, history):
    sign_in(client, staff(Role.PPO_MANAGER))
    with CaptureQueriesContext(connection) as before:
        assert page(client, adult).status_code == 200
    for month in (1, 2, 4, 5):
        run_entry(adult, as_of=dt.date(2025, month, 1), rank=month, score="15")
    other_panel = panels.panel_create(
        user=history["manager"], held_on=dt.date(2026, 6, 11), chair_id=history["manager"].pk
    )
    panels.panel_decide(
        user=history["manager"],
        panel_id=other_panel.pk,
        offender_id=adult.pk,
        kind=DecisionKind.DEFER,
    )
    with CaptureQueriesContext(connection) as after:
        assert page(client, adult).status_code == 200
    assert len(after) == len(before)


# --- the registry ------------------------------------------------------------------------


def test_registered_tabs_follow_their_predicate_and_order():
    everyone = tabs.register(
        key="qxfirst", label="Qxfirst", url_name="offenders:detail", offered=lambda a: True, order=1
    )
    try:
        tabs.register(
            key="qxnever", label="Qxnever", url_name="offenders:detail", offered=lambda a: False
        )
        nobody = actor_for(None)
        shown = [t.key for t in tabs.tabs_for(nobody, 7)]
        assert shown == [everyone.key]  # not "qxnever", nor selection (nobody reads it)
        assert tabs.tabs_for(nobody, 7)[0].url == reverse("offenders:detail", args=[7])
    finally:
        tabs.unregister("qxfirst")
        tabs.unregister("qxnever")


def test_selection_registers_its_tab_once_and_a_page_of_the_person_cannot_be_taken():
    keys = [t.key for t in tabs.registered()]
    assert keys.count("selection") == 1
    with pytest.raises(ValueError):
        tabs.register(key="overview", label="X", url_name="offenders:detail", offered=bool)


def test_a_decisions_move_between_tiers_is_said_in_words():
    from selection.profile import tier_move

    assert tier_move("", "ppo") == "No tier to PPO"
    assert tier_move("ppo", "") == "PPO to no tier"
    assert tier_move("ppo", "iom") == "PPO to IOM"
    assert tier_move("ppo", "ppo") == "Stays PPO"
    assert tier_move("", "") == "Stays off the tiers"
