"""The access policy: ACCESS.md in code, in one place.

Two questions, each answered once:

* **Which people** may this actor see (or change) today? `people_q()` builds a
  `Q` over `Offender` (or over any model that points at one, via `prefix`).
  Lists, searches, exports, reports and the API filter with it; the check on
  one person (`can_see_person`) runs the *same* `Q` against that one row, so the
  two answers cannot disagree.
* **What of a person** may they see or change? `grant()` reads the table below
  (ACCESS.md "What they see of a person in scope") and `records_q()` turns a
  grant into a filter for a kind of record.

Deny by default: a role, record kind or field not granted here is refused.
Facts that decide access (age, open referral, custody, membership) are read
from the database on every call (a user's membership once per request, until one
is saved: `actor_for`): nothing is cached across requests.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from .context import request_context
from .models import AgencyKind, Membership, Role

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

    from .models import Agency

# ACCESS.md "Who is in scope": prison staff keep a released person for 3 months,
# partners keep a person for 3 months after the referral closes (read only).
PRISON_RELEASE_GRACE_MONTHS = 3
PARTNER_CLOSED_REFERRAL_GRACE_MONTHS = 3


class RecordKind(enum.StrEnum):
    IDENTITY = "identity"
    OFFENDING = "offending"
    INTELLIGENCE = "intelligence"
    CUSTODY = "custody"
    CONTACTS = "contacts"
    DRUG_TESTS = "drug_tests"
    PATHWAYS = "pathways"
    CONFERENCES = "conferences"
    SELECTION = "selection"
    AUDIT_LOG = "audit_log"


class Read(enum.IntEnum):
    NONE = 0
    COUNT = 1  # counts only, e.g. "3 intelligence reports since last conference"
    FULL = 2


class Write(enum.IntEnum):
    NONE = 0
    OWN_AGENCY = 1  # records their own agency made or owns
    ALL = 2


class Rows(enum.StrEnum):
    """Which rows of a kind a reader sees, within the people in scope."""

    ALL = "all"
    OWN_AGENCY = "own_agency"  # records made by their own agency
    ATTENDED = "attended"  # conferences their agency attended


@dataclass(frozen=True)
class Grant:
    read: Read = Read.NONE
    write: Write = Write.NONE
    rows: Rows = Rows.ALL
    # None = every field; otherwise only these (field-level rule, ACCESS.md).
    fields: frozenset[str] | None = None
    # The grant holds only for agencies of these kinds (e.g. drug tests: treatment only).
    agency_kinds: frozenset[str] | None = None
    # Partner needs may be written only on the pathways their agency serves.
    served_pathways_only: bool = False

    @property
    def can_read(self) -> bool:
        return self.read == Read.FULL

    @property
    def can_count(self) -> bool:
        return self.read >= Read.COUNT


NOTHING = Grant()
R = Grant(read=Read.FULL)
RW = Grant(read=Read.FULL, write=Write.ALL)
C = Grant(read=Read.COUNT)

# Every field of a record kind that a page, CSV, PDF, agenda or API response may show,
# filter, sort or search on. A field that is not named here is shown to nobody: adding a
# field to a model hides it until it is granted here (ACCESS.md "Deny by default").
IDENTITY_FIELDS = frozenset(
    {
        "id",
        "first_name",
        "last_name",
        "full_name",
        "date_of_birth",
        "age",
        "address",
        "phone",
        "aliases",
        "sex",
        "ethnicity",
        "pnc_id",
        "cro_number",
        "prison_number",
        "crn",
        "local_ref",
        # "status": community / custody / remand, from the custody episodes open today.
        "status",
        "supervision",
        "dip_client",
        "crasbo",
        "mappa_level",
        "iom_grade",
        # "strands": the set of strands a person is on (000 §2.2: not mutually exclusive).
        "strands",
        # "tier": PPO, IOM or DYO today (the open programme episode), former, or none.
        "tier",
        "asset_score",
        "scaled_approach",
        "key_worker",
        "offender_manager",
        "police_officer",
    }
)
CUSTODY_FIELDS = frozenset(
    {
        "id",
        # "in_custody": yes or no today, whatever the kind of custody.
        "in_custody",
        "expected_release_on",
        "released_on",
        "kind",
        "establishment",
        "started_on",
        "sentence_length_months",
        "supervision_on_release",
    }
)
FIELDS: dict[RecordKind, frozenset[str]] = {
    RecordKind.IDENTITY: IDENTITY_FIELDS,
    RecordKind.CUSTODY: CUSTODY_FIELDS,
}

# ACCESS.md: a partner sees a person's name, date of birth and contact details, and of
# custody only whether they are in custody and the release date.
PARTNER_IDENTITY_FIELDS = frozenset(
    {"id", "first_name", "last_name", "full_name", "date_of_birth", "age", "address", "phone"}
)
PARTNER_CUSTODY_FIELDS = frozenset({"id", "in_custody", "expected_release_on", "released_on"})

K = RecordKind

# The role of the scheme acting by itself (scheduled work, no user): not a `Role` a
# membership can hold, so nobody signs in with it.
SYSTEM_ROLE = "system"

# ACCESS.md, "What they see of a person in scope" — one row per record kind.
TABLE: dict[str, dict[RecordKind, Grant]] = {
    Role.PPO_MANAGER: {
        K.IDENTITY: RW,
        K.OFFENDING: RW,
        K.INTELLIGENCE: RW,
        K.CUSTODY: RW,
        K.CONTACTS: RW,
        K.DRUG_TESTS: RW,
        K.PATHWAYS: RW,
        K.CONFERENCES: RW,
        K.SELECTION: RW,
        K.AUDIT_LOG: R,
    },
    Role.KEY_WORKER: {
        K.IDENTITY: R,
        K.OFFENDING: R,
        K.INTELLIGENCE: C,
        K.CUSTODY: RW,
        K.CONTACTS: RW,
        K.DRUG_TESTS: RW,
        K.PATHWAYS: RW,
        K.CONFERENCES: R,
        K.SELECTION: R,
    },
    Role.POLICE_OFFICER: {
        K.IDENTITY: RW,
        K.OFFENDING: RW,
        K.INTELLIGENCE: RW,
        K.CUSTODY: R,
        K.CONTACTS: RW,
        K.DRUG_TESTS: R,
        K.PATHWAYS: R,
        K.CONFERENCES: R,
        K.SELECTION: R,
    },
    Role.PRISON_WORKER: {
        K.IDENTITY: R,
        K.OFFENDING: R,
        K.CUSTODY: RW,
        K.CONTACTS: Grant(read=Read.FULL, write=Write.OWN_AGENCY, rows=Rows.OWN_AGENCY),
        K.DRUG_TESTS: RW,
        K.PATHWAYS: R,
        K.CONFERENCES: Grant(read=Read.FULL, rows=Rows.ATTENDED),
    },
    Role.YOT_WORKER: {
        K.IDENTITY: RW,
        K.OFFENDING: RW,
        # Police and YOT share intelligence on Deter Young Offenders (004 §5.1).
        K.INTELLIGENCE: R,
        K.CUSTODY: RW,
        K.CONTACTS: RW,
        K.DRUG_TESTS: RW,
        K.PATHWAYS: RW,
        K.CONFERENCES: R,
        K.SELECTION: R,
    },
    Role.PARTNER_WORKER: {
        K.IDENTITY: Grant(read=Read.FULL, fields=PARTNER_IDENTITY_FIELDS),
        K.OFFENDING: C,
        K.CUSTODY: Grant(read=Read.FULL, fields=PARTNER_CUSTODY_FIELDS),
        K.CONTACTS: Grant(read=Read.FULL, write=Write.OWN_AGENCY, rows=Rows.OWN_AGENCY),
        K.DRUG_TESTS: Grant(read=Read.FULL, agency_kinds=frozenset({AgencyKind.TREATMENT})),
        K.PATHWAYS: Grant(read=Read.FULL, write=Write.OWN_AGENCY, served_pathways_only=True),
        K.CONFERENCES: Grant(read=Read.FULL, rows=Rows.ATTENDED),
    },
    # Aggregates only: no row that names a person; small counts in breakdowns are
    # suppressed complementarily (access.disclosure).
    Role.STEERING_GROUP: {},
    # Manages users, agencies and reference data; reads the audit log; no casework.
    Role.ADMINISTRATOR: {K.AUDIT_LOG: R},
    # The scheme itself, acting with no user (`system_actor`): the daily sweep of reviews
    # reads what the rules of 003 §6.2 are about and writes reviews, nothing else.
    SYSTEM_ROLE: {
        K.IDENTITY: R,
        K.OFFENDING: R,
        K.INTELLIGENCE: R,
        K.CUSTODY: R,
        K.DRUG_TESTS: R,
        K.SELECTION: RW,
    },
}


class Scope(enum.StrEnum):
    """ACCESS.md "Who is in scope", one value per row."""

    EVERYONE = "everyone"
    SCHEME = "scheme"  # current and former PPOs and DYOs
    PRISON = "prison"
    YOUTH = "youth"
    REFERRED = "referred"
    NOBODY = "nobody"


ROLE_SCOPE: dict[str, Scope] = {
    Role.PPO_MANAGER: Scope.EVERYONE,
    Role.POLICE_OFFICER: Scope.EVERYONE,
    Role.KEY_WORKER: Scope.SCHEME,
    Role.PRISON_WORKER: Scope.PRISON,
    Role.YOT_WORKER: Scope.YOUTH,
    Role.PARTNER_WORKER: Scope.REFERRED,
    Role.STEERING_GROUP: Scope.NOBODY,
    Role.ADMINISTRATOR: Scope.NOBODY,
    # The review sweep looks at the whole scheme, as the PPO manager does.
    SYSTEM_ROLE: Scope.EVERYONE,
}


@dataclass(frozen=True)
class Actor:
    """Who is acting, in which role, for which agency, on which day."""

    user: Any
    membership: Membership | None
    as_of: dt.date = field(default_factory=timezone.localdate)
    # Set only by `system_actor`: what the scheme is doing by itself (e.g. "review sweep").
    system: str = ""

    @property
    def role(self) -> str | None:
        if self.membership:
            return self.membership.role
        return SYSTEM_ROLE if self.system else None

    @property
    def agency(self) -> Agency | None:
        return self.membership.agency if self.membership else None

    @property
    def agency_id(self) -> int | None:
        return self.membership.agency_id if self.membership else None

    @property
    def scope(self) -> Scope:
        return ROLE_SCOPE.get(self.role or "", Scope.NOBODY)

    def grant(self, kind: RecordKind) -> Grant:
        return grant(self, kind)


def actor_for(user: AbstractBaseUser | AnonymousUser | None, as_of: dt.date | None = None) -> Actor:
    """The actor for a user today: their one active membership, read fresh from the
    database once per request (`access.context.request_context`: the view, the
    navigation and the selectors of one page all ask), and on every call outside one."""
    as_of = as_of or timezone.localdate()
    if user is None or not user.is_authenticated or not user.is_active:
        return Actor(user=None, membership=None, as_of=as_of)
    ctx = request_context()
    key = (user.pk, as_of)
    if ctx is not None and key in ctx.memberships:
        return Actor(user=user, membership=ctx.memberships[key], as_of=as_of)
    membership = (
        Membership.objects.active_on(as_of)
        .filter(user_id=user.pk, agency__active=True)
        .select_related("agency")
        .first()
    )
    if ctx is not None:
        ctx.memberships[key] = membership
    return Actor(user=user, membership=membership, as_of=as_of)


def system_actor(what: str, as_of: dt.date) -> Actor:
    """The scheme acting by itself, with no user: scheduled work such as the daily sweep
    of reviews (selection.reviews). Its scope is the whole scheme and its grants are the
    `SYSTEM_ROLE` row of the table; the audit trail names it by `what`."""
    if not what:
        raise ValueError("name what the scheme is doing")
    return Actor(user=None, membership=None, as_of=as_of, system=what)


def as_actor(who: Actor | Any, as_of: dt.date | None = None) -> Actor:
    if isinstance(who, Actor):
        if as_of is None or as_of == who.as_of:
            return who
        if who.system:
            return system_actor(who.system, as_of)
        return actor_for(who.user, as_of)
    return actor_for(who, as_of)


def grant(actor: Actor, kind: RecordKind) -> Grant:
    if actor.membership is None and not actor.system:
        return NOTHING
    found = TABLE.get(actor.role or "", {}).get(kind, NOTHING)
    if found.agency_kinds is not None and (
        actor.agency is None or actor.agency.kind not in found.agency_kinds
    ):
        return NOTHING
    return found


# --- Which people -----------------------------------------------------------------------


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day of the month `months` earlier (clamped to that month's last day)."""
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for candidate_day in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, candidate_day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _none(prefix: str) -> Q:
    return Q(**{f"{prefix}pk__in": []})


