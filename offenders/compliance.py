"""Premium-service compliance: contacts and drug tests made each week against the targets.

001 §3.2 (the Stockton "Premium Service Protocol"): each PPO has four contacts a week
(§3.2b) and, if on licence, twice-weekly drug testing (§3.2f). Each tier has its own
level (DESIGN.md rule 7: IOM is a tier with its own contact level, 003 §4.6 "a less
intensive management regime"; DYOs are on the intensive Scaled Approach, 003 §7.4), all
of them the scheme's settings (`access.models.Scheme`; `tier_targets` reads them).

The rules, decided here once and used by the caseload, the compliance page and any
later agenda:

* **Weeks** run Monday to Sunday in Europe/London local dates. A contact belongs to
  the week of its *local* date: 23:30 on a Sunday in BST is 22:30 UTC and still that
  Sunday's week; 00:00 local on a Monday starts the new week. The boundaries are
  computed in Python as local midnights (`local_midnight`), so the databases compare
  aware datetimes and never have to truncate dates in a time zone.
* **What counts as a contact**: only a contact whose outcome is "attended". A failed
  attendance is not a contact made. An acceptable absence (ContactOutcome.EXCUSED) is
  not a contact made either — it excuses the person, it does not supervise them — but
  it is counted and shown next to the figure so the conference can take it into
  account (001 §3.2b: "reviewed by Conference"). Every kind of contact (office, home
  visit, phone, prison visit, report centre, outreach) and every agency's contact counts.
* **Drug tests**: every test taken counts whatever its result (a refusal or an invalid
  sample is still a test attempted and recorded); the target applies only to people
  on licence (`Offender.supervision == "licence"`, 001 §3.2f). Supervision has no
  history in the record, so today's value applies to every week.
* **Who is assessed in a week, and against which level**: a person on a tier (PPO, IOM
  or DYO) on at least one day of the week and not in custody (remand or sentence) on
  every day of it, against the level of the tier they were on last in the week (a PPO
  stepped down to IOM on Wednesday is measured against the IOM level that week: the
  tier the caseload shows them on). Someone in custody for the whole week cannot be
  seen in the community, so the community contact target does not apply ("n/a"). A
  part week (selected, released or remanded mid-week) is assessed against the full
  target. A tier's level of 0 sets no target for it ("n/a").
* **A person's own level** (001 §3.2b: the level is "reviewed by Conference";
  `offenders.ContactLevel`, set with `contact_levels.contact_level_set`) replaces their
  tier's contacts and drug-test figures in a week when one is in force **on that week's
  Monday** (`level_in_week`): a level set mid-week applies from the next Monday. It
  belongs to the tier spell it was set in and lapses when the person changes tier. The
  drug-test figure still applies only to people on licence (001 §3.2f), and an own level
  of 0 sets no target ("n/a").
* **The week in progress** is observed up to `as_of`: contacts after the end of that
  day are not counted, and "the whole week" for custody means Monday to `as_of`.
  Scheme-wide figures use complete weeks only (the N weeks before the current one).
* **Who may see it**: only roles that may read *every* contact and drug test of a
  person, whoever recorded them (ACCESS.md: PPO manager, key worker, police, YOT).
  Prison staff and partners read only their own agency's contacts, so a compliance
  figure built from what they can see would be misleading; they are refused.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import Count, DateField, F, Lookup, Q, QuerySet
from django.db.models.functions import TruncWeek
from django.utils import timezone

from access import audit
from access.errors import NotPermitted
from access.models import Role, Scheme
from access.policy import (
    Actor,
    RecordKind,
    Rows,
    as_actor,
    grant,
    may_write_kind,
    people_q,
    records_q,
)
from access.policy import people as people_in_scope

from . import standards
from .models import (
    Contact,
    ContactLevel,
    ContactOutcome,
    CustodyEpisode,
    DrugTest,
    Offender,
    ProgrammeEpisode,
    ProgrammeKind,
    Supervision,
)

OFFENDER = "offenders.offender"
ONE_DAY = dt.timedelta(days=1)
TIERS = (ProgrammeKind.PPO, ProgrammeKind.IOM, ProgrammeKind.DYO)

# The scheme-wide figures: the last month and the last quarter of complete weeks.
SCHEME_PERIODS_WEEKS = (4, 13)


# --- Red / amber / green -------------------------------------------------------------------


class Rag(enum.StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"

    @property
    def label(self) -> str:
        # In words, never colour alone (WCAG 1.4.1, shared/UI.md "Accessibility").
        return {
            Rag.GREEN: "Green – target met",
            Rag.AMBER: "Amber – half or more",
            Rag.RED: "Red – below half",
        }[self]

    @property
    def tag_class(self) -> str:
        # GOV.UK tags have no amber: orange stands in for it (shared/UI.md).
        return {
            Rag.GREEN: "govuk-tag--green",
            Rag.AMBER: "govuk-tag--orange",
            Rag.RED: "govuk-tag--red",
        }[self]

    @property
    def severity(self) -> int:
        return {Rag.RED: 0, Rag.AMBER: 1, Rag.GREEN: 2}[self]


def rag_for(done: int, target: int) -> Rag:
    """The red/amber/green rating of `done` against a weekly `target` (001 §3.2).

    001 §3.2b sets four contacts a week and §3.2f twice-weekly drug tests for licensees;
    the guidance gives no rating, so the scheme's is:

    * **green** — the target is met: `done >= target` (4 of 4, or more);
    * **amber** — at least half of the target: `2 * done >= target` (2 or 3 of 4;
      1 of 2; 2 of 3 — half is rounded up);
    * **red** — below half (0 or 1 of 4; 0 of 2).

    The one definition of the rating: the caseload, the compliance page and anything
    else that rates compliance call this. A target of 0 asks for nothing and is met.
    """
    if done >= target:
        return Rag.GREEN
    if 2 * done >= target:
        return Rag.AMBER
    return Rag.RED


# --- Weeks ----------------------------------------------------------------------------------


def local_midnight(day: dt.date) -> dt.datetime:
    """The start of `day` in the scheme's time zone (Europe/London), as an aware datetime.

    UK clocks change at 01:00 UTC, so local midnight always exists and is never ambiguous.
    """
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_default_timezone())


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def week_start_of(moment: dt.datetime) -> dt.date:
    """The Monday of the week an aware datetime belongs to, by its Europe/London local date."""
    local_day = timezone.localtime(moment, timezone.get_default_timezone()).date()
    return monday_of(local_day)


@dataclass(frozen=True)
class Week:
    """A Monday–Sunday week of local dates, observed up to `last_day` (Sunday when complete)."""

    start: dt.date
    last_day: dt.date

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=6)

    @property
    def complete(self) -> bool:
        return self.last_day >= self.end

    @property
    def starts_at(self) -> dt.datetime:
        return local_midnight(self.start)

    @property
    def ends_at(self) -> dt.datetime:
        """The first moment after the observed part of the week (exclusive)."""
        return local_midnight(self.last_day + ONE_DAY)

    def days(self) -> list[dt.date]:
        return [
            self.start + dt.timedelta(days=n) for n in range((self.last_day - self.start).days + 1)
        ]


def week_containing(as_of: dt.date) -> Week:
    """The week `as_of` falls in, observed up to `as_of` itself."""
    start = monday_of(as_of)
    return Week(start=start, last_day=min(as_of, start + dt.timedelta(days=6)))


def complete_weeks_before(as_of: dt.date, count: int) -> list[Week]:
    """The `count` complete weeks before the week containing `as_of`, oldest first."""
    this_monday = monday_of(as_of)
    return [
        Week(start=start, last_day=start + dt.timedelta(days=6))
        for start in (this_monday - dt.timedelta(weeks=n) for n in range(count, 0, -1))
    ]


# --- Each tier's level ------------------------------------------------------------------------


@dataclass(frozen=True)
class TierTargets:
    """A tier's weekly level: attended contacts, and drug tests for people on licence."""

    tier: str
    contacts: int
    drug_tests: int

    @property
    def label(self) -> str:
        return str(ProgrammeKind(self.tier).label)


