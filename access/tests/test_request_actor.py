"""One actor per request (issue 15 "fixed cost"): each user's membership is read once
per request, never remembered across requests, and read again within a request once a
membership is saved."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from access.context import audit_context
from access.models import Membership, Role
from access.policy import actor_for
from offenders.models import ProgrammeKind
from tests.factories import OffenderFactory, ProgrammeEpisodeFactory, sign_in, staff

pytestmark = pytest.mark.django_db


def _membership_reads(captured: CaptureQueriesContext) -> int:
    return sum('FROM "access_membership"' in q["sql"] for q in captured.captured_queries)


@pytest.fixture
def key_worker():
    user = staff(Role.KEY_WORKER, username="kw-request")
    person = OffenderFactory(first_name="Qzmine", key_worker=user)
    ProgrammeEpisodeFactory(offender=person, kind=ProgrammeKind.PPO)
    return user, person


@pytest.mark.parametrize("page", ["home", "list", "detail"])
def test_a_page_reads_the_users_membership_once(client, key_worker, page):
    user, person = key_worker
    path = {
        "home": reverse("home"),
        "list": reverse("offenders:list"),
        "detail": reverse("offenders:detail", args=[person.pk]),
    }[page]
    sign_in(client, user)
    client.get(path)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    # The view, the navigation and each selector ask; before issue 15 this was 2-4 reads.
    assert _membership_reads(captured) == 1


def test_a_membership_ended_between_requests_ends_access_at_once(client, key_worker):
    user, person = key_worker
    sign_in(client, user)
    detail = reverse("offenders:detail", args=[person.pk])
    assert client.get(detail).status_code == 200
    Membership.objects.filter(user=user).update(ended_on=timezone.localdate())
    assert client.get(detail).status_code in (403, 404)
    assert "Qzmine" not in client.get(reverse("offenders:list")).content.decode()


def test_within_a_request_the_membership_is_read_once_until_one_is_saved(key_worker):
    user, _ = key_worker
    today = timezone.localdate()
    with audit_context(channel="web", in_request=True):
        with CaptureQueriesContext(connection) as captured:
            first = actor_for(user)
            again = actor_for(user)
        assert first.role == again.role == Role.KEY_WORKER
        assert _membership_reads(captured) == 1
        # Another day is another question.
        with CaptureQueriesContext(connection) as captured:
            actor_for(user, today - dt.timedelta(days=1))
        assert _membership_reads(captured) == 1
        membership = Membership.objects.get(user=user)
        membership.ended_on = today
        membership.save()
        with CaptureQueriesContext(connection) as captured:
            after = actor_for(user)
        assert _membership_reads(captured) == 1
        assert after.membership is None and after.role is None


def test_outside_a_request_every_call_reads_the_database(key_worker):
    user, _ = key_worker
    with CaptureQueriesContext(connection) as captured:
        actor_for(user)
        actor_for(user)
    assert _membership_reads(captured) == 2
    Membership.objects.filter(user=user).update(ended_on=timezone.localdate())
    assert actor_for(user).membership is None
