"""The caseload: the people a user starts the day with, with this week's compliance.

A key worker: the people allocated to them (as key worker or offender manager) that are
on a tier today — PPOs, DYOs, and PPOs stepped down to IOM (their scope holds no one who
was only ever on IOM). A PPO manager or police officer: everyone on a tier today. Other
roles: everyone in their scope (their establishment, their young people, their
referrals). Compliance columns (last contact, contacts and drug tests this week, each
against the person's own tier's level) only for the roles that may read every contact
and test (`compliance.can_see_compliance`).

Filters: strand (people holding that strand, whatever others they hold), status, IOM
grade, tier (offenders.tiers: only the tiers the reader's scope can hold people on, each
with the number of people it would list given the other filters) and, for a manager,
the worker. Sorting by strands sorts by the strands as the column lists them
(alphabetically by that text; people on no strand last).

Filtering happens in the database; sorting by the computed columns happens on the
server in Python, on a list that is never paginated (a caseload is tens of people, a
whole scheme at most around a hundred, 003 §4.3). The number of queries does not
depend on the number of people.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from access import audit
from access.models import Role
from access.policy import (
    Actor,
    RecordKind,
    Scope,
    as_actor,
    records_q,
    visible_fields,
)

from .compliance import (
    ComplianceTable,
    PersonWeek,
    TierTargets,
    Week,
    allocated_q,
    can_see_compliance,
    may_log_contact_for,
    week_containing,
    weekly_compliance,
)
from .models import (
    Contact,
    ContactOutcome,
    CustodyEpisode,
    IomGrade,
    Offender,
    ProgrammeEpisode,
    Status,
    Strand,
)
from .tiers import (
    ON_A_TIER,
    TIER_FIELD,
    Tier,
    tier_choices,
    tier_counts,
    tier_options,
    tier_q,
    with_tier,
)

OFFENDER = "offenders.offender"
CUSTODY = "offenders.custodyepisode"

SORT_KEYS = (
    "need",
    "name",
    "status",
    "strand",
    "grade",
    "key_worker",
    "last_contact",
    "contacts",
    "tests",
)
COMPLIANCE_SORT_KEYS = frozenset({"need", "last_contact", "contacts", "tests"})
# The default order for a reader who sees compliance (issue 13.3): who most needs a contact.
NEED_SORT = "need"

# "Needs action" (issue 13.2): a caseload filter, and the manager's home panels that count it.
# A person counts as "no contact" after this many days without an attended contact.
NO_CONTACT_DAYS = 14
NEED_BELOW_TARGET = "below_target"
NEED_NO_CONTACT = "no_contact"
NEED_LABELS: dict[str, str] = {
    NEED_BELOW_TARGET: "Below this week's contact or drug test target",
    NEED_NO_CONTACT: f"No attended contact for {NO_CONTACT_DAYS} days or more",
}
# The needs read from this week's compliance, for the readers of compliance.
COMPLIANCE_NEEDS = (NEED_BELOW_TARGET, NEED_NO_CONTACT)
# Expected out of custody from today to this many days ahead, both included (issue 13.2).
RELEASE_SOON_DAYS = 28
NEED_RELEASE_SOON = "release_soon"
DIRECTIONS = ("asc", "desc")

# Domain orders for the categorical columns: community first; the most worrying grade first.
STATUS_ORDER: dict[str, int] = {Status.COMMUNITY: 0, Status.REMAND: 1, Status.CUSTODY: 2}
GRADE_ORDER: dict[str, int] = {
    IomGrade.RED: 0,
    IomGrade.AMBER: 1,
    IomGrade.GREEN: 2,
    IomGrade.BLUE: 3,
    "": 4,
}


@dataclass(frozen=True)
class CaseloadQuery:
    """The filters and sort order asked for, after discarding what could not be used."""

    strand: str = ""
    status: str = ""
    grade: str = ""
    tier: str = ""
    worker: int | None = None
    need: str = ""
    sort: str = "name"
    direction: str = "asc"
    ignored: tuple[str, ...] = ()

    @property
    def filtered(self) -> bool:
        return bool(
            self.strand or self.status or self.grade or self.tier or self.worker or self.need
        )

    def filter_params(self) -> dict[str, str]:
        params = {
            "strand": self.strand,
            "status": self.status,
            "grade": self.grade,
            "tier": self.tier,
        }
        params["worker"] = str(self.worker) if self.worker else ""
        params["need"] = self.need
        return {k: v for k, v in params.items() if v}


def _choice(params: Mapping[str, Any], name: str, allowed: list[str], what: str) -> tuple[str, str]:
    value = str(params.get(name, "") or "").strip()
    if not value or value in allowed:
        return value, ""
    return "", f"“{value[:40]}” is not {what}, so that filter was not applied."


# The policy field each filter and sort key reads: offered only to those who may see it.
FILTER_FIELDS = {
    "strand": "strands",
    "status": "status",
    "grade": "iom_grade",
    "tier": TIER_FIELD,
}
SORT_FIELDS = {
    "name": "full_name",
    "status": "status",
    "strand": "strands",
    "grade": "iom_grade",
    "key_worker": "key_worker",
}


def read_caseload_query(
    params: Mapping[str, Any],
    *,
    shows_compliance: bool,
    worker_filter: bool,
    fields: frozenset[str],
    tiers: list[str] | None = None,
    needs: Mapping[str, str] | None = None,
) -> CaseloadQuery:
    """The caseload options from a query string. Unknown values, and filters or sort keys
    on fields the viewer may not see (`fields`, from the policy), are dropped with a
    message the person can read; nothing here raises. `tiers`: the tier filters this
    viewer is offered (offenders.tiers.tier_choices); `needs`: the "needs action" filters
    it is offered (`needs_offered`; by default the compliance ones, to a reader of them)."""
    ignored: list[str] = []
    chosen: dict[str, str] = {}
    for name, allowed, what in (
        ("strand", Strand.values, "a strand"),
        ("status", Status.values, "a status"),
        ("grade", IomGrade.values, "an IOM grade"),
        ("tier", list(tiers or []), "a tier you can filter this list by"),
    ):
        if FILTER_FIELDS[name] not in fields:
            if str(params.get(name, "") or "").strip():
                ignored.append("That filter is not available to you, so it was not applied.")
            chosen[name] = ""
            continue
        chosen[name], problem = _choice(params, name, allowed, what)
        ignored += [problem] if problem else []
    strand, status, grade, tier = (chosen[k] for k in ("strand", "status", "grade", "tier"))

    worker: int | None = None
    worker_text = str(params.get("worker", "") or "").strip()
    if worker_text:
        if not worker_filter:
            ignored.append("Filtering by worker is for PPO managers, so it was not applied.")
        elif worker_text.isdigit():
            worker = int(worker_text)
        else:
            ignored.append(f"“{worker_text[:40]}” is not a worker, so that filter was not applied.")

    if needs is None:
        needs = needs_offered(shows_compliance, {})
    need = str(params.get("need", "") or "").strip()
    if need and not needs:
        ignored.append("That filter is not available to you, so it was not applied.")
        need = ""
    elif need and need not in needs:
        ignored.append(f"“{need[:40]}” is not a need we can list, so that filter was not applied.")
        need = ""

    # Issue 13.3: by need (who most needs a contact first) for a reader of compliance.
    default_sort = NEED_SORT if shows_compliance else "name"
    default_label = "need" if shows_compliance else "name"
    sort = str(params.get("sort", "") or "").strip() or default_sort
    if (
        sort not in SORT_KEYS
        or (sort in COMPLIANCE_SORT_KEYS and not shows_compliance)
        or (sort in SORT_FIELDS and SORT_FIELDS[sort] not in fields)
    ):
        ignored.append(
            f"The list cannot be sorted by “{sort[:40]}”, so it is sorted by {default_label}."
        )
        sort = default_sort
    direction = str(params.get("dir", "") or "").strip() or "asc"
    if direction not in DIRECTIONS:
        ignored.append(
            f"“{direction[:40]}” is not a sort direction (use asc or desc), "
            "so the list is in ascending order."
        )
        direction = "asc"
    return CaseloadQuery(
        strand=strand,
        status=status,
        grade=grade,
        tier=tier,
        worker=worker,
        need=need,
        sort=sort,
        direction=direction,
        ignored=tuple(ignored),
    )


@dataclass
class CaseloadRow:
    offender: Offender
    days_since_contact: int | None = None
    this_week: PersonWeek | None = None
    can_log_contact: bool = False
    # Why a set-based "needs action" filter lists this row (NeedRule), shown beside it.
    need_note: str = ""
    # Display text worked out once per row when the row is built (issue 15: a template
    # lookup or filter per cell of a few hundred rows was most of the page's time).
    strand_labels: list[str] = field(default_factory=list)
    key_worker_name: str = ""
    date_of_birth_shown: str = ""

    @property
    def last_contact_shown(self) -> str:
        days = self.days_since_contact
        if days is None:
            return "No contact"
        if days == 0:
            return "Today"
        return "1 day ago" if days == 1 else f"{days} days ago"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    sortable: bool = False
    numeric: bool = False
    aria_sort: str = ""
    href: str = ""


@dataclass
class Caseload:
    actor: Actor
    as_of: dt.date
    query: CaseloadQuery
    rows: list[CaseloadRow]
    shows_compliance: bool
    week: Week
    # Each tier's weekly level, for the tiers this list can hold (compliance.tier_targets).
    targets: list[TierTargets] = field(default_factory=list)
    worker_choices: list[tuple[int, str]] = field(default_factory=list)
    # The tier filters offered, and how many people each would list (under "": all).
    tier_choices: list[Tier] = field(default_factory=list)
    tier_counts: dict[str, int] = field(default_factory=dict)
    columns: list[Column] = field(default_factory=list)
    # The policy's field sets for this viewer: every column, filter and sort key follows them.
    fields: frozenset[str] = frozenset()
    custody_fields: frozenset[str] = frozenset()
    # The "needs action" filters this reader may use, and their set-based rules.
    needs: dict[str, str] = field(default_factory=dict)
    need_rules: dict[str, NeedRule] = field(default_factory=dict)

    @property
    def shows_actions(self) -> bool:
        return any(row.can_log_contact for row in self.rows)

    @property
    def offenders(self) -> list[Offender]:
        return [row.offender for row in self.rows]

    @property
    def shows_worker_filter(self) -> bool:
        return self.actor.role == Role.PPO_MANAGER

    @property
    def shows_key_worker(self) -> bool:
        return self.actor.role != Role.KEY_WORKER and "key_worker" in self.fields

    @property
    def shows_pnc(self) -> bool:
        return "pnc_id" in self.fields

    @property
    def shows_tier(self) -> bool:
        return TIER_FIELD in self.fields

    @property
    def need_label(self) -> str:
        return self.needs.get(self.query.need, "")

    @property
    def need_choices(self) -> list[tuple[str, str]]:
        return list(self.needs.items())

    @property
    def by_need_href(self) -> str:
        """The list in its default order (by need), keeping the filters; "" if not offered."""
        if not self.shows_compliance:
            return ""
        return f"?{urlencode({**self.query.filter_params(), 'sort': NEED_SORT, 'dir': 'asc'})}"

    @property
    def tier_label(self) -> str:
        return Tier(self.query.tier).label if self.query.tier else ""

    @property
    def filters(self) -> list[tuple[str, str, str, list[tuple[str, str]], str]]:
        """(name, label, "all" option, choices, chosen) of each filter this viewer may use."""
        (_, all_tiers), *tiers = tier_options(self.tier_choices, self.tier_counts)
        every = [
            ("tier", "Tier", all_tiers, tiers),
            ("strand", "Strand", "All strands", list(Strand.choices)),
            ("status", "Status", "All statuses", list(Status.choices)),
            (
                "grade",
                "IOM grade",
                "All grades",
                [(value, value.capitalize()) for value in IomGrade.values],
            ),
        ]
        return [
            (name, label, everything, choices, str(getattr(self.query, name)))
            for name, label, everything, choices in every
            if FILTER_FIELDS[name] in self.fields and (name != "tier" or self.tier_choices)
        ]


def caseload_people(actor: Actor) -> Any:
    """The people on a user's caseload today, before any filter (see the module docstring)."""
    from .selectors import offender_list

    qs = offender_list(user=actor)
    if not holds_only_people_on_a_tier(actor):
        return qs
    # On a tier today: PPO, IOM or DYO (at most one at a time). Read as a list of ids
    # first (a scheme's few hundred at most, 003 §4.3): PostgreSQL then counts exactly
    # how few people every query of the caseload is about and reads them by index,
    # where a subquery left it expecting to do better by reading all 50,000 (issue 15).
    on_scheme = list(
        ProgrammeEpisode.objects.open_on(actor.as_of)
        .order_by()
        .values_list("offender_id", flat=True)
        .distinct()
    )
    if actor.role == Role.KEY_WORKER:
        qs = qs.filter(allocated_q(actor), pk__in=on_scheme)
    elif actor.scope is Scope.EVERYONE:
        qs = qs.filter(pk__in=on_scheme)
    return qs


