"""Every read of people and their records: given the requesting user, scoped by the policy.

Functions that return rows to a person (a page, a profile, an export) write the
consultation to the audit trail themselves, so no caller can forget to.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet

from access import audit
from access.errors import OutOfScope
from access.policy import (
    RecordKind,
    as_actor,
    grant,
    offending_events_q,
    people_q,
    records_q,
    visible_fields,
)

from .models import Contact, CustodyEpisode, DrugTest, EventKind, Offender, OffendingEvent

OFFENDER = "offenders.offender"


def offender_list(
    *, user: Any, search: str = "", as_of: dt.date | None = None, write: bool = False
) -> QuerySet[Offender]:
    """The people the user may see, optionally matching a name, PNC ID, CRN or prison number."""
    actor = as_actor(user, as_of)
    qs = (
        Offender.objects.filter(people_q(actor, write=write))
        .with_status(actor.as_of)
        .select_related("key_worker")
    )
    search = search.strip()
    if search:
        words = search.split()
        for word in words:
            qs = qs.filter(
                Q(first_name__icontains=word)
                | Q(last_name__icontains=word)
                | Q(aliases__icontains=word)
                | Q(pnc_id__icontains=word)
                | Q(crn__iexact=word)
                | Q(prison_number__iexact=word)
                | Q(local_ref__iexact=word)
            )
    return qs


def offender_page(
    *, user: Any, search: str = "", page_number: Any = 1, per_page: int = 25
) -> Page[Offender]:
    """One page of the people list: the rows returned are audited as a consultation."""
    actor = as_actor(user)
    paginator = Paginator(offender_list(user=actor, search=search), per_page)
    page = paginator.get_page(page_number)
    audit.consulted(actor, OFFENDER, page.object_list, search=search, page=page.number)
    return page


def offender_get(
    *, user: Any, pk: Any, as_of: dt.date | None = None, write: bool = False
) -> Offender:
    """One person, if the user may see (or change) them; otherwise 404, and the refusal audited."""
    actor = as_actor(user, as_of)
    try:
        offender_id = int(pk)
    except (TypeError, ValueError):
        raise OutOfScope(OFFENDER, pk) from None
    offender = (
        Offender.objects.filter(pk=offender_id)
        .filter(people_q(actor, write=write))
        .with_status(actor.as_of)
        .select_related("key_worker", "offender_manager", "police_officer")
        .first()
    )
    if offender is None:
        audit.denied(actor, OFFENDER, offender_id, "outside scope" if not write else "not writable")
        raise OutOfScope(OFFENDER, offender_id)
    return offender


@dataclass
class Profile:
    offender: Offender
    identity_fields: frozenset[str] | None
    custody_fields: frozenset[str] | None
    events: list[OffendingEvent] = field(default_factory=list)
    counts_only: dict[str, int] = field(default_factory=dict)
    custody: list[CustodyEpisode] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    drug_tests: list[DrugTest] | None = None
    shows: dict[str, bool] = field(default_factory=dict)
    under_18: bool = False

    @property
    def open_custody(self) -> CustodyEpisode | None:
        """The custody episode the person is in now, for the header (where, release date)."""
        return next((c for c in self.custody if c.released_on is None), None)


def offending_counts_only(actor: Any, offender: Offender) -> dict[str, int]:
    """For roles that may count but not read (ACCESS.md "C"): how many there are.

    One query whatever the number of events, e.g. "3 intelligence reports".
    """
    wanted = {
        kind: label
        for kind, label in (
            (RecordKind.INTELLIGENCE, "intelligence reports"),
            (RecordKind.OFFENDING, "offending events"),
        )
        if grant(actor, kind).can_count and not grant(actor, kind).can_read
    }
    if not wanted:
        return {}
    rows = (
        OffendingEvent.objects.filter(offender=offender)
        .filter(offending_events_q(actor, count_only=True))
        .aggregate(
            intelligence=Count("pk", filter=Q(kind=EventKind.INTELLIGENCE)),
            offending=Count("pk", filter=~Q(kind=EventKind.INTELLIGENCE)),
        )
    )
    return {label: rows[str(kind)] for kind, label in wanted.items()}


def offender_profile(*, user: Any, pk: Any, as_of: dt.date | None = None) -> Profile:
    """A person's record as this user may see it; the view is audited with what was shown."""
    actor = as_actor(user, as_of)
    offender = offender_get(user=actor, pk=pk)
    profile = Profile(
        offender=offender,
        identity_fields=visible_fields(actor, RecordKind.IDENTITY),
        custody_fields=visible_fields(actor, RecordKind.CUSTODY),
        under_18=offender.age_on(actor.as_of) < 18,
    )
    shown: list[str] = [RecordKind.IDENTITY]
    events = OffendingEvent.objects.filter(offender=offender).select_related(
        "category", "source_agency"
    )
    if (
        grant(actor, RecordKind.OFFENDING).can_read
        or grant(actor, RecordKind.INTELLIGENCE).can_read
    ):
        profile.events = list(events.filter(offending_events_q(actor)))
        shown.append("events")
    profile.counts_only = offending_counts_only(actor, offender)
    if grant(actor, RecordKind.CUSTODY).can_read:
        profile.custody = list(
            CustodyEpisode.objects.filter(offender=offender)
            .filter(records_q(actor, RecordKind.CUSTODY, "offenders.custodyepisode"))
            .select_related("establishment")
        )
        shown.append(RecordKind.CUSTODY)
    if grant(actor, RecordKind.CONTACTS).can_read:
        profile.contacts = list(
            Contact.objects.filter(offender=offender)
            .filter(records_q(actor, RecordKind.CONTACTS, "offenders.contact"))
            .select_related("worker", "agency")[:50]
        )
        shown.append(RecordKind.CONTACTS)
    if grant(actor, RecordKind.DRUG_TESTS).can_read:
        profile.drug_tests = list(
            DrugTest.objects.filter(offender=offender)
            .filter(records_q(actor, RecordKind.DRUG_TESTS, "offenders.drugtest"))
            .select_related("agency")[:50]
        )
        shown.append(RecordKind.DRUG_TESTS)
    profile.shows = {str(k): True for k in shown}
    audit.viewed(actor, offender, shown=[str(k) for k in shown])
    return profile
