"""The scheme's own figures beside NI30: the 004 scheme profile, the 003 §3 refresh
indicators, equality monitoring, the offending mix and outcomes after de-selection.

Every function takes the reader and an "as at" day, is refused unless the reader's role
sees aggregates (access.policy.can_see_aggregates: the steering group and PPO managers),
counts only from `people_for_counting`, and returns plain frozen dataclasses (`Table`,
`Figure`) that the pages, the `report` command and the PDF render alike. Nothing here
names or identifies a person, so nothing is a consultation of a record.

Small numbers (ACCESS.md "Aggregates and small numbers"): headline counts of the caseload
(on the scheme, in the community, in custody, remanded) are exact; every breakdown by a
personal characteristic (sex, ethnicity, age band, and a pathway need of the health
pathway, crossed with anything) goes through `access.disclosure.protect`, and with
`for_publication=True` every count does. The caseload's breakdowns by sex, age and
ethnicity are protected together, as one set of items and the sums that link them
(`_caseload_disclosure`): a count hidden in one table is hidden in every table that
shows it, so no table undoes another. No disability is recorded on the offender record,
so there is no breakdown by it.

The facts counted are those recorded by the end of the "as at" day (`recorded_on` ≤
as_of for offending events), so a report run again for a past day gives the same figures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q

from access.disclosure import (
    CONFIDENTIAL_NOTE,
    Relation,
    Shown,
    protect,
    protect_breakdown,
)
from access.errors import ApplicationError
from access.models import Scheme
from access.policy import Actor, people_for_counting

from .measures.common import (
    add_months,
    aggregate_reader,
    financial_year_of,
    long_date,
    percent_text,
    rounded,
    share,
    year_starts_on,
)

EXACT_NOTE = "Counts of the scheme's caseload, shown exactly (ACCESS.md, 001 §5.4–5.5)."

# 003 §4.3: "15 to 20 PPOs in smaller CDRP/CSP areas; but 60 to 100 in larger areas", a
# minimum ambition for offenders tackled in the community, not a ceiling (DESIGN.md).
GUIDANCE_SMALL_AREA = (15, 20)
GUIDANCE_LARGE_AREA = (60, 100)


# --- Plain results -------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    label: str
    value: int | Decimal | str | None
    note: str = ""

    @property
    def text(self) -> str:
        if self.value is None:
            return "–"
        if isinstance(self.value, int):
            return f"{self.value:,}"
        return str(self.value)


@dataclass(frozen=True)
class Line:
    """One row of a table: its label and its cells (a count, or a percentage as text)."""

    label: str
    cells: tuple[Shown | str, ...]
    is_total: bool = False


@dataclass(frozen=True)
class Table:
    caption: str
    row_heading: str
    columns: tuple[str, ...]
    rows: tuple[Line, ...]
    # Whether small numbers were suppressed in it, and whether any count is hidden.
    protected: bool
    any_hidden: bool
    note: str = ""

    def row(self, label: str) -> Line:
        return next(line for line in self.rows if line.label == label)

    def value(self, label: str, column: int = 0) -> int | None:
        """A count by row label and column (None when hidden): for tests and CSVs."""
        cell = self.row(label).cells[column]
        if isinstance(cell, Shown):
            return cell.value
        raise TypeError(f"{label} column {column} is not a count")


def _note(protected: bool, any_hidden: bool) -> str:
    if protected:
        return CONFIDENTIAL_NOTE if any_hidden else "Small numbers would be hidden ([c])."
    return EXACT_NOTE


def _percent_text(part: Shown, whole: int | None) -> str:
    """A shown count as a share of a known total, to one decimal place; "[c]" with a hidden
    count, "–" of nothing."""
    if part.hidden:
        return part.text
    if whole is None:
        return "[c]"
    return percent_text(rounded(share(part.value or 0, whole)))


def breakdown(
    *,
    caption: str,
    row_heading: str,
    labels: Sequence[str],
    counts: Sequence[int],
    protected: bool,
    total_label: str = "Total",
    total_fixed: bool = True,
    with_share: bool = True,
) -> Table:
    """A one-way breakdown with its total: exact, or through access.disclosure."""
    if protected:
        shown = protect_breakdown(list(counts), total_fixed=total_fixed)
        parts, total = shown.parts, shown.total
    else:
        parts, total = tuple(Shown(n) for n in counts), Shown(sum(counts))
    return _one_way(caption, row_heading, labels, parts, total, protected, total_label, with_share)


def _one_way(
    caption: str,
    row_heading: str,
    labels: Sequence[str],
    parts: Sequence[Shown],
    total: Shown,
    protected: bool,
    total_label: str = "Total",
    with_share: bool = True,
) -> Table:
    columns = ("People", "Share") if with_share else ("Number",)
    rows = [
        Line(label, (part, _percent_text(part, total.value)) if with_share else (part,))
        for label, part in zip(labels, parts, strict=True)
    ]
    rows.append(
        Line(
            total_label,
            (total, "100.0%" if total.value else "–") if with_share else (total,),
            is_total=True,
        )
    )
    hidden = total.hidden or any(p.hidden for p in parts)
    return Table(
        caption=caption,
        row_heading=row_heading,
        columns=columns,
        rows=tuple(rows),
        protected=protected,
        any_hidden=hidden,
        note=_note(protected, hidden),
    )


# --- Who is counted ------------------------------------------------------------------------


def _on_scheme(actor: Actor) -> Any:
    """The PPOs on the scheme on the reader's day (the headline "PPOs on the scheme")."""
    from offenders.models import ProgrammeEpisode, ProgrammeKind

    open_ppo = ProgrammeEpisode.objects.open_on(actor.as_of).filter(kind=ProgrammeKind.PPO)
    return people_for_counting(actor).filter(pk__in=open_ppo.values("offender_id"))


