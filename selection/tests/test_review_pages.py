"""The reviews pages (issue 8): the list of reviews due, closing one as "no change,
reviewed", the home page's "Reviews due" panel and caseload column, and a panel's agenda,
as each role sees them.

ACCESS.md "selection scores, panel decisions, reviews": the PPO manager reads and writes;
key workers and police read; YOT reads its own people; prison staff, partners, the
steering group and administrators nothing. The review of the whole list against the pool
is shown only to those whose scope holds the pool (manager, police).

Today is Friday 12 June 2026. The people are invented:

* Qxrevppo Ashdown, a PPO since 1 January 2024, in custody at the prison, referred to the
  treatment agency, allocated to the key worker;
* Qxrevyoung Tamsin, 16, a DYO since 1 March 2026, allocated to the key worker;
* Qxrevpool Marlow, on no tier (the known-offender pool).

The reviews, created directly (not by the sweep):

* "no_arrest"   Ashdown, due 11 June (yesterday: overdue), with what the sweep found;
* "two_years"   Ashdown, due 12 June (today: due, not overdue);
* "dyo_periodic" Tamsin, due 13 June (tomorrow: not on the agenda of today's panel);
* "former_reoffending" Marlow, due 1 June (overdue);
* "list_review" the whole list, due 10 June (overdue);
* a closed "transfer_in" review of Ashdown, shown nowhere.
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

from access.errors import ApplicationError, NotPermitted
from access.models import AuditAction, AuditEvent, Role
from offenders.models import ProgrammeKind
from selection import panel as panels
from selection import reviews as review_rules
from selection.models import Review, ReviewKind, ReviewOutcome, ReviewStatus
from tests.factories import (
    CustodyEpisodeFactory,
    OffenderFactory,
    ProgrammeEpisodeFactory,
    ReferralFactory,
    sign_in,
    staff,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 6, 12)
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
READERS = [Role.PPO_MANAGER, Role.KEY_WORKER, Role.POLICE_OFFICER, Role.YOT_WORKER]
NAMES = {"ppo": "Qxrevppo Ashdown", "young": "Qxrevyoung Tamsin", "pool": "Qxrevpool Marlow"}

# --- the expectations, written out by hand from ACCESS.md ---------------------------------------

# The open reviews each reader sees in the list (by the keys of the `reviews` fixture).
SEEN_BY = {
    Role.PPO_MANAGER: {"no_arrest", "two_years", "dyo", "former", "list"},
    Role.POLICE_OFFICER: {"no_arrest", "two_years", "dyo", "former", "list"},
    Role.KEY_WORKER: {"no_arrest", "two_years", "dyo"},  # current/former PPOs and DYOs
    Role.YOT_WORKER: {"dyo"},  # under 18, and DYOs
}
# Of those, overdue on 12 June (due before today).
OVERDUE = {"no_arrest", "former", "list"}
# On the agenda of a panel held today: due on or before 12 June.
AGENDA = {"no_arrest", "two_years", "former", "list"}
# Each page's HTTP status for each role.
PAGES = ["list", "close", "panel"]
EXPECTED_STATUS = {
    Role.PPO_MANAGER: {"list": 200, "close": 200, "panel": 200},
    Role.KEY_WORKER: {"list": 200, "close": 403, "panel": 200},
    Role.POLICE_OFFICER: {"list": 200, "close": 403, "panel": 200},
    Role.YOT_WORKER: {"list": 200, "close": 403, "panel": 200},
    Role.PRISON_WORKER: {"list": 403, "close": 403, "panel": 403},
    Role.PARTNER_WORKER: {"list": 403, "close": 403, "panel": 403},
    Role.STEERING_GROUP: {"list": 403, "close": 403, "panel": 403},
    Role.ADMINISTRATOR: {"list": 403, "close": 403, "panel": 403},
}
# The home page's "Reviews due" panel: (total, overdue), or None for no panel.
HOME_PANEL = {
    Role.PPO_MANAGER: (5, 3),
    Role.POLICE_OFFICER: (5, 3),
    Role.KEY_WORKER: (3, 1),
    Role.YOT_WORKER: (1, 0),
    Role.PRISON_WORKER: None,
    Role.PARTNER_WORKER: None,
    Role.STEERING_GROUP: None,
    Role.ADMINISTRATOR: None,
}
# The caseload's "Reviews due" column, person -> number; None for no column. The prison
# worker's and partner's caseloads hold Ashdown, without the column.
CASELOAD_COLUMN = {
    Role.PPO_MANAGER: {"ppo": 2, "young": 1},
    Role.POLICE_OFFICER: {"ppo": 2, "young": 1},
    Role.KEY_WORKER: {"ppo": 2, "young": 1},
    Role.YOT_WORKER: {"young": 1},
    Role.PRISON_WORKER: None,
    Role.PARTNER_WORKER: None,
}
# The links each reader is offered beside a person's review in the list.
LINKS = {
    Role.PPO_MANAGER: {"decide", "person", "close"},
    Role.POLICE_OFFICER: {"person"},
    Role.KEY_WORKER: {"person"},
    Role.YOT_WORKER: {"person"},
}
LINK_TEXT = {
    "decide": "Record a decision at the next panel",
    "person": "Selection & panel",
    "close": "Close: no change, reviewed",
}


@pytest.fixture(autouse=True)
def on_the_day():
    with time_machine.travel(dt.datetime(2026, 6, 12, 11, 0, tzinfo=dt.UTC), tick=False):
        yield


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def table(response, testid: str) -> str:
    page = text_of(response)
    assert f'data-testid="{testid}"' in page, testid
    return page.split(f'data-testid="{testid}"', 1)[1].split("</table>", 1)[0]


def review_ids(fragment: str) -> set[int]:
    return {int(pk) for pk in re.findall(r'data-review="(\d+)"', fragment)}


@pytest.fixture
def manager():
    return staff(Role.PPO_MANAGER, first_name="Qxmanda", last_name="Reviewer")


@pytest.fixture
def users(manager):
    made = {role: staff(role) for role in ALL_ROLES if role != Role.PPO_MANAGER}
    made[Role.PPO_MANAGER] = manager
    return made


@pytest.fixture
def people(users):
    made = {}
    for key, name in NAMES.items():
        first, last = name.split()
        made[key] = OffenderFactory(first_name=first, last_name=last)
    worker = users[Role.KEY_WORKER]
    ppo, young = made["ppo"], made["young"]
    ProgrammeEpisodeFactory(offender=ppo, selected_on=dt.date(2024, 1, 1))
    CustodyEpisodeFactory(offender=ppo, started_on=dt.date(2026, 5, 1))
    ReferralFactory(offender=ppo, opened_on=dt.date(2026, 1, 1))
    ppo.key_worker = worker
    ppo.save()
    young.date_of_birth = dt.date(2010, 2, 1)
    young.key_worker = worker
    young.save()
    ProgrammeEpisodeFactory(offender=young, kind=ProgrammeKind.DYO, selected_on=dt.date(2026, 3, 1))
    return made


def make_review(kind, offender, due_on, **fields) -> Review:
    return Review.objects.create(
        kind=kind,
        offender=offender,
        basis=fields.pop("basis", f"{kind}-{due_on}-{uuid.uuid4().hex[:8]}"),
        due_on=due_on,
        raised_on=due_on,
        **fields,
    )


@pytest.fixture
def reviews(people, manager):
    return {
        "no_arrest": make_review(
            ReviewKind.NO_ARREST,
            people["ppo"],
            dt.date(2026, 6, 11),
            detail={
                "positive_drug_tests": 2,
                "last_arrest_on": "2025-11-30",
                "custody_id": 4321,
                "other_offending": {"charge": 1},
            },
        ),
        "two_years": make_review(ReviewKind.TWO_YEARS, people["ppo"], TODAY),
        "dyo": make_review(ReviewKind.DYO_PERIODIC, people["young"], dt.date(2026, 6, 13)),
        "former": make_review(ReviewKind.FORMER_REOFFENDING, people["pool"], dt.date(2026, 6, 1)),
        "list": make_review(ReviewKind.LIST_REVIEW, None, dt.date(2026, 6, 10)),
        "closed": make_review(
            ReviewKind.TRANSFER_IN,
            people["ppo"],
            dt.date(2026, 5, 1),
            status=ReviewStatus.CLOSED,
            outcome=ReviewOutcome.NO_CHANGE,
            outcome_reason="Looked at in May",
            closed_on=dt.date(2026, 5, 20),
        ),
    }


@pytest.fixture
def panel(manager):
    return panels.panel_create(user=manager, held_on=TODAY, chair_id=manager.pk)


def urls(reviews, panel) -> dict[str, str]:
    return {
        "list": reverse("selection:reviews"),
        "close": reverse("selection:review-close", args=[reviews["dyo"].pk]),
        "panel": reverse("selection:panel", args=[panel.pk]),
    }


def ids_of(reviews, keys) -> set[int]:
    return {reviews[key].pk for key in keys}


# --- who may open what -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_each_page_as_each_role(client, users, reviews, panel, role):
    user = users[role]
    sign_in(client, user)
    for page, url in urls(reviews, panel).items():
        response = client.get(url)
        assert response.status_code == EXPECTED_STATUS[role][page], (role, page)
        if response.status_code == 403:
            for name in NAMES.values():
                assert name not in text_of(response), (role, page)
    refused = [p for p, status in EXPECTED_STATUS[role].items() if status == 403]
    denials = AuditEvent.objects.filter(action=AuditAction.DENIED, user=user)
    assert denials.count() == len(refused), role


def test_a_key_worker_is_not_shown_the_date_an_intelligence_report_sets(client, users, people):
    """ACCESS.md: key workers read intelligence reports as counts only, so the items of a
    no-arrest review that date the last one are for readers of intelligence (manager,
    police), not for them; the days at liberty, the review's substance, are shown to all."""
    review = make_review(
        ReviewKind.NO_ARREST,
        people["ppo"],
        dt.date(2026, 6, 11),
        detail={
            "quiet_from": "2025-12-01",
            "last_arrest_or_intelligence": "2025-11-30",
            "days_at_liberty": 190,
        },
    )
    seen = {}
    for role in (Role.PPO_MANAGER, Role.POLICE_OFFICER, Role.KEY_WORKER):
        client.logout()
        sign_in(client, users[role])
        rows = table(client.get(reverse("selection:reviews")), "reviews")
        seen[role] = rows.split(f'data-review="{review.pk}"', 1)[1].split("</tr>", 1)[0]
    for role in (Role.PPO_MANAGER, Role.POLICE_OFFICER):
        assert "30 November 2025" in seen[role] and "1 December 2025" in seen[role]
    assert "Days at liberty: 190" in seen[Role.KEY_WORKER]
    assert "November 2025" not in seen[Role.KEY_WORKER]
    assert "December 2025" not in seen[Role.KEY_WORKER]


