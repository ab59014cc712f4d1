"""The Django admin: what it shows and changes goes through the policy and the audit trail."""

from __future__ import annotations

import pytest
from django.urls import reverse

from access.models import AuditAction, AuditEvent, Role
from offenders.models import ProgrammeKind
from tests.factories import OffenderFactory, ProgrammeEpisodeFactory, sign_in, staff


@pytest.fixture
def scheme(db):
    for name in ("Qxmine", "Qxtheirs", "Qxinside"):
        ProgrammeEpisodeFactory(offender=OffenderFactory(first_name=name), kind=ProgrammeKind.PPO)
    OffenderFactory(first_name="Qxpool")


def home(client, user):
    sign_in(client, user)
    return client.get(reverse("home"))


def test_administrator_has_no_casework(client, scheme):
    admin_user = staff(Role.ADMINISTRATOR, is_staff=True)
    page = home(client, admin_user).content.decode()
    assert "Administration" in page
    assert "Qxmine" not in page
    response = client.get(reverse("admin:offenders_offender_changelist"))
    assert response.status_code == 403


def test_admin_for_a_staff_manager_is_scoped_and_audited(client, scheme):
    manager = staff(Role.PPO_MANAGER, is_staff=True)
    sign_in(client, manager)
    response = client.get(reverse("admin:offenders_offender_changelist"))
    assert response.status_code == 200
    listed = AuditEvent.objects.get(action=AuditAction.LIST, channel="admin")
    assert len(listed.offender_ids) == 4
