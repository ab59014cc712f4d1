"""Retention review and erasure (issue 14 item 5; DPA 2018 Part 3 s.39: personal data
kept no longer than necessary, with periodic review; 004 §2.4, the information-sharing
protocol that agrees the periods).

* **The rule.** Each kind of record (`RetentionKind`) is kept for its period in months
  (offenders.retention_models) after the person's *basis date*: the day they left the
  scheme — the latest `deselected_on` of their programme episodes (PPO, IOM or DYO) —
  or, if later, the date of their last record. People never on the scheme count from
  their last record alone. A record written after someone left cannot be "six years
  after leaving" when it was written five years after: its own date counts. An open
  episode (on the scheme today), an open custody episode or an open referral means the
  person is current: no clock runs.
* **Review, not silent deletion.** Each kind falls due for review on its own date; the
  person falls due for erasure when every kind has (the longest period). Nothing is
  deleted by a date passing: `retention_report` lists who is due, and only an
  administrator's confirmed `retention_erase` removes anything.
* **Erasure** deletes the person and every record of theirs across the apps, in one
  transaction, and writes one audit row saying that record number N existed and was
  erased, the counts per kind, by whom and when. Nothing is anonymised and kept: every
  record that names the person is theirs alone (a conference's minutes are one
  `ConferencePerson` row per person; the conference itself, its date and attendance,
  stays), so nothing else needs their row. The audit trail's earlier rows stay: they
  are append-only and refer to the person by record number.

Which models hold a person's data is the app registry's business, not an import: this
module names them by label (as access.policy does), so `offenders` imports none of the
apps above it, and a test fails when a new model pointing at a person is not listed.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from access import audit
from access.errors import ApplicationError, NotPermitted
from access.models import AuditAction, AuditEvent, FormSubmission
from access.policy import (
    RecordKind,
    as_actor,
    may_erase,
    may_review_retention,
    months_before,
    people_for_retention_review,
    visible_fields,
)

from .models import Offender, ProgrammeEpisode
from .retention_models import DEFAULT_RETENTION_MONTHS, RetentionKind, RetentionRule

OFFENDER = "offenders.offender"
K = RetentionKind


def months_after(day: dt.date, months: int) -> dt.date:
    """The same day of the month `months` later, clamped to that month's last day (31
    August + 6 months = 28 or 29 February)."""
    return months_before(day, -months)


def long_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


# --- The periods -------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    kind: str
    label: str
    months: int
    # False when the scheme has set its own period for this kind (a RetentionRule row).
    is_default: bool
    note: str = ""

    @property
    def in_words(self) -> str:
        years, months = divmod(self.months, 12)
        if months == 0:
            return f"{self.months} months ({years} year{'s' if years != 1 else ''})"
        return f"{self.months} month{'s' if self.months != 1 else ''}"


def retention_periods() -> dict[str, Period]:
    """Every kind's period: the scheme's own where it has set one, the default otherwise."""
    stored = {rule.kind: rule for rule in RetentionRule.objects.all()}
    periods = {}
    for kind in K:
        rule = stored.get(kind.value)
        periods[kind.value] = Period(
            kind=kind.value,
            label=str(kind.label),
            months=rule.months if rule else DEFAULT_RETENTION_MONTHS[kind.value],
            is_default=rule is None,
            note=rule.note if rule else "",
        )
    return periods


# --- Where a person's data is -------------------------------------------------------------


@dataclass(frozen=True)
class PersonRecords:
    """One model holding a person's data: how its rows are found from the person, which
    retention kind they belong to, and what they are called in words."""

    label: str
    person: str
    kind: str
    what: str

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.label)

    def of(self, offender_id: int) -> models.QuerySet[Any]:
        return self.model._default_manager.filter(**{self.person: offender_id})


# In the order erasure deletes them: a row goes before any row it protects (a review
# before the decision it cites, a decision before the episode it opened, an enforcement
# case before the contact that opened it), the person last.
PERSON_RECORDS: tuple[PersonRecords, ...] = (
    PersonRecords("selection.review", "offender_id", K.SELECTION, "reviews"),
    PersonRecords(
        "selection.transferrecord", "decision__offender_id", K.SELECTION, "transfer summaries"
    ),
    PersonRecords("selection.paneldecision", "offender_id", K.SELECTION, "panel decisions"),
    PersonRecords("selection.transferin", "offender_id", K.SELECTION, "transfers in"),
    PersonRecords("selection.runentry", "offender_id", K.SELECTION, "selection run scores"),
    PersonRecords("selection.riskassessment", "offender_id", K.SELECTION, "risk assessments"),
    PersonRecords("reporting.cohortmember", "offender_id", K.SELECTION, "NI30 cohort memberships"),
    PersonRecords(
        "offenders.enforcementstep", "case__offender_id", K.CONTACTS, "enforcement steps"
    ),
    PersonRecords("offenders.enforcementcase", "offender_id", K.CONTACTS, "enforcement cases"),
    PersonRecords("offenders.contactlevel", "offender_id", K.CONTACTS, "contact levels"),
    PersonRecords("offenders.contact", "offender_id", K.CONTACTS, "contacts"),
    PersonRecords("offenders.drugtest", "offender_id", K.DRUG_TESTS, "drug tests"),
    PersonRecords(
        "offenders.receptionassessment",
        "custody__offender_id",
        K.CUSTODY,
        "reception assessments",
    ),
    PersonRecords("offenders.releaseplan", "custody__offender_id", K.CUSTODY, "release plans"),
    PersonRecords("offenders.custodyepisode", "offender_id", K.CUSTODY, "custody episodes"),
    PersonRecords(
        "offenders.offendingevent",
        "offender_id",
        K.OFFENDING,
        "offending events and intelligence reports",
    ),
    PersonRecords("pathways.action", "offender_id", K.PATHWAYS, "actions"),
    PersonRecords("pathways.need", "offender_id", K.PATHWAYS, "needs"),
    PersonRecords("pathways.referral", "offender_id", K.PATHWAYS, "referrals"),
    PersonRecords(
        "conferences.conferenceperson", "offender_id", K.CONFERENCES, "case-conference minutes"
    ),
    PersonRecords(
        "conferences.coregroupmeeting", "offender_id", K.CONFERENCES, "core-group meetings"
    ),
    PersonRecords("offenders.alert", "offender_id", K.PERSON, "alerts"),
    PersonRecords("offenders.gradechange", "offender_id", K.PERSON, "IOM grade changes"),
    PersonRecords("offenders.offenderstrand", "offender_id", K.PERSON, "strands"),
    PersonRecords("offenders.programmeepisode", "offender_id", K.PERSON, "programme episodes"),
    PersonRecords(
        "access.offenderuserobjectpermission",
        "content_object_id",
        K.PERSON,
        "explicit grants of the record",
    ),
    PersonRecords(OFFENDER, "pk", K.PERSON, "person records"),
)

FORM_RECEIPTS = "form receipts naming the person"


@dataclass(frozen=True)
class Dated:
    """A model whose rows date a person's activity: the latest `date` of their rows is
    a "last record" date; a row matching `current` (an open custody episode, an open
    referral) means the person is current today."""

    label: str
    person: str
    date: str
    current: Q | None = None


# Records the scheme's staff wrote about the person: the reviews the sweep raises and the
# scores a selection run computes are made by the scheme itself from these, so they do
# not keep a person on the record by being made. The person row's own dates are not
# here either: an import writes `created_at` on the day of the import, and a corrected
# address is not activity; `created_at` dates only a person with no other record.
ACTIVITY: tuple[Dated, ...] = (
    Dated("offenders.offendingevent", "offender_id", "recorded_on"),
    Dated("offenders.custodyepisode", "offender_id", "released_on", Q(released_on__isnull=True)),
    Dated("offenders.contact", "offender_id", "occurred_at"),
    Dated("offenders.drugtest", "offender_id", "tested_at"),
    Dated("pathways.referral", "offender_id", "closed_on", Q(closed_on__isnull=True)),
    Dated("pathways.need", "offender_id", "set_on"),
    Dated("pathways.action", "offender_id", "updated_at"),
    Dated("selection.riskassessment", "offender_id", "assessed_on"),
    Dated("selection.paneldecision", "offender_id", "panel__held_on"),
    Dated("conferences.conferenceperson", "offender_id", "conference__held_on"),
    Dated("conferences.coregroupmeeting", "offender_id", "held_on"),
)


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    return timezone.localdate(value) if isinstance(value, dt.datetime) else value


# --- Who is due ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Basis:
    """Where a person's retention clock starts, or why it does not run."""

    offender_id: int
    # None: current (on the scheme, in custody or with an open referral): no clock.
    on: dt.date | None
    left_on: dt.date | None = None
    last_record_on: dt.date | None = None
    current_because: str = ""

    @property
    def in_words(self) -> str:
        if self.on is None:
            return self.current_because
        if self.left_on is None:
            assert self.last_record_on is not None
            return f"last record {long_date(self.last_record_on)} (never on the scheme)"
        if self.last_record_on is not None and self.last_record_on > self.left_on:
            return (
                f"last record {long_date(self.last_record_on)}, after leaving the scheme "
                f"on {long_date(self.left_on)}"
            )
        return f"left the scheme on {long_date(self.left_on)}"


