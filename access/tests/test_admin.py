"""The Django admin (ACCESS.md "Administration"): administrators only, no casework, nobody
changes their own account or membership, nobody becomes a superuser, and every change is
audited with who, what and why."""

from __future__ import annotations

import datetime as dt
import html
import json
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.forms.models import model_to_dict
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from access.admin_audit import AdminWithoutHistory
from access.models import Agency, AgencyKind, AuditAction, AuditEvent, Membership, Role, Scheme
from demo.scheme.specs import ADMINISTRATOR_MODELS
from tests.factories import (
    AgencyFactory,
    OffenceCategoryFactory,
    OffenderFactory,
    UserFactory,
    sign_in,
    staff,
)

REASON = "Ticket 4417: moved to the PPO manager post from Monday"


def administrator(**user_fields):
    """An administrator holding the model permissions the demo seed gives its `admin`."""
    user = staff(Role.ADMINISTRATOR, **{"is_staff": True, **user_fields})
    for app_label, model in ADMINISTRATOR_MODELS:
        user.user_permissions.add(
            *Permission.objects.filter(
                content_type__app_label=app_label,
                content_type__model=model,
                codename__in=[f"{verb}_{model}" for verb in ("view", "add", "change")],
            )
        )
    return user


@pytest.fixture
def admin_user(db):
    return administrator(username="qx.admin", first_name="Orlanthe", last_name="Vexbury")


@pytest.fixture
def signed_in(client, admin_user):
    return sign_in(client, admin_user)


@pytest.fixture
def key_worker(db):
    return staff(Role.KEY_WORKER, username="qx.keyworker", first_name="Tamsell", last_name="Pryde")


def form_data(instance, **changes):
    """What the admin's change form posts back for `instance`, with `changes` applied."""
    data = {}
    for name, value in model_to_dict(instance).items():
        if name == "id":
            continue
        if value is None:
            value = ""
        elif isinstance(value, bool):
            value = "on" if value else ""
        elif isinstance(value, list):
            value = [getattr(v, "pk", v) for v in value]
        data[name] = value
    data.update(changes)
    return data


def user_form_data(user, **changes):
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on" if user.is_active else "",
        "is_staff": "on" if user.is_staff else "",
        # Posted as Django's own user form would need them, so that only the read-only
        # rule (not a missing field) keeps them unchanged.
        "date_joined_0": user.date_joined.date().isoformat(),
        "date_joined_1": "09:00:00",
    }
    data.update(changes)
    return data


def updates(record_type):
    return list(AuditEvent.objects.filter(action=AuditAction.UPDATE, record_type=record_type))


# --- Who may use the admin -----------------------------------------------------------------


def test_administrator_uses_the_admin(signed_in):
    assert signed_in.get(reverse("admin:index")).status_code == 200
    assert signed_in.get(reverse("admin:access_membership_changelist")).status_code == 200


def test_ppo_manager_with_is_staff_is_refused_the_admin_site(client, db):
    manager = staff(Role.PPO_MANAGER, is_staff=True)
    manager.user_permissions.add(*Permission.objects.filter(content_type__app_label="access"))
    sign_in(client, manager)
    for url in (
        reverse("admin:index"),
        reverse("admin:access_membership_changelist"),
        reverse("admin:auth_user_changelist"),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))


def test_administrator_whose_membership_has_ended_is_refused_the_admin_site(client, admin_user):
    admin_user.memberships.update(ended_on=timezone.localdate())
    sign_in(client, admin_user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_administrator_without_is_staff_is_refused_the_admin_site(client, db):
    sign_in(client, administrator(is_staff=False))
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))


def test_command_line_superuser_without_a_membership_uses_the_admin(client, db):
    root = User.objects.create_superuser("qx.root", "root@example.invalid", "Lanternfish-93")
    assert not root.memberships.exists()
    sign_in(client, root)
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("admin:access_membership_changelist")).status_code == 200


# --- Casework is not in the admin ------------------------------------------------------------


@pytest.mark.parametrize(
    "model",
    [
        "offenders_offender",
        "offenders_programmeepisode",
        "offenders_offendingevent",
        "offenders_custodyepisode",
        "offenders_contact",
        "offenders_drugtest",
        "pathways_referral",
    ],
)
def test_casework_is_not_in_the_admin(signed_in, model):
    with pytest.raises(NoReverseMatch):
        reverse(f"admin:{model}_changelist")
    app_label, model_name = model.split("_", 1)
    assert signed_in.get(f"/admin/{app_label}/{model_name}/").status_code == 404