def _admitted_ids(actor: Actor, *, write: bool) -> list[Any]:
    """The offender ids each rule of the actor's scope admits, one `values()` queryset a
    rule (empty for a scope that admits nobody; not called for everyone)."""
    from offenders.models import (
        CustodyEpisode,
        Offender,
        ProgrammeEpisode,
        ProgrammeKind,
        years_before,
    )
    from pathways.models import Referral

    from .models import OffenderUserObjectPermission

    as_of = actor.as_of
    scope = actor.scope
    # order_by(): a member of a UNION may not carry its model's default ordering.
    admitted: list[Any] = []
    if scope is Scope.SCHEME:
        # Current and former PPOs and DYOs of the scheme (a stepped-down PPO on the IOM
        # tier is a former PPO; someone only ever on IOM is not in this scope).
        admitted.append(
            ProgrammeEpisode.objects.filter(
                kind__in=[ProgrammeKind.PPO, ProgrammeKind.DYO], selected_on__lte=as_of
            )
            .order_by()
            .values("offender_id")
        )
    elif scope is Scope.PRISON:
        # PPOs and former PPOs with an open custody episode in this establishment,
        # or released from it in the last 3 months.
        since = months_before(as_of, PRISON_RELEASE_GRACE_MONTHS)
        was_ppo = ProgrammeEpisode.objects.filter(
            kind=ProgrammeKind.PPO, selected_on__lte=as_of
        ).values("offender_id")
        admitted.append(
            CustodyEpisode.objects.filter(
                establishment_id=actor.agency_id,
                started_on__lte=as_of,
                offender_id__in=was_ppo,
            )
            .filter(Q(released_on__isnull=True) | Q(released_on__gt=since))
            .order_by()
            .values("offender_id")
        )
    elif scope is Scope.YOUTH:
        # Under 18 today, and DYOs of any age until their exit review closes (003 §7.5).
        admitted.append(
            Offender.objects.filter(date_of_birth__gt=years_before(as_of, 18))
            .order_by()
            .values("pk")
        )
        admitted.append(
            ProgrammeEpisode.objects.filter(kind=ProgrammeKind.DYO)
            .open_on(as_of)
            .order_by()
            .values("offender_id")
        )
    elif scope is Scope.REFERRED and actor.agency_id is not None:
        referrals = Referral.objects.filter(agency_id=actor.agency_id)
        if write:
            referrals = referrals.open_on(as_of)
        else:
            since = months_before(as_of, PARTNER_CLOSED_REFERRAL_GRACE_MONTHS)
            referrals = referrals.filter(opened_on__lte=as_of).filter(
                Q(closed_on__isnull=True) | Q(closed_on__gt=since)
            )
        admitted.append(referrals.order_by().values("offender_id"))
    else:
        return []

    if not write and actor.user is not None:
        # Explicit one-off grants of a person to a user (django-guardian), read only.
        admitted.append(
            OffenderUserObjectPermission.objects.filter(
                user=actor.user, permission__codename="view_offender"
            )
            .order_by()
            .values("content_object_id")
        )
    return admitted


