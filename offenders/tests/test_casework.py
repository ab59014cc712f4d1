"""Logging work from the profile and the timeline that shows it, per role."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from access.models import AgencyKind, AuditAction, AuditEvent, Role
from offenders.models import (
    Contact,
    DrugTest,
    EventKind,
    GradeChange,
    OffendingEvent,
    Supervision,
)
from tests.factories import (
    AgencyFactory,
    ContactFactory,
    CustodyEpisodeFactory,
    DrugTestFactory,
    OffenderFactory,
    OffendingEventFactory,
    ProgrammeEpisodeFactory,
    ReferralFactory,
    sign_in,
    staff,
)


@pytest.fixture
def kw(db):
    return staff(Role.KEY_WORKER, username="kw")


@pytest.fixture
def ppo(db, kw):
    person = OffenderFactory(key_worker=kw, supervision=Supervision.LICENCE)
    ProgrammeEpisodeFactory(offender=person)
    return person


def contact_form(**overrides):
    now = timezone.localtime() - dt.timedelta(minutes=5)
    data = {
        "date": now.date().isoformat(),
        "hour": str(now.hour),
        "minute": str(now.minute),
        "kind": "office",
        "face_to_face": "on",
        "outcome": "attended",
        "note": "Talked about the housing application.",
    }
    data.update(overrides)
    return data


def test_the_contact_form_defaults_to_now_and_chooses_nothing_else(client, kw, ppo):
    # Issue 13.1: nothing pre-selected; face to face is part of the type of contact.
    response = sign_in(client, kw).get(reverse("offenders:contact-log", args=[ppo.pk]))
    form = response.context["form"]
    now = timezone.localtime()
    assert form.initial["date"] == now.date()
    assert "face_to_face" not in form.fields
    assert form.fields["outcome"].initial is None
    assert form.fields["kind"].initial is None


def test_logging_a_contact_lands_at_the_top_of_the_timeline(client, kw, ppo):
    ContactFactory(offender=ppo, occurred_at=timezone.now() - dt.timedelta(days=3))
    response = sign_in(client, kw).post(
        reverse("offenders:contact-log", args=[ppo.pk]), contact_form()
    )
    assert response.status_code == 302
    assert response.url == reverse("offenders:timeline", args=[ppo.pk])
    contact = Contact.objects.get(note__startswith="Talked")
    assert contact.worker == kw
    assert contact.agency == kw.memberships.get().agency
    assert contact.enforcement_flagged is False
    timeline = client.get(response.url).context["timeline"]
    assert timeline.items[0].title == "Contact: office"
    assert (
        AuditEvent.objects.filter(
            action=AuditAction.CREATE, record_type="offenders.contact"
        ).count()
        == 1
    )


def test_a_failed_to_attend_on_licence_opens_a_case_and_says_by_when(client, kw, ppo, time_machine):
    # Monday 2 March 2026: 5 working days (001 §3.2e, the scheme's standard) is Monday 9 March.
    time_machine.move_to(dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC), tick=False)
    response = sign_in(client, kw).post(
        reverse("offenders:contact-log", args=[ppo.pk]), contact_form(outcome="failed"), follow=True
    )
    text = " ".join(html.unescape(response.content.decode()).split())
    owner = kw.get_full_name() or kw.username
    assert (
        "Failed to attend while on licence: an enforcement case is open, owned by "
        f"{owner}; a recall request is due by Monday 9 March 2026"
    ) in text
    assert Contact.objects.get().enforcement_flagged is True


def test_a_failed_to_attend_without_supervision_is_not_flagged(client, kw, ppo):
    ppo.supervision = Supervision.NONE
    ppo.save()
    sign_in(client, kw).post(
        reverse("offenders:contact-log", args=[ppo.pk]), contact_form(outcome="failed")
    )
    assert Contact.objects.get().enforcement_flagged is False


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"date": (timezone.localdate() + dt.timedelta(days=1)).isoformat()},
            "must be today or in the past",
        ),
        ({"hour": "25"}, "The hour must be a whole number from 0 to 23"),
        ({"kind": "carrier pigeon"}, "Select the type of contact from the list"),
        ({"date": ""}, "Enter the date of the contact"),
    ],
)
def test_bad_contact_input_saves_nothing(client, kw, ppo, overrides, message):
    response = sign_in(client, kw).post(
        reverse("offenders:contact-log", args=[ppo.pk]), contact_form(**overrides)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Contact.objects.count() == 0


def test_a_contact_for_someone_outside_scope_is_refused(client, kw):
    outsider = OffenderFactory()
    response = sign_in(client, kw).post(
        reverse("offenders:contact-log", args=[outsider.pk]), contact_form()
    )
    assert response.status_code == 404
    assert Contact.objects.count() == 0


def test_a_drug_test_result_without_a_date_or_substances_is_refused(client, kw, ppo):
    url = reverse("offenders:drug-test", args=[ppo.pk])
    data = contact_form(result="positive", substances="")
    response = sign_in(client, kw).post(url, data)
    assert "Enter the substances found" in response.content.decode()
    response = client.post(url, {**data, "date": "", "substances": "opiates"})
    assert "Enter the date of the test" in response.content.decode()
    assert DrugTest.objects.count() == 0
    assert client.post(url, {**data, "substances": "opiates"}).status_code == 302
    assert DrugTest.objects.get().substances == "opiates"


def test_police_record_an_arrest_and_a_key_worker_cannot(client, kw, ppo):
    url = reverse("offenders:event-record", args=[ppo.pk])
    data = {"kind": "arrest", "category": "", "occurred_on": "2026-01-05", "summary": "Shop theft"}
    assert sign_in(client, kw).post(url, data).status_code == 403
    police = staff(Role.POLICE_OFFICER)
    response = sign_in(client, police).post(url, data)
    assert "Choose the offence category" in response.content.decode()
    from offenders.models import OffenceCategory

    data["category"] = str(OffenceCategory.objects.get(name="Shoplifting").pk)
    assert client.post(url, data).status_code == 302
    event = OffendingEvent.objects.get()
    assert event.source_reference.startswith("PPOCASE-")
    assert event.recorded_by == police


def test_grade_change_keeps_its_history(client, ppo):
    police = staff(Role.POLICE_OFFICER)
    url = reverse("offenders:grade-change", args=[ppo.pk])
    response = sign_in(client, police).post(url, {"to_grade": "red", "reason": ""})
    assert "This field is required" in response.content.decode()
    client.post(url, {"to_grade": "red", "reason": "Arrested twice this month"})
    client.post(url, {"to_grade": "blue", "reason": "Remanded"})
    history = list(GradeChange.objects.order_by("changed_at").values_list("from_grade", "to_grade"))
    assert history == [("", "red"), ("red", "blue")]
    ppo.refresh_from_db()
    assert ppo.iom_grade == "blue"
    same = client.post(url, {"to_grade": "blue", "reason": "again"})
    assert "already has this grade" in same.content.decode()


def test_release_closes_the_open_custody_episode(client, kw, ppo):
    episode = CustodyEpisodeFactory(offender=ppo, started_on=dt.date(2025, 1, 1))
    url = reverse("offenders:custody-release", args=[ppo.pk])
    response = sign_in(client, kw).post(url, {"released_on": "2024-12-01"})
    assert "Release cannot be before the start of custody" in response.content.decode()
    client.post(url, {"released_on": "2026-01-10", "supervision_on_release": "licence"})
    episode.refresh_from_db()
    assert episode.released_on == dt.date(2026, 1, 10)
    response = client.post(url, {"released_on": "2026-01-11"})
    assert "no open custody episode" in response.content.decode()


def test_timeline_shows_each_role_only_what_the_policy_allows(client, ppo):
    prison = AgencyFactory(name="Prison agency", kind=AgencyKind.PRISON)
    treatment = AgencyFactory(name="Treatment / CJIT agency", kind=AgencyKind.TREATMENT)
    CustodyEpisodeFactory(offender=ppo, establishment=prison, started_on=dt.date(2026, 1, 1))
    ReferralFactory(offender=ppo, agency=treatment)
    OffendingEventFactory(
        offender=ppo, kind=EventKind.INTELLIGENCE, category=None, summary="Seen at X"
    )
    OffendingEventFactory(offender=ppo, kind=EventKind.ARREST)
    ContactFactory(offender=ppo, agency=prison, note="prison contact")
    ContactFactory(offender=ppo, note="probation contact")
    DrugTestFactory(offender=ppo)

    def kinds_for(role, agency=None):
        user = staff(role, agency=agency) if agency else staff(role)
        timeline = (
            sign_in(client, user)
            .get(reverse("offenders:timeline", args=[ppo.pk]))
            .context["timeline"]
        )
        return [i.kind for i in timeline.items], timeline

    kinds, _ = kinds_for(Role.POLICE_OFFICER)
    assert kinds.count("intelligence") == 1 and kinds.count("contact") == 2
    kinds, timeline = kinds_for(Role.KEY_WORKER)
    assert "intelligence" not in kinds and kinds.count("offending") == 1
    assert timeline.counts_only == {"intelligence reports": 1}
    kinds, _ = kinds_for(Role.PRISON_WORKER, prison)
    assert "intelligence" not in kinds
    assert kinds.count("contact") == 1  # their own establishment's only
    kinds, timeline = kinds_for(Role.PARTNER_WORKER, treatment)
    assert "offending" not in kinds and "intelligence" not in kinds and "grade" not in kinds
    assert "contact" not in kinds  # none by their agency
    assert "drug_test" in kinds  # treatment partners read drug tests
    assert timeline.counts_only == {"offending events": 1}
    # ACCESS.md: custody for a partner is "in custody yes/no, release date" only — no
    # history of dates into and out of custody (the old timeline showed them).
    assert "custody" not in kinds and "custody" not in timeline.available_kinds
    assert timeline.custody_summary.in_custody is True
    page = client.get(reverse("offenders:timeline", args=[ppo.pk])).content.decode()
    assert "1 January 2026" not in page and "Prison agency" not in page


def test_timeline_filters_by_kind(client, kw, ppo):
    ContactFactory(offender=ppo)
    DrugTestFactory(offender=ppo)
    timeline = (
        sign_in(client, kw)
        .get(reverse("offenders:timeline", args=[ppo.pk]), {"kind": ["drug_test", "nonsense"]})
        .context["timeline"]
    )
    assert {i.kind for i in timeline.items} == {"drug_test"}


@pytest.mark.parametrize("url_name", ["offenders:detail", "offenders:timeline"])
def test_profile_and_timeline_queries_do_not_grow_with_the_record(client, kw, ppo, url_name):
    def count_queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse(url_name, args=[ppo.pk])).status_code == 200
        return len(ctx.captured_queries)

    sign_in(client, kw)
    for _ in range(2):
        ContactFactory(offender=ppo)
        DrugTestFactory(offender=ppo)
        OffendingEventFactory(offender=ppo)
    count_queries()  # the first request also creates the scheme's settings (Scheme.current)
    few = count_queries()
    for _ in range(40):
        ContactFactory(offender=ppo)
        DrugTestFactory(offender=ppo)
        OffendingEventFactory(offender=ppo)
    assert count_queries() == few


def test_profile_header_says_where_in_custody_and_the_release_date(client, kw, ppo):
    prison = AgencyFactory(name="HMP Invented", kind=AgencyKind.PRISON)
    CustodyEpisodeFactory(
        offender=ppo,
        establishment=prison,
        started_on=dt.date(2026, 1, 1),
        expected_release_on=dt.date(2027, 3, 4),
    )
    page = sign_in(client, kw).get(reverse("offenders:detail", args=[ppo.pk])).content.decode()
    assert "at HMP Invented, expected release 4 March 2027" in page


def test_a_contact_can_be_logged_straight_from_a_caseload_row(client, kw, ppo):
    page = sign_in(client, kw).get(reverse("home")).content.decode()
    # The link carries the row (offenders.log_another): "Save and log another" goes on
    # to the next person.
    assert f'href="{reverse("offenders:contact-log", args=[ppo.pk])}?row=0"' in page


def test_no_log_contact_link_where_the_person_is_read_only(client, ppo):
    treatment = AgencyFactory(name="Treatment / CJIT agency", kind=AgencyKind.TREATMENT)
    ReferralFactory(
        offender=ppo, agency=treatment, closed_on=timezone.localdate() - dt.timedelta(days=10)
    )
    partner = staff(Role.PARTNER_WORKER, agency=treatment)
    response = sign_in(client, partner).get(reverse("home"))
    assert ppo.last_name in response.content.decode()  # still readable for 3 months
    assert reverse("offenders:contact-log", args=[ppo.pk]) not in response.content.decode()
    assert response.context["caseload"].shows_actions is False


def test_every_radio_has_a_label_and_errors_link_to_a_real_field(client, kw, ppo):
    url = reverse("offenders:contact-log", args=[ppo.pk])
    page = sign_in(client, kw).get(url).content.decode()
    radio_ids = re.findall(r'<input class="govuk-radios__input" id="([^"]*)"', page)
    assert radio_ids and all(radio_ids)
    for radio_id in radio_ids:
        assert f'for="{radio_id}"' in page
    bad = client.post(url, contact_form(kind="carrier pigeon")).content.decode()
    target = re.search(r'<li><a href="#([^"]+)">Select the type of contact', bad)
    assert target and f'id="{target.group(1)}"' in bad


@pytest.mark.parametrize("url_name", ["offenders:detail", "offenders:timeline", "home"])
def test_pages_run_the_same_queries_with_5_and_200_ppos(client, kw, ppo, url_name):
    def count_queries() -> int:
        args = [] if url_name == "home" else [ppo.pk]
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse(url_name, args=args)).status_code == 200
        return len(ctx.captured_queries)

    def add_ppos(n: int) -> None:
        for _ in range(n):
            person = OffenderFactory(key_worker=kw)
            ProgrammeEpisodeFactory(offender=person)
            ContactFactory(offender=person)

    sign_in(client, kw)
    add_ppos(4)
    count_queries()  # the first request creates the scheme's settings row and the session
    with_5 = count_queries()
    add_ppos(195)
    assert count_queries() == with_5


def test_timeline_shows_a_chosen_period(client, kw, ppo):
    for day in (3, 10, 20):
        ContactFactory(offender=ppo, occurred_at=dt.datetime(2026, 3, day, 12, tzinfo=dt.UTC))
    OffendingEventFactory(offender=ppo, occurred_on=dt.date(2026, 3, 15))
    response = sign_in(client, kw).get(
        reverse("offenders:timeline", args=[ppo.pk]),
        {"date_from": "2026-03-05", "date_to": "15/03/2026"},
    )
    items = response.context["timeline"].items
    assert [(i.kind, timezone.localtime(i.at).day) for i in items] == [
        ("offending", 15),
        ("contact", 10),
    ]
    assert "from 5 March 2026 to 15 March 2026" in response.content.decode()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"date_from": "2026-02-30"}, "Enter a valid date"),
        ({"date_from": "2026-03-10", "date_to": "2026-03-01"}, "must be the same as or after"),
    ],
)
def test_a_bad_period_is_explained_and_the_whole_timeline_shown(client, kw, ppo, params, message):
    ContactFactory(offender=ppo)
    response = sign_in(client, kw).get(reverse("offenders:timeline", args=[ppo.pk]), params)
    page = response.content.decode()
    assert response.status_code == 200
    assert message in page and "There is a problem" in page
    assert page.startswith("<!DOCTYPE html>") and "<title>Error: " in page
    assert len(response.context["timeline"].items) == 2  # the contact and the selection


def test_the_timeline_says_when_older_records_are_not_shown(client, kw, ppo, monkeypatch):
    from offenders import timeline

    monkeypatch.setattr(timeline, "PER_KIND_LIMIT", 3)
    for _ in range(4):
        ContactFactory(offender=ppo)
    response = sign_in(client, kw).get(reverse("offenders:timeline", args=[ppo.pk]))
    assert response.context["timeline"].truncated == ["Contacts"]
    assert len([i for i in response.context["timeline"].items if i.kind == "contact"]) == 3
    assert "Only the latest 3 records of each kind are shown for contacts" in (
        response.content.decode()
    )