@pytest.mark.parametrize("role", READERS)
def test_the_list_shows_each_reader_exactly_the_open_reviews_they_may_see(
    client, users, reviews, role
):
    sign_in(client, users[role])
    response = client.get(reverse("selection:reviews"))
    rows = table(response, "reviews")
    assert review_ids(rows) == ids_of(reviews, SEEN_BY[role]), role
    page = text_of(response)
    seen_people = {
        key
        for key, review_key in (("ppo", "no_arrest"), ("young", "dyo"), ("pool", "former"))
        if review_key in SEEN_BY[role]
    }
    for key, name in NAMES.items():
        assert (name in page) is (key in seen_people), (role, name)
    assert ("The whole list" in rows) is ("list" in SEEN_BY[role])
    assert reviews["closed"].pk not in review_ids(rows)
    # The consultation names exactly the reviews shown, and the people they are about.
    consulted = AuditEvent.objects.filter(
        action=AuditAction.LIST, record_type="selection.review", user=users[role]
    ).get()
    assert set(consulted.record_ids) == ids_of(reviews, SEEN_BY[role])
    assert consulted.detail["view"] == "reviews due"


def test_what_the_sweep_found_and_the_overdue_tag_are_shown(client, manager, reviews):
    sign_in(client, manager)
    response = client.get(reverse("selection:reviews"))
    rows = table(response, "reviews")
    no_arrest = rows.split(f'data-review="{reviews["no_arrest"].pk}"', 1)[1].split("</tr>", 1)[0]
    assert "Positive drug tests: 2" in no_arrest
    assert "Last arrest on: 30 November 2025" in no_arrest
    assert "Other offending: Charge: 1" in no_arrest
    assert "4321" not in no_arrest and "Custody id" not in no_arrest
    assert "No arrest or intelligence for 6 months at liberty" in no_arrest
    assert "11 Jun 2026" in no_arrest and "Overdue" in no_arrest
    # Due today is due, not overdue; due yesterday is overdue.
    two_years = rows.split(f'data-review="{reviews["two_years"].pk}"', 1)[1].split("</tr>", 1)[0]
    assert "12 Jun 2026" in two_years and "Overdue" not in two_years


