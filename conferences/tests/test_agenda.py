"""The generated agenda (page and PDF) as each role sees it, against lists written here by
hand from ACCESS.md of what each role must not see; its audit; and its query count.

The world is conftest.py's: the conference of 15 June 2026 reviews Qxconfalpha Ashdown
(remanded at HMP North, referred to the treatment agency; an arrest on 10 April and an
intelligence report on 20 April) and Qxconfbeta Brennan (an arrest on 5 May); only the
treatment agency is invited. The last closed conference was on 2 March 2026.
"""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from access.models import AuditAction, AuditEvent, Role
from conferences.models import Attendance
from conferences.tests.conftest import conference
from offenders.models import EventKind
from pathways import services as pathway_services
from pathways.models import Pathway
from tests.factories import (
    ContactFactory,
    DrugTestFactory,
    OffenderFactory,
    OffendingEventFactory,
    ProgrammeEpisodeFactory,
    sign_in,
)

pytestmark = pytest.mark.django_db
PDFTOTEXT = shutil.which("pdftotext")


def pdf_text(body: bytes) -> str:
    """The text of a PDF, by poppler's pdftotext (installed beside chromium)."""
    assert PDFTOTEXT, "pdftotext is missing: `make chromium` installs poppler-utils"
    result = subprocess.run(  # noqa: S603 (a fixed program, the PDF on its input)
        [PDFTOTEXT, "-layout", "-", "-"], input=body, capture_output=True, check=True
    )
    return " ".join(result.stdout.decode().split())


ALPHA, BETA = "Qxconfalpha Ashdown", "Qxconfbeta Brennan"
SECRET = "Qxsecret intelligence summary"

# Written out by hand from ACCESS.md: what each reader's agenda of 15 June must not show.
MUST_NOT_SEE = {
    # Partner: only people referred to it; offending as counts only, no intelligence at all.
    "partner": [
        BETA,
        "Shoplifting",
        "Intelligence report",
        "intelligence report",
        SECRET,
        "HMP North",
    ],
    # Key worker: intelligence reports only as a count.
    "key_worker": [SECRET],
    "manager": [SECRET],  # summaries are never on the agenda
}
MUST_SEE = {
    "partner": [ALPHA, "1 arrest (count only)", "In custody"],
    "key_worker": [ALPHA, BETA, "1 intelligence report (count only)", "Shoplifting", "Remand"],
    "manager": [ALPHA, BETA, "Intelligence report", "Shoplifting", "Remand at HMP North"],
}


def _text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.mark.parametrize("who", ["partner", "key_worker", "manager"])
def test_agenda_page_per_role(client, world, who):
    user = {"partner": world.partner, "key_worker": world.key_worker, "manager": world.manager}[who]
    sign_in(client, user)
    page = _text(client.get(f"/conferences/{world.next.pk}/"))
    for text in MUST_SEE[who]:
        assert text in page, (who, text)
    for text in MUST_NOT_SEE[who]:
        assert text not in page, (who, text)


