"""A real Celery worker sweeps reviews into PostgreSQL (issue 8, "Done when").

The test starts `celery -A ppo_case worker --pool=solo -c 1` as a separate process, with the
production settings as docker-compose runs it, pointed at the machine's Redis (REDIS_URL)
and at the test database pytest-django made on PostgreSQL (DATABASE_URL with the test
database's name). It sends the beat entry's task exactly as beat sends it, and reads the
reviews the worker wrote from PostgreSQL. The rows must be committed for the worker to see
them, so the test is transactional (the tables are emptied afterwards).

It runs in `make test` whenever REDIS_URL is set, which CI does (.ci/run). Without
REDIS_URL or PostgreSQL it is skipped on a developer's machine (SQLite, tasks in-process)
and fails in CI (CI is set), so CI can never pass it by skipping it.

The worker listens on a queue of its own, so it takes no one else's message from the
shared Redis and no other worker takes its own. It is always stopped (SIGTERM, then SIGKILL)
before the tables are emptied.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from offenders.models import EventKind, ProgrammeKind
from ppo_case.celery import app as celery_app
from selection.models import Review, ReviewKind
from tests.factories import (
    OffenceCategoryFactory,
    OffenderFactory,
    OffendingEventFactory,
    ProgrammeEpisodeFactory,
)

REPO = Path(__file__).resolve().parent.parent
# From sending the task to its result, the worker's start included (~2 s here).
TIMEOUT_SECONDS = 30
BEAT_ENTRY = "sweep-reviews"


def _missing(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the real Celery worker test, but {why}")
    pytest.skip(f"the real Celery worker needs Redis and PostgreSQL: {why}")


@pytest.fixture
def redis_url() -> str:
    """REDIS_URL, answering; and PostgreSQL as the test database."""
    url = os.environ.get("REDIS_URL", "")
    if not url:
        _missing("REDIS_URL is not set")
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        _missing("DATABASE_URL does not point at PostgreSQL (the worker shares the test database)")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis at REDIS_URL={url} does not answer: {error}")
    return url


def _test_database_url() -> str:
    """DATABASE_URL with the test database's name, for the worker process."""
    url = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(url._replace(path="/" + connection.settings_dict["NAME"]))


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    queue: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def result_of(self, async_result: Any, what: str) -> dict[str, Any]:
        """The task's return value; a clear failure if the worker dies or is too slow."""
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while not async_result.ready():
            if self.process.poll() is not None:
                pytest.fail(
                    f"The Celery worker exited (code {self.process.returncode}) before {what} "
                    f"finished. Its log:\n{self.output()}"
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"{what} had no result from the Celery worker within {TIMEOUT_SECONDS} s "
                    f"(queue {self.queue}, task state {async_result.state}). "
                    f"The worker's log:\n{self.output()}"
                )
            time.sleep(0.1)
        if async_result.failed():
            pytest.fail(
                f"{what} failed in the worker: {async_result.result!r}\n"
                f"{async_result.traceback}\nThe worker's log:\n{self.output()}"
            )
        result: dict[str, Any] = async_result.result
        async_result.forget()  # leave nothing behind in Redis
        return result


