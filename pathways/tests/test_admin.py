"""The providers directory is kept in the Django admin by the administrator, each change
audited with its reason (access.admin_audit), like the other reference data."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from access.models import AuditAction, AuditEvent, Role
from pathways.models import Provider
from tests.factories import sign_in, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def administrator(world):
    user = staff(Role.ADMINISTRATOR, is_staff=True, username="qx.admin")
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="pathways",
            codename__in=["view_provider", "add_provider", "change_provider"],
        )
    )
    return user


def test_the_administrator_adds_a_provider_with_a_reason_and_it_is_audited(
    client, world, administrator
):
    sign_in(client, administrator)
    page = client.get(reverse("admin:pathways_provider_add"))
    assert page.status_code == 200 and 'name="change_reason"' in page.content.decode()
    response = client.post(
        reverse("admin:pathways_provider_add"),
        {
            "name": "Eastfield Money Advice",
            "agency": world.treatment.pk,
            "pathways": [world.finance.pk],
            "reserved_places": 2,
            "reserved_note": "",
            "phone": "",
            "email": "",
            "address": "",
            "active": "on",
            "change_reason": "New debt advice service for the scheme",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    provider = Provider.objects.get(name="Eastfield Money Advice")
    assert list(provider.pathways.all()) == [world.finance]
    row = AuditEvent.objects.get(action=AuditAction.CREATE, record_type="pathways.provider")
    assert row.record_ids == [provider.pk]


def test_a_ppo_manager_does_not_use_the_admin(client, world):
    sign_in(client, world.manager)
    assert client.get(reverse("admin:pathways_provider_changelist")).status_code in (302, 403)