def holds_only_people_on_a_tier(actor: Actor) -> bool:
    """Whether `caseload_people` keeps only people on a tier today (see its docstring)."""
    return actor.role == Role.KEY_WORKER or actor.scope is Scope.EVERYONE


def _worker_choices(people: Any) -> list[tuple[int, str]]:
    """Everyone allocated to someone in `people` (as key worker or offender manager).

    The ids of the allocated workers, as one UNION the users are looked up in: joining
    users to people twice and taking DISTINCT made PostgreSQL expect ~100M rows for a
    few hundred (and compile it with JIT on every manager's caseload, issue 15)."""
    allocated = (
        people.order_by()
        .filter(key_worker_id__isnull=False)
        .values("key_worker_id")
        .union(
            people.order_by()
            .filter(offender_manager_id__isnull=False)
            .values("offender_manager_id")
        )
    )
    users = (
        get_user_model()
        .objects.filter(pk__in=allocated)
        .only("pk", "username", "first_name", "last_name")
        .order_by("last_name", "first_name", "pk")
    )
    return [(u.pk, u.get_full_name() or u.get_username()) for u in users]


def _short_date(day: dt.date | None) -> str:
    """A day as the template filter `date:"j M Y"` shows it: 3 Jan 1990."""
    return f"{day.day} {day:%b %Y}" if day else ""


