"""The partner API against ACCESS.md, role by role (issue 12 "Done when").

The table below is written from shared/ACCESS.md by hand, not from access/policy.py: for
each agency role, which of a small world's people and records its API client may list,
whether it may read one person, and what a create answers. An API client acts with
exactly the scope of its agency's role (ACCESS.md "API client"), so the expectations are
the staff role's: YOT only under-18s and DYOs; a treatment client only the people
referred to it, and no intelligence; a steering client no person at all.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from access.models import Agency, AgencyKind, AuditAction, AuditEvent, Role
from offenders.models import (
    Contact,
    CustodyEpisode,
    CustodyKind,
    DrugTest,
    EventKind,
    OffendingEvent,
    ProgrammeKind,
)
from pathways.models import Pathway
from tests.api_clients import Api, fresh_throttle_counts, make_api_client  # noqa: F401
from tests.factories import (
    AgencyFactory,
    ContactFactory,
    CustodyEpisodeFactory,
    DrugTestFactory,
    OffenceCategoryFactory,
    OffenderFactory,
    OffendingEventFactory,
    ProgrammeEpisodeFactory,
    ReferralFactory,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
AN_HOUR_AGO = timezone.now() - dt.timedelta(hours=1)


@dataclass
class World:
    agencies: dict[str, Agency]
    people: dict[str, Any]
    records: dict[str, Any]


def build_world() -> World:
    OffenceCategoryFactory()
    ag = {
        "police": AgencyFactory(name="Northshire Police", kind=AgencyKind.POLICE),
        "probation": AgencyFactory(name="Northshire Probation", kind=AgencyKind.PROBATION),
        "prison": AgencyFactory(name="HMP Northgate", kind=AgencyKind.PRISON),
        "other_prison": AgencyFactory(name="HMP Southgate", kind=AgencyKind.PRISON),
        "yot": AgencyFactory(name="Northshire YOT", kind=AgencyKind.YOT),
        "treatment": AgencyFactory(name="Northshire CJIT", kind=AgencyKind.TREATMENT),
        "housing": AgencyFactory(name="Northshire Housing", kind=AgencyKind.HOUSING),
        "council": AgencyFactory(name="Northshire Council", kind=AgencyKind.LOCAL_AUTHORITY),
    }
    people = {
        # A current PPO, in custody at HMP Northgate, referred to the CJIT.
        "ppo": OffenderFactory(date_of_birth=dt.date(1990, 5, 5)),
        # A former PPO at liberty: a prison recognises them on arrival.
        "former": OffenderFactory(date_of_birth=dt.date(1988, 3, 3)),
        # The known-offender pool: police data, nobody else's.
        "pool": OffenderFactory(date_of_birth=dt.date(1985, 1, 1)),
        # Fifteen, on no tier.
        "youth": OffenderFactory(date_of_birth=dt.date(TODAY.year - 15, 1, 1)),
        # Nineteen, a Deter Young Offender still on the scheme.
        "dyo": OffenderFactory(date_of_birth=dt.date(TODAY.year - 19, 1, 1)),
        # In the pool, referred to housing only.
        "housed": OffenderFactory(date_of_birth=dt.date(1992, 2, 2)),
    }
    ProgrammeEpisodeFactory(offender=people["ppo"], selected_on=dt.date(2024, 1, 1))
    ProgrammeEpisodeFactory(
        offender=people["former"],
        selected_on=dt.date(2022, 1, 1),
        deselected_on=dt.date(2023, 1, 1),
        deselection_reason="stopped_offending",
    )
    ProgrammeEpisodeFactory(
        offender=people["dyo"], kind=ProgrammeKind.DYO, selected_on=dt.date(TODAY.year - 2, 1, 1)
    )
    CustodyEpisodeFactory(
        offender=people["ppo"],
        establishment=ag["other_prison"],
        kind=CustodyKind.SENTENCE,
        started_on=dt.date(2023, 1, 1),
        released_on=dt.date(2023, 6, 1),
    )
    CustodyEpisodeFactory(
        offender=people["ppo"],
        establishment=ag["prison"],
        started_on=dt.date(2025, 1, 1),
        expected_release_on=dt.date(TODAY.year + 1, 6, 1),
    )
    ReferralFactory(offender=people["ppo"], agency=ag["treatment"])
    ReferralFactory(
        offender=people["housed"],
        agency=ag["housing"],
        pathway=Pathway.objects.get(code="accommodation"),
    )
    rec: dict[str, Any] = {}
    for who in ("ppo", "youth", "pool"):
        rec[f"{who}_arrest"] = OffendingEventFactory(
            offender=people[who], source_agency=ag["police"], occurred_on=dt.date(2025, 6, 1)
        )
    for who in ("ppo", "youth"):
        rec[f"{who}_intel"] = OffendingEventFactory(
            offender=people[who],
            kind=EventKind.INTELLIGENCE,
            category=None,
            source_agency=ag["police"],
            occurred_on=dt.date(2025, 7, 1),
        )
    for by in ("probation", "prison", "treatment"):
        rec[f"ppo_contact_{by}"] = ContactFactory(
            offender=people["ppo"], agency=ag[by], occurred_at=AN_HOUR_AGO
        )
    rec["youth_contact_yot"] = ContactFactory(
        offender=people["youth"], agency=ag["yot"], occurred_at=AN_HOUR_AGO
    )
    rec["ppo_test"] = DrugTestFactory(
        offender=people["ppo"], agency=ag["probation"], tested_at=AN_HOUR_AGO
    )
    rec["youth_test"] = DrugTestFactory(
        offender=people["youth"], agency=ag["yot"], tested_at=AN_HOUR_AGO
    )
    return World(ag, people, rec)


# Each role's client and the agency it belongs to.
CLIENTS = {
    "police": (Role.POLICE_OFFICER, "police"),
    "key_worker": (Role.KEY_WORKER, "probation"),
    "manager": (Role.PPO_MANAGER, "probation"),
    "prison": (Role.PRISON_WORKER, "prison"),
    "yot": (Role.YOT_WORKER, "yot"),
    "treatment": (Role.PARTNER_WORKER, "treatment"),
    "housing": (Role.PARTNER_WORKER, "housing"),
    "steering": (Role.STEERING_GROUP, "council"),
}

EVERYONE = {"ppo", "former", "pool", "youth", "dyo", "housed"}
ALL_EVENTS = {"ppo_arrest", "ppo_intel", "youth_arrest", "youth_intel", "pool_arrest"}
ALL_CONTACTS = {"ppo_contact_probation", "ppo_contact_prison", "ppo_contact_treatment"} | {
    "youth_contact_yot"
}
PPO_CONTACTS = {"ppo_contact_probation", "ppo_contact_prison", "ppo_contact_treatment"}

# ACCESS.md, by hand. people / events / contacts / tests: what the list holds.
# custody: how many episodes the list holds. read: GET people/<ppo>/.
# write_*: the status of a create for the PPO (a reception: for the former PPO).
TABLE: dict[str, dict[str, Any]] = {
    "police": {
        "people": EVERYONE,
        "events": ALL_EVENTS,
        "contacts": ALL_CONTACTS,
        "tests": {"ppo_test", "youth_test"},
        "custody": 2,
        "read": 200,
        "write_contact": 201,
        "write_test": 403,  # drug tests: R
        "write_event": 201,
        "write_reception": 403,
    },
    "key_worker": {
        "people": {"ppo", "former", "dyo"},
        "events": {"ppo_arrest"},  # intelligence: counts only
        "contacts": PPO_CONTACTS,
        "tests": {"ppo_test"},
        "custody": 2,
        "read": 200,
        "write_contact": 201,
        "write_test": 201,
        "write_event": 403,  # offending: R
        "write_reception": 403,
    },
    "manager": {
        "people": EVERYONE,
        "events": ALL_EVENTS,
        "contacts": ALL_CONTACTS,
        "tests": {"ppo_test", "youth_test"},
        "custody": 2,
        "read": 200,
        "write_contact": 201,
        "write_test": 201,
        "write_event": 201,
        "write_reception": 403,
    },
    "prison": {
        "people": {"ppo"},  # a PPO with an open custody episode in its establishment
        "events": {"ppo_arrest"},  # no intelligence
        "contacts": {"ppo_contact_prison"},  # its own agency's
        "tests": {"ppo_test"},
        "custody": 2,
        "read": 200,
        "write_contact": 201,
        "write_test": 201,
        "write_event": 403,
        "write_reception": 201,
    },
    "yot": {
        "people": {"youth", "dyo"},
        "events": {"youth_arrest", "youth_intel"},  # 004 §5.1: intelligence on their people
        "contacts": {"youth_contact_yot"},
        "tests": {"youth_test"},
        "custody": 0,
        "read": 404,  # the PPO is an adult, not a DYO
        "write_contact": 404,
        "write_test": 404,
        # The import's rule: a person outside the importer's scope reads as unknown.
        "write_event": 400,
        "write_reception": 403,
    },
    "treatment": {
        "people": {"ppo"},
        "events": set(),  # offending: counts only; intelligence: nothing
        "contacts": {"ppo_contact_treatment"},
        "tests": {"ppo_test"},  # treatment agencies only
        "custody": 1,  # in custody yes/no and the release date: the latest episode only
        "read": 200,
        "write_contact": 201,
        "write_test": 403,
        "write_event": 403,
        "write_reception": 403,
    },
    "housing": {
        "people": {"housed"},
        "events": set(),
        "contacts": set(),
        "tests": set(),  # drug tests: treatment agencies only
        "custody": 0,
        "read": 404,
        "write_contact": 404,
        "write_test": 404,
        "write_event": 403,
        "write_reception": 403,
    },
    "steering": {
        "people": set(),
        "events": set(),
        "contacts": set(),
        "tests": set(),
        "custody": 0,
        # A role that sees nobody is refused (403) whatever the number, as on the pages.
        "read": 403,
        "write_contact": 403,
        "write_test": 403,
        "write_event": 403,
        "write_reception": 403,
    },
}

# ACCESS.md: a partner sees a person's name, date of birth and contact details only.
PARTNER_PERSON_FIELDS = {
    "id",
    "first_name",
    "last_name",
    "full_name",
    "date_of_birth",
    "age",
    "address",
    "phone",
}
PARTNER_CUSTODY_FIELDS = {"id", "person", "in_custody", "expected_release_on", "released_on"}


def _client_for(world: World, who: str) -> Api:
    role, agency = CLIENTS[who]
    _, token = make_api_client(role, world.agencies[agency])
    return Api(token)


def _names(world: World, ids: list[int], pool: dict[str, Any]) -> set[str]:
    by_id = {obj.pk: name for name, obj in pool.items()}
    return {by_id[i] for i in ids}


def _all(api: Api, path: str) -> list[dict[str, Any]]:
    response = api.get(path, {"page_size": 200})
    assert response.status_code == 200, response.content
    return list(response.json()["results"])


def test_table_covers_every_role() -> None:
    assert set(TABLE) == set(CLIENTS)


@pytest.mark.parametrize("who", list(TABLE))
def test_lists_hold_exactly_what_access_md_says(who: str) -> None:
    world = build_world()
    api = _client_for(world, who)
    expected = TABLE[who]
    people = _all(api, "people/")
    assert _names(world, [p["id"] for p in people], world.people) == expected["people"]
    events = _all(api, "offending-events/")
    event_records = {k: v for k, v in world.records.items() if isinstance(v, OffendingEvent)}
    assert _names(world, [e["id"] for e in events], event_records) == expected["events"]
    contacts = _all(api, "contacts/")
    contact_records = {k: v for k, v in world.records.items() if isinstance(v, Contact)}
    assert _names(world, [c["id"] for c in contacts], contact_records) == expected["contacts"]
    tests = _all(api, "drug-tests/")
    test_records = {k: v for k, v in world.records.items() if isinstance(v, DrugTest)}
    assert _names(world, [t["id"] for t in tests], test_records) == expected["tests"]
    custody = _all(api, "custody-episodes/")
    assert len(custody) == expected["custody"]
    if who in ("treatment", "housing"):
        for row in people:
            assert set(row) == PARTNER_PERSON_FIELDS
        for row in custody:
            assert set(row) == PARTNER_CUSTODY_FIELDS
            assert row["in_custody"] is True
            assert row["expected_release_on"] == f"{TODAY.year + 1}-06-01"


@pytest.mark.parametrize("who", list(TABLE))
def test_reading_one_person(who: str) -> None:
    world = build_world()
    api = _client_for(world, who)
    ppo = world.people["ppo"]
    response = api.get(f"people/{ppo.pk}/")
    assert response.status_code == TABLE[who]["read"]
    body = response.json()
    if response.status_code == 200:
        assert body["id"] == ppo.pk
        assert ("pnc_id" in body) is (who not in ("treatment", "housing"))
    else:
        # Outside scope reads exactly as a record that does not exist, and is audited.
        assert set(body) == {"detail", "errors"}
        assert api.get("people/999999/").json() == body
        denial = AuditEvent.objects.filter(action=AuditAction.DENIED).order_by("pk").first()
        assert denial is not None and denial.channel == "api"
        if response.status_code == 404:
            assert denial.offender_ids == [ppo.pk]


def _contact_body(person: Any) -> dict[str, Any]:
    return {
        "person": person.pk,
        "occurred_at": AN_HOUR_AGO.isoformat(),
        "kind": "office",
        "outcome": "attended",
    }


@pytest.mark.parametrize("who", list(TABLE))
def test_writing_for_the_ppo(who: str) -> None:
    world = build_world()
    api = _client_for(world, who)
    ppo = world.people["ppo"]
    before = (Contact.objects.count(), DrugTest.objects.count(), CustodyEpisode.objects.count())

    contact = api.post("contacts/", _contact_body(ppo))
    assert contact.status_code == TABLE[who]["write_contact"], contact.content
    test = api.post(
        "drug-tests/",
        {"person": ppo.pk, "tested_at": AN_HOUR_AGO.isoformat(), "result": "negative"},
    )
    assert test.status_code == TABLE[who]["write_test"], test.content
    event = api.post(
        "offending-events/",
        {
            "pnc_id": ppo.pnc_id,
            "kind": "arrest",
            "category": "Shoplifting",
            "occurred_on": "2026-01-10",
            "recorded_on": "2026-01-11",
            "source_reference": f"API-{who}",
        },
    )
    assert event.status_code == TABLE[who]["write_event"], event.content
    reception = api.post(
        "custody-episodes/", {"identifier": world.people["former"].pnc_id, "kind": "remand"}
    )
    assert reception.status_code == TABLE[who]["write_reception"], reception.content

    created = (
        int(contact.status_code == 201),
        int(test.status_code == 201),
        int(reception.status_code == 201),
    )
    after = (Contact.objects.count(), DrugTest.objects.count(), CustodyEpisode.objects.count())
    # Nothing half-written: a refused create leaves no record.
    assert tuple(a - b for a, b in zip(after, before, strict=True)) == created
    for response in (contact, test, event, reception):
        body = response.json()
        if response.status_code >= 400:
            assert set(body) == {"detail", "errors"} and body["detail"]
    if contact.status_code == 201:
        made = Contact.objects.get(pk=contact.json()["id"])
        # The record is the client's agency's, as if one of its staff had logged it.
        assert made.agency == world.agencies[CLIENTS[who][1]]


def test_a_yot_client_writes_for_the_young_people_it_works_with() -> None:
    world = build_world()
    api = _client_for(world, "yot")
    assert api.post("contacts/", _contact_body(world.people["youth"])).status_code == 201


def test_a_prison_client_sees_the_person_it_received() -> None:
    world = build_world()
    api = _client_for(world, "prison")
    former = world.people["former"]
    assert api.get(f"people/{former.pk}/").status_code == 404
    check = api.post("arrival-checks/", {"identifier": former.pnc_id})
    assert check.status_code == 200
    assert check.json()["answer"] == "former_ppo"
    assert "first_name" not in str(check.json()) and former.last_name not in str(check.json())
    reception = api.post("custody-episodes/", {"identifier": former.pnc_id, "kind": "remand"})
    assert reception.status_code == 201
    assert reception.json()["establishment"] == "HMP Northgate"
    # The open episode brings them into the prison's scope by the ordinary rule.
    assert api.get(f"people/{former.pk}/").status_code == 200


@pytest.mark.parametrize("field", ["pnc_id", "prison_number", "crn"])
def test_a_partner_cannot_filter_by_an_identifier_it_may_not_see(field: str) -> None:
    world = build_world()
    api = _client_for(world, "treatment")
    value = {"pnc_id": world.people["ppo"].pnc_id, "prison_number": "A1234BC", "crn": "X123456"}
    response = api.get("people/", {field: value[field]})
    assert response.status_code == 400
    assert response.json()["errors"] == {field: ["You cannot filter by this field"]}


def test_police_filter_by_pnc_id() -> None:
    world = build_world()
    api = _client_for(world, "police")
    ppo = world.people["ppo"]
    # Any accepted spelling of the PNC ID finds the person: the filter normalises it.
    short = ppo.pnc_id[2:].replace("/0", "/", 1)
    for value in (ppo.pnc_id, ppo.pnc_id.lower(), short):
        rows = api.get("people/", {"pnc_id": value}).json()["results"]
        assert [row["id"] for row in rows] == [ppo.pk], value
    bad = api.get("people/", {"pnc_id": "2004/0046583X"})
    assert bad.status_code == 400 and "pnc_id" in bad.json()["errors"]


@pytest.mark.parametrize("who", ["police", "treatment"])
def test_list_queries_do_not_grow_with_the_list(who: str) -> None:
    world = build_world()
    api = _client_for(world, who)
    assert api.get("people/").status_code == 200  # the first call notes the client's last use
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            for path in ("people/", "contacts/", "drug-tests/", "offending-events/"):
                assert api.get(path).status_code == 200
        counts.append(len(queries))
        # Ten more people in everyone's scope, each with a contact, a test and an event.
        for _ in range(10):
            person = OffenderFactory()
            ProgrammeEpisodeFactory(offender=person)
            ReferralFactory(offender=person, agency=world.agencies["treatment"])
            ContactFactory(offender=person, agency=world.agencies["treatment"])
            DrugTestFactory(offender=person)
            OffendingEventFactory(offender=person, source_agency=world.agencies["police"])
    assert counts[0] == counts[1]
