"""Whether under-18s may be PPOs is the scheme's setting (003 §7.6-7.8), off by default:
§7.8 leans to managing all juveniles as DYOs. Tested at the 18th birthday: the panel meets on
10 June 2026; someone born on 11 June 2008 is 17 that day, someone born on 10 June 2008 is 18.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from access.errors import ApplicationError
from access.models import Role, Scheme
from offenders.models import ProgrammeEpisode, ProgrammeKind
from selection import panel as panels
from selection.models import DecisionKind, PanelDecision
from tests.factories import OffenderFactory, ProgrammeEpisodeFactory, staff

pytestmark = pytest.mark.django_db

HELD_ON = dt.date(2026, 6, 10)
SEVENTEEN = dt.date(2008, 6, 11)  # 18 the day after the panel
EIGHTEEN = dt.date(2008, 6, 10)  # 18 on the panel's date


@pytest.fixture(autouse=True)
def on_the_day():
    with time_machine.travel(dt.datetime(2026, 6, 12, 12, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def manager():
    return staff(Role.PPO_MANAGER)


@pytest.fixture
def panel(manager):
    return panels.panel_create(user=manager, held_on=HELD_ON, chair_id=manager.pk)


def allow_under_18s(allowed: bool) -> None:
    scheme = Scheme.current()
    scheme.under_18s_may_be_ppos = allowed
    scheme.save()


def decide(manager, panel, person, kind):
    # Every decision here departs from a ranking nobody ran, so each gives its reason.
    return panels.panel_decide(
        user=manager, panel_id=panel.pk, offender_id=person.pk, kind=kind, reason="Panel view"
    )


def tier_on(person, day):
    episode = ProgrammeEpisode.objects.filter(offender=person).open_on(day).first()
    return episode.kind if episode else ""


def test_by_default_under_18s_are_not_ppos():
    # 003 §7.8: juveniles managed as DYOs through Prevent and Deter.
    assert Scheme.current().under_18s_may_be_ppos is False


@pytest.mark.parametrize(
    ("from_tier", "kind"),
    [
        ("", DecisionKind.SELECT),  # from the known-offender pool
        (ProgrammeKind.DYO, DecisionKind.SELECT),
        (ProgrammeKind.IOM, DecisionKind.STEP_UP),
    ],
)
def test_the_day_before_the_18th_birthday_is_refused_and_the_day_itself_is_not(
    manager, panel, from_tier, kind
):
    teen = OffenderFactory(first_name="Qxteen", last_name="Qxyoung", date_of_birth=SEVENTEEN)
    adult = OffenderFactory(date_of_birth=EIGHTEEN)
    for person in (teen, adult):
        if from_tier:
            ProgrammeEpisodeFactory(
                offender=person, kind=from_tier, selected_on=dt.date(2025, 1, 1)
            )
    with pytest.raises(ApplicationError) as refused:
        decide(manager, panel, teen, kind)
    message = refused.value.message
    assert "Qxteen Qxyoung is under 18 on 10 June 2026 (18 on 11 June 2026)" in message
    assert "003 §7.8" in message
    assert refused.value.field_errors == {"kind": [message]}
    # Nothing saved: no decision, and the tier they were on is untouched.
    assert not PanelDecision.objects.filter(offender=teen).exists()
    assert tier_on(teen, HELD_ON) == from_tier

    decide(manager, panel, adult, kind)
    assert tier_on(adult, HELD_ON) == ProgrammeKind.PPO


@pytest.mark.parametrize(
    ("from_tier", "kind"),
    [
        ("", DecisionKind.SELECT),
        (ProgrammeKind.DYO, DecisionKind.SELECT),
        (ProgrammeKind.IOM, DecisionKind.STEP_UP),
    ],
)
def test_a_scheme_that_allows_under_18_ppos_selects_them(manager, panel, from_tier, kind):
    allow_under_18s(True)
    teen = OffenderFactory(date_of_birth=SEVENTEEN)
    if from_tier:
        ProgrammeEpisodeFactory(offender=teen, kind=from_tier, selected_on=dt.date(2025, 1, 1))
    decide(manager, panel, teen, kind)
    assert tier_on(teen, HELD_ON) == ProgrammeKind.PPO


def test_other_decisions_on_an_under_18_are_not_affected(manager, panel):
    teen = OffenderFactory(date_of_birth=SEVENTEEN)
    decide(manager, panel, teen, DecisionKind.DEFER)
    ppo = OffenderFactory(date_of_birth=SEVENTEEN)  # a PPO from before the setting changed
    ProgrammeEpisodeFactory(offender=ppo, selected_on=dt.date(2025, 1, 1))
    decide(manager, panel, ppo, DecisionKind.STEP_DOWN)
    assert tier_on(ppo, HELD_ON) == ProgrammeKind.IOM


def test_born_on_29_february_they_turn_18_on_1_march(manager):
    leap = OffenderFactory(date_of_birth=dt.date(2008, 2, 29))
    on_28th = panels.panel_create(user=manager, held_on=dt.date(2026, 2, 28), chair_id=manager.pk)
    with pytest.raises(ApplicationError, match=r"\(18 on 1 March 2026\)"):
        decide(manager, on_28th, leap, DecisionKind.SELECT)
    on_1st = panels.panel_create(user=manager, held_on=dt.date(2026, 3, 1), chair_id=manager.pk)
    decide(manager, on_1st, leap, DecisionKind.SELECT)
    assert tier_on(leap, dt.date(2026, 3, 1)) == ProgrammeKind.PPO