def _worker_name(user: Any) -> str:
    return f"{user.last_name} {user.first_name}".strip().lower() if user else ""


def _name_key(row: CaseloadRow) -> tuple[str, str, int]:
    o = row.offender
    return (o.last_name.lower(), o.first_name.lower(), o.pk)


def _measure_key(which: str) -> Callable[[CaseloadRow], int | None]:
    def key(row: CaseloadRow) -> int | None:
        if row.this_week is None:
            return None
        measure = getattr(row.this_week, which)
        return measure.done if measure.applies else None

    return key


def _last_contact_key(row: CaseloadRow) -> float:
    # Never contacted sorts as the longest time since contact.
    return float("inf") if row.days_since_contact is None else row.days_since_contact


def contacts_short(row: CaseloadRow) -> int | None:
    """How many attended contacts this person is short of this week's target, or None
    when no contact target applies (in custody, on no tier, compliance not shown)."""
    if row.this_week is None or not row.this_week.contacts.applies:
        return None
    measure = row.this_week.contacts
    return max((measure.target or 0) - measure.done, 0)


def _need_key(row: CaseloadRow) -> tuple[int, float] | None:
    # Ascending = most need first: furthest below this week's contact target, then
    # longest since the last attended contact (never contacted: longest of all).
    short = contacts_short(row)
    if short is None:
        return None
    return (-short, -_last_contact_key(row))


