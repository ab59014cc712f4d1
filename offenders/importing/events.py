"""import_events: offending events and intelligence keyed by source and reference."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.db.models.functions import Upper

from access.errors import NotPermitted
from access.models import Agency
from access.policy import Actor, RecordKind, Write, as_actor, grant, people_q

from .. import identifiers
from ..dates import AGE_OF_CRIMINAL_RESPONSIBILITY, life_date_problem
from ..models import EventKind, OffenceCategory, Offender, OffendingEvent
from .common import (
    BATCH_SIZE,
    CHANGED_MEANWHILE,
    EVENTS,
    MAX_IMPORT_BYTES,
    FileProblem,
    ImportResult,
    RowProblem,
    _audit,
    _choices,
    _load,
    _matching,
    _matching_any_case,
    _max_length,
    _Memo,
    _named,
    _or_error,
    _parse_date,
    _pk_of,
    _Row,
    _shown,
    _suggest,
    _unaccounted,
)

# --- Offending events -----------------------------------------------------------------

_EVENT_KINDS = _choices(EventKind.choices)
# OffendingEvent.clean: only these kinds may go without an offence category.
_NO_CATEGORY_NEEDED = frozenset({EventKind.INTELLIGENCE, EventKind.BREACH, EventKind.RECALL})
_REFERENCE_MAX = _max_length(OffendingEvent, "source_reference")
_SUMMARY_MAX = _max_length(OffendingEvent, "summary")
# An event's content, in the order of the tuples compared, named by the file's columns.
_CONTENT_COLUMNS = (
    "pnc_id",
    "event_kind",
    "offence_category",
    "date_committed",
    "date_recorded",
    "summary",
)
# (row, agency, reference, pnc, kind, category, committed, recorded, summary)
_Parsed = tuple[int, int, str, str, str, "int | None", dt.date, dt.date, str]
# An event's key: its source agency and its reference upper-cased. A source's
# references are not case-sensitive (the constraint unique_event_source_reference_any_case).
_Key = tuple[int, str]

if TYPE_CHECKING:
    from .common import ImportSource


@dataclass
class _EventRules:
    """What pass 1 needs to check an events row: reference data and the actor's rights."""

    actor: Actor
    may_write: dict[str, Write]
    agencies: list[Agency]
    categories: list[OffenceCategory]
    agency_ids: _Memo[int | None]
    category_ids: _Memo[int | None]
    kinds: _Memo[str | None]
    pncs: _Memo[str | ValidationError]
    dates: _Memo[dt.date | None]
    # The people the file names that the actor may change: (pk, date of birth) by PNC ID.
    people: dict[str, tuple[int, dt.date]]

    # OffendingEvent.clean's rules, from offenders.dates: within the person's life, the
    # offence no earlier than their 10th birthday, neither date in the future.
    def committed_problem(self, day: dt.date, born: dt.date | None) -> str | None:
        return life_date_problem(
            day,
            what="the date it happened",
            date_of_birth=born,
            from_age=AGE_OF_CRIMINAL_RESPONSIBILITY,
            today=self.actor.as_of,
        )

    def recorded_problem(self, day: dt.date, born: dt.date | None) -> str | None:
        return life_date_problem(
            day, what="the date recorded", date_of_birth=born, today=self.actor.as_of
        )


