"""Importing people and offending events from partner systems' CSV files.

common.py reads and checks a file; people.py and events.py import each kind, all or
nothing. See common.py's docstring for how, and docs/import-formats.md for the columns.
"""

from __future__ import annotations

from collections.abc import Callable

from .common import (
    BAD_DATE,
    BATCH_SIZE,
    CHANGED_MEANWHILE,
    COLUMNS,
    EMPTY_FILE,
    EVENT_COLUMNS,
    EVENTS,
    KIND_LABELS,
    MAX_IMPORT_BYTES,
    MAX_VALUE_SHOWN,
    MB,
    OFFENDER_COLUMNS,
    OFFENDERS,
    SAVE_AS_CSV,
    Column,
    FileProblem,
    ImportResult,
    RowProblem,
    can_use_import_page,
    describe_size,
    plural,
    too_large_message,
)
from .events import import_events
from .people import import_offenders

IMPORTERS: dict[str, Callable[..., ImportResult]] = {
    OFFENDERS: import_offenders,
    EVENTS: import_events,
}

__all__ = [
    "BAD_DATE",
    "BATCH_SIZE",
    "CHANGED_MEANWHILE",
    "COLUMNS",
    "EMPTY_FILE",
    "EVENTS",
    "EVENT_COLUMNS",
    "IMPORTERS",
    "KIND_LABELS",
    "MAX_IMPORT_BYTES",
    "MAX_VALUE_SHOWN",
    "MB",
    "OFFENDERS",
    "OFFENDER_COLUMNS",
    "SAVE_AS_CSV",
    "Column",
    "FileProblem",
    "ImportResult",
    "RowProblem",
    "can_use_import_page",
    "describe_size",
    "import_events",
    "import_offenders",
    "plural",
    "too_large_message",
]