def needs(row: CaseloadRow, need: str) -> bool:
    """Whether a caseload row is one the "needs action" filter `need` lists. The home
    page's panels count the rows this keeps, so a count and its list always agree."""
    if row.this_week is None:
        return False
    if need == NEED_BELOW_TARGET:
        return row.this_week.below_target
    if need == NEED_NO_CONTACT:
        if not row.this_week.contacts.applies:
            return False
        days = row.days_since_contact
        return days is None or days >= NO_CONTACT_DAYS
    return True


@dataclass(frozen=True)
class NeedRule:
    """A "needs action" filter decided for the listed people at once, in a fixed number
    of queries, rather than from a row's compliance: `people(actor, ids)` gives those of
    `ids` who need it, each with a note saying why ("Expected release 3 July 2026"),
    read through the policy. `offered(actor)`: whether this reader may use it at all.

    A screen above offenders adds its own (ppo_case.home: arrests and charges since the
    last conference), since offenders may not read conferences (STYLE.md rule 11)."""

    label: str
    column: str
    offered: Callable[[Actor], bool]
    people: Callable[[Actor, list[int]], dict[int, str]]


def _reads_release_dates(actor: Actor) -> bool:
    return "expected_release_on" in visible_fields(actor, RecordKind.CUSTODY)


