"""Every read of needs, action plans, providers and referrals: given the requesting user,
scoped by the policy.

ACCESS.md "pathway needs and action plan": the PPO manager, key workers, police, prison
staff, YOT and partners read the plans of the people in their scope; the steering group
and administrators read none (403), though the steering group sees the gap view's counts
(aggregates, naming nobody). A partner sees only its own agency's referrals
(`access.policy.referrals_q`).

Functions that return rows to a person write the consultation to the audit trail
themselves; `plans_for` and `plan_snapshot` are building blocks whose callers audit.
Every page here runs a fixed number of queries, whatever the number of rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from access import audit
from access.errors import OutOfScope, Refused
from access.models import Agency, Membership
from access.policy import (
    Actor,
    RecordKind,
    Write,
    as_actor,
    can_see_aggregates,
    grant,
    may_write_kind,
    people_q,
    referrals_q,
    visible_fields,
)
from offenders.models import Offender
from offenders.selectors import offender_get

from .models import (
    CLOSED_REFERRAL_STATUSES,
    NEED_RANK,
    OPEN_ACTION_STATUSES,
    Action,
    Need,
    NeedLevel,
    Pathway,
    Provider,
    Referral,
)
from .services import may_set_need, may_update_action, may_update_referral, person_name_of
from .treatment import TreatmentClock, clocks_for

ACTION = "pathways.action"
NEED = "pathways.need"
REFERRAL = "pathways.referral"
PROVIDER = "pathways.provider"
PAGE_SIZE = 25
# 004 §4.1: the needs a gap in provision is about.
GAP_LEVELS = frozenset({NeedLevel.MEDIUM, NeedLevel.HIGH})
LEVEL_LABELS = dict(NeedLevel.choices)


def may_read_plans(actor: Actor) -> bool:
    return grant(actor, RecordKind.PATHWAYS).can_read


def _reader(user: Any, as_of: dt.date | None = None, record_id: Any = "") -> Actor:
    actor = as_actor(user, as_of)
    if not may_read_plans(actor):
        raise Refused(ACTION, record_id, "role does not read action plans")
    return actor


def person_name(actor: Actor, offender: Offender) -> str:
    # STYLE.md rule 10: the policy says whether this reader sees a name.
    if "full_name" in visible_fields(actor, RecordKind.IDENTITY):
        return offender.full_name
    return "Name not available to you"


def is_overdue(action: Action, as_of: dt.date) -> bool:
    """`ActionQuerySet.overdue_on` for one action: the same rule (due yesterday is
    overdue, due today is not)."""
    return action.status in OPEN_ACTION_STATUSES and action.due_on < as_of


def is_done_since(action: Action, since: dt.date | None) -> bool:
    """Finished (done or not achieved) on or after `since`, e.g. the last conference."""
    return since is not None and action.finished_on is not None and action.finished_on >= since


# --- the plans of several people -------------------------------------------------------------


@dataclass(frozen=True)
class NeedLine:
    """A person's need on one pathway: the level as of the day asked, and as of `since`
    ("distance travelled" since the last conference)."""

    pathway: Pathway
    level: str  # "" when never assessed
    set_on: dt.date | None
    set_by: str
    set_by_agency: str
    note: str = ""
    # None when no `since` was asked for; "" when not assessed by then.
    level_since: str | None = None

    @property
    def level_label(self) -> str:
        return str(LEVEL_LABELS.get(self.level, "Not assessed"))

    @property
    def level_since_label(self) -> str:
        if self.level_since is None:
            return ""
        return str(LEVEL_LABELS.get(self.level_since, "Not assessed"))

    @property
    def change(self) -> int | None:
        """The fall (negative: progress) or rise in level since `since`; None when either
        end is unassessed or no `since` was asked for."""
        if not self.level or not self.level_since:
            return None
        return NEED_RANK[NeedLevel(self.level)] - NEED_RANK[NeedLevel(self.level_since)]

    @property
    def change_words(self) -> str:
        if self.level_since is None:
            return ""
        if not self.level_since:
            return "First assessed" if self.level else "Not assessed"
        change = self.change
        if change is None:
            return "Not assessed"
        if change < 0:
            return f"Down from {self.level_since_label.lower()}"
        if change > 0:
            return f"Up from {self.level_since_label.lower()}"
        return "No change"


@dataclass
class PersonPlan:
    """One person's plan as of a day. Each action carries `overdue` and `done_since`
    (set by the selector, the same rules as `is_overdue` / `is_done_since`)."""

    offender_id: int
    as_of: dt.date
    since: dt.date | None
    needs: list[NeedLine] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)

    @property
    def open_actions(self) -> list[Action]:
        return [a for a in self.actions if a.status in OPEN_ACTION_STATUSES]

    @property
    def overdue_actions(self) -> list[Action]:
        return [a for a in self.actions if is_overdue(a, self.as_of)]

    @property
    def done_since_actions(self) -> list[Action]:
        return [a for a in self.actions if is_done_since(a, self.since)]

    def actions_on(self, pathway_id: int) -> list[Action]:
        return [a for a in self.actions if a.pathway_id == pathway_id]


def _level_on(rows: list[Need], day: dt.date) -> Need | None:
    """The latest of a person's rows on one pathway set on or before `day` (rows newest
    first)."""
    return next((row for row in rows if row.set_on <= day), None)


Since = dt.date | Mapping[int, dt.date] | None


def _since_of(since: Since, offender_id: int) -> dt.date | None:
    return since.get(offender_id) if isinstance(since, Mapping) else since


def _build_plans(offender_ids: list[int], as_of: dt.date, since: Since) -> dict[int, PersonPlan]:
    """Three queries whatever the number of people: pathways, needs, actions."""
    pathways = list(Pathway.objects.order_by("order", "pk"))
    history: dict[tuple[int, int], list[Need]] = defaultdict(list)
    needs = (
        Need.objects.filter(offender_id__in=offender_ids, set_on__lte=as_of)
        .select_related("set_by", "set_by_agency")
        .order_by("offender_id", "pathway_id", "-set_on", "-pk")
    )
    for need in needs:
        history[(need.offender_id, need.pathway_id)].append(need)
    actions: dict[int, list[Action]] = defaultdict(list)
    for action in (
        Action.objects.filter(offender_id__in=offender_ids)
        .select_related("pathway", "owner_agency", "owner")
        .order_by("pathway__order", "due_on", "pk")
    ):
        action.overdue = is_overdue(action, as_of)  # type: ignore[attr-defined]
        action.done_since = is_done_since(  # type: ignore[attr-defined]
            action, _since_of(since, action.offender_id)
        )
        actions[action.offender_id].append(action)
    plans = {}
    for offender_id in offender_ids:
        lines = []
        day = _since_of(since, offender_id)
        for pathway in pathways:
            rows = history.get((offender_id, pathway.pk), [])
            now = rows[0] if rows else None
            then = _level_on(rows, day) if day is not None else None
            lines.append(
                NeedLine(
                    pathway=pathway,
                    level=now.level if now else "",
                    set_on=now.set_on if now else None,
                    set_by=person_name_of(now.set_by) if now and now.set_by else "",
                    set_by_agency=now.set_by_agency.name if now and now.set_by_agency else "",
                    note=now.note if now else "",
                    level_since=(then.level if then else "") if day is not None else None,
                )
            )
        plans[offender_id] = PersonPlan(
            offender_id=offender_id,
            as_of=as_of,
            since=day,
            needs=lines,
            actions=actions.get(offender_id, []),
        )
    return plans


def plans_for(
    *, actor: Any, offender_ids: list[int], as_of: dt.date, since: Since = None
) -> dict[int, PersonPlan]:
    """The plans of the people among `offender_ids` whom the actor may see, for a
    conference's agenda: needs per pathway as of `as_of` (and as of `since`, distance
    travelled: one day for everyone, or a day per person, e.g. each one's last
    conference), all their actions. Nobody's plan for a reader of no plans.

    A building block: it does NOT audit; the caller audits what it shows. A fixed number
    of queries, whatever the number of people."""
    reader = as_actor(actor, as_of)
    if not may_read_plans(reader) or not offender_ids:
        return {}
    in_scope = set(
        Offender.objects.filter(pk__in=list(offender_ids))
        .filter(people_q(reader))
        .values_list("pk", flat=True)
    )
    wanted = [pk for pk in dict.fromkeys(offender_ids) if pk in in_scope]
    return _build_plans(wanted, as_of, since)


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def plan_snapshot(*, offender_ids: list[int], as_of: dt.date) -> dict[int, dict[str, Any]]:
    """The plans as plain JSON values, for a closing conference to freeze
    (ConferencePerson.frozen_plan): a later change of an action never changes what was
    agreed.

    UNSCOPED: it reads every person asked for. Only a service that has already checked
    the actor may close the conference for these people may call it; it is never shown
    to anyone directly."""
    plans = _build_plans(list(dict.fromkeys(offender_ids)), as_of, None)
    snapshot: dict[int, dict[str, Any]] = {}
    for offender_id, plan in plans.items():
        snapshot[offender_id] = {
            "as_of": as_of.isoformat(),
            "needs": [
                {
                    "pathway": line.pathway.code,
                    "pathway_name": line.pathway.name,
                    "level": line.level,
                    "set_on": _iso(line.set_on),
                    "set_by": line.set_by,
                    "set_by_agency": line.set_by_agency,
                }
                for line in plan.needs
            ],
            "actions": [
                {
                    "id": action.pk,
                    "pathway": action.pathway.code,
                    "pathway_name": action.pathway.name,
                    "description": action.description,
                    "owner_agency": action.owner_agency.name,
                    "owner": person_name_of(action.owner) if action.owner else "",
                    "due_on": action.due_on.isoformat(),
                    "status": action.status,
                    "outcome": action.outcome,
                }
                for action in plan.actions
            ],
        }
    return snapshot


# --- one person's "Action plan" tab ----------------------------------------------------------


@dataclass(frozen=True)
class ReferralRow:
    referral: Referral
    is_open: bool
    may_update: bool
    # Treatment on a clock (pathways.treatment): to the assessment and first appointment.
    clock: TreatmentClock | None = None


@dataclass
class PathwaySection:
    pathway: Pathway
    need: NeedLine
    history: list[Need]
    actions: list[tuple[Action, bool]]  # (action, may the reader update it)
    may_set_need: bool

    @property
    def open_count(self) -> int:
        return sum(1 for action, _ in self.actions if action.status in OPEN_ACTION_STATUSES)


@dataclass
class PlanPage:
    offender: Offender
    name: str
    plan: PersonPlan
    sections: list[PathwaySection]
    referrals: list[ReferralRow]
    may_add_action: bool
    may_refer: bool

    @property
    def may_set_any_need(self) -> bool:
        return any(section.may_set_need for section in self.sections)


def person_plan(*, user: Any, offender_id: Any, as_of: dt.date | None = None) -> PlanPage:
    """A person's needs with their history, actions per pathway and referrals, as this
    reader may see them, with what they may change. Refused (403) to a role that reads no
    plans; a person outside their scope is not found (404). Audited as a view."""
    actor = _reader(user, as_of, offender_id)
    offender = offender_get(user=actor, pk=offender_id)
    writable = Offender.objects.filter(pk=offender.pk).filter(people_q(actor, write=True)).exists()
    plan = _build_plans([offender.pk], actor.as_of, None)[offender.pk]
    history: dict[int, list[Need]] = defaultdict(list)
    for need in (
        Need.objects.filter(offender=offender, set_on__lte=actor.as_of)
        .select_related("set_by", "set_by_agency")
        .order_by("pathway_id", "-set_on", "-pk")
    ):
        history[need.pathway_id].append(need)
    writes = grant(actor, RecordKind.PATHWAYS).write is not Write.NONE and writable
    sections = []
    for line in plan.needs:
        pathway = line.pathway
        sections.append(
            PathwaySection(
                pathway=pathway,
                need=line,
                history=history.get(pathway.pk, []),
                actions=[
                    (
                        action,
                        writes
                        and may_write_kind(
                            actor, RecordKind.PATHWAYS, record_agency_id=action.owner_agency_id
                        ),
                    )
                    for action in plan.actions_on(pathway.pk)
                ],
                # ACCESS.md: a partner only on the pathways its agency serves.
                may_set_need=writes
                and may_write_kind(
                    actor,
                    RecordKind.PATHWAYS,
                    record_agency_id=actor.agency_id,
                    pathway_id=pathway.pk,
                ),
            )
        )
    shown_referrals = list(
        Referral.objects.filter(offender=offender)
        .filter(referrals_q(actor))
        .select_related("agency", "provider", "pathway", "referred_by")
    )
    clocks = clocks_for(shown_referrals, as_of=actor.as_of)
    referrals = [
        ReferralRow(
            referral=referral,
            clock=clocks.get(referral.pk),
            is_open=referral.closed_on is None or referral.closed_on > actor.as_of,
            may_update=writes
            and referral.status not in CLOSED_REFERRAL_STATUSES
            and referral.closed_on is None
            and may_write_kind(actor, RecordKind.PATHWAYS, record_agency_id=referral.agency_id),
        )
        for referral in shown_referrals
    ]
    page = PlanPage(
        offender=offender,
        name=person_name(actor, offender),
        plan=plan,
        sections=sections,
        referrals=referrals,
        may_add_action=writes
        and may_write_kind(actor, RecordKind.PATHWAYS, record_agency_id=actor.agency_id),
        may_refer=writes and bool(referral_providers(actor)),
    )
    audit.viewed(actor, offender, view="action plan", shown=["needs", "actions", "referrals"])
    return page


def action_for_update(*, user: Any, action_id: Any) -> tuple[Action, str]:
    """An action about to be updated, and the person's name as the reader may see it.
    Outside the reader's scope, or not theirs to update: 404 (audited). Audited as a
    consultation of the action."""
    actor = _reader(user, None, action_id)
    try:
        pk = int(action_id)
    except (TypeError, ValueError):
        pk = None
    action = (
        Action.objects.filter(pk=pk)
        .filter(people_q(actor, write=True, prefix="offender__"))
        .select_related("offender", "pathway", "owner_agency", "owner", "updated_by")
        .first()
        if pk is not None
        else None
    )
    if action is None or not may_update_action(actor, action):
        audit.denied(actor, ACTION, action_id, "not an action the reader may update")
        raise OutOfScope(ACTION, action_id)
    audit.consulted(actor, ACTION, [action], view="update an action")
    return action, person_name(actor, action.offender)


def referral_for_update(*, user: Any, referral_id: Any) -> tuple[Referral, str]:
    """A referral about to be updated (an open one of an agency the reader writes for)."""
    actor = _reader(user, None, referral_id)
    try:
        pk = int(referral_id)
    except (TypeError, ValueError):
        pk = None
    referral = (
        Referral.objects.filter(pk=pk)
        .filter(referrals_q(actor))
        .select_related("offender", "provider", "agency", "pathway")
        .first()
        if pk is not None
        else None
    )
    if referral is None or not may_update_referral(actor, referral):
        audit.denied(actor, REFERRAL, referral_id, "not a referral the reader may update")
        raise OutOfScope(REFERRAL, referral_id)
    audit.consulted(actor, REFERRAL, [referral], view="update a referral")
    return referral, person_name(actor, referral.offender)


# --- choices for the forms -------------------------------------------------------------------


def owner_agency_choices(actor: Actor) -> list[Agency]:
    """The agencies the actor may give an action to: any active agency, or (a partner,
    Write.OWN_AGENCY) only their own."""
    agencies = Agency.objects.filter(active=True).order_by("name")
    if grant(actor, RecordKind.PATHWAYS).write is Write.OWN_AGENCY:
        agencies = agencies.filter(pk__in=[actor.agency_id])
    return list(agencies)


def owner_choices(actor: Actor, agencies: Iterable[Agency]) -> list[Membership]:
    """The people who may own an action: current members of those agencies."""
    return list(
        Membership.objects.active_on(actor.as_of)
        .filter(agency__in=list(agencies), user__is_active=True)
        .select_related("user", "agency")
        .order_by("agency__name", "user__last_name", "user__first_name", "user__username")
    )


def settable_pathways(actor: Actor, offender_id: int) -> list[Pathway]:
    """The pathways the actor may record this person's need on (`need_set`'s rule: a
    partner only those its agency serves)."""
    return [
        pathway
        for pathway in Pathway.objects.order_by("order", "pk")
        if may_set_need(actor, offender_id, pathway.pk)
    ]


def referral_providers(actor: Actor) -> list[Provider]:
    """The providers the actor may refer to, with their pathways: active ones (a partner:
    its own agency's)."""
    providers = (
        Provider.objects.filter(active=True, agency__active=True)
        .select_related("agency")
        .prefetch_related("pathways")
    )
    if grant(actor, RecordKind.PATHWAYS).write is Write.OWN_AGENCY:
        providers = providers.filter(agency_id__in=[actor.agency_id])
    elif grant(actor, RecordKind.PATHWAYS).write is Write.NONE:
        return []
    return list(providers)


# --- my actions, overdue actions --------------------------------------------------------------


@dataclass(frozen=True)
class ActionRow:
    action: Action
    name: str
    overdue: bool
    may_update: bool


def _action_rows(actor: Actor, page: Page[Action]) -> list[ActionRow]:
    actions = list(page.object_list)
    writable = set(
        Offender.objects.filter(pk__in={a.offender_id for a in actions})
        .filter(people_q(actor, write=True))
        .values_list("pk", flat=True)
    )
    return [
        ActionRow(
            action=action,
            name=person_name(actor, action.offender),
            overdue=is_overdue(action, actor.as_of),
            may_update=action.offender_id in writable
            and may_write_kind(actor, RecordKind.PATHWAYS, record_agency_id=action.owner_agency_id),
        )
        for action in actions
    ]


def _actions_page(
    actor: Actor, actions: QuerySet[Action], page_number: Any, view: str
) -> tuple[Page[Action], list[ActionRow]]:
    actions = actions.filter(people_q(actor, prefix="offender__")).select_related(
        "offender", "pathway", "owner_agency", "owner"
    )
    page = Paginator(actions.order_by("due_on", "pk"), PAGE_SIZE).get_page(page_number)
    rows = _action_rows(actor, page)
    audit.consulted(actor, ACTION, [row.action for row in rows], view=view, page=page.number)
    return page, rows


def my_actions_page(
    *, user: Any, page_number: Any = 1, as_of: dt.date | None = None
) -> tuple[Page[Action], list[ActionRow]]:
    """Open actions owned by me, or by my agency with no owner person, among the people
    I may see; due first. Audited."""
    actor = _reader(user, as_of)
    mine = Q(owner_id=actor.user.pk) if actor.user is not None else Q(pk__in=[])
    if actor.agency_id is not None:
        mine |= Q(owner_agency_id=actor.agency_id, owner__isnull=True)
    return _actions_page(actor, Action.objects.still_open().filter(mine), page_number, "my actions")


def overdue_actions_page(
    *, user: Any, page_number: Any = 1, as_of: dt.date | None = None
) -> tuple[Page[Action], list[ActionRow]]:
    """Open actions due before today among the people I may see; a partner
    (Write.OWN_AGENCY) only its own agency's. Audited."""
    actor = _reader(user, as_of)
    overdue = Action.objects.overdue_on(actor.as_of)
    if grant(actor, RecordKind.PATHWAYS).write is Write.OWN_AGENCY:
        overdue = overdue.filter(owner_agency_id=actor.agency_id)
    return _actions_page(actor, overdue, page_number, "overdue actions")


# --- the providers directory ------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderRow:
    provider: Provider
    pathways: list[Pathway]
    in_use: int

    @property
    def places_left(self) -> int | None:
        if self.provider.reserved_places is None:
            return None
        return max(self.provider.reserved_places - self.in_use, 0)


def provider_directory(*, user: Any, as_of: dt.date | None = None) -> list[ProviderRow]:
    """The active providers, their pathways and reserved capacity (001 §3.2d) with how
    much is in use (open referrals to each). Names nobody, so it is not audited. Two
    queries."""
    actor = _reader(user, as_of)
    day = actor.as_of
    open_referral = Q(referrals__opened_on__lte=day) & (
        Q(referrals__closed_on__isnull=True) | Q(referrals__closed_on__gt=day)
    )
    providers = (
        Provider.objects.filter(active=True)
        .select_related("agency")
        .prefetch_related("pathways")
        .annotate(in_use=Count("referrals", filter=open_referral))
        .order_by("name")
    )
    return [
        ProviderRow(provider=p, pathways=list(p.pathways.all()), in_use=p.in_use) for p in providers
    ]


# --- the gap view (004 §4.1) ------------------------------------------------------------------


@dataclass(frozen=True)
class GapPerson:
    offender_id: int
    name: str
    level: str
    reason: str


@dataclass
class PathwayGap:
    pathway: Pathway
    providers: int
    # People with a medium or high need and no open referral on the pathway.
    count: int = 0
    people: list[GapPerson] = field(default_factory=list)

    @property
    def no_provider(self) -> bool:
        return self.providers == 0


@dataclass
class GapView:
    as_of: dt.date
    names_shown: bool
    pathways: list[PathwayGap]

    @property
    def total(self) -> int:
        return sum(gap.count for gap in self.pathways)


def gap_view(*, user: Any, as_of: dt.date | None = None) -> GapView:
    """004 §4.1, gaps in provision: per pathway, the people whose current need on it is
    medium or high where no active provider serves the pathway or they have no open
    referral on it. Readers of plans see their own people, named; the steering group
    (aggregates only) sees the scheme's counts, naming nobody. Four queries."""
    actor = as_actor(user, as_of)
    names_shown = may_read_plans(actor)
    if not names_shown and not can_see_aggregates(actor):
        raise Refused(NEED, "", "role reads neither plans nor aggregates")
    day = actor.as_of
    latest = (
        Need.objects.filter(
            offender_id=OuterRef("offender_id"), pathway_id=OuterRef("pathway_id"), set_on__lte=day
        )
        .order_by("-set_on", "-pk")
        .values("pk")[:1]
    )
    needs = Need.objects.filter(set_on__lte=day).filter(pk=Subquery(latest))
    if names_shown:
        needs = needs.filter(people_q(actor, prefix="offender__"))
    needs = needs.filter(level__in=GAP_LEVELS).select_related("offender")
    pathways = list(
        Pathway.objects.annotate(
            n=Count("providers", filter=Q(providers__active=True, providers__agency__active=True))
        ).order_by("order", "pk")
    )
    found = list(needs.order_by("offender__last_name", "offender__first_name", "pk"))
    referred = set(
        Referral.objects.open_on(day)
        .filter(offender_id__in={n.offender_id for n in found})
        .values_list("offender_id", "pathway_id")
    )
    gaps = {p.pk: PathwayGap(pathway=p, providers=p.n) for p in pathways}  # type: ignore[attr-defined]
    shown: list[Need] = []
    for need in found:
        gap = gaps[need.pathway_id]
        if gap.no_provider:
            reason = "No provider serves this pathway"
        elif (need.offender_id, need.pathway_id) not in referred:
            reason = "No open referral on this pathway"
        else:
            continue
        gap.count += 1
        if names_shown:
            shown.append(need)
            gap.people.append(
                GapPerson(
                    offender_id=need.offender_id,
                    name=person_name(actor, need.offender),
                    level=str(LEVEL_LABELS[need.level]),
                    reason=reason,
                )
            )
    if shown:
        audit.consulted(actor, NEED, shown, view="gap view")
    return GapView(as_of=day, names_shown=names_shown, pathways=list(gaps.values()))


# --- lists for the partner API (issue 12) -------------------------------------------------
# Scoped querysets, not audited: as with `offenders.selectors.offender_list`, the caller
# audits the rows it actually returns (pathways.api audits each page it serves).


def action_list(*, user: Any, as_of: dt.date | None = None) -> QuerySet[Action]:
    """Every action of the people in the reader's scope, as their plan tabs show them (a
    partner reads every action of its people, ACCESS.md "R all"). Refused (403) to a role
    that reads no plans, as the pages are."""
    actor = _reader(user, as_of)
    return Action.objects.filter(people_q(actor, prefix="offender__")).select_related(
        "pathway", "owner_agency", "owner"
    )


def referral_list(*, user: Any, as_of: dt.date | None = None) -> QuerySet[Referral]:
    """The referrals the reader may see (`access.policy.referrals_q`: a partner only its
    own agency's), as the plan tab shows them. Refused (403) to a role that reads no plans."""
    actor = _reader(user, as_of)
    return Referral.objects.filter(referrals_q(actor)).select_related(
        "agency", "provider", "pathway"
    )
