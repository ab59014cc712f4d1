"""The selection letter (004 §4.1) and the transfer summary (003 §6.2(2), DESIGN.md rule 2).

pypdf is not a dependency, and pdftotext (poppler-utils) may not be installed: so a PDF is
checked as a PDF (its header and type) and its words in the HTML it was made from, captured as
the view renders it, and in WeasyPrint's layout of that HTML (the text boxes it puts on the
pages); where pdftotext is present, the PDF's own text is read too.

The panel meets on 10 June 2026; "today" is 12 June 2026.
"""

from __future__ import annotations

import datetime as dt
import html
import shutil
import subprocess
import uuid

import pytest
import time_machine
from django.urls import reverse

from access.errors import ApplicationError, NotPermitted
from access.models import AgencyKind, AuditAction, AuditEvent, Role, Scheme
from offenders.models import DeselectionReason, EventKind
from selection import letters, services
from selection import panel as panels
from selection.models import DecisionKind, TransferRecord
from tests.factories import (
    AgencyFactory,
    CustodyEpisodeFactory,
    OffenceCategoryFactory,
    OffenderFactory,
    OffendingEventFactory,
    ProgrammeEpisodeFactory,
    sign_in,
    staff,
)

pytestmark = pytest.mark.django_db

PDFTOTEXT = shutil.which("pdftotext")

HELD_ON = dt.date(2026, 6, 10)
NOT_MANAGERS = [
    Role.KEY_WORKER,
    Role.POLICE_OFFICER,
    Role.PRISON_WORKER,
    Role.YOT_WORKER,
    Role.PARTNER_WORKER,
    Role.STEERING_GROUP,
    Role.ADMINISTRATOR,
]
SCHEME_FORM = {
    "receiving_scheme": "Qxport PPO scheme",
    "receiving_area": "Qxport and District",
    "receiving_contact": "Qxrita Hallam, PPO manager, qxrita@example.org",
}