def releases_soon(actor: Actor, offender_ids: list[int]) -> dict[int, str]:
    """Of `offender_ids`, those in custody today (an open episode the reader may read)
    expected out within RELEASE_SOON_DAYS days, today and that day included, with the
    date. One query. A partner sees the date of their people, as the policy lets them."""
    until = actor.as_of + dt.timedelta(days=RELEASE_SOON_DAYS)
    rows = (
        CustodyEpisode.objects.filter(records_q(actor, RecordKind.CUSTODY, CUSTODY))
        .filter(offender_id__in=offender_ids)
        .open_on(actor.as_of)
        .filter(expected_release_on__gte=actor.as_of, expected_release_on__lte=until)
        .order_by("offender_id", "-expected_release_on")
        .values_list("offender_id", "expected_release_on")
    )
    # The soonest, should two episodes be open at once (ordered so the last one wins).
    return {pk: f"{day.day} {day:%B %Y}" for pk, day in rows if day is not None}


NEED_RULES: dict[str, NeedRule] = {
    NEED_RELEASE_SOON: NeedRule(
        label=f"Due for release in the next {RELEASE_SOON_DAYS} days",
        column="Expected release",
        offered=_reads_release_dates,
        people=releases_soon,
    ),
}


def need_rules(actor: Actor, extra: Mapping[str, NeedRule] | None = None) -> dict[str, NeedRule]:
    """The set-based needs this reader may use: offenders' own and the caller's `extra`."""
    return {
        key: rule for key, rule in {**NEED_RULES, **(extra or {})}.items() if rule.offered(actor)
    }


def needs_offered(shows_compliance: bool, rules: Mapping[str, NeedRule]) -> dict[str, str]:
    """Every "needs action" filter this reader may use, and its label, in panel order."""
    offered = {need: NEED_LABELS[need] for need in COMPLIANCE_NEEDS} if shows_compliance else {}
    return {**offered, **{key: rule.label for key, rule in rules.items()}}


def rows_needing(
    rows: list[CaseloadRow],
    need: str,
    *,
    actor: Actor | None = None,
    rules: Mapping[str, NeedRule] | None = None,
) -> list[CaseloadRow]:
    """The rows the "needs action" filter `need` lists: the caseload filters with this
    and the manager's home counts with it, so a count always equals its list. A rule of
    `rules` asks the database (the rows it keeps carry its note); the compliance needs
    read each row."""
    if not need:
        return list(rows)
    rule = (rules or {}).get(need)
    if rule is None:
        return [row for row in rows if needs(row, need)]
    if actor is None:
        raise ValueError(f"the need {need!r} is read for a reader: pass actor")
    notes = rule.people(actor, [row.offender.pk for row in rows]) if rows else {}
    return [
        replace(row, need_note=notes[row.offender.pk]) for row in rows if row.offender.pk in notes
    ]