@pytest.mark.parametrize("role", READERS)
def test_each_reader_is_offered_only_the_links_they_may_use(client, users, reviews, role):
    sign_in(client, users[role])
    rows = table(client.get(reverse("selection:reviews")), "reviews")
    (first_key,) = [k for k in ("no_arrest", "dyo") if k in SEEN_BY[role]][:1]
    row = rows.split(f'data-review="{reviews[first_key].pk}"', 1)[1].split("</tr>", 1)[0]
    for link, text in LINK_TEXT.items():
        assert (text in row) is (link in LINKS[role]), (role, link)
    person = reviews[first_key].offender
    assert reverse("selection:person", args=[person.pk]) in row
    if "decide" in LINKS[role]:
        assert reverse("selection:person-decide", args=[person.pk]) in row
    if "close" in LINKS[role]:
        assert reverse("selection:review-close", args=[reviews[first_key].pk]) in row


def test_record_a_decision_goes_to_a_panel_held_today_when_there_is_one(
    client, manager, reviews, panel
):
    sign_in(client, manager)
    rows = table(client.get(reverse("selection:reviews")), "reviews")
    person = reviews["no_arrest"].offender
    wanted = f"{reverse('selection:person-decide', args=[person.pk])}?panel={panel.pk}"
    assert wanted in rows
    followed = client.get(wanted)
    assert followed.status_code == 302
    assert followed.url == reverse("selection:panel-decide", args=[panel.pk, person.pk])