@pytest.fixture(autouse=True)
def on_the_day():
    with time_machine.travel(dt.datetime(2026, 6, 12, 12, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def scheme():
    scheme = Scheme.current()
    scheme.name = "Qxtown PPO scheme"
    scheme.area = "Qxtown"
    scheme.save()
    return scheme


@pytest.fixture
def probation():
    return AgencyFactory(name="Qxtown Probation", kind=AgencyKind.PROBATION)


@pytest.fixture
def manager(probation, scheme):
    return staff(
        Role.PPO_MANAGER,
        agency=probation,
        first_name="Qxmanda",
        last_name="Chairwell",
        email="qxmanda@example.org",
    )


@pytest.fixture
def key_worker(probation):
    return staff(
        Role.KEY_WORKER,
        agency=probation,
        first_name="Qxkeith",
        last_name="Warden",
        email="qxkeith@example.org",
    )


@pytest.fixture
def panel(manager):
    return panels.panel_create(user=manager, held_on=HELD_ON, chair_id=manager.pk)


def decide(manager, panel, person, kind, **kwargs):
    return panels.panel_decide(
        user=manager, panel_id=panel.pk, offender_id=person.pk, kind=kind, **kwargs
    )


@pytest.fixture
def selected(manager, panel, key_worker):
    person = OffenderFactory(
        first_name="Qxselma",
        last_name="Marlow",
        address="1 Qxlane\nQxtown",
        key_worker=key_worker,
    )
    return decide(manager, panel, person, DecisionKind.SELECT, reason="Qx local priority")


@pytest.fixture
def mover(manager, panel, key_worker):
    """A PPO since 2025 who moved away: de-selected for moving area at the panel."""
    person = OffenderFactory(
        first_name="Qxmorton",
        last_name="Dunmore",
        pnc_id="2019/0012345X",
        crn="X123456",
        key_worker=key_worker,
    )
    ProgrammeEpisodeFactory(offender=person, selected_on=dt.date(2025, 1, 1))
    OffenceCategoryFactory(name="Shoplifting")
    burglary = OffenceCategoryFactory(name="Qxburglary dwelling", harm_weight=5)
    OffendingEventFactory(
        offender=person,
        kind=EventKind.CONVICTION,
        category=burglary,
        occurred_on=dt.date(2026, 4, 2),
    )
    OffendingEventFactory(offender=person, kind=EventKind.ARREST, occurred_on=dt.date(2024, 3, 1))
    OffendingEventFactory(
        offender=person,
        kind=EventKind.INTELLIGENCE,
        occurred_on=dt.date(2026, 5, 1),
        source_reference="QXSECRET1",
    )
    services.risk_assessment_record(
        user=manager,
        offender_id=person.pk,
        assessed_on=dt.date(2026, 5, 20),
        tool="oasys",
        likelihood_score=71,
        rosh_level="medium",
    )
    return decide(
        manager,
        panel,
        person,
        DecisionKind.DESELECT,
        deselection_reason=DeselectionReason.MOVED_AREA,
        exit_outcome="moved_away",
    )


@pytest.fixture
def rendered(monkeypatch):
    """The HTML each PDF is made from, as the views render it."""
    made: list[str] = []
    real = letters.render_pdf

    def spy(document_html: str) -> bytes:
        made.append(document_html)
        return real(document_html)

    monkeypatch.setattr(letters, "render_pdf", spy)
    return made


def laid_out_text(document_html: str) -> str:
    """The words WeasyPrint lays out on the pages (margin boxes included)."""
    from weasyprint import HTML

    def walk(box):
        if getattr(box, "text", None):
            yield box.text
        for child in getattr(box, "children", None) or []:
            yield from walk(child)

    pages = HTML(string=document_html).render().pages
    return " ".join(text for page in pages for text in walk(page._page_box))


def is_pdf(response) -> bytes:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    body = response.content
    assert body.startswith(b"%PDF-") and b"%%EOF" in body[-1024:]
    return body


def pdf_text(body: bytes) -> str:
    """The text of a PDF, by poppler's pdftotext (Debian's poppler-utils, which `make test`
    installs beside chromium: never skipped)."""
    assert PDFTOTEXT, "pdftotext is missing: `make chromium` installs poppler-utils"
    result = subprocess.run(  # noqa: S603 (a fixed program, the PDF on its input)
        [PDFTOTEXT, "-layout", "-", "-"], input=body, capture_output=True, check=True
    )
    return " ".join(result.stdout.decode().split())


# --- the selection letter ----------------------------------------------------------------


def test_the_letter_pdf_itself_names_the_person_and_the_dates(client, manager, selected):
    sign_in(client, manager)
    text = pdf_text(is_pdf(client.get(reverse("selection:decision-letter", args=[selected.pk]))))
    assert "Dear Qxselma Marlow," in text
    assert "12 June 2026" in text
    assert "From 10 June 2026 you are a Prolific and other Priority Offender (PPO)" in text
    assert "Your key worker is Qxkeith Warden" in text


def test_the_manager_gets_a_letter_telling_the_person_they_are_a_ppo_audited_as_an_export(
    client, manager, selected, rendered
):
    sign_in(client, manager)
    response = client.get(reverse("selection:decision-letter", args=[selected.pk]))
    is_pdf(response)
    assert len(rendered) == 1
    text = " ".join(html.unescape(rendered[0]).split())
    # Addressed to the person, dated today, a PPO from the panel's date (004 §4.1).
    assert "Qxselma Marlow 1 Qxlane Qxtown" in " ".join(text.replace("<br>", " ").split())
    assert "Dear Qxselma Marlow" in text
    assert "12 June 2026" in text
    assert "From 10 June 2026 you are a Prolific and other Priority Offender (PPO)" in " ".join(
        text.replace("<strong>", "").replace("</strong>", "").split()
    )
    # What it means: the premium service of 001 §3.2.
    assert "More contact." in text and "about 4 times a week" in text
    assert "fast-tracked into drug or alcohol treatment" in text
    assert "Breaches and recalls are fast-tracked" in text
    # Who their key worker is, and how to raise a concern.
    assert "Your key worker is <strong>Qxkeith Warden</strong>, Qxtown Probation" in text
    assert "qxkeith@example.org" in text
    assert "If you have a concern" in text and "Qxmanda Chairwell" in text

    laid_out = " ".join(laid_out_text(rendered[0]).split())
    assert "Qxselma Marlow" in laid_out
    assert "10 June 2026" in laid_out and "12 June 2026" in laid_out
    assert "OFFICIAL-SENSITIVE" in laid_out and "Page 1 of" in laid_out

    # An export of that person (one row for the one letter).
    exports = AuditEvent.objects.filter(action=AuditAction.EXPORT, user=manager)
    assert exports.count() == 1
    row = exports.get()
    assert row.record_type == "offenders.offender"
    assert row.offender_ids == [selected.offender_id]
    assert row.detail["document"] == "selection letter"
    assert row.detail["decision"] == selected.pk


def test_a_letter_to_someone_in_custody_goes_to_the_prison(manager, panel):
    person = OffenderFactory(
        first_name="Qxinside", last_name="Keele", address="9 Qxroad", prison_number="A1234BC"
    )
    CustodyEpisodeFactory(
        offender=person,
        establishment=AgencyFactory(name="HMP Qxmoor", kind=AgencyKind.PRISON),
        started_on=dt.date(2026, 5, 1),
    )
    decision = decide(manager, panel, person, DecisionKind.SELECT, reason="Qx due out soon")
    text = letters.selection_letter(user=manager, decision_id=decision.pk).html
    address = text[text.index('data-testid="address"') :].split("</div>")[0]
    assert "HMP Qxmoor" in address and "A1234BC" in address and "9 Qxroad" not in address
    assert "A key worker is being allocated" in text


def test_stepping_up_from_iom_says_they_are_back_on_the_scheme(manager, panel):
    person = OffenderFactory(first_name="Qxstepper", last_name="Upton")
    ProgrammeEpisodeFactory(offender=person, kind="iom", selected_on=dt.date(2025, 6, 1))
    decision = decide(manager, panel, person, DecisionKind.STEP_UP, reason="Qx offending again")
    text = html.unescape(letters.selection_letter(user=manager, decision_id=decision.pk).html)
    assert "You are back on the Prolific and other Priority Offender (PPO) scheme" in text


@pytest.mark.parametrize("role", NOT_MANAGERS)
def test_only_a_ppo_manager_produces_a_letter(client, role, selected):
    user = staff(role)
    sign_in(client, user)
    response = client.get(reverse("selection:decision-letter", args=[selected.pk]))
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()
    assert AuditEvent.objects.filter(action=AuditAction.DENIED, user=user).exists()
    with pytest.raises(NotPermitted):
        letters.selection_letter(user=user, decision_id=selected.pk)


def test_there_is_no_letter_for_a_decision_that_does_not_select(client, manager, mover):
    sign_in(client, manager)
    assert client.get(reverse("selection:decision-letter", args=[mover.pk])).status_code == 404
    assert client.get("/selection/decisions/99999/letter.pdf").status_code == 404
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT).exists()


def test_the_tab_links_the_letter_beside_its_decision_and_the_transfer_beside_its_own(
    client, manager, selected, mover
):
    sign_in(client, manager)
    page = client.get(reverse("selection:person", args=[selected.offender_id])).content.decode()
    row = page[page.index(f'data-testid="decision-{selected.pk}"') :].split("</tr>")[0]
    assert reverse("selection:decision-letter", args=[selected.pk]) in row
    assert "transfer-link" not in row
    page = client.get(reverse("selection:person", args=[mover.offender_id])).content.decode()
    row = page[page.index(f'data-testid="decision-{mover.pk}"') :].split("</tr>")[0]
    assert reverse("selection:transfer", args=[mover.pk]) in row
    assert "letter-link" not in row


# --- the transfer summary ----------------------------------------------------------------


def post_transfer(client, decision, token: str | None = None, **changes):
    data = {**SCHEME_FORM, **changes, "form_token": token or str(uuid.uuid4())}
    return client.post(reverse("selection:transfer", args=[decision.pk]), data)


def test_the_transfer_is_recorded_with_what_was_sent_and_audited_as_a_disclosure(
    client, manager, mover
):
    sign_in(client, manager)
    form = client.get(reverse("selection:transfer", args=[mover.pk]))
    assert form.status_code == 200 and 'name="receiving_scheme"' in form.content.decode()

    response = post_transfer(client, mover)
    assert response.status_code == 302
    assert response["Location"] == reverse("selection:transfer", args=[mover.pk])
    record = TransferRecord.objects.get()
    assert record.decision == mover and record.sent_by == manager
    assert record.receiving_scheme == "Qxport PPO scheme"
    assert record.as_of == dt.date(2026, 6, 12)

    sections = {s["title"]: dict(s["rows"]) for s in record.contents}
    assert sections["Identity and identifiers"]["Name"] == "Qxmorton Dunmore"
    assert sections["Identity and identifiers"]["PNC ID"] == "2019/0012345X"
    assert sections["Identity and identifiers"]["Probation CRN"] == "X123456"
    assert sections["Supervision and flags"]["Supervision"] == "No statutory supervision"
    assert sections["Custody status"]["In custody"] == "No"
    offending = sections["Offending summary"]
    assert offending["Conviction"] == "1 in the last 12 months, 1 in all"
    assert offending["Arrest"] == "0 in the last 12 months, 1 in all"
    latest = sections["Latest offending (up to 10 events)"]
    assert list(latest.items()) == [
        ("2 April 2026", "Conviction: Qxburglary dwelling"),
        ("1 March 2024", "Arrest: Shoplifting"),
    ]
    assert "Intelligence report" not in offending
    assert "QXSECRET1" not in str(record.contents)
    assert sections["Latest risk assessment"]["Likelihood of re-offending"] == "71%"
    assert sections["Contacts in this scheme"]["Key worker"] == (
        "Qxkeith Warden, Qxtown Probation, qxkeith@example.org"
    )
    decision = sections["Panel decision"]
    assert decision["Decision"] == "De-select: Moved to another area"
    assert decision["Panel date"] == "10 June 2026"
    assert decision["On the scheme as a PPO"] == "From 1 January 2025 to 10 June 2026"

    disclosures = AuditEvent.objects.filter(action=AuditAction.DISCLOSE)
    assert disclosures.count() == 1
    row = disclosures.get()
    assert row.user == manager
    assert row.record_type == "selection.transferrecord" and row.record_ids == [record.pk]
    assert row.offender_ids == [mover.offender_id]
    assert row.recipient.startswith("Qxport PPO scheme, Qxport and District: Qxrita Hallam")
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, record_type="selection.transferrecord"
    ).exists()

    page = client.get(reverse("selection:transfer", args=[mover.pk])).content.decode()
    assert reverse("selection:transfer-pdf", args=[record.pk]) in page
    assert 'name="receiving_scheme"' not in page