def tier_targets(scheme: Scheme) -> dict[str, TierTargets]:
    """Each tier's level from the scheme's settings: the one place they are read."""
    return {
        ProgrammeKind.PPO: TierTargets(
            ProgrammeKind.PPO, scheme.contact_target_per_week, scheme.drug_test_target_per_week
        ),
        ProgrammeKind.IOM: TierTargets(
            ProgrammeKind.IOM,
            scheme.iom_contact_target_per_week,
            scheme.iom_drug_test_target_per_week,
        ),
        ProgrammeKind.DYO: TierTargets(
            ProgrammeKind.DYO,
            scheme.dyo_contact_target_per_week,
            scheme.dyo_drug_test_target_per_week,
        ),
    }


# --- Who may see it, and whose people ------------------------------------------------------


def can_see_compliance(actor: Actor) -> bool:
    """Only roles that read every contact and drug test of their people, whoever made them.

    Derived from the policy table rather than listed, so a change there carries over:
    today that is the PPO manager, key worker, police officer and YOT worker. Prison
    staff and partners see only their own agency's contacts (ACCESS.md), and a figure
    built from part of the record would be wrong, so they do not get one.
    """
    contacts = grant(actor, RecordKind.CONTACTS)
    tests = grant(actor, RecordKind.DRUG_TESTS)
    custody = grant(actor, RecordKind.CUSTODY)
    return (
        contacts.can_read
        and contacts.rows is Rows.ALL
        and tests.can_count
        and tests.rows is Rows.ALL
        and tests.agency_kinds is None
        and custody.can_read
    )


def allocated_q(actor: Actor, prefix: str = "") -> Q:
    """The people an actor works with day to day, within their scope.

    A key worker: those allocated to them as key worker or offender manager. Everyone
    else: no narrowing (the scope of their role is the limit). `prefix` applies it
    through a relation ("offender__").
    """
    if actor.role == Role.KEY_WORKER:
        return Q(**{f"{prefix}key_worker": actor.user}) | Q(
            **{f"{prefix}offender_manager": actor.user}
        )
    return Q()


