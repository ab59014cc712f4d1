"""The pathways pages as each role sees them, against lists written out by hand of what
each role must and must not see (ACCESS.md "pathway needs and action plan"), and the
forms: errors in the summary, nothing saved, a stale edit keeps what was typed.

The scheme is pathways/tests/conftest.py's: Qxadult Penrose is the housing partner's
person (open referral to Northgate Housing); Qxother Tarrant is not.
"""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from access.models import AuditAction, AuditEvent, Role, Scheme
from offenders.models import ProgrammeKind
from pathways.models import Action, ActionStatus, Need, Referral
from tests.factories import OffenderFactory, ProgrammeEpisodeFactory, ReferralFactory, sign_in

from .conftest import TODAY
from .factories import ActionFactory, NeedFactory

pytestmark = pytest.mark.django_db

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
# The Action plan tab's status for (Qxadult Penrose, Qxother Tarrant). 403: the role
# reads no plans; 404: a reader, but not of this person.
PLAN_STATUS = {
    Role.PPO_MANAGER: (200, 200),
    Role.KEY_WORKER: (200, 200),
    Role.POLICE_OFFICER: (200, 200),
    Role.PRISON_WORKER: (404, 404),
    Role.YOT_WORKER: (404, 404),
    Role.PARTNER_WORKER: (200, 404),
    Role.STEERING_GROUP: (403, 403),
    Role.ADMINISTRATOR: (403, 403),
}
# Lists pages (my actions, overdue, providers): who may open them at all.
LISTS_STATUS = {
    Role.PPO_MANAGER: 200,
    Role.KEY_WORKER: 200,
    Role.POLICE_OFFICER: 200,
    Role.PRISON_WORKER: 200,
    Role.YOT_WORKER: 200,
    Role.PARTNER_WORKER: 200,
    Role.STEERING_GROUP: 403,
    Role.ADMINISTRATOR: 403,
}
# The gap view: the steering group sees counts only.
GAPS_STATUS = {**LISTS_STATUS, Role.STEERING_GROUP: 200}
# Whether the role is offered "Set a need" / "Add an action" on Qxadult Penrose's tab.
WRITES = {
    Role.PPO_MANAGER: True,
    Role.KEY_WORKER: True,
    Role.POLICE_OFFICER: False,
    Role.PARTNER_WORKER: True,
}


def _plan(world) -> str:
    return reverse("pathways:person", args=[world.ppo.pk])


@pytest.mark.parametrize("role", ROLES)
def test_the_action_plan_tab_per_role(client, world, role):
    sign_in(client, world.by_role(role))
    adult = client.get(_plan(world)).status_code
    other = client.get(reverse("pathways:person", args=[world.other.pk])).status_code
    assert (adult, other) == PLAN_STATUS[role]
    for name, expected in (
        ("pathways:my-actions", LISTS_STATUS[role]),
        ("pathways:overdue-actions", LISTS_STATUS[role]),
        ("pathways:providers", LISTS_STATUS[role]),
        ("pathways:gaps", GAPS_STATUS[role]),
    ):
        assert client.get(reverse(name)).status_code == expected, name


@pytest.mark.parametrize("role", list(WRITES))
def test_writing_is_offered_only_to_those_who_may_write(client, world, role):
    sign_in(client, world.by_role(role))
    page = client.get(_plan(world)).content.decode()
    assert ("Set a need" in page) is WRITES[role]
    assert ("Add an action" in page) is WRITES[role]


def test_the_tab_is_offered_on_the_overview_to_plan_readers(client, world):
    sign_in(client, world.police)
    assert (
        "Action plan"
        in client.get(reverse("offenders:detail", args=[world.ppo.pk])).content.decode()
    )


def test_the_tab_shows_needs_with_who_set_them_and_is_audited(client, world):
    NeedFactory(
        offender=world.ppo,
        pathway=world.accommodation,
        level="high",
        set_on=dt.date(2026, 2, 1),
        set_by=world.key_worker,
        set_by_agency=world.probation,
    )
    NeedFactory(
        offender=world.ppo,
        pathway=world.accommodation,
        level="low",
        set_on=dt.date(2026, 5, 1),
        set_by=world.housing_worker,
        set_by_agency=world.housing,
    )
    sign_in(client, world.police)
    page = html.unescape(client.get(_plan(world)).content.decode())
    assert f"set by {world.key_worker.get_full_name()}, Probation agency" in page
    assert f"by {world.housing_worker.get_full_name()}, Northgate Housing" in page
    assert AuditEvent.objects.filter(
        action=AuditAction.VIEW, user=world.police, detail__view="action plan"
    ).exists()


