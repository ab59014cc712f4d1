"""`manage.py import_offenders FILE --as USERNAME`: people from a partner system's CSV file.

The columns are in docs/import-formats.md. All or nothing: any problem and nothing
is imported, every problem is printed, and the command exits non-zero.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from access.context import audit_context
from access.errors import NotPermitted
from access.policy import actor_for
from offenders import importing


class ImportCommand(BaseCommand):
    kind = importing.OFFENDERS

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The CSV file to import.")
        parser.add_argument(
            "--as",
            dest="username",
            default=os.environ.get("PPO_IMPORT_USER", ""),
            help="The username of the person importing: the audit trail records them, and "
            "their role must allow it (a PPO manager or police officer). Defaults to the "
            "PPO_IMPORT_USER environment variable, so scheduled jobs can run "
            "`import_events FILE` with the account they import as.",
        )
        parser.add_argument(
            "--max-mb",
            type=int,
            default=importing.MAX_IMPORT_BYTES // importing.MB,
            help="Refuse files larger than this many megabytes "
            f"(default {importing.MAX_IMPORT_BYTES // importing.MB}, as on the web page).",
        )

    def handle(self, *args: Any, file: str, username: str, max_mb: int, **options: Any) -> None:
        if not username:
            raise CommandError(
                "Say who is importing, for the audit trail: --as USERNAME, or set PPO_IMPORT_USER"
            )
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"There is no active user with the username {username!r}")
        actor = actor_for(user)
        if actor.membership is None:
            raise CommandError(f"{username} has no current role in an active agency")
        path = Path(file)
        importer = importing.IMPORTERS[self.kind]
        with audit_context(channel="command", path=f"{self.kind} import: {path.name}"[:500]):
            try:
                with path.open("rb") as handle:
                    result = importer(
                        user=actor,
                        file=handle,
                        filename=path.name,
                        max_bytes=max_mb * importing.MB,
                    )
            except OSError as error:
                raise CommandError(f"Cannot read {file}: {error.strerror or error}") from error
            except NotPermitted as error:
                raise CommandError(f"{username}: {error.message}") from error
        if result.file_problems:
            raise CommandError(f"Nothing imported from {path.name}: {result.file_problems[0]}")
        if result.problems:
            for problem in result.problems:
                where = f"row {problem.row}"
                if problem.column:
                    where += f", {problem.column}"
                if problem.value:
                    where += f" {problem.value!r}"
                self.stderr.write(f"{where}: {problem.problem}")
            raise CommandError(
                f"Nothing imported from {path.name}: "
                f"{importing.plural(len(result.problems), 'problem')} in "
                f"{importing.plural(result.rows_with_problems, 'row')}"
            )
        self.stdout.write(self.style.SUCCESS(f"{path.name}: {result.summary}"))


class Command(ImportCommand):
    help = (
        "Import people (offenders) from a CSV file keyed by PNC ID, as the given user. "
        "New people join the known-offender pool; importing the same file again changes nothing."
    )
    kind = importing.OFFENDERS