def test_autocomplete_is_not_offered(signed_in, key_worker):
    response = signed_in.get(
        reverse("admin:autocomplete"),
        {"app_label": "access", "model_name": "membership", "field_name": "user", "term": "qx"},
    )
    assert response.status_code == 404
    assert b"qx.keyworker" not in response.content


def test_offender_autocomplete_is_not_offered(signed_in, admin_user, key_worker):
    # Even to someone holding Django's view permission on people's records.
    admin_user.user_permissions.add(Permission.objects.get(codename="view_offender"))
    OffenderFactory(first_name="Quorinda", key_worker=key_worker)
    response = signed_in.get(
        reverse("admin:autocomplete"),
        {"app_label": "offenders", "model_name": "contact", "field_name": "offender", "term": "Q"},
    )
    assert response.status_code in (403, 404)
    assert b"Quorinda" not in response.content


# --- History pages -------------------------------------------------------------------------


def test_history_pages_are_refused(signed_in, admin_user, key_worker):
    membership = key_worker.memberships.get()
    category = OffenceCategoryFactory(name="Qx theft")
    pages = [
        ("auth_user", key_worker.pk),
        ("auth_user", admin_user.pk),
        ("access_membership", membership.pk),
        ("access_agency", membership.agency_id),
        ("access_scheme", Scheme.current().pk),
        ("offenders_offencecategory", category.pk),
    ]
    for name, pk in pages:
        assert signed_in.get(reverse(f"admin:{name}_history", args=[pk])).status_code == 403
    change_page = signed_in.get(reverse("admin:access_membership_change", args=[membership.pk]))
    assert b"historylink" not in change_page.content


def test_the_admin_holds_accounts_agencies_settings_reference_data_and_the_audit_log_only():
    assert {model._meta.label_lower for model in admin.site._registry} == {
        "auth.user",
        "access.membership",
        "access.agency",
        "access.scheme",
        # The bank holidays the premium service's clocks skip (issue 10): reference data.
        "access.bankholiday",
        "access.auditevent",
        "offenders.offencecategory",
        # The retention periods per kind of record (issue 14): the scheme's own settings.
        "offenders.retentionrule",
        "pathways.pathway",
        # The providers directory (issue 9): reference data the administrator keeps.
        "pathways.provider",
    }
    for model_admin in admin.site._registry.values():
        assert isinstance(model_admin, AdminWithoutHistory), type(model_admin).__name__


# --- Nobody changes their own account or membership, nobody becomes a superuser ---------------


def test_administrator_cannot_add_a_membership_for_themselves(signed_in, admin_user):
    # Their administrator membership ends in a month, so a manager's membership from then
    # on would not overlap it: only the own-membership rule stands in the way.
    end = timezone.localdate() + dt.timedelta(days=30)
    admin_user.memberships.update(ended_on=end)
    probation = AgencyFactory(name="Qx probation", kind=AgencyKind.PROBATION)
    response = signed_in.post(
        reverse("admin:access_membership_add"),
        {
            "user": admin_user.pk,
            "agency": probation.pk,
            "role": Role.PPO_MANAGER,
            "started_on": end.isoformat(),
            "ended_on": "",
            "change_reason": REASON,
        },
    )
    assert response.status_code == 200
    assert "You cannot add or change your own membership" in response.content.decode()
    assert not Membership.objects.filter(user=admin_user, role=Role.PPO_MANAGER).exists()
    assert not AuditEvent.objects.filter(action=AuditAction.CREATE).exists()
    denied = AuditEvent.objects.get(action=AuditAction.DENIED, record_type="access.membership")
    assert denied.user == admin_user


def test_administrator_cannot_change_their_own_membership(signed_in, admin_user):
    own = admin_user.memberships.get()
    response = signed_in.post(
        reverse("admin:access_membership_change", args=[own.pk]),
        form_data(own, role=Role.STEERING_GROUP, change_reason=REASON),
    )
    assert response.status_code == 403
    own.refresh_from_db()
    assert own.role == Role.ADMINISTRATOR
    assert updates("access.membership") == []


def test_administrator_cannot_change_their_own_user(signed_in, admin_user):
    response = signed_in.post(
        reverse("admin:auth_user_change", args=[admin_user.pk]),
        user_form_data(admin_user, first_name="Renamed", change_reason=REASON),
    )
    assert response.status_code == 403
    admin_user.refresh_from_db()
    assert admin_user.first_name == "Orlanthe"
    assert updates("auth.user") == []
    assert AuditEvent.objects.filter(action=AuditAction.DENIED, record_type="auth.user").exists()


