"""API clients and their tokens (issue 12): created by a PPO manager or an administrator,
shown once, stored hashed, expiring, revocable, listed with their last use; each acts as
a member of its agency; every request audited with the client as the "who" and its agency
as the recipient."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import time_machine
from django.contrib.auth import authenticate
from django.utils import timezone

from access.api_clients import api_client_create, api_client_revoke
from access.errors import ApplicationError, NotPermitted
from access.models import AgencyKind, ApiClient, AuditAction, AuditEvent, Role
from access.policy import Scope, actor_for
from tests.api_clients import Api, fresh_throttle_counts, make_api_client  # noqa: F401
from tests.factories import AgencyFactory, OffenderFactory, sign_in, staff

pytestmark = pytest.mark.django_db


def _create(creator_role: str = Role.PPO_MANAGER, **overrides: object) -> tuple[ApiClient, str]:
    creator = staff(creator_role)
    values: dict[str, object] = {
        "name": "Niche RMS",
        "agency": AgencyFactory(name="Northshire Police", kind=AgencyKind.POLICE),
        "role": Role.POLICE_OFFICER,
        "expires_at": timezone.now() + dt.timedelta(days=90),
        "reason": "Arrests from the force's records system",
    }
    values.update(overrides)
    return api_client_create(actor=actor_for(creator), **values)  # type: ignore[arg-type]


@pytest.mark.parametrize("role", [Role.PPO_MANAGER, Role.ADMINISTRATOR])
def test_a_manager_or_administrator_creates_a_client_and_it_is_audited(role: str) -> None:
    client, token = _create(role)
    # Stored only as its SHA-256; the prefix alone is kept in clear, for lists.
    assert client.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in {client.token_hash, client.token_prefix}
    assert client.token_prefix == token[:8]
    assert len(token) >= 40
    row = AuditEvent.objects.get(record_type="access.apiclient", action=AuditAction.CREATE)
    assert row.record_ids == [client.pk]
    assert row.detail["reason"] == "Arrests from the force's records system"
    assert token not in str(row.detail)


@pytest.mark.parametrize("role", [Role.KEY_WORKER, Role.POLICE_OFFICER, Role.STEERING_GROUP])
def test_nobody_else_creates_clients(role: str) -> None:
    with pytest.raises(NotPermitted):
        _create(role)
    assert not ApiClient.objects.exists()


def test_the_client_acts_as_a_member_of_its_agency() -> None:
    client, _ = _create()
    actor = actor_for(client.user)
    assert actor.role == Role.POLICE_OFFICER
    assert actor.agency == client.agency
    assert actor.scope is Scope.EVERYONE
    # Its service user can never sign in to the pages or the admin.
    assert not client.user.has_usable_password()
    assert not client.user.is_staff
    assert authenticate(username=client.user.username, password="") is None


def test_a_role_the_agency_cannot_hold_is_refused() -> None:
    # A police agency has no YOT workers (access.models.ROLE_AGENCY_KINDS).
    with pytest.raises(ApplicationError) as refused:
        _create(role=Role.YOT_WORKER)
    assert "role" in refused.value.field_errors
    assert not ApiClient.objects.exists()


@pytest.mark.parametrize(
    ("days", "ok"), [(-1, False), (0, False), (1, True), (365, True), (367, False)]
)
def test_a_token_expires_within_a_year(days: int, ok: bool) -> None:
    expires = timezone.now() + dt.timedelta(days=days)
    if ok:
        _create(expires_at=expires)
    else:
        with pytest.raises(ApplicationError) as refused:
            _create(expires_at=expires)
        assert "expires_at" in refused.value.field_errors


def test_a_reason_is_required() -> None:
    with pytest.raises(ApplicationError) as refused:
        _create(reason="  ")
    assert "reason" in refused.value.field_errors


def test_the_token_works_until_it_expires() -> None:
    client, token = make_api_client(Role.POLICE_OFFICER, expires_in=dt.timedelta(hours=2))
    api = Api(token)
    assert api.get("people/").status_code == 200
    with time_machine.travel(client.expires_at + dt.timedelta(seconds=1)):
        response = api.get("people/")
    assert response.status_code == 401
    assert response.json() == {
        "detail": "The token is not valid, has expired or has been revoked",
        "errors": {},
    }
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_stops_working_at_once_and_the_revocation_is_audited() -> None:
    client, token = make_api_client(Role.POLICE_OFFICER)
    api = Api(token)
    assert api.get("people/").status_code == 200
    manager = staff(Role.PPO_MANAGER)
    api_client_revoke(actor=actor_for(manager), client=client, reason="System retired")
    assert api.get("people/").status_code == 401
    client.refresh_from_db()
    assert client.revoked_at is not None and client.revoked_by == manager
    assert not client.user.__class__.objects.get(pk=client.user_id).is_active
    row = AuditEvent.objects.get(record_type="access.apiclient", action=AuditAction.UPDATE)
    assert row.detail["reason"] == "System retired" and row.user == manager
    # A failed authentication is itself audited, after the request rolled back.
    denied = AuditEvent.objects.filter(action=AuditAction.DENIED, record_type="access.apiclient")
    assert denied.count() == 1


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer wrong-token", "Bearer a b", "Token abc", "Basic dXNlcjpwYXNz", ""],
)
def test_requests_without_a_good_token_are_refused_in_the_error_shape(header: str) -> None:
    make_api_client(Role.POLICE_OFFICER)
    response = Api(None).http.get("/api/v1/people/", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401
    assert set(response.json()) == {"detail", "errors"}


def test_a_signed_in_session_does_not_authenticate_the_api(client) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, staff(Role.PPO_MANAGER))
    assert client.get("/api/v1/people/").status_code == 401


def test_last_use_is_recorded_at_most_once_a_minute() -> None:
    client, token = make_api_client(Role.POLICE_OFFICER)
    api = Api(token)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        api.get("people/")
    client.refresh_from_db()
    assert client.last_used_at == start
    with time_machine.travel(start + dt.timedelta(seconds=59), tick=False):
        api.get("people/")
    client.refresh_from_db()
    assert client.last_used_at == start
    with time_machine.travel(start + dt.timedelta(seconds=60), tick=False):
        api.get("people/")
    client.refresh_from_db()
    assert client.last_used_at == start + dt.timedelta(seconds=60)


def test_every_request_is_audited_with_the_client_and_its_agency_as_recipient() -> None:
    police = AgencyFactory(name="Northshire Police", kind=AgencyKind.POLICE)
    client, token = make_api_client(Role.POLICE_OFFICER, police)
    person = OffenderFactory()
    api = Api(token)
    api.get("people/")
    api.get(f"people/{person.pk}/")
    rows = list(AuditEvent.objects.order_by("pk"))
    assert [(r.action, r.record_type) for r in rows] == [
        (AuditAction.LIST, "offenders.offender"),
        (AuditAction.VIEW, "offenders.offender"),
    ]
    for row in rows:
        assert row.channel == "api"
        assert row.user == client.user
        assert row.agency_name == "Northshire Police"
        assert row.recipient == "Northshire Police"
        assert row.detail["api_client"] == client.name
        assert row.offender_ids == [person.pk]


# --- The pages ---------------------------------------------------------------------------------


def _form(**overrides: object) -> dict[str, object]:
    agency = AgencyFactory(name="Northshire Police", kind=AgencyKind.POLICE)
    data: dict[str, object] = {
        "name": "Niche RMS",
        "agency": agency.pk,
        "role": Role.POLICE_OFFICER,
        "expires_on": (timezone.localdate() + dt.timedelta(days=30)).isoformat(),
        "reason": "Arrests",
    }
    data.update(overrides)
    return data


def test_the_page_shows_the_token_once(client) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, staff(Role.PPO_MANAGER))
    data = _form(form_token="0b5e7c1e-7c52-4d1c-9a57-3f1f6a0c2d11")
    page = client.post("/api-clients/new/", data)
    assert page.status_code == 200
    made = ApiClient.objects.get()
    token = page.context["token"]
    assert hashlib.sha256(token.encode()).hexdigest() == made.token_hash
    assert token in page.content.decode()
    # Posting the same form again creates nothing and does not show the token again.
    again = client.post("/api-clients/new/", data)
    assert again.status_code == 302
    assert ApiClient.objects.count() == 1
    listing = client.get("/api-clients/").content.decode()
    assert made.token_prefix in listing and token not in listing
    assert "Never" in listing  # not used yet


def test_the_page_shows_problems_in_the_error_summary(client) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, staff(Role.ADMINISTRATOR))
    far = (timezone.localdate() + dt.timedelta(days=400)).isoformat()
    page = client.post("/api-clients/new/", _form(expires_on=far))
    assert page.status_code == 200
    assert "govuk-error-summary" in page.content.decode()
    assert "at most a year" in page.content.decode()
    assert not ApiClient.objects.exists()


@pytest.mark.parametrize("role", [Role.KEY_WORKER, Role.POLICE_OFFICER])
def test_other_roles_are_refused_the_pages(client, role: str) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, staff(role))
    assert client.get("/api-clients/").status_code == 403
    assert client.post("/api-clients/new/", _form()).status_code == 403
    assert not ApiClient.objects.exists()


def test_revoking_from_the_page_asks_for_a_reason(client) -> None:  # type: ignore[no-untyped-def]
    api_client, token = make_api_client(Role.POLICE_OFFICER)
    sign_in(client, staff(Role.PPO_MANAGER))
    url = f"/api-clients/{api_client.pk}/revoke/"
    assert "Revoke access" in client.get(url).content.decode()
    refused = client.post(url, {"reason": ""})
    assert refused.status_code == 200 and "govuk-error-summary" in refused.content.decode()
    assert Api(token).get("people/").status_code == 200
    done = client.post(url, {"reason": "Contract ended"})
    assert done.status_code == 302
    assert Api(token).get("people/").status_code == 401


def test_an_administrator_cannot_give_a_client_a_password_or_a_new_role() -> None:
    from access import services

    client, _ = make_api_client(Role.PARTNER_WORKER)
    admin = actor_for(staff(Role.ADMINISTRATOR))
    assert "API account" in services.account_change_refusal(actor=admin, user=client.user)
    assert "API account" in services.membership_change_refusal(actor=admin, user_id=client.user_id)
    with pytest.raises(NotPermitted):
        services.user_password_set(
            actor=admin, user=client.user, password="a-long-password-1", reason="Recovery"
        )
    client.user.refresh_from_db()
    assert not client.user.has_usable_password()
    # Everyone else's account is still theirs to manage.
    other = staff(Role.KEY_WORKER)
    assert services.account_change_refusal(actor=admin, user=other) == ""


@pytest.mark.parametrize(
    ("role", "shown"),
    [(Role.PPO_MANAGER, True), (Role.ADMINISTRATOR, True), (Role.KEY_WORKER, False)],
)
def test_the_pages_are_in_the_navigation_of_those_who_use_them(client, role, shown) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, staff(role))
    assert ('href="/api-clients/"' in client.get("/").content.decode()) is shown
