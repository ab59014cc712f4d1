"""The partner API's foundation (issue 12): one error shape for bad input, body limits,
cursor pagination without COUNT(*), ordering and updated_since (the last change, to the
microsecond), Idempotency-Key on
creates, ETag / If-Match on updates, and throttling per client."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from access.api_clients import ApiClientRateThrottle
from access.models import AgencyKind, AuditAction, AuditEvent, IdempotencyKey, Role, Scheme
from offenders.models import Contact, Offender
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
)

pytestmark = pytest.mark.django_db

AN_HOUR_AGO = timezone.now() - dt.timedelta(hours=1)


@pytest.fixture
def police() -> Api:
    _, token = make_api_client(Role.POLICE_OFFICER)
    return Api(token)


def _contact(who: Offender, **overrides: Any) -> dict[str, Any]:
    body = {
        "person": who.pk,
        "occurred_at": AN_HOUR_AGO.isoformat(),
        "kind": "office",
        "outcome": "attended",
    }
    body.update(overrides)
    return body


def _shape(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"detail", "errors"}, body
    assert isinstance(body["detail"], str) and body["detail"]
    assert isinstance(body["errors"], dict)
    return dict(body)


# --- Bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"colour": "blue"}, "colour"),  # unknown field
        ({"person": "abc"}, "person"),  # wrong type
        ({"person": [1]}, "person"),
        ({"occurred_at": "2026-02-30T10:00:00Z"}, "occurred_at"),  # bad date
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"kind": "carrier pigeon"}, "kind"),
        ({"note": "x" * 4001}, "note"),
        ({"occurred_at": (timezone.now() + dt.timedelta(days=1)).isoformat()}, "occurred_at"),
    ],
)
def test_bad_input_is_a_400_with_the_field_at_fault_and_nothing_saved(
    police: Api, overrides: dict[str, Any], field: str
) -> None:
    person = OffenderFactory()
    response = police.post("contacts/", _contact(person, **overrides))
    assert response.status_code == 400
    assert field in _shape(response)["errors"]
    assert not Contact.objects.exists()


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '"text"', "null"])
def test_a_body_that_is_not_a_json_object_is_a_400(police: Api, body: str) -> None:
    response = police.http.post(
        "/api/v1/contacts/", body, content_type="application/json", **police.headers
    )
    assert response.status_code == 400
    _shape(response)


def test_a_huge_body_is_a_413_before_it_is_read(police: Api) -> None:
    person = OffenderFactory()
    response = police.post("contacts/", _contact(person, note="x" * 70_000))
    assert response.status_code == 413
    _shape(response)
    assert not Contact.objects.exists()


def test_a_huge_body_without_a_length_is_refused_too() -> None:
    from access.api import LimitedJSONParser, PayloadTooLarge

    class Stream:
        def __init__(self, data: bytes):
            self.data = data

        def read(self, size: int = -1) -> bytes:
            return self.data[:size] if size >= 0 else self.data

    with pytest.raises(PayloadTooLarge):
        LimitedJSONParser().parse(Stream(b'{"a": "' + b"x" * 70_000 + b'"}'))


def test_a_form_encoded_body_is_refused_in_the_error_shape(police: Api) -> None:
    response = police.http.post("/api/v1/contacts/", {"person": 1}, **police.headers)
    assert response.status_code == 415
    _shape(response)


def test_unknown_endpoints_and_methods_answer_in_the_error_shape(police: Api) -> None:
    assert police.get("no-such-thing/").status_code == 404
    _shape(police.get("no-such-thing/"))
    response = police.http.delete("/api/v1/contacts/", **police.headers)
    assert response.status_code == 405
    _shape(response)


def test_an_unknown_ordering_is_refused(police: Api) -> None:
    response = police.get("people/", {"ordering": "pnc_id"})
    assert response.status_code == 400
    assert "ordering" in _shape(response)["errors"]


def test_a_bad_filter_value_is_refused(police: Api) -> None:
    for params in ({"updated_since": "last week"}, {"person": "x"}, {"crn": "123"}):
        response = police.get("contacts/" if "person" in params else "people/", params)
        assert response.status_code == 400, params
        assert set(_shape(response)["errors"]) == set(params)


# --- Pagination, ordering, updated_since ---------------------------------------------------


def test_cursor_pages_walk_the_whole_list_without_counting_it(police: Api) -> None:
    people = [OffenderFactory() for _ in range(7)]
    seen: list[int] = []
    response = police.get("people/", {"page_size": 3})
    with CaptureQueriesContext(connection) as queries:
        police.get("people/", {"page_size": 3})
    assert not any("COUNT(" in q["sql"].upper() for q in queries.captured_queries)
    while True:
        body = response.json()
        assert "count" not in body
        seen += [row["id"] for row in body["results"]]
        if not body["next"]:
            break
        response = police.http.get(body["next"], **police.headers)
    assert seen == sorted(p.pk for p in people)


def test_ordering_by_a_named_field(police: Api) -> None:
    people = [OffenderFactory() for _ in range(3)]
    rows = police.get("people/", {"ordering": "-id"}).json()["results"]
    assert [row["id"] for row in rows] == sorted((p.pk for p in people), reverse=True)


def test_updated_since_returns_what_changed_from_that_moment(police: Api) -> None:
    start = timezone.now() - dt.timedelta(days=2)
    with time_machine.travel(start, tick=False):
        old = OffenderFactory()
    with time_machine.travel(start + dt.timedelta(days=1), tick=False):
        new = OffenderFactory()
    boundary = (start + dt.timedelta(days=1)).isoformat()
    rows = police.get("people/", {"updated_since": boundary}).json()["results"]
    assert [row["id"] for row in rows] == [new.pk]
    old.save()  # a change brings the person back into the next sync
    rows = police.get("people/", {"updated_since": boundary}).json()["results"]
    assert {row["id"] for row in rows} == {old.pk, new.pk}


def test_contacts_since_use_when_they_were_recorded(police: Api) -> None:
    person = OffenderFactory()
    with time_machine.travel(timezone.now() - dt.timedelta(days=3), tick=False):
        ContactFactory(offender=person, occurred_at=timezone.now() - dt.timedelta(days=1))
    recent = ContactFactory(offender=person, occurred_at=timezone.now() - dt.timedelta(days=10))
    since = (timezone.now() - dt.timedelta(days=1)).isoformat()
    rows = police.get("contacts/", {"updated_since": since, "person": person.pk}).json()
    assert [row["id"] for row in rows["results"]] == [recent.pk]


# The instant a partner's previous sync started, with microseconds, and the same instant
# written in another zone: both must draw the line at exactly the same place.
SYNC_FROM = dt.datetime(2026, 3, 10, 9, 30, 15, 123456, tzinfo=dt.UTC)
SYNC_FROM_TEXTS = [
    SYNC_FROM.isoformat(),
    SYNC_FROM.astimezone(dt.timezone(dt.timedelta(hours=-5))).isoformat(),
]


def _changed_at(record: Any, moment: dt.datetime) -> None:
    """Set a record's last change directly (update() skips auto_now), independently of
    the code under test."""
    type(record).objects.filter(pk=record.pk).update(updated_at=moment)


def _incremental_records(resource: str) -> list[Any]:
    """Three records of `resource`: changed exactly at SYNC_FROM, a microsecond before,
    and long after. Their own dates (recorded, tested, started) say the opposite, so a
    filter on those rather than on the last change gets the wrong answer."""
    person = OffenderFactory()
    ProgrammeEpisodeFactory(offender=person)
    OffenceCategoryFactory()
    long_ago = dt.date(2020, 1, 1)
    tomorrow = SYNC_FROM.date() + dt.timedelta(days=1)
    made: list[Any] = []
    for own_day in (long_ago, tomorrow, long_ago):
        if resource == "offending-events/":
            made.append(
                OffendingEventFactory(offender=person, occurred_on=own_day, recorded_on=own_day)
            )
        elif resource == "drug-tests/":
            at = dt.datetime.combine(own_day, dt.time(12), tzinfo=dt.UTC)
            made.append(DrugTestFactory(offender=person, tested_at=at))
        else:
            released = own_day + dt.timedelta(days=30)
            made.append(
                CustodyEpisodeFactory(offender=person, started_on=own_day, released_on=released)
            )
    at_the_instant, just_before, later = made
    _changed_at(at_the_instant, SYNC_FROM)
    _changed_at(just_before, SYNC_FROM - dt.timedelta(microseconds=1))
    _changed_at(later, SYNC_FROM + dt.timedelta(days=40))
    return made


@pytest.mark.parametrize("since", SYNC_FROM_TEXTS)
@pytest.mark.parametrize("resource", ["offending-events/", "drug-tests/", "custody-episodes/"])
def test_updated_since_is_the_last_change_to_the_microsecond(
    police: Api, resource: str, since: str
) -> None:
    at_the_instant, just_before, later = _incremental_records(resource)
    response = police.get(resource, {"updated_since": since})
    assert response.status_code == 200, response.content
    assert {row["id"] for row in response.json()["results"]} == {at_the_instant.pk, later.pk}
    assert just_before.pk not in {row["id"] for row in response.json()["results"]}


@pytest.mark.parametrize("resource", ["offending-events/", "drug-tests/", "custody-episodes/"])
def test_a_change_brings_a_record_into_the_next_sync(police: Api, resource: str) -> None:
    _, just_before, _ = _incremental_records(resource)
    since = {"updated_since": SYNC_FROM.isoformat()}
    assert just_before.pk not in {r["id"] for r in police.get(resource, since).json()["results"]}
    with time_machine.travel(SYNC_FROM + dt.timedelta(seconds=1), tick=False):
        just_before.save()
    assert just_before.pk in {r["id"] for r in police.get(resource, since).json()["results"]}


@pytest.mark.parametrize("resource", ["offending-events/", "drug-tests/", "custody-episodes/"])
def test_lists_can_be_ordered_by_last_change(police: Api, resource: str) -> None:
    at_the_instant, just_before, later = _incremental_records(resource)
    rows = police.get(resource, {"ordering": "updated_at"}).json()["results"]
    assert [row["id"] for row in rows] == [just_before.pk, at_the_instant.pk, later.pk]


def test_reading_a_person_is_one_view_in_the_audit_trail(police: Api) -> None:
    person = OffenderFactory()
    assert police.get(f"people/{person.pk}/").status_code == 200
    views = AuditEvent.objects.filter(action=AuditAction.VIEW, record_type="offenders.offender")
    assert [row.offender_ids for row in views] == [[person.pk]]


def test_a_record_number_in_other_digits_is_not_one(police: Api) -> None:
    person = OffenderFactory()
    # The person's record number in Arabic-Indic digits, which int() would accept.
    other_digits = str(person.pk).translate({ord(d): 0x0660 + int(d) for d in "0123456789"})
    assert int(other_digits) == person.pk
    response = police.get(f"people/{other_digits}/")
    assert response.status_code == 404
    _shape(response)
    assert not AuditEvent.objects.filter(action=AuditAction.VIEW).exists()
    assert AuditEvent.objects.filter(action=AuditAction.DENIED).exists()


# --- Idempotency-Key -----------------------------------------------------------------------


def test_a_repeat_with_the_same_key_returns_the_first_response(police: Api) -> None:
    person = OffenderFactory()
    first = police.post("contacts/", _contact(person), HTTP_IDEMPOTENCY_KEY="abc-1")
    second = police.post("contacts/", _contact(person), HTTP_IDEMPOTENCY_KEY="abc-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert Contact.objects.count() == 1
    stored = IdempotencyKey.objects.get()
    # No copy of the personal data: digests and which record.
    assert stored.record_id == first.json()["id"] and stored.record_type == "offenders.contact"
    assert len(stored.request_digest) == len(stored.response_digest) == 64
    assert not hasattr(stored, "response_body")
    # The replay shows the record again, so it is a consultation.
    assert AuditEvent.objects.filter(
        action=AuditAction.LIST, detail__view="api idempotent replay"
    ).exists()


def test_the_same_key_with_a_different_body_is_a_409(police: Api) -> None:
    person = OffenderFactory()
    police.post("contacts/", _contact(person), HTTP_IDEMPOTENCY_KEY="abc-2")
    other = police.post("contacts/", _contact(person, kind="phone"), HTTP_IDEMPOTENCY_KEY="abc-2")
    assert other.status_code == 409
    _shape(other)
    assert Contact.objects.count() == 1


def test_without_a_key_a_repeat_makes_a_second_record(police: Api) -> None:
    person = OffenderFactory()
    police.post("contacts/", _contact(person))
    police.post("contacts/", _contact(person))
    assert Contact.objects.count() == 2


def test_a_failed_create_does_not_use_up_its_key(police: Api) -> None:
    person = OffenderFactory()
    bad = police.post("contacts/", _contact(person, kind="nope"), HTTP_IDEMPOTENCY_KEY="k")
    assert bad.status_code == 400
    good = police.post("contacts/", _contact(person, kind="phone"), HTTP_IDEMPOTENCY_KEY="k")
    assert good.status_code == 201


def test_keys_are_per_client() -> None:
    person = OffenderFactory()
    apis = [Api(make_api_client(Role.POLICE_OFFICER)[1]) for _ in range(2)]
    for api in apis:
        assert api.post("contacts/", _contact(person), HTTP_IDEMPOTENCY_KEY="same").status_code
    assert Contact.objects.count() == 2


def test_a_key_is_kept_for_a_day(police: Api) -> None:
    person = OffenderFactory()
    police.post("contacts/", _contact(person), HTTP_IDEMPOTENCY_KEY="daily")
    with time_machine.travel(timezone.now() + dt.timedelta(hours=23)):
        police.post("contacts/", _contact(person), HTTP_IDEMPOTENCY_KEY="daily")
    assert Contact.objects.count() == 1
    with time_machine.travel(timezone.now() + dt.timedelta(hours=25)):
        police.post("contacts/", _contact(person), HTTP_IDEMPOTENCY_KEY="daily")
    assert Contact.objects.count() == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9"])
def test_a_malformed_key_is_refused(police: Api, key: str) -> None:
    person = OffenderFactory()
    response = police.post("contacts/", _contact(person), HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in _shape(response)["errors"]
    assert not Contact.objects.exists()


# --- ETag / If-Match ---------------------------------------------------------------------------


def test_an_update_names_the_version_it_changes(police: Api) -> None:
    person = OffenderFactory(phone="")
    read = police.get(f"people/{person.pk}/")
    etag = read.headers["ETag"]
    path = f"/api/v1/people/{person.pk}/"

    def patch(body: dict[str, Any], **headers: Any) -> Any:
        return police.http.patch(
            path, json.dumps(body), content_type="application/json", **police.headers, **headers
        )

    assert patch({"phone": "01632 960000"}).status_code == 428
    changed = patch({"phone": "01632 960000"}, HTTP_IF_MATCH=etag)
    assert changed.status_code == 200, changed.content
    assert changed.json()["phone"] == "01632 960000"
    assert changed.headers["ETag"] != etag
    # A second change made from the same, now stale, read is refused and changes nothing.
    stale = patch({"phone": "01632 960999"}, HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    _shape(stale)
    person.refresh_from_db()
    assert person.phone == "01632 960000"
    assert AuditEvent.objects.filter(
        action=AuditAction.UPDATE, record_type="offenders.offender", detail__fields=["phone"]
    ).exists()


def test_an_update_goes_through_the_service_checks(police: Api) -> None:
    person = OffenderFactory()
    etag = police.get(f"people/{person.pk}/").headers["ETag"]
    path = f"/api/v1/people/{person.pk}/"
    for body, field in (
        ({"crn": "not a crn"}, "crn"),
        ({"iom_grade": "red"}, "iom_grade"),  # changed with its reason, not here
        ({"date_of_birth": "2030-01-01"}, "date_of_birth"),
    ):
        response = police.http.patch(
            path,
            json.dumps(body),
            content_type="application/json",
            HTTP_IF_MATCH=etag,
            **police.headers,
        )
        assert response.status_code == 400, body
        assert field in _shape(response)["errors"]


def test_a_reader_cannot_update() -> None:
    _, token = make_api_client(Role.KEY_WORKER)
    api = Api(token)
    person = OffenderFactory()
    ProgrammeEpisodeFactory(offender=person)
    etag = api.get(f"people/{person.pk}/").headers["ETag"]
    response = api.http.patch(
        f"/api/v1/people/{person.pk}/",
        json.dumps({"phone": "1"}),
        content_type="application/json",
        HTTP_IF_MATCH=etag,
        **api.headers,
    )
    assert response.status_code == 403
    _shape(response)


# --- Throttling --------------------------------------------------------------------------------


def test_each_client_is_throttled_on_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ApiClientRateThrottle, "THROTTLE_RATES", {"api_client": "3/minute"})
    busy, quiet = (Api(make_api_client(Role.POLICE_OFFICER)[1]) for _ in range(2))
    assert [busy.get("people/").status_code for _ in range(3)] == [200, 200, 200]
    refused = busy.get("people/")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    _shape(refused)
    assert quiet.get("people/").status_code == 200


@pytest.fixture
def prison_api() -> Api:
    prison = AgencyFactory(name="HMP Northgate", kind=AgencyKind.PRISON)
    return Api(make_api_client(Role.PRISON_WORKER, prison)[1])


def test_the_arrival_check_limit_is_a_429_with_retry_after(prison_api: Api) -> None:
    scheme = Scheme.current()
    scheme.arrival_checks_per_minute = 3
    scheme.save()
    ppo = OffenderFactory()
    ProgrammeEpisodeFactory(offender=ppo)
    start = timezone.now().replace(microsecond=0)
    for second in (0, 10, 20):
        with time_machine.travel(start + dt.timedelta(seconds=second), tick=False):
            answered = prison_api.post("arrival-checks/", {"identifier": ppo.pnc_id})
            assert answered.status_code == 200, answered.content
    with time_machine.travel(start + dt.timedelta(seconds=25), tick=False):
        refused = prison_api.post("arrival-checks/", {"identifier": ppo.pnc_id})
    assert refused.status_code == 429
    assert "3 checks in the last minute" in _shape(refused)["detail"]
    # The check made at 0 s stops counting at 60 s: 35 seconds after 25 s.
    assert refused.headers["Retry-After"] == "35"
    assert refused["Content-Type"] == "application/json"
    # The refusal is in the audit trail (answered, not raised, so not rolled back).
    denial = AuditEvent.objects.get(record_type="offenders.arrival_check", action="denied")
    assert denial.channel == "api" and denial.detail["outcome"] == "refused: rate limit"
    with time_machine.travel(start + dt.timedelta(seconds=59), tick=False):
        assert prison_api.post("arrival-checks/", {"identifier": ppo.pnc_id}).status_code == 429
    with time_machine.travel(start + dt.timedelta(seconds=60), tick=False):
        assert prison_api.post("arrival-checks/", {"identifier": ppo.pnc_id}).status_code == 200


def test_a_malformed_arrival_check_is_still_a_400_not_a_429(prison_api: Api) -> None:
    response = prison_api.post("arrival-checks/", {"identifier": "not an id"})
    assert response.status_code == 400
    assert "identifier" in _shape(response)["errors"]
    assert "Retry-After" not in response.headers


# --- The schema --------------------------------------------------------------------------------


def test_the_schema_documents_every_endpoint_and_the_error_shape(police: Api) -> None:
    response = police.http.get("/api/schema/?format=json", **police.headers)
    assert response.status_code == 200
    schema = json.loads(response.content)
    paths = schema["paths"]
    for path in (
        "/api/v1/people/",
        "/api/v1/people/{id}/",
        "/api/v1/offending-events/",
        "/api/v1/contacts/",
        "/api/v1/drug-tests/",
        "/api/v1/custody-episodes/",
        "/api/v1/arrival-checks/",
    ):
        assert path in paths, path
    assert set(schema["components"]["schemas"]["Error"]["properties"]) == {"detail", "errors"}
    create = paths["/api/v1/contacts/"]["post"]
    for code in ("400", "401", "403", "404", "409", "413", "429"):
        assert create["responses"][code]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
    assert any(p["name"] == "Idempotency-Key" for p in create["parameters"])
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    # A reader gets only the fields their role may see: none can be promised.
    for name in ("Person", "OffendingEvent", "Contact", "DrugTest", "CustodyEpisode"):
        assert "required" not in schema["components"]["schemas"][name], name


def test_the_schema_needs_a_token_or_a_session() -> None:
    assert Api(None).http.get("/api/schema/").status_code in (401, 403)


# --- Hostile input: a 4xx in the error shape, never a 5xx ------------------------------------

BIG = "9" * 30
HOSTILE_READS = [
    ("people/" + BIG + "/", {}),
    ("people/-1/", {}),
    ("people/", {"cursor": "garbage"}),
    ("people/", {"page_size": "abc"}),
    ("people/", {"page_size": "0"}),
    ("people/", {"page_size": "201"}),
    ("people/", {"ordering": "-"}),
    ("people/", {"pnc_id": "x" * 5000}),
    ("people/", {"crn": "\x00"}),
    ("contacts/", {"person": BIG}),
    ("contacts/", {"person": "1e400"}),
    ("contacts/", {"updated_since": "9999-12-31T23:59:59Z"}),
    ("offending-events/", {"updated_since": "0001-01-01T00:00:00+14:00"}),
    ("custody-episodes/", {"updated_since": "0001-01-01T00:00:00+14:00"}),
]


@pytest.mark.parametrize(("path", "params"), HOSTILE_READS)
def test_hostile_reads_never_fail_on_the_server(police: Api, path: str, params: Any) -> None:
    OffenderFactory()
    response = police.get(path, params)
    assert response.status_code < 500
    if response.status_code >= 400:
        _shape(response)


HOSTILE_WRITES = [
    ("contacts/", {"person": int(BIG), "occurred_at": "2026-01-01T00:00:00Z"}),
    ("contacts/", {"occurred_at": "0001-01-01T00:00:00Z"}),
    ("contacts/", {"note": "\x00"}),
    ("contacts/", {"occurred_at": None, "kind": None}),
    (
        "drug-tests/",
        {"tested_at": "2026-01-01T00:00:00Z", "result": "positive", "substances": "\0"},
    ),
    ("offending-events/", {"pnc_id": "\x00", "occurred_on": "0001-01-01"}),
    ("offending-events/", {"kind": "arrest", "occurred_on": "9999-12-31"}),
    ("custody-episodes/", {"identifier": "A1234BC", "kind": "remand"}),
    ("arrival-checks/", {"identifier": "\x00"}),
]


@pytest.mark.parametrize(("path", "body"), HOSTILE_WRITES)
def test_hostile_writes_never_fail_on_the_server(police: Api, path: str, body: Any) -> None:
    person = OffenderFactory()
    response = police.post(path, {"person": person.pk, **body})
    assert 400 <= response.status_code < 500
    _shape(response)


@pytest.mark.parametrize("ordering", ["updated_at", "-updated_at"])
def test_cursor_pages_walk_a_list_ordered_by_last_change(police: Api, ordering: str) -> None:
    start = timezone.now() - dt.timedelta(days=5)
    people = []
    for n in range(5):
        # Two at the same moment: the record number breaks the tie, so none is skipped.
        with time_machine.travel(start + dt.timedelta(days=n // 2), tick=False):
            people.append(OffenderFactory())
    seen: list[int] = []
    response = police.get("people/", {"page_size": 2, "ordering": ordering})
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        seen += [row["id"] for row in body["results"]]
        if not body["next"]:
            break
        response = police.http.get(body["next"], **police.headers)
    expected = [p.pk for p in people]
    assert seen == (expected if ordering == "updated_at" else expected[::-1])