def test_a_partner_sees_only_its_own_actions_as_editable_and_its_own_referrals(client, world):
    theirs = ActionFactory(
        offender=world.ppo, owner_agency=world.probation, description="Probation-only action"
    )
    own = ActionFactory(
        offender=world.ppo, owner_agency=world.housing, description="Housing action"
    )
    ReferralFactory(
        offender=world.ppo,
        agency=world.treatment,
        provider=world.treatment_provider,
        pathway=world.drugs,
    )
    sign_in(client, world.housing_worker)
    page = client.get(_plan(world)).content.decode()
    # Reads every action of the plan (ACCESS.md "R all")…
    assert "Probation-only action" in page and "Housing action" in page
    # …but may update only its own agency's.
    assert reverse("pathways:action-update", args=[own.pk]) in page
    assert reverse("pathways:action-update", args=[theirs.pk]) not in page
    assert client.get(reverse("pathways:action-update", args=[theirs.pk])).status_code == 404
    # Needs only on the pathway it serves.
    assert f"?pathway={world.accommodation.pk}" in page
    assert (
        reverse("pathways:need-set", args=[world.ppo.pk]) + f"?pathway={world.finance.pk}"
        not in page
    )
    # Its own agency's referrals, not another agency's.
    assert "Northgate Supported Housing" in page
    assert "Riverside Recovery" not in page


def _my_and_overdue(world):
    yesterday = TODAY - dt.timedelta(days=1)
    return {
        "mine_named": ActionFactory(
            offender=world.ppo,
            owner_agency=world.housing,
            owner=world.housing_worker,
            due_on=yesterday,
            description="Named to me",
        ),
        "agency_unnamed": ActionFactory(
            offender=world.ppo,
            owner_agency=world.housing,
            due_on=TODAY,
            description="Agency unnamed",
        ),
        "probation": ActionFactory(
            offender=world.ppo,
            owner_agency=world.probation,
            due_on=yesterday,
            description="Probation overdue",
        ),
        "out_of_scope": ActionFactory(
            offender=world.other,
            owner_agency=world.housing,
            due_on=yesterday,
            description="Someone else's person",
        ),
        "done": ActionFactory(
            offender=world.ppo,
            owner_agency=world.housing,
            owner=world.housing_worker,
            due_on=yesterday,
            status=ActionStatus.DONE,
            finished_on=yesterday,
            outcome="ok",
            description="Already done",
        ),
    }


def test_my_actions_for_a_partner(client, world):
    _my_and_overdue(world)
    sign_in(client, world.housing_worker)
    page = client.get(reverse("pathways:my-actions")).content.decode()
    assert "Named to me" in page and "Agency unnamed" in page
    for hidden in ("Probation overdue", "Someone else&#x27;s person", "Already done", "Qxother"):
        assert hidden not in page


def test_overdue_actions_per_role(client, world):
    _my_and_overdue(world)
    sign_in(client, world.manager)
    page = client.get(reverse("pathways:overdue-actions")).content.decode()
    assert (
        "Named to me" in page
        and "Probation overdue" in page
        and "Someone else&#x27;s person" in page
    )
    # Due today is not yet overdue; done is not overdue.
    assert "Agency unnamed" not in page and "Already done" not in page
    client.logout()
    sign_in(client, world.housing_worker)
    page = client.get(reverse("pathways:overdue-actions")).content.decode()
    assert "Named to me" in page
    for hidden in ("Probation overdue", "Someone else&#x27;s person", "Qxother"):
        assert hidden not in page


def _many_actions(world, n):
    for _ in range(n):
        person = OffenderFactory()
        ProgrammeEpisodeFactory(offender=person, kind=ProgrammeKind.PPO)
        ActionFactory(
            offender=person,
            owner_agency=world.probation,
            owner=world.key_worker,
            due_on=TODAY - dt.timedelta(days=2),
        )
        NeedFactory(offender=person, pathway=world.finance, level="high")


def _count(client, url):
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "name",
    ["pathways:my-actions", "pathways:overdue-actions", "pathways:gaps", "pathways:providers"],
)
def test_list_pages_run_a_fixed_number_of_queries(client, world, name):
    sign_in(client, world.key_worker)
    _many_actions(world, 3)
    few = _count(client, reverse(name))
    _many_actions(world, 20)
    assert _count(client, reverse(name)) == few