def retention_bases(offender_ids: Any, as_of: dt.date) -> dict[int, Basis]:
    """The basis of each person in `offender_ids` (a queryset of ids or a list), in a
    fixed number of grouped queries whatever the number of people."""
    episodes = (
        ProgrammeEpisode.objects.filter(offender_id__in=offender_ids, selected_on__lte=as_of)
        .values("offender_id")
        .annotate(
            open=Count("pk", filter=Q(deselected_on__isnull=True) | Q(deselected_on__gt=as_of)),
            left_on=Max("deselected_on"),
        )
    )
    on_scheme: set[int] = set()
    left: dict[int, dt.date] = {}
    for row in episodes:
        if row["open"]:
            on_scheme.add(row["offender_id"])
        else:
            left[row["offender_id"]] = row["left_on"]
    last: dict[int, dt.date] = {}
    current: dict[int, str] = dict.fromkeys(on_scheme, "on the scheme today")
    for dated in ACTIVITY:
        model = apps.get_model(dated.label)
        person = dated.person
        rows = model._default_manager.filter(**{f"{person}__in": offender_ids})
        annotations: dict[str, Any] = {"latest": Max(dated.date)}
        if dated.current is not None:
            annotations["open"] = Count("pk", filter=dated.current)
        for row in rows.values(person).annotate(**annotations):
            pk = row[person]
            if row.get("open"):
                what = "in custody today" if "custody" in dated.label else "open referral"
                current.setdefault(pk, what)
            if row["latest"] is not None:
                day = _as_date(row["latest"])
                if pk not in last or day > last[pk]:
                    last[pk] = day
    for pk, created_at in Offender.objects.filter(pk__in=offender_ids).values_list(
        "pk", "created_at"
    ):
        if pk not in left and pk not in last:
            last[pk] = _as_date(created_at)
    bases: dict[int, Basis] = {}
    for pk in set(left) | set(last) | set(current):
        left_on, last_on = left.get(pk), last.get(pk)
        if pk in current:
            bases[pk] = Basis(pk, None, left_on, last_on, current_because=current[pk])
            continue
        on = max(day for day in (left_on, last_on) if day is not None)
        bases[pk] = Basis(pk, on, left_on, last_on)
    return bases


