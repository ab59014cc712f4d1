"""import_offenders: people from a partner system, keyed by PNC ID (see common.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from access.errors import NotPermitted
from access.policy import Actor, RecordKind, Scope, Write, as_actor, grant, people_q

from .. import identifiers
from ..dates import date_of_birth_problem
from ..models import Ethnicity, Offender, OffenderStrand, Sex, Strand
from .common import (
    BATCH_SIZE,
    CHANGED_MEANWHILE,
    MAX_IMPORT_BYTES,
    OFFENDERS,
    FileProblem,
    ImportResult,
    RowProblem,
    _audit,
    _choices,
    _chunks,
    _load,
    _matching,
    _max_length,
    _Memo,
    _or_error,
    _OutsideScope,
    _parse_date,
    _Row,
    _unaccounted,
)

if TYPE_CHECKING:
    from .common import ImportSource

_SEXES = _choices(Sex.choices)
_ETHNICITIES = _choices(Ethnicity.choices)
_STRANDS = _choices(Strand.choices)
# A person can be on several strands (000 §2.2): one cell holds them, separated by this
# (a comma would need the cell quoted; docs/import-formats.md).
STRAND_SEPARATOR = ";"
STRANDS = "strands"
_STRAND_HELP = (
    f"Use {', '.join(Strand.values)} (or their names), several separated by "
    f"“{STRAND_SEPARATOR}”, like catch_convict{STRAND_SEPARATOR}rehabilitate_resettle"
)
# The free text a file of people holds, with the limits of Offender's fields.
_MAX_LENGTH = {
    name: _max_length(Offender, name) for name in ("first_name", "last_name", "local_ref")
}
_IDENTIFIERS: dict[str, Callable[[str], str]] = {
    "cro_number": identifiers.normalise_cro,
    "prison_number": identifiers.normalise_prison_number,
    "crn": identifiers.normalise_crn,
}


def parse_strands(text: str) -> frozenset[str] | str:
    """The strands in a cell, or what is wrong with it. Values or names in any case
    ("Catch & Convict" reads as "Catch and Convict"); a strand named twice counts once."""
    found: set[str] = set()
    for part in text.split(STRAND_SEPARATOR):
        words = " ".join(part.replace("&", " and ").split())
        if not words:
            continue
        strand = _STRANDS.get(words.lower())
        if strand is None:
            return f"“{part.strip()[:40]}” is not a strand: {_STRAND_HELP}"
        found.add(strand)
    if not found:
        return f"No strand given: {_STRAND_HELP}, or leave the cell empty"
    return frozenset(found)


def _held_strands(ids: list[int]) -> dict[int, frozenset[str]]:
    held: dict[int, set[str]] = {}
    for chunk in _chunks(ids):
        rows = OffenderStrand.objects.filter(offender_id__in=chunk)
        for offender_id, strand in rows.values_list("offender_id", "strand"):
            held.setdefault(offender_id, set()).add(strand)
    return {offender_id: frozenset(strands) for offender_id, strands in held.items()}


def import_offenders(
    *,
    user: Any,
    file: ImportSource,
    filename: str = "",
    max_bytes: int = MAX_IMPORT_BYTES,
    as_of: dt.date | None = None,
) -> ImportResult:
    """Add or update people from a CSV file keyed by PNC ID, all or nothing.

    A new person has no programme episode, so joins the known-offender pool. An
    empty optional cell leaves the record's value alone: a partner system that
    does not know a person's CRN must not erase it. A `strands` cell gives the person's
    whole set of strands (STRAND_SEPARATOR between them).
    """
    actor = as_actor(user, as_of)
    if grant(actor, RecordKind.IDENTITY).write is Write.NONE:
        raise NotPermitted("Your role cannot add people to the record or change their details")
    result = ImportResult(kind=OFFENDERS, filename=filename)
    try:
        table = _load(file, max_bytes, OFFENDERS)
    except FileProblem as problem:
        return result._fail(file_problem=str(problem))
    problems, position = table.problems, table.position
    pncs = _Memo(_or_error(identifiers.normalise_pnc))
    dates = _Memo(_parse_date)
    normalised = {name: _Memo(_or_error(fn)) for name, fn in _IDENTIFIERS.items()}
    strand_sets = _Memo(parse_strands)
    optional = [(name, position[name]) for name in _IDENTIFIERS if name in position]

    def born_problem(day: dt.date) -> str | None:
        return date_of_birth_problem(day, today=actor.as_of)

    # Pass 1: each row on its own.
    parsed: list[tuple[int, str, dict[str, Any]]] = []
    for number, cells in table.rows:
        row = _Row(number, problems)
        pnc = row.pnc(cells[position["pnc_id"]], pncs)
        values: dict[str, Any] = {}
        for name in ("first_name", "last_name"):
            text = values[name] = cells[position[name]]
            if row.required(name, text, f"the {name.replace('_', ' ')}"):
                row.text(name, text, _MAX_LENGTH[name])
        text = cells[position["date_of_birth"]]
        # Offender.clean's rule, from offenders.dates: 1900 at the earliest, at least 10.
        values["date_of_birth"] = row.date(
            "date_of_birth", text, dates, "the date of birth", born_problem
        )
        for name, lookup, allowed in (
            ("sex", _SEXES, "M, F, X or U"),
            ("ethnicity", _ETHNICITIES, ", ".join(Ethnicity.values)),
        ):
            if name in position and (text := cells[position[name]]):
                values[name] = lookup.get(text.lower())
                if values[name] is None:
                    row.problem(name, text, f"Use one of {allowed}")
        for name, index in optional:
            if text := cells[index]:
                values[name] = normalised[name][text]
                if isinstance(values[name], ValidationError):
                    row.problem(name, text, values[name].messages[0])
        if "local_ref" in position and (text := cells[position["local_ref"]]):
            values["local_ref"] = text
            row.text("local_ref", text, _MAX_LENGTH["local_ref"])
        if STRANDS in position and (text := cells[position[STRANDS]]):
            strands = strand_sets[text]
            if isinstance(strands, str):
                row.problem(STRANDS, text, strands)
            else:
                values[STRANDS] = strands
        if row.ok and pnc is not None:
            values["pnc_id"] = pnc
            parsed.append((number, pnc, values))

    # Pass 2: against the record and the rest of the file.
    existing: dict[str | None, Offender] = {}
    writable: set[int] = set()
    for condition in _matching("pnc_id", {pnc for _, pnc, _ in parsed}):
        existing.update((o.pnc_id, o) for o in Offender.objects.filter(condition))
        in_scope = Offender.objects.filter(people_q(actor, write=True)).filter(condition)
        writable.update(in_scope.values_list("pk", flat=True))
    held_strands = _held_strands(sorted(writable)) if STRANDS in position else {}
    seen: dict[str, tuple[int, dict[str, Any]]] = {}
    to_create: list[tuple[int, Offender]] = []
    to_update: list[Offender] = []
    # The whole set of strands for the people whose strands the file gives or changes.
    new_strands: dict[str, frozenset[str]] = {}
    changed_fields: set[str] = set()
    matched: list[int] = []
    for number, pnc, values in parsed:
        if pnc in seen:
            first_row, first = seen[pnc]
            if values == first:
                result.repeated += 1
                continue
            differ = sorted(
                k for k in values.keys() | first.keys() if values.get(k) != first.get(k)
            )
            message = (
                f"This PNC ID is already on row {first_row:,} with different details "
                f"({', '.join(differ)}): keep one row per person"
            )
            problems.append(RowProblem(number, "pnc_id", pnc, message))
            continue
        seen[pnc] = (number, values)
        person = existing.get(pnc)
        record_values = {name: value for name, value in values.items() if name != STRANDS}
        if person is None:
            to_create.append((number, Offender(**record_values)))
            if STRANDS in values:
                new_strands[pnc] = values[STRANDS]
        elif person.pk not in writable:
            message = (
                "This PNC ID belongs to a person outside the people you work with: ask the PPO "
                "manager to import this row"
            )
            problems.append(RowProblem(number, "pnc_id", pnc, message))
        else:
            matched.append(person.pk)
            changed = [
                name for name, value in record_values.items() if getattr(person, name) != value
            ]
            for name in changed:
                setattr(person, name, values[name])
            changed_fields.update(changed)
            given = values.get(STRANDS)
            if given is not None and given != held_strands.get(person.pk, frozenset()):
                new_strands[pnc] = given
                changed.append(STRANDS)
            if changed:
                to_update.append(person)
            else:
                result.unchanged += 1
    if problems:
        return result._fail(problems)
    reported = len(to_create) + len(to_update) + result.unchanged + result.repeated
    if unaccounted := _unaccounted(table, reported):
        return result._fail(file_problem=unaccounted)

    now = timezone.now()
    try:
        with transaction.atomic():
            created = Offender.objects.bulk_create([p for _, p in to_create], batch_size=BATCH_SIZE)
            created_ids = [person.pk for person in created]
            if created_ids and actor.scope is not Scope.EVERYONE:
                _refuse_outside_scope(actor, to_create)
            for person in to_update:
                person.updated_at = now
            if to_update:
                fields = [*sorted(changed_fields), "updated_at"]
                Offender.objects.bulk_update(to_update, fields, batch_size=1000)
            _write_strands(
                {
                    person.pk: new_strands[person.pnc_id]
                    for person in [*created, *to_update]
                    if person.pnc_id in new_strands
                }
            )
            result.created, result.updated = len(created), len(to_update)
            _audit(
                actor,
                result,
                record_type="offenders.offender",
                records=[*created_ids, *(p.pk for p in to_update)],
                offenders=[*created_ids, *matched],
            )
    except _OutsideScope as error:
        return result._fail(error.problems)
    except IntegrityError:
        return result._fail(file_problem=CHANGED_MEANWHILE)
    return result


def _write_strands(strands: dict[int, frozenset[str]]) -> None:
    """Each person's strands become exactly the set given (a cell names the whole set)."""
    for chunk in _chunks(list(strands)):
        OffenderStrand.objects.filter(offender_id__in=chunk).delete()
    OffenderStrand.objects.bulk_create(
        [
            OffenderStrand(offender_id=offender_id, strand=strand)
            for offender_id, held in strands.items()
            for strand in sorted(held)
        ],
        batch_size=BATCH_SIZE,
    )


def _refuse_outside_scope(actor: Actor, to_create: list[tuple[int, Offender]]) -> None:
    """As offender_create: nobody may add a person they could not then see (a YOT
    worker adds under-18s). Asked of the policy after the insert, inside the
    transaction, so the rule stays in access.policy."""
    ids = [person.pk for _, person in to_create]
    outside: set[int] = set()
    for chunk in _chunks(ids):
        query = Offender.objects.filter(pk__in=chunk).exclude(people_q(actor, write=True))
        outside.update(query.values_list("pk", flat=True))
    if outside:
        message = "This person would be outside the people you work with, so you cannot add them"
        raise _OutsideScope(
            [
                RowProblem(number, "pnc_id", person.pnc_id or "", message)
                for number, person in to_create
                if person.pk in outside
            ]
        )