@pytest.fixture
def worker(redis_url: str, transactional_db: None) -> Iterator[Worker]:
    """A real worker process on its own queue, stopped before the tables are emptied."""
    queue = f"ppo-case-test-{uuid.uuid4().hex[:12]}"
    env = {
        **os.environ,
        # As docker-compose runs the worker, with dummy secrets for the settings' checks.
        "DJANGO_SETTINGS_MODULE": "ppo_case.settings.production",
        "DJANGO_SECRET_KEY": "test-only-" + uuid.uuid4().hex * 2,
        "DJANGO_ALLOWED_HOSTS": "example.test",
        "DATABASE_URL": _test_database_url(),
        "REDIS_URL": redis_url,
    }
    log = Path(tempfile.mkstemp(prefix="celery-worker-", suffix=".log")[1])
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 (this interpreter's celery, fixed arguments)
            [
                *(sys.executable, "-m", "celery", "-A", "ppo_case", "worker"),
                *("--pool=solo", "-c", "1", "--loglevel=INFO"),
                *("-Q", queue, "-n", f"{queue}@%h"),
                # Nothing to agree with other workers: start at once.
                *("--without-gossip", "--without-mingle", "--without-heartbeat"),
            ],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    # The test process sends to the broker instead of running tasks in-process.
    always_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield Worker(process, queue, log)
    finally:
        celery_app.conf.task_always_eager = always_eager
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # warm shutdown: finish the task, ack, go
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        log.unlink(missing_ok=True)
        # The queue and its bindings, so repeated runs leave nothing behind in Redis.
        import redis

        client = redis.Redis.from_url(redis_url, socket_connect_timeout=3, socket_timeout=3)
        for key in client.scan_iter(match=f"*{queue}*"):
            client.delete(key)


def _send_beat_entry(worker: Worker) -> Any:
    """Send the beat entry's task as beat does (its task, args, kwargs and options)."""
    entry = settings.CELERY_BEAT_SCHEDULE[BEAT_ENTRY]
    return celery_app.send_task(
        entry["task"],
        args=entry.get("args", ()),
        kwargs=entry.get("kwargs", {}),
        **{**entry.get("options", {}), "queue": worker.queue},
    )


def test_a_real_worker_runs_the_nightly_sweep_into_postgresql_once(worker: Worker) -> None:
    today = timezone.localdate()
    shoplifting = OffenceCategoryFactory(name="Shoplifting")
    # 003 §6.2(1): a PPO last arrested 250 days ago, never in custody: due a de-selection
    # review (6 months at liberty is 183 days). One arrested yesterday is not.
    quiet, active = OffenderFactory(), OffenderFactory()
    for person, last_arrest in ((quiet, 250), (active, 1)):
        ProgrammeEpisodeFactory(
            offender=person, kind=ProgrammeKind.PPO, selected_on=today - dt.timedelta(days=300)
        )
        OffendingEventFactory(
            offender=person,
            kind=EventKind.ARREST,
            category=shoplifting,
            occurred_on=today - dt.timedelta(days=last_arrest),
        )
    assert not Review.objects.exists()

    first = worker.result_of(_send_beat_entry(worker), "the first sweep")

    assert first["as_of"] == today.isoformat()
    assert first["raised"].get(ReviewKind.NO_ARREST) == 1
    reviews = Review.objects.filter(kind=ReviewKind.NO_ARREST)
    assert list(reviews.values_list("offender", flat=True)) == [quiet.pk]
    assert Review.objects.count() == first["total_raised"]

    # Delivered again (a retry, or a message put back after a worker died before its ack):
    # the database constraint makes it a no-op.
    second = worker.result_of(_send_beat_entry(worker), "the second sweep")
    assert second["total_raised"] == 0
    assert second["already_raised"] == first["total_raised"]
    assert Review.objects.count() == first["total_raised"]
    assert Review.objects.filter(kind=ReviewKind.NO_ARREST, offender=quiet).count() == 1


def test_beat_as_docker_compose_starts_it_schedules_the_nightly_sweep(tmp_path: Path) -> None:
    """docker-compose.yml's beat command line, run here: its schedule has the sweep."""
    import yaml

    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    command = list(compose["services"]["beat"]["command"])
    assert command[:4] == ["celery", "-A", "ppo_case", "beat"]
    command[command.index("--schedule") + 1] = str(tmp_path / "celerybeat-schedule")
    command[command.index("--loglevel") + 1] = "DEBUG"  # beat lists its schedule at DEBUG
    env = {
        **os.environ,
        **compose["x-app"]["environment"],
        "DJANGO_SECRET_KEY": "test-only-" + uuid.uuid4().hex * 2,
        "DJANGO_ALLOWED_HOSTS": "example.test",
        "DATABASE_URL": "sqlite:///" + str(tmp_path / "unused.sqlite3"),
        "REDIS_URL": "",  # nothing is sent: the schedule is only listed
    }
    log = tmp_path / "beat.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 (the repository's own compose command)
            [sys.executable, "-m", *command],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while "Ticking with max interval" not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"beat did not start (exit {process.poll()}):\n{log.read_text()}")
            time.sleep(0.1)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
    output = log.read_text(errors="replace")
    # Beat logs one line per record, as JSON in production-like settings (ppo_case.logging):
    # the schedule is the message that starts "Current schedule:", one entry per line.
    messages = []
    for line in output.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            messages.append(str(record.get("message", "")))
    text = "\n".join(messages) if messages else output
    schedule = text.split("Current schedule:", 1)[-1].split("beat: Ticking", 1)[0]
    # (Without a result backend Celery adds its own nightly clean-up entry beside it.)
    assert (
        f"<ScheduleEntry: {BEAT_ENTRY} selection.tasks.sweep_reviews() "
        "<crontab: 30 2 * * * (m/h/dM/MY/d)>"
    ) in schedule.splitlines(), output
