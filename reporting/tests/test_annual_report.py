"""The annual report (issue 11 item 7): every section in the PDF, nobody identifiable in it,
small counts hidden in the version for publication, progress to 100 through the task,
a failure shown as a message, refused for roles without aggregates, downloads audited."""

from __future__ import annotations

import datetime as dt
import subprocess
import tempfile
from pathlib import Path

import pytest
import time_machine
from django.urls import reverse

from access.models import Agency, AgencyKind, AuditAction, AuditEvent, Role
from offenders.models import EventKind, Offender, Sex
from reporting import annual_report as service
from reporting.models import AnnualReport, AnnualReportStatus, Rag, SelfAssessment
from reporting.tasks import build_annual_report
from tests.factories import UserFactory, sign_in, staff

from .measure_data import confirmed_cohort, events, ppo, spread

TODAY = dt.date(2025, 6, 30)
YEAR = 2024  # 1 April 2024 – 31 March 2025: complete by TODAY
SECTION_HEADINGS = (
    "Contents",
    "1. The scheme and its team",
    "2. Caseload and flows",
    "3. Performance",
    "4. Refresh indicators",
    "5. Pathway needs and gaps",
    "6. The premium service's standards",
    "7. Self-assessment",
)


def pdf_text(pdf: bytes) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "report.pdf"
        path.write_bytes(pdf)
        done = subprocess.run(  # noqa: S603 (a fixed tool on a file we wrote)
            ["pdftotext", "-layout", str(path), "-"],  # noqa: S607
            capture_output=True,
            check=True,
        )
    return " ".join(done.stdout.decode().split())


@pytest.fixture
def travel():
    with time_machine.travel(dt.datetime(2025, 6, 30, 12, 0), tick=False):
        yield


@pytest.fixture
def scheme(db, travel):
    """Twelve PPOs in the 2024/25 cohort, eight on the scheme all year and four
    de-selected during it (one of them a woman, the only one: a small count), with
    charges before and after entry and convictions in the baseline and the year."""
    Agency.objects.get_or_create(name="Northtown Police", kind=AgencyKind.POLICE)
    people = []
    for n in range(12):
        leaves = dt.date(2024, 9, 1) + dt.timedelta(days=20 * (n - 8)) if n >= 8 else None
        person = ppo(
            dt.date(2023, 1, 1),
            leaves,
            sex=Sex.FEMALE if n == 11 else Sex.MALE,
            date_of_birth=dt.date(1990 + n, 3, 1 + n),
        )
        events(person, EventKind.CHARGE, spread(dt.date(2022, 1, 5), dt.date(2022, 12, 20), 6))
        events(person, EventKind.CHARGE, spread(dt.date(2023, 1, 5), dt.date(2023, 12, 20), 3))
        events(person, EventKind.CONVICTION, spread(dt.date(2022, 10, 5), dt.date(2023, 9, 1), 4))
        events(person, EventKind.CONVICTION, spread(dt.date(2024, 5, 1), dt.date(2025, 2, 1), 2))
        people.append(person)
    confirmed_cohort(YEAR, people, target="10.0")
    manager = staff(Role.PPO_MANAGER, first_name="Quillon", last_name="Marchbank")
    steering = staff(Role.STEERING_GROUP, first_name="Ottoline", last_name="Brackwater")
    SelfAssessment.objects.create(
        year_starts_on=dt.date(YEAR, 4, 1),
        subsection="4.1",
        rag=Rag.AMBER,
        evidence="Evidence naming Quillon Marchbank",
        assessed_by=manager,
    )
    return {"people": people, "manager": manager, "steering": steering}


def forbidden_words(people: list[Offender], users: list[object]) -> list[str]:
    """Independently of the report: every name, PNC ID and date of birth in the data."""
    words = []
    for p in people:
        words += [p.first_name, p.last_name, p.pnc_id]
        words += [p.date_of_birth.isoformat(), f"{p.date_of_birth:%d/%m/%Y}"]
        words.append(f"{p.date_of_birth.day} {p.date_of_birth:%B %Y}")
    for u in users:
        words += [u.first_name, u.last_name]  # type: ignore[attr-defined]
    return [w for w in words if w]


def make(user, *, publication=False):
    report = service.annual_report_request(user=user, year=YEAR, for_publication=publication)
    return service.annual_report_build(report_id=report.pk)


