"""`manage.py report NAME --as-of YYYY-MM-DD [--format json|csv] --as USERNAME`: the
scheme's figures for analysts and scheduled exports, the same functions the pages call.

Whose rights: the named user's (`--as`, or the `PPO_REPORT_USER` environment variable),
as on the day it runs; their role must see aggregates (ACCESS.md: the steering group or a
PPO manager). Reports are read by people, so there is no "system" reader: the audit trail
names who ran a disclosure. `report ni30 --format csv` is the national return, one row per
cohort member identified by PNC ID (reporting.measures.ni30): a PPO manager only, audited
as a disclosure to `--recipient`.

Reports are looked up in `REPORTS`: NAME → a function taking a `ReportRequest` and
returning a `ReportOutput` (`figures` for JSON, and optionally `rows` for CSV; without rows
the CSV is the figures flattened, one `figure,value` line each). Add a report by writing
one such function here and one line in `REPORTS`.

Bad input — a NAME not in `REPORTS`, a date that is not one, a future date, a year with no
confirmed cohort, a role that may not see the report — is a message and a non-zero exit.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from access.context import audit_context
from access.errors import ApplicationError
from access.policy import actor_for
from reporting.measures.local_measure import DEFAULT_FURTHER_PERCENT_A_YEAR, local_measure
from reporting.measures.ni30 import (
    NATIONAL_RECIPIENT,
    RETURN_FIELDS,
    ni30_figures,
    ni30_national_return,
)
from reporting.measures.reoffending import proven_reoffending

FORMATS = ("json", "csv")


@dataclass(frozen=True)
class ReportRequest:
    user: Any
    as_of: dt.date
    format: str = "json"
    # The financial year (of its 1 April) of a cohort or year, where a report takes one.
    cohort: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    recipient: str = ""
    target: Decimal = DEFAULT_FURTHER_PERCENT_A_YEAR


@dataclass(frozen=True)
class ReportOutput:
    figures: dict[str, Any]
    rows: list[dict[str, Any]] | None = None
    columns: tuple[str, ...] = field(default=())


def plain(value: Any) -> Any:
    """A report's figures as JSON values: dates as YYYY-MM-DD, decimals as numbers;
    exact fractions (working values) are left out."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if not isinstance(getattr(value, f.name), Fraction) and not f.name.startswith("exact")
        }
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def flattened(figures: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in figures.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from flattened(value, f"{name}.")
        else:
            yield name, "" if value is None else value


def ni30_report(request: ReportRequest) -> ReportOutput:
    if request.date_from or request.date_to:
        raise ApplicationError("The NI30 report is for a cohort (--cohort YEAR), not a period")
    if request.format == "csv":
        rows = ni30_national_return(
            user=request.user,
            as_of=request.as_of,
            year=request.cohort,
            recipient=request.recipient or NATIONAL_RECIPIENT,
        )
        return ReportOutput(figures={}, rows=rows, columns=RETURN_FIELDS)
    figures = ni30_figures(user=request.user, as_of=request.as_of, year=request.cohort)
    return ReportOutput(figures=plain(figures))


def local_measure_report(request: ReportRequest) -> ReportOutput:
    figures = local_measure(
        user=request.user,
        as_of=request.as_of,
        cohort=request.cohort,
        date_from=request.date_from,
        date_to=request.date_to,
        further_percent_a_year=request.target,
    )
    return ReportOutput(figures=plain(figures))


def reoffending_report(request: ReportRequest) -> ReportOutput:
    if request.date_from or request.date_to:
        raise ApplicationError(
            "Proven re-offending is for a financial year (--cohort YEAR), not a period"
        )
    figures = proven_reoffending(user=request.user, as_of=request.as_of, year=request.cohort)
    return ReportOutput(figures=plain(figures))


def profile_report(request: ReportRequest) -> ReportOutput:
    """The 004 scheme profile, with the equality monitoring, offending mix and outcomes
    after de-selection for the period (--from / --to, default the year so far)."""
    from reporting import profile

    period: dict[str, Any] = {"date_from": request.date_from, "date_to": request.date_to}
    figures = {
        "profile": profile.scheme_profile(user=request.user, as_of=request.as_of),
        "equality": profile.equality_monitoring(user=request.user, as_of=request.as_of, **period),
        "offending_mix": profile.offending_mix(user=request.user, as_of=request.as_of, **period),
        "outcomes_after_deselection": profile.deselection_outcomes(
            user=request.user, as_of=request.as_of, **period
        ),
    }
    return ReportOutput(figures=plain(figures))


def refresh_report(request: ReportRequest) -> ReportOutput:
    from reporting import profile

    figures = profile.refresh_indicators(user=request.user, as_of=request.as_of)
    return ReportOutput(figures=plain(figures))


REPORTS: dict[str, Callable[[ReportRequest], ReportOutput]] = {
    "ni30": ni30_report,
    "local-measure": local_measure_report,
    "reoffending": reoffending_report,
    "profile": profile_report,
    "refresh": refresh_report,
}


def _date(option: str, text: str | None) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise CommandError(
            f"{option} must be a date written YYYY-MM-DD, such as 2026-04-01: "
            f"“{text[:40]}” is not one"
        ) from None


class Command(BaseCommand):
    help = (
        "Print a report's figures (NI30, the local measure, proven re-offending, ...) as at "
        "a day, as JSON or CSV, with the rights of the given user."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help=f"The report: {', '.join(REPORTS)}")
        parser.add_argument("--as-of", dest="as_of", required=True, help="YYYY-MM-DD")
        parser.add_argument("--format", default="json", help="json (default) or csv")
        parser.add_argument(
            "--as",
            dest="username",
            default=os.environ.get("PPO_REPORT_USER", ""),
            help="The username whose rights the report uses (steering group or PPO "
            "manager); defaults to the PPO_REPORT_USER environment variable.",
        )
        parser.add_argument(
            "--cohort", type=str, default="", help="The year of the cohort's 1 April, e.g. 2026"
        )
        parser.add_argument("--from", dest="date_from", default="", help="YYYY-MM-DD")
        parser.add_argument("--to", dest="date_to", default="", help="YYYY-MM-DD")
        parser.add_argument(
            "--target",
            default=str(DEFAULT_FURTHER_PERCENT_A_YEAR),
            help="The local measure's further reduction a year, in points (default 5)",
        )
        parser.add_argument(
            "--recipient",
            default="",
            help=f"Who a national return is sent to (default “{NATIONAL_RECIPIENT}”)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["name"]
        report = REPORTS.get(name)
        if report is None:
            raise CommandError(f"There is no report called “{name}”: choose {', '.join(REPORTS)}")
        fmt = (options["format"] or "json").lower()
        if fmt not in FORMATS:
            raise CommandError(f"--format must be json or csv, not “{options['format']}”")
        as_of = _date("--as-of", options["as_of"])
        assert as_of is not None
        cohort_text = (options["cohort"] or "").strip()
        if cohort_text and not (cohort_text.isdigit() and len(cohort_text) == 4):
            raise CommandError(
                f"--cohort is the year the cohort's 1 April falls in, such as 2026: "
                f"“{cohort_text[:20]}” is not one"
            )
        try:
            target = Decimal(str(options["target"]).strip())
        except ArithmeticError:
            raise CommandError("--target must be a number of points, such as 5") from None
        username = options["username"]
        if not username:
            raise CommandError(
                "Say whose rights the report uses: --as USERNAME, or set PPO_REPORT_USER"
            )
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"There is no active user with the username {username!r}")
        if actor_for(user, as_of).membership is None:
            raise CommandError(f"{username} has no role in an active agency on {as_of}")
        request = ReportRequest(
            user=user,
            as_of=as_of,
            format=fmt,
            cohort=int(cohort_text) if cohort_text else None,
            date_from=_date("--from", options["date_from"]),
            date_to=_date("--to", options["date_to"]),
            recipient=options["recipient"],
            target=target,
        )
        with audit_context(channel="command", path=f"report {name}"):
            try:
                output = report(request)
            except ApplicationError as error:
                raise CommandError(f"{name}: {error.message}") from None
        if fmt == "json":
            body = (
                output.figures if output.rows is None else {**output.figures, "rows": output.rows}
            )
            self.stdout.write(json.dumps(body, indent=2, ensure_ascii=False))
            return
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        if output.rows is not None:
            columns = output.columns or (tuple(output.rows[0]) if output.rows else ())
            writer.writerow(columns)
            for row in output.rows:
                writer.writerow([row.get(column, "") for column in columns])
        else:
            writer.writerow(["figure", "value"])
            for key, value in flattened(output.figures):
                writer.writerow([key, value])
        self.stdout.write(out.getvalue(), ending="")
