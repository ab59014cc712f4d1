"""Every read of people and their records: given the requesting user, scoped by the policy.

Functions that return rows to a person (a page, a profile, an export) write the
consultation to the audit trail themselves, so no caller can forget to.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import (
    Case,
    Count,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)

from access import audit
from access.errors import OutOfScope, Refused
from access.policy import (
    RecordKind,
    Scope,
    as_actor,
    grant,
    may_write_kind,
    offending_events_q,
    people_q,
    records_q,
    visible_fields,
)

from .models import (
    Contact,
    ContactOutcome,
    CustodyEpisode,
    DrugTest,
    EventKind,
    Offender,
    OffendingEvent,
)
from .presentation import Detail, Flag, flags, identity_details, search_q
from .tiers import TIER_FIELD, tier_q, with_tier

OFFENDER = "offenders.offender"


def offender_list(
    *, user: Any, search: str = "", as_of: dt.date | None = None, write: bool = False
) -> QuerySet[Offender]:
    """The people the user may see, optionally matching the words searched for.

    The search looks only in the fields the user may see (a partner: names only), so
    what it matches never reveals a hidden identifier or alias.
    """
    actor = as_actor(user, as_of)
    qs = (
        Offender.objects.filter(people_q(actor, write=write))
        .with_status(actor.as_of)
        .select_related("key_worker")
    )
    words = search.split()
    if words:
        condition = search_q(words, visible_fields(actor, RecordKind.IDENTITY))
        qs = qs.filter(condition) if condition is not None else qs.none()
    return qs


RELEASE_FIELDS = frozenset({"released_on", "expected_release_on"})


def shows_release_dates(actor: Any) -> bool:
    """A prison's list of people gives each one's release date from that establishment, where
    the policy lets the viewer see release dates."""
    shown = visible_fields(actor, RecordKind.CUSTODY)
    return actor.scope is Scope.PRISON and shown >= RELEASE_FIELDS


def with_release_here(people: QuerySet[Offender], actor: Any) -> QuerySet[Offender]:
    """Annotate `release_here_on` (the day released from the viewer's establishment, latest
    spell there) and `expected_release_here_on` (of a spell there still open), in the list's
    own query."""
    here = CustodyEpisode.objects.filter(
        offender=OuterRef("pk"), establishment_id=actor.agency_id, started_on__lte=actor.as_of
    ).order_by("-started_on", "-pk")
    open_here = here.filter(Q(released_on__isnull=True) | Q(released_on__gt=actor.as_of))
    return people.annotate(
        expected_release_here_on=Subquery(open_here.values("expected_release_on")[:1]),
        release_here_on=Subquery(
            here.filter(released_on__lte=actor.as_of).values("released_on")[:1]
        ),
    )


def offender_page(
    *, user: Any, search: str = "", page_number: Any = 1, per_page: int = 25, tier: str = ""
) -> Page[Offender]:
    """One page of the people list, on `tier` if given (offenders.tiers; the caller offers
    only the tiers the user may filter by): the rows returned are audited as a consultation."""
    actor = as_actor(user)
    people = offender_list(user=actor, search=search)
    if tier:
        people = people.filter(tier_q(tier, actor.as_of))
    if TIER_FIELD in visible_fields(actor, RecordKind.IDENTITY):
        people = with_tier(people, actor.as_of)
    if shows_release_dates(actor):
        people = with_release_here(people, actor)
    paginator = Paginator(people, per_page)
    page = paginator.get_page(page_number)
    filters = {"tier": tier} if tier else {}
    audit.consulted(actor, OFFENDER, page.object_list, search=search, page=page.number, **filters)
    return page


def offender_get(
    *, user: Any, pk: Any, as_of: dt.date | None = None, write: bool = False
) -> Offender:
    """One person, if the user may see (or change) them; otherwise 404, and the refusal audited.

    A role that sees nobody's records (the steering group, the administrator: ACCESS.md
    "Who is in scope") is refused with a 403 whatever the record number: the answer is the
    same for every number, so it says nothing about who exists, and it tells them plainly
    that person pages are not theirs rather than that the person is missing."""
    actor = as_actor(user, as_of)
    if actor.scope is Scope.NOBODY:
        raise Refused(OFFENDER, pk, "this role sees no one's records")
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


@dataclass(frozen=True)
class CustodySummary:
    """Custody as a partner may see it (ACCESS.md): in custody or not, and a release date."""

    in_custody: bool
    release_on: dt.date | None
    # "Expected release" while in custody; "Last released" once out.
    release_label: str

    @property
    def release_text(self) -> str:
        if self.release_on is not None:
            return f"{self.release_on.day} {self.release_on:%B %Y}"
        return "Not known" if self.in_custody else "None recorded"


# How many of each kind of record the profile's overview shows, newest first: contacts,
# drug tests, custody episodes, offending incidents and alerts. The rest are on the
# timeline, so the profile costs the same for a record of 5,000 events as of 50 (issue 15).
PROFILE_RECENT = 10


@dataclass
class Incident:
    """One offence as the record holds it: its arrest, charge and conviction (or caution,
    breach, recall) together, each a stage.

    The data model has no incident reference linking the stages: each stage is an
    `OffendingEvent` carrying the offence day (`occurred_on`) and the day that stage was
    recorded (`recorded_on`), as imports and the police's entries record them
    (docs/import-formats.md; the demo's arrest, charge and conviction of one offence
    share its day and category). So the events of one person with the same offence day
    and offence category are one incident; an intelligence report is an item of its own.
    """

    occurred_on: dt.date
    category: Any  # OffenceCategory | None
    # The stages in the order they happened (by the day recorded), each an event.
    stages: list[OffendingEvent] = field(default_factory=list)

    @property
    def is_intelligence(self) -> bool:
        return self.stages[0].kind == EventKind.INTELLIGENCE

    @property
    def title(self) -> str:
        if self.is_intelligence:
            return "Intelligence report"
        return self.category.name if self.category is not None else "Offence not categorised"

    @property
    def latest_stage(self) -> OffendingEvent:
        return self.stages[-1]


@dataclass
class Overview:
    """The top of the profile (issue 13.5): who works with the person, how this week is
    going and what the reader should know, each only where the policy lets them see it."""

    key_worker: str | None = None  # None: not shown to this reader
    this_week: Any = None  # offenders.compliance.PersonWeek, for readers of compliance
    week: Any = None  # offenders.compliance.Week
    last_contact: Contact | None = None
    reads_contacts: bool = False
    # The reader's own alerts about this person (offenders.custody_release), unread first.
    alerts: list[Any] = field(default_factory=list)


@dataclass
class Profile:
    offender: Offender
    identity_fields: frozenset[str]
    custody_fields: frozenset[str]
    details: list[Detail] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    overview: Overview = field(default_factory=Overview)
    # The PROFILE_RECENT most recent incidents, newest first; whether there are more.
    incidents: list[Incident] = field(default_factory=list)
    more_incidents: bool = False
    counts_only: dict[str, int] = field(default_factory=dict)
    # Whole custody episodes (the most recent), for those who may see them; otherwise the
    # summary.
    custody: list[CustodyEpisode] = field(default_factory=list)
    more_custody: bool = False
    custody_summary: CustodySummary | None = None
    contacts: list[Contact] = field(default_factory=list)
    more_contacts: bool = False
    drug_tests: list[DrugTest] | None = None
    more_drug_tests: bool = False
    # The contact level today and its history (offenders.contact_levels), for its readers.
    contact_level: Any = None
    shows: dict[str, bool] = field(default_factory=dict)
    recent: int = PROFILE_RECENT

    @property
    def open_custody(self) -> CustodyEpisode | None:
        """The custody episode the person is in now, for the header (where, release date)."""
        return next((c for c in self.custody if c.released_on is None), None)


# Seeing these fields of custody means seeing the custody history itself, episode by episode.
CUSTODY_HISTORY_FIELDS = frozenset({"started_on", "kind", "establishment"})


def custody_summary(
    actor: Any, offender: Offender, *, fields: frozenset[str]
) -> CustodySummary | None:
    """In custody yes or no, and the release date, for a viewer who may see only that."""
    if "in_custody" not in fields:
        return None
    in_custody = getattr(offender, "current_status", "community") != "community"
    episodes = CustodyEpisode.objects.filter(offender=offender).filter(
        records_q(actor, RecordKind.CUSTODY, "offenders.custodyepisode")
    )
    if in_custody:
        latest = episodes.open_on(actor.as_of).order_by("-started_on").first()
        day = latest.expected_release_on if latest else None
        label = "Expected release"
    else:
        latest = episodes.filter(released_on__lte=actor.as_of).order_by("-released_on").first()
        day = latest.released_on if latest else None
        label = "Last released"
    if day is not None and not ({"expected_release_on", "released_on"} & fields):
        day = None
    return CustodySummary(in_custody=in_custody, release_on=day, release_label=label)


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


def _newest(rows: Any, n: int) -> tuple[list[Any], bool]:
    """The first `n` rows of a (newest-first) queryset, and whether there are more: one
    query with LIMIT n + 1, whatever the length of the record."""
    found = list(rows[: n + 1])
    return found[:n], len(found) > n


def recent_incidents(
    actor: Any, offender: Offender, n: int = PROFILE_RECENT
) -> tuple[list[Incident], bool]:
    """The person's `n` most recent incidents (`Incident`) the reader may read, newest
    offence first, each with all its readable stages; and whether there are more. Two
    queries with LIMITs, so a record of 5,000 events costs what one of 50 does."""
    readable = OffendingEvent.objects.filter(offender=offender).filter(offending_events_q(actor))
    # An intelligence report is its own item: keyed by its record number, the rest by 0.
    alone = Case(
        When(kind=EventKind.INTELLIGENCE, then=F("pk")),
        default=Value(0),
        output_field=IntegerField(),
    )
    keys = list(
        readable.annotate(alone=alone)
        .order_by(
            F("occurred_on").desc(), F("category_id").desc(nulls_last=True), F("alone").desc()
        )
        .values_list("occurred_on", "category_id", "alone")
        .distinct()[: n + 1]
    )
    more, keys = len(keys) > n, keys[:n]
    if not keys:
        return [], False
    wanted = Q()
    for day, category_id, pk in keys:
        if pk:
            wanted |= Q(pk=pk)
        else:
            wanted |= Q(occurred_on=day, category_id=category_id) & ~Q(kind=EventKind.INTELLIGENCE)
    incidents: dict[tuple[Any, ...], Incident] = {}
    for day, category_id, pk in keys:
        incidents[(day, category_id, pk)] = Incident(occurred_on=day, category=None)
    for event in (
        readable.filter(wanted)
        .select_related("category", "source_agency")
        .order_by("recorded_on", "pk")
    ):
        pk = event.pk if event.kind == EventKind.INTELLIGENCE else 0
        incident = incidents[(event.occurred_on, event.category_id, pk)]
        incident.category = event.category
        incident.stages.append(event)
    return [i for i in incidents.values() if i.stages], more


def _overview(actor: Any, offender: Offender, profile: Profile) -> Overview:
    """The overview's facts, each through the policy; a fixed number of queries."""
    from .compliance import can_see_compliance, week_containing, weekly_compliance
    from .premium_models import Alert

    overview = Overview()
    if "key_worker" in profile.identity_fields:
        overview.key_worker = next(d.text for d in profile.details if d.field == "key_worker")
    if can_see_compliance(actor):
        overview.week = week_containing(actor.as_of)
        table = weekly_compliance(user=actor, as_of=actor.as_of, offender_ids=[offender.pk])
        overview.this_week = table.get(offender.pk, overview.week)
    if grant(actor, RecordKind.CONTACTS).can_read:
        overview.reads_contacts = True
        overview.last_contact = (
            Contact.objects.filter(offender=offender, outcome=ContactOutcome.ATTENDED)
            .filter(records_q(actor, RecordKind.CONTACTS, "offenders.contact"))
            .select_related("worker", "agency")
            .order_by("-occurred_at", "-pk")
            .first()
        )
    if actor.user is not None:
        overview.alerts = list(
            Alert.objects.filter(recipient=actor.user, offender=offender).order_by(
                F("read_at").desc(nulls_first=True), "-created_at", "-pk"
            )[:PROFILE_RECENT]
        )
        if overview.alerts:
            audit.consulted(actor, "offenders.alert", overview.alerts, view="profile")
    return overview


