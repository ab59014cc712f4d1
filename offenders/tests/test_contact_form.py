"""Logging a contact safely and fast (issue 13.1): nothing pre-selected, face to face
folded into the type of contact, the GOV.UK date input and its messages, and "Save and
log another" back to the caseload with the next person's link focused."""

from __future__ import annotations

import datetime as dt
import html
import re
import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from access.models import Role
from offenders.forms import ContactForm, DrugTestForm
from offenders.log_another import next_to_log
from offenders.models import Contact, ContactKind, ContactOutcome, Supervision
from tests.factories import OffenderFactory, ProgrammeEpisodeFactory, sign_in, staff

# Written out here, not read from offenders.forms: which kinds are face to face.
FACE_TO_FACE_BY_KIND = {
    "office": True,
    "home_visit": True,
    "prison_visit": True,
    "report_centre": True,
    "outreach": True,
    "phone": False,
}


@pytest.fixture
def kw(db):
    return staff(Role.KEY_WORKER, username="kw", first_name="Kim", last_name="Walker")


def on_caseload(kw, **fields):
    person = OffenderFactory(key_worker=kw, supervision=Supervision.NONE, **fields)
    ProgrammeEpisodeFactory(offender=person)
    return person


@pytest.fixture
def ppo(kw):
    return on_caseload(kw)


def posted(**overrides):
    """What the page posts: the date in its three boxes, a time five minutes ago."""
    when = timezone.localtime() - dt.timedelta(minutes=5)
    data = {
        "kind": "office",
        "outcome": "attended",
        "date-day": str(when.day),
        "date-month": str(when.month),
        "date-year": str(when.year),
        "hour": str(when.hour),
        "minute": f"{when.minute:02d}",
        "note": "",
        "form_token": str(uuid.uuid4()),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def page_text(response):
    return " ".join(html.unescape(response.content.decode()).split())


def summary_links(response):
    """(href, text) of each link in the error summary."""
    body = response.content.decode()
    start = body.index('class="govuk-error-summary"')
    summary = body[start : body.index("</ul>", start)]
    return [
        (href, html.unescape(text).strip())
        for href, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>', summary)
    ]


# --- the form ------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "face_to_face"), sorted(FACE_TO_FACE_BY_KIND.items()))
def test_face_to_face_follows_from_the_type_of_contact(ppo, kind, face_to_face):
    form = ContactForm(posted(kind=kind), offender=ppo)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["kind"] == kind
    assert form.cleaned_data["face_to_face"] is face_to_face


def test_every_kind_of_contact_can_be_chosen_and_each_label_says_if_face_to_face(ppo):
    choices = dict(ContactForm(offender=ppo).fields["kind"].choices)
    assert set(choices) == set(ContactKind.values) == set(FACE_TO_FACE_BY_KIND)
    for kind, label in choices.items():
        expected = "– face to face" if FACE_TO_FACE_BY_KIND[kind] else "not face to face"
        assert expected in label


def test_a_face_to_face_box_posted_by_an_old_page_cannot_change_what_the_type_says(ppo):
    form = ContactForm(posted(kind="phone", face_to_face="on"), offender=ppo)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["face_to_face"] is False


def test_the_new_form_chooses_nothing_but_the_date_and_time(ppo):
    form = ContactForm(offender=ppo)
    form.initial_now()
    now = timezone.localtime()
    assert form.initial["date"] == now.date()
    assert {"hour", "minute"} <= set(form.initial)
    assert "kind" not in form.initial and form.fields["kind"].initial is None
    assert "outcome" not in form.initial and form.fields["outcome"].initial is None
    assert "face_to_face" not in form.fields


def test_the_untouched_form_asks_for_the_type_and_the_attendance_in_words(ppo):
    form = ContactForm(posted(kind=None, outcome=None), offender=ppo)
    assert not form.is_valid()
    assert form.errors["kind"] == ["Select the type of contact"]
    assert form.errors["outcome"] == ["Select whether the person attended"]
    assert set(form.errors) == {"kind", "outcome"}


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        (("", "", ""), "Enter the date of the contact"),
        (("", "3", "2026"), "The date of the contact must include a day"),
        (("4", "", "2026"), "The date of the contact must include a month"),
        (("4", "", ""), "The date of the contact must include a month and a year"),
        (("31", "2", "2026"), "The date of the contact must be a real date"),
        (("4", "13", "2026"), "The date of the contact must be a real date"),
        (("x", "3", "2026"), "The date of the contact must be a real date"),
        (("4", "3", "26"), "Year must include 4 numbers"),
        (("1", "1", "1899"), "The date of the contact must be on or after 1 January 1900"),
    ],
)
def test_bad_dates_get_the_gov_uk_date_input_messages(ppo, parts, message):
    day, month, year = parts
    form = ContactForm(
        posted(**{"date-day": day, "date-month": month, "date-year": year}), offender=ppo
    )
    assert not form.is_valid()
    assert form.errors["date"] == [message]