def age_on(date_of_birth: dt.date, day: dt.date) -> int:
    """Completed years on `day`, as `Offender.age_on` counts them."""
    from offenders.models import years_before

    years = day.year - date_of_birth.year
    if years_before(day, years) < date_of_birth:
        years -= 1
    return years


# Equality monitoring's age bands (DESIGN.md: by sex, ethnicity, age): under 18 as the 004
# profile splits young people from adults, and adults in the bands the MoJ's offender
# statistics use for younger adults (18–24), then in decades to 50.
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("Under 18", 0, 17),
    ("18 to 24", 18, 24),
    ("25 to 34", 25, 34),
    ("35 to 49", 35, 49),
    ("50 and over", 50, None),
)


def age_band(age: int) -> int:
    for index, (_, low, high) in enumerate(AGE_BANDS):
        if age >= low and (high is None or age <= high):
            return index
    raise AssertionError("unreachable")


def _sex_index(sex: str) -> int:
    from offenders.models import Sex

    return {Sex.MALE: 0, Sex.FEMALE: 1}.get(sex, 2)  # type: ignore[call-overload]


SEX_LABELS = ("Male", "Female", "Other or not known")


def _ethnicities() -> list[tuple[str, str]]:
    from offenders.models import Ethnicity

    return [(value, str(label)) for value, label in Ethnicity.choices]


@dataclass(frozen=True)
class _Person:
    age: int
    sex: int
    ethnicity: str
    dip_client: bool
    statutory: bool
    status: str


def _caseload(actor: Actor) -> list[_Person]:
    """One plain row per PPO on the scheme: no name, no identifier. One query."""
    from offenders.models import Supervision

    rows = (
        _on_scheme(actor)
        .with_status(actor.as_of)
        .values_list(
            "date_of_birth", "sex", "ethnicity", "dip_client", "supervision", "current_status"
        )
    )
    return [
        _Person(
            age=age_on(dob, actor.as_of),
            sex=_sex_index(sex),
            ethnicity=ethnicity,
            dip_client=bool(dip),
            statutory=supervision != Supervision.NONE,
            status=status,
        )
        for dob, sex, ethnicity, dip, supervision, status in rows
    ]


def _relation(total: Hashable, parts: Sequence[Hashable]) -> Relation[Hashable]:
    return Relation(total, tuple(parts))


def _caseload_disclosure(people: list[_Person]) -> Any:
    """The caseload's counts by age (under 18 / adult, and the equality bands), sex,
    ethnicity and adults in DIP, protected together (module docstring), with the total
    (the headline) fixed."""
    ethnicities = [value for value, _ in _ethnicities()]
    counts: dict[Hashable, int] = {"total": len(people)}
    for b in range(2):
        for s in range(3):
            counts["cell", b, s] = 0
        counts["age2", b] = 0
    for s in range(3):
        counts["sex", s] = 0
    for d in range(2):
        counts["dip", d] = 0
    for e in ethnicities:
        counts["ethnicity", e] = 0
    for k in range(1, len(AGE_BANDS)):
        counts["band", k] = 0
    for person in people:
        band = age_band(person.age)
        adult = int(band > 0)
        counts["cell", adult, person.sex] += 1
        counts["age2", adult] += 1
        counts["sex", person.sex] += 1
        counts["ethnicity", person.ethnicity] = counts.get(("ethnicity", person.ethnicity), 0) + 1
        if adult:
            counts["dip", int(not person.dip_client)] += 1
            counts["band", band] += 1
    relations: list[Relation[Hashable]] = [
        *(_relation(("age2", b), [("cell", b, s) for s in range(3)]) for b in range(2)),
        *(_relation(("sex", s), [("cell", b, s) for b in range(2)]) for s in range(3)),
        Relation("total", (("age2", 0), ("age2", 1))),
        Relation("total", tuple(("sex", s) for s in range(3))),
        Relation(("age2", 1), (("dip", 0), ("dip", 1))),
        Relation("total", tuple(k for k in counts if isinstance(k, tuple) and k[0] == "ethnicity")),
        Relation(("age2", 1), tuple(("band", k) for k in range(1, len(AGE_BANDS)))),
    ]
    return protect(counts, relations, fixed={"total"})


# --- 1. The scheme profile (004) ------------------------------------------------------------


@dataclass(frozen=True)
class SchemeProfile:
    as_of: dt.date
    scheme_name: str
    total: Figure
    # 004's table: young people (under 18) and adults, by sex.
    by_age_and_sex: Table
    # Non-statutory / statutory, adults also in DIP, community / custody, average age.
    supervision: Table
    adults_in_dip: Table
    community_custody: Table
    average_age: Figure
    for_publication: bool