def test_posting_twice_does_not_make_a_second_record(client, manager, mover):
    sign_in(client, manager)
    token = str(uuid.uuid4())
    assert post_transfer(client, mover, token).status_code == 302
    again = post_transfer(client, mover, token)
    assert again.status_code == 302  # the same page again, saying it was already saved
    assert TransferRecord.objects.count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.DISCLOSE).count() == 1
    # A fresh form for a decision already transferred is refused in words, not saved.
    other = post_transfer(client, mover, receiving_scheme="Qxelsewhere PPO scheme")
    assert other.status_code == 200
    assert "already sent to Qxport PPO scheme" in html.unescape(other.content.decode())
    assert TransferRecord.objects.count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.DISCLOSE).count() == 1


def test_a_transfer_needs_the_receiving_scheme(client, manager, mover):
    sign_in(client, manager)
    response = post_transfer(client, mover, receiving_scheme="  ", receiving_contact="")
    assert response.status_code == 200
    text = html.unescape(response.content.decode())
    assert "govuk-error-summary" in text
    assert "Enter the name of the receiving scheme" in text
    assert not TransferRecord.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.DISCLOSE).exists()


def test_the_summary_pdf_is_what_was_sent_and_its_download_is_audited(
    client, manager, mover, rendered
):
    sign_in(client, manager)
    post_transfer(client, mover)
    record = TransferRecord.objects.get()
    is_pdf(client.get(reverse("selection:transfer-pdf", args=[record.pk])))
    text = html.unescape(rendered[0])
    assert "PPO transfer summary: Qxmorton Dunmore" in text
    assert "Qxport PPO scheme, Qxport and District" in text
    assert "2019/0012345X" in text and "Qxburglary dwelling" in text and "71%" in text
    laid_out = laid_out_text(rendered[0])
    assert "Qxmorton Dunmore" in laid_out and "12 June 2026" in laid_out
    export = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert export.offender_ids == [mover.offender_id]
    assert export.record_ids == [record.pk]