def test_a_date_before_the_person_was_born_is_refused(kw):
    person = on_caseload(kw, date_of_birth=dt.date(1990, 6, 1))
    form = ContactForm(
        posted(**{"date-day": "31", "date-month": "5", "date-year": "1990"}), offender=person
    )
    assert not form.is_valid()
    assert form.errors["date"] == [
        "The date of the contact cannot be before the person's date of birth (1 June 1990)"
    ]


def test_a_date_in_the_future_is_refused(ppo):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    form = ContactForm(
        posted(
            **{
                "date-day": str(tomorrow.day),
                "date-month": str(tomorrow.month),
                "date-year": str(tomorrow.year),
            }
        ),
        offender=ppo,
    )
    assert not form.is_valid()
    assert form.errors["date"] == ["The date of the contact must be today or in the past"]


def test_a_time_later_today_is_refused_on_the_time(ppo, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 4, 10, 0, tzinfo=dt.UTC), tick=False)
    later = posted(**{"date-day": "4", "date-month": "3", "date-year": "2026"})
    form = ContactForm({**later, "hour": "10", "minute": "01"}, offender=ppo)
    assert not form.is_valid()
    assert form.errors["hour"] == ["The time of the contact must be now or in the past"]
    assert "date" not in form.errors
    now = ContactForm({**later, "hour": "10", "minute": "00"}, offender=ppo)
    assert now.is_valid(), now.errors


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"hour": ""}, "hour", "The time of the contact must include an hour"),
        ({"minute": ""}, "minute", "The time of the contact must include a minute"),
        ({"hour": "24"}, "hour", "The hour must be a whole number from 0 to 23"),
        ({"minute": "60"}, "minute", "The minute must be a whole number from 0 to 59"),
        ({"hour": "ten"}, "hour", "The hour must be a whole number from 0 to 23"),
    ],
)
def test_bad_times_say_what_to_fix(ppo, overrides, field, message):
    form = ContactForm(posted(**overrides), offender=ppo)
    assert not form.is_valid()
    assert form.errors[field] == [message]


def test_the_drug_test_form_names_the_test_in_its_messages(ppo):
    form = DrugTestForm(
        posted(result="negative", **{"date-day": "", "date-month": "", "date-year": ""}),
        offender=ppo,
    )
    assert not form.is_valid()
    assert form.errors["date"] == ["Enter the date of the test"]


def test_a_date_posted_as_one_iso_value_is_still_read(ppo):
    when = timezone.localtime() - dt.timedelta(minutes=5)
    data = posted(**{"date-day": None, "date-month": None, "date-year": None})
    form = ContactForm({**data, "date": when.date().isoformat()}, offender=ppo)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["when"].date() == when.date()
    bad = ContactForm({**data, "date": "4/3/2026"}, offender=ppo)
    assert not bad.is_valid()
    assert bad.errors["date"] == ["The date of the contact must be a real date"]


# --- the page ------------------------------------------------------------------------


def test_the_page_uses_the_gov_uk_date_input_and_preselects_nothing(client, kw, ppo):
    response = sign_in(client, kw).get(reverse("offenders:contact-log", args=[ppo.pk]))
    body = response.content.decode()
    assert 'type="date"' not in body
    today = timezone.localdate()
    for part, value in (("day", today.day), ("month", today.month), ("year", today.year)):
        assert re.search(
            rf'name="date-{part}" type="text" inputmode="numeric" value="{value}"', body
        )
    radios = re.findall(r'<input class="govuk-radios__input"[^>]*>', body)
    assert len(radios) == len(ContactKind.values) + len(ContactOutcome.values)
    assert not [r for r in radios if "checked" in r]
    assert 'name="face_to_face"' not in body


def test_submitting_the_untouched_page_saves_nothing_and_links_each_error(client, kw, ppo):
    url = reverse("offenders:contact-log", args=[ppo.pk])
    response = sign_in(client, kw).post(url, posted(kind=None, outcome=None))
    assert response.status_code == 200
    assert Contact.objects.count() == 0
    links = summary_links(response)
    assert links == [
        ("#id_kind", "Select the type of contact"),
        ("#id_outcome", "Select whether the person attended"),
    ]
    body = response.content.decode()
    for href, _ in links:
        assert f'id="{href[1:]}"' in body
    assert "This field is required" not in body
    assert "<title>Error: " in body


def test_a_bad_date_on_the_page_links_to_the_day_box_and_keeps_what_was_typed(client, kw, ppo):
    url = reverse("offenders:contact-log", args=[ppo.pk])
    response = sign_in(client, kw).post(
        url, posted(**{"date-day": "31", "date-month": "2", "date-year": "2026"})
    )
    assert ("#id_date-day", "The date of the contact must be a real date") in summary_links(
        response
    )
    body = response.content.decode()
    assert 'id="id_date-day" name="date-day" type="text" inputmode="numeric" value="31"' in body
    assert Contact.objects.count() == 0