@dataclass(frozen=True)
class KindDue:
    period: Period
    due_on: dt.date
    due: bool


@dataclass(frozen=True)
class Due:
    """One person's retention: each kind's review date and the erasure date (every kind
    past its period: the longest period after the basis)."""

    basis: Basis
    kinds: list[KindDue]

    @property
    def erasure_due_on(self) -> dt.date:
        return max(kind.due_on for kind in self.kinds)

    @property
    def erasure_due(self) -> bool:
        return all(kind.due for kind in self.kinds)

    @property
    def any_due(self) -> bool:
        return any(kind.due for kind in self.kinds)

    @property
    def longest(self) -> Period:
        return max((kind.period for kind in self.kinds), key=lambda p: p.months)


def due_for(basis: Basis, periods: dict[str, Period], as_of: dt.date) -> Due | None:
    """A person's review dates, or None while they are current (no clock runs).

    A kind is due for review on the day its period ends and every day after it: left
    on 1 March 2020 with 72 months, due on 1 March 2026, not on 28 February."""
    if basis.on is None:
        return None
    kinds = []
    for period in periods.values():
        due_on = months_after(basis.on, period.months)
        kinds.append(KindDue(period=period, due_on=due_on, due=as_of >= due_on))
    return Due(basis=basis, kinds=kinds)


# --- The report --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportRow:
    offender_id: int
    due: Due
    # What of the person this reader sees besides the record number (policy.visible_fields).
    full_name: str = ""
    pnc_id: str = ""


