"""Enforcement on a clock (offenders.enforcement; 001 §3.2e, 002 "speedy enforcement").

The scheme's standard is 5 working days (the default). Dates are from a 2026 calendar:
Monday 2 March 2026 is a Monday; Good Friday is 3 April, Easter Monday 6 April (the
shipped bank holidays). Cases for the selector tests are written straight onto the
models, not through the services under test.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from access.errors import ApplicationError, NotPermitted, OutOfScope, Refused
from access.models import AgencyKind, AuditAction, AuditEvent, Role, Scheme
from access.policy import actor_for
from offenders import enforcement
from offenders.models import (
    Contact,
    ContactOutcome,
    EnforcementCase,
    EnforcementOutcome,
    EnforcementStatus,
    EnforcementStep,
    EnforcementStepKind,
    ProgrammeKind,
    Supervision,
)
from offenders.services import contact_log
from offenders.standards import measures
from tests.factories import (
    AgencyFactory,
    ContactFactory,
    OffenderFactory,
    ProgrammeEpisodeFactory,
    sign_in,
    staff,
)

D = dt.date
Kind = EnforcementStepKind
MONDAY = D(2026, 3, 2)
TODAY = D(2026, 3, 20)


def at(day: dt.date) -> Any:
    return time_machine.travel(dt.datetime.combine(day, dt.time(12, 0), tzinfo=dt.UTC), tick=False)


@pytest.fixture
def today() -> Any:
    with at(TODAY):
        yield TODAY


class World:
    def __init__(self) -> None:
        Scheme.current()
        self.probation = AgencyFactory(name="Probation agency", kind=AgencyKind.PROBATION)
        self.manager = staff(Role.PPO_MANAGER, self.probation, username="manager")
        self.key_worker = staff(Role.KEY_WORKER, self.probation, username="kw")
        self.offender_manager = staff(Role.KEY_WORKER, self.probation, username="om")
        self.other_kw = staff(Role.KEY_WORKER, self.probation, username="otherkw")
        self.police = staff(Role.POLICE_OFFICER, username="police")
        self.partner = staff(Role.PARTNER_WORKER, username="partner")
        self.steering = staff(Role.STEERING_GROUP, username="steering")
        self.on_licence = self.person(Supervision.LICENCE, offender_manager=self.offender_manager)
        self.on_order = self.person(Supervision.COMMUNITY_ORDER)
        self.unsupervised = self.person(Supervision.NONE)
        self.others = self.person(Supervision.LICENCE, key_worker=self.other_kw)

    def person(self, supervision: str, **workers: Any) -> Any:
        workers.setdefault("key_worker", self.key_worker)
        person = OffenderFactory(supervision=supervision, **workers)
        ProgrammeEpisodeFactory(offender=person, kind=ProgrammeKind.PPO, selected_on=D(2025, 1, 1))
        return person

    def case(
        self, person: Any, failed_on: dt.date, *, owner: Any = None, **fields: Any
    ) -> EnforcementCase:
        contact = ContactFactory(
            offender=person,
            agency=self.probation,
            worker=self.key_worker,
            outcome=ContactOutcome.FAILED,
            occurred_at=dt.datetime.combine(failed_on, dt.time(10), tzinfo=dt.UTC),
        )
        return EnforcementCase.objects.create(
            offender=person,
            contact=contact,
            failed_on=failed_on,
            supervision=person.supervision,
            owner=owner or self.key_worker,
            **fields,
        )

    def step(self, case: EnforcementCase, kind: str, on: dt.date) -> EnforcementStep:
        return EnforcementStep.objects.create(
            case=case, kind=kind, taken_on=on, recorded_by=self.key_worker
        )


@pytest.fixture
def world(db: Any, today: dt.date) -> World:
    return World()


def log_failure(world: World, user: Any, person: Any, day: dt.date = MONDAY) -> Contact:
    return contact_log(
        user=user,
        offender_id=person.pk,
        occurred_at=dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC),
        kind="office",
        outcome=ContactOutcome.FAILED,
    )


# --- opened by a failed attendance on licence or an order ------------------------------------


def test_a_failure_on_licence_opens_a_case_owned_by_the_offender_manager(world):
    contact = log_failure(world, world.key_worker, world.on_licence)
    assert contact.enforcement_flagged is True
    case = EnforcementCase.objects.get()
    assert case.contact == contact
    assert case.failed_on == MONDAY
    assert case.supervision == Supervision.LICENCE
    assert case.owner == world.offender_manager
    assert case.status == EnforcementStatus.OPEN
    assert AuditEvent.objects.filter(
        action=AuditAction.CREATE, record_type=enforcement.ENFORCEMENT_CASE, record_ids=[case.pk]
    ).exists()


def test_a_failure_on_an_order_opens_a_case_owned_by_the_key_worker_without_an_offender_manager(
    world,
):
    log_failure(world, world.manager, world.on_order)
    case = EnforcementCase.objects.get()
    assert case.owner == world.key_worker
    assert case.supervision == Supervision.COMMUNITY_ORDER


def test_with_no_worker_allocated_the_person_who_logged_it_owns_the_case(world):
    person = world.person(Supervision.SUSPENDED_SENTENCE, key_worker=None)
    log_failure(world, world.manager, person)
    assert EnforcementCase.objects.get().owner == world.manager


@pytest.mark.parametrize(
    "who,outcome",
    [("unsupervised", ContactOutcome.FAILED), ("on_licence", ContactOutcome.ATTENDED)],
)
def test_no_case_without_both_a_failure_and_a_licence_or_order(world, who, outcome):
    contact_log(
        user=world.key_worker,
        offender_id=getattr(world, who).pk,
        occurred_at=timezone.now() - dt.timedelta(hours=1),
        kind="office",
        outcome=outcome,
    )
    assert Contact.objects.count() == 1
    assert not EnforcementCase.objects.exists()
    assert Contact.objects.get().enforcement_flagged is False


def test_the_case_is_opened_in_the_contacts_transaction(world, monkeypatch):
    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("no case")

    monkeypatch.setattr(EnforcementCase.objects, "create", broken)
    with pytest.raises(RuntimeError):
        log_failure(world, world.key_worker, world.on_licence)
    assert not Contact.objects.exists()


def test_the_contact_form_opens_the_case_too(client, world):
    sign_in(client, world.key_worker)
    day = TODAY - dt.timedelta(days=1)
    response = client.post(
        reverse("offenders:contact-log", args=[world.on_order.pk]),
        {
            "date": day.isoformat(),
            "hour": "10",
            "minute": "0",
            "kind": "office",
            "outcome": "failed",
            "note": "",
        },
    )
    assert response.status_code == 302
    assert EnforcementCase.objects.get().failed_on == day


# --- steps: in order, from the failure on, the right one for the supervision ----------------


def record(world: World, case: EnforcementCase, kind: str, on: dt.date, **kwargs: Any) -> Any:
    case.refresh_from_db()
    return enforcement.enforcement_step_record(
        user=kwargs.pop("user", world.key_worker),
        case_id=case.pk,
        version=kwargs.pop("version", case.version),
        kind=kind,
        taken_on=on,
        **kwargs,
    )


def refused(world: World, case: EnforcementCase, kind: str, on: dt.date, **kwargs: Any) -> str:
    before = (EnforcementStep.objects.count(), EnforcementCase.objects.get(pk=case.pk).version)
    with pytest.raises(ApplicationError) as error:
        record(world, case, kind, on, **kwargs)
    after = (EnforcementStep.objects.count(), EnforcementCase.objects.get(pk=case.pk).version)
    assert after == before, "nothing saved"
    return error.value.message


def test_a_warning_then_a_recall_on_licence_with_the_working_days_each_took(world):
    case = world.case(world.on_licence, D(2026, 4, 1))
    with at(D(2026, 4, 20)):
        record(world, case, Kind.WARNING, D(2026, 4, 2))
        record(world, case, Kind.RECALL_REQUESTED, D(2026, 4, 9), note="Licence revoked")
        view = enforcement.enforcement_case(user=world.key_worker, case_id=case.pk)
    case.refresh_from_db()
    assert case.version == 3
    # Thu 2 April is day 1; Good Friday and Easter Monday do not count: Tue 7 (2),
    # Wed 8 (3), Thu 9 (4).
    assert [
        (line.step.kind, line.working_days, line.since_failure) for line in view.clock.steps
    ] == [
        (Kind.WARNING, 1, 1),
        (Kind.RECALL_REQUESTED, 3, 4),
    ]
    assert view.clock.last_day == D(2026, 4, 10)
    assert view.clock.state == enforcement.ClockState.MET
    assert view.step_kinds == []


def test_a_breach_on_licence_and_a_recall_on_an_order_are_refused(world):
    licence = world.case(world.on_licence, MONDAY)
    order = world.case(world.on_order, MONDAY)
    assert "recall" in refused(world, licence, Kind.BREACH_LAID, D(2026, 3, 3))
    assert "breach" in refused(world, order, Kind.RECALL_REQUESTED, D(2026, 3, 3))
    record(world, order, Kind.BREACH_LAID, D(2026, 3, 3))


def test_a_step_dated_before_the_failure_is_refused(world):
    case = world.case(world.on_order, MONDAY)
    message = refused(world, case, Kind.WARNING, D(2026, 3, 1))
    assert "before the failure" in message and "2 March 2026" in message
    record(world, case, Kind.WARNING, MONDAY)  # the failure day itself is allowed


def test_a_step_dated_before_an_earlier_step_is_refused(world):
    case = world.case(world.on_order, MONDAY)
    record(world, case, Kind.WARNING, D(2026, 3, 5))
    message = refused(world, case, Kind.BREACH_LAID, D(2026, 3, 4))
    assert "before the earlier step" in message and "5 March 2026" in message
    record(world, case, Kind.BREACH_LAID, D(2026, 3, 5))


def test_a_warning_after_the_breach_and_a_step_twice_are_refused(world):
    case = world.case(world.on_order, MONDAY)
    record(world, case, Kind.BREACH_LAID, D(2026, 3, 4))
    assert "comes before" in refused(world, case, Kind.WARNING, D(2026, 3, 5))
    assert "already recorded" in refused(world, case, Kind.BREACH_LAID, D(2026, 3, 5))


def test_a_step_in_the_future_and_a_stale_version_are_refused(world):
    case = world.case(world.on_order, MONDAY)
    assert "future" in refused(world, case, Kind.WARNING, TODAY + dt.timedelta(days=1))
    with pytest.raises(enforcement.StaleCase):
        record(world, case, Kind.WARNING, MONDAY, version=case.version + 1)
    assert not EnforcementStep.objects.exists()


def test_only_those_who_may_write_contacts_for_the_person_record_steps(world):
    case = world.case(world.on_order, MONDAY)
    with pytest.raises(OutOfScope):
        record(world, case, Kind.WARNING, MONDAY, user=world.partner)
    with pytest.raises(Refused):
        record(world, case, Kind.WARNING, MONDAY, user=world.steering)
    # Police write contacts for everyone (ACCESS.md): they may fast-track a breach.
    record(world, case, Kind.BREACH_LAID, MONDAY, user=world.police)


# --- closing with an outcome --------------------------------------------------------------


def close(world: World, case: EnforcementCase, outcome: str, **kwargs: Any) -> Any:
    case.refresh_from_db()
    return enforcement.enforcement_close(
        user=world.key_worker, case_id=case.pk, version=case.version, outcome=outcome, **kwargs
    )


def test_the_outcome_must_follow_the_steps(world):
    case = world.case(world.on_order, MONDAY)
    with pytest.raises(ApplicationError, match="needs a breach laid"):
        close(world, case, EnforcementOutcome.BREACH_PROVEN)
    with pytest.raises(ApplicationError, match="needs a recall requested"):
        close(world, case, EnforcementOutcome.RECALLED)
    with pytest.raises(ApplicationError, match="Enter why"):
        close(world, case, EnforcementOutcome.ACCEPTABLE_ABSENCE)
    record(world, case, Kind.BREACH_LAID, D(2026, 3, 4))
    with pytest.raises(ApplicationError, match="not a warning only"):
        close(world, case, EnforcementOutcome.WARNING_ONLY)
    with pytest.raises(ApplicationError, match="before the earlier step"):
        close(world, case, EnforcementOutcome.BREACH_PROVEN, closed_on=D(2026, 3, 3))
    assert EnforcementCase.objects.get(pk=case.pk).status == EnforcementStatus.OPEN
    closed = close(world, case, EnforcementOutcome.BREACH_PROVEN, closed_on=D(2026, 3, 16))
    assert (closed.status, closed.outcome, closed.closed_on) == (
        EnforcementStatus.CLOSED,
        EnforcementOutcome.BREACH_PROVEN,
        D(2026, 3, 16),
    )
    with pytest.raises(ApplicationError, match="closed"):
        record(world, case, Kind.WARNING, D(2026, 3, 17))


# --- overdue: open, no breach or recall, the last working day passed ------------------------


@pytest.mark.parametrize(
    "failed_on,last_on_time,first_overdue",
    [
        (MONDAY, D(2026, 3, 9), D(2026, 3, 10)),
        # Easter: Wed 1 April's fifth working day is Friday 10 April; the weekend after it
        # is already overdue.
        (D(2026, 4, 1), D(2026, 4, 10), D(2026, 4, 11)),
    ],
)
def test_overdue_from_the_day_after_the_last_working_day(
    world, failed_on, last_on_time, first_overdue
):
    case = world.case(world.on_licence, failed_on)
    with at(last_on_time):
        assert enforcement.overdue_cases(user=world.manager) == []
    with at(first_overdue):
        found = enforcement.overdue_cases(user=world.manager)
    assert [clock.case.pk for clock in found] == [case.pk]
    assert found[0].last_day == last_on_time


def test_a_breach_laid_late_or_a_closed_case_is_not_overdue(world):
    laid = world.case(world.on_order, MONDAY)
    world.step(laid, Kind.BREACH_LAID, D(2026, 3, 12))
    world.case(world.on_licence, MONDAY, status=EnforcementStatus.CLOSED, closed_on=D(2026, 3, 3))
    warned = world.case(world.on_licence, MONDAY)
    world.step(warned, Kind.WARNING, D(2026, 3, 3))
    assert [c.case.pk for c in enforcement.overdue_cases(user=world.manager)] == [warned.pk]
    clocks = enforcement.clocks_for([laid], as_of=TODAY)
    assert clocks[0].state == enforcement.ClockState.LATE


def test_a_key_worker_sees_their_own_peoples_overdue_cases_the_manager_all(world):
    mine = world.case(world.on_licence, MONDAY)
    owned = world.case(world.others, MONDAY, owner=world.key_worker)
    theirs = world.case(world.others, D(2026, 3, 3), owner=world.other_kw)
    assert {c.case.pk for c in enforcement.overdue_cases(user=world.key_worker, mine=True)} == {
        mine.pk,
        owned.pk,
    }
    assert {c.case.pk for c in enforcement.overdue_cases(user=world.manager)} == {
        mine.pk,
        owned.pk,
        theirs.pk,
    }


def test_the_overdue_list_runs_a_fixed_number_of_queries(world):
    first = world.case(world.on_licence, MONDAY)
    world.step(first, Kind.WARNING, D(2026, 3, 3))
    actor = actor_for(world.manager)
    with CaptureQueriesContext(connection) as few:
        assert len(enforcement.overdue_cases(user=actor)) == 1
    for n in range(6):
        case = world.case(world.on_order, MONDAY + dt.timedelta(days=n))
        world.step(case, Kind.WARNING, D(2026, 3, 10))
    with CaptureQueriesContext(connection) as many:
        assert len(enforcement.overdue_cases(user=actor)) == 7
    assert len(many.captured_queries) == len(few.captured_queries) <= 7


# --- the home pages ----------------------------------------------------------------------


def test_the_home_panels_per_role(client, world):
    mine = world.case(world.on_licence, MONDAY)
    theirs = world.case(world.others, MONDAY, owner=world.other_kw)
    page = sign_in(client, world.key_worker).get(reverse("home")).content.decode()
    assert 'data-testid="enforcement-overdue"' in page
    assert f'data-case="{mine.pk}"' in page and f'data-case="{theirs.pk}"' not in page
    assert world.others.full_name not in page
    page = sign_in(client, world.manager).get(reverse("home")).content.decode()
    assert f'data-case="{mine.pk}"' in page and f'data-case="{theirs.pk}"' in page
    page = sign_in(client, world.police).get(reverse("home")).content.decode()
    assert 'data-testid="enforcement-overdue"' not in page


def test_the_home_page_runs_a_fixed_number_of_queries_as_overdue_cases_grow(client, world):
    world.case(world.on_licence, MONDAY)
    sign_in(client, world.manager)
    client.get(reverse("home"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("home"))
    for _ in range(5):
        world.case(world.on_order, MONDAY)
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("home")).content.decode()
    assert page.count("data-case=") == 6
    assert len(many.captured_queries) == len(few.captured_queries)


# --- the standard ----------------------------------------------------------------------------


def enforcement_measure(user: Any, first: dt.date, last: dt.date) -> Any:
    found = [
        m for m in measures(user=user, first_day=first, last_day=last) if m.key == "enforcement"
    ]
    return found[0] if found else None


def test_the_standard_is_met_on_the_last_working_day_and_not_the_next(world):
    on_time = world.case(world.on_order, MONDAY)
    world.step(on_time, Kind.BREACH_LAID, D(2026, 3, 9))
    late = world.case(world.on_order, MONDAY)
    world.step(late, Kind.BREACH_LAID, D(2026, 3, 10))
    # Easter: 1 April's last day is 10 April.
    easter = world.case(world.on_licence, D(2026, 4, 1))
    world.step(easter, Kind.RECALL_REQUESTED, D(2026, 4, 10))
    overdue = world.case(world.on_licence, D(2026, 3, 3))  # open, past 10 March
    world.case(world.on_licence, D(2026, 3, 18))  # within the standard on the 20th: not yet
    world.case(
        world.on_licence,
        D(2026, 3, 4),
        status=EnforcementStatus.CLOSED,
        outcome=EnforcementOutcome.ACCEPTABLE_ABSENCE,
        closed_on=D(2026, 3, 20),
    )
    assert overdue
    march = enforcement_measure(world.manager, D(2026, 3, 1), D(2026, 3, 31))
    assert (march.met, march.total) == (1, 3)
    assert march.label == "Breach laid or recall requested within 5 working days"
    with at(D(2026, 4, 20)):
        april = enforcement_measure(world.manager, D(2026, 4, 1), D(2026, 4, 30))
    assert (april.met, april.total) == (1, 1)


def test_the_standard_is_for_readers_of_contacts_in_their_scope(world, django_assert_num_queries):
    world.step(world.case(world.on_order, MONDAY), Kind.BREACH_LAID, D(2026, 3, 9))
    actor = actor_for(world.steering)
    assert enforcement.enforcement_standard(actor, D(2026, 3, 1), D(2026, 3, 31)) is None
    partner = enforcement.enforcement_standard(actor_for(world.partner), MONDAY, TODAY)
    assert partner is not None and partner.total == 0
    manager = actor_for(world.manager)
    with django_assert_num_queries(4):
        assert enforcement.enforcement_standard(manager, MONDAY, TODAY).met == 1


# --- the pages ---------------------------------------------------------------------------------


def test_the_person_tab_lists_their_cases_with_the_clock(client, world):
    case = world.case(world.on_licence, MONDAY)
    world.step(case, Kind.WARNING, D(2026, 3, 3))
    url = reverse("offenders:enforcement-person", args=[world.on_licence.pk])
    page = sign_in(client, world.key_worker).get(url).content.decode()
    assert f'data-case="{case.pk}"' in page
    assert "Overdue" in page and "Warning given" in page
    assert 'aria-current="page" href="' + url in page
    assert AuditEvent.objects.filter(action=AuditAction.VIEW, detail__view="enforcement").exists()
    # Not offered to, and refused for, a role that sees no one's records.
    assert sign_in(client, world.steering).get(url).status_code == 403


def test_the_case_page_records_a_step_and_tells_a_stale_version(client, world):
    case = world.case(world.on_order, MONDAY)
    sign_in(client, world.key_worker)
    page = client.get(reverse("offenders:enforcement-case", args=[case.pk])).content.decode()
    assert "Record a step" in page and "Monday 9 March 2026" in page
    url = reverse("offenders:enforcement-step", args=[case.pk])
    posted = {"version": "1", "kind": "warning", "taken_on": "2026-03-04", "note": ""}
    response = client.post(url, posted)
    assert response.status_code == 302
    assert EnforcementStep.objects.get().taken_on == D(2026, 3, 4)
    # A second page opened before the warning was saved still says version 1.
    response = client.post(url, {**posted, "kind": "breach_laid", "taken_on": "2026-03-09"})
    page = response.content.decode()
    assert "changed by someone else" in page and 'name="version" value="2"' in page
    assert EnforcementStep.objects.count() == 1


def test_the_step_page_shows_a_refusal_in_the_error_summary(client, world):
    case = world.case(world.on_licence, MONDAY)
    response = sign_in(client, world.key_worker).post(
        reverse("offenders:enforcement-step", args=[case.pk]),
        {"version": "1", "kind": "warning", "taken_on": "2026-02-27"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "govuk-error-summary" in page and "before the failure to attend" in page
    # The breach is not offered on a licence.
    assert 'value="breach_laid"' not in page and 'value="recall_requested"' in page


def test_closing_needs_confirming(client, world):
    case = world.case(world.on_licence, MONDAY)
    url = reverse("offenders:enforcement-close", args=[case.pk])
    sign_in(client, world.key_worker)
    posted = {"version": "1", "outcome": "acceptable_absence", "note": "In hospital"}
    response = client.post(url, posted)
    assert "Confirm that you want to close the case" in response.content.decode()
    assert EnforcementCase.objects.get().status == EnforcementStatus.OPEN
    response = client.post(url, {**posted, "confirm": "on"})
    assert response.status_code == 302
    assert EnforcementCase.objects.get().outcome == EnforcementOutcome.ACCEPTABLE_ABSENCE


def test_a_case_outside_the_readers_scope_is_not_found(client, world):
    case = world.case(world.on_licence, MONDAY)
    url = reverse("offenders:enforcement-case", args=[case.pk])
    # The partner's agency has no referral for the person, so they are not in scope.
    assert sign_in(client, world.partner).get(url).status_code == 404
    assert AuditEvent.objects.filter(action=AuditAction.DENIED).exists()
    # Police read the case but a closed one is not written.
    EnforcementCase.objects.filter(pk=case.pk).update(status=EnforcementStatus.CLOSED)
    sign_in(client, world.police)
    assert client.get(url).status_code == 200
    assert client.get(reverse("offenders:enforcement-step", args=[case.pk])).status_code == 403


def test_the_open_cases_list(client, world):
    overdue = world.case(world.on_licence, MONDAY)
    due = world.case(world.on_order, D(2026, 3, 19))
    sign_in(client, world.manager)
    page = client.get(reverse("offenders:enforcement-list")).content.decode()
    assert f'data-case="{overdue.pk}"' in page and f'data-case="{due.pk}"' in page
    page = client.get(reverse("offenders:enforcement-list") + "?overdue=yes").content.decode()
    assert f'data-case="{overdue.pk}"' in page and f'data-case="{due.pk}"' not in page


def test_enforcement_open_refuses_a_reader_who_may_not_write_the_contact(world):
    contact = ContactFactory(
        offender=world.on_licence,
        agency=world.probation,
        worker=world.key_worker,
        outcome=ContactOutcome.FAILED,
    )
    with pytest.raises(NotPermitted):
        enforcement.enforcement_open(user=world.steering, contact=contact)
    assert enforcement.enforcement_open(user=world.key_worker, contact=contact) is not None
