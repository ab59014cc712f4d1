"""Lists that scale (issue 13 items 6 and 8): page numbers, the timeline in pages, the audit
log in words, and the prison's list with release dates."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from access.models import AgencyKind, AuditEvent, Role
from offenders.models import Supervision
from tests.factories import (
    AgencyFactory,
    ContactFactory,
    CustodyEpisodeFactory,
    OffenderFactory,
    ProgrammeEpisodeFactory,
    sign_in,
    staff,
)


def page_links(page_number: int, pages: int) -> list[str]:
    page = Paginator(range(pages * 10), 10).get_page(page_number)
    markup = render_to_string("includes/pagination.html", {"page": page, "query": "q=x"})
    found = re.findall(r'govuk-pagination__item[^"]*">(?:<a[^>]*>)?([^<]+)', markup)
    return [html.unescape(text) for text in found]


@pytest.mark.parametrize(
    ("number", "pages", "shown"),
    [
        (1, 2, ["1", "2"]),
        (1, 9, ["1", "2", "⋯", "9"]),
        (5, 9, ["1", "⋯", "4", "5", "6", "⋯", "9"]),
        (3, 9, ["1", "2", "3", "4", "⋯", "9"]),
        (8, 9, ["1", "⋯", "7", "8", "9"]),
        (9, 9, ["1", "⋯", "8", "9"]),
        (2, 3, ["1", "2", "3"]),
    ],
)
def test_pagination_numbers_the_pages_around_this_one_first_and_last(number, pages, shown):
    assert page_links(number, pages) == shown


def test_pagination_marks_the_current_page_and_keeps_the_filters():
    page = Paginator(range(100), 10).get_page(4)
    markup = render_to_string("includes/pagination.html", {"page": page, "query": "q=ann&tier=ppo"})
    assert 'href="?q=ann&amp;tier=ppo&amp;page=4" aria-label="Page 4" aria-current="page"' in (
        markup
    )
    assert 'href="?q=ann&amp;tier=ppo&amp;page=3" rel="prev"' in markup
    assert 'href="?q=ann&amp;tier=ppo&amp;page=5" rel="next"' in markup
    assert "Showing <b>31</b> to <b>40</b> of <b>100</b> results" in markup
    one_page = Paginator(range(5), 10).get_page(1)
    assert "govuk-pagination" not in render_to_string(
        "includes/pagination.html", {"page": one_page}
    )


# --- The timeline in pages ----------------------------------------------------------------


@pytest.fixture
def kw(db):
    return staff(Role.KEY_WORKER, username="kw")


@pytest.fixture
def ppo(db, kw):
    person = OffenderFactory(key_worker=kw, supervision=Supervision.LICENCE)
    ProgrammeEpisodeFactory(offender=person, selected_on=dt.date(2020, 1, 1))
    return person


def contacts(ppo, n):
    now = timezone.now()
    return [ContactFactory(offender=ppo, occurred_at=now - dt.timedelta(hours=i)) for i in range(n)]


def timeline_page(client, ppo, **params):
    response = client.get(reverse("offenders:timeline", args=[ppo.pk]), params)
    assert response.status_code == 200
    return response


def test_the_timeline_is_shown_a_page_at_a_time_newest_first(client, kw, ppo, monkeypatch):
    from offenders import timeline

    monkeypatch.setattr(timeline, "PAGE_SIZE", 3)
    made = contacts(ppo, 7)  # and the selection: 8 items, the selection oldest
    sign_in(client, kw)
    first = timeline_page(client, ppo, kind="contact")
    assert [i.at for i in first.context["timeline"].items] == [c.occurred_at for c in made[:3]]
    assert first.context["timeline"].has_next and not first.context["timeline"].has_previous
    assert 'href="?kind=contact&amp;page=2" rel="next"' in first.content.decode()
    second = timeline_page(client, ppo, kind="contact", page="2")
    assert [i.at for i in second.context["timeline"].items] == [c.occurred_at for c in made[3:6]]
    assert 'href="?kind=contact&amp;page=1" rel="prev"' in second.content.decode()
    last = timeline_page(client, ppo, kind="contact", page="3")
    assert [i.at for i in last.context["timeline"].items] == [made[6].occurred_at]
    assert not last.context["timeline"].has_next
    everything = timeline_page(client, ppo, page="3")  # contacts and the selection
    assert [i.kind for i in everything.context["timeline"].items] == ["contact", "programme"]


@pytest.mark.parametrize("bad", ["abc", "-1", "0", ""])
def test_a_bad_page_number_is_the_first_page(client, kw, ppo, monkeypatch, bad):
    from offenders import timeline

    monkeypatch.setattr(timeline, "PAGE_SIZE", 3)
    contacts(ppo, 4)
    response = timeline_page(sign_in(client, kw), ppo, page=bad)
    assert response.context["timeline"].page == 1
    assert len(response.context["timeline"].items) == 3


def test_a_page_past_the_end_says_there_is_nothing_more(client, kw, ppo):
    contacts(ppo, 2)
    response = timeline_page(sign_in(client, kw), ppo, page="7")
    assert response.context["timeline"].items == []
    assert "No more records." in response.content.decode()


def test_each_timeline_page_reads_the_same_queries_with_a_limit(client, kw, ppo, monkeypatch):
    from offenders import timeline

    monkeypatch.setattr(timeline, "PAGE_SIZE", 3)
    contacts(ppo, 10)
    sign_in(client, kw)
    timeline_page(client, ppo)  # warm the session and caches
    counts = []
    for number in ("1", "2", "3"):
        with CaptureQueriesContext(connection) as queries:
            timeline_page(client, ppo, page=number)
        counts.append(len(queries))
        contact_reads = [q["sql"] for q in queries if 'FROM "offenders_contact"' in q["sql"]]
        assert any(f"LIMIT {int(number) * 3 + 1}" in sql for sql in contact_reads)
    assert counts[0] == counts[1] == counts[2]


def test_the_timeline_page_read_is_audited(client, kw, ppo):
    timeline_page(sign_in(client, kw), ppo, page="2")
    event = AuditEvent.objects.filter(action="view", offender_refs__contains=f",{ppo.pk},").last()
    assert event.detail["view"] == "timeline" and event.detail["page"] == 2


# --- The audit log in words ---------------------------------------------------------------


def audit_rows(client, user, **params):
    response = sign_in(client, user).get(reverse("audit-log"), params)
    assert response.status_code == 200
    markup = response.content.decode()
    records = re.findall(r'data-testid="audit-records">([^<]*)<', markup)
    people = re.findall(r'data-testid="audit-people">([^<]*)<', markup)
    return records, people, markup


def test_the_audit_log_names_records_in_words_without_names_for_the_administrator(client, kw, ppo):
    contact = ContactFactory(offender=ppo)
    timeline_page(sign_in(client, kw), ppo)
    from access import audit
    from access.policy import actor_for

    audit.altered(actor_for(kw), "update", contact, changed=["note"])
    admin = staff(Role.ADMINISTRATOR, username="admin")
    records, people, markup = audit_rows(client, admin, person=str(ppo.pk))
    assert f"contact {contact.pk}" in records
    assert f"person record {ppo.pk}" in records
    assert set(people) == {f"person {ppo.pk}"}
    assert ppo.last_name not in markup and "offenders." not in markup


def test_the_audit_log_gives_the_name_to_a_reader_who_may_see_it(client, kw, ppo):
    timeline_page(sign_in(client, kw), ppo)
    from access import audit
    from access.policy import actor_for

    # A person the reader cannot see (here one since erased): named by number only.
    audit.record(actor_for(kw), "view", record_type="offenders.offender", offenders=[987654])
    manager = staff(Role.PPO_MANAGER, username="manager")
    before = AuditEvent.objects.filter(record_type="offenders.offender", action="list").count()
    _, people, _ = audit_rows(client, manager)
    assert f"{ppo.full_name} (person {ppo.pk})" in people
    assert "person 987654" in people
    # The names shown are a consultation of those people, audited.
    shown = AuditEvent.objects.filter(record_type="offenders.offender", action="list")
    assert shown.count() == before + 1
    assert shown.last().offender_ids == [ppo.pk]


def test_many_records_are_counted_not_listed():
    from access.views import describe

    event = AuditEvent(
        record_type="offenders.offender",
        record_ids=list(range(1, 9)),
        offender_refs=AuditEvent.refs_for(list(range(1, 9))),
    )
    records, people = describe(event, {2: "Ann Bell"})
    assert records == "person records 1, 2, 3, 4, 5 and 3 more"
    assert people == "person 1, Ann Bell (person 2), person 3, person 4, person 5 and 3 more"
    assert describe(AuditEvent(record_type="", record_ids=[]), {}) == ("", "")


# --- The prison's list --------------------------------------------------------------------


def test_the_prison_list_has_release_dates_from_that_establishment(client, db):
    today = timezone.localdate()
    prison = AgencyFactory(name="HMP Example", kind=AgencyKind.PRISON)
    other = AgencyFactory(name="HMP Elsewhere", kind=AgencyKind.PRISON)
    worker = staff(Role.PRISON_WORKER, agency=prison, username="carat")

    def ppo_with(**spell):
        person = OffenderFactory()
        ProgrammeEpisodeFactory(offender=person, selected_on=dt.date(2020, 1, 1))
        CustodyEpisodeFactory(offender=person, **spell)
        return person

    inside = ppo_with(
        establishment=prison,
        started_on=today - dt.timedelta(days=90),
        expected_release_on=today + dt.timedelta(days=40),
    )
    released = ppo_with(
        establishment=prison,
        started_on=today - dt.timedelta(days=300),
        released_on=today - dt.timedelta(days=20),
    )
    long_gone = ppo_with(
        establishment=prison,
        started_on=today - dt.timedelta(days=900),
        released_on=today - dt.timedelta(days=200),
    )
    somewhere_else = ppo_with(establishment=other, started_on=today - dt.timedelta(days=10))
    response = sign_in(client, worker).get(reverse("offenders:list"))
    rows = {o.pk: o for o in response.context["page"].object_list}
    assert set(rows) == {inside.pk, released.pk}
    assert ("release_here", "Release date") in response.context["columns"]
    markup = response.content.decode()
    assert f"Expected {inside_date(today, 40)}" in markup
    assert f"Released {inside_date(today, -20)}" in markup
    assert long_gone.last_name not in markup and somewhere_else.last_name not in markup


def inside_date(today, days):
    day = today + dt.timedelta(days=days)
    return f"{day.day} {day:%b %Y}"


def test_other_roles_have_no_release_column(client, kw, ppo):
    response = sign_in(client, kw).get(reverse("offenders:list"))
    assert "release_here" not in [key for key, _ in response.context["columns"]]


# --- The profile: contacts and drug tests before offending (issue 13 item 5, in part) -------


def test_the_profile_shows_contacts_and_drug_tests_before_offending(client, kw, ppo):
    markup = sign_in(client, kw).get(reverse("offenders:detail", args=[ppo.pk])).content.decode()
    headings = re.findall(r'<h2 class="govuk-heading-m">([^<]+)</h2>', markup)
    assert "Offending" in headings and "Contacts" in headings and "Drug tests" in headings
    assert headings.index("Contacts") < headings.index("Drug tests") < headings.index("Offending")