def scheme_profile(*, user: Any, as_of: dt.date, for_publication: bool = False) -> SchemeProfile:
    """004 "Scheme Profile and Overview" for the PPOs on the scheme on `as_of`. Two
    queries (the caseload, the scheme's name)."""
    from offenders.models import Status

    actor = aggregate_reader(user, as_of)
    people = _caseload(actor)
    shown = _caseload_disclosure(people)
    day = long_date(actor.as_of)
    total = len(people)
    cells = [
        Line(
            label,
            (*(shown["cell", b, s] for s in range(3)), shown["age2", b]),
        )
        for b, label in enumerate(("Young people (under 18)", "Adults (18 and over)"))
    ]
    cells.append(
        Line("All ages", (*(shown["sex", s] for s in range(3)), shown["total"]), is_total=True)
    )
    hidden = bool(shown.hidden)
    by_age_and_sex = Table(
        caption=f"PPOs on the scheme on {day}, by age and sex",
        row_heading="Age",
        columns=(*SEX_LABELS, "All"),
        rows=tuple(cells),
        protected=True,
        any_hidden=hidden,
        note=_note(True, hidden),
    )
    statutory = sum(p.statutory for p in people)
    supervision = breakdown(
        caption=f"PPOs on the scheme on {day}, by statutory supervision",
        row_heading="Supervision",
        labels=("Statutory offenders", "Non-statutory offenders"),
        counts=(statutory, total - statutory),
        protected=for_publication,
    )
    adults_in_dip = _one_way(
        f"Adult PPOs on the scheme on {day} also in DIP",
        "Adults",
        ("Also in DIP", "Not in DIP"),
        (shown["dip", 0], shown["dip", 1]),
        shown["age2", 1],
        True,
        total_label="All adults",
    )
    in_custody = sum(p.status == Status.CUSTODY for p in people)
    remanded = sum(p.status == Status.REMAND for p in people)
    community_custody = breakdown(
        caption=f"PPOs on the scheme on {day}, in the community and in custody",
        row_heading="Where",
        labels=("In the community", "In custody, sentenced", "Remanded in custody"),
        counts=(total - in_custody - remanded, in_custody, remanded),
        protected=for_publication,
    )
    average: Decimal | None = None
    if people and not (for_publication and total < 5):
        average = rounded(Fraction(sum(p.age for p in people), total))
    return SchemeProfile(
        as_of=actor.as_of,
        scheme_name=Scheme.current().name,
        total=Figure("Total number of PPOs managed", total, EXACT_NOTE),
        by_age_and_sex=by_age_and_sex,
        supervision=supervision,
        adults_in_dip=adults_in_dip,
        community_custody=community_custody,
        average_age=Figure(
            "Average age of offender",
            average,
            "Completed years on the day, to one decimal place",
        ),
        for_publication=for_publication,
    )


# --- 2. Refresh indicators (003 §3) ----------------------------------------------------------

# 003 §3.5: "49% of PPOs had been on the programme for 2 years or less, with the remaining
# 51% having been managed as PPOs for over 2 years: 17% … for 3 years; 16% for 4 years;
# 18% for 5 years or longer". The four bands share out everyone (17 + 16 + 18 = 51, the
# "over 2 years"), so "3 years" is over 2 years up to 3, "4 years" over 3 up to 4, and
# "5 years or longer" over 4 years (the fifth year or later). A person's time on the
# programme is counted from the start of their current PPO episode, by anniversaries:
# on the second anniversary of selection it is 2 years ("2 years or less"), the next day
# it is over 2 years.
TIME_ON_PROGRAMME_BANDS = (
    "2 years or less",
    "Over 2 years, up to 3 (“3 years”)",
    "Over 3 years, up to 4 (“4 years”)",
    "Over 4 years (“5 years or longer”)",
)

# 003 §3.8: "no convictions …; … over 6 convictions" for offences committed in the
# 12-month period; between them, 1 to 6.
CONVICTION_BANDS = ("No convictions", "1 to 6 convictions", "Over 6 convictions")

# 003 §4.5: priority to those released from sentences under 12 months; a sentence of
# exactly 12 months is not "under 12 months".
SHORT_SENTENCE_MONTHS = 12


@dataclass(frozen=True)
class Capacity:
    on_scheme: int
    in_community: int
    capacity_min: int
    capacity_max: int
    guidance_small: tuple[int, int] = GUIDANCE_SMALL_AREA
    guidance_large: tuple[int, int] = GUIDANCE_LARGE_AREA

    @property
    def against_local(self) -> str:
        if self.on_scheme < self.capacity_min:
            return f"Below the scheme's capacity of {self.capacity_min} to {self.capacity_max}"
        if self.on_scheme > self.capacity_max:
            return f"Above the scheme's capacity of {self.capacity_min} to {self.capacity_max}"
        return f"Within the scheme's capacity of {self.capacity_min} to {self.capacity_max}"

    @property
    def meets_small_area_ambition(self) -> bool:
        return self.in_community >= self.guidance_small[0]

    @property
    def meets_large_area_ambition(self) -> bool:
        return self.in_community >= self.guidance_large[0]