def people_q(actor: Actor, *, write: bool = False, prefix: str = "") -> Q:
    """The people this actor may see (or, with write=True, change), as a filter.

    `prefix` applies the filter through a relation, e.g. "offender__" on Contact.

    One `pk IN (…)` of the ids the scope's rules admit (a UNION when more than one rule
    does), never OR'ed correlated EXISTS: PostgreSQL cannot turn an EXISTS under an OR
    into a join and guesses that half the people match each one (issue 15: ~75% of
    50,000 for a key worker's 300), so it scanned everyone; an IN of a subquery becomes
    a semi-join it estimates from the subquery's own rows.
    """
    if actor.scope is Scope.EVERYONE:
        return Q()
    admitted = _admitted_ids(actor, write=write)
    if not admitted:
        return _none(prefix)
    first, *others = admitted
    return Q(**{f"{prefix}pk__in": first.union(*others) if others else first})


def people(actor: Actor, *, write: bool = False) -> Any:
    """All `Offender` rows the actor may see (or change)."""
    from offenders.models import Offender

    return Offender.objects.filter(people_q(actor, write=write))


def can_see_person(actor: Actor, offender_id: int) -> bool:
    """The single-object form of people_q: the same rule, run against one row."""
    from offenders.models import Offender

    return Offender.objects.filter(pk=offender_id).filter(people_q(actor)).exists()


