"""The reports pages: the steering group gets figures and no person's page; a key worker
gets no report; the self-assessment form saves once, and shows bad input and a stale
version in the error summary."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from access.models import Role
from reporting.models import SelfAssessment
from tests.factories import OffenderFactory, ProgrammeEpisodeFactory, sign_in, staff


@pytest.fixture
def person(db):
    offender = OffenderFactory(first_name="Zanwick", last_name="Pellorath")
    ProgrammeEpisodeFactory(offender=offender, selected_on=dt.date(2024, 1, 1))
    return offender


def test_the_steering_group_gets_the_figures_and_no_person(client, person):
    sign_in(client, staff(Role.STEERING_GROUP))
    for url in (
        reverse("reporting:index"),
        reverse("reporting:profile"),
        reverse("reporting:self-assessment"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "Pellorath" not in response.content.decode()
    page = client.get(reverse("reporting:profile")).content.decode()
    assert 'data-testid="total">1<' in page
    assert "Reports" in client.get(reverse("home")).content.decode()
    # No person's page: refused (a 404 today, as for anyone out of scope).
    assert client.get(reverse("offenders:detail", args=[person.pk])).status_code in (403, 404)
    edit = reverse("reporting:self-assessment-edit", args=[2024, "3.2"])
    assert client.get(edit).status_code == 403


@pytest.mark.parametrize("role", [Role.KEY_WORKER, Role.POLICE_OFFICER])
def test_roles_without_aggregates_get_403_on_reports(client, db, role):
    sign_in(client, staff(role))
    assert client.get(reverse("reporting:profile")).status_code == 403
    assert client.get(reverse("reporting:self-assessment")).status_code == 403


def test_a_bad_date_is_a_message_not_a_500(client, db):
    sign_in(client, staff(Role.PPO_MANAGER))
    response = client.get(reverse("reporting:profile"), {"as_of": "31/02/2025"})
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()
    future = client.get(reverse("reporting:profile"), {"as_of": "2999-01-01"})
    assert "in the future" in future.content.decode()


def test_rating_a_subsection_saves_once_and_refuses_bad_input(client, db):
    manager = staff(Role.PPO_MANAGER)
    sign_in(client, manager)
    year = 2024
    url = reverse("reporting:self-assessment-edit", args=[year, "4.1"])
    assert client.get(url).status_code == 200
    bad = client.post(url, {"version": 0, "rag": "purple", "evidence": ""})
    assert bad.status_code == 200
    text = bad.content.decode()
    assert "Choose a rating" in text and "Enter the evidence" in text
    assert not SelfAssessment.objects.exists()
    data = {"version": 0, "rag": "amber", "evidence": "Gaps mapped", "form_token": "a" * 32}
    first = client.post(url, data)
    assert first.status_code == 302
    again = client.post(url, data)
    assert again.status_code == 302
    assert SelfAssessment.objects.get().version == 1
    stale = client.post(url, {"version": 0, "rag": "green", "evidence": "Other"})
    assert "changed on" in stale.content.decode()
    assert SelfAssessment.objects.get().rag == "amber"
