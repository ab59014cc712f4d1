"""The sweep raises each review exactly once, in a number of queries that does not grow
with the scheme; reviews close by a decision or "no change" with a reason; run_reviews."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from access.errors import ApplicationError, NotPermitted
from access.models import AuditAction, AuditEvent, Role
from offenders.models import DeselectionReason, EventKind, OffenceCategory, ProgrammeKind
from selection import panel as panels
from selection.models import DecisionKind, Review, ReviewKind, ReviewStatus
from selection.reviews import review_close, sweep
from selection.reviews import sweeper as sweep_module
from tests.factories import (
    CustodyEpisodeFactory,
    OffenderFactory,
    OffendingEventFactory,
    ProgrammeEpisodeFactory,
    staff,
)

pytestmark = pytest.mark.django_db

D = dt.date
AS_OF = D(2026, 7, 3)


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(dt.datetime(2026, 7, 10, 12, 0, tzinfo=dt.UTC), tick=False):
        yield


def world(n: int) -> None:
    """n people for each of several kinds of review on AS_OF."""
    shoplifting = OffenceCategory.objects.get(name="Shoplifting")
    robbery = OffenceCategory.objects.get(name="Robbery – personal")
    for _ in range(n):
        quiet = OffenderFactory()
        ProgrammeEpisodeFactory(offender=quiet, selected_on=D(2024, 1, 1))  # + two years
        OffendingEventFactory(offender=quiet, occurred_on=D(2026, 1, 1), category=shoplifting)
        jailed = OffenderFactory()
        ProgrammeEpisodeFactory(offender=jailed, selected_on=D(2025, 1, 1))
        CustodyEpisodeFactory(
            offender=jailed,
            started_on=D(2026, 1, 1),
            sentence_length_months=96,
            expected_release_on=D(2030, 1, 1),
        )
        OffendingEventFactory(offender=jailed, occurred_on=D(2025, 12, 1), category=robbery)
        former = OffenderFactory()
        ProgrammeEpisodeFactory(
            offender=former,
            selected_on=D(2023, 1, 1),
            deselected_on=D(2026, 1, 1),
            deselection_reason=DeselectionReason.STOPPED_OFFENDING,
            exit_route="none",
        )
        OffendingEventFactory(offender=former, occurred_on=D(2026, 6, 1), category=shoplifting)
        young = OffenderFactory(date_of_birth=D(2008, 9, 1))
        ProgrammeEpisodeFactory(offender=young, kind=ProgrammeKind.DYO, selected_on=D(2025, 1, 3))


def test_every_kind_in_the_world_is_raised_once_and_the_second_sweep_raises_nothing():
    world(2)
    first = sweep(as_of=AS_OF)
    assert first.raised == {
        ReviewKind.NO_ARREST: 2,
        ReviewKind.TWO_YEARS: 2,
        ReviewKind.LONG_CUSTODY: 2,
        ReviewKind.MAPPA_REFERRAL: 2,
        ReviewKind.FORMER_REOFFENDING: 2,
        ReviewKind.DYO_TURNING_18: 2,
        ReviewKind.DYO_PERIODIC: 2,
        ReviewKind.LIST_REVIEW: 1,
    }
    count = Review.objects.count()
    second = sweep(as_of=AS_OF)
    # Found due again: all but the MAPPA and former-PPO reviews, which are looked for
    # only while the person has none open (one open per person at a time).
    assert second.raised == {} and second.already_raised == first.total_raised - 4
    assert Review.objects.count() == count


def test_query_count_does_not_grow_with_the_scheme():
    world(1)
    sweep(as_of=AS_OF)
    with CaptureQueriesContext(connection) as small:
        sweep(as_of=AS_OF)
    world(6)
    sweep(as_of=AS_OF)
    with CaptureQueriesContext(connection) as large:
        sweep(as_of=AS_OF)
    assert len(large) == len(small)
    assert len(small) <= 24


def test_raising_writes_one_insert_of_reviews_and_one_of_their_audit_rows_one_row_each():
    world(3)
    with CaptureQueriesContext(connection) as queries:
        result = sweep(as_of=AS_OF)
    audits = [q for q in queries if 'INSERT INTO "access_auditevent"' in q["sql"]]
    inserts = [
        q
        for q in queries
        if q["sql"].startswith("INSERT") and 'INTO "selection_review"' in q["sql"]
    ]
    assert result.total_raised > 3 and len(audits) == 1 and len(inserts) == 1
    raised = list(Review.objects.all())
    rows = AuditEvent.objects.filter(action=AuditAction.CREATE, record_type="selection.review")
    assert sorted(row.record_ids[0] for row in rows) == sorted(r.pk for r in raised)
    assert all(row.username == "system: review sweep" for row in rows)
    by_review = {row.record_ids[0]: row.offender_ids for row in rows}
    assert all(by_review[r.pk] == ([r.offender_id] if r.offender_id else []) for r in raised)


def test_a_sweep_killed_half_way_leaves_nothing_and_its_retry_raises_each_once(monkeypatch):
    world(2)
    real = sweep_module.audit.created_many
    inserted = {}

    def dies_after_the_reviews_are_inserted(actor, instances):
        # The worker is killed with the reviews written and their audit rows not yet.
        inserted["n"] = Review.objects.count()
        raise RuntimeError("worker killed")

    monkeypatch.setattr(sweep_module.audit, "created_many", dies_after_the_reviews_are_inserted)
    with pytest.raises(RuntimeError):
        sweep(as_of=AS_OF)
    assert inserted["n"] == 15
    assert Review.objects.count() == 0
    assert not AuditEvent.objects.filter(record_type="selection.review").exists()
    monkeypatch.setattr(sweep_module.audit, "created_many", real)
    retried = sweep(as_of=AS_OF)
    assert Review.objects.count() == retried.total_raised == 15
    keys = list(Review.objects.values_list("kind", "offender_id", "basis"))
    assert len(keys) == len(set(keys))


def test_a_concurrent_sweep_that_inserted_first_does_not_crash_this_one(monkeypatch):
    """Another sweep inserts the same review between this one's read and its insert."""
    person = OffenderFactory()
    episode = ProgrammeEpisodeFactory(offender=person, selected_on=D(2024, 1, 1))
    real = sweep_module._raised_keys

    def raced(kinds):
        seen = real(kinds)
        Review.objects.create(
            kind=ReviewKind.TWO_YEARS,
            offender=person,
            basis=f"ppo:{episode.pk}:24m",
            due_on=D(2026, 1, 1),
            raised_on=AS_OF,
        )
        return seen

    monkeypatch.setattr(sweep_module, "_raised_keys", raced)
    result = sweep(as_of=AS_OF)
    assert ReviewKind.TWO_YEARS not in result.raised
    assert Review.objects.filter(kind=ReviewKind.TWO_YEARS).count() == 1
    # This sweep audits only what it inserted.
    assert AuditEvent.objects.filter(record_type="selection.review").count() == result.total_raised


