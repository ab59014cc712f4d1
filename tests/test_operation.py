"""How the app behaves as a service: what browsers may keep, and the embedded database
under two people at once."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from django.db import OperationalError, connections, transaction
from django.urls import reverse

from access.models import Role
from ppo_case.settings.base import SQLITE_OPTIONS
from tests.factories import OffenderFactory, ProgrammeEpisodeFactory, sign_in, staff


@pytest.fixture
def manager_client(client, db):
    offender = OffenderFactory(first_name="Qxcache")
    ProgrammeEpisodeFactory(offender=offender)
    sign_in(client, staff(Role.PPO_MANAGER))
    return client, offender


@pytest.mark.parametrize(
    "url",
    ["home", "offenders:list", "offenders:detail", "offenders:timeline", "audit-log"],
)
def test_pages_with_personal_data_are_never_stored_by_a_browser(manager_client, url):
    client, offender = manager_client
    args = [offender.pk] if url in ("offenders:detail", "offenders:timeline") else []
    response = client.get(reverse(url, args=args))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_a_refusal_and_a_not_found_are_not_stored_either(manager_client):
    client, _ = manager_client
    response = client.get(reverse("offenders:detail", args=[999999]))
    assert response.status_code == 404
    assert "no-store" in response["Cache-Control"]


def _sqlite_alias(alias: str, path: Path, options: dict) -> str:
    config = connections.configure_settings(
        {
            "default": {"ENGINE": "django.db.backends.dummy"},
            alias: {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path), "OPTIONS": options},
        }
    )
    connections.settings[alias] = config[alias]
    return alias


def _two_writers(path: Path, options: dict) -> list[BaseException]:
    """Two transactions that each read then write, overlapping as two uploads do."""
    a = _sqlite_alias(f"qx_a_{path.stem}", path, options)
    b = _sqlite_alias(f"qx_b_{path.stem}", path, options)
    with connections[a].cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS qx (n integer)")
    connections[a].close()
    del connections[a]
    errors: list[BaseException] = []
    first_wrote = threading.Event()

    def first() -> None:
        try:
            with transaction.atomic(using=a), connections[a].cursor() as cursor:
                cursor.execute("SELECT count(*) FROM qx")
                cursor.execute("INSERT INTO qx VALUES (1)")
                first_wrote.set()
                time.sleep(0.5)
        except BaseException as error:
            errors.append(error)
            first_wrote.set()
        finally:
            connections[a].close()
            del connections[a]

    def second() -> None:
        first_wrote.wait(5)
        try:
            with transaction.atomic(using=b), connections[b].cursor() as cursor:
                cursor.execute("SELECT count(*) FROM qx")
                cursor.execute("INSERT INTO qx VALUES (2)")
        except BaseException as error:
            errors.append(error)
        finally:
            connections[b].close()
            del connections[b]

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        for alias in (a, b):
            connections.settings.pop(alias, None)
    return errors


def test_two_uploads_at_once_on_the_embedded_database_both_succeed(tmp_path, django_db_blocker):
    with django_db_blocker.unblock():
        errors = _two_writers(tmp_path / "demo.sqlite3", SQLITE_OPTIONS)
    assert errors == []


def test_without_those_settings_the_second_upload_fails_as_it_did(tmp_path, django_db_blocker):
    """The control: SQLite's defaults give "database is locked" — what the demo did."""
    options = {"init_command": "PRAGMA journal_mode=WAL;", "timeout": 20}
    with django_db_blocker.unblock():
        errors = _two_writers(tmp_path / "default.sqlite3", options)
    assert len(errors) == 1 and isinstance(errors[0], OperationalError)
    assert "locked" in str(errors[0])


@pytest.mark.django_db
@pytest.mark.skipif(
    connections["default"].vendor != "postgresql",
    reason="PostgreSQL's JIT setting: CI runs on PostgreSQL",
)
def test_the_apps_postgresql_connections_run_without_jit():
    # ppo_case/settings/base.py: compiling badly estimated queries cost up to a second each.
    with connections["default"].cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)
