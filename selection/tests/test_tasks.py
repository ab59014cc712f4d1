"""The review sweep's Celery task and its beat entry, run in-process (issue 8, item 2).

What the task adds to the sweep: which day it sweeps (today in London unless told), the
retries (a lost connection is retried with backoff, a bad date is not), a JSON summary,
and that delivering it again is harmless: twice, after a crash that lost the sweep's
transaction, and after a crash between the commit and the acknowledgement. The real
worker against Redis and PostgreSQL is tests/test_celery_worker.py.

The plumbing tests stand a recording fake in for `selection.reviews.sweep`; the
redelivery tests run the real sweep on one person it must raise a review for: a PPO last
arrested 250 days before AS_OF, never in custody (003 §6.2(1): 6 months at liberty without
arrest or intelligence), beside one arrested 30 days before, who is not due.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from celery.beat import Scheduler
from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction

from access.models import AuditAction, AuditEvent
from offenders.models import EventKind, ProgrammeKind
from ppo_case.celery import app as celery_app
from selection import reviews, tasks
from selection.models import Review, ReviewKind
from tests.factories import (
    OffenceCategoryFactory,
    OffenderFactory,
    OffendingEventFactory,
    ProgrammeEpisodeFactory,
)

AS_OF = dt.date(2026, 12, 1)
ONE_DAY = dt.timedelta(days=1)
UTC = dt.UTC


class FakeSweep:
    """Stands in for `reviews.sweep`: records each day asked, raises `errors` in turn."""

    def __init__(self, *errors: BaseException) -> None:
        self.days: list[dt.date] = []
        self.errors = list(errors)

    def __call__(self, *, as_of: dt.date, channel: str) -> reviews.SweepResult:
        assert channel == "task"  # the audit trail says the sweep came from Celery
        self.days.append(as_of)
        if self.errors:
            raise self.errors.pop(0)
        return reviews.SweepResult(
            as_of=as_of, raised={"two_years": 1, "no_arrest": 2}, resolved={"no_arrest": 1}
        )


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Callable[..., FakeSweep]:
    def install(*errors: BaseException) -> FakeSweep:
        sweep = FakeSweep(*errors)
        monkeypatch.setattr(reviews, "sweep", sweep)
        return sweep

    return install


@pytest.fixture
def eager_retries() -> Iterator[None]:
    """Run a retry in-process as a worker would run the retried message.

    Eager `apply` reruns a task that asked to be retried (with `retries` one more, as the
    retried message carries), but only if errors do not propagate at once, which the
    test settings ask for (CELERY_TASK_EAGER_PROPAGATES)."""
    propagates = celery_app.conf.task_eager_propagates
    celery_app.conf.task_eager_propagates = False
    try:
        yield
    finally:
        celery_app.conf.task_eager_propagates = propagates


# --- Which day ----------------------------------------------------------------------------


def test_with_no_date_it_sweeps_today_in_london_not_utc(fake):
    sweep = fake()
    # 23:30 UTC on 30 June is 00:30 BST on 1 July: London's day is the one swept.
    with time_machine.travel(dt.datetime(2026, 6, 30, 23, 30, tzinfo=UTC), tick=False):
        tasks.sweep_reviews.apply().get()
    with time_machine.travel(dt.datetime(2026, 6, 30, 22, 59, tzinfo=UTC), tick=False):
        tasks.sweep_reviews.apply().get()
    assert sweep.days == [dt.date(2026, 7, 1), dt.date(2026, 6, 30)]


def test_a_date_string_sweeps_that_day(fake):
    sweep = fake()
    tasks.sweep_reviews.apply(kwargs={"as_of": "2026-03-31"}).get()
    tasks.sweep_reviews.apply(args=["2024-02-29"]).get()
    assert sweep.days == [dt.date(2026, 3, 31), dt.date(2024, 2, 29)]


@pytest.mark.parametrize("bad", ["31/03/2026", "2026-02-30", "yesterday", ""])
def test_a_bad_date_fails_at_once_without_sweeping_or_retrying(fake, eager_retries, bad):
    sweep = fake()
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        tasks.sweep_reviews.apply(kwargs={"as_of": bad}).get()
    assert sweep.days == []


def test_the_summary_is_json_with_the_counts_by_kind(fake):
    fake()
    result = tasks.sweep_reviews.apply(kwargs={"as_of": "2026-12-01"}).get()
    assert json.loads(json.dumps(result)) == {
        "as_of": "2026-12-01",
        "raised": {"no_arrest": 2, "two_years": 1},
        "already_raised": 0,
        "total_raised": 3,
        "resolved": {"no_arrest": 1},
    }


# --- Retries --------------------------------------------------------------------------------


def test_a_lost_database_connection_is_retried_and_then_sweeps(fake, eager_retries):
    sweep = fake(
        OperationalError("server closed the connection unexpectedly"),
        OperationalError("could not connect to server"),
    )
    result = tasks.sweep_reviews.apply(kwargs={"as_of": "2026-12-01"})
    assert result.get()["total_raised"] == 3
    assert sweep.days == [AS_OF] * 3


def test_it_gives_up_after_eight_retries(fake, eager_retries):
    sweep = fake(*[OperationalError(f"down, try {n}") for n in range(20)])
    with pytest.raises(OperationalError):
        tasks.sweep_reviews.apply(kwargs={"as_of": "2026-12-01"}).get()
    assert len(sweep.days) == 1 + 8


def test_an_error_in_the_data_is_not_retried(fake, eager_retries):
    sweep = fake(IntegrityError("CHECK constraint failed"))
    with pytest.raises(IntegrityError):
        tasks.sweep_reviews.apply(kwargs={"as_of": "2026-12-01"}).get()
    assert sweep.days == [AS_OF]


def test_it_acknowledges_late_puts_back_a_dead_workers_message_and_backs_off():
    task = tasks.sweep_reviews
    assert task.acks_late is True
    assert task.reject_on_worker_lost is True
    assert task.retry_backoff == 30
    assert task.retry_backoff_max == 30 * 60
    assert task.retry_jitter is True
    assert set(task.autoretry_for) >= {OperationalError}
    # A worker reserves one message at a time: a dead one puts back only its own.
    assert celery_app.conf.worker_prefetch_multiplier == 1


# --- The beat entry -------------------------------------------------------------------------


def _beat_entry():
    scheduler = Scheduler(app=celery_app, lazy=False)
    return scheduler.schedule["sweep-reviews"]


def test_beat_sends_the_sweep_at_0230_london_time_on_the_day_the_clocks_go_forward():
    # 29 March 2026: clocks go forward at 01:00 GMT; 02:30 BST is 01:30 UTC.
    entry = _beat_entry()
    assert entry.task == "selection.tasks.sweep_reviews"
    assert entry.task in celery_app.tasks
    last_run = dt.datetime(2026, 3, 28, 2, 30, tzinfo=UTC)  # 02:30 GMT the night before
    with time_machine.travel(dt.datetime(2026, 3, 29, 1, 29, tzinfo=UTC), tick=False):
        assert not entry.schedule.is_due(last_run).is_due
    with time_machine.travel(dt.datetime(2026, 3, 29, 1, 30, 30, tzinfo=UTC), tick=False):
        assert entry.schedule.is_due(last_run).is_due


def test_beat_sends_it_once_a_night_in_winter():
    entry = _beat_entry()
    last_run = dt.datetime(2026, 12, 1, 2, 30, tzinfo=UTC)  # GMT: London is UTC
    with time_machine.travel(dt.datetime(2026, 12, 2, 2, 29, tzinfo=UTC), tick=False):
        assert not entry.schedule.is_due(last_run).is_due
    with time_machine.travel(dt.datetime(2026, 12, 2, 2, 30, 30, tzinfo=UTC), tick=False):
        assert entry.schedule.is_due(last_run).is_due


def test_the_beat_entry_as_beat_sends_it_sweeps_today(fake):
    sweep = fake()
    entry = settings.CELERY_BEAT_SCHEDULE["sweep-reviews"]
    task = celery_app.tasks[entry["task"]]
    with time_machine.travel(dt.datetime(2026, 12, 2, 2, 30, tzinfo=UTC), tick=False):
        task.apply(args=entry.get("args", ()), kwargs=entry.get("kwargs", {})).get()
    assert sweep.days == [dt.date(2026, 12, 2)]
    # Beat retries sending while the broker is down, rather than losing the night's sweep.
    assert entry["options"]["retry"] is True


# --- Delivered again: the real sweep --------------------------------------------------------


@pytest.fixture
def due_and_not_due(db: Any) -> tuple[Any, Any]:
    """One PPO the sweep must raise a no-arrest review for on AS_OF, one it must not."""
    category = OffenceCategoryFactory(name="Shoplifting")
    due, recent = OffenderFactory(), OffenderFactory()
    for person, last_arrest in ((due, AS_OF - dt.timedelta(days=250)), (recent, AS_OF)):
        ProgrammeEpisodeFactory(
            offender=person, kind=ProgrammeKind.PPO, selected_on=AS_OF - dt.timedelta(days=300)
        )
        OffendingEventFactory(
            offender=person, kind=EventKind.ARREST, category=category, occurred_on=last_arrest
        )
    return due, recent


def _no_arrest_reviews(person: Any) -> int:
    return Review.objects.filter(offender=person, kind=ReviewKind.NO_ARREST).count()


@pytest.mark.django_db
def test_swept_twice_the_second_run_raises_nothing(due_and_not_due):
    due, recent = due_and_not_due
    first = tasks.sweep_reviews.apply(kwargs={"as_of": AS_OF.isoformat()}).get()
    rows = Review.objects.count()
    second = tasks.sweep_reviews.apply(kwargs={"as_of": AS_OF.isoformat()}).get()
    assert first["raised"].get(ReviewKind.NO_ARREST) == 1
    assert first["total_raised"] == rows
    assert second["total_raised"] == 0
    assert second["already_raised"] == first["total_raised"]
    assert Review.objects.count() == rows
    assert (_no_arrest_reviews(due), _no_arrest_reviews(recent)) == (1, 0)


@pytest.mark.django_db
def test_a_crash_after_the_commit_and_before_the_ack_is_redelivered_harmlessly(
    due_and_not_due, monkeypatch, eager_retries
):
    """The worker dies once the sweep has committed but before the message is acknowledged:
    the message comes back (acks_late) and the sweep runs again on the same day."""
    due, _ = due_and_not_due
    real = reviews.sweep
    runs: list[reviews.SweepResult] = []

    def commit_then_lose_the_connection(*, as_of: dt.date, channel: str) -> reviews.SweepResult:
        runs.append(real(as_of=as_of, channel=channel))
        if len(runs) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return runs[-1]

    monkeypatch.setattr(reviews, "sweep", commit_then_lose_the_connection)
    retried = tasks.sweep_reviews.apply(kwargs={"as_of": AS_OF.isoformat()}).get()
    assert len(runs) == 2
    assert runs[0].raised.get(ReviewKind.NO_ARREST) == 1
    assert retried["total_raised"] == 0
    assert retried["already_raised"] == runs[0].total_raised
    assert Review.objects.count() == runs[0].total_raised
    assert _no_arrest_reviews(due) == 1


@pytest.mark.django_db
def test_a_crash_inside_the_sweeps_transaction_raises_the_reviews_on_redelivery(
    due_and_not_due, monkeypatch, eager_retries
):
    """The worker dies half-way through the sweep: its transaction rolls back, nothing
    stays written, and the redelivered task raises the reviews once."""
    due, _ = due_and_not_due
    real = reviews.sweep
    calls: list[dt.date] = []

    def die_half_way(*, as_of: dt.date, channel: str) -> reviews.SweepResult:
        calls.append(as_of)
        if len(calls) == 1:
            with transaction.atomic():
                real(as_of=as_of, channel=channel)
                assert _no_arrest_reviews(due) == 1  # written, not yet committed
                raise OperationalError("terminating connection due to administrator command")
        return real(as_of=as_of, channel=channel)

    monkeypatch.setattr(reviews, "sweep", die_half_way)
    retried = tasks.sweep_reviews.apply(kwargs={"as_of": AS_OF.isoformat()}).get()
    assert calls == [AS_OF, AS_OF]
    assert retried["raised"].get(ReviewKind.NO_ARREST) == 1
    assert Review.objects.count() == retried["total_raised"]
    assert _no_arrest_reviews(due) == 1


@pytest.mark.django_db
def test_the_database_itself_refuses_a_second_review_of_the_same_occurrence(due_and_not_due):
    due, _ = due_and_not_due
    review = {"kind": ReviewKind.NO_ARREST, "offender": due, "basis": "since 2026-04-01"}
    Review.objects.create(**review, due_on=AS_OF, raised_on=AS_OF)
    with pytest.raises(IntegrityError), transaction.atomic():
        Review.objects.create(**review, due_on=AS_OF, raised_on=AS_OF + dt.timedelta(days=1))
    assert Review.objects.filter(offender=due).count() == 1


@pytest.mark.django_db
def test_the_reviews_it_raises_are_audited_as_coming_from_the_task(due_and_not_due):
    due, _ = due_and_not_due
    tasks.sweep_reviews.apply(kwargs={"as_of": AS_OF.isoformat()}).get()
    review = Review.objects.get(offender=due, kind=ReviewKind.NO_ARREST)
    created = AuditEvent.objects.filter(
        action=AuditAction.CREATE, record_type="selection.review", record_ids=[review.pk]
    )
    assert list(created.values_list("channel", flat=True)) == ["task"]


# --- Days the sweep refuses: nothing written, not retried, not a failure ----------------------


@pytest.mark.django_db
def test_a_scheme_nobody_has_been_selected_onto_is_refused_and_not_retried(
    eager_retries, monkeypatch
):
    real, calls = reviews.sweep, []

    def counted(**kwargs: Any) -> reviews.SweepResult:
        calls.append(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(reviews, "sweep", counted)
    result = tasks.sweep_reviews.apply(kwargs={"as_of": AS_OF.isoformat()})
    assert result.successful()
    outcome = result.get()
    assert outcome["refused"].startswith("Nobody has been selected onto the scheme yet")
    assert (outcome["as_of"], outcome["total_raised"]) == (AS_OF.isoformat(), 0)
    assert len(calls) == 1
    assert not Review.objects.exists()


@pytest.mark.django_db
def test_a_day_before_the_scheme_existed_or_in_the_future_is_refused(due_and_not_due):
    first_selection = AS_OF - dt.timedelta(days=300)
    with time_machine.travel(dt.datetime(2026, 12, 1, 12, 0, tzinfo=UTC), tick=False):
        before = tasks.sweep_reviews.apply(args=[(first_selection - ONE_DAY).isoformat()]).get()
        future = tasks.sweep_reviews.apply(args=[(AS_OF + ONE_DAY).isoformat()]).get()
        on_the_first_day = tasks.sweep_reviews.apply(args=[first_selection.isoformat()]).get()
    assert "before the scheme existed" in before["refused"]
    assert "in the future" in future["refused"]
    assert "refused" not in on_the_first_day
    assert not Review.objects.filter(kind=ReviewKind.NO_ARREST).exists()