def test_partner_agenda_pdf_has_the_same_limits(client, world):
    sign_in(client, world.partner)
    response = client.get(f"/conferences/{world.next.pk}/agenda.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Case conference agenda" in text
    assert ALPHA in text
    assert BETA not in text and SECRET not in text and "Shoplifting" not in text


def test_manager_pdf_renders_every_section(client, world):
    sign_in(client, world.manager)
    response = client.get(f"/conferences/{world.next.pk}/agenda.pdf")
    text = pdf_text(response.content)
    for words in (
        ALPHA,
        BETA,
        "Offending and custody",
        "Action plan",
        "Reviews due",
        "Core-group meetings",
        "To record",
        "Minutes",
        "Next conference",
    ):
        assert words in text, words
    export = AuditEvent.objects.filter(action=AuditAction.EXPORT).get()
    assert sorted(export.offender_ids) == sorted([world.alpha.pk, world.beta.pk])
    assert export.detail["document"] == "case conference agenda"


def test_prison_reads_only_conferences_its_agency_was_invited_to(client, world):
    sign_in(client, world.prison_north)
    # HMP North was not invited to 15 June: as if it did not exist.
    assert client.get(f"/conferences/{world.next.pk}/").status_code == 404
    assert AuditEvent.objects.filter(action=AuditAction.DENIED).exists()
    # It was invited to 2 March, where it sees the person in its establishment only.
    page = _text(client.get(f"/conferences/{world.past.pk}/"))
    assert ALPHA in page and BETA not in page
    listing = _text(client.get("/conferences/"))
    assert "2 March 2026" in listing and "15 June 2026" not in listing


def test_prison_of_another_establishment_sees_nobody_on_an_invited_conference(client, world):
    Attendance.objects.create(conference=world.next, agency=world.south)
    sign_in(client, world.prison_south)
    page = _text(client.get(f"/conferences/{world.next.pk}/"))
    assert ALPHA not in page and BETA not in page
    assert "No one on this conference is in your scope" in page


def test_partner_not_invited_gets_404(client, world):
    sign_in(client, world.housing_worker)
    assert client.get(f"/conferences/{world.next.pk}/").status_code == 404


def test_steering_group_is_refused(client, world):
    sign_in(client, world.steering)
    assert client.get(f"/conferences/{world.next.pk}/").status_code == 403
    assert client.get("/conferences/").status_code == 403


def test_agenda_read_is_audited_as_a_consultation_of_the_people_shown(client, world):
    sign_in(client, world.partner)
    client.get(f"/conferences/{world.next.pk}/")
    event = AuditEvent.objects.filter(action=AuditAction.LIST, detail__view="conference agenda")
    assert event.get().offender_ids == [world.alpha.pk]


def test_period_runs_from_the_day_after_the_last_conference(client, world):
    # An arrest on the day of the last conference was discussed there: not on this agenda.
    OffendingEventFactory(
        offender=world.beta,
        kind=EventKind.ARREST,
        occurred_on=dt.date(2026, 3, 2),
        source_agency=world.police,
    )
    OffendingEventFactory(
        offender=world.beta,
        kind=EventKind.CHARGE,
        occurred_on=dt.date(2026, 3, 3),
        source_agency=world.police,
    )
    sign_in(client, world.manager)
    page = _text(client.get(f"/conferences/{world.next.pk}/"))
    assert "since the last conference on 2 March 2026" in page
    cell = '<td class="govuk-table__cell app-nowrap">{}</td>'
    assert cell.format("2 Mar 2026") not in page and cell.format("3 Mar 2026") in page


def test_plan_compliance_reviews_and_meetings_on_the_agenda(client, world):
    from conferences.services import core_group_record

    housing = Pathway.objects.get(code="accommodation")
    pathway_services.need_set(
        user=world.manager,
        offender_id=world.beta.pk,
        pathway_id=housing.pk,
        level="high",
        as_of=dt.date(2026, 3, 1),
    )
    pathway_services.need_set(
        user=world.manager,
        offender_id=world.beta.pk,
        pathway_id=housing.pk,
        level="medium",
    )
    pathway_services.action_create(
        user=world.manager,
        offender_id=world.beta.pk,
        pathway_id=housing.pk,
        description="Qxaction find a tenancy",
        owner_agency_id=world.housing.pk,
        due_on=dt.date(2026, 6, 1),
        as_of=dt.date(2026, 5, 1),
    )
    core_group_record(
        user=world.manager,
        offender_id=world.beta.pk,
        held_on=dt.date(2026, 5, 20),
        notes="Qxmeeting notes",
        agency_ids=[world.housing.pk],
    )
    for day in (1, 2, 3, 4):
        ContactFactory(
            offender=world.beta,
            worker=world.key_worker,
            occurred_at=dt.datetime(2026, 6, day, 10, tzinfo=dt.UTC),
        )
    DrugTestFactory(offender=world.beta, tested_at=dt.datetime(2026, 6, 2, 10, tzinfo=dt.UTC))
    sign_in(client, world.manager)
    page = _text(client.get(f"/conferences/{world.next.pk}/"))
    assert "Qxaction find a tenancy" in page and "Overdue" in page
    assert "Down from high" in page
    assert "Qxmeeting notes" in page
    assert "Weeks meeting the contact target" in page
    # The partner reads plans, but compliance is not computed for its role.
    client.logout()
    sign_in(client, world.partner)
    page = _text(client.get(f"/conferences/{world.next.pk}/"))
    assert "Weeks meeting the contact target" not in page
    assert "Qxmeeting notes" not in page  # the treatment agency was not present


def _conference_of(world, n):
    people = []
    for i in range(n):
        person = OffenderFactory()
        ProgrammeEpisodeFactory(offender=person, selected_on=dt.date(2025, 1, 1))
        OffendingEventFactory(
            offender=person,
            kind=EventKind.ARREST,
            occurred_on=dt.date(2026, 4, 1 + i % 20),
            source_agency=world.police,
        )
        OffendingEventFactory(
            offender=person,
            kind=EventKind.INTELLIGENCE,
            category=None,
            occurred_on=dt.date(2026, 4, 2 + i % 20),
            source_agency=world.police,
        )
        ContactFactory(
            offender=person,
            worker=world.key_worker,
            occurred_at=dt.datetime(2026, 5, 5, 10, tzinfo=dt.UTC),
        )
        people.append(person)
    # Some with a last conference on their own day, to vary each person's period.
    for i, person in enumerate(people[: n // 2]):
        conference(world, dt.date(2026, 2, 1 + i % 25), [person], [], closed=True)
    return conference(world, dt.date(2026, 6, 20), people, [world.treatment])


@pytest.mark.parametrize("role", [Role.PPO_MANAGER, Role.KEY_WORKER])
def test_agenda_query_count_does_not_grow_with_the_people(client, world, role):
    user = world.manager if role == Role.PPO_MANAGER else world.key_worker
    small, large = _conference_of(world, 5), _conference_of(world, 40)
    sign_in(client, user)
    client.get(f"/conferences/{small.pk}/")  # warm the session
    counts = []
    for made in (small, large):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(f"/conferences/{made.pk}/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


def test_need_levels_then_are_each_persons_own_last_conference_day(world):
    """alpha and beta were last conferenced on 2 March; gamma, selected on 1 April, never:
    each person's "need then" is read on the day before their own period starts."""
    from access.policy import actor_for
    from conferences.agenda import build_agenda
    from pathways.tests.factories import NeedFactory

    gamma = OffenderFactory()
    ProgrammeEpisodeFactory(offender=gamma, selected_on=dt.date(2026, 4, 1))
    later = conference(world, dt.date(2026, 6, 16), [world.alpha, gamma], [])
    housing = Pathway.objects.get(code="accommodation")
    for person in (world.alpha, gamma):
        NeedFactory(offender=person, pathway=housing, level="high", set_on=dt.date(2026, 2, 1))
        NeedFactory(offender=person, pathway=housing, level="medium", set_on=dt.date(2026, 3, 20))
    agenda = build_agenda(actor_for(world.manager), later)
    rows = {row.offender.pk: row for row in agenda.people}
    assert rows[world.alpha.pk].need_then_on == dt.date(2026, 3, 2)
    assert rows[gamma.pk].need_then_on == dt.date(2026, 3, 31)

    def then(pk):
        return next(p for p in rows[pk].pathways if p.name == housing.name).level_then

    assert (then(world.alpha.pk), then(gamma.pk)) == ("High", "Medium")