def import_events(
    *,
    user: Any,
    file: ImportSource,
    filename: str = "",
    max_bytes: int = MAX_IMPORT_BYTES,
    as_of: dt.date | None = None,
) -> ImportResult:
    """Add offending events and intelligence reports from a CSV file, all or nothing.

    Keyed by (source agency, source reference), the reference in any case: a row
    already on the record with the same content is unchanged; with different content
    it is a problem, never an update, since a partner system's reference names one
    event for good.
    """
    actor = as_actor(user, as_of)
    may_write = {
        kind: grant(
            actor,
            RecordKind.INTELLIGENCE if kind == EventKind.INTELLIGENCE else RecordKind.OFFENDING,
        ).write
        for kind in EventKind.values
    }
    if all(write is Write.NONE for write in may_write.values()):
        raise NotPermitted("Your role cannot record offending events")
    result = ImportResult(kind=EVENTS, filename=filename)
    try:
        table = _load(file, max_bytes, EVENTS)
    except FileProblem as problem:
        return result._fail(file_problem=str(problem))
    problems = table.problems
    at = table.position
    pncs = _Memo(_or_error(identifiers.normalise_pnc))
    # Loaded before the rows are checked: an event's dates are checked against the
    # person's date of birth.
    i_pnc = at["pnc_id"]
    people = _people_by_pnc(
        actor, {pnc for _, cells in table.rows if type(pnc := pncs[cells[i_pnc]]) is str}
    )
    agencies = list(Agency.objects.only("pk", "name"))
    categories = list(OffenceCategory.objects.only("pk", "name"))
    rules = _EventRules(
        actor=actor,
        may_write=may_write,
        agencies=agencies,
        categories=categories,
        agency_ids=_Memo(_pk_of(_named(agencies, attrgetter("name")))),
        category_ids=_Memo(_pk_of(_named(categories, attrgetter("name")))),
        kinds=_Memo(lambda text: _EVENT_KINDS.get(text.lower())),
        pncs=pncs,
        dates=_Memo(_parse_date),
        people=people,
    )
    agency_ids, category_ids, kinds, dates = (
        rules.agency_ids,
        rules.category_ids,
        rules.kinds,
        rules.dates,
    )
    committed_problem, recorded_problem = rules.committed_problem, rules.recorded_problem
    own_agency_kinds = {k for k, w in may_write.items() if w is Write.OWN_AGENCY}
    any_agency_kinds = {k for k, w in may_write.items() if w is Write.ALL}
    i_source, i_reference = at["source"], at["source_reference"]
    i_kind, i_category = at["event_kind"], at["offence_category"]
    i_committed, i_recorded, i_summary = (
        at["date_committed"],
        at["date_recorded"],
        at.get("summary"),
    )

    # Pass 1: each row on its own. The whole test is one expression, run 100,000 times;
    # a row that fails it is checked again, slowly, to say exactly what is wrong.
    parsed: list[_Parsed] = []
    for number, cells in table.rows:
        reference = cells[i_reference]
        agency_id = agency_ids[cells[i_source]]
        pnc = pncs[cells[i_pnc]]
        kind = kinds[cells[i_kind]]
        category_text = cells[i_category]
        category_id = category_ids[category_text]
        committed = dates[cells[i_committed]]
        recorded = dates[cells[i_recorded]]
        summary = cells[i_summary] if i_summary is not None else ""
        person = people.get(pnc) if type(pnc) is str else None
        born = person[1] if person is not None else None
        if (
            agency_id is not None
            and 0 < len(reference) <= _REFERENCE_MAX
            and type(pnc) is str
            and kind is not None
            and (
                kind in any_agency_kinds
                or (kind in own_agency_kinds and agency_id == actor.agency_id)
            )
            and (category_id is not None or (not category_text and kind in _NO_CATEGORY_NEEDED))
            # OffendingEvent.clean: within the person's life, recorded on or after it happened.
            and committed is not None
            and recorded is not None
            and committed <= recorded
            and committed_problem(committed, born) is None
            and recorded_problem(recorded, born) is None
            and len(summary) <= _SUMMARY_MAX
        ):
            parsed.append(
                (number, agency_id, reference, pnc, kind, category_id, committed, recorded, summary)
            )
        else:
            _explain_event_row(number, cells, at, rules, problems)

    # Pass 2: against the record and the rest of the file.
    on_record = _recorded_events(parsed)
    agency_names = {agency.pk: agency.name for agency in agencies}
    has_summary = i_summary is not None
    seen: dict[_Key, tuple[int, str, tuple[Any, ...]]] = {}
    to_create: list[tuple[Any, ...]] = []
    touched: set[int] = set()
    user_id = actor.user.pk if actor.user is not None else None
    for (
        number,
        agency_id,
        reference,
        pnc,
        kind,
        category_id,
        committed,
        recorded,
        summary,
    ) in parsed:
        person = people.get(pnc)
        if person is None:
            # Outside the importer's scope reads exactly as unknown: an import must not
            # reveal who is on the record.
            message = (
                "Unknown PNC ID: nobody with this PNC ID is on the record you can change; "
                "import them in a file of people first"
            )
            problems.append(RowProblem(number, "pnc_id", pnc, message))
            continue
        offender_id = person[0]
        content = (offender_id, kind, category_id, committed, recorded, summary)
        key = (agency_id, reference.upper())
        if key in seen:
            first_row, first_reference, first = seen[key]
            if content == first:
                result.repeated += 1
            else:
                message = (
                    f"Duplicate reference with different content: row {first_row:,} has the same "
                    f"source and reference{_as_written(first_reference, reference)} with a "
                    f"different {_differences(content, first)}"
                )
                problems.append(RowProblem(number, "source_reference", _shown(reference), message))
            continue
        seen[key] = (number, reference, content)
        touched.add(offender_id)
        found = on_record.get(key)
        if found is None:
            to_create.append((*content, agency_id, reference, user_id))
            continue
        recorded_reference, before = found
        # Without a summary column, the summary on the record is not compared.
        compared = before if has_summary else (*before[:5], summary)
        if content == compared:
            result.unchanged += 1
            continue
        kind_label = EventKind(before[1]).label.lower()
        message = (
            f"Duplicate reference with different content: already recorded from "
            f"{agency_names[agency_id]}{_as_written(recorded_reference, reference)} as "
            f"{_with_article(kind_label)}"
            f"{'' if before[0] == offender_id else ' for a different person'} on "
            f"{_readable(before[3])}, with a different {_differences(content, compared)}"
        )
        problems.append(RowProblem(number, "source_reference", _shown(reference), message))
    if problems:
        return result._fail(problems)
    reported = len(to_create) + result.unchanged + result.repeated
    if unaccounted := _unaccounted(table, reported):
        return result._fail(file_problem=unaccounted)

    try:
        with transaction.atomic():
            created_ids = _insert_events(to_create)
            result.created = len(to_create)
            _audit(
                actor,
                result,
                record_type="offenders.offendingevent",
                records=created_ids,
                offenders=sorted(touched),
            )
    except IntegrityError:
        return result._fail(file_problem=CHANGED_MEANWHILE)
    return result