@dataclass(frozen=True)
class RefreshIndicators:
    as_of: dt.date
    on_scheme: int
    time_on_programme: Table
    convictions_last_12_months: Table
    conviction_period: tuple[dt.date, dt.date]
    custody: Table
    custody_share: Decimal | None  # sentenced and remanded, of everyone on the scheme
    sentences: Table
    capacity: Capacity


def time_on_programme_band(selected_on: dt.date, as_of: dt.date) -> int:
    """The 003 §3.5 band (index into TIME_ON_PROGRAMME_BANDS) of a PPO selected on
    `selected_on`, on `as_of`: the same rule as the database filter below."""
    from offenders.models import years_before

    for index, years in enumerate((2, 3, 4)):
        if selected_on >= years_before(as_of, years):
            return index
    return 3


def refresh_indicators(
    *, user: Any, as_of: dt.date, for_publication: bool = False
) -> RefreshIndicators:
    """003 §3's refresh indicators for the PPOs on the scheme on `as_of`. Six queries."""
    from offenders.models import (
        CustodyEpisode,
        CustodyKind,
        EventKind,
        OffendingEvent,
        ProgrammeEpisode,
        ProgrammeKind,
        Status,
        years_before,
    )

    actor = aggregate_reader(user, as_of)
    day, when = actor.as_of, long_date(actor.as_of)
    people = _on_scheme(actor)

    episodes = ProgrammeEpisode.objects.open_on(day).filter(
        kind=ProgrammeKind.PPO, offender__in=people
    )
    limits = [years_before(day, years) for years in (2, 3, 4)]
    bands = episodes.aggregate(
        b0=Count("pk", filter=Q(selected_on__gte=limits[0])),
        b1=Count("pk", filter=Q(selected_on__lt=limits[0], selected_on__gte=limits[1])),
        b2=Count("pk", filter=Q(selected_on__lt=limits[1], selected_on__gte=limits[2])),
        b3=Count("pk", filter=Q(selected_on__lt=limits[2])),
    )
    time_on_programme = breakdown(
        caption=f"PPOs on the scheme on {when}, by time on the programme",
        row_heading="Time on the programme",
        labels=TIME_ON_PROGRAMME_BANDS,
        counts=[bands[f"b{i}"] for i in range(4)],
        protected=for_publication,
    )

    # 003 §3.7: convictions for offences committed in the 12 months to the day.
    since = add_months(day, -12)
    # Counted per person from the events index (offender, kind, occurred_on): joining
    # every event of every PPO to filter them afterwards reads their whole histories.
    per_person = dict(
        OffendingEvent.objects.filter(
            offender__in=people.values("pk"),
            kind=EventKind.CONVICTION,
            occurred_on__gt=since,
            occurred_on__lte=day,
            recorded_on__lte=day,
        )
        .order_by()
        .values("offender")
        .annotate(n=Count("pk"))
        .values_list("offender", "n")
    )
    conviction_counts = list(per_person.values())
    conviction_counts += [0] * (people.count() - len(conviction_counts))
    conviction_bands = [
        sum(n == 0 for n in conviction_counts),
        sum(1 <= n <= 6 for n in conviction_counts),
        sum(n > 6 for n in conviction_counts),
    ]
    convictions_table = breakdown(
        caption=(
            f"PPOs on the scheme on {when}, by convictions for offences committed from "
            f"{long_date(since + dt.timedelta(days=1))} to {when}"
        ),
        row_heading="Convictions in the last 12 months",
        labels=CONVICTION_BANDS,
        counts=conviction_bands,
        protected=for_publication,
    )

    statuses = people.with_status(day).aggregate(
        total=Count("pk"),
        custody=Count("pk", filter=Q(current_status=Status.CUSTODY)),
        remand=Count("pk", filter=Q(current_status=Status.REMAND)),
    )
    total = statuses["total"]
    community = total - statuses["custody"] - statuses["remand"]
    custody = breakdown(
        caption=f"PPOs on the scheme on {when}, in the community and in custody",
        row_heading="Where",
        labels=("In the community", "In custody, sentenced", "Remanded in custody"),
        counts=(community, statuses["custody"], statuses["remand"]),
        protected=for_publication,
    )

    sentence_rows = (
        CustodyEpisode.objects.open_on(day)
        .filter(kind=CustodyKind.SENTENCE, offender__in=people)
        .aggregate(
            people=Count("offender", distinct=True),
            short=Count(
                "offender",
                distinct=True,
                filter=Q(sentence_length_months__lt=SHORT_SENTENCE_MONTHS),
            ),
            long=Count(
                "offender",
                distinct=True,
                filter=Q(sentence_length_months__gte=SHORT_SENTENCE_MONTHS),
            ),
        )
    )
    unknown = sentence_rows["people"] - sentence_rows["short"] - sentence_rows["long"]
    sentences = breakdown(
        caption=f"PPOs serving a sentence on {when}, by its length",
        row_heading="Sentence",
        labels=("Under 12 months", "12 months or more", "Length not recorded"),
        counts=(sentence_rows["short"], sentence_rows["long"], max(unknown, 0)),
        protected=for_publication,
        total_label="All serving a sentence",
    )

    scheme = Scheme.current()
    return RefreshIndicators(
        as_of=day,
        on_scheme=total,
        time_on_programme=time_on_programme,
        convictions_last_12_months=convictions_table,
        conviction_period=(since + dt.timedelta(days=1), day),
        custody=custody,
        custody_share=rounded(share(statuses["custody"] + statuses["remand"], total)),
        sentences=sentences,
        capacity=Capacity(
            on_scheme=total,
            in_community=community,
            capacity_min=scheme.capacity_min,
            capacity_max=scheme.capacity_max,
        ),
    )