def test_administrator_cannot_set_their_own_password_in_the_admin(signed_in, admin_user):
    before = admin_user.password
    response = signed_in.post(
        reverse("admin:auth_user_password_change", args=[admin_user.pk]),
        {
            "password1": "Lanternfish-rooftop-93",
            "password2": "Lanternfish-rooftop-93",
            "change_reason": REASON,
            "set-password": "1",
        },
    )
    assert response.status_code == 403
    admin_user.refresh_from_db()
    assert admin_user.password == before


@pytest.mark.parametrize("whose", ["own", "another"])
def test_nobody_becomes_a_superuser_through_the_admin(signed_in, admin_user, key_worker, whose):
    target = admin_user if whose == "own" else key_worker
    every_permission = list(Permission.objects.values_list("pk", flat=True)[:5])
    signed_in.post(
        reverse("admin:auth_user_change", args=[target.pk]),
        user_form_data(
            target,
            is_superuser="on",
            user_permissions=every_permission,
            change_reason=REASON,
        ),
    )
    target.refresh_from_db()
    assert not target.is_superuser
    if whose == "another":
        # The rest of the form was saved: only the privilege fields were left alone.
        (event,) = updates("auth.user")
        assert "is_superuser" not in event.detail["fields"]
        assert not set(target.user_permissions.values_list("pk", flat=True)) & set(every_permission)


def test_administrator_cannot_change_a_superuser(signed_in, db):
    root = UserFactory(username="qx.root", is_staff=True, is_superuser=True)
    before = root.password
    response = signed_in.post(
        reverse("admin:auth_user_password_change", args=[root.pk]),
        {
            "password1": "Lanternfish-rooftop-93",
            "password2": "Lanternfish-rooftop-93",
            "change_reason": REASON,
            "set-password": "1",
        },
    )
    assert response.status_code == 403
    root.refresh_from_db()
    assert root.password == before