def _explain_event_row(
    number: int,
    cells: list[str],
    at: dict[str, int],
    rules: _EventRules,
    problems: list[RowProblem],
) -> None:
    """Every problem of an events row that failed the quick test, in the file's words."""
    row = _Row(number, problems)
    actor = rules.actor
    source = cells[at["source"]]
    agency_id = rules.agency_ids[source]
    required = row.required("source", source, "the name of the agency that recorded it")
    if required and agency_id is None:
        message = "Unknown source agency: use the agency's name as it is in PPO Case"
        row.problem("source", source, message + _suggest(source, [a.name for a in rules.agencies]))
    reference = cells[at["source_reference"]]
    required = row.required("source_reference", reference, "the source system's reference")
    if required:
        row.text("source_reference", reference, _REFERENCE_MAX)
    pnc = row.pnc(cells[at["pnc_id"]], rules.pncs)
    person = rules.people.get(pnc) if pnc is not None else None
    born = person[1] if person is not None else None

    text = cells[at["event_kind"]]
    kind = rules.kinds[text]
    if row.required("event_kind", text, "the event kind"):
        write = rules.may_write.get(kind or "", Write.NONE)
        if kind is None:
            message = f"Unknown event kind: use one of {', '.join(EventKind.values)}"
            row.problem("event_kind", text, message)
        elif write is Write.NONE:
            message = f"Your role cannot record {EventKind(kind).label.lower()}s"
            row.problem("event_kind", text, message)
        elif write is Write.OWN_AGENCY and agency_id and agency_id != actor.agency_id:
            message = "Your role can record only your own agency's events"
            row.problem("source", source, message)

    text = cells[at["offence_category"]]
    if text and rules.category_ids[text] is None:
        names = [c.name for c in rules.categories]
        message = "Unknown offence category: use the category's name as it is in PPO Case"
        row.problem("offence_category", text, message + _suggest(text, names))
    elif not text and kind is not None and kind not in _NO_CATEGORY_NEEDED:
        row.problem("offence_category", "", "Enter the offence category")

    # OffendingEvent.clean: within the person's life, recorded on or after it happened.
    text = cells[at["date_committed"]]
    committed = row.date(
        "date_committed",
        text,
        rules.dates,
        "the date it happened",
        lambda day: rules.committed_problem(day, born),
    )
    text = cells[at["date_recorded"]]
    recorded = row.date(
        "date_recorded",
        text,
        rules.dates,
        "the date recorded",
        lambda day: rules.recorded_problem(day, born),
    )
    if committed and recorded and recorded < committed:
        message = "The date recorded cannot be before the date it happened"
        row.problem("date_recorded", text, message)
    if "summary" in at:
        row.text("summary", cells[at["summary"]], _SUMMARY_MAX)
    if row.ok:  # the quick test and this one disagree: never let such a row through
        problems.append(RowProblem(number, "", "", "This row could not be checked"))


