"""The pathways services: each refusal says what to do and saves nothing; versions,
finished_on, and who may write what (ACCESS.md "pathway needs and action plan")."""

from __future__ import annotations

import datetime as dt

import pytest

from access.errors import ApplicationError, NotPermitted, OutOfScope
from access.models import AuditAction, AuditEvent
from access.policy import actor_for, can_see_person
from pathways import services
from pathways.models import Action, ActionStatus, Need, Referral, ReferralStatus
from tests.factories import OffenderFactory, ProgrammeEpisodeFactory, UserFactory

from .conftest import TODAY
from .factories import ActionFactory, ProviderFactory

pytestmark = pytest.mark.django_db


def _field(error: ApplicationError) -> str:
    (name,) = error.field_errors
    return name


# --- needs ------------------------------------------------------------------------------------


def test_need_set_keeps_the_history_with_who_set_it(world):
    first = services.need_set(
        user=world.key_worker,
        offender_id=world.ppo.pk,
        pathway_id=world.accommodation.pk,
        level="high",
        as_of=dt.date(2026, 3, 1),
    )
    second = services.need_set(
        user=world.key_worker,
        offender_id=world.ppo.pk,
        pathway_id=world.accommodation.pk,
        level="low",
        note="Tenancy found",
    )
    rows = list(Need.objects.filter(offender=world.ppo).order_by("set_on"))
    assert [(n.level, n.set_on) for n in rows] == [("high", dt.date(2026, 3, 1)), ("low", TODAY)]
    assert second.set_by == world.key_worker
    assert second.set_by_agency == world.probation
    assert first.pk != second.pk
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, record_type="pathways.need", record_ids=[second.pk]
    ).exists()


def test_a_partner_sets_needs_only_on_the_pathways_it_serves(world):
    with pytest.raises(ApplicationError) as refused:
        services.need_set(
            user=world.housing_worker,
            offender_id=world.ppo.pk,
            pathway_id=world.finance.pk,
            level="high",
        )
    assert "does not serve the Finance pathway" in refused.value.message
    assert _field(refused.value) == "pathway"
    assert not Need.objects.exists()
    need = services.need_set(
        user=world.housing_worker,
        offender_id=world.ppo.pk,
        pathway_id=world.accommodation.pk,
        level="high",
    )
    assert need.set_by_agency == world.housing


def test_a_partner_cannot_set_a_need_for_someone_not_referred_to_it(world):
    with pytest.raises(OutOfScope):
        services.need_set(
            user=world.housing_worker,
            offender_id=world.other.pk,
            pathway_id=world.accommodation.pk,
            level="high",
        )
    assert not Need.objects.exists()


def test_police_read_needs_but_do_not_set_them(world):
    with pytest.raises(NotPermitted):
        services.need_set(
            user=world.police,
            offender_id=world.ppo.pk,
            pathway_id=world.accommodation.pk,
            level="high",
        )
    assert not Need.objects.exists()


def test_a_need_level_must_be_one_of_the_four(world):
    with pytest.raises(ApplicationError) as refused:
        services.need_set(
            user=world.manager,
            offender_id=world.ppo.pk,
            pathway_id=world.accommodation.pk,
            level="severe",
        )
    assert _field(refused.value) == "level"
    assert not Need.objects.exists()


# --- creating actions -------------------------------------------------------------------------


def _create(world, **overrides):
    args = {
        "user": world.key_worker,
        "offender_id": world.ppo.pk,
        "pathway_id": world.accommodation.pk,
        "description": "Apply for supported housing",
        "owner_agency_id": world.housing.pk,
        "due_on": dt.date(2026, 7, 1),
    }
    args.update(overrides)
    return services.action_create(**args)


def test_an_action_is_created_owned_by_an_agency(world):
    action = _create(world, owner_id=world.housing_worker.pk)
    assert action.owner_agency == world.housing
    assert action.owner == world.housing_worker
    assert action.status == ActionStatus.OPEN
    assert action.version == 1
    assert action.created_by == world.key_worker
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, record_type="pathways.action", record_ids=[action.pk]
    ).exists()


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"owner_agency_id": None}, "owner_agency", "Choose the agency"),
        ({"due_on": None}, "due_on", "Enter the date the action is due"),
        (
            {"due_on": dt.date(2026, 6, 19), "not_before": dt.date(2026, 6, 20)},
            "due_on",
            "on or after the conference, 20 June 2026",
        ),
        ({"due_on": dt.date(2026, 6, 11)}, "due_on", "cannot be in the past"),
        ({"description": "   "}, "description", "Describe the action"),
    ],
)
def test_an_action_without_what_it_needs_is_refused(world, overrides, field, words):
    with pytest.raises(ApplicationError) as refused:
        _create(world, **overrides)
    assert words in refused.value.message
    assert _field(refused.value) == field
    assert not Action.objects.exists()


