"""Reads for the selection panel pages: panels, their decisions, and what the chair needs
to decide about one person.

ACCESS.md "selection scores, panel decisions, reviews": the PPO manager, key workers and
police read them; YOT reads its own people; prison staff, partners, the steering group
and administrators nothing (403). A panel's decisions are shown only about the people
the reader may see (`people_q`); the others are counted, never named. Whatever names a
person is audited (a list as a consultation, one person's page as a view).

Pages built on these run a fixed number of queries, whatever the number of panels or
decisions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from access import audit
from access.errors import ApplicationError, OutOfScope, Refused
from access.models import Agency, Membership, Role
from access.policy import (
    Actor,
    RecordKind,
    Write,
    as_actor,
    grant,
    people_q,
    visible_fields,
)
from offenders.models import Offender, ProgrammeEpisode
from offenders.selectors import offender_get, offender_list

from . import panel
from .models import (
    DecisionKind,
    PanelDecision,
    PanelKind,
    RiskAssessment,
    RunEntry,
    SelectionPanel,
)
from .selectors import record_id, selection_reader
from .services import may_change_selection

PANEL = "selection.selectionpanel"
DECISION = "selection.paneldecision"
OFFENDER = "offenders.offender"
# How many people a name search on a panel's page lists (the rest: refine the search).
SEARCH_LIMIT = 20
# The decisions that take someone off a tier: the page asks "are you sure?" before
# recording them (shared/UI.md "Panel decision": de-selection "Are you sure?").
OFF_TIER_KINDS = frozenset({DecisionKind.DESELECT, DecisionKind.STEP_DOWN, DecisionKind.EXIT_DIP})
# Who may chair a selection panel: the PPO manager (DESIGN.md: probation chairs), or a
# police officer or key worker / offender manager of the adult scheme. The service lets
# the chair record the panel's decisions (selection.panel: "the panel's chair or a PPO
# manager"); a YOT worker records only DYO decisions even as chair, so YOT workers chair
# DYO panels, which the DYO pages record (selection.dyo_views). PPO managers first.
CHAIR_ROLES = [Role.PPO_MANAGER, Role.POLICE_OFFICER, Role.KEY_WORKER]


def _reader(user: Any, record_id: Any = "") -> Actor:
    return selection_reader(user, PANEL, record_id)  # type: ignore[no-any-return]


def person_name(actor: Actor, offender: Offender) -> str:
    # STYLE.md rule 10: the policy says whether this reader sees a name.
    if "full_name" in visible_fields(actor, RecordKind.IDENTITY):
        return offender.full_name
    return "Name not available to you"


# --- who may do what ------------------------------------------------------------------------


def may_record_panels(actor: Actor) -> bool:
    """`panel_create`'s rule, so that "Record a panel" is offered only to those it accepts."""
    return may_change_selection(actor)


def may_decide(actor: Actor, selection_panel: SelectionPanel) -> bool:
    """`panel_decide`'s rule (the panel's chair or a PPO manager), so that "Record a
    decision" is offered only to those it accepts; test_panel_pages checks they agree."""
    if not grant(actor, RecordKind.SELECTION).can_read:
        return False
    chairs = actor.user is not None and selection_panel.chair_id == actor.user.pk
    return may_change_selection(actor) or chairs


def decidable_panels(actor: Actor) -> QuerySet[SelectionPanel]:
    """The selection panels whose decisions this actor may record on these pages: all of
    them for a PPO manager, those they chair for anyone else who reads selection. (DYO
    panels record their decisions from the DYO pages.)"""
    if not grant(actor, RecordKind.SELECTION).can_read or actor.user is None:
        return SelectionPanel.objects.none()
    panels = (
        SelectionPanel.objects.filter(kind=PanelKind.SELECTION)
        .select_related("chair")
        .order_by("-held_on", "-pk")
    )
    return panels if may_change_selection(actor) else panels.filter(chair_id=actor.user.pk)


def may_decide_any(user: Any) -> bool:
    """Whether to offer "Record a decision" beside a ranking's rows: to a PPO manager
    (who may record the panel first) and to the chair of a panel."""
    actor = as_actor(user)
    if not grant(actor, RecordKind.SELECTION).can_read:
        return False
    return may_change_selection(actor) or decidable_panels(actor).exists()


# --- panels ---------------------------------------------------------------------------------


def _visible_decisions(actor: Actor) -> QuerySet[PanelDecision]:
    return PanelDecision.objects.filter(people_q(actor, prefix="offender__"))


def panel_list(*, user: Any) -> QuerySet[SelectionPanel]:
    """The panels, newest first, with how many decisions about people the reader may see
    each recorded (a count: it names no one)."""
    actor = _reader(user)
    counted = (
        _visible_decisions(actor)
        .filter(panel=OuterRef("pk"))
        .order_by()
        .values("panel")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        SelectionPanel.objects.select_related("chair")
        .prefetch_related(Prefetch("agencies", queryset=Agency.objects.order_by("name")))
        .annotate(
            decision_count=Coalesce(
                Subquery(counted, output_field=IntegerField()),
                Value(0),
                output_field=IntegerField(),
            )
        )
        .order_by("-held_on", "-pk")
    )


