"""The partner API's casework writes go through the same rules as the pages and the
import (issue 12): events through the events import's row checks, idempotent by source
and reference; contacts through contact_log (enforcement included); drug tests through
drug_test_record; receptions through the arrival check's reception_record."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from access.models import AgencyKind, AuditAction, AuditEvent, Role
from offenders.models import (
    Contact,
    CustodyEpisode,
    DrugTest,
    EnforcementCase,
    EventKind,
    OffendingEvent,
    ProgrammeKind,
    Supervision,
)
from tests.api_clients import Api, fresh_throttle_counts, make_api_client  # noqa: F401
from tests.factories import (
    AgencyFactory,
    CustodyEpisodeFactory,
    OffenceCategoryFactory,
    OffenderFactory,
    OffendingEventFactory,
    ProgrammeEpisodeFactory,
    ReferralFactory,
)

pytestmark = pytest.mark.django_db

AN_HOUR_AGO = timezone.now() - dt.timedelta(hours=1)


@pytest.fixture
def police() -> Api:
    OffenceCategoryFactory()
    agency = AgencyFactory(name="Northshire Police", kind=AgencyKind.POLICE)
    return Api(make_api_client(Role.POLICE_OFFICER, agency)[1])


def _event(person: Any, **overrides: Any) -> dict[str, Any]:
    body = {
        "pnc_id": person.pnc_id,
        "kind": "arrest",
        "category": "Shoplifting",
        "occurred_on": "2026-03-01",
        "recorded_on": "2026-03-02",
        "source_reference": "NICHE-0001",
        "summary": "Arrested in the market",
    }
    body.update(overrides)
    return body


# --- Offending events --------------------------------------------------------------------------


def test_an_event_sent_twice_is_recorded_once(police: Api) -> None:
    person = OffenderFactory(date_of_birth=dt.date(1990, 1, 1))
    first = police.post("offending-events/", _event(person))
    assert first.status_code == 201, first.content
    assert first.json()["source"] == "Northshire Police"
    assert first.json()["person"] == person.pk
    # References are not case-sensitive (the import's rule): the same event.
    again = police.post("offending-events/", _event(person, source_reference="niche-0001"))
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert OffendingEvent.objects.count() == 1
    created = AuditEvent.objects.get(action=AuditAction.CREATE)
    assert created.record_type == "offenders.offendingevent" and created.channel == "api"
    assert created.offender_ids == [person.pk]


def test_the_same_reference_with_different_content_is_a_409(police: Api) -> None:
    person = OffenderFactory(date_of_birth=dt.date(1990, 1, 1))
    police.post("offending-events/", _event(person))
    other = police.post("offending-events/", _event(person, occurred_on="2026-02-01"))
    assert other.status_code == 409
    assert "date_committed" in other.json()["errors"]["source_reference"][0]
    assert OffendingEvent.objects.get().occurred_on == dt.date(2026, 3, 1)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        # The import's row checks, by the API's field names.
        ({"occurred_on": "1995-01-01"}, "occurred_on"),  # before the person was 10
        ({"recorded_on": "2026-02-01"}, "recorded_on"),  # recorded before it happened
        ({"category": "Shoplifing"}, "category"),  # unknown category (with a suggestion)
        ({"category": ""}, "category"),  # an arrest needs one
        ({"pnc_id": "2004/0046583X"}, "pnc_id"),  # wrong check letter
        ({"pnc_id": "2004/0046583U"}, "pnc_id"),  # nobody on the record has it
        ({"source_reference": "x" * 61}, "source_reference"),
        ({"summary": "two\nlines"}, "summary"),
        ({"occurred_on": "2026-02-30"}, "occurred_on"),
        ({"kind": "burglary"}, "kind"),
    ],
)
def test_an_event_is_checked_as_an_import_row_is(
    police: Api, overrides: dict[str, Any], field: str
) -> None:
    person = OffenderFactory(date_of_birth=dt.date(1990, 1, 1))
    response = police.post("offending-events/", _event(person, **overrides))
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    assert not OffendingEvent.objects.exists()


def test_a_yot_client_may_not_record_intelligence_but_may_record_arrests() -> None:
    OffenceCategoryFactory()
    api = Api(make_api_client(Role.YOT_WORKER)[1])
    youth = OffenderFactory(date_of_birth=dt.date(timezone.localdate().year - 15, 1, 1))
    intel = api.post(
        "offending-events/", _event(youth, kind="intelligence", category="", source_reference="I1")
    )
    assert intel.status_code == 403
    arrest = api.post("offending-events/", _event(youth, occurred_on="2026-03-01"))
    assert arrest.status_code == 201, arrest.content


def test_events_filter_by_person_kind_and_last_change(police: Api) -> None:
    person, other = OffenderFactory(), OffenderFactory()
    old = OffendingEventFactory(offender=person, occurred_on=dt.date(2025, 1, 1))
    new = OffendingEventFactory(offender=person, occurred_on=dt.date(2026, 1, 1))
    OffendingEventFactory(offender=other)
    intel = OffendingEventFactory(
        offender=person, kind=EventKind.INTELLIGENCE, category=None, occurred_on=dt.date(2026, 1, 2)
    )
    rows = police.get("offending-events/", {"person": person.pk}).json()["results"]
    assert {r["id"] for r in rows} == {old.pk, new.pk, intel.pk}
    rows = police.get("offending-events/", {"person": person.pk, "kind": "intelligence"}).json()
    assert [r["id"] for r in rows["results"]] == [intel.pk]
    # updated_since is the last change, not the day recorded (the boundaries to the
    # microsecond: tests/test_api_foundation.py).
    since = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
    OffendingEvent.objects.filter(pk=new.pk).update(updated_at=since - dt.timedelta(days=1))
    params = {"person": person.pk, "updated_since": since.isoformat()}
    rows = police.get("offending-events/", params).json()
    assert {r["id"] for r in rows["results"]} == {old.pk, intel.pk}


# --- Contacts and drug tests -------------------------------------------------------------------


def test_a_failed_contact_on_licence_opens_an_enforcement_case() -> None:
    probation = AgencyFactory(name="Northshire Probation", kind=AgencyKind.PROBATION)
    api = Api(make_api_client(Role.KEY_WORKER, probation)[1])
    person = OffenderFactory(supervision=Supervision.LICENCE)
    ProgrammeEpisodeFactory(offender=person)
    response = api.post(
        "contacts/",
        {
            "person": person.pk,
            "occurred_at": AN_HOUR_AGO.isoformat(),
            "kind": "office",
            "outcome": "failed",
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["enforcement_flagged"] is True
    assert EnforcementCase.objects.get().contact == Contact.objects.get()


def test_a_partner_logs_contacts_only_while_the_referral_is_open() -> None:
    treatment = AgencyFactory(name="Northshire CJIT", kind=AgencyKind.TREATMENT)
    api = Api(make_api_client(Role.PARTNER_WORKER, treatment)[1])
    person = OffenderFactory()
    referral = ReferralFactory(offender=person, agency=treatment)
    body = {
        "person": person.pk,
        "occurred_at": AN_HOUR_AGO.isoformat(),
        "kind": "outreach",
        "outcome": "attended",
    }
    assert api.post("contacts/", body).status_code == 201
    referral.closed_on = timezone.localdate() - dt.timedelta(days=1)
    referral.save()
    # Closed: still readable for 3 months, never writable (ACCESS.md "read only").
    assert api.post("contacts/", body).status_code == 404
    assert len(api.get("contacts/").json()["results"]) == 1


def test_a_positive_drug_test_needs_the_substances() -> None:
    api = Api(make_api_client(Role.PPO_MANAGER)[1])
    person = OffenderFactory()
    body = {"person": person.pk, "tested_at": AN_HOUR_AGO.isoformat(), "result": "positive"}
    refused = api.post("drug-tests/", body)
    assert refused.status_code == 400 and "substances" in refused.json()["errors"]
    assert not DrugTest.objects.exists()
    made = api.post("drug-tests/", {**body, "substances": "Opiates"})
    assert made.status_code == 201 and made.json()["substances"] == "Opiates"


# --- Custody and the arrival check -------------------------------------------------------------


@pytest.fixture
def prison() -> tuple[Api, Any]:
    agency = AgencyFactory(name="HMP Northgate", kind=AgencyKind.PRISON)
    return Api(make_api_client(Role.PRISON_WORKER, agency)[1]), agency


def test_a_reception_is_recorded_once(prison: tuple[Api, Any]) -> None:
    api, agency = prison
    ppo = OffenderFactory()
    ProgrammeEpisodeFactory(offender=ppo)
    body = {"identifier": ppo.pnc_id, "kind": "sentence", "sentence_length_months": 18}
    first = api.post("custody-episodes/", body)
    assert first.status_code == 201, first.content
    assert first.json()["establishment"] == "HMP Northgate"
    assert first.json()["in_custody"] is True
    again = api.post("custody-episodes/", body)
    assert again.status_code == 400
    assert "identifier" in again.json()["errors"]
    assert CustodyEpisode.objects.filter(establishment=agency).count() == 1


def test_a_reception_needs_a_ppo_or_former_ppo(prison: tuple[Api, Any]) -> None:
    api, _ = prison
    dyo = OffenderFactory()
    ProgrammeEpisodeFactory(offender=dyo, kind=ProgrammeKind.DYO)
    response = api.post("custody-episodes/", {"identifier": dyo.pnc_id, "kind": "remand"})
    assert response.status_code == 400
    assert not CustodyEpisode.objects.exists()


def test_a_malformed_arrival_check_is_refused_and_still_audited(prison: tuple[Api, Any]) -> None:
    api, _ = prison
    response = api.post("arrival-checks/", {"identifier": "not an id"})
    assert response.status_code == 400
    assert "identifier" in response.json()["errors"]
    row = AuditEvent.objects.get(record_type="offenders.arrival_check")
    assert row.detail["outcome"] == "refused: malformed" and row.channel == "api"


def test_a_partner_sees_only_the_latest_custody_and_only_its_fields() -> None:
    treatment = AgencyFactory(name="Northshire CJIT", kind=AgencyKind.TREATMENT)
    api = Api(make_api_client(Role.PARTNER_WORKER, treatment)[1])
    person = OffenderFactory()
    ReferralFactory(offender=person, agency=treatment)
    CustodyEpisodeFactory(
        offender=person, started_on=dt.date(2023, 1, 1), released_on=dt.date(2023, 7, 1)
    )
    latest = CustodyEpisodeFactory(
        offender=person, started_on=dt.date(2025, 1, 1), released_on=dt.date(2025, 9, 1)
    )
    rows = api.get("custody-episodes/").json()["results"]
    assert rows == [
        {
            "id": latest.pk,
            "person": person.pk,
            "in_custody": False,
            "expected_release_on": None,
            "released_on": "2025-09-01",
        }
    ]
    # Sorting by a field it may not see is refused like any unknown ordering.
    assert api.get("custody-episodes/", {"ordering": "started_on"}).status_code == 400