@dataclass(frozen=True)
class RetentionReport:
    as_of: dt.date
    periods: list[Period]
    rows: list[ReportRow]
    show_name: bool
    show_pnc: bool
    may_erase: bool
    erasure_due_count: int = field(default=0)


def retention_report(*, user: Any, as_of: dt.date | None = None) -> RetentionReport:
    """Everyone with at least one kind of record due for review on `as_of`, those due for
    erasure first, with each kind's period and date. For the administrator and the PPO
    manager (access.policy.people_for_retention_review); names and PNC IDs only for a
    reader whose row of the policy shows them. The rows returned are audited."""
    actor = as_actor(user, as_of)
    as_of = actor.as_of
    if not may_review_retention(actor):
        raise NotPermitted("Only an administrator or the PPO manager can review retention")
    people = people_for_retention_review(actor)
    periods = retention_periods()
    bases = retention_bases(people.values("pk"), as_of)
    dues = [due for basis in bases.values() if (due := due_for(basis, periods, as_of))]
    dues = [due for due in dues if due.any_due]
    shown = visible_fields(actor, RecordKind.IDENTITY)
    show_name, show_pnc = "full_name" in shown, "pnc_id" in shown
    details: dict[int, tuple[str, str]] = {}
    if show_name or show_pnc:
        for pk, first, last_name, pnc in people.filter(
            pk__in=[due.basis.offender_id for due in dues]
        ).values_list("pk", "first_name", "last_name", "pnc_id"):
            details[pk] = (
                f"{first} {last_name}" if show_name else "",
                (pnc or "") if show_pnc else "",
            )
    rows = [
        ReportRow(due.basis.offender_id, due, *details.get(due.basis.offender_id, ("", "")))
        for due in dues
    ]
    rows.sort(key=lambda r: (not r.due.erasure_due, r.due.erasure_due_on, r.offender_id))
    audit.consulted(
        actor,
        OFFENDER,
        [row.offender_id for row in rows],
        view="retention review",
        as_of=as_of.isoformat(),
        shown=sorted(f for f, on in (("full_name", show_name), ("pnc_id", show_pnc)) if on),
    )
    return RetentionReport(
        as_of=as_of,
        periods=list(periods.values()),
        rows=rows,
        show_name=show_name,
        show_pnc=show_pnc,
        may_erase=may_erase(actor),
        erasure_due_count=sum(1 for row in rows if row.due.erasure_due),
    )


# --- Erasure -------------------------------------------------------------------------------


class NoSuchPerson(ApplicationError):
    """No person has this record number (never had, or already erased)."""


class NotErasable(ApplicationError):
    """A person who may not be erased (yet): on the scheme, current, or not yet due."""


@dataclass(frozen=True)
class Erasure:
    """What an erasure removed, or — on a dry run — would remove."""

    offender_id: int
    dry_run: bool
    due: Due
    # {model label: rows}, every model in PERSON_RECORDS (0 where the person has none).
    by_model: dict[str, int]
    # Form receipts whose message names the person (access.submissions).
    form_receipts: int
    # Audit rows whose detail holds one of the person's identifiers (a search typed, an
    # arrival check): kept, the trail is append-only; the count says so honestly.
    audit_rows_with_identifiers: int

    @property
    def by_kind(self) -> dict[str, int]:
        counts = dict.fromkeys(K.values, 0)
        for records in PERSON_RECORDS:
            counts[records.kind] += self.by_model[records.label]
        counts[K.PERSON] += self.form_receipts
        return counts

    @property
    def lines(self) -> list[tuple[str, int, list[tuple[str, int]]]]:
        """Per kind in words, its count and its models' counts, for pages and the command."""
        out = []
        for kind in K:
            parts = [
                (records.what, self.by_model[records.label])
                for records in PERSON_RECORDS
                if records.kind == kind.value
            ]
            if kind is K.PERSON:
                parts.append((FORM_RECEIPTS, self.form_receipts))
            out.append((str(kind.label), sum(n for _, n in parts), parts))
        return out

    @property
    def total(self) -> int:
        return sum(self.by_model.values()) + self.form_receipts


