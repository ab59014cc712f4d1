"""Recording a PPO transferring in from another area, and correcting it (003 §6.2(2)).

DESIGN.md rule 7: "a PPO transferring in from another area gets a selection review". The
page records the arrival through `transfer_in_record` and the review falls due at once;
the daily sweep, whose rule (selection.reviews.rules.transfer_in) raises the same review
from the same fact, then finds it already raised and raises nothing.

Today is Friday 12 June 2026. The people are invented: Qxarrive Penhallow, born
14 May 1990, on no tier; Qxsteady Orcutt, a PPO since 2024 (so the scheme exists and
the sweep may run).
"""

from __future__ import annotations

import datetime as dt
import html
import re
import uuid

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from access.models import AuditAction, AuditEvent, Role
from selection.models import Review, ReviewKind, ReviewOutcome, ReviewStatus, TransferIn
from selection.reviews import review_close, sweep
from selection.reviews.services import transfer_in_correct
from tests.factories import OffenderFactory, ProgrammeEpisodeFactory, sign_in, staff

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 12)
BORN = dt.date(1990, 5, 14)
ALL_ROLES = [
    Role.PPO_MANAGER,
    Role.KEY_WORKER,
    Role.POLICE_OFFICER,
    Role.YOT_WORKER,
    Role.PRISON_WORKER,
    Role.PARTNER_WORKER,
    Role.STEERING_GROUP,
    Role.ADMINISTRATOR,
]
# Written out from ACCESS.md "selection scores, panel decisions, reviews": readers see a
# person's transfers in; only the PPO manager records or corrects one. Qxarrive is on no
# tier, so only those whose scope holds the pool see them at all (manager, police): a key
# worker reads selection but the person is outside their scope (404).
LIST_STATUS = {
    Role.PPO_MANAGER: 200,
    Role.POLICE_OFFICER: 200,
    Role.KEY_WORKER: 404,
    Role.YOT_WORKER: 404,
    Role.PRISON_WORKER: 403,
    Role.PARTNER_WORKER: 403,
    Role.STEERING_GROUP: 403,
    Role.ADMINISTRATOR: 403,
}
FORM_STATUS = {role: 200 if role == Role.PPO_MANAGER else 403 for role in ALL_ROLES}


