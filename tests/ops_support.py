"""What the operations tests (the production stack, backup and restore) share: when they
run, PostgreSQL databases of their own, and the project's commands as subprocesses.

They run whenever DATABASE_URL points at PostgreSQL and REDIS_URL is set, which CI does
(.ci/run). Without them they are skipped, with the reason, on a developer's machine, and
fail in CI (CI is set), so CI can never pass them by skipping them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

REPO = Path(__file__).resolve().parent.parent


def missing(why: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the operations tests, but {why}")
    pytest.skip(f"needs PostgreSQL (DATABASE_URL) and Redis (REDIS_URL): {why}")


def postgres_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        missing("DATABASE_URL does not point at PostgreSQL")
    return url


def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        missing("REDIS_URL is not set")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis at REDIS_URL={url} does not answer: {error}")
    return url


def database_url(name: str) -> str:
    """DATABASE_URL's server and credentials with another database's name."""
    return urlunsplit(urlsplit(postgres_url())._replace(path="/" + name))


def connect(name: str) -> Any:
    import psycopg

    return psycopg.connect(database_url(name), autocommit=True, connect_timeout=10)


@contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """A new, empty database, dropped afterwards even if the test fails."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with connect("postgres") as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with connect("postgres") as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(args: list[str], env: dict[str, str], timeout: float, what: str) -> str:
    """A command of the project's, to the end; its output, or a failure that shows it."""
    try:
        done = subprocess.run(  # noqa: S603 (fixed arguments, this interpreter)
            args,
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"{what} did not finish within {timeout} s:\n{error.output}")
    if done.returncode != 0:
        pytest.fail(f"{what} failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout + done.stderr


def manage(*args: str, env: dict[str, str], timeout: float = 300) -> str:
    return run([sys.executable, "manage.py", *args], env, timeout, f"manage.py {args[0]}")


def stop(process: subprocess.Popen[Any], timeout: float = 15) -> None:
    """SIGTERM (a warm shutdown: gunicorn stops its workers, Celery finishes its task),
    then SIGKILL for the process's own group (start_new_session=True) if it hangs."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # not yet reaped: the group is still ours
        process.wait(timeout=timeout)