class _AnyOf(Lookup):  # type: ignore[type-arg]
    """`column = ANY(%s)`: a list of ids as one array parameter (PostgreSQL), rather than
    an `IN` of one parameter per person for Django to prepare and psycopg to compose."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        lhs, params = self.process_lhs(compiler, connection)
        array = "{" + ",".join(str(int(value)) for value in self.rhs) + "}"
        return f"{lhs} = ANY(%s::bigint[])", [*params, array]


def _among(field: str, ids: Collection[int]) -> Q:
    """`field` is one of `ids`: one array parameter on PostgreSQL, an `IN` elsewhere."""
    if connection.vendor == "postgresql":
        return Q(_AnyOf(F(field), list(ids)))
    return Q(**{f"{field}__in": list(ids)})


def _require(actor: Actor) -> None:
    if not can_see_compliance(actor):
        raise NotPermitted(
            "Compliance figures are for PPO managers, key workers, police officers and "
            "YOT workers: your role sees only part of the contacts and drug tests."
        )


# --- Per person, per week -------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    """What was done in a week against a target; `target` None means not applicable."""

    done: int
    target: int | None
    not_applicable_because: str = ""

    @property
    def applies(self) -> bool:
        return self.target is not None

    @property
    def rag(self) -> Rag | None:
        return rag_for(self.done, self.target) if self.target is not None else None

    @property
    def met(self) -> bool:
        return self.target is not None and self.done >= self.target

    @property
    def shown(self) -> str:
        return f"{self.done} of {self.target}" if self.target is not None else "n/a"


@dataclass(frozen=True)
class PersonWeek:
    offender_id: int
    week: Week
    contacts: Measure
    drug_tests: Measure
    excused: int = 0  # acceptable absences: shown, not counted
    failed: int = 0  # failed to attend: shown, not counted
    tier: str = ""  # the tier whose level applied ("" when on none this week)
    level: Level | None = None  # the level measured against: the person's own or the tier's

    @property
    def below_target(self) -> bool:
        return (self.contacts.applies and not self.contacts.met) or (
            self.drug_tests.applies and not self.drug_tests.met
        )

    @property
    def worst_rag(self) -> Rag | None:
        rags = [r for r in (self.contacts.rag, self.drug_tests.rag) if r is not None]
        return min(rags, key=lambda r: r.severity) if rags else None


@dataclass
class ComplianceTable:
    """Per person and week; `weeks` oldest first, the week in progress last if included."""

    as_of: dt.date
    weeks: list[Week]
    targets: dict[str, TierTargets]
    by_person: dict[int, dict[dt.date, PersonWeek]] = field(default_factory=dict)

    def get(self, offender_id: int, week: Week) -> PersonWeek | None:
        return self.by_person.get(offender_id, {}).get(week.start)


def _merged_spells(
    intervals: Iterable[tuple[dt.date, dt.date | None]],
) -> list[tuple[dt.date, dt.date | None]]:
    """[start, end) intervals of days (end None = open) merged where they overlap or touch,
    oldest first: a run of days is covered by the intervals when one merged interval holds
    it all."""
    merged: list[tuple[dt.date, dt.date | None]] = []
    for start, end in sorted(intervals, key=lambda span: span[0]):
        if merged:
            last_start, last_end = merged[-1]
            if last_end is None or start <= last_end:
                merged[-1] = (
                    last_start,
                    None if last_end is None or end is None else max(last_end, end),
                )
                continue
        merged.append((start, end))
    return merged


def _covers(merged: list[tuple[dt.date, dt.date | None]], first: dt.date, last: dt.date) -> bool:
    """Is every day from `first` to `last` inside the `_merged_spells` intervals?"""
    return any(start <= first and (end is None or last < end) for start, end in merged)


def tier_spell_in_week(
    spells: Iterable[tuple[str, dt.date, dt.date | None]], week: Week
) -> tuple[str, dt.date] | None:
    """The tier held last in a week and the day that spell on it began, or None."""
    held = [
        (start, kind)
        for kind, start, end in spells
        if start <= week.last_day and (end is None or end > week.start)
    ]
    if not held:
        return None
    start, kind = max(held)
    return kind, start


def tier_in_week(spells: Iterable[tuple[str, dt.date, dt.date | None]], week: Week) -> str:
    """The tier whose level applies to a week: the one held last in it (by the latest
    start among the spells overlapping it; a person is on one tier at a time), or ""."""
    spell = tier_spell_in_week(spells, week)
    return spell[0] if spell else ""


# --- Each person's own level (001 §3.2b "reviewed by Conference") ----------------------------


@dataclass(frozen=True)
class OwnLevel:
    """One row of a person's ContactLevel history, as the measuring code needs it."""

    pk: int
    starts_on: dt.date
    contacts: int
    drug_tests: int


@dataclass(frozen=True)
class Level:
    """The level a person is measured against: their own (`own`), or their tier's."""

    tier: str
    contacts: int
    drug_tests: int
    own: OwnLevel | None = None

    @property
    def is_own(self) -> bool:
        return self.own is not None

    @property
    def source(self) -> str:
        if self.own is not None:
            return "Set for this person"
        return f"The level for {_tier_words(self.tier)}"


def own_level_in_force(
    history: Iterable[OwnLevel], *, spell_start: dt.date, day: dt.date
) -> OwnLevel | None:
    """The person's own level in force on `day` within their tier spell that began on
    `spell_start`: the latest row (by start, then by when it was recorded) starting on or
    before `day` and not before the spell.

    A level belongs to the spell it was set in: a PPO's own level lapses when they are
    stepped down to IOM or leave, and the new tier's level applies until one is set for
    it (contact_level_set refuses a start before the person's current tier spell).
    """
    found = None
    for row in history:
        if spell_start <= row.starts_on <= day and (
            found is None or (row.starts_on, row.pk) > (found.starts_on, found.pk)
        ):
            found = row
    return found