@dataclass
class PanelPage:
    panel: SelectionPanel
    decisions: list[PanelDecision]
    # Decisions about people outside the reader's scope: counted, never named.
    not_shown: int = 0
    # The run the panel's decisions are measured against (selection.panel: the latest
    # on or before the panel's date), if there is one.
    ranking_run_id: int | None = None
    ranking_run_as_of: dt.date | None = None


def _ranking_run(day: dt.date) -> Any:
    # The same run selection.panel.ranking_entry measures a decision against.
    from .models import SelectionRun

    return SelectionRun.objects.filter(as_of__lte=day).order_by("-as_of", "-run_at", "-pk").first()


def panel_get(*, user: Any, panel_id: Any) -> SelectionPanel:
    """One panel's record (date, chair, agencies, notes): no one's personal data."""
    actor = _reader(user, panel_id)
    pk = record_id(panel_id)
    found = (
        SelectionPanel.objects.select_related("chair", "created_by")
        .prefetch_related(Prefetch("agencies", queryset=Agency.objects.order_by("name")))
        .filter(pk=pk)
        .first()
        if pk is not None
        else None
    )
    if found is None:
        audit.denied(actor, PANEL, panel_id, "no such panel")
        raise OutOfScope(PANEL, panel_id)
    return found


def panel_page(*, user: Any, panel_id: Any) -> PanelPage:
    """A panel and its decisions about the people the reader may see; those are audited."""
    actor = _reader(user, panel_id)
    selection_panel = panel_get(user=actor, panel_id=panel_id)
    every = PanelDecision.objects.filter(panel=selection_panel)
    visible = list(
        every.filter(people_q(actor, prefix="offender__"))
        .select_related(
            "offender", "opened_episode", "closed_episode", "decided_by", "exit_lead_agency"
        )
        .order_by("pk")
    )
    run = _ranking_run(selection_panel.held_on)
    page = PanelPage(
        panel=selection_panel,
        decisions=visible,
        not_shown=every.count() - len(visible),
        ranking_run_id=run.pk if run else None,
        ranking_run_as_of=run.as_of if run else None,
    )
    audit.consulted(actor, DECISION, visible, panel=selection_panel.pk, view="selection panel")
    return page


def person_search(*, user: Any, search: str) -> tuple[list[Offender], bool]:
    """People matching a name or identifier search, for a panel's "Record a decision":
    at most SEARCH_LIMIT, and whether there were more. The search looks only in the
    fields the reader may see (offenders.selectors.offender_list); results are audited."""
    actor = as_actor(user)
    if not search.strip():
        return [], False
    found = list(
        offender_list(user=actor, search=search).order_by("last_name", "first_name")[
            : SEARCH_LIMIT + 1
        ]
    )
    more = len(found) > SEARCH_LIMIT
    found = found[:SEARCH_LIMIT]
    audit.consulted(actor, OFFENDER, found, view="panel person search", search=search)
    return found, more


# --- one decision ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Recommendation:
    """What the ranking a decision is measured against says about the person."""

    entry: RunEntry | None
    recommended: bool
    capacity: int = 0

    @property
    def listed(self) -> bool:
        return self.entry is not None


@dataclass
class DecisionContext:
    panel: SelectionPanel
    offender: Offender
    name: str
    # The person's tier on the panel's date ("" = none) and the episode that holds it.
    tier: str
    episode: ProgrammeEpisode | None
    recommendation: Recommendation
    latest_risk_assessment: RiskAssessment | None
    # The run the decision is measured against, if there is one.
    ranking_run_id: int | None = None
    ranking_run_as_of: dt.date | None = None
    # The kinds of decision this actor may record here about someone on `tier`, and for
    # each whether it departs from the ranking (and so needs a reason).
    kinds: list[tuple[str, str, bool]] = field(default_factory=list)
    # A DYO decision that applies, recorded from the DYO pages: its URL name, or "".
    dyo_page: str = ""
    dyo_label: str = ""

    @property
    def tier_words(self) -> str:
        return panel.TIER_WORDS.get(self.tier, self.tier)


# DYO decisions need the Asset score, Scaled Approach and exit strategy: their own pages.
DYO_PAGES: dict[str, str] = {
    DecisionKind.MARK_DYO: "selection:dyo-mark",
    DecisionKind.END_DYO: "selection:dyo-end",
}


def _offered(
    actor: Actor,
    selection_panel: SelectionPanel,
    offender: Offender,
    applies: list[tuple[str, str]],
    recommended: bool,
) -> list[tuple[str, str, bool]]:
    """The kinds of decision the form offers: those that apply to the person's tier, but
    not DYO ones (their own pages), and only those the service lets this actor record
    about this person at this panel (its own checks of who decides and of under-18s, so
    the form offers nothing it would refuse for those reasons)."""
    offered = []
    for kind, label in applies:
        if kind in panel.DYO_KINDS:
            continue
        try:
            panel.check_dyo_decider(actor, selection_panel, offender, kind)
            panel.check_under_18_ppo(kind, offender, selection_panel.held_on)
        except ApplicationError:
            continue
        offered.append((kind, label, panel.departs_from_ranking(kind, recommended)))
    return offered


