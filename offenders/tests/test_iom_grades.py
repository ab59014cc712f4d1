"""IOM grades that follow the person (003 §5.6, issue 13.10): custody started -> grade
Blue; released -> re-grade; the "Red-graded now" list for the tasking meeting."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from access.models import AgencyKind, AuditAction, AuditEvent, Role
from offenders import services
from offenders.grades import REGRADE, TO_BLUE, grade_prompts, red_graded
from offenders.models import CustodyKind, GradeChange, IomGrade
from tests.factories import (
    AgencyFactory,
    CustodyEpisodeFactory,
    OffenderFactory,
    ProgrammeEpisodeFactory,
    ReferralFactory,
    sign_in,
    staff,
)

TODAY = dt.date(2026, 3, 4)


@pytest.fixture
def manager(db):
    return staff(Role.PPO_MANAGER, username="manager")


def ppo(grade, **fields):
    person = OffenderFactory(iom_grade=grade, **fields)
    ProgrammeEpisodeFactory(offender=person)
    return person


def prompts_by_person(user, as_of=TODAY):
    return {p.offender.pk: (p.kind, p.since) for p in grade_prompts(user=user, as_of=as_of)}


# --- the boundary: today, as the custody episode says -----------------------------------


def test_custody_started_today_prompts_blue(manager):
    person = ppo(IomGrade.RED)
    CustodyEpisodeFactory(offender=person, started_on=TODAY)
    assert prompts_by_person(manager) == {person.pk: (TO_BLUE, TODAY)}
    [prompt] = grade_prompts(user=manager, as_of=TODAY)
    assert prompt.message == (
        "In custody since 4 March 2026 but graded Red: grade them Blue (in custody)"
    )


def test_custody_starting_tomorrow_prompts_nothing_yet(manager):
    person = ppo(IomGrade.RED)
    CustodyEpisodeFactory(offender=person, started_on=TODAY + dt.timedelta(days=1))
    assert prompts_by_person(manager) == {}
    assert prompts_by_person(manager, as_of=TODAY + dt.timedelta(days=1)) == {
        person.pk: (TO_BLUE, TODAY + dt.timedelta(days=1))
    }


def test_remand_is_custody_too(manager):
    person = ppo(IomGrade.AMBER)
    CustodyEpisodeFactory(offender=person, kind=CustodyKind.REMAND, started_on=TODAY)
    assert prompts_by_person(manager) == {person.pk: (TO_BLUE, TODAY)}


def test_already_blue_in_custody_prompts_nothing(manager):
    person = ppo(IomGrade.BLUE)
    CustodyEpisodeFactory(offender=person, started_on=TODAY - dt.timedelta(days=30))
    assert prompts_by_person(manager) == {}


def test_released_today_and_still_blue_prompts_a_regrade(manager):
    person = ppo(IomGrade.BLUE)
    CustodyEpisodeFactory(
        offender=person, started_on=TODAY - dt.timedelta(days=90), released_on=TODAY
    )
    assert prompts_by_person(manager) == {person.pk: (REGRADE, TODAY)}


def test_released_tomorrow_is_still_in_custody_today(manager):
    person = ppo(IomGrade.BLUE)
    CustodyEpisodeFactory(
        offender=person,
        started_on=TODAY - dt.timedelta(days=90),
        released_on=TODAY + dt.timedelta(days=1),
    )
    assert prompts_by_person(manager) == {}


def test_released_and_regraded_prompts_nothing(manager):
    person = ppo(IomGrade.AMBER)
    CustodyEpisodeFactory(
        offender=person, started_on=TODAY - dt.timedelta(days=90), released_on=TODAY
    )
    assert prompts_by_person(manager) == {}


def test_blue_without_any_custody_prompts_a_regrade_with_no_release_date(manager):
    person = ppo(IomGrade.BLUE)
    [prompt] = grade_prompts(user=manager, as_of=TODAY)
    assert (prompt.offender, prompt.kind, prompt.since) == (person, REGRADE, None)
    assert "not in custody" in prompt.message


def test_prompts_are_only_for_people_in_scope_and_only_for_those_who_see_grades(manager):
    outsider = OffenderFactory(iom_grade=IomGrade.RED)  # on no scheme: not a key worker's
    CustodyEpisodeFactory(offender=outsider, started_on=TODAY)
    mine = ppo(IomGrade.GREEN)
    CustodyEpisodeFactory(offender=mine, started_on=TODAY)
    kw = staff(Role.KEY_WORKER)
    assert set(prompts_by_person(kw)) == {mine.pk}
    assert set(prompts_by_person(manager)) == {mine.pk, outsider.pk}
    partner = staff(Role.PARTNER_WORKER, agency=AgencyFactory(kind=AgencyKind.TREATMENT))
    ReferralFactory(offender=mine, agency=partner.memberships.get().agency)
    assert grade_prompts(user=partner, as_of=TODAY) == []


# --- the person's page, the change through the grade service -------------------------


def test_the_persons_page_prompts_and_the_change_clears_it(client, manager):
    person = ppo(IomGrade.RED)
    today = timezone.localdate()
    CustodyEpisodeFactory(offender=person, started_on=today)
    sign_in(client, manager)
    page = client.get(reverse("offenders:detail", args=[person.pk]))
    assert page.context["grade_prompt"].kind == TO_BLUE
    text = page.content.decode()
    assert 'data-testid="grade-prompt"' in text
    assert reverse("offenders:grade-change", args=[person.pk]) in text

    response = client.post(
        reverse("offenders:grade-change", args=[person.pk]),
        {"to_grade": "blue", "reason": "Sentenced today"},
    )
    assert response.status_code == 302
    change = GradeChange.objects.get(offender=person, to_grade=IomGrade.BLUE)
    assert (change.from_grade, change.changed_by) == (IomGrade.RED, manager)
    assert client.get(reverse("offenders:detail", args=[person.pk])).context["grade_prompt"] is None


def test_no_prompt_on_the_page_when_the_grade_agrees(client, manager):
    person = ppo(IomGrade.GREEN)
    page = sign_in(client, manager).get(reverse("offenders:detail", args=[person.pk]))
    assert page.context["grade_prompt"] is None
    assert 'data-testid="grade-prompt"' not in page.content.decode()


def test_the_people_list_links_the_grade_pages_with_the_count(client, manager):
    released = ppo(IomGrade.BLUE)
    CustodyEpisodeFactory(
        offender=released,
        started_on=timezone.localdate() - dt.timedelta(days=60),
        released_on=timezone.localdate(),
    )
    ppo(IomGrade.RED)
    response = sign_in(client, manager).get(reverse("offenders:list"))
    text = response.content.decode()
    assert reverse("offenders:red-graded") in text
    assert "IOM grades to change after custody: 1" in text
    listed = client.get(reverse("offenders:grade-prompts"))
    assert [p.offender for p in listed.context["prompts"]] == [released]
    assert "re-grade them Red, Amber or Green" in listed.content.decode()


# --- Red-graded now ---------------------------------------------------------------------


def test_red_graded_now_lists_only_red_in_the_community_first(manager):
    in_prison = ppo(IomGrade.RED, last_name="Able")
    CustodyEpisodeFactory(offender=in_prison, started_on=TODAY - dt.timedelta(days=5))
    earlier = ppo(IomGrade.GREEN, last_name="Baker")
    services.grade_change(user=manager, offender_id=earlier.pk, to_grade="red", reason="Arrested")
    later = ppo(IomGrade.RED, last_name="Cole")
    ppo(IomGrade.AMBER)
    ppo(IomGrade.BLUE)
    rows = red_graded(user=manager, as_of=TODAY)
    # Baker's Red is recorded; Cole's (set when added, with no history here) is not.
    assert [r.offender for r in rows] == [earlier, later, in_prison]
    assert rows[0].red_since is not None and rows[1].red_since is None


def test_red_graded_now_is_scoped_audited_and_refused_to_those_without_grades(client, manager):
    mine = ppo(IomGrade.RED)
    outsider = OffenderFactory(iom_grade=IomGrade.RED)
    kw = staff(Role.KEY_WORKER)
    response = sign_in(client, kw).get(reverse("offenders:red-graded"))
    assert response.status_code == 200
    assert [r.offender for r in response.context["rows"]] == [mine]
    assert outsider.full_name not in response.content.decode()
    event = AuditEvent.objects.filter(action=AuditAction.LIST, user=kw).latest("pk")
    assert event.detail.get("view") == "Red-graded now"

    steering = staff(Role.STEERING_GROUP)
    assert sign_in(client, steering).get(reverse("offenders:red-graded")).status_code == 403
    assert client.get(reverse("offenders:grade-prompts")).status_code == 403