def _tier_today(offender: Offender, as_of: dt.date) -> str:
    return str(
        with_tier(Offender.objects.filter(pk=offender.pk), as_of)
        .values_list("current_tier", flat=True)
        .first()
        or ""
    )


def offender_profile(*, user: Any, pk: Any, as_of: dt.date | None = None) -> Profile:
    """A person's record as this user may see it, overview first (issue 13.5): the most
    recent PROFILE_RECENT of each kind of record, the rest on the timeline, in a number of
    queries that does not depend on the length of the record (issue 15). The view is
    audited with what was shown."""
    actor = as_actor(user, as_of)
    offender = offender_get(user=actor, pk=pk)
    identity = visible_fields(actor, RecordKind.IDENTITY)
    if TIER_FIELD in identity:
        offender.current_tier = _tier_today(offender, actor.as_of)  # type: ignore[attr-defined]
    profile = Profile(
        offender=offender,
        identity_fields=identity,
        custody_fields=visible_fields(actor, RecordKind.CUSTODY),
        details=identity_details(offender, identity),
        flags=flags(offender, identity, as_of=actor.as_of),
    )
    shown: list[str] = [RecordKind.IDENTITY]
    if (
        grant(actor, RecordKind.OFFENDING).can_read
        or grant(actor, RecordKind.INTELLIGENCE).can_read
    ):
        profile.incidents, profile.more_incidents = recent_incidents(actor, offender)
        shown.append("events")
    profile.counts_only = offending_counts_only(actor, offender)
    if profile.custody_fields >= CUSTODY_HISTORY_FIELDS:
        profile.custody, profile.more_custody = _newest(
            CustodyEpisode.objects.filter(offender=offender)
            .filter(records_q(actor, RecordKind.CUSTODY, "offenders.custodyepisode"))
            .select_related("establishment")
            .order_by("-started_on", "-pk"),
            PROFILE_RECENT,
        )
        shown.append(RecordKind.CUSTODY)
    elif profile.custody_fields:
        profile.custody_summary = custody_summary(actor, offender, fields=profile.custody_fields)
        shown.append("custody_summary")
    if grant(actor, RecordKind.CONTACTS).can_read:
        profile.contacts, profile.more_contacts = _newest(
            Contact.objects.filter(offender=offender)
            .filter(records_q(actor, RecordKind.CONTACTS, "offenders.contact"))
            .select_related("worker", "agency")
            .order_by("-occurred_at", "-pk"),
            PROFILE_RECENT,
        )
        shown.append(RecordKind.CONTACTS)
    if grant(actor, RecordKind.DRUG_TESTS).can_read:
        profile.drug_tests, profile.more_drug_tests = _newest(
            DrugTest.objects.filter(offender=offender)
            .filter(records_q(actor, RecordKind.DRUG_TESTS, "offenders.drugtest"))
            .select_related("agency")
            .order_by("-tested_at", "-pk"),
            PROFILE_RECENT,
        )
        shown.append(RecordKind.DRUG_TESTS)
    profile.overview = _overview(actor, offender, profile)
    from .contact_levels import person_level  # it reads people through this module

    profile.contact_level = person_level(actor, offender)
    if profile.contact_level is not None:
        shown.append("contact_level")
    profile.shows = {str(k): True for k in shown}
    audit.viewed(actor, offender, shown=[str(k) for k in shown])
    return profile