def can_change_person(actor: Actor, offender_id: int) -> bool:
    from offenders.models import Offender

    return Offender.objects.filter(pk=offender_id).filter(people_q(actor, write=True)).exists()


def may_check_arrivals(actor: Actor) -> bool:
    """The one carve-out of "Who is in scope" (ACCESS.md), for the arrival check.

    002 (inspection): PPOs should be "identifiable on arrival in prison custody". Prison
    staff see only people already in their establishment, so they could not otherwise
    tell that someone just arrived is a PPO. A prison worker (of a prison agency) may ask
    whether a PNC ID or prison number belongs to a PPO or former PPO and learn only that
    answer and the scheme contact (offenders.arrival): never a name, a date of birth or
    anything else of the record; each check audited and rate limited. A match lets them
    record the reception, which opens a custody episode in their establishment and so
    brings the person into their scope by the ordinary rule above. Nobody else needs the
    check: every other role that may know a person is a PPO already has them in scope.
    """
    agency = actor.agency
    return (
        actor.role == Role.PRISON_WORKER
        and agency is not None
        and agency.kind == AgencyKind.PRISON
        and agency.active
    )


# --- What of a person -------------------------------------------------------------------

# The field on each record model that says which agency made or owns the record.
AGENCY_FIELD = {
    "offenders.contact": "agency",
    "offenders.drugtest": "agency",
    "offenders.offendingevent": "source_agency",
    "offenders.custodyepisode": "establishment",
    "pathways.referral": "agency",
    "pathways.action": "owner_agency",
    "pathways.need": "set_by_agency",
    # An enforcement case is casework on the contact that opened it (offenders.enforcement).
    "offenders.enforcementcase": "contact__agency",
}