# --- filters --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "no_arrest"}, {"no_arrest"}),
        ({"kind": "list_review"}, {"list"}),
        ({"overdue": "yes"}, OVERDUE),
        ({"overdue": "yes", "kind": "two_years"}, set()),
        ({"kind": "two_years"}, {"two_years"}),
    ],
)
def test_filters_by_kind_and_overdue(client, manager, reviews, params, expected):
    sign_in(client, manager)
    response = client.get(reverse("selection:reviews"), params)
    assert review_ids(table(response, "reviews")) == ids_of(reviews, expected)


def test_filter_by_person_and_the_kind_counts_follow_the_other_filters(client, manager, reviews):
    sign_in(client, manager)
    ppo = reviews["no_arrest"].offender
    response = client.get(reverse("selection:reviews"), {"person": ppo.pk})
    assert review_ids(table(response, "reviews")) == ids_of(reviews, {"no_arrest", "two_years"})
    assert NAMES["ppo"] in text_of(response).split("</h1>", 1)[0]
    counts = {kind: n for kind, _, n in response.context["page"].kinds}
    assert counts[ReviewKind.NO_ARREST] == 1 and counts[ReviewKind.TWO_YEARS] == 1
    assert counts[ReviewKind.LIST_REVIEW] == 0


def test_unusable_filters_are_dropped_with_a_message(client, manager, reviews):
    sign_in(client, manager)
    response = client.get(
        reverse("selection:reviews"), {"kind": "nonsense", "overdue": "maybe", "person": "x"}
    )
    assert response.status_code == 200
    assert review_ids(table(response, "reviews")) == ids_of(reviews, SEEN_BY[Role.PPO_MANAGER])
    page = text_of(response)
    assert "“nonsense” is not a kind of review" in page
    assert "“maybe” is not yes or no" in page
    assert "“x” is not a person" in page


def test_a_person_outside_the_readers_scope_filters_to_nothing(client, users, reviews):
    sign_in(client, users[Role.YOT_WORKER])
    ppo = reviews["no_arrest"].offender
    response = client.get(reverse("selection:reviews"), {"person": ppo.pk})
    assert review_ids(table(response, "reviews")) == set()
    assert NAMES["ppo"] not in text_of(response)


# --- the home page --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ALL_ROLES)
def test_the_home_page_reviews_due_panel_per_role(client, users, reviews, role):
    sign_in(client, users[role])
    response = client.get(reverse("home"))
    assert response.status_code == 200
    page = text_of(response)
    expected = HOME_PANEL[role]
    if expected is None:
        assert 'data-testid="reviews-due"' not in page, role
        return
    total, overdue = expected
    panel = page.split('data-testid="reviews-due"', 1)[1].split("</section>", 1)[0]
    assert f"{total} reviews due" in panel or f"{total} review due" in panel, role
    if overdue:
        assert f"{overdue} overdue" in panel
    else:
        assert "overdue" not in panel


