"""`manage.py import_events FILE --as USERNAME`: offending events from a partner system's CSV.

The columns are in docs/import-formats.md. All or nothing: any problem and nothing
is imported, every problem is printed, and the command exits non-zero.
"""

from __future__ import annotations

from offenders import importing

from .import_offenders import ImportCommand


class Command(ImportCommand):
    help = (
        "Import offending events and intelligence reports from a CSV file keyed by source "
        "agency and source reference, as the given user. Importing the same file again "
        "changes nothing."
    )
    kind = importing.EVENTS