def kind_of_event(event_kind: str) -> RecordKind:
    from offenders.models import EventKind

    return K.INTELLIGENCE if event_kind == EventKind.INTELLIGENCE else K.OFFENDING


def records_q(actor: Actor, kind: RecordKind, model_label: str, *, count_only: bool = False) -> Q:
    """Rows of a record kind the actor may read (or, with count_only, count)."""
    g = grant(actor, kind)
    allowed = g.can_count if count_only else g.can_read
    if not allowed:
        return Q(pk__in=[])
    rule = people_q(actor, prefix="offender__")
    if g.rows is Rows.OWN_AGENCY:
        rule &= Q(**{f"{AGENCY_FIELD[model_label]}_id": actor.agency_id})
    elif g.rows is Rows.ATTENDED:
        rule &= attended_q(actor, model_label)
    return rule


def attended_q(actor: Actor, model_label: str) -> Q:
    """ACCESS.md "conference minutes and agendas — R (attended)": the conference records
    of conferences the actor's agency was invited to or attended (an `Attendance` row is
    the invitation; whether it came is recorded on it), and the core-group meetings their
    agency was present at. An actor with no agency has none."""
    from conferences.models import Attendance, CoreGroupMeeting

    agency_id = actor.agency_id
    if agency_id is None:
        return Q(pk__in=[])
    if model_label == "conferences.coregroupmeeting":
        present = CoreGroupMeeting.agencies.through.objects.filter(
            coregroupmeeting_id=OuterRef("pk"), agency_id=agency_id
        )
        return Q(Exists(present))
    conference = {"conferences.caseconference": "pk", "conferences.conferenceperson": "conference"}
    invited = Attendance.objects.filter(
        conference=OuterRef(conference[model_label]), agency_id=agency_id
    )
    return Q(Exists(invited))