def level_in_week(
    spells: Iterable[tuple[str, dt.date, dt.date | None]],
    history: Iterable[OwnLevel],
    week: Week,
    targets: dict[str, TierTargets],
) -> Level | None:
    """The level a week is measured against, or None when not on a tier that week.

    The tier is the one held last in the week (`tier_in_week`). The person's own level is
    the one **in force on the week's Monday**: a level set on a Wednesday applies from the
    next Monday, so a week is never judged against a level set part-way through it (raised
    or lowered), and a Monday start applies to that very week.
    """
    spell = tier_spell_in_week(spells, week)
    if spell is None:
        return None
    tier, spell_start = spell
    tier_level = targets.get(tier)
    if tier_level is None:
        return None
    own = own_level_in_force(history, spell_start=spell_start, day=week.start)
    if own is None:
        return Level(tier=tier, contacts=tier_level.contacts, drug_tests=tier_level.drug_tests)
    return Level(tier=tier, contacts=own.contacts, drug_tests=own.drug_tests, own=own)


def own_levels(ids: Collection[int], until: dt.date) -> dict[int, list[OwnLevel]]:
    """The ContactLevel history of these people (already scoped by the caller) starting
    on or before `until`, in one query."""
    history: dict[int, list[OwnLevel]] = defaultdict(list)
    for pk, offender_id, starts_on, contacts, tests in (
        ContactLevel.objects.filter(_among("offender_id", ids), starts_on__lte=until)
        .order_by("offender_id", "starts_on", "pk")
        .values_list("pk", "offender_id", "starts_on", "contacts_per_week", "drug_tests_per_week")
    ):
        history[offender_id].append(OwnLevel(pk, starts_on, contacts, tests))
    return history