def offender_for_form(
    *, user: Any, pk: Any, kind: RecordKind, record_agency_id: int | None = None
) -> Offender:
    """A person whose record the user is about to add to or change with a form.

    Outside the people they may change: 404, as for any record out of scope. In scope but
    not allowed this kind of record (a key worker and the IOM grade): 403 (`Refused`).
    Both refusals are audited.
    """
    actor = as_actor(user)
    offender = offender_get(user=actor, pk=pk, write=True)
    if not may_write_kind(actor, kind, record_agency_id=record_agency_id):
        raise Refused(OFFENDER, offender.pk, f"role may not record {kind.value}")
    return offender


def offender_form_shown(actor: Any, offender: Offender, *, form: str, shown: list[str]) -> None:
    """A form page about a person is a consultation of what it shows (DPA 2018 s.62)."""
    audit.viewed(as_actor(actor), offender, view=form, shown=sorted(shown))


def possible_duplicates(*, user: Any, ids: list[int]) -> tuple[list[Offender], int]:
    """The people a new record may duplicate, as the user may see them, and how many
    others there are that the user may not see. The ones shown are audited."""
    actor = as_actor(user)
    visible = list(Offender.objects.filter(pk__in=ids).filter(people_q(actor)))
    if visible:
        audit.consulted(actor, OFFENDER, visible, view="possible duplicates")
    return visible, len(set(ids)) - len(visible)


