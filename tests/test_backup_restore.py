"""Backup and restore (issue 14 item 4): ops/backup.sh and ops/restore.sh on PostgreSQL.

The demo scheme is seeded into a database of the test's own (`manage.py migrate` then
`seed_demo`), backed up with ops/backup.sh and restored with ops/restore.sh into a second,
empty one. Every table must have the same rows (its count, and a checksum of all its rows),
the audit trail the same checksum, the sequences the same positions, and the audit trail's
append-only trigger must be there and still refuse UPDATE and DELETE. A restore into a
database that is not empty is refused with exit code 3 and changes nothing.

Runs under the same condition as the production-stack test (tests/ops_support.py).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.ops_support import (
    REPO,
    connect,
    database_url,
    manage,
    postgres_url,
    redis_url,
    scratch_database,
)

SEED_SECONDS = 900  # migrate ~30 s and seed_demo ~90 s here, more on a busy machine
SCRIPT_SECONDS = 300
AUDIT = "access_auditevent"
TRIGGER = "access_auditevent_no_update"


def _script(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 (the repository's own script, fixed arguments)
        [str(REPO / "ops" / name), *args],
        cwd=REPO,
        env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=SCRIPT_SECONDS,
        check=False,
    )


def _tables(db: Any) -> list[str]:
    rows = db.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name"
    ).fetchall()
    return [row[0] for row in rows]


def _contents(name: str) -> dict[str, Any]:
    """Each table's row count and a checksum of its rows (in a fixed order), the audit
    trail's checksum in id order, and each sequence's position."""
    with connect(name) as db:
        tables = {}
        for table in _tables(db):
            # Every row as text, sorted: the same rows give the same checksum.
            rows = "coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')"
            count, checksum = db.execute(
                f'SELECT count(*), md5({rows}) FROM "{table}" t'  # noqa: S608 (catalogue names)
            ).fetchone()
            tables[table] = (count, checksum)
        audit = db.execute(
            f"SELECT md5(string_agg(t::text, E'\\n' ORDER BY id)) FROM {AUDIT} t"  # noqa: S608
        ).fetchone()[0]
        sequences = dict(
            db.execute(
                "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
            ).fetchall()
        )
    return {"tables": tables, "audit": audit, "sequences": sequences}


@pytest.fixture(autouse=True, scope="module")
def _needs_postgresql_and_redis() -> None:
    postgres_url()
    redis_url()


@pytest.fixture(scope="module")
def seeded(_needs_postgresql_and_redis: None) -> Iterator[str]:
    """A database with the demo scheme in it, dropped afterwards."""
    with scratch_database("test_ppo_backup_source") as name:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "ppo_case.settings.local",
            "DATABASE_URL": database_url(name),
            "REDIS_URL": "",  # the seed's tasks run in-process
        }
        manage("migrate", "--noinput", env=env, timeout=SEED_SECONDS)
        # --force: seed_demo refuses PostgreSQL without it (it might be a live system).
        manage("seed_demo", "--force", env=env, timeout=SEED_SECONDS)
        yield name


@pytest.fixture(scope="module")
def backup(seeded: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    file = tmp_path_factory.mktemp("backup") / "ppo_case.dump"
    done = _script("backup.sh", str(file), database_url(seeded))
    assert done.returncode == 0, done.stderr
    assert file.stat().st_size > 10_000
    assert not file.with_name(file.name + ".partial").exists()
    return file


def test_a_restored_backup_has_every_record_and_the_audit_trail_intact(
    seeded: str, backup: Path
) -> None:
    before = _contents(seeded)
    # The seed is the whole demo scheme: people, their casework, and an audit trail.
    assert before["tables"][AUDIT][0] > 100
    assert before["tables"]["offenders_offender"][0] > 10
    assert sum(count for count, _ in before["tables"].values()) > 1000

    with scratch_database("test_ppo_backup_target") as target:
        done = _script("restore.sh", str(backup), database_url(target))
        assert done.returncode == 0, done.stderr
        after = _contents(target)
        assert after["tables"].keys() == before["tables"].keys()
        differing = {
            table: (before["tables"][table], after["tables"][table])
            for table in before["tables"]
            if before["tables"][table] != after["tables"][table]
        }
        assert differing == {}
        assert after["audit"] == before["audit"]
        assert after["sequences"] == before["sequences"]

        with connect(target) as db:
            enabled = db.execute(
                "SELECT tgenabled FROM pg_trigger WHERE tgname = %s AND tgrelid = %s::regclass",
                [TRIGGER, AUDIT],
            ).fetchone()
            assert enabled == ("O",)  # present, and fires (origin and local sessions)
            first = db.execute(f"SELECT min(id) FROM {AUDIT}").fetchone()[0]  # noqa: S608
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                db.execute(f"UPDATE {AUDIT} SET username = 'rewritten' WHERE id = %s", [first])  # noqa: S608
            with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
                db.execute(f"DELETE FROM {AUDIT} WHERE id = %s", [first])  # noqa: S608
        assert _contents(target)["audit"] == before["audit"]


def test_a_restore_into_a_database_that_is_not_empty_is_refused_and_changes_nothing(
    seeded: str, backup: Path
) -> None:
    before = _contents(seeded)
    done = _script("restore.sh", str(backup), database_url(seeded))
    assert done.returncode == 3
    assert "is not empty" in done.stderr and "nothing was changed" in done.stderr
    assert _contents(seeded) == before


def test_one_table_of_its_own_is_enough_to_refuse(backup: Path) -> None:
    with scratch_database("test_ppo_backup_one_table") as target:
        with connect(target) as db:
            db.execute("CREATE TABLE notes (line text)")
            db.execute("INSERT INTO notes VALUES ('kept')")
        done = _script("restore.sh", str(backup), database_url(target))
        assert done.returncode == 3, done.stderr
        with connect(target) as db:
            assert _tables(db) == ["notes"]
            assert db.execute("SELECT line FROM notes").fetchall() == [("kept",)]


def test_a_file_that_is_not_a_backup_is_refused(tmp_path: Path) -> None:
    not_a_backup = tmp_path / "notes.dump"
    not_a_backup.write_text("not a pg_dump file\n")
    with scratch_database("test_ppo_backup_bad_file") as target:
        done = _script("restore.sh", str(not_a_backup), database_url(target))
        assert done.returncode == 2
        assert "not a backup" in done.stderr
        with connect(target) as db:
            assert _tables(db) == []


def test_a_backup_never_overwrites_an_earlier_one(seeded: str, backup: Path) -> None:
    size = backup.stat().st_size
    done = _script("backup.sh", str(backup), database_url(seeded))
    assert done.returncode == 2
    assert "already exists" in done.stderr
    assert backup.stat().st_size == size