# --- Periods ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    first_day: dt.date
    last_day: dt.date

    @property
    def label(self) -> str:
        return f"{long_date(self.first_day)} to {long_date(self.last_day)}"


def period_for(as_of: dt.date, date_from: dt.date | None, date_to: dt.date | None) -> Period:
    """A report's period: by default the financial year so far (1 April to the "as at"
    day). It cannot end after the "as at" day (the facts are those known by then)."""
    last = date_to or as_of
    first = date_from or year_starts_on(financial_year_of(last))
    if last > as_of:
        raise ApplicationError(
            f"The period ends on {long_date(last)}, after the “as at” day "
            f"{long_date(as_of)}: choose an end on or before it"
        )
    if first > last:
        raise ApplicationError(
            f"The period starts on {long_date(first)}, after it ends on {long_date(last)}"
        )
    return Period(first, last)


# --- 3. Equality monitoring (000 diversity impact, 004 §4.1) ------------------------------


@dataclass(frozen=True)
class EqualityMonitoring:
    as_of: dt.date
    caseload_by_sex: Table
    caseload_by_ethnicity: Table
    caseload_by_age: Table
    period: Period
    outcomes_by_sex: Table
    outcomes_by_ethnicity: Table
    outcomes_by_age: Table
    needs: Table


# Selection outcomes (DESIGN.md: "equality monitoring of selection outcomes"): a decision
# at a selection panel about someone not a PPO before it, that selects them (select, or
# step up from IOM) or does not (defer: the panel's "not selected"). De-selections and
# the YOT's DYO decisions are not selection outcomes.
OUTCOMES = ("Selected", "Not selected")


def _outcome_table(
    caption: str,
    row_heading: str,
    labels: Sequence[str],
    grid: list[list[int]],
) -> Table:
    """Rows: a characteristic; columns: selected, not selected. The outcome totals are
    fixed (the panel's flows, reported exactly), the rows protected (access.disclosure)."""
    n_rows = len(grid)
    counts: dict[Hashable, int] = {}
    for r, row in enumerate(grid):
        for c, n in enumerate(row):
            counts["cell", r, c] = n
        counts["row", r] = sum(row)
    for c in range(2):
        counts["column", c] = sum(row[c] for row in grid)
    counts["total"] = sum(counts["column", c] for c in range(2))
    relations: list[Relation[Hashable]] = [
        *(_relation(("row", r), [("cell", r, 0), ("cell", r, 1)]) for r in range(n_rows)),
        *(_relation(("column", c), [("cell", r, c) for r in range(n_rows)]) for c in range(2)),
        Relation("total", tuple(("row", r) for r in range(n_rows))),
        Relation("total", (("column", 0), ("column", 1))),
    ]
    shown = protect(counts, relations, fixed={"total", ("column", 0), ("column", 1)})
    rows = [
        Line(label, (shown["cell", r, 0], shown["cell", r, 1], shown["row", r]))
        for r, label in enumerate(labels)
    ]
    rows.append(Line("All", (shown["column", 0], shown["column", 1], shown["total"]), True))
    hidden = bool(shown.hidden)
    return Table(
        caption=caption,
        row_heading=row_heading,
        columns=(*OUTCOMES, "All decisions"),
        rows=tuple(rows),
        protected=True,
        any_hidden=hidden,
        note=_note(True, hidden),
    )