def test_the_gap_view_names_only_people_in_scope(client, world):
    # Penrose: high on Finance, which no provider serves; high on Accommodation with an
    # open referral (no gap). Tarrant: medium on Accommodation, no referral on it.
    NeedFactory(offender=world.ppo, pathway=world.finance, level="high")
    NeedFactory(offender=world.ppo, pathway=world.accommodation, level="high")
    NeedFactory(offender=world.other, pathway=world.accommodation, level="medium")
    # An earlier high need later lowered is not a gap.
    NeedFactory(offender=world.other, pathway=world.drugs, level="high", set_on=dt.date(2026, 1, 1))
    NeedFactory(offender=world.other, pathway=world.drugs, level="low", set_on=dt.date(2026, 3, 1))
    sign_in(client, world.manager)
    page = client.get(reverse("pathways:gaps")).content.decode()
    assert "No provider serves this pathway" in page
    assert "No open referral on this pathway" in page
    assert "Qxadult Penrose" in page and "Qxother Tarrant" in page
    client.logout()
    sign_in(client, world.housing_worker)
    page = client.get(reverse("pathways:gaps")).content.decode()
    assert "Qxadult Penrose" in page
    assert "Qxother" not in page
    client.logout()
    sign_in(client, world.steering)
    page = client.get(reverse("pathways:gaps")).content.decode()
    assert "Qxadult" not in page and "Qxother" not in page
    assert "Counts for the whole scheme" in page


def test_the_gap_view_counts(world):
    from access.policy import actor_for
    from pathways.selectors import gap_view

    NeedFactory(offender=world.ppo, pathway=world.finance, level="high")
    NeedFactory(offender=world.ppo, pathway=world.accommodation, level="high")
    NeedFactory(offender=world.other, pathway=world.accommodation, level="medium")
    NeedFactory(offender=world.other, pathway=world.finance, level="low")
    view = gap_view(user=actor_for(world.manager))
    counts = {gap.pathway.code: gap.count for gap in view.pathways}
    assert counts["finance"] == 1 and counts["accommodation"] == 1 and counts["drugs_alcohol"] == 0
    accommodation = next(g for g in view.pathways if g.pathway.code == "accommodation")
    assert [p.offender_id for p in accommodation.people] == [world.other.pk]
    steering = gap_view(user=actor_for(world.steering))
    assert steering.total == 2 and all(not g.people for g in steering.pathways)


def test_the_providers_directory_shows_capacity_in_use(client, world):
    sign_in(client, world.police)
    page = html.unescape(client.get(reverse("pathways:providers")).content.decode())
    assert "four dwellings reserved for DIP/PPO clients" in page
    from pathways.selectors import provider_directory

    rows = {row.provider.name: row for row in provider_directory(user=world.police)}
    assert rows["Northgate Supported Housing"].in_use == 1
    assert rows["Northgate Supported Housing"].places_left == 3


# --- forms ------------------------------------------------------------------------------------


def _date(prefix, day):
    return {f"{prefix}-day": day.day, f"{prefix}-month": day.month, f"{prefix}-year": day.year}


def test_a_need_is_set_from_the_form(client, world):
    sign_in(client, world.housing_worker)
    url = reverse("pathways:need-set", args=[world.ppo.pk])
    response = client.post(
        url, {"pathway": world.accommodation.pk, "level": "high", "note": "Sofa surfing"}
    )
    assert response.status_code == 302
    assert Need.objects.get().note == "Sofa surfing"