def test_the_report_has_every_section_and_the_key_figures(scheme):
    report = make(scheme["steering"])
    assert report.status == AnnualReportStatus.READY, report.error
    assert report.progress == 100 and report.pdf_size == len(report.pdf)
    text = pdf_text(bytes(report.pdf))
    for heading in SECTION_HEADINGS:
        assert heading in text, heading
    assert "Annual report 2024/25" in text
    # NI30: 12 members, 48 baseline convictions, 24 in the year: a 50.0% fall.
    assert "Cohort members 12" in text
    assert "Members de-selected, still tracked 4" in text
    assert "-50.0%" in text
    # De-selected during the year: 4, told without names, by age band.
    assert "De-selected from the PPO scheme 4" in text
    assert "A person aged 25 to 34 at the time" in text
    # The self-assessment rating without its evidence text.
    assert "Amber" in text and "Evidence naming" not in text
    # The charts are drawn (their titles are in the PDF).
    assert "Reasons for de-selection" in text
    assert "The local measure: charges before and after entry" in text


def test_no_name_pnc_or_date_of_birth_appears(scheme):
    for publication in (False, True):
        text = pdf_text(bytes(make(scheme["manager"], publication=publication).pdf))
        for word in forbidden_words(scheme["people"], [scheme["manager"], scheme["steering"]]):
            assert word not in text, word


def test_the_version_for_publication_hides_small_counts(scheme):
    exact = pdf_text(bytes(make(scheme["steering"]).pdf))
    published = pdf_text(bytes(make(scheme["steering"], publication=True).pdf))
    # Four members left during the year: shown to the steering group, hidden when published,
    # and so is its partner (the eight still on the scheme), so neither can be worked out.
    assert "Members de-selected, still tracked 4" in exact
    assert "Members de-selected, still tracked [c]" in published
    assert "Members on the scheme on the day [c]" in published
    assert "De-selected from the PPO scheme [c]" in published
    assert "A person aged" not in published
    assert "Version for publication" in published
    # Headline exact counts the publication still shows (12 is not small).
    assert "Cohort members 12" in published


def test_the_task_moves_progress_to_100_and_ready(scheme):
    report = AnnualReport.objects.create(
        year_starts_on=dt.date(YEAR, 4, 1),
        as_of=dt.date(2025, 3, 31),
        requested_by=scheme["steering"],
    )
    seen = []
    service.annual_report_build(
        report_id=report.pk,
        on_step=lambda i, title: seen.append(
            AnnualReport.objects.values_list("status", "progress").get(pk=report.pk)
        ),
    )
    assert seen[0] == ("running", 0)
    progress = [p for _, p in seen]
    assert progress == sorted(progress) and 0 < progress[-1] < 90
    report.refresh_from_db()
    assert (report.status, report.progress, report.step) == ("ready", 100, "Ready")
    # Called directly, and through Celery (eager, as with no REDIS_URL).
    other = AnnualReport.objects.create(
        year_starts_on=dt.date(YEAR, 4, 1),
        as_of=dt.date(2025, 3, 31),
        requested_by=scheme["steering"],
        for_publication=True,
    )
    result = build_annual_report.apply(args=[other.pk]).get()
    assert result == {"report": other.pk, "status": "ready", "progress": 100}
    assert build_annual_report(other.pk)["status"] == "ready"  # made once, kept


def test_a_failure_marks_the_report_failed_with_a_message(scheme, monkeypatch, client):
    def broken(build):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(service, "SECTIONS", (*service.SECTIONS[:2], ("Performance", broken)))
    report = make(scheme["steering"])
    assert report.status == AnnualReportStatus.FAILED
    assert "ZeroDivisionError" in report.error and report.pdf is None
    sign_in(client, scheme["steering"])
    page = client.get(reverse("reporting:annual-report", args=[report.pk]))
    assert page.status_code == 200
    assert "could not be made" in page.content.decode()
    assert 'http-equiv="refresh"' not in page.content.decode()


def test_a_requester_who_lost_the_role_gets_a_failed_report(scheme):
    report = service.annual_report_request(
        user=scheme["steering"], year=YEAR, for_publication=False
    )
    scheme["steering"].memberships.update(ended_on=dt.date(2025, 6, 1))
    built = service.annual_report_build(report_id=report.pk)
    assert built.status == AnnualReportStatus.FAILED
    assert "no longer" in built.error


