"""`manage.py retention report [--as-of YYYY-MM-DD] --as USERNAME` and
`manage.py retention erase ID [--confirm] --as USERNAME`.

The report lists the people with records due for review (offenders.retention); erase
dry-runs — prints what would be removed and changes nothing — unless `--confirm` is
given. Both act as a named user, for the audit trail and the policy: the report for an
administrator or the PPO manager, erasure for an administrator only.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from access.context import audit_context
from access.errors import ApplicationError
from access.policy import Actor, actor_for
from offenders import retention


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--as-of must be a date as YYYY-MM-DD, not {text!r}") from None


class Command(BaseCommand):
    help = "The retention review report, and erasure of a person past retention."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        report = actions.add_parser("report", help="List the people due for review.")
        report.add_argument(
            "--as-of", type=_day, default=None, help="YYYY-MM-DD; today if not given."
        )
        erase = actions.add_parser("erase", help="Erase one person (a dry run without --confirm).")
        for sub in (report, erase):
            sub.add_argument(
                "--as",
                dest="username",
                default=os.environ.get("PPO_RETENTION_USER", ""),
                help="The username acting: the audit trail records them and their role must "
                "allow it. Defaults to the PPO_RETENTION_USER environment variable.",
            )
        erase.add_argument("offender_id", type=int, help="The person's record number.")
        erase.add_argument(
            "--confirm", action="store_true", help="Really erase; without it, a dry run."
        )

    def _actor(self, username: str) -> Actor:
        if not username:
            raise CommandError(
                "Say who is acting, for the audit trail: --as USERNAME, or set PPO_RETENTION_USER"
            )
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"There is no active user with the username {username!r}")
        actor = actor_for(user)
        if actor.membership is None:
            raise CommandError(f"{username} has no current role in an active agency")
        return actor

    def handle(self, *args: Any, action: str, username: str, **options: Any) -> None:
        actor = self._actor(username)
        with audit_context(channel="command", path=f"retention {action}"):
            try:
                if action == "report":
                    self._report(actor, options["as_of"])
                else:
                    self._erase(actor, options["offender_id"], confirm=options["confirm"])
            except ApplicationError as error:
                raise CommandError(error.message) from error

    def _report(self, actor: Actor, as_of: dt.date | None) -> None:
        report = retention.retention_report(user=actor, as_of=as_of)
        self.stdout.write(f"Retention review on {retention.long_date(report.as_of)}")
        self.stdout.write("Periods (months after leaving the scheme):")
        for period in report.periods:
            source = "default" if period.is_default else "set by the scheme"
            self.stdout.write(f"  {period.label}: {period.in_words} ({source})")
        if not report.rows:
            self.stdout.write("Nobody has records due for review.")
            return
        self.stdout.write(
            f"{len(report.rows)} with records due for review, "
            f"{report.erasure_due_count} due for an erasure decision:"
        )
        for row in report.rows:
            who = f"Record {row.offender_id}"
            if row.full_name:
                who += f" ({row.full_name}{', PNC ' + row.pnc_id if row.pnc_id else ''})"
            due = row.due
            state = (
                f"erasure due since {retention.long_date(due.erasure_due_on)}"
                if due.erasure_due
                else f"erasure not before {retention.long_date(due.erasure_due_on)}"
            )
            self.stdout.write(f"{who}: {due.basis.in_words}; {state}")
            for kind in due.kinds:
                if kind.due:
                    self.stdout.write(
                        f"  {kind.period.label}: {kind.period.in_words}, "
                        f"due {retention.long_date(kind.due_on)}"
                    )

    def _erase(self, actor: Actor, offender_id: int, *, confirm: bool) -> None:
        erasure = retention.retention_erase(
            user=actor, offender_id=offender_id, dry_run=not confirm
        )
        verb = "Erased" if confirm else "Dry run: would erase"
        self.stdout.write(
            f"{verb} record {offender_id} ({erasure.due.basis.in_words}; past every "
            f"retention period since {retention.long_date(erasure.due.erasure_due_on)}):"
        )
        for kind, _, parts in erasure.lines:
            counted = "; ".join(f"{what}: {n}" for what, n in parts if n) or "none"
            self.stdout.write(f"  {kind}: {counted}")
        self.stdout.write(f"  In all: {erasure.total}")
        if erasure.audit_rows_with_identifiers:
            self.stdout.write(
                f"  Kept: {erasure.audit_rows_with_identifiers} audit rows that hold one of "
                "the person's identifiers (the audit trail is append-only)"
            )
        if not confirm:
            self.stdout.write("Nothing was changed. Run again with --confirm to erase.")
