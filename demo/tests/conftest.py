"""The demo scheme seeded once per test module, for the tests that only read it.

Seeding takes most of a minute on PostgreSQL; a dozen tests each seeding the same scheme
for the same day made up a large share of the suite's time. `seeded_demo` seeds inside a
transaction held open for the module and rolled back after its last test. Each test still
runs in its own savepoint (pytest-django's `db`), so what one test writes is undone before
the next one reads. Tests that seed on another day, twice or with another seed seed for
themselves (test_seed_demo_command.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from io import StringIO
from typing import Any

import pytest
from django.db import transaction

from demo import scheme as demo


@dataclass(frozen=True)
class Seeded:
    result: demo.DemoResult
    # What `manage.py seed_demo` prints: the command calls the same function with its stdout.
    output: str


@pytest.fixture(scope="module")
def seeded_demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Seeded]:
    from tests.factories import ensure_reference_data

    with django_db_blocker.unblock():
        held = transaction.atomic()
        held.__enter__()
        try:
            ensure_reference_data()
            out = StringIO()
            result = demo.seed_demo(1, stdout=out)
            yield Seeded(result, out.getvalue())
        finally:
            transaction.set_rollback(True)
            held.__exit__(None, None, None)