@pytest.fixture(autouse=True)
def on_the_day():
    with time_machine.travel(dt.datetime(2026, 6, 12, 11, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def manager():
    return staff(Role.PPO_MANAGER, first_name="Qxmanda", last_name="Arrivals")


@pytest.fixture
def person():
    # A PPO elsewhere, so that the scheme has a start and the sweep runs on TODAY.
    ProgrammeEpisodeFactory(
        offender=OffenderFactory(first_name="Qxsteady", last_name="Orcutt"),
        selected_on=dt.date(2024, 1, 1),
    )
    return OffenderFactory(first_name="Qxarrive", last_name="Penhallow", date_of_birth=BORN)


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def create_url(offender) -> str:
    return reverse("selection:transfer-in-create", args=[offender.pk])


def form(day: dt.date | None = None, **fields) -> dict[str, str]:
    day = day or dt.date(2026, 6, 3)
    data = {
        "from_scheme": "Nordshire PPO scheme",
        "from_area": "Nordshire",
        "arrived_on-day": str(day.day),
        "arrived_on-month": str(day.month),
        "arrived_on-year": str(day.year),
        "note": "Offender manager at Nordshire: Qxpat Lowry",
    }
    data.update(fields)
    return data


def transfer_reviews() -> list[Review]:
    return list(Review.objects.filter(kind=ReviewKind.TRANSFER_IN).order_by("pk"))


def error_summary(response) -> str:
    page = text_of(response)
    assert 'class="govuk-error-summary"' in page, "no error summary"
    return page.split('class="govuk-error-summary"', 1)[1].split("</ul>", 1)[0]


# --- recording: the review falls due at once, and the sweep does not raise it again --------


def test_recording_a_transfer_in_raises_its_selection_review_at_once(client, manager, person):
    sign_in(client, manager)
    response = client.post(create_url(person), form())

    assert response.status_code == 302
    assert response["Location"] == reverse("selection:transfers-in", args=[person.pk])
    transfer = TransferIn.objects.get()
    assert (transfer.offender, transfer.from_scheme, transfer.from_area, transfer.arrived_on) == (
        person,
        "Nordshire PPO scheme",
        "Nordshire",
        dt.date(2026, 6, 3),
    )
    assert transfer.note == "Offender manager at Nordshire: Qxpat Lowry"
    assert transfer.recorded_by == manager
    [review] = transfer_reviews()
    assert review.offender == person and review.status == ReviewStatus.OPEN
    assert review.basis == f"transfer:{transfer.pk}"
    # 003 §6.2(2): due on the day of arrival, raised today.
    assert (review.due_on, review.raised_on) == (dt.date(2026, 6, 3), TODAY)
    assert review.detail["from_scheme"] == "Nordshire PPO scheme"
    for record_type, pk in (("selection.transferin", transfer.pk), ("selection.review", review.pk)):
        assert AuditEvent.objects.filter(
            action=AuditAction.CREATE, record_type=record_type, record_ids=[pk], user=manager
        ).exists(), record_type

    shown = text_of(client.get(response["Location"]))
    assert "Transfer in recorded for Qxarrive Penhallow from Nordshire PPO scheme" in shown
    assert "a selection review is due from 3 June 2026" in shown
    listed = text_of(client.get(reverse("selection:reviews") + "?kind=transfer_in"))
    assert f'data-review="{review.pk}"' in listed


def test_the_sweep_finds_the_review_already_raised_and_raises_it_once(client, manager, person):
    sign_in(client, manager)
    client.post(create_url(person), form())
    [review] = transfer_reviews()

    first = sweep(as_of=TODAY)
    again = sweep(as_of=TODAY)

    assert ReviewKind.TRANSFER_IN not in first.raised
    assert ReviewKind.TRANSFER_IN not in again.raised
    assert transfer_reviews() == [review]
    # Closing it and sweeping again does not bring it back either.
    review_close(user=manager, review_id=review.pk, outcome=ReviewOutcome.NO_CHANGE, reason="Seen")
    sweep(as_of=TODAY)
    assert [(r.pk, r.status) for r in transfer_reviews()] == [(review.pk, ReviewStatus.CLOSED)]


def test_a_transfer_recorded_by_the_page_and_one_left_to_the_sweep_raise_one_review_each(
    client, manager, person
):
    """The page and the sweep name the review after the same fact: the sweep raises the
    arrival recorded without the page, and only that one."""
    from selection.reviews import transfer_in_record

    other = OffenderFactory(date_of_birth=BORN)
    quiet = transfer_in_record(
        user=manager,
        offender_id=other.pk,
        from_scheme="Sudshire PPO scheme",
        from_area="Sudshire",
        arrived_on=dt.date(2026, 6, 1),
    )
    assert transfer_reviews() == []
    sign_in(client, manager)
    client.post(create_url(person), form())

    result = sweep(as_of=TODAY)

    assert result.raised[ReviewKind.TRANSFER_IN] == 1
    assert sorted((r.offender_id, r.basis) for r in transfer_reviews()) == sorted(
        [
            (person.pk, f"transfer:{TransferIn.objects.get(offender=person).pk}"),
            (other.pk, f"transfer:{quiet.pk}"),
        ]
    )


def test_no_review_when_a_panel_has_selected_the_person_since_they_arrived(client, manager, person):
    # Selected on the day of arrival: a panel has already decided (the sweep's own rule).
    ProgrammeEpisodeFactory(offender=person, selected_on=dt.date(2026, 6, 3))
    sign_in(client, manager)
    response = client.post(create_url(person), form(dt.date(2026, 6, 3)), follow=True)

    assert TransferIn.objects.count() == 1
    assert transfer_reviews() == []
    assert "no selection review is due" in text_of(response)


def test_selected_the_day_before_arriving_still_gets_the_review(client, manager, person):
    ProgrammeEpisodeFactory(offender=person, selected_on=dt.date(2026, 6, 2))
    sign_in(client, manager)
    client.post(create_url(person), form(dt.date(2026, 6, 3)))
    assert [r.due_on for r in transfer_reviews()] == [dt.date(2026, 6, 3)]


# --- the day of arrival: today is accepted, tomorrow is not; nor before the birth -----------


@pytest.mark.parametrize(
    ("day", "problem"),
    [
        (TODAY, None),
        (TODAY + dt.timedelta(days=1), "The date of arrival cannot be in the future"),
        (BORN, None),
        (
            BORN - dt.timedelta(days=1),
            "The date of arrival cannot be before the person's date of birth (14 May 1990)",
        ),
    ],
)
def test_the_day_of_arrival_is_not_in_the_future_nor_before_birth(
    client, manager, person, day, problem
):
    sign_in(client, manager)
    response = client.post(create_url(person), form(day))
    if problem is None:
        assert response.status_code == 302
        assert TransferIn.objects.get().arrived_on == day
        assert [r.due_on for r in transfer_reviews()] == [day]
    else:
        assert response.status_code == 200
        assert problem in error_summary(response)
        assert 'href="#id_arrived_on-day"' in error_summary(response)
        assert not TransferIn.objects.exists() and transfer_reviews() == []


@pytest.mark.parametrize(
    ("fields", "message", "anchor"),
    [
        ({"from_scheme": "  "}, "Enter the scheme the person comes from", "id_from_scheme"),
        ({"from_area": ""}, "Enter the area the person comes from", "id_from_area"),
        (
            {"arrived_on-day": "", "arrived_on-month": "", "arrived_on-year": ""},
            "Enter the date the person arrived",
            "id_arrived_on-day",
        ),
        ({"arrived_on-month": ""}, "The date the person arrived must include a month", None),
        (
            {"arrived_on-day": "31", "arrived_on-month": "2"},
            "The date the person arrived must be a real date",
            None,
        ),
        ({"arrived_on-year": "26"}, "Year must include 4 numbers", None),
        ({"note": "x" * 2001}, "Notes must be 2,000 characters or fewer", "id_note"),
    ],
)
def test_bad_input_is_explained_and_nothing_is_saved(
    client, manager, person, fields, message, anchor
):
    sign_in(client, manager)
    response = client.post(create_url(person), form(**fields))
    assert response.status_code == 200
    summary = error_summary(response)
    assert message in summary
    if anchor:
        assert f'href="#{anchor}"' in summary
    assert text_of(response).count("<title>Error: ") == 1
    # What was typed is kept.
    if "from_area" not in fields:
        assert 'value="Nordshire"' in text_of(response)
    assert not TransferIn.objects.exists() and transfer_reviews() == []


def test_a_repeated_submission_is_recognised_and_saves_nothing_twice(client, manager, person):
    sign_in(client, manager)
    token = str(uuid.uuid4())
    first = client.post(create_url(person), {**form(), "form_token": token})
    second = client.post(create_url(person), {**form(), "form_token": token}, follow=True)

    assert first.status_code == 302
    assert TransferIn.objects.count() == 1 and len(transfer_reviews()) == 1
    assert "This was already saved: it has not been saved a second time." in text_of(second)


def test_a_post_without_its_token_is_told_the_page_was_out_of_date(manager, person):
    plain = sign_in(Client(), manager)
    response = plain.post(create_url(person), form())
    assert response.status_code == 200
    assert "the page was out of date" in error_summary(response)
    assert not TransferIn.objects.exists()


# --- who may --------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_who_opens_the_pages(client, person, role):
    user = staff(role)
    sign_in(client, user)
    assert client.get(create_url(person)).status_code == FORM_STATUS[role]
    listed = client.get(reverse("selection:transfers-in", args=[person.pk]))
    assert listed.status_code == LIST_STATUS[role]


@pytest.mark.parametrize("role", [r for r in ALL_ROLES if r != Role.PPO_MANAGER])
def test_only_the_manager_records_a_transfer_in(client, person, role):
    user = staff(role)
    sign_in(client, user)
    response = client.post(create_url(person), form())
    assert response.status_code == 403
    assert not TransferIn.objects.exists() and transfer_reviews() == []
    assert AuditEvent.objects.filter(action=AuditAction.DENIED, user=user).exists()


def test_a_person_who_does_not_exist_is_not_found(client, manager):
    sign_in(client, manager)
    assert client.get(reverse("selection:transfer-in-create", args=[987654])).status_code == 404
    assert client.get(reverse("selection:transfer-in-correct", args=[987654])).status_code == 404
    assert client.post(create_url_for(987654), form()).status_code == 404
    assert not TransferIn.objects.exists()


def create_url_for(offender_id: int) -> str:
    return reverse("selection:transfer-in-create", args=[offender_id])


def test_the_selection_tab_offers_the_page_to_the_manager_only(client, manager, person):
    tab = reverse("selection:person", args=[person.pk])
    sign_in(client, manager)
    page = text_of(client.get(tab))
    assert f'href="{create_url(person)}"' in page
    assert f'href="{reverse("selection:transfers-in", args=[person.pk])}"' in page
    sign_in(client, staff(Role.POLICE_OFFICER))
    page = text_of(client.get(tab))
    assert f'href="{create_url(person)}"' not in page
    assert f'href="{reverse("selection:transfers-in", args=[person.pk])}"' in page


def test_the_list_of_transfers_runs_a_fixed_number_of_queries(
    client, manager, person, django_assert_max_num_queries
):
    sign_in(client, manager)
    url = reverse("selection:transfers-in", args=[person.pk])
    client.post(create_url(person), form(dt.date(2026, 1, 5)))
    with CaptureQueriesContext(connection) as one:
        first = client.get(url)
    assert first.status_code == 200, first
    # Read now: the next request's request_started signal empties the queries log.
    queries_for_one = len(one.captured_queries)
    for day in range(6, 11):
        client.post(create_url(person), form(dt.date(2026, 1, day)))
    with django_assert_max_num_queries(queries_for_one):
        page = text_of(client.get(url))
    assert len(re.findall(r'data-transfer="\d+"', page)) == 6
    assert page.count("Due</strong> from") == 6


# --- correcting -----------------------------------------------------------------------------


def record(client, manager, person, day=dt.date(2026, 6, 3)) -> TransferIn:
    sign_in(client, manager)
    client.post(create_url(person), form(day))
    return TransferIn.objects.get(offender=person)


def correct_url(transfer: TransferIn) -> str:
    return reverse("selection:transfer-in-correct", args=[transfer.pk])


def test_the_correction_form_shows_what_was_recorded(client, manager, person):
    transfer = record(client, manager, person)
    page = text_of(client.get(correct_url(transfer)))
    assert 'value="Nordshire PPO scheme"' in page
    assert 'name="arrived_on-day" type="text" inputmode="numeric" autocomplete="off" value="3"' in (
        page
    )


def test_a_correction_moves_the_open_review_with_it_and_is_audited(client, manager, person):
    transfer = record(client, manager, person)
    [review] = transfer_reviews()

    response = client.post(
        correct_url(transfer), form(dt.date(2026, 6, 1), from_scheme="Nordshire IOM scheme")
    )

    assert response.status_code == 302
    transfer.refresh_from_db()
    review.refresh_from_db()
    assert (transfer.from_scheme, transfer.arrived_on) == (
        "Nordshire IOM scheme",
        dt.date(2026, 6, 1),
    )
    assert review.due_on == dt.date(2026, 6, 1)
    assert review.detail["from_scheme"] == "Nordshire IOM scheme"
    changed = AuditEvent.objects.get(
        action=AuditAction.UPDATE, record_type="selection.transferin", record_ids=[transfer.pk]
    )
    assert changed.detail["fields"] == ["arrived_on", "from_scheme"]
    moved = AuditEvent.objects.get(
        action=AuditAction.UPDATE, record_type="selection.review", record_ids=[review.pk]
    )
    assert moved.detail["fields"] == ["detail", "due_on"]
    # Still one review for the arrival, before and after a sweep.
    sweep(as_of=TODAY)
    assert transfer_reviews() == [review]


def test_a_correction_leaves_a_closed_review_as_it_was_closed(client, manager, person):
    transfer = record(client, manager, person)
    [review] = transfer_reviews()
    review_close(user=manager, review_id=review.pk, outcome=ReviewOutcome.NO_CHANGE, reason="Seen")

    client.post(correct_url(transfer), form(dt.date(2026, 6, 1)))

    review.refresh_from_db()
    transfer.refresh_from_db()
    assert transfer.arrived_on == dt.date(2026, 6, 1)
    assert (review.status, review.due_on) == (ReviewStatus.CLOSED, dt.date(2026, 6, 3))
    assert len(transfer_reviews()) == 1


def test_a_correction_into_the_future_or_with_nothing_changed_is_refused(client, manager, person):
    transfer = record(client, manager, person)

    future = client.post(correct_url(transfer), form(TODAY + dt.timedelta(days=1)))
    same = client.post(correct_url(transfer), form())

    assert "The date of arrival cannot be in the future" in error_summary(future)
    assert "Nothing was changed" in error_summary(same)
    transfer.refresh_from_db()
    assert transfer.arrived_on == dt.date(2026, 6, 3)
    assert [r.due_on for r in transfer_reviews()] == [dt.date(2026, 6, 3)]
    assert not AuditEvent.objects.filter(
        action=AuditAction.UPDATE, record_type="selection.transferin"
    ).exists()


@pytest.mark.parametrize("role", [Role.POLICE_OFFICER, Role.KEY_WORKER, Role.ADMINISTRATOR])
def test_only_the_manager_corrects_a_transfer_in(client, manager, person, role):
    transfer = record(client, manager, person)
    sign_in(client, staff(role))
    assert client.get(correct_url(transfer)).status_code == 403
    assert client.post(correct_url(transfer), form(dt.date(2026, 6, 1))).status_code == 403
    transfer.refresh_from_db()
    assert transfer.arrived_on == dt.date(2026, 6, 3)


def test_the_correction_service_refuses_another_role():
    from access.errors import NotPermitted

    with pytest.raises(NotPermitted):
        transfer_in_correct(
            user=staff(Role.POLICE_OFFICER),
            transfer_id=1,
            from_scheme="A",
            from_area="B",
            arrived_on=TODAY,
        )


def test_the_reviews_list_offers_the_correction_beside_a_transfer_in_review(
    client, manager, person
):
    transfer = record(client, manager, person)
    listed = text_of(client.get(reverse("selection:reviews") + "?kind=transfer_in"))
    assert f'href="{correct_url(transfer)}"' in listed