SORTERS: dict[str, Callable[[CaseloadRow], Any]] = {
    "need": _need_key,
    "name": _name_key,
    "status": lambda row: STATUS_ORDER.get(getattr(row.offender, "current_status", ""), 9),
    # By the strands as the column lists them; nobody on a strand comes last.
    "strand": lambda row: ", ".join(row.strand_labels) or None,
    "grade": lambda row: GRADE_ORDER.get(row.offender.iom_grade, 9),
    "key_worker": lambda row: _worker_name(row.offender.key_worker) or None,
    "last_contact": _last_contact_key,
    "contacts": _measure_key("contacts"),
    "tests": _measure_key("drug_tests"),
}


def sort_rows(rows: list[CaseloadRow], sort: str, direction: str) -> list[CaseloadRow]:
    """Rows by `sort`, ties by name; rows where the value is not applicable come last
    in either direction."""
    key = SORTERS[sort]
    by_name = sorted(rows, key=_name_key)
    present = [row for row in by_name if key(row) is not None]
    missing = [row for row in by_name if key(row) is None]
    # sorted() is stable in both directions, so ties keep the name order.
    return sorted(present, key=key, reverse=direction == "desc") + missing


def _columns(caseload: Caseload) -> list[Column]:
    query = caseload.query
    fields = caseload.fields
    spec: list[tuple[str, str, bool, bool]] = [("name", "Name", True, False)]
    if caseload.shows_actions:
        # Issue 13.3: "Log contact" beside the name, reachable without scrolling sideways.
        spec.append(("actions", "Actions", False, False))
    if "pnc_id" not in fields and "date_of_birth" in fields:
        # Without a PNC ID to tell namesakes apart, the date of birth does.
        spec.append(("date_of_birth", "Date of birth", False, False))
    if "status" in fields:
        spec.append(("status", "Status", True, False))
    elif "in_custody" in caseload.custody_fields:
        spec.append(("in_custody", "In custody", False, False))
    if caseload.shows_tier:
        spec.append(("tier", "Tier", False, False))
    if "strands" in fields:
        spec.append(("strand", "Strands", True, False))
    if "iom_grade" in fields:
        spec.append(("grade", "IOM grade", True, False))
    if caseload.shows_key_worker:
        spec.append(("key_worker", "Key worker", True, False))
    if caseload.shows_compliance:
        spec += [
            ("last_contact", "Last contact", True, False),
            ("contacts", "Contacts this week", True, False),
            ("tests", "Drug tests this week", True, False),
        ]
    columns = []
    for key, label, sortable, numeric in spec:
        if not sortable:
            columns.append(Column(key, label, numeric=numeric))
            continue
        active = query.sort == key
        aria = ("ascending" if query.direction == "asc" else "descending") if active else "none"
        next_direction = "desc" if active and query.direction == "asc" else "asc"
        params = {**query.filter_params(), "sort": key, "dir": next_direction}
        columns.append(Column(key, label, True, numeric, aria, f"?{urlencode(params)}"))
    return columns