def test_asking_on_the_page_builds_it_and_the_progress_page_refreshes(
    scheme, client, django_capture_on_commit_callbacks
):
    sign_in(client, scheme["steering"])
    url = reverse("reporting:annual-reports")
    assert client.get(url).status_code == 200
    bad = client.post(url, {"year": "1999"})
    assert (
        bad.status_code == 200 and "Choose a financial year from the list" in bad.content.decode()
    )
    assert not AnnualReport.objects.exists()
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = client.post(url, {"year": str(YEAR), "form_token": "b" * 32})
    report = AnnualReport.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("reporting:annual-report", args=[report.pk])
    assert len(queued) == 1
    # Posted again with the same token: recognised, not asked for twice.
    again = client.post(url, {"year": str(YEAR), "form_token": "b" * 32})
    assert again.status_code == 302 and AnnualReport.objects.count() == 1
    waiting = client.get(response["Location"]).content.decode()
    assert '<meta http-equiv="refresh" content="2">' in waiting
    assert 'aria-live="polite"' in waiting and "0% done" in waiting
    queued[0]()  # the task, run as the broker would (eager here)
    ready = client.get(response["Location"]).content.decode()
    assert 'http-equiv="refresh"' not in ready
    assert "Download the 2024/25 annual report (PDF," in ready
    listing = client.get(url).content.decode()
    assert reverse("reporting:annual-report-pdf", args=[report.pk]) in listing


def test_downloading_is_audited_as_a_disclosure_to_the_agency(scheme, client):
    report = make(scheme["steering"])
    sign_in(client, scheme["manager"])
    response = client.get(reverse("reporting:annual-report-pdf", args=[report.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "ppo-annual-report-2024-25-as-at-2025-03-31.pdf" in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF")
    event = AuditEvent.objects.get(action=AuditAction.DISCLOSE)
    assert event.record_type == "reporting.annualreport"
    assert event.record_ids == [report.pk]
    assert event.recipient == "Probation agency"
    assert event.user == scheme["manager"]
    # An unknown report is a 404, and no disclosure is written.
    missing = client.get(reverse("reporting:annual-report-pdf", args=[report.pk + 99]))
    assert missing.status_code == 404
    assert AuditEvent.objects.filter(action=AuditAction.DISCLOSE).count() == 1


@pytest.mark.parametrize(
    "role",
    [Role.KEY_WORKER, Role.POLICE_OFFICER, Role.PARTNER_WORKER, Role.ADMINISTRATOR],
)
def test_roles_without_aggregates_are_refused(scheme, client, role):
    report = make(scheme["steering"])
    sign_in(client, staff(role))
    for url in (
        reverse("reporting:annual-reports"),
        reverse("reporting:annual-report", args=[report.pk]),
        reverse("reporting:annual-report-pdf", args=[report.pk]),
    ):
        assert client.get(url).status_code == 403, url
    assert client.post(reverse("reporting:annual-reports"), {"year": YEAR}).status_code == 403
    assert AnnualReport.objects.count() == 1
    assert not AuditEvent.objects.filter(action=AuditAction.DISCLOSE).exists()


def test_someone_with_no_membership_is_refused(db, client, travel):
    sign_in(client, UserFactory())
    assert client.get(reverse("reporting:annual-reports")).status_code == 403


def test_the_list_reads_no_pdf_bytes_and_a_fixed_number_of_queries(
    scheme, client, django_assert_max_num_queries
):
    for _ in range(3):
        make(scheme["steering"])
    sign_in(client, scheme["steering"])
    with django_assert_max_num_queries(12):
        page = client.get(reverse("reporting:annual-reports"))
    assert page.content.decode().count("Download") == 3


def test_more_de_registrations_than_the_limit_are_summed_up_not_told_one_by_one(
    scheme, monkeypatch
):
    monkeypatch.setattr(service, "STORIES_AT_MOST", 3)
    text = pdf_text(bytes(make(scheme["steering"]).pdf))
    assert "4 PPOs were de-registered in the year: too many to describe one by one" in text
    assert "A person aged" not in text
    monkeypatch.setattr(service, "STORIES_AT_MOST", 4)
    text = pdf_text(bytes(make(scheme["steering"]).pdf))
    assert "too many to describe" not in text
    assert text.count("A person aged") == 4