# --- Lists of a kind of record, for the partner API (issue 12) -------------------------------
# Scoped querysets, not audited: as with `offender_list`, the caller audits the rows it
# actually returns (offenders.api audits each page it serves).


def offending_event_list(*, user: Any, as_of: dt.date | None = None) -> QuerySet[OffendingEvent]:
    """Offending events and intelligence reports the user may read (two record kinds)."""
    actor = as_actor(user, as_of)
    return OffendingEvent.objects.filter(offending_events_q(actor)).select_related(
        "category", "source_agency"
    )


def contact_list(*, user: Any, as_of: dt.date | None = None) -> QuerySet[Contact]:
    actor = as_actor(user, as_of)
    return Contact.objects.filter(
        records_q(actor, RecordKind.CONTACTS, "offenders.contact")
    ).select_related("agency", "worker")


def drug_test_list(*, user: Any, as_of: dt.date | None = None) -> QuerySet[DrugTest]:
    actor = as_actor(user, as_of)
    return DrugTest.objects.filter(
        records_q(actor, RecordKind.DRUG_TESTS, "offenders.drugtest")
    ).select_related("agency", "tester")


def custody_episode_list(*, user: Any, as_of: dt.date | None = None) -> QuerySet[CustodyEpisode]:
    """Custody episodes the user may read. A reader who may see only whether a person is
    in custody and the release date (a partner, ACCESS.md) gets each person's latest
    episode only, as the profile's summary shows them: never the history episode by
    episode (CUSTODY_HISTORY_FIELDS)."""
    actor = as_actor(user, as_of)
    episodes = CustodyEpisode.objects.filter(
        records_q(actor, RecordKind.CUSTODY, "offenders.custodyepisode")
    ).select_related("establishment")
    if not visible_fields(actor, RecordKind.CUSTODY) >= CUSTODY_HISTORY_FIELDS:
        latest = (
            CustodyEpisode.objects.filter(
                offender=OuterRef("offender"), started_on__lte=actor.as_of
            )
            .order_by("-started_on", "-pk")
            .values("pk")[:1]
        )
        episodes = episodes.filter(pk=Subquery(latest))
    return episodes
