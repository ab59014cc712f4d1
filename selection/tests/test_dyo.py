"""Deter Young Offenders: the YOT marks them and ends them at the exit review (003 §7),
through panel decisions like every other change of tier (selection.panel).

Today is 12 June 2026. The invented young people:

* Qxteen Harrowby, born 13 June 2008: 17 today, 18 tomorrow; on no tier.
* Qxbday Lorrimer, born 10 June 2008: 18 on 10 June 2026 (two days ago).
* Qxdyo Welland, born 1 March 2009: 17, a DYO since 1 January 2026.
* Qxolddyo Penrose, born 1 January 2008: 18 since 1 January 2026, still a DYO (since
  1 September 2025) until the exit review.
* Qxadult Marchbank, born 1 January 1990: an adult in the known-offender pool.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import uuid

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from access.errors import ApplicationError, NotPermitted, OutOfScope
from access.models import AgencyKind, AuditAction, AuditEvent, Role
from access.policy import actor_for, can_see_person
from offenders.models import (
    ExitRoute,
    Offender,
    OffenderStrand,
    ProgrammeEpisode,
    ProgrammeKind,
    Strand,
)
from selection import panel as panels
from selection.models import DecisionKind, PanelDecision, PanelKind, SelectionPanel
from tests.factories import AgencyFactory, OffenderFactory, ProgrammeEpisodeFactory, sign_in, staff

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 12)
DYO, IOM, PPO = ProgrammeKind.DYO, ProgrammeKind.IOM, ProgrammeKind.PPO


@pytest.fixture(autouse=True)
def on_the_day():
    with time_machine.travel(dt.datetime(2026, 6, 12, 12, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def manager():
    return staff(Role.PPO_MANAGER)


@pytest.fixture
def yot():
    return staff(Role.YOT_WORKER, first_name="Qxyasmin", last_name="Tolland")


@pytest.fixture
def lead():
    return AgencyFactory(name="Qx Probation North", kind=AgencyKind.PROBATION)


def person(first: str, last: str, born: dt.date, **fields) -> Offender:
    return OffenderFactory(first_name=first, last_name=last, date_of_birth=born, **fields)


@pytest.fixture
def teen():
    return person("Qxteen", "Harrowby", dt.date(2008, 6, 13))


@pytest.fixture
def bday():
    return person("Qxbday", "Lorrimer", dt.date(2008, 6, 10))


@pytest.fixture
def dyo():
    young = person("Qxdyo", "Welland", dt.date(2009, 3, 1), asset_score=40)
    ProgrammeEpisodeFactory(offender=young, kind=DYO, selected_on=dt.date(2026, 1, 1))
    return young


@pytest.fixture
def old_dyo():
    older = person("Qxolddyo", "Penrose", dt.date(2008, 1, 1))
    ProgrammeEpisodeFactory(offender=older, kind=DYO, selected_on=dt.date(2025, 9, 1))
    return older


@pytest.fixture
def adult():
    return person("Qxadult", "Marchbank", dt.date(1990, 1, 1))


def tier_on(offender, day: dt.date) -> str:
    episode = ProgrammeEpisode.objects.filter(offender=offender).open_on(day).first()
    return episode.kind if episode else ""


def dyo_panel(user, held_on: dt.date = TODAY) -> SelectionPanel:
    return panels.dyo_panel_for(user=user, held_on=held_on)


def mark(user, offender, *, held_on: dt.date = TODAY, **kwargs):
    options = {"asset_score": 36, "scaled_approach": "intensive", **kwargs}
    return panels.panel_decide(
        user=user,
        panel_id=dyo_panel(user, held_on).pk,
        offender_id=offender.pk,
        kind=DecisionKind.MARK_DYO,
        **options,
    )


def end(user, offender, *, held_on: dt.date = TODAY, **kwargs):
    return panels.panel_decide(
        user=user,
        panel_id=dyo_panel(user, held_on).pk,
        offender_id=offender.pk,
        kind=DecisionKind.END_DYO,
        **kwargs,
    )


def saved_state():
    """Everything a refused decision must leave as it was."""
    return (
        list(PanelDecision.objects.values_list("pk", flat=True)),
        list(ProgrammeEpisode.objects.order_by("pk").values_list("pk", "deselected_on")),
        list(Offender.objects.order_by("pk").values_list("pk", "asset_score", "scaled_approach")),
        list(AuditEvent.objects.exclude(action=AuditAction.DENIED).values_list("pk", flat=True)),
    )


def actions_on(offender) -> set[tuple[str, str]]:
    return set(
        AuditEvent.objects.filter(offender_refs__contains=f",{offender.pk},").values_list(
            "action", "record_type"
        )
    )


# --- marking: 003 §7.2-7.4 ----------------------------------------------------------------


def test_marking_the_day_before_the_18th_birthday_opens_a_dyo_episode_that_day(manager, bday):
    decision = mark(manager, bday, held_on=dt.date(2026, 6, 9), asset_score=41)
    assert tier_on(bday, dt.date(2026, 6, 8)) == ""
    assert tier_on(bday, dt.date(2026, 6, 9)) == DYO
    opened = decision.opened_episode
    assert (opened.kind, opened.selected_on, opened.deselected_on) == (
        DYO,
        dt.date(2026, 6, 9),
        None,
    )
    assert opened.opened_by_decision == decision
    assert (decision.from_tier, decision.to_tier) == ("", DYO)
    assert decision.panel.kind == PanelKind.DYO
    assert opened.selection_decision == ("DYO panel of 2026-06-09: mark as a deter young offender")
    # The decision keeps the evidence it was made on ...
    assert (decision.asset_score, decision.scaled_approach) == (41, "intensive")
    # ... and the person's record takes it as their current assessment, and the strand.
    bday.refresh_from_db()
    assert (bday.asset_score, bday.scaled_approach) == (41, "intensive")
    assert Strand.PREVENT_DETER in bday.strand_values
    assert {
        (AuditAction.CREATE, "selection.paneldecision"),
        (AuditAction.CREATE, "offenders.programmeepisode"),
        (AuditAction.UPDATE, "offenders.offender"),
    } <= actions_on(bday)
    update = AuditEvent.objects.get(
        action=AuditAction.UPDATE, record_type="offenders.offender", record_ids=[bday.pk]
    )
    assert update.detail == {"fields": ["asset_score", "scaled_approach", "strands"]}
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, record_type="selection.selectionpanel"
    ).exists()


def test_marking_on_the_18th_birthday_is_refused_and_saves_nothing(manager, bday):
    panel = dyo_panel(manager, dt.date(2026, 6, 10))
    before = saved_state()
    with pytest.raises(ApplicationError, match="18 or over on 10 June 2026") as refused:
        panels.panel_decide(
            user=manager,
            panel_id=panel.pk,
            offender_id=bday.pk,
            kind=DecisionKind.MARK_DYO,
            asset_score=36,
            scaled_approach="intensive",
        )
    assert "held_on" in refused.value.field_errors
    assert saved_state() == before


def test_a_record_already_holding_the_assessment_is_not_rewritten(manager, teen):
    teen.asset_score, teen.scaled_approach = 36, "intensive"
    teen.save()
    OffenderStrand.objects.create(offender=teen, strand=Strand.PREVENT_DETER)
    mark(manager, teen, asset_score=36)
    assert not AuditEvent.objects.filter(
        action=AuditAction.UPDATE, record_type="offenders.offender"
    ).exists()


@pytest.mark.parametrize("score", [0, 64])
def test_asset_scores_at_either_end_of_the_range_are_accepted(manager, teen, score):
    assert mark(manager, teen, asset_score=score).asset_score == score


@pytest.mark.parametrize(
    "options,field,message",
    [
        ({"asset_score": None}, "asset_score", "Enter the Asset score"),
        ({"asset_score": -1}, "asset_score", "from 0 to 64"),
        ({"asset_score": 65}, "asset_score", "from 0 to 64"),
        ({"asset_score": "36"}, "asset_score", "from 0 to 64"),
        ({"asset_score": True}, "asset_score", "from 0 to 64"),
        ({"scaled_approach": ""}, "scaled_approach", "Choose the Scaled Approach"),
        ({"scaled_approach": "maximum"}, "scaled_approach", "Choose the Scaled Approach"),
        (
            {"scaled_approach": "enhanced"},
            "reason",
            "say why you are marking someone on the enhanced",
        ),
    ],
)
def test_bad_marking_is_refused_with_a_message_and_saves_nothing(
    manager, teen, options, field, message
):
    panel = dyo_panel(manager)
    before = saved_state()
    with pytest.raises(ApplicationError, match=message) as refused:
        panels.panel_decide(
            user=manager,
            panel_id=panel.pk,
            offender_id=teen.pk,
            kind=DecisionKind.MARK_DYO,
            **{"asset_score": 36, "scaled_approach": "intensive", **options},
        )
    assert list(refused.value.field_errors) == [field]
    assert saved_state() == before


def test_a_level_below_intensive_with_a_reason_is_marked(manager, teen):
    decision = mark(manager, teen, scaled_approach="enhanced", reason="Local priority: knife crime")
    assert decision.scaled_approach == "enhanced"
    assert decision.reason == "Local priority: knife crime"


@pytest.mark.parametrize("tier", [PPO, IOM, DYO])
def test_someone_already_on_a_tier_is_not_marked(manager, teen, tier):
    ProgrammeEpisodeFactory(offender=teen, kind=tier, selected_on=dt.date(2026, 1, 1))
    panel = dyo_panel(manager)
    before = saved_state()
    with pytest.raises(ApplicationError, match="does not apply"):
        panels.panel_decide(
            user=manager,
            panel_id=panel.pk,
            offender_id=teen.pk,
            kind=DecisionKind.MARK_DYO,
            asset_score=36,
            scaled_approach="intensive",
        )
    assert saved_state() == before


# --- who decides ---------------------------------------------------------------------------


def test_a_yot_worker_marks_a_young_person_at_the_dyo_panel_they_chair(yot, teen):
    decision = mark(yot, teen)
    panel = decision.panel
    assert (panel.kind, panel.chair, panel.held_on) == (PanelKind.DYO, yot, TODAY)
    assert list(panel.agencies.values_list("kind", flat=True)) == [AgencyKind.YOT]
    assert decision.decided_by == yot
    assert tier_on(teen, TODAY) == DYO
    # The same panel takes the YOT worker's other decisions that day.
    assert dyo_panel(yot) == panel


def test_a_yot_worker_on_the_birthday_no_longer_has_the_person_to_mark(yot, teen):
    birthday = dt.datetime(2026, 6, 13, 12, 0, tzinfo=dt.UTC)
    with time_machine.travel(birthday, tick=False), pytest.raises(OutOfScope):
        mark(yot, teen, held_on=dt.date(2026, 6, 13))
    assert not PanelDecision.objects.exists()


@pytest.mark.parametrize(
    "role", [Role.KEY_WORKER, Role.POLICE_OFFICER, Role.PRISON_WORKER, Role.PARTNER_WORKER]
)
def test_other_roles_record_no_dyo_panel(role, teen):
    with pytest.raises(NotPermitted):
        dyo_panel(staff(role))
    with pytest.raises(NotPermitted):
        panels.panel_create(user=staff(role), held_on=TODAY, chair_id=1, kind=PanelKind.DYO)
    assert not SelectionPanel.objects.exists()


def test_a_yot_worker_records_only_the_dyo_panels_they_chair_and_no_selection_panel(yot):
    other = staff(Role.YOT_WORKER)
    with pytest.raises(ApplicationError, match="chair"):
        panels.panel_create(user=yot, held_on=TODAY, chair_id=other.pk, kind=PanelKind.DYO)
    with pytest.raises(NotPermitted):
        panels.panel_create(user=yot, held_on=TODAY, chair_id=yot.pk)
    with pytest.raises(ApplicationError, match="kind of panel"):
        panels.panel_create(user=yot, held_on=TODAY, chair_id=yot.pk, kind="secret")
    assert not SelectionPanel.objects.exists()


def test_a_yot_worker_may_not_decide_at_another_chairs_dyo_panel(yot, teen):
    colleagues = dyo_panel(staff(Role.YOT_WORKER))
    with pytest.raises(NotPermitted, match="chair"):
        panels.panel_decide(
            user=yot,
            panel_id=colleagues.pk,
            offender_id=teen.pk,
            kind=DecisionKind.MARK_DYO,
            asset_score=36,
            scaled_approach="intensive",
        )
    assert not PanelDecision.objects.exists()


def test_a_yot_worker_records_no_ppo_or_iom_decision_even_as_chair(manager, yot, dyo, old_dyo):
    panel = panels.panel_create(user=manager, held_on=TODAY, chair_id=yot.pk)
    for offender, kind in [
        (old_dyo, DecisionKind.SELECT),
        (dyo, DecisionKind.DESELECT),
        (dyo, DecisionKind.STEP_DOWN),
    ]:
        with pytest.raises(NotPermitted, match="not PPO or IOM"):
            panels.panel_decide(
                user=yot,
                panel_id=panel.pk,
                offender_id=offender.pk,
                kind=kind,
                reason="Qx",
                deselection_reason="other",
            )
    assert tier_on(old_dyo, TODAY) == DYO
    # At a selection panel they chair, the DYO decisions are still theirs.
    end(
        yot,
        old_dyo,
        exit_route=ExitRoute.NONE,
        exit_lead_agency_id=actor_for(yot).agency.pk,
        exit_strategy="YOT hands over to the Probation PPO team",
    )
    assert tier_on(old_dyo, TODAY) == ""


def test_a_police_chair_does_not_mark_dyos(manager, teen):
    police = staff(Role.POLICE_OFFICER)
    panel = panels.panel_create(user=manager, held_on=TODAY, chair_id=police.pk)
    with pytest.raises(NotPermitted, match="YOT or a PPO manager"):
        panels.panel_decide(
            user=police,
            panel_id=panel.pk,
            offender_id=teen.pk,
            kind=DecisionKind.MARK_DYO,
            asset_score=36,
            scaled_approach="intensive",
        )
    assert not PanelDecision.objects.exists()


def test_a_ppo_manager_marks_dyos_at_a_selection_panel_too(manager, teen):
    panel = panels.panel_create(user=manager, held_on=TODAY, chair_id=manager.pk)
    decision = panels.panel_decide(
        user=manager,
        panel_id=panel.pk,
        offender_id=teen.pk,
        kind=DecisionKind.MARK_DYO,
        asset_score=36,
        scaled_approach="intensive",
    )
    assert decision.opened_episode.selection_decision.startswith("Selection panel of 2026-06-12")


def test_a_dyo_panel_makes_no_ppo_decision_even_for_a_manager(manager, old_dyo):
    panel = dyo_panel(manager)
    with pytest.raises(ApplicationError, match="DYO panel decides about Deter Young Offenders"):
        panels.panel_decide(
            user=manager, panel_id=panel.pk, offender_id=old_dyo.pk, kind=DecisionKind.SELECT
        )
    assert tier_on(old_dyo, TODAY) == DYO


def test_a_yot_worker_defers_at_their_dyo_panel(yot, teen):
    decision = panels.panel_decide(
        user=yot, panel_id=dyo_panel(yot).pk, offender_id=teen.pk, kind=DecisionKind.DEFER
    )
    assert decision.opened_episode is None and tier_on(teen, TODAY) == ""


def test_a_yot_worker_cannot_reach_an_adult_outside_their_scope(yot, adult):
    with pytest.raises(OutOfScope):
        mark(yot, adult)
    assert not PanelDecision.objects.exists()


def test_a_one_off_read_grant_does_not_let_a_yot_worker_mark(yot, adult):
    """ACCESS.md: explicit one-off grants of a person are read only."""
    from guardian.shortcuts import assign_perm

    young_adult = person("Qxgranted", "Ashdown", dt.date(2007, 1, 1))
    assign_perm("offenders.view_offender", yot, young_adult)
    assert can_see_person(actor_for(yot), young_adult.pk)
    with pytest.raises(NotPermitted, match="not one of the young people you work with"):
        mark(yot, young_adult)
    assert PanelDecision.objects.count() == 0


# --- the exit review: 003 §7.5 -------------------------------------------------------------


def test_the_exit_review_closes_the_dyo_tier_on_its_date(yot, old_dyo, lead):
    day = dt.date(2026, 6, 11)
    decision = end(
        yot,
        old_dyo,
        held_on=day,
        exit_route=ExitRoute.NONE,
        exit_lead_agency_id=lead.pk,
        exit_strategy="  Probation offender manager leads; ETE referral made  ",
        exit_outcome="employment",
    )
    assert tier_on(old_dyo, dt.date(2026, 6, 10)) == DYO
    assert tier_on(old_dyo, day) == ""
    closed = decision.closed_episode
    assert (closed.deselected_on, closed.exit_route, closed.deselection_reason) == (
        day,
        ExitRoute.NONE,
        "",
    )
    assert closed.closed_by_decision == decision
    assert decision.opened_episode is None
    assert (decision.from_tier, decision.to_tier) == (DYO, "")
    assert decision.exit_lead_agency == lead
    assert decision.exit_strategy == "Probation offender manager leads; ETE referral made"
    assert decision.exit_outcome == "employment"
    assert (AuditAction.UPDATE, "offenders.programmeepisode") in actions_on(old_dyo)
    # ACCESS.md: a YOT worker has DYOs of any age until their exit review closes.
    assert can_see_person(actor_for(yot, dt.date(2026, 6, 10)), old_dyo.pk)
    assert not can_see_person(actor_for(yot, day), old_dyo.pk)


def test_an_exit_to_local_iom_arrangements_opens_the_iom_tier_the_same_day(manager, old_dyo, lead):
    decision = end(
        manager,
        old_dyo,
        exit_route=ExitRoute.IOM,
        exit_lead_agency_id=lead.pk,
        exit_strategy="Managed under IOM, amber",
    )
    assert tier_on(old_dyo, TODAY - dt.timedelta(days=1)) == DYO
    assert tier_on(old_dyo, TODAY) == IOM
    assert decision.closed_episode.exit_route == ExitRoute.IOM
    assert decision.opened_episode.kind == IOM
    assert decision.to_tier == IOM


def test_a_dyo_under_18_may_end_with_a_reason_and_no_lead_agency(yot, dyo):
    decision = end(yot, dyo, exit_route=ExitRoute.TRANSFER, reason="Moved to another area")
    assert tier_on(dyo, TODAY) == ""
    assert decision.closed_episode.exit_route == ExitRoute.TRANSFER
    assert decision.exit_lead_agency is None


@pytest.mark.parametrize(
    "who,options,field,message",
    [
        ("old", {"exit_route": ""}, "exit_route", "Choose where the young person goes"),
        ("old", {"exit_route": ExitRoute.DIP_CJIT}, "exit_route", "Choose where"),
        (
            "old",
            {"exit_lead_agency_id": None},
            "exit_lead_agency",
            "needs an exit strategy with one agency leading it",
        ),
        ("old", {"exit_lead_agency_id": "inactive"}, "exit_lead_agency", "Choose the agency"),
        ("old", {"exit_lead_agency_id": "x"}, "exit_lead_agency", "Choose the agency"),
        ("old", {"exit_strategy": "   "}, "exit_strategy", "Describe the exit strategy"),
        ("young", {"exit_lead_agency_id": None}, "reason", "say why the DYO ends before"),
        (
            "young",
            {"exit_route": ExitRoute.IOM, "reason": "Qx"},
            "exit_route",
            "IOM arrangements take DYOs from 18",
        ),
    ],
)
def test_bad_exit_reviews_are_refused_and_save_nothing(
    manager, dyo, old_dyo, lead, who, options, field, message
):
    inactive = AgencyFactory(name="Qx Closed Agency", active=False)
    if options.get("exit_lead_agency_id") == "inactive":
        options = {**options, "exit_lead_agency_id": inactive.pk}
    panel = dyo_panel(manager)
    before = saved_state()
    with pytest.raises(ApplicationError, match=message) as refused:
        panels.panel_decide(
            user=manager,
            panel_id=panel.pk,
            offender_id=(old_dyo if who == "old" else dyo).pk,
            kind=DecisionKind.END_DYO,
            **{
                "exit_route": ExitRoute.NONE,
                "exit_lead_agency_id": lead.pk,
                "exit_strategy": "A plan",
                **options,
            },
        )
    assert list(refused.value.field_errors) == [field]
    assert saved_state() == before


def test_ending_someone_who_is_not_a_dyo_is_refused(manager, teen, lead):
    ProgrammeEpisodeFactory(offender=teen, kind=PPO, selected_on=dt.date(2026, 1, 1))
    with pytest.raises(ApplicationError, match="does not apply"):
        end(manager, teen, exit_route=ExitRoute.NONE, reason="Qx")
    assert tier_on(teen, TODAY) == PPO


# --- the pages -----------------------------------------------------------------------------


def text_of(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def everyone(teen, bday, dyo, old_dyo, adult):
    return {"teen": teen, "bday": bday, "dyo": dyo, "old_dyo": old_dyo, "adult": adult}


# Written out by hand from ACCESS.md: which names each role's DYO page shows in its list
# of DYOs today, and which in its list of young people who could be marked (None: no
# such list), and whether it offers the forms.
INDEX_EXPECTED = {
    Role.PPO_MANAGER: ({"Qxdyo Welland", "Qxolddyo Penrose"}, {"Qxteen Harrowby"}, True),
    Role.YOT_WORKER: ({"Qxdyo Welland", "Qxolddyo Penrose"}, {"Qxteen Harrowby"}, True),
    Role.KEY_WORKER: ({"Qxdyo Welland", "Qxolddyo Penrose"}, None, False),
    Role.POLICE_OFFICER: ({"Qxdyo Welland", "Qxolddyo Penrose"}, None, False),
}
ALL_NAMES = {
    "Qxteen Harrowby",
    "Qxbday Lorrimer",
    "Qxdyo Welland",
    "Qxolddyo Penrose",
    "Qxadult Marchbank",
}
REFUSED = [Role.PRISON_WORKER, Role.PARTNER_WORKER, Role.STEERING_GROUP, Role.ADMINISTRATOR]


def section(page: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}".*?</table>', page, re.S)
    return found.group(0) if found else ""


@pytest.mark.parametrize("role", list(INDEX_EXPECTED))
def test_the_dyo_page_as_each_reader_sees_it(client, everyone, role):
    dyos, candidates, offers = INDEX_EXPECTED[role]
    sign_in(client, staff(role))
    response = client.get(reverse("selection:dyo"))
    assert response.status_code == 200
    page = text_of(response)
    listed = section(page, "dyos")
    assert {n for n in ALL_NAMES if n in listed} == dyos
    if candidates is None:
        assert 'data-testid="candidates"' not in page
    else:
        assert {n for n in ALL_NAMES if n in section(page, "candidates")} == candidates
    assert ("End DYO" in page) is offers
    assert ("Mark as a DYO" in page) is offers
    # An adult DYO past 18 is flagged for the exit review.
    assert ("exit review due" in listed) is True
    consulted = AuditEvent.objects.get(action=AuditAction.LIST, record_type="offenders.offender")
    expected_ids = {everyone[k].pk for k in ("dyo", "old_dyo")}
    if candidates:
        expected_ids.add(everyone["teen"].pk)
    assert set(consulted.record_ids) == expected_ids


def test_the_selection_page_links_to_the_dyo_page_for_yot(client, everyone, yot):
    sign_in(client, yot)
    page = text_of(client.get(reverse("selection:index")))
    assert f'href="{reverse("selection:dyo")}"' in page


@pytest.mark.parametrize("role", REFUSED)
def test_roles_without_selection_are_refused_every_dyo_page(client, everyone, role):
    sign_in(client, staff(role))
    urls = [
        reverse("selection:dyo"),
        reverse("selection:dyo-mark", args=[everyone["teen"].pk]),
        reverse("selection:dyo-end", args=[everyone["dyo"].pk]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 403, url
        assert not {n for n in ALL_NAMES if n in text_of(response)}, url
    assert client.post(urls[1], {"held_on": TODAY.isoformat()}).status_code == 403
    assert AuditEvent.objects.filter(action=AuditAction.DENIED).count() >= len(urls) + 1
    assert not PanelDecision.objects.exists()


@pytest.mark.parametrize("role", [Role.KEY_WORKER, Role.POLICE_OFFICER])
def test_readers_who_do_not_decide_are_refused_the_forms(client, everyone, role):
    sign_in(client, staff(role))
    for url in (
        reverse("selection:dyo-mark", args=[everyone["teen"].pk]),
        reverse("selection:dyo-end", args=[everyone["dyo"].pk]),
    ):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"held_on": TODAY.isoformat()}).status_code == 403, url
    assert not PanelDecision.objects.exists()


def test_the_mark_form_as_yot(client, everyone, yot):
    teen = everyone["teen"]
    teen.asset_score = 38
    teen.save()
    sign_in(client, yot)
    response = client.get(reverse("selection:dyo-mark", args=[teen.pk]))
    assert response.status_code == 200
    page = text_of(response)
    assert "Mark as a Deter Young Offender" in page
    assert "13 June 2026" in page  # turns 18 on
    assert 'name="asset_score"' in page and 'value="38"' in page
    assert 'type="radio" value="intensive"' in page
    assert re.search(r'name="form_token" value="[0-9a-f-]{36}"', page)
    assert 'value="2026-06-12"' in page
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, record_ids=[teen.pk], detail__page="dyo-mark"
    ).exists()


def test_the_forms_say_when_they_do_not_apply_today(client, everyone, yot):
    sign_in(client, yot)
    page = text_of(client.get(reverse("selection:dyo-mark", args=[everyone["dyo"].pk])))
    assert "is on a tier today (DYO)" in page and 'name="asset_score"' not in page
    page = text_of(client.get(reverse("selection:dyo-end", args=[everyone["teen"].pk])))
    assert "is not a Deter Young Offender today" in page and 'name="exit_route"' not in page


def test_a_yot_worker_gets_404_for_an_adult_outside_their_scope(client, everyone, yot):
    sign_in(client, yot)
    assert client.get(reverse("selection:dyo-mark", args=[everyone["adult"].pk])).status_code == 404
    assert client.get(reverse("selection:dyo-end", args=[everyone["adult"].pk])).status_code == 404
    response = client.post(
        reverse("selection:dyo-mark", args=[everyone["adult"].pk]),
        {"held_on": "2026-06-12", "asset_score": "30", "scaled_approach": "intensive"},
    )
    assert response.status_code == 404
    assert not PanelDecision.objects.exists()
    refusals = AuditEvent.objects.filter(
        action=AuditAction.DENIED,
        record_type="offenders.offender",
        record_ids=[everyone["adult"].pk],
    )
    assert refusals.count() == 3


def test_marking_from_the_page_posted_twice_saves_once(client, everyone, yot):
    teen = everyone["teen"]
    sign_in(client, yot)
    url = reverse("selection:dyo-mark", args=[teen.pk])
    data = {
        "form_token": str(uuid.uuid4()),
        "held_on": "2026-06-12",
        "asset_score": "39",
        "scaled_approach": "intensive",
    }
    first = client.post(url, data, follow=True)
    assert first.redirect_chain == [(reverse("selection:dyo"), 302)]
    assert "Qxteen Harrowby marked as a Deter Young Offender from 12 June 2026" in text_of(first)
    second = client.post(url, data, follow=True)
    assert second.redirect_chain == [(reverse("selection:dyo"), 302)]
    assert "already saved" in text_of(second)
    decision = PanelDecision.objects.get()
    assert (decision.kind, decision.asset_score, decision.panel.chair) == ("mark_dyo", 39, yot)
    assert ProgrammeEpisode.objects.filter(offender=teen).count() == 1
    assert SelectionPanel.objects.count() == 1


def test_a_bad_mark_shows_the_message_beside_the_field_and_saves_nothing(client, everyone, yot):
    sign_in(client, yot)
    url = reverse("selection:dyo-mark", args=[everyone["teen"].pk])
    response = client.post(
        url, {"held_on": "2026-06-12", "asset_score": "70", "scaled_approach": "intensive"}
    )
    assert response.status_code == 200
    page = text_of(response)
    assert "govuk-error-summary" in page
    assert (
        '<a href="#id_asset_score">The Asset score must be a whole number from 0 to 64</a>' in page
    )
    assert 'id="id_asset_score-error"' in page
    assert "<title>Error: " in page
    assert not PanelDecision.objects.exists() and not SelectionPanel.objects.exists()
    future = client.post(
        url, {"held_on": "2026-06-13", "asset_score": "30", "scaled_approach": "intensive"}
    )
    assert "cannot be in the future" in text_of(future)
    words = client.post(url, {"held_on": "2026-06-12", "asset_score": "lots"})
    assert "Enter the Asset score as a whole number" in text_of(words)
    assert not PanelDecision.objects.exists()


def test_ending_an_adult_dyo_from_the_page_and_posting_again(client, everyone, yot, lead):
    old = everyone["old_dyo"]
    sign_in(client, yot)
    url = reverse("selection:dyo-end", args=[old.pk])
    page = text_of(client.get(url))
    assert "Qx Probation North" in page and 'name="exit_strategy"' in page
    data = {
        "form_token": str(uuid.uuid4()),
        "held_on": "2026-06-12",
        "exit_route": "none",
        "exit_lead_agency": str(lead.pk),
        "exit_strategy": "Probation leads; housing referral",
        "exit_outcome": "",
    }
    first = client.post(url, data, follow=True)
    assert first.redirect_chain == [(reverse("selection:dyo"), 302)]
    assert "Qxolddyo Penrose is no longer a Deter Young Offender from 12 June 2026" in text_of(
        first
    )
    assert tier_on(old, TODAY) == ""
    # Now out of the YOT worker's scope, yet a second post is told it was saved, not 404.
    second = client.post(url, data, follow=True)
    assert second.redirect_chain == [(reverse("selection:dyo"), 302)]
    assert "already saved" in text_of(second)
    assert PanelDecision.objects.filter(kind=DecisionKind.END_DYO).count() == 1
    assert client.get(url).status_code == 404


def test_an_adult_exit_without_a_lead_agency_is_shown_the_rule(client, everyone, yot):
    sign_in(client, yot)
    url = reverse("selection:dyo-end", args=[everyone["old_dyo"].pk])
    response = client.post(
        url, {"held_on": "2026-06-12", "exit_route": "none", "exit_strategy": "A plan"}
    )
    page = text_of(response)
    assert response.status_code == 200
    assert '<a href="#id_exit_lead_agency">' in page
    assert "needs an exit strategy with one agency leading it (003 §7.5)" in page
    assert tier_on(everyone["old_dyo"], TODAY) == DYO


def test_the_dyo_page_runs_the_same_queries_however_many_dyos(client, everyone, yot):
    sign_in(client, yot)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("selection:dyo")).status_code == 200
        return len(captured)

    few = queries()
    for n in range(4):
        young = person(f"Qxmore{n}", "Tarrant", dt.date(2010, 1, 1 + n))
        ProgrammeEpisodeFactory(offender=young, kind=DYO, selected_on=dt.date(2026, 2, 1))
        person(f"Qxcand{n}", "Tarrant", dt.date(2010, 2, 1 + n))
    assert queries() == few