def test_an_action_may_be_due_on_the_day_of_the_conference(world):
    action = _create(world, due_on=dt.date(2026, 6, 20), not_before=dt.date(2026, 6, 20))
    assert action.due_on == dt.date(2026, 6, 20)


def test_an_action_may_be_due_today(world):
    assert _create(world, due_on=TODAY).due_on == TODAY


def test_the_owner_must_be_a_current_member_of_the_owner_agency(world):
    with pytest.raises(ApplicationError) as refused:
        _create(world, owner_id=world.key_worker.pk)  # probation, not housing
    assert "current member of Northgate Housing" in refused.value.message
    stranger = UserFactory()
    with pytest.raises(ApplicationError):
        _create(world, owner_id=stranger.pk)
    assert not Action.objects.exists()


def test_a_partner_adds_only_actions_its_own_agency_owns(world):
    with pytest.raises(ApplicationError) as refused:
        _create(world, user=world.housing_worker, owner_agency_id=world.probation.pk)
    assert _field(refused.value) == "owner_agency"
    assert not Action.objects.exists()
    own = _create(world, user=world.housing_worker, owner_agency_id=world.housing.pk)
    assert own.owner_agency == world.housing


def test_prison_staff_cannot_add_actions(world):
    with pytest.raises((NotPermitted, OutOfScope)):
        _create(world, user=world.prison)
    assert not Action.objects.exists()


# --- updating actions -------------------------------------------------------------------------


def test_an_update_bumps_the_version_and_records_who(world):
    action = _create(world)
    updated = services.action_update(
        user=world.housing_worker,
        action_id=action.pk,
        version=1,
        status=ActionStatus.IN_PROGRESS,
    )
    assert updated.version == 2
    assert updated.updated_by == world.housing_worker
    assert updated.finished_on is None


def test_a_stale_save_is_told_who_changed_it_and_saves_nothing(world):
    action = _create(world)
    # Two people open the action at version 1; the first saves.
    services.action_update(
        user=world.housing_worker, action_id=action.pk, version=1, description="Bid for a flat"
    )
    with pytest.raises(services.StaleAction) as stale:
        services.action_update(
            user=world.key_worker,
            action_id=action.pk,
            version=1,
            description="Ring the council",
            due_on=dt.date(2026, 8, 1),
        )
    message = stale.value.message
    housing_name = world.housing_worker.get_full_name()
    assert f"changed by {housing_name} on 12 June 2026" in message
    assert "Nothing was saved" in message
    assert stale.value.current.description == "Bid for a flat"
    action.refresh_from_db()
    assert (action.description, action.due_on, action.version) == (
        "Bid for a flat",
        dt.date(2026, 7, 1),
        2,
    )


def test_done_needs_an_outcome_and_sets_finished_on_reopening_clears_it(world):
    action = _create(world)
    with pytest.raises(ApplicationError) as refused:
        services.action_update(
            user=world.key_worker, action_id=action.pk, version=1, status=ActionStatus.DONE
        )
    assert _field(refused.value) == "outcome"
    action.refresh_from_db()
    assert (action.status, action.version) == (ActionStatus.OPEN, 1)

    done = services.action_update(
        user=world.key_worker,
        action_id=action.pk,
        version=1,
        status=ActionStatus.DONE,
        outcome="Tenancy signed",
        as_of=dt.date(2026, 6, 12),
    )
    assert done.finished_on == TODAY
    reopened = services.action_update(
        user=world.key_worker, action_id=action.pk, version=2, status=ActionStatus.OPEN
    )
    assert reopened.finished_on is None
    assert reopened.version == 3


def test_not_achieved_also_needs_an_outcome(world):
    action = _create(world)
    with pytest.raises(ApplicationError):
        services.action_update(
            user=world.key_worker, action_id=action.pk, version=1, status="not_achieved"
        )
    marked = services.action_update(
        user=world.key_worker,
        action_id=action.pk,
        version=1,
        status="not_achieved",
        outcome="Declined the tenancy",
    )
    assert marked.finished_on == TODAY


def test_a_partner_updates_only_its_own_agencys_actions(world):
    theirs = ActionFactory(offender=world.ppo, owner_agency=world.probation)
    with pytest.raises(NotPermitted):
        services.action_update(
            user=world.housing_worker, action_id=theirs.pk, version=1, status="in_progress"
        )
    theirs.refresh_from_db()
    assert theirs.status == ActionStatus.OPEN
    own = ActionFactory(offender=world.ppo, owner_agency=world.housing)
    with pytest.raises(ApplicationError):
        services.action_update(
            user=world.housing_worker,
            action_id=own.pk,
            version=1,
            owner_agency_id=world.probation.pk,
        )
    own.refresh_from_db()
    assert own.owner_agency == world.housing