def weekly_compliance(
    *,
    user: Any,
    as_of: dt.date,
    offender_ids: Collection[int],
    complete_weeks: int = 0,
    include_current: bool = True,
) -> ComplianceTable:
    """Contacts and drug tests per person per week, each against their own level where
    one is in force on the week's Monday, otherwise their tier's (`level_in_week`).

    The weeks are the `complete_weeks` before the week of `as_of`, then (if
    `include_current`) that week observed up to `as_of`. People outside the user's
    scope are dropped; only contacts and tests the user may count are counted.

    A fixed number of queries whatever the number of people or weeks: the people
    (scope re-checked), their programme episodes, their custody episodes, their own
    levels, contacts grouped by (person, local week, outcome) and drug tests grouped by
    (person, local week). The database truncates each moment to the Monday of its
    Europe/London week (one pass per record kind, whatever the number of weeks); the
    window itself is a range of local midnights an index can serve.
    """
    actor = as_actor(user, as_of)
    _require(actor)
    scheme = Scheme.current()
    weeks = complete_weeks_before(as_of, complete_weeks)
    if include_current:
        weeks.append(week_containing(as_of))
    table = ComplianceTable(as_of=as_of, weeks=weeks, targets=tier_targets(scheme))
    if not weeks:
        return table
    first_day, last_day = weeks[0].start, weeks[-1].last_day
    window_start, window_end = weeks[0].starts_at, weeks[-1].ends_at

    supervision = dict(
        Offender.objects.filter(people_q(actor), _among("pk", offender_ids)).values_list(
            "pk", "supervision"
        )
    )
    ids = list(supervision)
    # The people in scope, as one filter for each record kind read below.
    of_them = _among("offender_id", ids)

    tier_spells: dict[int, list[tuple[str, dt.date, dt.date | None]]] = defaultdict(list)
    for offender_id, kind, selected_on, deselected_on in (
        ProgrammeEpisode.objects.filter(of_them, kind__in=TIERS, selected_on__lte=last_day)
        .filter(Q(deselected_on__isnull=True) | Q(deselected_on__gt=first_day))
        .values_list("offender_id", "kind", "selected_on", "deselected_on")
    ):
        tier_spells[offender_id].append((kind, selected_on, deselected_on))

    custody_spells: dict[int, list[tuple[dt.date, dt.date | None]]] = defaultdict(list)
    for offender_id, started_on, released_on in (
        CustodyEpisode.objects.filter(
            records_q(actor, RecordKind.CUSTODY, "offenders.custodyepisode")
        )
        .filter(of_them, started_on__lte=last_day)
        .filter(Q(released_on__isnull=True) | Q(released_on__gt=first_day))
        .values_list("offender_id", "started_on", "released_on")
    ):
        custody_spells[offender_id].append((started_on, released_on))

    zone = timezone.get_default_timezone()
    # (person, Monday) -> {outcome: count}
    contact_counts: dict[tuple[int, dt.date], dict[str, int]] = defaultdict(dict)
    for offender_id, monday, outcome, n in (
        Contact.objects.filter(
            records_q(actor, RecordKind.CONTACTS, "offenders.contact", count_only=True)
        )
        .filter(of_them, occurred_at__gte=window_start, occurred_at__lt=window_end)
        .annotate(monday=TruncWeek("occurred_at", tzinfo=zone, output_field=DateField()))
        .order_by()
        .values("offender_id", "monday", "outcome")
        .annotate(n=Count("pk"))
        .values_list("offender_id", "monday", "outcome", "n")
    ):
        contact_counts[(offender_id, monday)][outcome] = n

    # Each person's own levels (001 §3.2b): only a start on or before a week's Monday counts.
    history = own_levels(ids, weeks[-1].start)
    targets = table.targets

    test_counts: dict[tuple[int, dt.date], int] = {}
    for offender_id, monday, n in (
        DrugTest.objects.filter(
            records_q(actor, RecordKind.DRUG_TESTS, "offenders.drugtest", count_only=True)
        )
        .filter(of_them, tested_at__gte=window_start, tested_at__lt=window_end)
        .annotate(monday=TruncWeek("tested_at", tzinfo=zone, output_field=DateField()))
        .order_by()
        .values("offender_id", "monday")
        .annotate(n=Count("pk"))
        .values_list("offender_id", "monday", "n")
    ):
        test_counts[(offender_id, monday)] = n

    # Measures repeat (the same count against the same target for the same reason): one
    # object each, so the week loop builds little more than the PersonWeek itself.
    measures: dict[tuple[int, int | None, str], Measure] = {}

    def measure(done: int, target: int | None, reason: str) -> Measure:
        key = (done, target, reason)
        found = measures.get(key)
        if found is None:
            found = measures[key] = Measure(done, target, reason)
        return found

    no_counts: dict[str, int] = {}
    for offender_id in ids:
        spells = tier_spells.get(offender_id, [])
        own = history.get(offender_id, [])
        custody = _merged_spells(custody_spells.get(offender_id, ()))
        on_licence = supervision[offender_id] == Supervision.LICENCE
        # One spell on a tier over every week and no level of their own (most people): the
        # same level each week, worked out once.
        throughout = None
        if len(spells) == 1 and not own:
            _, selected_on, deselected_on = spells[0]
            if selected_on <= first_day and (deselected_on is None or deselected_on > last_day):
                throughout = level_in_week(spells, own, weeks[0], targets)
        per_week: dict[dt.date, PersonWeek] = {}
        for week in weeks:
            outcomes = contact_counts.get((offender_id, week.start), no_counts)
            attended = outcomes.get(ContactOutcome.ATTENDED, 0)
            tests = test_counts.get((offender_id, week.start), 0)
            if throughout is not None:
                level: Level | None = throughout
            else:
                level = level_in_week(spells, own, week, targets) if spells else None
            tier = level.tier if level else ""
            reason = ""
            if level is None:
                reason = "Not on a tier (PPO, IOM or DYO) this week"
            elif _covers(custody, week.start, week.last_day):
                # In custody every day: the community contact target cannot apply.
                reason = "In custody all week"
            test_reason = reason
            if not test_reason and not on_licence:
                # 001 §3.2f: twice-weekly testing is for licensees only.
                test_reason = "Not on licence"
            contact_target = level.contacts if level and not reason else None
            test_target = level.drug_tests if level and not test_reason else None
            if test_target == 0 or contact_target == 0:
                whose = "this person" if level and level.is_own else _tier_words(tier)
                if test_target == 0:
                    test_target, test_reason = None, f"No drug test target set for {whose}"
                if contact_target == 0:
                    contact_target, reason = None, f"No contact target set for {whose}"
            per_week[week.start] = PersonWeek(
                offender_id=offender_id,
                week=week,
                contacts=measure(attended, contact_target, reason),
                drug_tests=measure(tests, test_target, test_reason),
                excused=outcomes.get(ContactOutcome.EXCUSED, 0),
                failed=outcomes.get(ContactOutcome.FAILED, 0),
                tier=tier,
                level=level,
            )
        table.by_person[offender_id] = per_week
    return table


TIER_WORDS: dict[str, str] = {
    ProgrammeKind.PPO: "PPOs",
    ProgrammeKind.IOM: "the IOM tier",
    ProgrammeKind.DYO: "DYOs",
}


def _tier_words(tier: str) -> str:
    return TIER_WORDS.get(tier, tier)


# --- Scheme-wide ----------------------------------------------------------------------------


def percentage(part: int, whole: int) -> int | None:
    """`part` of `whole` as a whole percentage, halves rounded up; None when `whole` is 0."""
    if whole == 0:
        return None
    return (200 * part + whole) // (2 * whole)


@dataclass(frozen=True)
class Tally:
    """How many assessed person-weeks met the target."""

    met: int = 0
    assessed: int = 0

    @property
    def share(self) -> int | None:
        return percentage(self.met, self.assessed)

    @property
    def shown(self) -> str:
        if self.assessed == 0:
            return "No weeks to assess"
        return f"{self.share}%"

    def add(self, measure: Measure) -> Tally:
        if not measure.applies:
            return self
        return Tally(self.met + int(measure.met), self.assessed + 1)


@dataclass(frozen=True)
class PeriodCompliance:
    """Compliance over some complete weeks: contacts and, for licensees, drug tests."""

    weeks: list[Week]
    contacts: Tally
    drug_tests: Tally

    @property
    def first_day(self) -> dt.date:
        return self.weeks[0].start

    @property
    def last_day(self) -> dt.date:
        return self.weeks[-1].last_day

    @property
    def label(self) -> str:
        return f"Last {len(self.weeks)} weeks" if len(self.weeks) > 1 else "Week"