@pytest.mark.parametrize("role", NOT_MANAGERS)
def test_only_a_ppo_manager_records_or_downloads_a_transfer(client, role, manager, mover):
    record = letters.transfer_record_create(
        user=manager, decision_id=mover.pk, **{**SCHEME_FORM, "receiving_scheme": "Qxfirst"}
    )
    sign_in(client, staff(role))
    assert client.get(reverse("selection:transfer", args=[mover.pk])).status_code == 403
    assert post_transfer(client, mover).status_code == 403
    assert client.get(reverse("selection:transfer-pdf", args=[record.pk])).status_code == 403
    assert TransferRecord.objects.count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.DISCLOSE).count() == 1
    with pytest.raises(NotPermitted):
        letters.transfer_record_create(user=staff(role), decision_id=mover.pk, **SCHEME_FORM)


def test_no_transfer_for_a_decision_that_is_not_a_moved_area_deselection(
    client, manager, panel, selected
):
    stopped = OffenderFactory(first_name="Qxstopped", last_name="Lyle")
    ProgrammeEpisodeFactory(offender=stopped, selected_on=dt.date(2025, 1, 1))
    stopped_decision = decide(
        manager,
        panel,
        stopped,
        DecisionKind.DESELECT,
        deselection_reason=DeselectionReason.STOPPED_OFFENDING,
    )
    sign_in(client, manager)
    for decision in (selected, stopped_decision):
        assert client.get(reverse("selection:transfer", args=[decision.pk])).status_code == 404
        assert post_transfer(client, decision).status_code == 404
        with pytest.raises(ApplicationError, match="moved"):
            letters.transfer_record_create(user=manager, decision_id=decision.pk, **SCHEME_FORM)
    assert not TransferRecord.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.DISCLOSE).exists()