def conferences_q(actor: Actor) -> Q:
    """The case conferences (`CaseConference` rows) this actor may read: every one for a
    full reader, those their agency was invited to for `Rows.ATTENDED` (prison and
    partner staff), none without the grant. Which *people* of a conference they see is
    `records_q(actor, RecordKind.CONFERENCES, "conferences.conferenceperson")`."""
    g = grant(actor, K.CONFERENCES)
    if not g.can_read:
        return Q(pk__in=[])
    if g.rows is Rows.ATTENDED:
        return attended_q(actor, "conferences.caseconference")
    return Q()


def referrals_q(actor: Actor) -> Q:
    """Referrals the actor may read, as a filter on `Referral`: those of the people in
    scope, for whoever reads pathway records; a partner only its own agency's (issue 9:
    "partners see their agency's referrals" — which other agencies a person is referred
    to is not theirs to know)."""
    g = grant(actor, K.PATHWAYS)
    if not g.can_read:
        return Q(pk__in=[])
    rule = people_q(actor, prefix="offender__")
    if actor.scope is Scope.REFERRED:
        rule &= Q(agency_id=actor.agency_id)
    return rule


def offending_events_q(actor: Actor, *, count_only: bool = False) -> Q:
    """Offending events and intelligence reports are different record kinds in ACCESS.md."""
    from offenders.models import EventKind

    label = "offenders.offendingevent"
    offending = grant(actor, K.OFFENDING)
    intelligence = grant(actor, K.INTELLIGENCE)
    allowed = ((g.can_count if count_only else g.can_read) for g in (offending, intelligence))
    if all(allowed) and offending.rows is intelligence.rows is Rows.ALL:
        # Both kinds on the same terms: one scope filter, not the same one OR'ed twice
        # (which PostgreSQL cannot turn into a join; see people_q).
        return records_q(actor, K.OFFENDING, label, count_only=count_only)
    return (
        records_q(actor, K.OFFENDING, label, count_only=count_only)
        & ~Q(kind=EventKind.INTELLIGENCE)
    ) | (
        records_q(actor, K.INTELLIGENCE, label, count_only=count_only)
        & Q(kind=EventKind.INTELLIGENCE)
    )


def visible_fields(actor: Actor, kind: RecordKind) -> frozenset[str]:
    """The fields of a record kind this actor may see: nothing if they may not read it,
    the kind's whole field list (`FIELDS`) for a full grant, the grant's own set otherwise.

    Every page, CSV, PDF and API response renders, filters, sorts and searches only these.
    """
    g = grant(actor, kind)
    if not g.can_read:
        return frozenset()
    every = FIELDS.get(kind, frozenset())
    return every if g.fields is None else g.fields & every


def can_write(
    actor: Actor,
    kind: RecordKind,
    offender_id: int,
    *,
    record_agency_id: int | None = None,
    pathway_id: int | None = None,
) -> bool:
    """May the actor create or change a record of this kind for this person?"""
    return may_write_kind(
        actor, kind, record_agency_id=record_agency_id, pathway_id=pathway_id
    ) and can_change_person(actor, offender_id)