def _counts_by_week_and_tier(
    table: ComplianceTable, weeks: list[Week]
) -> dict[tuple[dt.date, str], list[int]]:
    """For each (week's Monday, tier) of `weeks`: contacts met, contacts assessed, drug tests
    met, drug tests assessed. One pass over the person-weeks, whatever is tallied from it."""
    counts: dict[tuple[dt.date, str], list[int]] = {}
    starts = [week.start for week in weeks]
    for per_week in table.by_person.values():
        for start in starts:
            person_week = per_week.get(start)
            if person_week is None:
                continue
            contacts, tests = person_week.contacts, person_week.drug_tests
            if contacts.target is None and tests.target is None:
                continue
            key = (start, person_week.tier)
            row = counts.get(key)
            if row is None:
                row = counts[key] = [0, 0, 0, 0]
            if contacts.target is not None:
                row[0] += contacts.done >= contacts.target
                row[1] += 1
            if tests.target is not None:
                row[2] += tests.done >= tests.target
                row[3] += 1
    return counts


def _period(
    counts: dict[tuple[dt.date, str], list[int]], weeks: list[Week], tier: str = ""
) -> PeriodCompliance:
    totals = [0, 0, 0, 0]
    starts = {week.start for week in weeks}
    for (start, week_tier), row in counts.items():
        if start in starts and tier in ("", week_tier):
            for index, value in enumerate(row):
                totals[index] += value
    return PeriodCompliance(
        weeks=weeks,
        contacts=Tally(totals[0], totals[1]),
        drug_tests=Tally(totals[2], totals[3]),
    )


def tally(table: ComplianceTable, weeks: list[Week], tier: str = "") -> PeriodCompliance:
    """The person-weeks of `weeks` meeting their target; with `tier`, only that tier's."""
    return _period(_counts_by_week_and_tier(table, weeks), weeks, tier)


@dataclass(frozen=True)
class TierCompliance:
    """One tier's figures over the scheme-wide periods, against its own level."""

    targets: TierTargets
    periods: list[PeriodCompliance]

    @property
    def assessed(self) -> bool:
        return any(p.contacts.assessed or p.drug_tests.assessed for p in self.periods)


@dataclass(frozen=True)
class BelowTarget:
    offender: Offender
    this_week: PersonWeek
    # "Log contact" on the row (issue 13.9): the caseload's rule, `may_log_contact_for`.
    can_log_contact: bool = False


def may_log_contact_for(actor: Actor, offender_ids: Collection[int]) -> set[int]:
    """Of `offender_ids`, whom the actor may log a contact for: the caseload's rule (a
    contact of the actor's own agency, for a person in their write scope). One query, none
    when the role records no contacts."""
    if not offender_ids or not may_write_kind(
        actor, RecordKind.CONTACTS, record_agency_id=actor.agency_id
    ):
        return set()
    return set(
        people_in_scope(actor, write=True)
        .filter(pk__in=list(offender_ids))
        .values_list("pk", flat=True)
    )


@dataclass
class ComplianceSummary:
    as_of: dt.date
    targets: list[TierTargets]  # each tier's level, PPO, IOM, DYO
    this_week: Week
    periods: list[PeriodCompliance]  # every tier, each person-week against its own level
    by_tier: list[TierCompliance]
    by_week: list[PeriodCompliance]  # the longest period, week by week, newest first
    below_target: list[BelowTarget]
    people_counted: int


def _on_a_tier(as_of: dt.date, first_day: dt.date) -> QuerySet[ProgrammeEpisode]:
    """Spells on a tier (PPO, IOM or DYO) overlapping `first_day` to `as_of`."""
    return ProgrammeEpisode.objects.filter(kind__in=TIERS, selected_on__lte=as_of).filter(
        Q(deselected_on__isnull=True) | Q(deselected_on__gt=first_day)
    )


def _followed_ids(actor: Actor, as_of: dt.date, first_day: dt.date) -> list[int]:
    """The ids of `compliance_people`, read from the tier spells (a semi-join the planner
    serves from the few spells rather than by scanning every person)."""
    spells = _on_a_tier(as_of, first_day).filter(
        people_q(actor, prefix="offender__"), allocated_q(actor, prefix="offender__")
    )
    return sorted(set(spells.order_by().values_list("offender_id", flat=True)))


def compliance_people(*, user: Any, as_of: dt.date, first_day: dt.date) -> QuerySet[Offender]:
    """The people whose compliance the user follows from `first_day` to `as_of`.

    In the user's scope (access.policy.people_q), allocated to them if a key worker, and
    on a tier (PPO, IOM or DYO) at some point in the period.
    """
    actor = as_actor(user, as_of)
    _require(actor)
    return (
        Offender.objects.filter(people_q(actor))
        .filter(allocated_q(actor), pk__in=_on_a_tier(as_of, first_day).values("offender_id"))
        .with_status(as_of)
        .select_related("key_worker")
    )


# --- One table for a page ---------------------------------------------------------------------

# The compliance page asks for the same person-weeks several times (its own 13 weeks, then
# each standard for the last week and two quarters): inside `sharing_weeks` they are worked
# out once, for the widest span asked for, and each figure reads its weeks from that table.
_shared_tables: ContextVar[dict[tuple[Any, ...], ComplianceTable] | None] = ContextVar(
    "compliance_shared_tables", default=None
)