@pytest.mark.parametrize("role", READERS)
def test_every_count_on_the_home_page_agrees_with_the_list_it_links_to(
    client, users, reviews, role
):
    sign_in(client, users[role])
    page = text_of(client.get(reverse("home")))
    panel = page.split('data-testid="reviews-due"', 1)[1].split("</section>", 1)[0]
    links = re.findall(r'<a class="govuk-link" href="([^"]+)"[^>]*>(\d+)', panel)
    assert links, role
    kinds_listed = 0
    for url, count in links:
        listed = review_ids(table(client.get(url), "reviews"))
        assert len(listed) == int(count), (role, url)
        kinds_listed += "kind=" in url
    # One link per kind that has reviews due for this reader.
    expected_kinds = {reviews[key].kind for key in SEEN_BY[role]}
    assert kinds_listed == len(expected_kinds), role


@pytest.mark.parametrize("role", list(CASELOAD_COLUMN))
def test_the_caseload_reviews_due_column_per_role(client, users, reviews, people, role):
    sign_in(client, users[role])
    response = client.get(reverse("home"))
    caseload = table(response, "caseload")
    header = caseload.split("</thead>", 1)[0]
    expected = CASELOAD_COLUMN[role]
    if expected is None:
        assert "Reviews due" not in header, role
        assert 'data-testid="reviews-due"' not in caseload
        # The person is on their caseload, so the column is absent, not the row.
        assert f'data-offender="{people["ppo"].pk}"' in caseload, role
        return
    assert "Reviews due" in header
    shown = {}
    for key, person in people.items():
        marker = f'data-offender="{person.pk}"'
        if marker not in caseload:
            continue
        row = caseload.split(marker, 1)[1].split("</tr>", 1)[0]
        cell = row.split('data-testid="reviews-due"', 1)[1].split("</td>", 1)[0]
        shown[key] = int(re.search(r">(\d+)", cell).group(1))
        if shown[key]:
            # The number links to the list of exactly those reviews.
            url = html.unescape(re.search(r'href="([^"]+)"', cell).group(1))
            assert len(review_ids(table(client.get(url), "reviews"))) == shown[key]
    assert shown == expected, role


def test_the_manager_sees_zero_for_someone_on_the_caseload_with_no_review(
    client, manager, reviews, people
):
    reviews["dyo"].delete()
    sign_in(client, manager)
    caseload = table(client.get(reverse("home")), "caseload")
    row = caseload.split(f'data-offender="{people["young"].pk}"', 1)[1].split("</tr>", 1)[0]
    assert re.search(r'data-testid="reviews-due">0<', row)


def test_a_closed_review_is_counted_nowhere(client, manager, reviews, people):
    Review.objects.exclude(pk=reviews["closed"].pk).delete()
    sign_in(client, manager)
    page = text_of(client.get(reverse("home")))
    assert "No reviews are due." in page
    caseload = table(client.get(reverse("home")), "caseload")
    row = caseload.split(f'data-offender="{people["ppo"].pk}"', 1)[1].split("</tr>", 1)[0]
    assert re.search(r'data-testid="reviews-due">0<', row)


# --- a panel's agenda -----------------------------------------------------------------------


@pytest.mark.parametrize("role", READERS)
def test_a_panels_agenda_lists_the_open_reviews_due_by_its_date_that_the_reader_may_see(
    client, users, reviews, panel, role
):
    sign_in(client, users[role])
    response = client.get(reverse("selection:panel", args=[panel.pk]))
    agenda = table(response, "agenda")
    expected = SEEN_BY[role] & AGENDA
    assert review_ids(agenda) == ids_of(reviews, expected), role
    # "Record a decision" at this panel only for those who record its decisions.
    for key in expected - {"list"}:
        person = reviews[key].offender
        link = reverse("selection:panel-decide", args=[panel.pk, person.pk])
        assert (link in agenda) is (role == Role.PPO_MANAGER), (role, key)
    consulted = AuditEvent.objects.filter(
        action=AuditAction.LIST, record_type="selection.review", user=users[role]
    )
    if not expected:
        # An agenda that names no one consults nothing (the page's decisions are audited).
        assert not consulted.exists()
        return
    assert set(consulted.get().record_ids) == ids_of(reviews, expected)
    assert consulted.get().detail == {"view": "panel agenda", "panel": panel.pk}