def _refusal_if_not_due(offender_id: int, due: Due | None, basis: Basis | None) -> str:
    if basis is not None and basis.on is None:
        if basis.current_because == "on the scheme today":
            return (
                f"Record {offender_id} is on the scheme today (an open PPO, IOM or DYO "
                "episode): a person on the scheme is never erased. De-select them first."
            )
        return (
            f"Record {offender_id} is current ({basis.current_because}): their retention "
            "period has not started."
        )
    if due is None:
        # No basis at all cannot happen (the person row dates itself); refuse, not guess.
        return f"Record {offender_id} has no date to count retention from."
    if not due.erasure_due:
        longest = due.longest
        return (
            f"Record {offender_id} is not due for erasure until "
            f"{long_date(due.erasure_due_on)}: {due.basis.in_words}, and the longest "
            f"retention period ({longest.label.lower()}) is {longest.in_words}."
        )
    return ""


# Where the audit trail keeps text someone typed: a search of the people list or of a
# panel's candidates, an arrival check's identifier (offenders.arrival).
TYPED_AUDIT_KEYS = ("search", "identifier", "identifier_typed")


def _identifier_audit_rows(offender: Offender) -> int:
    """Audit rows whose typed text holds one of the person's identifiers. One pass over
    the audit table (a few seconds a million rows): names are not looked for, as a
    common name would match searches for other people."""
    identifiers = [v for v in (offender.pnc_id, offender.prison_number, offender.crn) if v]
    if not identifiers:
        return 0
    pattern = "|".join(re.escape(value) for value in identifiers)
    typed = Q()
    for key in TYPED_AUDIT_KEYS:
        typed |= Q(**{f"detail__{key}__iregex": pattern})
    return AuditEvent.objects.filter(typed).count()


def retention_erase(
    *, user: Any, offender_id: int, dry_run: bool = True, as_of: dt.date | None = None
) -> Erasure:
    """Erase a person past retention: every record of theirs in every app, and the person.

    The dry run (the default) counts what would go and changes nothing but the audit
    trail (it records that the administrator looked). The real run deletes in one
    transaction and writes the erasure's audit row in it: record number, counts per
    kind, the date retention ended; who and when are the row's own. Refused — with the
    reason, nothing changed — for anyone but an administrator, a person on the scheme
    today or otherwise current, and a person not yet past every retention period.
    """
    actor = as_actor(user, as_of)
    if not may_erase(actor):
        raise NotPermitted("Only an administrator can erase a person's records")
    as_of = actor.as_of
    with transaction.atomic():
        # The row is locked, so two erasures (or an erasure and a new record's check of
        # the person) cannot interleave; the rule is judged on what is locked.
        offender = Offender.objects.select_for_update().filter(pk=offender_id).first()
        if offender is None:
            raise NoSuchPerson(
                f"There is no person with record number {offender_id}: "
                "check the number (they may have been erased already)"
            )
        basis = retention_bases([offender.pk], as_of).get(offender.pk)
        due = due_for(basis, retention_periods(), as_of) if basis else None
        refusal = _refusal_if_not_due(offender.pk, due, basis)
        if refusal:
            raise NotErasable(refusal)
        assert due is not None
        by_model = {records.label: records.of(offender.pk).count() for records in PERSON_RECORDS}
        receipts = FormSubmission.objects.filter(result_message__contains=offender.full_name)
        erasure = Erasure(
            offender_id=offender.pk,
            dry_run=dry_run,
            due=due,
            by_model=by_model,
            form_receipts=receipts.count(),
            audit_rows_with_identifiers=_identifier_audit_rows(offender),
        )
        detail = {
            "retention_due_on": due.erasure_due_on.isoformat(),
            "erased" if not dry_run else "would_erase": erasure.by_kind,
            "records": {label: n for label, n in by_model.items() if n},
            "audit_rows_with_identifiers_kept": erasure.audit_rows_with_identifiers,
        }
        if dry_run:
            audit.record(
                actor,
                AuditAction.LIST,
                record_type=OFFENDER,
                records=[offender.pk],
                offenders=[offender.pk],
                detail={"view": "retention erasure dry run", **detail},
            )
            return erasure
        for records in PERSON_RECORDS:
            records.of(offender.pk).delete()
        receipts.delete()
        audit.record(
            actor,
            AuditAction.DELETE,
            record_type=OFFENDER,
            records=[offender_id],
            offenders=[offender_id],
            detail={"erasure": "retention period passed", **detail},
        )
    return erasure