def caseload_page(
    *,
    user: Any,
    as_of: dt.date | None = None,
    params: Mapping[str, Any] | None = None,
    extra_needs: Mapping[str, NeedRule] | None = None,
    audited: bool = True,
) -> Caseload:
    """The caseload as one page: filtered, sorted and with this week's compliance.
    `extra_needs`: "needs action" filters a screen above offenders adds (`NeedRule`).

    The rows returned are audited as one consultation (all their ids in one row), unless
    `audited` is False: for a caller that shows only counts of them, naming nobody.
    """
    actor = as_actor(user, as_of)
    shows_compliance = can_see_compliance(actor)
    worker_filter = actor.role == Role.PPO_MANAGER
    fields = visible_fields(actor, RecordKind.IDENTITY)
    tiers = tier_choices(actor, on_a_tier_only=holds_only_people_on_a_tier(actor))
    rules = need_rules(actor, extra_needs)
    offered_needs = needs_offered(shows_compliance, rules)
    query = read_caseload_query(
        params or {},
        shows_compliance=shows_compliance,
        worker_filter=worker_filter,
        fields=fields,
        tiers=[t.value for t in tiers],
        needs=offered_needs,
    )
    people = caseload_people(actor)
    worker_choices = _worker_choices(people) if worker_filter else []
    if query.worker is not None and query.worker not in {pk for pk, _ in worker_choices}:
        query = replace(
            query,
            worker=None,
            ignored=(
                *query.ignored,
                "Nobody on the scheme is allocated to that worker, so that filter was not applied.",
            ),
        )

    if query.strand:
        # Holding that strand, whatever others they hold; one row per (person, strand).
        people = people.filter(strands__strand=query.strand)
    if query.status:
        people = people.filter(current_status=query.status)
    if query.grade:
        people = people.filter(iom_grade=query.grade)
    if query.worker is not None:
        people = people.filter(Q(key_worker_id=query.worker) | Q(offender_manager_id=query.worker))
    # Each tier's count is of the people the other filters leave, so choosing it lists
    # exactly that many.
    counts = tier_counts(people, tiers, actor.as_of) if tiers else {}
    if query.tier:
        people = people.filter(tier_q(query.tier, actor.as_of))
    people = people.prefetch_related("strands")
    if TIER_FIELD in fields:
        people = with_tier(people, actor.as_of)

    week = week_containing(actor.as_of)
    table: ComplianceTable | None = None
    if shows_compliance:
        last_attended = (
            Contact.objects.filter(records_q(actor, RecordKind.CONTACTS, "offenders.contact"))
            .filter(
                offender=OuterRef("pk"),
                outcome=ContactOutcome.ATTENDED,
                occurred_at__lt=week.ends_at,
            )
            .order_by("-occurred_at")
            .values("occurred_at")[:1]
        )
        people = people.annotate(last_contact_at=Subquery(last_attended))
    offenders = list(people)
    if shows_compliance:
        table = weekly_compliance(
            user=actor, as_of=actor.as_of, offender_ids=[o.pk for o in offenders]
        )

    # "Log contact" straight from a row: whom the user may log a contact for, in one query.
    loggable = may_log_contact_for(actor, [o.pk for o in offenders])

    zone = timezone.get_default_timezone()
    rows = []
    for offender in offenders:
        key_worker = offender.key_worker
        row = CaseloadRow(
            offender=offender,
            can_log_contact=offender.pk in loggable,
            strand_labels=offender.strand_labels,
            key_worker_name=key_worker.get_full_name() if key_worker else "",
            date_of_birth_shown=_short_date(offender.date_of_birth),
        )
        if table is not None:
            last = offender.last_contact_at
            if last is not None:
                row.days_since_contact = (actor.as_of - timezone.localtime(last, zone).date()).days
            row.this_week = table.get(offender.pk, week)
        rows.append(row)
    rows = sort_rows(
        rows_needing(rows, query.need, actor=actor, rules=rules), query.sort, query.direction
    )

    # The levels the rows are measured against: the chosen tier's, or every tier's.
    shown_tiers = [query.tier] if query.tier in ON_A_TIER else list(ON_A_TIER)
    if audited:
        audit.consulted(
            actor,
            OFFENDER,
            [row.offender for row in rows],
            view="caseload",
            filters=query.filter_params(),
            sort=f"{query.sort} {query.direction}",
        )
    caseload = Caseload(
        actor=actor,
        as_of=actor.as_of,
        query=query,
        rows=rows,
        shows_compliance=shows_compliance,
        week=week,
        targets=[table.targets[t] for t in shown_tiers] if table else [],
        worker_choices=worker_choices,
        tier_choices=tiers,
        tier_counts=counts,
        fields=fields,
        custody_fields=visible_fields(actor, RecordKind.CUSTODY),
        needs=offered_needs,
        need_rules=rules,
    )
    caseload.columns = _columns(caseload)
    if query.need in rules:
        # Why each row is listed, beside the name and its actions.
        at = sum(1 for c in caseload.columns if c.key in ("name", "actions"))
        caseload.columns.insert(at, Column("need_note", rules[query.need].column))
    return caseload