def test_a_partner_cannot_post_a_need_on_a_pathway_it_does_not_serve(client, world):
    sign_in(client, world.housing_worker)
    url = reverse("pathways:need-set", args=[world.ppo.pk])
    response = client.post(url, {"pathway": world.finance.pk, "level": "high"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "govuk-error-summary" in page and "Choose a pathway from the list" in page
    assert not Need.objects.exists()


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("owner_agency", "Choose the agency that owns the action"),
        ("due_on", "Enter the date the action is due"),
    ],
)
def test_an_action_without_owner_or_due_date_is_refused_on_the_page(
    client, world, missing, message
):
    sign_in(client, world.key_worker)
    data = {
        "pathway": world.accommodation.pk,
        "description": "Bid for a flat",
        "owner_agency": world.housing.pk,
        **_date("due_on", dt.date(2026, 7, 1)),
    }
    if missing == "due_on":
        for part in ("day", "month", "year"):
            data.pop(f"due_on-{part}")
    else:
        data.pop(missing)
    response = client.post(reverse("pathways:action-create", args=[world.ppo.pk]), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "govuk-error-summary" in page and message in page
    assert "Bid for a flat" in page  # what was typed is kept
    assert not Action.objects.exists()


def test_a_due_date_in_the_past_is_refused_by_the_service_on_the_page(client, world):
    sign_in(client, world.key_worker)
    data = {
        "pathway": world.accommodation.pk,
        "description": "Bid",
        "owner_agency": world.housing.pk,
        **_date("due_on", dt.date(2026, 6, 1)),
    }
    response = client.post(reverse("pathways:action-create", args=[world.ppo.pk]), data)
    assert "The due date cannot be in the past" in response.content.decode()
    assert not Action.objects.exists()


def _update_data(action, **overrides):
    data = {
        "version": action.version,
        "status": action.status,
        "outcome": action.outcome,
        "description": action.description,
        "owner_agency": action.owner_agency_id,
        "owner": action.owner_id or "",
        **_date("due_on", action.due_on),
    }
    data.update(overrides)
    return data


def test_two_people_editing_an_action_at_once(client, world):
    action = ActionFactory(
        offender=world.ppo, owner_agency=world.housing, description="Bid for a flat"
    )
    url = reverse("pathways:action-update", args=[action.pk])
    opened_at = _update_data(action)
    # The housing worker saves first.
    sign_in(client, world.housing_worker)
    assert (
        client.post(url, {**opened_at, "status": "done", "outcome": "Tenancy signed"}).status_code
        == 302
    )
    client.logout()
    # The key worker, who opened the form at version 1, saves second.
    sign_in(client, world.key_worker)
    response = client.post(url, {**opened_at, "description": "Ring the council first"})
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    assert f"changed by {world.housing_worker.get_full_name()}" in page
    assert "Nothing was saved" in page
    assert 'data-testid="current-values"' in page and "Tenancy signed" in page
    assert "Ring the council first" in page  # what they typed is still in the form
    assert 'name="version" value="2"' in page
    action.refresh_from_db()
    assert (action.description, action.status, action.version) == ("Bid for a flat", "done", 2)


def test_a_referral_is_made_from_the_page_and_gives_the_agency_the_person(client, world):
    sign_in(client, world.key_worker)
    url = reverse("pathways:referral-create", args=[world.other.pk])
    page = client.get(url).content.decode()
    assert f'value="{world.housing_provider.pk}:{world.accommodation.pk}"' in page
    assert f'value="{world.housing_provider.pk}:{world.drugs.pk}"' not in page
    # A provider with a pathway it does not serve, posted by hand: refused, nothing saved.
    before = Referral.objects.count()
    bad = client.post(url, {"choice": f"{world.housing_provider.pk}:{world.drugs.pk}"})
    assert "govuk-error-summary" in bad.content.decode()
    assert Referral.objects.count() == before
    good = client.post(url, {"choice": f"{world.housing_provider.pk}:{world.accommodation.pk}"})
    assert good.status_code == 302
    assert Referral.objects.filter(offender=world.other, agency=world.housing).exists()


def test_closing_a_referral_is_confirmed_first_and_needs_an_outcome(client, world):
    referral = Referral.objects.get(offender=world.ppo)
    url = reverse("pathways:referral-update", args=[referral.pk])
    sign_in(client, world.housing_worker)
    unconfirmed = client.post(url, {"version": 1, "status": "completed", "outcome": "Housed"})
    assert "Confirm that you want to close the referral" in unconfirmed.content.decode()
    no_outcome = client.post(url, {"version": 1, "status": "completed", "confirm_close": "on"})
    assert "Enter the outcome of the referral" in no_outcome.content.decode()
    referral.refresh_from_db()
    assert referral.closed_on is None
    done = client.post(
        url, {"version": 1, "status": "completed", "outcome": "Housed", "confirm_close": "on"}
    )
    assert done.status_code == 302
    referral.refresh_from_db()
    assert (referral.status, referral.closed_on) == ("completed", TODAY)


def test_a_stale_referral_save_shows_the_current_status(client, world):
    referral = Referral.objects.get(offender=world.ppo)
    url = reverse("pathways:referral-update", args=[referral.pk])
    sign_in(client, world.key_worker)
    assert client.post(url, {"version": 1, "status": "accepted"}).status_code == 302
    response = client.post(url, {"version": 1, "status": "made", "outcome": "Typed note"})
    page = response.content.decode()
    assert "changed by someone else since you opened it" in page
    assert "Typed note" in page and 'name="version" value="2"' in page


def test_the_action_plan_tab_runs_a_fixed_number_of_queries(client, world):
    # The referrals' clocks read the scheme's standards: made here, not on the first count.
    Scheme.current()
    sign_in(client, world.housing_worker)
    few = _count(client, _plan(world))
    for _ in range(15):
        ActionFactory(offender=world.ppo, owner_agency=world.housing)
        NeedFactory(offender=world.ppo, pathway=world.finance)
        ReferralFactory(offender=world.ppo, agency=world.housing, pathway=world.accommodation)
    assert _count(client, _plan(world)) == few
