"""Timing for the benchmarks: best and median of repeated runs, and the queries of one."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import connection

T = TypeVar("T")


class QueryCounter:
    """Counts the statements run while installed with `connection.execute_wrapper`."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Callable[..., Any], sql: str, *args: Any) -> Any:
        self.count += 1
        return execute(sql, *args)


def timed(
    label: str,
    run: Callable[[], T],
    repeats: int,
    describe: Callable[[T], str] = lambda result: "",
) -> tuple[T, float, int]:
    """`repeats` runs of `run`, each from the same memory (no earlier result for the
    collector to walk): prints the best and median times, the queries of one run and
    `describe(result)`; returns the last result, the best time and the queries."""
    seconds: list[float] = []
    counter = QueryCounter()
    result: T | None = None
    for _ in range(repeats):
        result = None
        gc.collect()
        counter.count = 0
        with connection.execute_wrapper(counter):
            start = time.perf_counter()
            result = run()
            seconds.append(time.perf_counter() - start)
    assert result is not None
    print(
        f"{label:<40} best {min(seconds):7.3f} s  median {statistics.median(seconds):7.3f} s"
        f"  {counter.count:>5} queries{describe(result)}"
    )
    return result, min(seconds), counter.count


def add_settings_option(parser: Any) -> None:
    """`--set NAME=VALUE`, repeatable: a PostgreSQL setting for the benchmark's session."""
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a PostgreSQL setting for this session, for both sides (e.g. jit=off)",
    )


def prepare_session(settings_given: list[str]) -> bool:
    """Refuse anything but PostgreSQL, warn when DEBUG keeps every query, and apply the
    `--set` settings to this session; False (with a message) when it cannot run."""
    import sys

    from django.conf import settings

    if connection.vendor != "postgresql":
        print("The benchmark needs PostgreSQL: set DATABASE_URL.", file=sys.stderr)
        return False
    if settings.DEBUG:
        print("WARNING: DEBUG is on: Django keeps every query in memory.", file=sys.stderr)
    for setting in settings_given:
        name, _, value = setting.partition("=")
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, %s, false)", [name.strip(), value.strip()])
    return True