def may_write_kind(
    actor: Actor,
    kind: RecordKind,
    *,
    record_agency_id: int | None = None,
    pathway_id: int | None = None,
) -> bool:
    """The record-kind half of can_write, for someone already known to be writable."""
    g = grant(actor, kind)
    if g.write is Write.NONE:
        return False
    if g.write is Write.OWN_AGENCY and record_agency_id != actor.agency_id:
        return False
    if g.served_pathways_only and pathway_id is not None:
        agency = actor.agency
        if agency is None or not agency.pathways_served.filter(pk=pathway_id).exists():
            return False
    return True


# ACCESS.md: aggregates for the steering group (and the PPO manager, who sees everyone).
AGGREGATE_ROLES = frozenset({Role.STEERING_GROUP, Role.PPO_MANAGER})


def can_see_aggregates(actor: Actor) -> bool:
    return actor.role in AGGREGATE_ROLES


def may_draft_ni30_cohort(actor: Actor) -> bool:
    """003 Annex A: the PPO manager drafts the year's NI30 cohort, and so does the scheme
    itself on 1 April (reporting.tasks), for the manager to confirm."""
    return actor.role in (Role.PPO_MANAGER, SYSTEM_ROLE)


def may_confirm_ni30_cohort(actor: Actor) -> bool:
    """003 Annex A: the cohort is confirmed by a person, the PPO manager; never by the
    scheduled task."""
    return actor.role == Role.PPO_MANAGER


def people_for_counting(actor: Actor) -> Any:
    """Everyone, for roles that may see scheme-wide counts; nobody otherwise.

    Only for aggregates: a report that counts from this must never show a row that
    names or identifies a person, and protects small counts in breakdowns by a personal
    characteristic with access.disclosure (ACCESS.md "Aggregates and small numbers").
    """
    from offenders.models import Offender

    if not can_see_aggregates(actor):
        return Offender.objects.none()
    return Offender.objects.all()


def counted_records(actor: Actor, person_field: str = "offender") -> Q:
    """`people_for_counting` as a condition on a record's person: no condition at all for
    roles that count everyone (so a force-wide count of events need not join 680,000
    people to themselves), no record for the others."""
    if not can_see_aggregates(actor):
        return Q(**{f"{person_field}__in": []})
    return Q()


# Retention review and erasure (DPA 2018 Part 3 s.39; offenders.retention): the
# administrator manages the data and so its retention; the PPO manager, who sees everyone
# in the scheme, may read which records are due for review, to say what must be kept.
RETENTION_REVIEW_ROLES = frozenset({Role.ADMINISTRATOR, Role.PPO_MANAGER})


def may_review_retention(actor: Actor) -> bool:
    return actor.role in RETENTION_REVIEW_ROLES


def may_erase(actor: Actor) -> bool:
    """Only an administrator erases a person past retention (ACCESS.md "Administration");
    both the administrator and the PPO manager read the retention review. Neither is
    given more of a person by it than their row of the table: the administrator sees
    record numbers and dates, no name or identifier (`visible_fields` gives them none)."""
    return actor.role == Role.ADMINISTRATOR


def people_for_retention_review(actor: Actor) -> Any:
    """Everyone, for the roles that review retention (`RETENTION_REVIEW_ROLES`); nobody
    otherwise. Which of a person's fields are shown is `visible_fields`, as everywhere."""
    from offenders.models import Offender

    if not may_review_retention(actor):
        return Offender.objects.none()
    return Offender.objects.all()


def can_read_audit_log(actor: Actor) -> bool:
    return grant(actor, K.AUDIT_LOG).can_read


def may_use_admin_site(user: Any) -> bool:
    """Active staff whose current membership is Administrator; and, to set up a new
    install, a superuser made on the command line (createsuperuser). A PPO manager does
    casework on the pages, which hold the rules the admin would bypass (ACCESS.md
    "Administration")."""
    if user is None or not user.is_authenticated or not user.is_active or not user.is_staff:
        return False
    return bool(user.is_superuser) or actor_for(user).role == Role.ADMINISTRATOR
