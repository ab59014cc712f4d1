"""Aggregate figures: no row that names or identifies a person.

ACCESS.md "Aggregates and small numbers": the headline counts of the scheme's own caseload
are shown exactly (as the seed's reports show them to members, `001 §5.4–5.5`); breakdowns by
a personal characteristic go through `access.disclosure`, which hides counts of 1–4 and any
count from which one could be worked out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q

from access.disclosure import CONFIDENTIAL_NOTE, Shown, protect_cross_tab
from access.errors import NotPermitted
from access.models import Scheme
from access.policy import Actor, as_actor, can_see_aggregates, people_for_counting


@dataclass(frozen=True)
class Figure:
    label: str
    value: int


def _ppos_on_scheme(actor: Actor) -> Any:
    """People on the PPO scheme on the actor's day, as far as this actor may count them."""
    from offenders.models import ProgrammeEpisode, ProgrammeKind

    if not can_see_aggregates(actor):
        raise NotPermitted("Only the steering group and PPO managers see scheme figures")
    on_scheme = ProgrammeEpisode.objects.open_on(actor.as_of).filter(kind=ProgrammeKind.PPO)
    return people_for_counting(actor).filter(pk__in=on_scheme.values("offender_id"))


def scheme_headline(*, user: Any, as_of: dt.date | None = None) -> list[Figure]:
    """Counts of PPOs on the scheme today by status, against the scheme's capacity.

    Exact for every role that may see them, the steering group included: ACCESS.md shows
    the scheme's headline counts exactly (`001 §5.4–5.5`), so they are never suppressed,
    and any breakdown that adds up to one of them treats it as fixed.
    """
    from offenders.models import Status

    actor = as_actor(user, as_of)
    counts = (
        _ppos_on_scheme(actor)
        .with_status(actor.as_of)
        .aggregate(
            on_scheme=Count("pk"),
            community=Count("pk", filter=Q(current_status=Status.COMMUNITY)),
            custody=Count("pk", filter=Q(current_status=Status.CUSTODY)),
            remand=Count("pk", filter=Q(current_status=Status.REMAND)),
            crasbo=Count("pk", filter=Q(crasbo=True)),
        )
    )
    return [
        Figure("PPOs on the scheme", counts["on_scheme"]),
        Figure("In the community", counts["community"]),
        Figure("In custody, sentenced", counts["custody"]),
        Figure("Remanded in custody", counts["remand"]),
        Figure("With a CRASBO", counts["crasbo"]),
        Figure("Scheme capacity", Scheme.current().capacity_max),
    ]


@dataclass(frozen=True)
class TableRow:
    label: str
    cells: tuple[Shown, ...]
    total: Shown


@dataclass(frozen=True)
class ProtectedTable:
    """A two-way table of counts after small-number suppression: hidden counts are not kept."""

    caption: str
    row_heading: str
    column_labels: tuple[str, ...]
    rows: tuple[TableRow, ...]
    totals: TableRow
    any_hidden: bool
    note: str = CONFIDENTIAL_NOTE


AGE_BANDS = ("Under 18", "18 and over")
SEX_COLUMNS = ("Male", "Female", "Other or not known")


def scheme_by_age_and_sex(*, user: Any, as_of: dt.date | None = None) -> ProtectedTable:
    """PPOs on the scheme by age band (on `as_of`) and sex, with totals (DESIGN.md profile).

    A breakdown by personal characteristics, so small counts are hidden complementarily
    (ACCESS.md) with the grand total fixed: it is the exact headline "PPOs on the scheme".
    Hidden for every role, the PPO manager too: ACCESS.md's rule for breakdowns does not
    depend on who reads them, a table on screen is copied into papers for the steering
    group, and a manager who needs a person looks at the caseload, not at this table.
    """
    from offenders.models import Sex, years_before

    actor = as_actor(user, as_of)
    # Under 18 on the day, as `OffenderQuerySet.under_18_on` and `Offender.age_on` count it.
    under_18 = Q(date_of_birth__gt=years_before(actor.as_of, 18))
    bands = (under_18, ~under_18)
    sexes = (Q(sex=Sex.MALE), Q(sex=Sex.FEMALE), ~Q(sex__in=[Sex.MALE, Sex.FEMALE]))
    counts = _ppos_on_scheme(actor).aggregate(
        **{
            f"n_{b}_{s}": Count("pk", filter=band & sex)
            for b, band in enumerate(bands)
            for s, sex in enumerate(sexes)
        }
    )
    cells = [[counts[f"n_{b}_{s}"] for s in range(len(sexes))] for b in range(len(bands))]
    shown = protect_cross_tab(cells, total_fixed=True)
    return ProtectedTable(
        caption=f"PPOs on the scheme on {actor.as_of.day} {actor.as_of:%B %Y}, by age and sex",
        row_heading="Age",
        column_labels=SEX_COLUMNS,
        rows=tuple(
            TableRow(label, shown.cells[b], shown.row_totals[b])
            for b, label in enumerate(AGE_BANDS)
        ),
        totals=TableRow("All ages", shown.column_totals, shown.total),
        any_hidden=shown.any_hidden,
    )