def _reader_key(actor: Actor) -> tuple[Any, ...]:
    membership = actor.membership
    return (getattr(actor.user, "pk", None), getattr(membership, "pk", None), actor.system)


def followed_weeks(actor: Actor, complete_weeks: int) -> ComplianceTable:
    """Everyone whose compliance the actor follows in the `complete_weeks` before the week of
    `actor.as_of` or in it, over those weeks and the week in progress (`weekly_compliance`).

    Inside `sharing_weeks` a table already worked out for as many weeks or more is returned
    instead. Its extra people and weeks change no figure: a person in it who was on no tier
    in a week is not assessed that week, and callers pick the weeks they tally.
    """
    shared = _shared_tables.get()
    key = (*_reader_key(actor), actor.as_of)
    if shared is not None:
        found = shared.get(key)
        if found is not None and len(found.weeks) - 1 >= complete_weeks:
            return found
    first_day = monday_of(actor.as_of) - dt.timedelta(weeks=complete_weeks)
    table = weekly_compliance(
        user=actor,
        as_of=actor.as_of,
        offender_ids=_followed_ids(actor, actor.as_of, first_day),
        complete_weeks=complete_weeks,
        include_current=True,
    )
    if shared is not None:
        shared[key] = table
    return table


@contextmanager
def sharing_weeks(actor: Actor, complete_weeks: int = 0) -> Iterator[None]:
    """Work out the actor's person-weeks once for everything asked inside the block (the
    compliance page and its standards), starting with `complete_weeks` of them."""
    outer = _shared_tables.get()
    token = _shared_tables.set({}) if outer is None else None
    try:
        if complete_weeks and can_see_compliance(actor):
            followed_weeks(actor, complete_weeks)
        yield
    finally:
        if token is not None:
            _shared_tables.reset(token)


def compliance_summary(*, user: Any, as_of: dt.date) -> ComplianceSummary:
    """Scheme-wide compliance for the last 4 and 13 complete weeks, and who is below
    target this week so far; the people named are audited as a consultation.

    "Scheme-wide" within the user's scope: a key worker sees their own caseload's
    figures, a manager or police officer the whole scheme's, a YOT worker their young
    people's. A share is of the person-weeks assessed, each against its tier's level (see
    the module docstring), for every tier together and for each tier on its own.
    """
    actor = as_actor(user, as_of)
    _require(actor)
    longest = max(SCHEME_PERIODS_WEEKS)
    table = followed_weeks(actor, longest)
    complete, this_week = table.weeks[:-1][-longest:], table.weeks[-1]
    counts = _counts_by_week_and_tier(table, complete)
    periods = [_period(counts, complete[-count:]) for count in SCHEME_PERIODS_WEEKS]
    by_tier = [
        TierCompliance(
            targets=table.targets[tier],
            periods=[_period(counts, complete[-count:], tier) for count in SCHEME_PERIODS_WEEKS],
        )
        for tier in TIERS
    ]
    by_week = [_period(counts, [week]) for week in reversed(complete)]
    # The people followed over these weeks (`compliance_people` from the first of them):
    # those of the table on a tier in at least one of them. The table may hold others,
    # followed earlier, for a longer figure read from it.
    weeks_here = [week.start for week in (*complete, this_week)]
    counted = [
        pk
        for pk, per_week in table.by_person.items()
        if any(per_week[start].tier for start in weeks_here)
    ]
    below_ids = [pk for pk in counted if table.by_person[pk][this_week.start].below_target]
    below_people = (
        compliance_people(user=actor, as_of=as_of, first_day=complete[0].start).filter(
            _among("pk", below_ids)
        )
        if below_ids
        else []
    )
    below_now = [(person, table.by_person[person.pk][this_week.start]) for person in below_people]
    loggable = may_log_contact_for(actor, [person.pk for person, _ in below_now])
    below = [
        BelowTarget(offender=person, this_week=person_week, can_log_contact=person.pk in loggable)
        for person, person_week in below_now
    ]
    below.sort(
        key=lambda b: (
            b.this_week.worst_rag.severity if b.this_week.worst_rag else 3,
            b.offender.last_name.lower(),
            b.offender.first_name.lower(),
            b.offender.pk,
        )
    )
    audit.consulted(
        actor,
        OFFENDER,
        [b.offender for b in below],
        view="compliance",
        people_counted=len(counted),
    )
    return ComplianceSummary(
        as_of=as_of,
        targets=[table.targets[tier] for tier in TIERS],
        this_week=this_week,
        periods=periods,
        by_tier=by_tier,
        by_week=by_week,
        below_target=below,
        people_counted=len(counted),
    )


# --- Standards (issue 10 item 6): contacts and drug tests against each person's level ---------


@dataclass(frozen=True)
class Quarter:
    """A financial-year quarter (1 April – 31 March: Q1 April–June … Q4 January–March)."""

    number: int
    first_day: dt.date
    last_day: dt.date

    @property
    def label(self) -> str:
        """ "Q1 2025–26": the quarter and its financial year."""
        year = self.first_day.year if self.number < 4 else self.first_day.year - 1
        return f"Q{self.number} {year}–{(year + 1) % 100:02d}"

    @property
    def months(self) -> str:
        return (
            f"{self.first_day.day} {self.first_day:%B} to {self.last_day.day} {self.last_day:%B %Y}"
        )

    def before(self) -> Quarter:
        return quarter_containing(self.first_day - ONE_DAY)