def test_the_agenda_of_a_panel_held_on_a_reviews_due_date_includes_it_and_not_the_day_before(
    client, manager, reviews
):
    sign_in(client, manager)
    day_before = panels.panel_create(
        user=manager, held_on=dt.date(2026, 6, 10), chair_id=manager.pk
    )
    agenda = review_ids(
        table(client.get(reverse("selection:panel", args=[day_before.pk])), "agenda")
    )
    # Due 10 June (the list review) and 1 June: on it; due 11 and 12 June: not yet.
    assert agenda == ids_of(reviews, {"list", "former"})


# --- closing a review -----------------------------------------------------------------------


def close_url(review) -> str:
    return reverse("selection:review-close", args=[review.pk])


def test_the_close_page_shows_the_review(client, manager, reviews):
    sign_in(client, manager)
    response = client.get(close_url(reviews["no_arrest"]))
    page = text_of(response)
    assert NAMES["ppo"] in page
    assert "Positive drug tests: 2" in page
    assert 'name="form_token"' in page
    viewed = AuditEvent.objects.filter(action=AuditAction.LIST, user=manager).get()
    assert viewed.record_ids == [reviews["no_arrest"].pk]
    assert viewed.detail["view"] == "close a review"


def test_a_closed_review_offers_no_form(client, manager, reviews):
    sign_in(client, manager)
    page = text_of(client.get(close_url(reviews["closed"])))
    assert 'data-testid="closed"' in page and "Looked at in May" in page
    assert "<textarea" not in page


def test_a_review_the_reader_may_not_see_or_that_does_not_exist_is_not_found(
    client, manager, reviews
):
    sign_in(client, manager)
    assert client.get(reverse("selection:review-close", args=[999999])).status_code == 404


@pytest.mark.parametrize("role", [r for r in ALL_ROLES if r != Role.PPO_MANAGER])
def test_posting_a_close_as_anyone_but_the_manager_is_refused_and_changes_nothing(
    client, users, reviews, role
):
    sign_in(client, users[role])
    response = client.post(
        close_url(reviews["no_arrest"]), {"reason": "Fine", "form_token": str(uuid.uuid4())}
    )
    assert response.status_code == 403
    reviews["no_arrest"].refresh_from_db()
    assert reviews["no_arrest"].status == ReviewStatus.OPEN


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_close_without_a_reason_is_refused_in_the_error_summary(
    client, manager, reviews, reason, monkeypatch
):
    called = []
    monkeypatch.setattr(review_rules, "review_close", lambda **kw: called.append(kw), raising=False)
    sign_in(client, manager)
    response = client.post(
        close_url(reviews["no_arrest"]), {"reason": reason, "form_token": str(uuid.uuid4())}
    )
    assert response.status_code == 200
    page = text_of(response)
    assert "govuk-error-summary" in page and "Enter why nothing needs to change" in page
    assert page.startswith("<!") or "<title>Error: " in page
    assert called == []


def test_a_close_without_its_token_is_refused(client, manager, reviews, monkeypatch):
    called = []
    monkeypatch.setattr(review_rules, "review_close", lambda **kw: called.append(kw), raising=False)
    plain = Client()
    sign_in(plain, manager)
    response = plain.post(close_url(reviews["no_arrest"]), {"reason": "Nothing changes"})
    assert response.status_code == 200
    assert "page was out of date" in text_of(response)
    assert called == []


def test_the_services_refusal_is_a_403_and_its_message_is_shown(
    client, manager, reviews, monkeypatch
):
    def refuse(**kwargs):
        raise NotPermitted("Only the PPO manager closes reviews")

    monkeypatch.setattr(review_rules, "review_close", refuse, raising=False)
    sign_in(client, manager)
    posted = {"reason": "Nothing changes", "form_token": str(uuid.uuid4())}
    assert client.post(close_url(reviews["no_arrest"]), posted).status_code == 403

    def reject(**kwargs):
        raise ApplicationError("This review is already closed", field_errors={})

    monkeypatch.setattr(review_rules, "review_close", reject, raising=False)
    posted["form_token"] = str(uuid.uuid4())
    response = client.post(close_url(reviews["no_arrest"]), posted)
    assert response.status_code == 200
    assert "This review is already closed" in text_of(response)