def decision_context(*, user: Any, panel_id: Any, offender_id: Any, view: str) -> DecisionContext:
    """What the chair sees before recording a decision about one person at a panel:
    their tier on the panel's date and what the ranking recommends. Refused (403) to
    anyone who may not record the panel's decisions; a person outside the reader's scope
    is not found (404). The page is audited as a view of the person (`view`)."""
    actor = _reader(user, panel_id)
    selection_panel = panel_get(user=actor, panel_id=panel_id)
    if not may_decide(actor, selection_panel):
        raise Refused(PANEL, selection_panel.pk, "only the chair or a PPO manager decides")
    offender = offender_get(user=actor, pk=offender_id)
    day = selection_panel.held_on
    episode = ProgrammeEpisode.objects.filter(offender=offender).open_on(day).first()
    tier = episode.kind if episode else ""
    # The service's own reading of the ranking, so the page and the rule cannot differ.
    entry, recommended = panel.ranking_entry(offender.pk, day)
    run = _ranking_run(day)
    capacity = run.capacity if run is not None else 0
    applies = [
        (kind, label)
        for kind, label in DecisionKind.choices
        if kind in panel.MOVES and tier in panel.MOVES[kind][0]
    ]
    # 003 §7.2: only someone under 18 is marked as a DYO (the DYO page says so too).
    young = offender.age_on(day) < panel.ADULT_AGE
    dyo = [
        kind
        for kind, _ in applies
        if kind in panel.DYO_KINDS and (kind != DecisionKind.MARK_DYO or young)
    ]
    latest = (
        RiskAssessment.objects.filter(offender=offender, assessed_on__lte=day)
        .order_by("-assessed_on", "-pk")
        .first()
    )
    context = DecisionContext(
        panel=selection_panel,
        offender=offender,
        name=person_name(actor, offender),
        tier=tier,
        episode=episode,
        recommendation=Recommendation(entry=entry, recommended=recommended, capacity=capacity),
        latest_risk_assessment=latest,
        ranking_run_id=run.pk if run else None,
        ranking_run_as_of=run.as_of if run else None,
        kinds=_offered(actor, selection_panel, offender, applies, recommended),
        dyo_page=DYO_PAGES.get(dyo[0], "") if dyo and panel.may_record_dyo_decisions(actor) else "",
        dyo_label=str(DecisionKind(dyo[0]).label) if dyo else "",
    )
    audit.viewed(
        actor,
        offender,
        view=view,
        panel=selection_panel.pk,
        shown=["full_name", "tier", "ranking", "risk_assessment"],
    )
    return context


def person_for_decision(*, user: Any, offender_id: Any) -> tuple[Offender, str, list[Any]]:
    """From a ranking's row: the person (in the reader's scope, or 404) and the panels
    whose decisions the reader may record (none: 403). Audited as a view of the person."""
    actor = _reader(user)
    panels = list(decidable_panels(actor)[:12])
    if not panels and not may_record_panels(actor):
        raise Refused(OFFENDER, offender_id, "records no panel's decisions")
    offender = offender_get(user=actor, pk=offender_id)
    audit.viewed(actor, offender, view="choose a panel for a decision", shown=["full_name"])
    return offender, person_name(actor, offender), panels


def may_record_risk_assessments(actor: Actor) -> bool:
    """`risk_assessment_record`'s rule for the role (it also needs a current agency)."""
    writes = grant(actor, RecordKind.SELECTION).write is not Write.NONE
    return writes and actor.agency_id is not None


def risk_assessment_person(*, user: Any, offender_id: Any) -> Offender:
    """The person a risk assessment is about to be recorded for. A role that does not
    record them is refused (403) whoever the person; someone outside the people the
    actor may change is not found (404). The form page is audited as a view."""
    actor = as_actor(user)
    if not may_record_risk_assessments(actor):
        raise Refused(OFFENDER, offender_id, "role does not record risk assessments")
    offender = offender_get(user=actor, pk=offender_id, write=True)
    audit.viewed(actor, offender, view="record a risk assessment", shown=["full_name"])
    return offender


def chair_choices(as_of: dt.date) -> list[tuple[int, str]]:
    """Staff who may chair a panel today (CHAIR_ROLES), PPO managers first."""
    memberships = (
        Membership.objects.active_on(as_of)
        .filter(role__in=CHAIR_ROLES, agency__active=True, user__is_active=True)
        .select_related("user", "agency")
    )
    order: dict[str, int] = {role: index for index, role in enumerate(CHAIR_ROLES)}
    rows = sorted(
        memberships,
        key=lambda m: (
            order[m.role],
            (m.user.last_name or m.user.username).lower(),
            m.user.first_name.lower(),
        ),
    )
    return [
        (m.user.pk, f"{_staff(m.user)} – {m.get_role_display()}, {m.agency.name}") for m in rows
    ]


def _staff(user: Any) -> str:
    return str(user.get_full_name() or user.username)


def agency_choices() -> list[tuple[int, str]]:
    return list(Agency.objects.filter(active=True).order_by("name").values_list("pk", "name"))