def quarter_containing(day: dt.date) -> Quarter:
    """The financial-year quarter a day falls in (NI30 and the annual report run on the
    financial year, 1 April to 31 March: DESIGN.md "Reporting that must be exact")."""
    index = (day.month - 4) % 12 // 3  # 0 for April–June … 3 for January–March
    first_year = day.year if day.month >= 4 else day.year - 1
    first_month = 4 + 3 * index
    year, month = first_year + (first_month - 1) // 12, (first_month - 1) % 12 + 1
    after_year, after_month = year + (month + 2) // 12, (month + 2) % 12 + 1
    first = dt.date(year, month, 1)
    return Quarter(
        number=index + 1, first_day=first, last_day=dt.date(after_year, after_month, 1) - ONE_DAY
    )


def person_weeks_in(
    actor: Actor, first_day: dt.date, last_day: dt.date
) -> tuple[ComplianceTable, list[Week]]:
    """The complete weeks whose Monday falls from `first_day` to `last_day` (a week belongs
    to the period its Monday is in; the week in progress is never counted), for the people
    whose compliance the actor follows, each against their own level. Eight queries, or
    none inside `sharing_weeks` once a table covering the period is worked out."""
    this_monday = monday_of(actor.as_of)
    back = (this_monday - monday_of(first_day)).days // 7
    if back <= 0 or last_day < first_day:
        return ComplianceTable(as_of=actor.as_of, weeks=[], targets={}), []
    table = followed_weeks(actor, back)
    weeks = [w for w in table.weeks if w.start < this_monday and first_day <= w.start <= last_day]
    return table, weeks


@standards.register
def contacts_standard(
    actor: Actor, first_day: dt.date, last_day: dt.date
) -> standards.StandardMeasure | None:
    """Person-weeks whose attended contacts reached the person's level (001 §3.2b)."""
    if not can_see_compliance(actor):
        return None
    table, weeks = person_weeks_in(actor, first_day, last_day)
    counted = tally(table, weeks).contacts
    return standards.StandardMeasure(
        key="contacts",
        label="Attended contacts reached the person's weekly level",
        citation="001 §3.2b",
        met=counted.met,
        total=counted.assessed,
    )


@standards.register
def drug_tests_standard(
    actor: Actor, first_day: dt.date, last_day: dt.date
) -> standards.StandardMeasure | None:
    """Licensee-weeks whose drug tests reached the person's level (001 §3.2f)."""
    if not can_see_compliance(actor):
        return None
    table, weeks = person_weeks_in(actor, first_day, last_day)
    counted = tally(table, weeks).drug_tests
    return standards.StandardMeasure(
        key="drug_tests",
        label="Drug tests of people on licence reached the person's weekly level",
        citation="001 §3.2f",
        met=counted.met,
        total=counted.assessed,
    )


@dataclass(frozen=True)
class StandardPeriod:
    label: str
    first_day: dt.date
    last_day: dt.date
    note: str = ""


@dataclass(frozen=True)
class StandardRow:
    key: str
    label: str
    citation: str
    cells: list[standards.StandardMeasure | None]  # one per period, None: not measured


@dataclass(frozen=True)
class StandardsTable:
    periods: list[StandardPeriod]
    rows: list[StandardRow]


def standard_periods(as_of: dt.date) -> list[StandardPeriod]:
    """The last complete week, the current financial-year quarter so far and the previous
    quarter: the periods the compliance page measures the standards over."""
    last_week = complete_weeks_before(as_of, 1)[0]
    this_quarter = quarter_containing(as_of)
    previous = this_quarter.before()
    return [
        StandardPeriod("Last complete week", last_week.start, last_week.end),
        StandardPeriod(
            f"{this_quarter.label} so far",
            this_quarter.first_day,
            min(this_quarter.last_day, as_of),
            note=this_quarter.months,
        ),
        StandardPeriod(previous.label, previous.first_day, previous.last_day, note=previous.months),
    ]


def weeks_back_to(as_of: dt.date, first_day: dt.date) -> int:
    """How many complete weeks before the week of `as_of` reach back to `first_day`'s week."""
    return max(0, (monday_of(as_of) - monday_of(first_day)).days // 7)


def standards_summary(*, user: Any, as_of: dt.date) -> StandardsTable:
    """Every registered standard (offenders.standards) for the last complete week, the
    current financial-year quarter so far and the previous quarter, as this reader may see
    them. Counts only: nobody is named, so nothing here is a consultation of a record.

    The person-weeks behind the contacts and drug-test standards are worked out once for
    all three periods (`sharing_weeks`)."""
    actor = as_actor(user, as_of)
    periods = standard_periods(as_of)
    earliest = min(p.first_day for p in periods)
    with sharing_weeks(actor, weeks_back_to(as_of, earliest)):
        found = [
            standards.measures(user=actor, first_day=p.first_day, last_day=p.last_day)
            for p in periods
        ]
    rows: dict[str, StandardRow] = {}
    for index, period_measures in enumerate(found):
        for measure in period_measures:
            row = rows.get(measure.key)
            if row is None:
                row = StandardRow(
                    measure.key, measure.label, measure.citation, [None] * len(periods)
                )
                rows[measure.key] = row
            row.cells[index] = measure
    return StandardsTable(periods=periods, rows=list(rows.values()))
