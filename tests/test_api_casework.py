"""The partner API's action-plan, review, conference and report endpoints against
ACCESS.md, role by role (issue 12 "Done when").

Like tests/test_api_access.py, and independently of it: the table below is written from
shared/ACCESS.md by hand, not from access/policy.py. For each agency role, which of a
small world's actions, referrals, reviews and conferences its API client may list and
read, what an update or a create answers, and whether it may read the aggregate reports.
An API client acts with exactly the scope of its agency's role: YOT only under-18s and
DYOs; a treatment client only the people referred to it (and only its own agency's
referrals, no selection records); a steering client only aggregates.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from access.models import Agency, AgencyKind, AuditAction, AuditEvent, Role
from conferences.models import Attendance, CaseConference, ConferencePerson
from offenders.models import CustodyKind, ProgrammeKind, Sex
from pathways.models import Action, ActionStatus, Pathway, Provider, Referral, ReferralStatus
from reporting.models import CohortMember, CohortStatus, Ni30Cohort
from selection.models import Review, ReviewKind
from tests.api_clients import Api, fresh_throttle_counts, make_api_client  # noqa: F401
from tests.factories import (
    AgencyFactory,
    CustodyEpisodeFactory,
    OffenceCategoryFactory,
    OffenderFactory,
    ProgrammeEpisodeFactory,
    ReferralFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
NEXT_MONTH = TODAY + dt.timedelta(days=30)
LAST_YEAR = TODAY - dt.timedelta(days=365)


@dataclass
class World:
    agencies: dict[str, Agency]
    people: dict[str, Any]
    actions: dict[str, Action]
    referrals: dict[str, Referral]
    reviews: dict[str, Review]
    conferences: dict[str, CaseConference]
    providers: dict[str, Provider]


def _pathway(code: str) -> Pathway:
    return Pathway.objects.get(code=code)


def build_world() -> World:
    OffenceCategoryFactory()
    ag = {
        "police": AgencyFactory(name="Northshire Police", kind=AgencyKind.POLICE),
        "probation": AgencyFactory(name="Northshire Probation", kind=AgencyKind.PROBATION),
        "prison": AgencyFactory(name="HMP Northgate", kind=AgencyKind.PRISON),
        "yot": AgencyFactory(name="Northshire YOT", kind=AgencyKind.YOT),
        "treatment": AgencyFactory(name="Northshire CJIT", kind=AgencyKind.TREATMENT),
        "housing": AgencyFactory(name="Northshire Housing", kind=AgencyKind.HOUSING),
        "council": AgencyFactory(name="Northshire Council", kind=AgencyKind.LOCAL_AUTHORITY),
    }
    people = {
        # A current PPO, in custody at HMP Northgate, referred to the CJIT.
        "ppo": OffenderFactory(date_of_birth=dt.date(1990, 5, 5)),
        # The known-offender pool: police data.
        "pool": OffenderFactory(date_of_birth=dt.date(1985, 1, 1)),
        # Fifteen, on no tier.
        "youth": OffenderFactory(date_of_birth=dt.date(TODAY.year - 15, 1, 1)),
        # Nineteen, a Deter Young Offender.
        "dyo": OffenderFactory(date_of_birth=dt.date(TODAY.year - 19, 1, 1)),
        # In the pool, referred to housing only.
        "housed": OffenderFactory(date_of_birth=dt.date(1992, 2, 2)),
    }
    ProgrammeEpisodeFactory(offender=people["ppo"], selected_on=dt.date(2024, 1, 1))
    ProgrammeEpisodeFactory(
        offender=people["dyo"], kind=ProgrammeKind.DYO, selected_on=dt.date(TODAY.year - 2, 1, 1)
    )
    CustodyEpisodeFactory(
        offender=people["ppo"],
        establishment=ag["prison"],
        kind=CustodyKind.SENTENCE,
        started_on=dt.date(2025, 1, 1),
        expected_release_on=dt.date(TODAY.year + 1, 6, 1),
    )
    providers = {
        "treatment": Provider.objects.create(name="CJIT drug service", agency=ag["treatment"]),
        "housing": Provider.objects.create(name="Riverside House", agency=ag["housing"]),
    }
    providers["treatment"].pathways.add(_pathway("drugs_alcohol"))
    providers["housing"].pathways.add(_pathway("accommodation"))
    ag["treatment"].pathways_served.add(_pathway("drugs_alcohol"))
    ag["housing"].pathways_served.add(_pathway("accommodation"))
    referrals = {
        "ppo_treatment": ReferralFactory(
            offender=people["ppo"], agency=ag["treatment"], provider=providers["treatment"]
        ),
        "housed_housing": ReferralFactory(
            offender=people["housed"],
            agency=ag["housing"],
            provider=providers["housing"],
            pathway=_pathway("accommodation"),
        ),
        # Closed a year ago: housing's three months of reading are long over.
        "ppo_housing_old": ReferralFactory(
            offender=people["ppo"],
            agency=ag["housing"],
            provider=providers["housing"],
            pathway=_pathway("accommodation"),
            opened_on=LAST_YEAR - dt.timedelta(days=60),
            closed_on=LAST_YEAR,
            status=ReferralStatus.COMPLETED,
            outcome="Housed",
        ),
    }

    def action(who: str, owner: str, pathway: str) -> Action:
        return Action.objects.create(
            offender=people[who],
            pathway=_pathway(pathway),
            description=f"Action for {who}",
            owner_agency=ag[owner],
            due_on=NEXT_MONTH,
        )

    actions = {
        "ppo_treatment": action("ppo", "treatment", "drugs_alcohol"),
        "ppo_probation": action("ppo", "probation", "ete"),
        "youth_yot": action("youth", "yot", "ete"),
        "pool_police": action("pool", "police", "attitudes"),
        "housed_housing": action("housed", "housing", "accommodation"),
    }

    def review(kind: str, who: str | None) -> Review:
        return Review.objects.create(
            kind=kind,
            offender=people[who] if who else None,
            basis=f"test-{kind}",
            due_on=TODAY - dt.timedelta(days=3),
            raised_on=TODAY - dt.timedelta(days=3),
            detail={"positive_drug_tests": 2},
        )

    reviews = {
        "ppo": review(ReviewKind.TWO_YEARS, "ppo"),
        "dyo": review(ReviewKind.DYO_PERIODIC, "dyo"),
        "list": review(ReviewKind.LIST_REVIEW, None),
        "pool": review(ReviewKind.FORMER_REOFFENDING, "pool"),
    }
    chair = UserFactory()

    def conference(invited: list[str], on: list[str]) -> CaseConference:
        made = CaseConference.objects.create(
            held_on=NEXT_MONTH, chair=chair, created_by=chair, location="Room 2"
        )
        for name in invited:
            Attendance.objects.create(conference=made, agency=ag[name])
        for order, who in enumerate(on):
            ConferencePerson.objects.create(
                conference=made,
                offender=people[who],
                order=order,
                minutes=f"Minutes about {who}",
                frozen_plan={"as_of": TODAY.isoformat(), "needs": [], "actions": []},
            )
        return made

    conferences = {
        "a": conference(["treatment", "probation"], ["ppo", "housed"]),
        "b": conference(["housing"], ["ppo"]),
        "c": conference(["prison"], ["ppo"]),
    }
    return World(ag, people, actions, referrals, reviews, conferences, providers)


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

ALL_ACTIONS = {"ppo_treatment", "ppo_probation", "youth_yot", "pool_police", "housed_housing"}
PPO_ACTIONS = {"ppo_treatment", "ppo_probation"}
ALL_REFERRALS = {"ppo_treatment", "housed_housing", "ppo_housing_old"}
ALL_REVIEWS = {"ppo", "dyo", "list", "pool"}
ALL_CONFERENCES = {"a", "b", "c"}
REFUSED = 403

# ACCESS.md, by hand. A set is what the list holds; REFUSED: the list is a 403 (a role
# that reads no such records, as on the pages). people_on_a: how many of the people on
# conference "a" (the PPO and the housed man) the client is told of.
# patch_action: PATCH the CJIT's action for the PPO; patch_referral: PATCH the PPO's CJIT
# referral; refer: a referral of the PPO to the housing provider; review: GET the PPO's
# review; conference_a: GET conference "a"; reports: GET reports/profile/.
TABLE: dict[str, dict[str, Any]] = {
    "police": {
        "actions": ALL_ACTIONS,
        "referrals": ALL_REFERRALS,
        "reviews": ALL_REVIEWS,  # the list review too: police see the whole pool
        "conferences": ALL_CONFERENCES,
        "people_on_a": 2,
        "patch_action": 403,  # plans: R
        "patch_referral": 403,
        "refer": 403,
        "review": 200,
        "conference_a": 200,
        "reports": 403,
    },
    "key_worker": {
        "actions": PPO_ACTIONS,  # PPOs and DYOs: the PPO's plan
        "referrals": {"ppo_treatment", "ppo_housing_old"},
        "reviews": {"ppo", "dyo"},  # not the list review: their scope is not the pool
        "conferences": ALL_CONFERENCES,
        "people_on_a": 1,
        "patch_action": 200,  # plans: RW
        "patch_referral": 200,
        "refer": 201,
        "review": 200,
        "conference_a": 200,
        "reports": 403,
    },
    "manager": {
        "actions": ALL_ACTIONS,
        "referrals": ALL_REFERRALS,
        "reviews": ALL_REVIEWS,
        "conferences": ALL_CONFERENCES,
        "people_on_a": 2,
        "patch_action": 200,
        "patch_referral": 200,
        "refer": 201,
        "review": 200,
        "conference_a": 200,
        "reports": 200,
    },
    "prison": {
        "actions": PPO_ACTIONS,
        "referrals": {"ppo_treatment", "ppo_housing_old"},
        "reviews": REFUSED,  # selection: —
        "conferences": {"c"},  # only those it was invited to
        "people_on_a": None,
        "patch_action": 403,  # plans: R
        "patch_referral": 403,
        "refer": 403,
        "review": 403,
        "conference_a": 404,
        "reports": 403,
    },
    "yot": {
        "actions": {"youth_yot"},
        "referrals": set(),
        "reviews": {"dyo"},
        "conferences": ALL_CONFERENCES,
        "people_on_a": 0,
        "patch_action": 404,  # the PPO is an adult, not a DYO
        "patch_referral": 404,
        "refer": 404,
        "review": 404,
        "conference_a": 200,
        "reports": 403,
    },
    "treatment": {
        "actions": PPO_ACTIONS,  # R all of its people's plans
        "referrals": {"ppo_treatment"},  # only its own agency's
        "reviews": REFUSED,
        "conferences": {"a"},
        "people_on_a": 1,  # only the person referred to it
        "patch_action": 200,  # W actions its agency owns
        "patch_referral": 200,
        "refer": 403,  # the housing provider is not its agency's
        "review": 403,
        "conference_a": 200,
        "reports": 403,
    },
    "housing": {
        "actions": {"housed_housing"},
        "referrals": {"housed_housing"},  # the PPO's closed a year ago: out of scope
        "reviews": REFUSED,
        "conferences": {"b"},
        "people_on_a": None,
        "patch_action": 404,
        "patch_referral": 404,
        "refer": 404,  # the PPO is not referred to it
        "review": 403,
        "conference_a": 404,
        "reports": 403,
    },
    "steering": {
        "actions": REFUSED,
        "referrals": REFUSED,
        "reviews": REFUSED,
        "conferences": REFUSED,
        "people_on_a": None,
        "patch_action": 403,
        "patch_referral": 403,
        "refer": 403,
        "review": 403,
        "conference_a": 403,
        "reports": 200,  # aggregates only
    },
}


def _client_for(world: World, who: str) -> Api:
    role, agency = CLIENTS[who]
    _, token = make_api_client(role, world.agencies[agency])
    return Api(token)


def _patch(api: Api, path: str, body: Any, **headers: Any) -> Any:
    return api.http.patch(
        f"/api/v1/{path}",
        json.dumps(body, default=str),
        content_type="application/json",
        **api.headers,
        **headers,
    )


def _listed(api: Api, path: str, pool: dict[str, Any]) -> set[str] | int:
    response = api.get(path, {"page_size": 200})
    if response.status_code != 200:
        assert set(response.json()) == {"detail", "errors"}
        return int(response.status_code)
    by_id = {obj.pk: name for name, obj in pool.items()}
    return {by_id[row["id"]] for row in response.json()["results"]}


def test_table_covers_every_role() -> None:
    assert set(TABLE) == set(CLIENTS)


@pytest.mark.parametrize("who", list(TABLE))
def test_lists_hold_exactly_what_access_md_says(who: str) -> None:
    world = build_world()
    api = _client_for(world, who)
    expected = TABLE[who]
    assert _listed(api, "actions/", world.actions) == expected["actions"]
    assert _listed(api, "referrals/", world.referrals) == expected["referrals"]
    assert _listed(api, "reviews/", world.reviews) == expected["reviews"]
    assert _listed(api, "conferences/", world.conferences) == expected["conferences"]
    if expected["people_on_a"] is not None:
        rows = api.get("conferences/").json()["results"]
        on_a = next(r for r in rows if r["id"] == world.conferences["a"].pk)
        assert on_a["people"] == expected["people_on_a"]


@pytest.mark.parametrize("who", list(TABLE))
def test_reading_one_of_each(who: str) -> None:
    world = build_world()
    api = _client_for(world, who)
    expected = TABLE[who]
    review = api.get(f"reviews/{world.reviews['ppo'].pk}/")
    assert review.status_code == expected["review"]
    conference = api.get(f"conferences/{world.conferences['a'].pk}/")
    assert conference.status_code == expected["conference_a"]
    if conference.status_code == 200:
        people = {p["person"] for p in conference.json()["reviewed"]}
        assert len(people) == expected["people_on_a"]
        assert "housed" not in str(people) and world.people["youth"].pk not in people
    action = api.get(f"actions/{world.actions['ppo_treatment'].pk}/")
    listed = expected["actions"]
    if listed == REFUSED:
        assert action.status_code == 403
    else:
        # Readable exactly when listed: the one-object check agrees with the list.
        assert action.status_code == (200 if "ppo_treatment" in listed else 404)
    if action.status_code == 200:
        assert action["ETag"]
        assert action.json()["owner_agency"] == "Northshire CJIT"


@pytest.mark.parametrize("who", list(TABLE))
def test_updating_and_referring(who: str) -> None:
    world = build_world()
    api = _client_for(world, who)
    expected = TABLE[who]
    action = world.actions["ppo_treatment"]
    etag = f'"{"x" * 32}"'
    if expected["patch_action"] == 200:
        etag = api.get(f"actions/{action.pk}/")["ETag"]
    changed = _patch(
        api,
        f"actions/{action.pk}/",
        {"status": "done", "outcome": "Completed the course"},
        HTTP_IF_MATCH=etag,
    )
    assert changed.status_code == expected["patch_action"], changed.content
    action.refresh_from_db()
    if changed.status_code == 200:
        assert (action.status, action.version, action.finished_on) == ("done", 2, TODAY)
        assert changed.json()["status"] == "done"
        assert changed["ETag"] != etag
    else:
        assert (action.status, action.version) == (ActionStatus.OPEN, 1)
        assert set(changed.json()) == {"detail", "errors"}

    referral = world.referrals["ppo_treatment"]
    etag = f'"{"x" * 32}"'
    if expected["patch_referral"] == 200:
        etag = api.get(f"referrals/{referral.pk}/")["ETag"]
    moved = _patch(
        api,
        f"referrals/{referral.pk}/",
        {"status": "accepted", "assessed_on": TODAY.isoformat()},
        HTTP_IF_MATCH=etag,
    )
    assert moved.status_code == expected["patch_referral"], moved.content
    referral.refresh_from_db()
    if moved.status_code == 200:
        assert (referral.status, referral.assessed_on, referral.version) == ("accepted", TODAY, 2)
    else:
        assert (referral.status, referral.assessed_on) == (ReferralStatus.MADE, None)

    before = Referral.objects.count()
    made = api.post(
        "referrals/",
        {
            "person": world.people["ppo"].pk,
            "provider": world.providers["housing"].pk,
            "pathway": "accommodation",
            "reason": "Homeless on release",
        },
    )
    assert made.status_code == expected["refer"], made.content
    assert Referral.objects.count() - before == (1 if made.status_code == 201 else 0)
    if made.status_code == 201:
        created = Referral.objects.get(pk=made.json()["id"])
        assert (created.agency, created.offender) == (
            world.agencies["housing"],
            world.people["ppo"],
        )


@pytest.mark.parametrize("who", list(TABLE))
def test_reports_only_for_aggregate_readers(who: str) -> None:
    world = build_world()
    api = _client_for(world, who)
    for path in ("reports/profile/", "reports/reoffending/"):
        response = api.get(path)
        assert response.status_code == TABLE[who]["reports"], (path, response.content)
        if response.status_code == 200:
            # Aggregates: nobody's name, nobody's identifier.
            text = response.content.decode()
            for person in world.people.values():
                assert person.last_name not in text and person.pnc_id not in text


def test_a_partner_updates_only_the_actions_its_agency_owns() -> None:
    world = build_world()
    api = _client_for(world, "treatment")
    other = world.actions["ppo_probation"]
    # It reads the probation service's action on its person's plan (ACCESS.md "R all")...
    read = api.get(f"actions/{other.pk}/")
    assert read.status_code == 200
    # ...but may not change it: a 403, audited, and nothing written.
    response = _patch(
        api, f"actions/{other.pk}/", {"status": "in_progress"}, HTTP_IF_MATCH=read["ETag"]
    )
    assert response.status_code == 403
    other.refresh_from_db()
    assert (other.status, other.version) == (ActionStatus.OPEN, 1)
    denial = AuditEvent.objects.filter(action=AuditAction.DENIED).order_by("-pk").first()
    assert denial is not None and denial.record_type == "pathways.action"
    assert denial.channel == "api"


def test_the_mine_and_overdue_filters_are_the_pages_lists() -> None:
    world = build_world()
    late = world.actions["ppo_treatment"]
    Action.objects.filter(pk=late.pk).update(due_on=TODAY - dt.timedelta(days=1))
    Action.objects.filter(pk=world.actions["ppo_probation"].pk).update(due_on=TODAY)
    api = _client_for(world, "manager")
    overdue = api.get("actions/", {"overdue": "true"}).json()["results"]
    # Due yesterday is overdue; due today is not yet.
    assert [row["id"] for row in overdue] == [late.pk]
    assert overdue[0]["overdue"] is True
    treatment = _client_for(world, "treatment")
    mine = treatment.get("actions/", {"mine": "true"}).json()["results"]
    assert [row["id"] for row in mine] == [late.pk]
    for bad in ("yes", "1", "TRUE"):
        response = api.get("actions/", {"overdue": bad})
        assert response.status_code == 400 and "overdue" in response.json()["errors"]


# --- ETag / If-Match and bad input ------------------------------------------------------------


@pytest.fixture
def world() -> World:
    return build_world()


@pytest.fixture
def manager(world: World) -> Api:
    return _client_for(world, "manager")


def test_an_update_needs_if_match_and_a_current_one(world: World, manager: Api) -> None:
    action = world.actions["ppo_probation"]
    path = f"actions/{action.pk}/"
    missing = _patch(manager, path, {"status": "in_progress"})
    assert missing.status_code == 428
    etag = manager.get(path)["ETag"]
    first = _patch(manager, path, {"status": "in_progress"}, HTTP_IF_MATCH=etag)
    assert first.status_code == 200
    # The same ETag again is stale now: refused, and nothing written.
    stale = _patch(manager, path, {"status": "done", "outcome": "x"}, HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert set(stale.json()) == {"detail", "errors"}
    action.refresh_from_db()
    assert (action.status, action.version, action.outcome) == (ActionStatus.IN_PROGRESS, 2, "")
    referral = world.referrals["ppo_treatment"]
    assert _patch(manager, f"referrals/{referral.pk}/", {"status": "accepted"}).status_code == 428


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": 5}, "status"),
        ({"status": "finished"}, "status"),
        ({"status": "done"}, "outcome"),  # done needs an outcome (the service's rule)
        ({"colour": "red"}, "colour"),
        ({"status": "done", "outcome": "x", "due_on": "2030-01-01"}, "due_on"),
        ({"outcome": "x" * 2001}, "outcome"),
        ({}, "non_field_errors"),
        ([1, 2], "non_field_errors"),
    ],
)
def test_bad_updates_are_refused_with_the_field(
    world: World, manager: Api, body: Any, field: str
) -> None:
    action = world.actions["ppo_probation"]
    path = f"actions/{action.pk}/"
    etag = manager.get(path)["ETag"]
    response = _patch(manager, path, body, HTTP_IF_MATCH=etag)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()
    action.refresh_from_db()
    assert (action.status, action.version, action.outcome) == (ActionStatus.OPEN, 1, "")
    assert not AuditEvent.objects.filter(
        action=AuditAction.UPDATE, record_type="pathways.action"
    ).exists()


def test_a_closing_referral_needs_an_outcome_and_stays_closed(world: World, manager: Api) -> None:
    referral = world.referrals["ppo_treatment"]
    path = f"referrals/{referral.pk}/"
    etag = manager.get(path)["ETag"]
    refused = _patch(manager, path, {"status": "completed"}, HTTP_IF_MATCH=etag)
    assert refused.status_code == 400 and "outcome" in refused.json()["errors"]
    closed = _patch(
        manager, path, {"status": "completed", "outcome": "Finished"}, HTTP_IF_MATCH=etag
    )
    assert closed.status_code == 200
    assert closed.json()["closed_on"] == TODAY.isoformat() and closed.json()["is_open"] is False
    again = _patch(manager, path, {"status": "accepted"}, HTTP_IF_MATCH=closed["ETag"])
    assert again.status_code == 400
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.COMPLETED


@pytest.mark.parametrize(
    "pk", ["0", "-1", "abc", "99999999999999999999", "9223372036854775808", "1e3", "١٢"]
)
@pytest.mark.parametrize("kind", ["actions", "referrals", "reviews", "conferences"])
def test_malformed_and_huge_ids_are_not_found(manager: Api, kind: str, pk: str) -> None:
    response = manager.get(f"{kind}/{pk}/")
    assert response.status_code == 404
    assert set(response.json()) == {"detail", "errors"}


@pytest.mark.parametrize("kind", ["actions", "referrals", "reviews", "conferences"])
def test_out_of_scope_reads_as_not_there_and_is_audited(world: World, kind: str) -> None:
    api = _client_for(world, "yot")
    pool_record = {
        "actions": world.actions["pool_police"],
        "referrals": world.referrals["housed_housing"],
        "reviews": world.reviews["pool"],
        "conferences": None,
    }[kind]
    if pool_record is None:
        api = _client_for(world, "prison")
        pool_record = world.conferences["a"]
    response = api.get(f"{kind}/{pool_record.pk}/")
    missing = api.get(f"{kind}/9223372036854775807/")
    assert response.status_code == missing.status_code == 404
    assert response.json() == missing.json()
    denial = AuditEvent.objects.filter(action=AuditAction.DENIED).order_by("pk").first()
    assert denial is not None and denial.channel == "api"
    assert denial.record_ids == [pool_record.pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"ordering": "description"}, "ordering"),
        ({"ordering": "-"}, "ordering"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"person": "abc"}, "person"),
        ({"person": "99999999999999999999"}, "person"),
        ({"status": "finished"}, "status"),
        ({"pathway": "nonsense"}, "pathway"),
        ({"page_size": "0"}, "page_size"),
        ({"mine": "maybe"}, "mine"),
    ],
)
def test_bad_list_parameters_are_refused(manager: Api, params: dict[str, str], field: str) -> None:
    response = manager.get("actions/", params)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]


def test_updated_since_finds_what_changed(world: World, manager: Api) -> None:
    action = world.actions["ppo_probation"]
    moment = timezone.now()
    assert manager.get("actions/", {"updated_since": moment.isoformat()}).json()["results"] == []
    etag = manager.get(f"actions/{action.pk}/")["ETag"]
    _patch(manager, f"actions/{action.pk}/", {"status": "in_progress"}, HTTP_IF_MATCH=etag)
    rows = manager.get("actions/", {"updated_since": moment.isoformat()}).json()["results"]
    assert [row["id"] for row in rows] == [action.pk]
    # Extreme moments are bad-free: the ends of the calendar, not a 500.
    for extreme in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"):
        for kind in ("actions", "referrals", "reviews", "conferences"):
            assert manager.get(f"{kind}/", {"updated_since": extreme}).status_code == 200


def test_ordering_and_cursor_pages(world: World, manager: Api) -> None:
    rows = manager.get("actions/", {"ordering": "-due_on,id", "page_size": 2}).json()
    assert len(rows["results"]) == 2 and rows["next"]
    seen = [r["id"] for r in rows["results"]]
    while rows["next"]:
        rows = manager.http.get(rows["next"], **manager.headers).json()
        seen += [r["id"] for r in rows["results"]]
    assert sorted(seen) == sorted(a.pk for a in world.actions.values())


def test_a_referral_create_is_idempotent_and_strict(world: World, manager: Api) -> None:
    body = {
        "person": world.people["ppo"].pk,
        "provider": world.providers["housing"].pk,
        "pathway": "accommodation",
    }
    first = manager.post("referrals/", body, HTTP_IDEMPOTENCY_KEY="k-1")
    again = manager.post("referrals/", body, HTTP_IDEMPOTENCY_KEY="k-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true" and again.json()["id"] == first.json()["id"]
    assert Referral.objects.filter(provider=world.providers["housing"], closed_on=None).count() == 2
    # Without the key, the service's own rule: one open referral per provider and pathway.
    twice = manager.post("referrals/", body)
    assert twice.status_code == 400 and "provider" in twice.json()["errors"]
    for bad, field in (
        ({**body, "pathway": "drugs_alcohol"}, "pathway"),  # the provider does not serve it
        ({**body, "pathway": "nowhere"}, "pathway"),
        ({**body, "person": "x"}, "person"),
        ({**body, "person": 2**70}, "person"),
        ({**body, "provider": 999999}, "provider"),
        ({**body, "extra": 1}, "extra"),
    ):
        response = manager.post("referrals/", bad)
        assert response.status_code == 400, (bad, response.content)
        assert field in response.json()["errors"], (bad, response.json())
    assert Referral.objects.count() == len(world.referrals) + 1


def test_a_key_worker_sees_review_detail_without_intelligence_dates(world: World) -> None:
    review = world.reviews["ppo"]
    Review.objects.filter(pk=review.pk).update(
        detail={"quiet_from": "2026-01-01", "positive_drug_tests": 2}
    )
    key_worker = _client_for(world, "key_worker")
    police = _client_for(world, "police")
    seen_by_kw = key_worker.get(f"reviews/{review.pk}/").json()["detail"]
    seen_by_police = police.get(f"reviews/{review.pk}/").json()["detail"]
    assert seen_by_kw == ["Positive drug tests: 2"]
    assert "Quiet from: 1 January 2026" in seen_by_police


def test_every_read_is_audited_with_the_agency_as_recipient(world: World) -> None:
    api = _client_for(world, "treatment")
    before = AuditEvent.objects.count()
    api.get("actions/")
    api.get(f"conferences/{world.conferences['a'].pk}/")
    rows = list(AuditEvent.objects.order_by("pk")[before:])
    assert [r.action for r in rows] == [AuditAction.LIST, AuditAction.LIST]
    assert {r.recipient for r in rows} == {"Northshire CJIT"}
    assert {r.channel for r in rows} == {"api"}
    ppo = world.people["ppo"].pk
    assert rows[0].offender_ids == [ppo] and rows[1].offender_ids == [ppo]


@pytest.mark.parametrize("who", ["treatment", "manager"])
def test_list_queries_do_not_grow_with_the_list(world: World, who: str) -> None:
    api = _client_for(world, who)
    paths = ("actions/", "referrals/", "conferences/") + (("reviews/",) if who == "manager" else ())
    for path in paths:
        assert api.get(path).status_code == 200
    counts = []
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            for path in paths:
                assert api.get(path).status_code == 200
        counts.append(len(queries))
        for _ in range(5):
            person = OffenderFactory()
            ProgrammeEpisodeFactory(offender=person)
            ReferralFactory(offender=person, agency=world.agencies["treatment"])
            Action.objects.create(
                offender=person,
                pathway=_pathway("drugs_alcohol"),
                description="More",
                owner_agency=world.agencies["treatment"],
                due_on=NEXT_MONTH,
            )
            conference = CaseConference.objects.create(
                held_on=NEXT_MONTH, chair=UserFactory(), created_by=UserFactory()
            )
            Attendance.objects.create(conference=conference, agency=world.agencies["treatment"])
            ConferencePerson.objects.create(conference=conference, offender=person)
            Review.objects.create(
                kind=ReviewKind.TWO_YEARS,
                offender=person,
                basis=f"more-{person.pk}",
                due_on=TODAY,
                raised_on=TODAY,
            )
    assert counts[0] == counts[1]


def test_referral_filters_and_incremental_sync(world: World, manager: Api) -> None:
    referral = world.referrals["ppo_treatment"]
    open_now = manager.get("referrals/", {"open": "true"}).json()["results"]
    assert {r["id"] for r in open_now} == {
        world.referrals["ppo_treatment"].pk,
        world.referrals["housed_housing"].pk,
    }
    closed = manager.get("referrals/", {"open": "false"}).json()["results"]
    assert [r["id"] for r in closed] == [world.referrals["ppo_housing_old"].pk]
    an_hour_ago = (timezone.now() - dt.timedelta(hours=1)).isoformat()
    assert manager.get("referrals/", {"updated_since": an_hour_ago}).json()["results"] == []
    etag = manager.get(f"referrals/{referral.pk}/")["ETag"]
    stale = '"' + "0" * 32 + '"'
    refused = _patch(
        manager, f"referrals/{referral.pk}/", {"status": "accepted"}, HTTP_IF_MATCH=stale
    )
    assert refused.status_code == 412
    done = {"status": "withdrawn", "outcome": "Moved away"}
    assert _patch(manager, f"referrals/{referral.pk}/", done, HTTP_IF_MATCH=etag).status_code == 200
    # Closed today: found by a sync since an hour ago.
    rows = manager.get("referrals/", {"updated_since": an_hour_ago}).json()["results"]
    assert [r["id"] for r in rows] == [referral.pk]


def test_review_and_conference_filters(world: World, manager: Api) -> None:
    assert {r["id"] for r in manager.get("reviews/", {"overdue": "true"}).json()["results"]} == {
        r.pk for r in world.reviews.values()
    }
    kinds = manager.get("reviews/", {"kind": "dyo_periodic"}).json()["results"]
    assert [r["id"] for r in kinds] == [world.reviews["dyo"].pk]
    assert [r["kind"] for r in kinds] == ["dyo_periodic"]
    list_review = manager.get(f"reviews/{world.reviews['list'].pk}/").json()
    assert list_review["person"] is None
    a_minute_ago = (timezone.now() - dt.timedelta(minutes=1)).isoformat()
    assert len(manager.get("reviews/", {"updated_since": a_minute_ago}).json()["results"]) == 4
    assert manager.get("conferences/", {"status": "closed"}).json()["results"] == []
    planned = manager.get("conferences/", {"held_from": NEXT_MONTH.isoformat()}).json()
    assert len(planned["results"]) == 3
    assert manager.get("conferences/", {"held_to": TODAY.isoformat()}).json()["results"] == []
    assert manager.get("conferences/", {"held_from": "not a day"}).status_code == 400


# --- Reports ---------------------------------------------------------------------------------


@pytest.fixture
def steering(world: World) -> Api:
    return _client_for(world, "steering")


def test_ni30_needs_a_confirmed_cohort_and_then_counts_it(world: World, steering: Api) -> None:
    missing = steering.get("reports/ni30/")
    assert missing.status_code == 400 and "year" in missing.json()["errors"]
    year = TODAY.year if dt.date(TODAY.year, 4, 1) <= TODAY else TODAY.year - 1
    cohort = Ni30Cohort.objects.create(
        year_starts_on=dt.date(year, 4, 1),
        baseline_starts_on=dt.date(year - 2, 10, 1),
        baseline_ends_on=dt.date(year - 1, 9, 30),
        status=CohortStatus.CONFIRMED,
        confirmed_on=dt.date(year, 4, 2),
    )
    CohortMember.objects.create(cohort=cohort, offender=world.people["ppo"])
    found = steering.get("reports/ni30/", {"year": year})
    assert found.status_code == 200, found.content
    body = found.json()
    assert (body["members"], body["members_on_scheme"]) == (1, 1)
    assert body["year"] == f"{year}/{(year + 1) % 100:02d}"
    disclosed = AuditEvent.objects.filter(action=AuditAction.DISCLOSE).order_by("-pk").first()
    assert disclosed is not None
    assert disclosed.recipient == "Northshire Council" and disclosed.detail["report"] == "ni30"


def test_small_numbers_are_suppressed_as_on_the_pages(world: World, steering: Api) -> None:
    # Three PPOs on the scheme (the world's one and two more): every count in the
    # breakdown by age and sex is 1 to 4, so none may be shown.
    for sex in (Sex.MALE, Sex.FEMALE):
        ProgrammeEpisodeFactory(offender=OffenderFactory(sex=sex), selected_on=dt.date(2024, 2, 1))
    body = steering.get("reports/profile/").json()
    table = body["profile"]["by_age_and_sex"]
    assert table["protected"] is True and table["any_hidden"] is True
    *breakdown, totals = table["rows"]
    assert totals["is_total"] and not any(row["is_total"] for row in breakdown)
    # The grand total is the exact headline (ACCESS.md); every other cell is a breakdown.
    assert totals["cells"][-1]["count"] == 3
    cells = [cell for row in breakdown for cell in row["cells"]] + totals["cells"][:-1]
    assert not [c for c in cells if c["count"] is not None and 1 <= c["count"] <= 4]
    hidden = [cell for cell in cells if cell["hidden"]]
    assert hidden and all(c["count"] is None and c["text"] == "[c]" for c in hidden)
    # The headline count of the caseload is exact (ACCESS.md).
    assert body["profile"]["total"]["text"] == "3"


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("reports/profile/", {"as_of": "2026-02-30"}, "as_of"),
        ("reports/profile/", {"as_of": (TODAY + dt.timedelta(days=1)).isoformat()}, "as_of"),
        ("reports/profile/", {"as_of": "0001-01-01"}, "as_of"),
        ("reports/profile/", {"colour": "red"}, "colour"),
        (
            "reports/profile/",
            {"date_from": TODAY.isoformat(), "date_to": "2020-01-01"},
            "date_from",
        ),
        ("reports/reoffending/", {"year": "twenty"}, "year"),
        ("reports/reoffending/", {"year": "3000"}, "year"),
        ("reports/reoffending/", {"year": str(TODAY.year + 1)}, "year"),
        ("reports/local-measure/", {"target": "NaN"}, "target"),
        ("reports/local-measure/", {"target": "101"}, "target"),
        ("reports/local-measure/", {"date_from": "2025-01-01"}, "date_from"),
        ("reports/ni30/", {"year": "1990"}, "year"),
    ],
)
def test_bad_report_parameters_are_refused(
    steering: Api, path: str, params: dict[str, str], field: str
) -> None:
    response = steering.get(path, params)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"], response.json()


def test_a_report_for_a_past_day(world: World, steering: Api) -> None:
    response = steering.get("reports/profile/", {"as_of": "2024-06-30"})
    assert response.status_code == 200
    assert response.json()["profile"]["as_of"] == "2024-06-30"
