"""Recognised on arrival (002 inspection): prison staff check a PNC ID or prison number and
learn only PPO / former PPO / not known and the scheme contact; a match lets them record
the reception, which brings the person into their scope and alerts key worker and police."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from access.errors import ApplicationError, Refused
from access.models import AgencyKind, AuditAction, AuditEvent, Role, Scheme
from access.policy import actor_for, can_see_person, may_check_arrivals
from offenders import arrival
from offenders.identifiers import format_pnc
from offenders.models import CustodyEpisode, CustodyKind
from offenders.premium_models import Alert, AlertKind
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

PNC = format_pnc(2004, 46583)  # 2004/0046583U


@pytest.fixture
def prison(db):
    return AgencyFactory(name="HMP Qxmoor", kind=AgencyKind.PRISON)


@pytest.fixture
def worker(prison):
    return staff(Role.PRISON_WORKER, agency=prison, username="reception")


@pytest.fixture
def team(db):
    manager = staff(
        Role.PPO_MANAGER,
        username="qxmanager",
        first_name="Qxmara",
        last_name="Holloway",
        email="qx.manager@example.org",
    )
    return {
        "manager": manager,
        "kw": staff(Role.KEY_WORKER, username="kw"),
        "police": staff(Role.POLICE_OFFICER, username="police"),
    }


@pytest.fixture
def ppo(team):
    person = OffenderFactory(
        first_name="Qxzander",
        last_name="Pellington",
        date_of_birth=dt.date(1987, 4, 23),
        pnc_id=PNC,
        prison_number="A1234BC",
        cro_number="123456/08H",
        crn="X123456",
        aliases="Zed Pell",
        address="14 Qxmoor Terrace",
        phone="07700 900123",
        key_worker=team["kw"],
        police_officer=team["police"],
    )
    ProgrammeEpisodeFactory(offender=person, selected_on=dt.date(2024, 1, 1))
    OffendingEventFactory(
        offender=person, category=OffenceCategoryFactory(name="Qxburglary dwelling")
    )
    return person


# --- The policy's carve-out -------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.PRISON_WORKER, True),
        (Role.PPO_MANAGER, False),
        (Role.KEY_WORKER, False),
        (Role.POLICE_OFFICER, False),
        (Role.YOT_WORKER, False),
        (Role.PARTNER_WORKER, False),
        (Role.STEERING_GROUP, False),
        (Role.ADMINISTRATOR, False),
    ],
)
def test_only_prison_staff_may_check_arrivals(db, role, allowed):
    assert may_check_arrivals(actor_for(staff(role))) is allowed


def test_nobody_without_a_membership_may_check(db):
    from tests.factories import UserFactory

    assert not may_check_arrivals(actor_for(UserFactory()))


def test_other_roles_get_403_and_cannot_call_the_service(client, team):
    sign_in(client, team["manager"])
    assert client.get(reverse("offenders:arrival-check")).status_code == 403
    with pytest.raises(Refused):
        arrival.arrival_check(user=team["manager"], identifier=PNC)


# --- The answer ----------------------------------------------------------------------------


def test_a_ppo_is_recognised_by_pnc_in_any_short_form_and_by_prison_number(worker, ppo):
    for typed in (PNC, "04/46583U", " 2004/0046583u ", "a1234bc", "A1234 BC"):
        assert arrival.arrival_check(user=worker, identifier=typed).answer is arrival.Answer.PPO


def test_a_former_ppo_and_the_not_known(worker, team):
    former = OffenderFactory(pnc_id=format_pnc(2010, 1))
    ProgrammeEpisodeFactory(
        offender=former, selected_on=dt.date(2022, 1, 1), deselected_on=dt.date(2023, 1, 1)
    )
    pool = OffenderFactory(pnc_id=format_pnc(2010, 2))  # known to police, never a PPO
    dyo = OffenderFactory(pnc_id=format_pnc(2010, 3))
    ProgrammeEpisodeFactory(offender=dyo, kind="dyo")
    answers = {
        pnc: arrival.arrival_check(user=worker, identifier=pnc).answer
        for pnc in (former.pnc_id, pool.pnc_id, dyo.pnc_id, format_pnc(2010, 4))
    }
    assert list(answers.values()) == [
        arrival.Answer.FORMER_PPO,
        arrival.Answer.NOT_KNOWN,
        arrival.Answer.NOT_KNOWN,
        arrival.Answer.NOT_KNOWN,
    ]


def test_the_scheme_contact_is_the_ppo_manager(worker, ppo, team):
    answer = arrival.arrival_check(user=worker, identifier=PNC)
    assert answer.contact.name == "Qxmara Holloway"
    assert answer.contact.email == "qx.manager@example.org"
    assert answer.contact.scheme == Scheme.current().name


# What the check must never show (written from the person's record above, not from the
# code): names, aliases, date of birth in any form, other identifiers, address, phone,
# offences, key worker and police officer.
MUST_NOT_APPEAR = [
    "Qxzander",
    "Pellington",
    "Zed Pell",
    "1987",
    "23 April",
    "23/04",
    "123456/08H",
    "X123456",
    "Qxmoor Terrace",
    "07700",
    "Qxburglary",
    "burglary",
]


def test_the_check_page_shows_the_answer_and_nothing_else_of_the_record(client, worker, ppo, team):
    sign_in(client, worker)
    page = client.post(reverse("offenders:arrival-check"), {"identifier": PNC}).content.decode()
    assert 'data-testid="arrival-answer-text">PPO<' in page
    assert "Qxmara Holloway" in page
    for text in [*MUST_NOT_APPEAR, team["kw"].last_name, team["police"].last_name]:
        assert text not in page, text


def test_not_known_looks_the_same_whether_or_not_the_record_exists(client, worker, team):
    OffenderFactory(pnc_id=format_pnc(2010, 2), first_name="Qxpoolman")
    sign_in(client, worker)
    known = client.post(
        reverse("offenders:arrival-check"), {"identifier": format_pnc(2010, 2)}
    ).content.decode()
    unknown = client.post(
        reverse("offenders:arrival-check"), {"identifier": format_pnc(2010, 5)}
    ).content.decode()
    assert "Qxpoolman" not in known
    # The same page either way, but for the identifier typed.
    shown = 'data-testid="arrival-answer-text">Not known<'
    assert shown in known and shown in unknown
    for page, typed in ((known, format_pnc(2010, 2)), (unknown, format_pnc(2010, 5))):
        answer = page[page.index('data-testid="arrival-answer"') :]
        answer = answer[: answer.index("Scheme contact")]
        assert answer.replace(typed, "ID") == known_answer(known, format_pnc(2010, 2))
    assert 'data-testid="reception-form"' not in known


def known_answer(page, typed):
    answer = page[page.index('data-testid="arrival-answer"') :]
    return answer[: answer.index("Scheme contact")].replace(typed, "ID")


def test_each_check_is_audited_with_the_identifier_and_the_answer(worker, ppo):
    arrival.arrival_check(user=worker, identifier="04/46583U")
    row = AuditEvent.objects.get(record_type=arrival.ARRIVAL_CHECK)
    assert row.action == AuditAction.LIST and row.user == worker
    assert row.detail["identifier"] == PNC and row.detail["answer"] == "ppo"
    assert row.offender_ids == [ppo.pk]


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter a PNC ID or a prison number"),
        ("2004/0046583X", "check letter does not match"),
        ("hello there", "prison number as a letter"),
        ("12345", "Enter a PNC ID, like"),
        ("A1234BCD", "prison number as a letter"),
        ("x" * 30, "Enter a PNC ID, like"),
    ],
)
def test_a_malformed_identifier_is_refused_and_audited(worker, typed, message):
    with pytest.raises(ApplicationError, match=message):
        arrival.arrival_check(user=worker, identifier=typed)
    row = AuditEvent.objects.get(record_type=arrival.ARRIVAL_CHECK)
    assert row.detail["outcome"] == "refused: malformed"


def test_a_malformed_identifier_on_the_page_shows_the_error_summary(client, worker):
    sign_in(client, worker)
    response = client.post(reverse("offenders:arrival-check"), {"identifier": "2004/0046583X"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in page and "check letter does not match" in page
    assert AuditEvent.objects.filter(record_type=arrival.ARRIVAL_CHECK).count() == 1


def test_the_rate_limit_counts_the_last_minute_each_side(worker, ppo):
    scheme = Scheme.current()
    scheme.arrival_checks_per_minute = 3
    scheme.save()
    start = timezone.now().replace(microsecond=0)
    with time_machine.travel(start, tick=False):
        for _ in range(3):
            arrival.arrival_check(user=worker, identifier=PNC)
    with (
        time_machine.travel(start + dt.timedelta(seconds=59), tick=False),
        pytest.raises(ApplicationError, match="3 checks in the last minute"),
    ):
        arrival.arrival_check(user=worker, identifier=PNC)
    refused = AuditEvent.objects.filter(
        record_type=arrival.ARRIVAL_CHECK, action=AuditAction.DENIED
    )
    assert refused.count() == 1 and refused.get().detail["outcome"] == "refused: rate limit"
    # Exactly 60 seconds after the first three, they no longer count.
    with time_machine.travel(start + dt.timedelta(seconds=60), tick=False):
        assert arrival.arrival_check(user=worker, identifier=PNC).answer is arrival.Answer.PPO


def test_the_rate_limit_is_per_person(worker, prison, ppo):
    scheme = Scheme.current()
    scheme.arrival_checks_per_minute = 1
    scheme.save()
    arrival.arrival_check(user=worker, identifier=PNC)
    colleague = staff(Role.PRISON_WORKER, agency=prison, username="colleague")
    assert arrival.arrival_check(user=colleague, identifier=PNC).matched


# --- Recording the reception --------------------------------------------------------------


def test_recording_the_reception_opens_custody_brings_into_scope_and_alerts(worker, ppo, team):
    assert not can_see_person(actor_for(worker), ppo.pk)
    release = timezone.localdate() + dt.timedelta(weeks=4)
    episode = arrival.reception_record(
        user=worker,
        identifier="a1234bc",
        kind=CustodyKind.SENTENCE,
        sentence_length_months=6,
        expected_release_on=release,
    )
    assert episode.offender == ppo and episode.received_at is not None
    assert episode.establishment.name == "HMP Qxmoor"
    assert episode.started_on == timezone.localdate()
    assert can_see_person(actor_for(worker), ppo.pk)
    alerts = Alert.objects.all()
    assert {a.recipient.username for a in alerts} == {"kw", "police"}
    assert all(a.kind == AlertKind.RECEIVED_INTO_CUSTODY for a in alerts)
    assert "HMP Qxmoor" in alerts[0].message
    assert AuditEvent.objects.filter(
        record_type="offenders.custodyepisode", action=AuditAction.CREATE
    ).exists()


def test_no_reception_for_the_not_known(worker, team):
    OffenderFactory(pnc_id=format_pnc(2010, 2))
    with pytest.raises(ApplicationError, match="No PPO or former PPO"):
        arrival.reception_record(user=worker, identifier=format_pnc(2010, 2), kind="remand")
    assert not CustodyEpisode.objects.exists()


def test_no_reception_twice_or_while_in_custody_elsewhere(worker, ppo, prison):
    arrival.reception_record(user=worker, identifier=PNC, kind=CustodyKind.REMAND)
    with pytest.raises(ApplicationError, match="already recorded"):
        arrival.reception_record(user=worker, identifier=PNC, kind=CustodyKind.REMAND)
    other = staff(
        Role.PRISON_WORKER,
        agency=AgencyFactory(name="HMP Qxdale", kind=AgencyKind.PRISON),
        username="elsewhere",
    )
    with pytest.raises(ApplicationError, match="in custody elsewhere"):
        arrival.reception_record(user=other, identifier=PNC, kind=CustodyKind.REMAND)
    assert CustodyEpisode.objects.count() == 1


def test_the_reception_page_refuses_a_sentence_without_its_length(client, worker, ppo):
    sign_in(client, worker)
    response = client.post(
        reverse("offenders:arrival-reception"), {"identifier": PNC, "kind": "sentence"}
    )
    assert response.status_code == 200
    assert "Enter the sentence length in months" in response.content.decode()
    assert not CustodyEpisode.objects.exists()


def test_the_reception_page_records_and_goes_to_the_custody_record(client, worker, ppo):
    sign_in(client, worker)
    response = client.post(
        reverse("offenders:arrival-reception"), {"identifier": PNC, "kind": "remand"}
    )
    episode = CustodyEpisode.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("offenders:custody", args=[ppo.pk, episode.pk])
    assert client.get(response["Location"]).status_code == 200


def test_an_open_custody_elsewhere_keeps_a_prison_worker_out_of_scope(worker, ppo):
    CustodyEpisodeFactory(
        offender=ppo, establishment=AgencyFactory(name="HMP Qxdale", kind=AgencyKind.PRISON)
    )
    assert not can_see_person(actor_for(worker), ppo.pk)