def test_the_database_refuses_a_duplicate_review_with_or_without_a_person():
    person = OffenderFactory()
    Review.objects.create(
        kind="two_years", offender=person, basis="b", due_on=AS_OF, raised_on=AS_OF
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Review.objects.create(
            kind="two_years", offender=person, basis="b", due_on=AS_OF, raised_on=AS_OF
        )
    Review.objects.create(kind="list_review", basis="q", due_on=AS_OF, raised_on=AS_OF)
    with pytest.raises(IntegrityError), transaction.atomic():
        Review.objects.create(kind="list_review", basis="q", due_on=AS_OF, raised_on=AS_OF)


# --- Closing --------------------------------------------------------------------------------


@pytest.fixture
def manager():
    return staff(Role.PPO_MANAGER)


@pytest.fixture
def due_review():
    ProgrammeEpisodeFactory(selected_on=D(2024, 1, 1))
    sweep(as_of=AS_OF)
    return Review.objects.get(kind=ReviewKind.TWO_YEARS)


def test_no_change_reviewed_closes_with_the_reason_and_is_audited(manager, due_review):
    closed = review_close(
        user=manager, review_id=due_review.pk, outcome="no_change", reason="Still prolific"
    )
    assert closed.status == ReviewStatus.CLOSED and closed.outcome == "no_change"
    assert closed.outcome_reason == "Still prolific" and closed.closed_by == manager
    assert closed.closed_on == D(2026, 7, 10)
    row = AuditEvent.objects.get(
        action=AuditAction.UPDATE, record_type="selection.review", record_ids=[due_review.pk]
    )
    assert row.user == manager


@pytest.mark.parametrize(
    ("outcome", "reason", "field"),
    [
        ("", "A reason", "outcome"),
        ("decision", "A reason", "outcome"),
        ("no_change", "  ", "reason"),
    ],
)
def test_closing_without_an_outcome_or_reason_is_refused(
    manager, due_review, outcome, reason, field
):
    with pytest.raises(ApplicationError) as refused:
        review_close(user=manager, review_id=due_review.pk, outcome=outcome, reason=reason)
    assert field in refused.value.field_errors
    due_review.refresh_from_db()
    assert due_review.status == ReviewStatus.OPEN


def test_only_a_ppo_manager_closes_a_review(due_review):
    for role in (Role.KEY_WORKER, Role.POLICE_OFFICER, Role.YOT_WORKER):
        with pytest.raises(NotPermitted):
            review_close(user=staff(role), review_id=due_review.pk, outcome="no_change", reason="x")


def test_a_closed_review_cannot_be_closed_again(manager, due_review):
    review_close(user=manager, review_id=due_review.pk, outcome="no_change", reason="x")
    with pytest.raises(ApplicationError):
        review_close(user=manager, review_id=due_review.pk, outcome="no_change", reason="y")


def test_a_panel_decision_closes_the_reviews_due_by_its_date_and_a_deferral_does_not(manager):
    person = OffenderFactory()
    ProgrammeEpisodeFactory(offender=person, selected_on=D(2024, 1, 1))
    OffendingEventFactory(
        offender=person,
        kind=EventKind.ARREST,
        occurred_on=D(2026, 1, 1),
        category=OffenceCategory.objects.get(name="Shoplifting"),
    )
    sweep(as_of=AS_OF)
    due = set(Review.objects.filter(offender=person).values_list("kind", flat=True))
    assert due == {ReviewKind.TWO_YEARS, ReviewKind.NO_ARREST}
    deferring = panels.panel_create(user=manager, held_on=D(2026, 7, 6), chair_id=manager.pk)
    panels.panel_decide(
        user=manager, panel_id=deferring.pk, offender_id=person.pk, kind=DecisionKind.DEFER
    )
    assert Review.objects.filter(offender=person, status=ReviewStatus.OPEN).count() == 2
    panel = panels.panel_create(user=manager, held_on=D(2026, 7, 8), chair_id=manager.pk)
    decision = panels.panel_decide(
        user=manager,
        panel_id=panel.pk,
        offender_id=person.pk,
        kind=DecisionKind.DESELECT,
        deselection_reason=DeselectionReason.STOPPED_OFFENDING,
    )
    closed = list(Review.objects.filter(offender=person))
    assert {r.status for r in closed} == {ReviewStatus.CLOSED}
    assert {r.outcome for r in closed} == {"decision"}
    assert {r.decision_id for r in closed} == {decision.pk}
    assert {r.closed_on for r in closed} == {D(2026, 7, 8)}


def test_a_decision_leaves_open_a_review_due_after_the_panel(manager):
    person = OffenderFactory()
    ProgrammeEpisodeFactory(offender=person, selected_on=D(2024, 7, 8))
    sweep(as_of=D(2026, 7, 8))
    panel = panels.panel_create(user=manager, held_on=D(2026, 7, 7), chair_id=manager.pk)
    panels.panel_decide(
        user=manager,
        panel_id=panel.pk,
        offender_id=person.pk,
        kind=DecisionKind.STEP_DOWN,
    )
    assert Review.objects.get(kind=ReviewKind.TWO_YEARS).status == ReviewStatus.OPEN


# --- run_reviews --------------------------------------------------------------------------


def test_run_reviews_prints_what_it_raised_and_audits_as_a_command():
    person = OffenderFactory()
    ProgrammeEpisodeFactory(offender=person, selected_on=D(2024, 1, 1))
    out = io.StringIO()
    call_command("run_reviews", "--as-of", "2026-07-03", stdout=out)
    text = out.getvalue()
    assert "Reviews as of 2026-07-03" in text
    assert f"Two years on the scheme: person {person.pk}, due 2026-01-01" in text
    channels = set(
        AuditEvent.objects.filter(record_type="selection.review").values_list("channel", flat=True)
    )
    assert channels == {"command"}


def test_run_reviews_without_a_date_sweeps_today():
    ProgrammeEpisodeFactory(selected_on=D(2024, 1, 1))
    out = io.StringIO()
    call_command("run_reviews", stdout=out)
    assert "Reviews as of 2026-07-10" in out.getvalue()


@pytest.mark.parametrize(
    ("as_of", "message"),
    [
        ("not-a-date", "--as-of must be a date written YYYY-MM-DD"),
        ("2026-13-01", "--as-of must be a date written YYYY-MM-DD"),
        ("2023-12-31", "before the scheme existed: its first selection was on 2024-01-01"),
        ("2026-07-11", "is in the future"),
    ],
)
def test_run_reviews_refuses_a_bad_day_and_writes_nothing(as_of, message):
    ProgrammeEpisodeFactory(selected_on=D(2024, 1, 1))
    with pytest.raises(CommandError) as refused:
        call_command("run_reviews", "--as-of", as_of, stdout=io.StringIO())
    assert message in str(refused.value)
    assert Review.objects.count() == 0
    assert not AuditEvent.objects.filter(record_type="selection.review").exists()


def test_run_reviews_on_the_first_day_of_the_scheme_is_allowed():
    ProgrammeEpisodeFactory(selected_on=D(2024, 1, 1))
    call_command("run_reviews", "--as-of", "2024-01-01", stdout=io.StringIO())
    assert Review.objects.filter(kind=ReviewKind.LIST_REVIEW).exists()


def test_run_reviews_with_nobody_ever_selected_says_so():
    with pytest.raises(CommandError, match="Nobody has been selected"):
        call_command("run_reviews", "--as-of", "2026-07-03", stdout=io.StringIO())


def test_run_reviews_exits_non_zero_from_the_shell():
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "manage.py", "run_reviews", "--as-of", "not-a-date"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode != 0
    assert "--as-of must be a date" in done.stderr