def test_the_contact_is_saved_face_to_face_or_not_as_its_type_says(client, kw, ppo):
    url = reverse("offenders:contact-log", args=[ppo.pk])
    sign_in(client, kw)
    assert client.post(url, posted(kind="home_visit")).status_code == 302
    assert client.post(url, posted(kind="phone", outcome="failed")).status_code == 302
    saved = {c.kind: (c.face_to_face, c.outcome) for c in Contact.objects.all()}
    assert saved == {"home_visit": (True, "attended"), "phone": (False, "failed")}


def test_a_repeated_post_of_the_same_page_saves_one_contact(client, kw, ppo):
    url = reverse("offenders:contact-log", args=[ppo.pk]) + "?row=0"
    token = "22222222-2222-4222-8222-222222222222"
    sign_in(client, kw)
    first = client.post(url, {**posted(), "another": "1", "form_token": token})
    again = client.post(url, {**posted(), "another": "1", "form_token": token}, follow=True)
    assert Contact.objects.count() == 1
    assert again.redirect_chain[0][0] == first.url
    assert "already saved" in page_text(again)


# --- "Save and log another" ----------------------------------------------------------


def test_save_and_log_another_goes_to_the_caseload_with_the_next_link_focused(client, kw):
    # The caseload in name order (its default): Adams, Brown, Clark.
    _adams, brown, clark = (on_caseload(kw, last_name=n) for n in ("Adams", "Brown", "Clark"))
    sign_in(client, kw)
    home = client.get(reverse("home"))
    link = re.search(
        rf'href="({re.escape(reverse("offenders:contact-log", args=[brown.pk]))}[^"]*)"',
        home.content.decode(),
    )
    assert link, "Brown's row has a Log contact link"
    form_url = html.unescape(link.group(1))
    assert form_url.endswith("?row=1")

    response = client.post(form_url, {**posted(), "another": "1"})
    assert response.status_code == 302
    assert response.url.startswith(reverse("home") + "?")
    landed = client.get(response.url)
    assert landed.context["focus_log_contact"] == clark.pk
    body = landed.content.decode()
    focused = re.findall(r"<a [^>]*autofocus[^>]*>", body)
    assert len(focused) == 1
    assert reverse("offenders:contact-log", args=[clark.pk]) in focused[0]
    assert f"Contact logged for {brown.full_name}" in page_text(landed)
    assert Contact.objects.get().offender == brown


def test_save_contact_without_another_still_goes_to_the_timeline(client, kw, ppo):
    url = reverse("offenders:contact-log", args=[ppo.pk]) + "?row=0"
    response = sign_in(client, kw).post(url, posted())
    assert response.url == reverse("offenders:timeline", args=[ppo.pk])


def test_the_caseload_options_come_back_after_log_another(client, kw):
    first, second = (on_caseload(kw, last_name=n) for n in ("Adams", "Brown"))
    sign_in(client, kw)
    # Name order reversed: Brown, then Adams.
    home = client.get(reverse("home"), {"sort": "name", "dir": "desc"}).content.decode()
    link = re.search(
        rf'href="({re.escape(reverse("offenders:contact-log", args=[second.pk]))}[^"]*)"', home
    )
    form_url = html.unescape(link.group(1))
    assert "dir=desc" in form_url
    response = client.post(form_url, {**posted(), "another": "1"})
    landed = client.get(response.url)
    assert landed.context["caseload"].query.direction == "desc"
    assert landed.context["focus_log_contact"] == first.pk


class Person:
    def __init__(self, pk):
        self.pk = pk


class Row:
    def __init__(self, pk, can_log_contact=True):
        self.offender = Person(pk)
        self.can_log_contact = can_log_contact


@pytest.mark.parametrize(
    ("order_now", "params", "focused"),
    [
        # Not reached by "log another": nothing focused.
        ([1, 2, 3], {}, None),
        ([1, 2, 3], {"after": "x"}, None),
        # Person 1 was on row 0 and is still there: the next is 2.
        ([1, 2, 3], {"after": "1", "row": "0"}, 2),
        # Sorted by need, person 1 moved down after the contact: 2 is still next.
        ([2, 3, 1], {"after": "1", "row": "0"}, 2),
        # Person 2 was on row 1 and moved to the end: 3 is next.
        ([1, 3, 4, 2], {"after": "2", "row": "1"}, 3),
        # The last person: nobody after them.
        ([1, 2, 3], {"after": "3", "row": "2"}, None),
        # From the profile (no row): the person after them in the list now.
        ([1, 2, 3], {"after": "2"}, 3),
        # Not on this list, no row: nothing.
        ([1, 2, 3], {"after": "9"}, None),
        # A row past the end: nothing; a nonsense row is as if none was given.
        ([1, 2, 3], {"after": "1", "row": "7"}, None),
        ([1, 2, 3], {"after": "1", "row": "-1"}, 2),
    ],
)
def test_next_to_log(order_now, params, focused):
    assert next_to_log([Row(pk) for pk in order_now], params) == focused


def test_next_to_log_skips_people_whose_contact_the_reader_may_not_log():
    rows = [Row(1), Row(2, can_log_contact=False), Row(3)]
    assert next_to_log(rows, {"after": "1", "row": "0"}) == 3
