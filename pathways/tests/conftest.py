"""A small scheme for the pathways tests, written out by hand:

* Qxadult Penrose, a PPO since 1 January 2025, referred on 1 January 2026 to Northgate
  Housing (Accommodation): the housing partner's person.
* Qxother Tarrant, a PPO since 1 January 2025, referred only to the treatment agency
  (Drugs and Alcohol): the treatment partner's person, never the housing partner's.

Northgate Housing serves Accommodation; the treatment agency serves Drugs and Alcohol.
"Today" is 12 June 2026.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
import time_machine

from access.models import AgencyKind, Role
from offenders.models import ProgrammeKind
from pathways.models import Pathway
from tests.factories import (
    AgencyFactory,
    OffenderFactory,
    ProgrammeEpisodeFactory,
    ReferralFactory,
    staff,
)

from .factories import ProviderFactory

TODAY = dt.date(2026, 6, 12)


@pytest.fixture
def today() -> Any:
    with time_machine.travel(dt.datetime(2026, 6, 12, 12, 0, tzinfo=dt.UTC), tick=False):
        yield TODAY


@dataclass
class World:
    probation: Any
    housing: Any
    treatment: Any
    manager: Any
    key_worker: Any
    police: Any
    prison: Any
    yot: Any
    housing_worker: Any
    treatment_worker: Any
    steering: Any
    administrator: Any
    ppo: Any
    other: Any
    housing_provider: Any
    treatment_provider: Any
    accommodation: Any
    drugs: Any
    finance: Any

    def by_role(self, role: str) -> Any:
        return {
            Role.PPO_MANAGER: self.manager,
            Role.KEY_WORKER: self.key_worker,
            Role.POLICE_OFFICER: self.police,
            Role.PRISON_WORKER: self.prison,
            Role.YOT_WORKER: self.yot,
            Role.PARTNER_WORKER: self.housing_worker,
            Role.STEERING_GROUP: self.steering,
            Role.ADMINISTRATOR: self.administrator,
        }[role]


@pytest.fixture
def world(db: Any, today: dt.date) -> World:
    accommodation = Pathway.objects.get(code="accommodation")
    drugs = Pathway.objects.get(code="drugs_alcohol")
    probation = AgencyFactory(name="Probation agency", kind=AgencyKind.PROBATION)
    housing = AgencyFactory(name="Northgate Housing", kind=AgencyKind.HOUSING)
    housing.pathways_served.set([accommodation])
    treatment = AgencyFactory(name="Treatment / CJIT agency", kind=AgencyKind.TREATMENT)
    treatment.pathways_served.set([drugs])
    ppo = OffenderFactory(first_name="Qxadult", last_name="Penrose")
    other = OffenderFactory(first_name="Qxother", last_name="Tarrant")
    for person in (ppo, other):
        ProgrammeEpisodeFactory(
            offender=person, kind=ProgrammeKind.PPO, selected_on=dt.date(2025, 1, 1)
        )
    housing_provider = ProviderFactory(
        name="Northgate Supported Housing",
        agency=housing,
        serves=["accommodation"],
        reserved_places=4,
        reserved_note="four dwellings reserved for DIP/PPO clients",
    )
    treatment_provider = ProviderFactory(
        name="Riverside Recovery", agency=treatment, serves=["drugs_alcohol"]
    )
    ReferralFactory(
        offender=ppo,
        agency=housing,
        provider=housing_provider,
        pathway=accommodation,
        opened_on=dt.date(2026, 1, 1),
    )
    ReferralFactory(
        offender=other,
        agency=treatment,
        provider=treatment_provider,
        pathway=drugs,
        opened_on=dt.date(2026, 1, 1),
    )
    return World(
        probation=probation,
        housing=housing,
        treatment=treatment,
        manager=staff(Role.PPO_MANAGER, probation, username="manager"),
        key_worker=staff(Role.KEY_WORKER, probation, username="keyworker"),
        police=staff(Role.POLICE_OFFICER, username="police"),
        prison=staff(Role.PRISON_WORKER, username="prison"),
        yot=staff(Role.YOT_WORKER, username="yot"),
        housing_worker=staff(Role.PARTNER_WORKER, housing, username="housing"),
        treatment_worker=staff(Role.PARTNER_WORKER, treatment, username="treatment"),
        steering=staff(Role.STEERING_GROUP, username="steering"),
        administrator=staff(Role.ADMINISTRATOR, username="admin"),
        ppo=ppo,
        other=other,
        housing_provider=housing_provider,
        treatment_provider=treatment_provider,
        accommodation=accommodation,
        drugs=drugs,
        finance=Pathway.objects.get(code="finance"),
    )
