"""CSV downloads of the reports pages' aggregates: the same figures the page shows, with
the same suppression ("[c]", access.disclosure — one function for pages, CSVs and PDFs),
as sections of one file, and audited as a disclosure to the downloader's agency
(access.audit, AuditAction.DISCLOSE) in the same transaction as the read.

Aggregates only: no row names a person (ACCESS.md "Aggregates and small numbers").
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.http import HttpResponse

from access import audit
from access.disclosure import Shown
from access.models import AuditAction
from access.policy import Actor

from . import charts
from .profile import Table

RECORD_TYPE = "reporting.reports"


@dataclass(frozen=True)
class Section:
    """One block of the file: a title line, a header line and its rows."""

    title: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    note: str = ""


def _text(cell: object) -> str:
    if isinstance(cell, Shown):
        return cell.text
    if cell is None:
        return "–"
    return str(cell)


def from_table(table: Table) -> Section:
    return Section(
        title=table.caption,
        header=(table.row_heading, *table.columns),
        rows=tuple((line.label, *(_text(c) for c in line.cells)) for line in table.rows),
        note=table.note,
    )


def from_chart(chart: charts.Chart) -> Section:
    return Section(
        title=chart.title,
        header=chart.columns,
        rows=tuple((row.label, *(cell.text for cell in row.cells)) for row in chart.rows),
        note=chart.note,
    )


def from_figures(title: str, figures: Iterable[tuple[str, object]]) -> Section:
    return Section(
        title=title,
        header=("Figure", "Value"),
        rows=tuple((label, _text(value)) for label, value in figures),
    )


def render(report_title: str, as_of: dt.date, sections: Sequence[Section]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([report_title])
    writer.writerow(["As at", as_of.isoformat()])
    for section in sections:
        writer.writerow([])
        writer.writerow([section.title])
        writer.writerow(section.header)
        writer.writerows(section.rows)
        if section.note:
            writer.writerow([section.note])
    return out.getvalue()


def filename(report: str, as_of: dt.date) -> str:
    """`ppo-<report>-as-at-YYYY-MM-DD.csv`: only our own slug and the date, nothing typed."""
    return f"ppo-{report}-as-at-{as_of.isoformat()}.csv"


@transaction.atomic
def csv_download(
    *, actor: Actor, report: str, title: str, sections: Sequence[Section], detail: dict[str, str]
) -> HttpResponse:
    """The file as a response, audited as a disclosure (recipient: the reader's agency)."""
    body = render(title, actor.as_of, sections)
    audit.record(
        actor,
        AuditAction.DISCLOSE,
        record_type=RECORD_TYPE,
        recipient=actor.agency.name if actor.agency else "",
        detail={
            "report": report,
            "as_of": actor.as_of.isoformat(),
            "format": "csv",
            "sections": [s.title for s in sections],
            **detail,
        },
    )
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename(report, actor.as_of)}"'
    return response