def equality_monitoring(
    *,
    user: Any,
    as_of: dt.date,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> EqualityMonitoring:
    """The caseload on `as_of` and the selection panels' outcomes in a period, by sex,
    ethnicity and age band, and the needs of women, young people and those with mental
    health needs (004 §4.1). Every count is by a personal characteristic, so every table
    is protected. Four queries."""
    from selection.models import DecisionKind, PanelDecision, PanelKind

    actor = aggregate_reader(user, as_of)
    period = period_for(actor.as_of, date_from, date_to)
    when = long_date(actor.as_of)
    people = _caseload(actor)
    shown = _caseload_disclosure(people)
    ethnicities = _ethnicities()

    def caseload_table(what: str, labels: Sequence[str], keys: Sequence[Hashable]) -> Table:
        parts = [shown[key] for key in keys]
        return _one_way(
            f"PPOs on the scheme on {when}, by {what}",
            what.capitalize(),
            labels,
            parts,
            shown["total"],
            True,
            total_label="All PPOs on the scheme",
        )

    by_sex = caseload_table("sex", SEX_LABELS, [("sex", s) for s in range(3)])
    by_ethnicity = caseload_table(
        "ethnicity", [label for _, label in ethnicities], [("ethnicity", e) for e, _ in ethnicities]
    )
    by_age = caseload_table(
        "age band",
        [label for label, _, _ in AGE_BANDS],
        [("age2", 0), *(("band", k) for k in range(1, len(AGE_BANDS)))],
    )

    decisions = (
        PanelDecision.objects.filter(
            panel__kind=PanelKind.SELECTION,
            panel__held_on__gte=period.first_day,
            panel__held_on__lte=period.last_day,
            offender__in=people_for_counting(actor),
        )
        .filter(
            Q(kind=DecisionKind.SELECT)
            | Q(kind=DecisionKind.STEP_UP)
            | (Q(kind=DecisionKind.DEFER) & ~Q(from_tier="ppo"))
        )
        .values_list(
            "kind",
            "panel__held_on",
            "offender__sex",
            "offender__ethnicity",
            "offender__date_of_birth",
        )
    )
    sex_grid = [[0, 0] for _ in range(3)]
    ethnicity_index = {value: i for i, (value, _) in enumerate(ethnicities)}
    ethnicity_grid = [[0, 0] for _ in ethnicities]
    age_grid = [[0, 0] for _ in AGE_BANDS]
    for kind, held_on, sex, ethnicity, dob in decisions:
        column = 1 if kind == DecisionKind.DEFER else 0
        sex_grid[_sex_index(sex)][column] += 1
        ethnicity_grid[ethnicity_index[ethnicity]][column] += 1
        age_grid[age_band(age_on(dob, held_on))][column] += 1
    what = f"selection panels held from {period.label}"
    outcomes_by_sex = _outcome_table(f"Decisions at {what}, by sex", "Sex", SEX_LABELS, sex_grid)
    outcomes_by_ethnicity = _outcome_table(
        f"Decisions at {what}, by ethnicity",
        "Ethnicity",
        [label for _, label in ethnicities],
        ethnicity_grid,
    )
    outcomes_by_age = _outcome_table(
        f"Decisions at {what}, by age band on the day of the panel",
        "Age band",
        [label for label, _, _ in AGE_BANDS],
        age_grid,
    )
    return EqualityMonitoring(
        as_of=actor.as_of,
        caseload_by_sex=by_sex,
        caseload_by_ethnicity=by_ethnicity,
        caseload_by_age=by_age,
        period=period,
        outcomes_by_sex=outcomes_by_sex,
        outcomes_by_ethnicity=outcomes_by_ethnicity,
        outcomes_by_age=outcomes_by_age,
        needs=_needs_of_groups(actor),
    )


# 004 §4.1: "The particular needs of young offenders, women and those with mental health
# needs are assessed and addressed appropriately." A need counts when the person's latest
# level on the pathway (pathways.Need, on or before the day) is medium or high, as the gap
# view counts it. "Those with mental health needs" are those with such a need on the
# Mental and Physical Health pathway (the one pathway that holds mental health).
HEALTH_PATHWAY = "health"
NEED_GROUPS = (
    "Women",
    "Young people (under 18)",
    "With mental health needs",
    "All PPOs on the scheme",
)


def _needs_of_groups(actor: Actor) -> Table:
    """Per pathway, how many PPOs on the scheme in each 004 §4.1 group have a medium or
    high need on it. Two queries."""
    from django.db.models import Subquery

    from offenders.models import Sex
    from pathways.models import Need, NeedLevel, Pathway

    day = actor.as_of
    latest = (
        Need.objects.filter(
            offender_id=OuterRef("offender_id"), pathway_id=OuterRef("pathway_id"), set_on__lte=day
        )
        .order_by("-set_on", "-pk")
        .values("pk")[:1]
    )
    rows = list(
        Need.objects.filter(set_on__lte=day, offender__in=_on_scheme(actor))
        .filter(pk=Subquery(latest))
        .filter(level__in=[NeedLevel.MEDIUM, NeedLevel.HIGH])
        .values_list("offender_id", "pathway__code", "offender__sex", "offender__date_of_birth")
    )
    pathways = list(Pathway.objects.order_by("order", "pk").values_list("code", "name"))
    with_health = {pid for pid, code, _, _ in rows if code == HEALTH_PATHWAY}
    counts: dict[Hashable, int] = {(code, g): 0 for code, _ in pathways for g in range(4)}
    for offender_id, code, sex, dob in rows:
        groups = [3]
        if sex == Sex.FEMALE:
            groups.append(0)
        if age_on(dob, day) < 18:
            groups.append(1)
        if offender_id in with_health and code != HEALTH_PATHWAY:
            groups.append(2)
        for g in groups:
            counts[code, g] += 1
    # Cells overlap (one person, several pathways and groups), so no cell is the sum of
    # others: only small counts are hidden. The health row of "with mental health needs"
    # is the group itself (the "All" health count), so it is not shown twice.
    shown = protect(counts, [])
    table_rows = tuple(
        Line(
            name,
            tuple(
                "Not applicable" if (code == HEALTH_PATHWAY and g == 2) else shown[code, g]
                for g in range(4)
            ),
        )
        for code, name in pathways
    )
    hidden = bool(shown.hidden)
    return Table(
        caption=f"Medium or high needs per pathway on {long_date(day)}, by group (004 §4.1)",
        row_heading="Pathway",
        columns=NEED_GROUPS,
        rows=table_rows,
        protected=True,
        any_hidden=hidden,
        note=(
            _note(True, hidden) + " A person with needs on several pathways is counted on "
            "each. “Mental health needs”: a medium or high need on the Mental and Physical "
            "Health pathway."
        ),
    )


# --- 4. Offending mix (001 §5.3, 003 §3.12) --------------------------------------------------


@dataclass(frozen=True)
class MixPeriod:
    period: Period
    offences: int
    acquisitive: int
    priority: int

    @property
    def acquisitive_share(self) -> Decimal | None:
        return rounded(share(self.acquisitive, self.offences))

    @property
    def priority_share(self) -> Decimal | None:
        return rounded(share(self.priority, self.offences))


@dataclass(frozen=True)
class OffendingMix:
    as_of: dt.date
    period: Period
    by_category: Table
    quarters: tuple[MixPeriod, ...]
    whole_period: MixPeriod
    priority_crimes: tuple[str, ...]
    matrix_number: int | None


def _quarters(period: Period) -> list[Period]:
    """Financial-year quarters (April–June, …) that overlap the period, clipped to it."""
    year = financial_year_of(period.first_day)
    start = year_starts_on(year)
    found = []
    while start <= period.last_day:
        end = add_months(start, 3) - dt.timedelta(days=1)
        if end >= period.first_day:
            found.append(Period(max(start, period.first_day), min(end, period.last_day)))
        start = add_months(start, 3)
    return found


def _matrix_on(day: dt.date) -> Any:
    """The selection matrix in force on `day`: the last adopted by the end of that day."""
    from selection.models import MatrixStatus, MatrixVersion

    return (
        MatrixVersion.objects.filter(
            status__in=[MatrixStatus.ADOPTED, MatrixStatus.RETIRED],
            adopted_at__date__lte=day,
        )
        .order_by("-adopted_at", "-pk")
        .first()
    )


def offending_mix(
    *,
    user: Any,
    as_of: dt.date,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    for_publication: bool = False,
) -> OffendingMix:
    """The offences PPOs were charged with, committed in a period while they were on the
    scheme, by offence category; the serious acquisitive crime share (OffenceCategory
    .acquisitive) and the share of the matrix's local priority crimes, per quarter
    (003 §3.12: "Do the offending characteristics of the local PPO cohort reflect the
    … priorities of the CDRP/CSP?"; 001 §5.3 counts offences charged). Four queries."""
    from offenders.models import (
        EventKind,
        OffenceCategory,
        OffendingEvent,
        ProgrammeEpisode,
        ProgrammeKind,
    )
    from selection.models import Criterion, CriterionKind

    actor = aggregate_reader(user, as_of)
    period = period_for(actor.as_of, date_from, date_to)
    matrix = _matrix_on(actor.as_of)
    priority_ids: list[int] = []
    if matrix is not None:
        priority_ids = list(
            Criterion.objects.filter(
                version=matrix, kind=CriterionKind.PRIORITY_CRIME, category__isnull=False
            ).values_list("category_id", flat=True)
        )
    on_scheme_that_day = ProgrammeEpisode.objects.filter(
        offender_id=OuterRef("offender_id"),
        kind=ProgrammeKind.PPO,
        selected_on__lte=OuterRef("occurred_on"),
    ).filter(Q(deselected_on__isnull=True) | Q(deselected_on__gt=OuterRef("occurred_on")))
    offences = OffendingEvent.objects.filter(
        kind=EventKind.CHARGE,
        occurred_on__gte=period.first_day,
        occurred_on__lte=period.last_day,
        recorded_on__lte=actor.as_of,
        offender__in=people_for_counting(actor),
    ).filter(Exists(on_scheme_that_day))
    quarters = _quarters(period)
    aggregates: dict[str, Any] = {}
    for i, quarter in enumerate(quarters):
        within = Q(occurred_on__gte=quarter.first_day, occurred_on__lte=quarter.last_day)
        aggregates[f"n{i}"] = Count("pk", filter=within)
        aggregates[f"a{i}"] = Count("pk", filter=within & Q(category__acquisitive=True))
        aggregates[f"p{i}"] = Count("pk", filter=within & Q(category_id__in=priority_ids))
    totals = offences.aggregate(**aggregates) if aggregates else {}
    mix = tuple(
        MixPeriod(q, totals[f"n{i}"], totals[f"a{i}"], totals[f"p{i}"])
        for i, q in enumerate(quarters)
    )
    whole = MixPeriod(
        period,
        sum(m.offences for m in mix),
        sum(m.acquisitive for m in mix),
        sum(m.priority for m in mix),
    )
    by_category: dict[int | None, int] = dict(
        offences.values_list("category_id").annotate(n=Count("pk")).values_list("category_id", "n")
    )
    categories = list(OffenceCategory.objects.order_by("name").values_list("pk", "name"))
    labels = [name for pk, name in categories if by_category.get(pk)]
    counts = [by_category[pk] for pk, _ in categories if by_category.get(pk)]
    if by_category.get(None):
        labels.append("No offence category recorded")
        counts.append(by_category[None])
    table = breakdown(
        caption=f"Offences charged, committed by PPOs on the scheme from {period.label}",
        row_heading="Offence category",
        labels=labels,
        counts=counts,
        protected=for_publication,
        total_label="All offences",
        total_fixed=False,
    )
    names = dict(categories)
    return OffendingMix(
        as_of=actor.as_of,
        period=period,
        by_category=table,
        quarters=mix,
        whole_period=whole,
        priority_crimes=tuple(names[pk] for pk in priority_ids if pk in names),
        matrix_number=matrix.number if matrix is not None else None,
    )


# --- 5. Outcomes after de-selection (001 §5.6–5.9) --------------------------------------------

# 001 §5.6–5.8 reports de-registered PPOs "crime free for twelve months", "not been arrested
# since"; here: no arrest for an offence committed in the 6 (12) months from the first day
# off the scheme. A person counts towards a window only once it has wholly passed by the
# "as at" day, so the share is never flattered by people just out.
ARREST_FREE_MONTHS = (6, 12)


@dataclass(frozen=True)
class ArrestFree:
    months: int
    followed: int  # whose window had passed by the "as at" day
    arrest_free: int
    not_yet: int  # whose window had not

    @property
    def share(self) -> Decimal | None:
        return rounded(share(self.arrest_free, self.followed))


@dataclass(frozen=True)
class DeselectionOutcomes:
    as_of: dt.date
    period: Period
    exits: int
    arrest_free: tuple[ArrestFree, ...]
    reasons: Table
    exit_routes: Table
    exit_outcomes: Table


def arrest_window_ends(deselected_on: dt.date, months: int) -> dt.date:
    """The last day of the `months` after de-selection (the first day off the scheme)."""
    return add_months(deselected_on, months) - dt.timedelta(days=1)


def deselection_outcomes(
    *,
    user: Any,
    as_of: dt.date,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    for_publication: bool = False,
) -> DeselectionOutcomes:
    """Of the PPO episodes that ended in a period: who stayed arrest-free 6 and 12 months
    after, and the reasons, exit routes and exit outcomes the panel recorded. Not a
    breakdown by a personal characteristic, so exact unless for publication. Two queries."""
    from offenders.models import (
        DeselectionReason,
        EventKind,
        ExitRoute,
        OffendingEvent,
        ProgrammeEpisode,
        ProgrammeKind,
    )
    from selection.models import ExitOutcome

    from .measures.common import AddMonths

    actor = aggregate_reader(user, as_of)
    period = period_for(actor.as_of, date_from, date_to)
    day = actor.as_of
    episodes = ProgrammeEpisode.objects.filter(
        kind=ProgrammeKind.PPO,
        deselected_on__gte=period.first_day,
        deselected_on__lte=period.last_day,
        offender__in=people_for_counting(actor),
    )
    annotated = episodes.annotate(
        **{
            f"free_{months}": ~Exists(
                OffendingEvent.objects.filter(
                    offender_id=OuterRef("offender_id"),
                    kind=EventKind.ARREST,
                    occurred_on__gte=OuterRef("deselected_on"),
                    occurred_on__lt=AddMonths(OuterRef("deselected_on"), months),
                    recorded_on__lte=day,
                )
            )
            for months in ARREST_FREE_MONTHS
        }
    )
    rows = list(
        annotated.values_list(
            "deselected_on",
            "deselection_reason",
            "exit_route",
            "closed_by_decision__exit_outcome",
            *(f"free_{months}" for months in ARREST_FREE_MONTHS),
        )
    )
    arrest_free = []
    for index, months in enumerate(ARREST_FREE_MONTHS):
        followed = [r for r in rows if arrest_window_ends(r[0], months) <= day]
        arrest_free.append(
            ArrestFree(
                months=months,
                followed=len(followed),
                arrest_free=sum(bool(r[4 + index]) for r in followed),
                not_yet=len(rows) - len(followed),
            )
        )

    def table(caption: str, heading: str, position: int, choices: Any, missing: str) -> Table:
        found: dict[str, int] = {}
        for row in rows:
            found[row[position] or ""] = found.get(row[position] or "", 0) + 1
        pairs = [(str(label), found[value]) for value, label in choices if found.get(value)]
        if found.get(""):
            pairs.append((missing, found[""]))
        return breakdown(
            caption=f"{caption}, PPOs de-selected from {period.label}",
            row_heading=heading,
            labels=[label for label, _ in pairs],
            counts=[n for _, n in pairs],
            protected=for_publication,
            total_label="All de-selected",
        )

    return DeselectionOutcomes(
        as_of=day,
        period=period,
        exits=len(rows),
        arrest_free=tuple(arrest_free),
        reasons=table(
            "Reasons for de-selection", "Reason", 1, DeselectionReason.choices, "Not recorded"
        ),
        exit_routes=table("Exit routes", "Exit route", 2, ExitRoute.choices, "Not recorded"),
        exit_outcomes=table(
            "Exit outcomes recorded at the panel",
            "Outcome",
            3,
            ExitOutcome.choices,
            "None recorded",
        ),
    )
