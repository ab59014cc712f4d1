"""The compliance page's below-target list and chart (issue 13.9): "Log contact" on the rows
the reader may log for, "Save and log another" down this list, and the 13-week chart whose
data table holds the same shares as the week-by-week table."""

from __future__ import annotations

import datetime as dt
import html
import re
import uuid
import xml.etree.ElementTree as ET
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from access.models import Role
from offenders.models import Contact, ContactOutcome
from tests.factories import ContactFactory, OffenderFactory, ProgrammeEpisodeFactory, sign_in, staff

LONDON = ZoneInfo("Europe/London")


def local(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=LONDON)


@pytest.fixture
def on_18_june(time_machine):
    # Wednesday 18 June 2025: the week of Monday 16 June is in progress.
    time_machine.move_to(local(2025, 6, 18, 12, 0), tick=False)


@pytest.fixture
def kw(db):
    return staff(Role.KEY_WORKER, username="kw", first_name="Kim", last_name="Walker")


def ppo(worker, last_name, attended_this_week, *, weeks_met=0):
    """A PPO (target 4 a week) with `attended_this_week` contacts so far this week, and
    four attended contacts in each of the `weeks_met` complete weeks before it."""
    person = OffenderFactory(key_worker=worker, last_name=last_name)
    ProgrammeEpisodeFactory(offender=person, selected_on=dt.date(2024, 1, 1))
    for n in range(attended_this_week):
        ContactFactory(
            offender=person,
            worker=worker,
            occurred_at=local(2025, 6, 16, 9 + n),
            outcome=ContactOutcome.ATTENDED,
        )
    for back in range(1, weeks_met + 1):
        monday = local(2025, 6, 16, 10) - dt.timedelta(weeks=back)
        for n in range(4):
            ContactFactory(
                offender=person,
                worker=worker,
                occurred_at=monday + dt.timedelta(days=n),
                outcome=ContactOutcome.ATTENDED,
            )
    return person


@pytest.fixture
def people(kw):
    other = staff(Role.KEY_WORKER, username="kw2")
    return {
        # Red (0 or 1 of 4) by name, then amber (2 or 3 of 4).
        "adams": ppo(kw, "Adams", 0, weeks_met=1),
        "brown": ppo(kw, "Brown", 1),
        "clark": ppo(kw, "Clark", 2),
        "dixon": ppo(other, "Dixon", 0),  # someone else's
        "evans": ppo(kw, "Evans", 4),  # met: not listed
    }


def posted():
    when = timezone.localtime() - dt.timedelta(minutes=5)
    return {
        "kind": "office",
        "outcome": "attended",
        "date-day": str(when.day),
        "date-month": str(when.month),
        "date-year": str(when.year),
        "hour": str(when.hour),
        "minute": f"{when.minute:02d}",
        "note": "",
        "form_token": str(uuid.uuid4()),
        "another": "1",
    }


def below_target_rows(body: str) -> list[str]:
    table = re.search(
        r'<table class="govuk-table" data-testid="below-target">.*?</table>', body, re.S
    )
    assert table
    return re.findall(r"<tr [^>]*data-offender=.*?</tr>", table.group(0), re.S)


def log_links(body: str) -> dict[int, str]:
    """Person id: the "Log contact" address on their below-target row."""
    links = {}
    for row in below_target_rows(body):
        pk = int(re.search(r'data-offender="(\d+)"', row).group(1))
        found = re.search(r'href="([^"]*/contacts/new/[^"]*)"', row)
        if found:
            links[pk] = html.unescape(found.group(1))
    return links


def test_every_below_target_row_the_reader_may_log_for_has_a_log_contact_link(
    client, kw, people, on_18_june
):
    body = sign_in(client, kw).get(reverse("offenders:compliance")).content.decode()
    rows = below_target_rows(body)
    assert len(rows) == 3  # Adams, Brown, Clark: Dixon is not theirs, Evans met the target
    links = log_links(body)
    order = [people[n].pk for n in ("adams", "brown", "clark")]
    assert list(links) == order
    for row, pk in enumerate(order):
        assert links[pk] == (
            reverse("offenders:contact-log", args=[pk]) + f"?row={row}&from=compliance"
        )
    assert 'Log contact<span class="govuk-visually-hidden"> for ' in body
    assert "autofocus" not in body  # nothing focused unless coming back from the form


@pytest.mark.parametrize("role", [Role.PPO_MANAGER, Role.POLICE_OFFICER])
def test_a_link_exactly_where_the_contact_form_opens(client, people, on_18_june, role):
    reader = staff(role)
    body = sign_in(client, reader).get(reverse("offenders:compliance")).content.decode()
    listed = [
        int(re.search(r'data-offender="(\d+)"', row).group(1)) for row in below_target_rows(body)
    ]
    assert set(listed) == {people[n].pk for n in ("adams", "brown", "clark", "dixon")}
    links = log_links(body)
    for pk in listed:
        opens = client.get(reverse("offenders:contact-log", args=[pk])).status_code == 200
        assert (pk in links) is opens, pk


def test_save_and_log_another_comes_back_to_this_list_with_the_next_link_focused(
    client, kw, people, on_18_june
):
    sign_in(client, kw)
    links = log_links(client.get(reverse("offenders:compliance")).content.decode())
    brown, clark = people["brown"], people["clark"]
    response = client.post(links[brown.pk], posted())
    assert response.status_code == 302
    assert response.url.startswith(reverse("offenders:compliance") + "?")
    assert Contact.objects.filter(offender=brown).count() == 2
    landed = client.get(response.url)
    assert landed.status_code == 200
    # Brown is now amber (2 of 4) and sorts after Adams among the ambers, next to Clark;
    # the next person is the one that followed Brown: Clark.
    assert landed.context["focus_log_contact"] == clark.pk
    focused = re.findall(r"<a [^>]*autofocus[^>]*>", landed.content.decode())
    assert len(focused) == 1
    assert reverse("offenders:contact-log", args=[clark.pk]) in focused[0]


def test_after_the_last_row_nothing_is_focused(client, kw, people, on_18_june):
    sign_in(client, kw)
    links = log_links(client.get(reverse("offenders:compliance")).content.decode())
    response = client.post(links[people["clark"].pk], posted())
    landed = client.get(response.url)
    assert landed.context["focus_log_contact"] is None


def test_the_13_week_chart_shows_the_weekly_shares_with_its_table(client, kw, people, on_18_june):
    response = sign_in(client, kw).get(reverse("offenders:compliance"))
    body = response.content.decode()
    svg = re.search(r"<svg .*?</svg>", body, re.S)
    assert svg
    tree = ET.fromstring(svg.group(0))  # noqa: S314 - our own markup
    assert tree.get("role") == "img"
    table = re.search(r'data-testid="weekly-compliance-chart-table">.*?</table>', body, re.S)
    assert table
    rows = re.findall(
        r"<tr class=\"govuk-table__row\">\s*<th scope=\"row\"[^>]*>(.*?)</th>(.*?)</tr>",
        table.group(0),
        re.S,
    )
    assert len(rows) == 13
    # Oldest first: 17 March to 9 June 2025. Four of the kw's people were assessed each
    # week (Adams, Brown, Clark, Evans); only Adams met the level, and only in the week of
    # 9 June: 1 of 4, 25%. No one is on licence: no drug test share ("–").
    assert rows[0][0] == "17 Mar 2025" and rows[-1][0] == "9 Jun 2025"
    cells = [[c.strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", r[1], re.S)] for r in rows]
    assert cells[-1] == ["25%", "–"]
    assert all(c == ["0%", "–"] for c in cells[:-1])