def test_a_new_due_date_cannot_be_in_the_past(world):
    action = _create(world)
    with pytest.raises(ApplicationError) as refused:
        services.action_update(
            user=world.key_worker, action_id=action.pk, version=1, due_on=dt.date(2026, 6, 1)
        )
    assert _field(refused.value) == "due_on"


def test_unknown_changes_are_refused(world):
    action = _create(world)
    with pytest.raises(ApplicationError):
        services.action_update(
            user=world.key_worker, action_id=action.pk, version=1, offender_id=world.other.pk
        )


# --- referrals --------------------------------------------------------------------------------


def test_a_referral_takes_its_agency_from_the_provider_and_gives_it_the_person(world):
    newcomer = OffenderFactory()
    ProgrammeEpisodeFactory(offender=newcomer, selected_on=dt.date(2025, 1, 1))
    partner = actor_for(world.housing_worker)
    assert not can_see_person(partner, newcomer.pk)
    referral = services.referral_create(
        user=world.key_worker,
        offender_id=newcomer.pk,
        provider_id=world.housing_provider.pk,
        pathway_id=world.accommodation.pk,
        reason="Sleeping rough",
    )
    assert referral.agency == world.housing
    assert referral.opened_on == TODAY
    assert referral.referred_by == world.key_worker
    assert can_see_person(actor_for(world.housing_worker), newcomer.pk)


def test_a_referral_to_a_provider_that_does_not_serve_the_pathway_is_refused(world):
    before = Referral.objects.count()
    with pytest.raises(ApplicationError) as refused:
        services.referral_create(
            user=world.key_worker,
            offender_id=world.ppo.pk,
            provider_id=world.housing_provider.pk,
            pathway_id=world.drugs.pk,
        )
    assert "does not serve the Drugs and Alcohol pathway" in refused.value.message
    assert Referral.objects.count() == before


def test_a_referral_to_an_inactive_provider_is_refused(world):
    closed = ProviderFactory(agency=world.housing, serves=["accommodation"], active=False)
    before = Referral.objects.count()
    with pytest.raises(ApplicationError) as refused:
        services.referral_create(
            user=world.key_worker,
            offender_id=world.other.pk,
            provider_id=closed.pk,
            pathway_id=world.accommodation.pk,
        )
    assert "no longer takes referrals" in refused.value.message
    assert Referral.objects.count() == before


def test_a_second_open_referral_to_the_same_provider_is_refused(world):
    before = Referral.objects.count()
    with pytest.raises(ApplicationError):
        services.referral_create(
            user=world.key_worker,
            offender_id=world.ppo.pk,
            provider_id=world.housing_provider.pk,
            pathway_id=world.accommodation.pk,
        )
    assert Referral.objects.count() == before


def test_closing_a_referral_needs_an_outcome_and_sets_closed_on(world):
    referral = Referral.objects.get(offender=world.ppo)
    with pytest.raises(ApplicationError) as refused:
        services.referral_update(
            user=world.housing_worker,
            referral_id=referral.pk,
            version=1,
            status=ReferralStatus.COMPLETED,
        )
    assert _field(refused.value) == "outcome"
    referral.refresh_from_db()
    assert referral.closed_on is None
    closed = services.referral_update(
        user=world.housing_worker,
        referral_id=referral.pk,
        version=1,
        status=ReferralStatus.COMPLETED,
        outcome="Housed",
    )
    assert closed.closed_on == TODAY
    assert closed.version == 2
    with pytest.raises(ApplicationError):
        services.referral_update(
            user=world.manager, referral_id=referral.pk, version=2, status="accepted"
        )


def test_a_stale_referral_save_saves_nothing(world):
    referral = Referral.objects.get(offender=world.ppo)
    services.referral_update(
        user=world.key_worker, referral_id=referral.pk, version=1, status="accepted"
    )
    with pytest.raises(services.StaleReferral):
        services.referral_update(
            user=world.housing_worker,
            referral_id=referral.pk,
            version=1,
            status="declined",
            outcome="No space",
        )
    referral.refresh_from_db()
    assert (referral.status, referral.closed_on) == ("accepted", None)


def test_a_partner_updates_only_referrals_to_its_own_agency(world):
    theirs = Referral.objects.get(offender=world.other)
    with pytest.raises(OutOfScope):
        services.referral_update(
            user=world.housing_worker, referral_id=theirs.pk, version=1, status="accepted"
        )
    theirs.refresh_from_db()
    assert theirs.status == ReferralStatus.MADE