def test_nothing_is_deleted_through_the_admin(signed_in, admin_user, key_worker):
    # Even with Django's delete permission: a membership is ended, never deleted.
    admin_user.user_permissions.add(Permission.objects.get(codename="delete_membership"))
    membership = key_worker.memberships.get()
    response = signed_in.post(
        reverse("admin:access_membership_delete", args=[membership.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert Membership.objects.filter(pk=membership.pk).exists()


# --- Every change audited with who, what and why --------------------------------------------


def test_membership_role_change_writes_one_audit_row_with_old_and_new_role_and_reason(
    signed_in, admin_user, key_worker
):
    membership = key_worker.memberships.get()
    response = signed_in.post(
        reverse("admin:access_membership_change", args=[membership.pk]),
        form_data(membership, role=Role.PPO_MANAGER, change_reason=REASON),
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == Role.PPO_MANAGER
    (event,) = updates("access.membership")
    assert event.user == admin_user
    assert event.role == Role.ADMINISTRATOR
    assert event.channel == "admin"
    assert event.record_ids == [membership.pk]
    assert event.detail == {
        "fields": {"role": {"old": Role.KEY_WORKER, "new": Role.PPO_MANAGER}},
        "reason": REASON,
    }


def test_membership_change_without_a_reason_is_refused_and_changes_nothing(signed_in, key_worker):
    membership = key_worker.memberships.get()
    response = signed_in.post(
        reverse("admin:access_membership_change", args=[membership.pk]),
        form_data(membership, role=Role.PPO_MANAGER, change_reason="  "),
    )
    assert response.status_code == 200
    assert "Reason for this change" in response.content.decode()
    assert response.context["adminform"].form.errors["change_reason"]
    membership.refresh_from_db()
    assert membership.role == Role.KEY_WORKER
    assert updates("access.membership") == []


def test_new_membership_for_another_person_is_audited(signed_in, db):
    newcomer = UserFactory(username="qx.newcomer")
    probation = AgencyFactory(name="Qx probation", kind=AgencyKind.PROBATION)
    response = signed_in.post(
        reverse("admin:access_membership_add"),
        {
            "user": newcomer.pk,
            "agency": probation.pk,
            "role": Role.KEY_WORKER,
            "started_on": "2025-04-01",
            "ended_on": "",
            "change_reason": REASON,
        },
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user=newcomer)
    event = AuditEvent.objects.get(action=AuditAction.CREATE, record_type="access.membership")
    assert event.record_ids == [membership.pk]
    assert event.detail["fields"]["role"] == {"new": Role.KEY_WORKER}
    assert event.detail["fields"]["user"] == {"new": newcomer.pk}
    assert event.detail["reason"] == REASON


def test_setting_another_users_password_is_audited_with_reason_and_no_password(
    signed_in, key_worker
):
    new_password = "Lanternfish-rooftop-93"
    url = reverse("admin:auth_user_password_change", args=[key_worker.pk])
    form = {"password1": new_password, "password2": new_password, "set-password": "1"}

    refused = signed_in.post(url, form)
    assert refused.status_code == 200
    key_worker.refresh_from_db()
    assert not key_worker.check_password(new_password)
    assert updates("auth.user") == []

    response = signed_in.post(url, {**form, "change_reason": "Locked out; identity checked"})
    assert response.status_code == 302
    key_worker.refresh_from_db()
    assert key_worker.check_password(new_password)
    (event,) = updates("auth.user")
    assert event.record_ids == [key_worker.pk]
    assert event.detail["reason"] == "Locked out; identity checked"
    assert event.detail["fields"] == {"password": {"changed": True, "usable": True}}
    written = json.dumps(model_to_dict(event), default=str)
    assert new_password not in written
    assert key_worker.password not in written
    assert key_worker.password.split("$")[-1] not in written


def test_changing_another_users_details_is_audited_with_old_and_new_values(signed_in, key_worker):
    response = signed_in.post(
        reverse("admin:auth_user_change", args=[key_worker.pk]),
        user_form_data(key_worker, email="t.pryde@example.invalid", change_reason=REASON),
    )
    assert response.status_code == 302
    (event,) = updates("auth.user")
    assert event.detail == {
        "fields": {"email": {"old": "", "new": "t.pryde@example.invalid"}},
        "reason": REASON,
    }
    assert "password" not in json.dumps(event.detail)


def test_agency_change_is_audited_with_reason(signed_in, db):
    agency = AgencyFactory(name="Qx housing trust", kind=AgencyKind.HOUSING)
    response = signed_in.post(
        reverse("admin:access_agency_change", args=[agency.pk]),
        form_data(agency, name="Qx housing association", active="", change_reason=REASON),
    )
    assert response.status_code == 302
    agency.refresh_from_db()
    assert agency.name == "Qx housing association"
    assert not agency.active
    (event,) = updates("access.agency")
    assert event.record_ids == [agency.pk]
    assert event.detail == {
        "fields": {
            "name": {"old": "Qx housing trust", "new": "Qx housing association"},
            "active": {"old": True, "new": False},
        },
        "reason": REASON,
    }


def test_agency_change_without_a_reason_changes_nothing(signed_in, db):
    agency = AgencyFactory(name="Qx housing trust", kind=AgencyKind.HOUSING)
    signed_in.post(
        reverse("admin:access_agency_change", args=[agency.pk]),
        form_data(agency, name="Qx housing association"),
    )
    agency.refresh_from_db()
    assert agency.name == "Qx housing trust"
    assert updates("access.agency") == []


def test_scheme_settings_change_is_audited_with_reason(signed_in, db):
    scheme = Scheme.current()
    response = signed_in.post(
        reverse("admin:access_scheme_change", args=[scheme.pk]),
        form_data(scheme, contact_target_per_week=5, change_reason="Steering group, 3 March"),
    )
    assert response.status_code == 302
    scheme.refresh_from_db()
    assert scheme.contact_target_per_week == 5
    (event,) = updates("access.scheme")
    assert event.detail == {
        "fields": {"contact_target_per_week": {"old": 4, "new": 5}},
        "reason": "Steering group, 3 March",
    }


def test_reference_data_change_is_audited_with_reason(signed_in, db):
    category = OffenceCategoryFactory(name="Qx theft", harm_weight=Decimal("2.0"))
    response = signed_in.post(
        reverse("admin:offenders_offencecategory_change", args=[category.pk]),
        form_data(category, harm_weight="3.5", change_reason="HARM.md review 2025"),
    )
    assert response.status_code == 302
    (event,) = updates("offenders.offencecategory")
    assert event.detail == {
        "fields": {"harm_weight": {"old": "2.0", "new": "3.5"}},
        "reason": "HARM.md review 2025",
    }


def test_reading_staff_accounts_in_the_admin_is_audited(signed_in, key_worker):
    signed_in.get(reverse("admin:auth_user_changelist"))
    listed = AuditEvent.objects.get(action=AuditAction.LIST, record_type="auth.user")
    assert key_worker.pk in listed.record_ids
    signed_in.get(reverse("admin:auth_user_change", args=[key_worker.pk]))
    viewed = AuditEvent.objects.get(action=AuditAction.VIEW, record_type="auth.user")
    assert viewed.record_ids == [key_worker.pk]


def test_ppo_manager_sees_the_membership_change_in_the_audit_log(
    client, signed_in, admin_user, key_worker
):
    membership = key_worker.memberships.get()
    signed_in.post(
        reverse("admin:access_membership_change", args=[membership.pk]),
        form_data(membership, role=Role.PPO_MANAGER, change_reason=REASON),
    )
    manager = staff(Role.PPO_MANAGER, agency=Agency.objects.get(pk=membership.agency_id))
    sign_in(client, manager)
    response = client.get(reverse("audit-log"), {"user": admin_user.username})
    assert response.status_code == 200
    shown = [e for e in response.context["page"].object_list if e.action == AuditAction.UPDATE]
    assert [(e.record_type, e.record_ids) for e in shown] == [
        ("access.membership", [membership.pk])
    ]
    assert shown[0].detail["reason"] == REASON
    assert shown[0].detail["fields"]["role"]["new"] == Role.PPO_MANAGER
    page = response.content.decode()
    assert f"membership {membership.pk}" in page and "access.membership" not in page
    # The page itself says what changed and why, not only that something did.
    assert f"role: {Role.KEY_WORKER} → {Role.PPO_MANAGER}" in html.unescape(page)
    assert REASON in html.unescape(page)


def test_every_change_form_asks_for_the_reason(signed_in, key_worker):
    membership = key_worker.memberships.get()
    pages = [
        reverse("admin:auth_user_add"),
        reverse("admin:auth_user_change", args=[key_worker.pk]),
        reverse("admin:auth_user_password_change", args=[key_worker.pk]),
        reverse("admin:access_membership_add"),
        reverse("admin:access_membership_change", args=[membership.pk]),
        reverse("admin:access_agency_add"),
        reverse("admin:access_agency_change", args=[membership.agency_id]),
        reverse("admin:access_scheme_change", args=[Scheme.current().pk]),
        reverse("admin:offenders_offencecategory_add"),
        reverse("admin:pathways_pathway_add"),
    ]
    for url in pages:
        response = signed_in.get(url)
        assert response.status_code == 200, url
        assert 'name="change_reason"' in response.content.decode(), url


def test_own_account_page_is_read_only_and_shows_no_password_hash(signed_in, admin_user):
    response = signed_in.get(reverse("admin:auth_user_change", args=[admin_user.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="change_reason"' not in page
    assert 'name="first_name"' not in page
    assert admin_user.password.split("$")[-1] not in page


def test_new_account_is_audited_without_password_material(signed_in, db):
    password = "Lanternfish-rooftop-93"
    response = signed_in.post(
        reverse("admin:auth_user_add"),
        {
            "username": "qx.starter",
            "usable_password": "true",
            "password1": password,
            "password2": password,
            "change_reason": "New key worker, start date 1 May",
        },
    )
    assert response.status_code == 302
    created = User.objects.get(username="qx.starter")
    event = AuditEvent.objects.get(action=AuditAction.CREATE, record_type="auth.user")
    assert event.record_ids == [created.pk]
    assert event.detail["fields"]["username"] == {"new": "qx.starter"}
    assert event.detail["fields"]["password"] == {"changed": True}
    written = json.dumps(model_to_dict(event), default=str)
    assert password not in written
    assert created.password.split("$")[-1] not in written


def test_a_bank_holiday_is_added_with_a_reason_and_audited(signed_in, admin_user):
    # The clocks of issue 10 skip these days (offenders.working_days).
    from access.models import BankHoliday

    admin_user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="access", codename__in=["view_bankholiday", "add_bankholiday"]
        )
    )
    url = reverse("admin:access_bankholiday_add")
    data = {"day": "2028-01-03", "name": "New Year's Day (substitute day)"}
    signed_in.post(url, data)
    assert not BankHoliday.objects.filter(day=dt.date(2028, 1, 3)).exists()
    response = signed_in.post(url, {**data, "change_reason": REASON})
    assert response.status_code == 302
    holiday = BankHoliday.objects.get(day=dt.date(2028, 1, 3))
    (event,) = AuditEvent.objects.filter(
        action=AuditAction.CREATE, record_type="access.bankholiday"
    )
    assert event.record_ids == [holiday.pk] and event.detail["reason"] == REASON