def _people_by_pnc(actor: Actor, pncs: set[str]) -> dict[str, tuple[int, dt.date]]:
    """The people the actor may change, by PNC ID, among those a file names: their
    primary key and date of birth."""
    people: dict[str, tuple[int, dt.date]] = {}
    for condition in _matching("pnc_id", pncs):
        query = Offender.objects.filter(people_q(actor, write=True)).filter(condition)
        people.update(
            (pnc, (pk, born))
            for pnc, pk, born in query.values_list("pnc_id", "pk", "date_of_birth")
            if pnc
        )
    return people


def _recorded_events(rows: list[_Parsed]) -> dict[_Key, tuple[str, tuple[Any, ...]]]:
    """The events already on the record under the keys a file uses: their reference as
    recorded and their content. References match in any case."""
    references: dict[int, set[str]] = {}
    for row in rows:
        references.setdefault(row[1], set()).add(row[2])
    found: dict[_Key, tuple[str, tuple[Any, ...]]] = {}
    for agency_id, refs in references.items():
        keys = {reference.upper() for reference in refs}
        # The database's UPPER may leave letters beyond A-Z alone (SQLite's does): such a
        # reference is also matched as given, so importing a file again always finds it.
        beyond_ascii = {reference for reference in refs if not reference.isascii()}
        for condition in _matching_any_case("source_reference", keys, beyond_ascii):
            query = (
                OffendingEvent.objects.filter(source_agency_id=agency_id)
                .filter(condition)
                .order_by()
                .values_list(
                    Upper("source_reference"),
                    "source_reference",
                    "offender_id",
                    "kind",
                    "category_id",
                    "occurred_on",
                    "recorded_on",
                    "summary",
                )
            )
            for upper, reference, *content in query:
                # The database's UPPER, which the constraint uses, if it matched; else
                # the reference was matched as given.
                key = upper if upper in keys else reference.upper()
                found[(agency_id, key)] = (reference, tuple(content))
    return found


_INSERTED_FIELDS = (
    "offender_id",
    "kind",
    "category_id",
    "occurred_on",
    "recorded_on",
    "summary",
    "source_agency_id",
    "source_reference",
    "recorded_by_id",
)


def _insert_events(rows: list[tuple[Any, ...]]) -> list[int]:
    """Insert events given as tuples in the order of _INSERTED_FIELDS; their ids.

    On PostgreSQL through COPY, the database's bulk loader: bulk_create spends about
    ten seconds preparing 100,000 rows in Python, which alone misses the goal of
    10,000 rows a second. The rows have passed every check of OffendingEvent.clean.
    """
    if not rows:
        return []
    if connection.vendor != "postgresql":
        events = [OffendingEvent(**dict(zip(_INSERTED_FIELDS, row, strict=True))) for row in rows]
        created = OffendingEvent.objects.bulk_create(events, batch_size=BATCH_SIZE)
        return [event.pk for event in created if event.pk is not None]
    meta = OffendingEvent._meta
    quote = connection.ops.quote_name
    fields = {field.attname: field for field in meta.concrete_fields}
    columns = ", ".join(quote(fields[name].column) for name in _INSERTED_FIELDS)
    # Binary COPY needs each column's type, without its length: varchar, not varchar(60).
    types = [str(fields[name].db_type(connection)).split("(")[0] for name in _INSERTED_FIELDS]
    sql = f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN (FORMAT BINARY)"
    last_id = OffendingEvent.objects.aggregate(last=Max("pk"))["last"] or 0
    with (
        connection.cursor() as cursor,
        connection.wrap_database_errors,
        cursor.cursor.copy(sql) as copy,
    ):
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)
    # Every row COPY added has a larger id than any before it; (agency, reference) picks
    # ours out from rows others may have added meanwhile.
    keys = {(row[6], row[7]) for row in rows}
    added = OffendingEvent.objects.filter(pk__gt=last_id, source_agency_id__in={k[0] for k in keys})
    rows_added = added.values_list("pk", "source_agency_id", "source_reference")
    return [pk for pk, agency_id, reference in rows_added if (agency_id, reference) in keys]


def _differences(content: tuple[Any, ...], other: tuple[Any, ...]) -> str:
    pairs = zip(_CONTENT_COLUMNS, content, other, strict=True)
    return ", ".join(name for name, mine, theirs in pairs if mine != theirs)


def _as_written(first: str, then: str) -> str:
    """How an earlier reference was written, when only its capitals differ."""
    if first == then:
        return ""
    return f" (as {_shown(first)}: references are not case-sensitive)"


def _with_article(noun: str) -> str:
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


def _readable(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"