def test_the_view_calls_the_service_with_the_documented_arguments_once(
    client, manager, reviews, monkeypatch
):
    calls = []
    monkeypatch.setattr(review_rules, "review_close", lambda **kw: calls.append(kw), raising=False)
    sign_in(client, manager)
    posted = {"reason": "  Still offending: stays on  ", "form_token": str(uuid.uuid4())}
    first = client.post(close_url(reviews["no_arrest"]), posted)
    again = client.post(close_url(reviews["no_arrest"]), posted)
    assert first.status_code == again.status_code == 302
    assert first.url == reverse("selection:reviews")
    assert len(calls) == 1
    (call,) = calls
    assert call["review_id"] == reviews["no_arrest"].pk
    assert call["outcome"] == ReviewOutcome.NO_CHANGE
    assert call["reason"] == "Still offending: stays on"
    assert call["user"].user == manager


def test_closing_through_the_real_service_takes_it_off_the_list_and_the_counts(
    client, manager, reviews, people
):
    sign_in(client, manager)
    posted = {"reason": "Still offending: stays on", "form_token": str(uuid.uuid4())}
    response = client.post(close_url(reviews["no_arrest"]), posted)
    assert response.status_code == 302
    closed = Review.objects.get(pk=reviews["no_arrest"].pk)
    assert closed.status == ReviewStatus.CLOSED
    assert closed.outcome == ReviewOutcome.NO_CHANGE
    assert closed.outcome_reason == "Still offending: stays on"
    listed = review_ids(table(client.get(reverse("selection:reviews")), "reviews"))
    assert closed.pk not in listed
    caseload = table(client.get(reverse("home")), "caseload")
    row = caseload.split(f'data-offender="{people["ppo"].pk}"', 1)[1].split("</tr>", 1)[0]
    assert re.search(r">1<span", row)


# --- queries do not grow with the rows ------------------------------------------------------


def more_people_and_reviews(n: int, start: int) -> None:
    for i in range(n):
        person = OffenderFactory(first_name=f"Qxmore{start + i}", last_name="Extra")
        ProgrammeEpisodeFactory(offender=person, selected_on=dt.date(2025, 1, 1))
        make_review(ReviewKind.TWO_YEARS, person, dt.date(2026, 6, 1))
        make_review(ReviewKind.NO_ARREST, person, TODAY, detail={"positive_drug_tests": i})


@pytest.mark.parametrize("page", ["list", "home", "panel"])
def test_queries_do_not_grow_with_the_number_of_reviews(
    client, manager, reviews, panel, page, django_assert_num_queries
):
    url = {
        "list": reverse("selection:reviews"),
        "home": reverse("home"),
        "panel": reverse("selection:panel", args=[panel.pk]),
    }[page]
    sign_in(client, manager)
    more_people_and_reviews(2, 0)
    client.get(url)  # warm up the session and content types
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    more_people_and_reviews(6, 10)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200
    assert "Qxmore15" in text_of(response)


def test_closing_a_closed_review_through_the_real_service_is_refused_in_the_summary(
    client, manager, reviews
):
    sign_in(client, manager)
    response = client.post(close_url(reviews["closed"]), {"reason": "Again"})
    assert response.status_code == 200
    assert "This review has already been closed" in text_of(response)
    reviews["closed"].refresh_from_db()
    assert reviews["closed"].outcome_reason == "Looked at in May"


def test_a_decision_recorded_from_the_agenda_closes_the_review_and_takes_it_off(
    client, manager, reviews, panel
):
    sign_in(client, manager)
    ppo = reviews["no_arrest"].offender
    agenda = table(client.get(reverse("selection:panel", args=[panel.pk])), "agenda")
    link = reverse("selection:panel-decide", args=[panel.pk, ppo.pk])
    assert link in agenda
    response = client.post(link, {"kind": "defer"})
    assert response.status_code == 302
    # A deferral decides nothing: the reviews stay on the agenda (selection.reviews).
    agenda = table(client.get(reverse("selection:panel", args=[panel.pk])), "agenda")
    assert ids_of(reviews, {"no_arrest", "two_years"}) <= review_ids(agenda)
    panels.panel_decide(
        user=manager,
        panel_id=panel.pk,
        offender_id=ppo.pk,
        kind="deselect",
        deselection_reason="stopped_offending",
        reason="Six quiet months",
    )
    agenda = table(client.get(reverse("selection:panel", args=[panel.pk])), "agenda")
    assert review_ids(agenda) == ids_of(reviews, {"former", "list"})
    home = text_of(client.get(reverse("home")))
    panel_text = home.split('data-testid="reviews-due"', 1)[1].split("</section>", 1)[0]
    assert "3 reviews due" in panel_text
