"""Selection panels and their decisions: the only way a person's tier changes.

DESIGN.md "selection": the system recommends; only a recorded panel decision changes
status. A decision takes effect on the panel's date: the episode it closes ends that day
(`deselected_on`, the first day off the tier) and the one it opens starts that day.

Rules decided here (tested at their boundary dates):
* Who may decide: the panel's chair or a PPO manager.
* From which tier: select — not on the PPO or IOM tier (a DYO moving to the adult scheme
  leaves the DYO tier the same day); step up — on IOM; step down, managed exit to
  DIP/CJIT — on the PPO tier; de-select — on the PPO or IOM tier; defer — anyone.
* De-selection gives one of the reasons of 003 §6.2, "responding positively — stepped
  down" (003 §1.4) or "other" with a reason; "moved area" exits by transfer (§6.2(2)).
  A long-custody de-selection needs a risk assessment from the last 12 months (§6.2(3),
  DESIGN.md rule 3: "after a recorded risk assessment").
* Departing from the ranking needs a reason: selecting or stepping up someone the latest
  run on or before the panel's date does not list within the scheme's capacity and above
  the threshold, or stepping down, de-selecting or exiting someone it does.
* Under 18 on the panel's date: not selected or stepped up as a PPO unless the scheme's
  setting allows under-18 PPOs (003 §7.6-7.8; off by default).

Deter Young Offenders (003 §7, 004 §5.1), also tested at their boundary dates:
* Mark as a DYO: someone under 18 on the decision's date (10 or over) and on no tier,
  on their Asset score (0-64, the principal means of identifying DYOs, §7.3) and Scaled
  Approach tier (§7.4: DYOs get intensive intervention, so another tier needs a reason).
  The decision keeps the score and tier it was made on; the person's record takes them
  as the current assessment (offenders.services), with the Prevent and Deter strand.
* End DYO, the exit review (§7.5): the DYO tier closes on the decision's date. From 18
  it needs an exit strategy with one lead agency; before 18, a reason. The exit route is
  local IOM arrangements (the IOM tier opens the same day; adults only), a transfer to
  another area, or none (the lead agency oversees the plan).
* Who: DYO decisions are the YOT's (§7.2): the YOT worker chairing the panel, for young
  people they may change (ACCESS.md YOT scope), or a PPO manager. A YOT worker records
  no PPO or IOM decision, even as chair. A DYO panel (created by the YOT worker who
  chairs it, or a PPO manager) records DYO decisions and defers only; a PPO manager may
  record DYO decisions at a selection panel too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from access import audit
from access.errors import ApplicationError, NotPermitted
from access.models import Agency, AuditAction, Role, Scheme
from access.policy import Actor, as_actor, can_change_person
from offenders.dates import AGE_OF_CRIMINAL_RESPONSIBILITY, birthday
from offenders.models import (
    DeselectionReason,
    ExitRoute,
    Offender,
    ProgrammeEpisode,
    ProgrammeKind,
    ScaledApproach,
    Strand,
)
from offenders.selectors import offender_get
from offenders.services import offender_update

from .models import (
    DecisionKind,
    ExitOutcome,
    PanelDecision,
    PanelKind,
    RiskAssessment,
    RunEntry,
    SelectionPanel,
    SelectionRun,
)
from .reviews import close_for_decision
from .services import may_change_selection

# DESIGN.md rule 3: a long-custody de-selection follows "a recorded risk assessment":
# one from the last 12 months before the panel counts as current.
RISK_ASSESSMENT_CURRENT_DAYS = 365

PPO, IOM, DYO = ProgrammeKind.PPO, ProgrammeKind.IOM, ProgrammeKind.DYO
# (allowed current tiers, the tier after) for each kind of decision.
MOVES: dict[str, tuple[frozenset[str], str | None]] = {
    DecisionKind.SELECT: (frozenset({"", DYO}), PPO),
    DecisionKind.STEP_UP: (frozenset({IOM}), PPO),
    DecisionKind.STEP_DOWN: (frozenset({PPO}), IOM),
    DecisionKind.DESELECT: (frozenset({PPO, IOM}), ""),
    DecisionKind.EXIT_DIP: (frozenset({PPO}), ""),
    DecisionKind.DEFER: (frozenset({"", PPO, IOM, DYO}), None),  # None: no change
    DecisionKind.MARK_DYO: (frozenset({""}), DYO),
    DecisionKind.END_DYO: (frozenset({DYO}), ""),  # or IOM, by the exit route (_exit_terms)
}
# 003 §7.2: Deter Young Offenders are identified by the YOT.
DYO_KINDS = frozenset({DecisionKind.MARK_DYO, DecisionKind.END_DYO})
# What a DYO panel decides, and all a YOT worker records.
DYO_PANEL_KINDS = DYO_KINDS | {DecisionKind.DEFER}
ADULT_AGE = 18
# Asset's total score (Offender.asset_score): 0 to 64.
ASSET_SCORE_MAX = 64
# 003 §7.5: where an exit review passes a DYO on to (ExitRoute values).
DYO_EXIT_ROUTES = (ExitRoute.IOM, ExitRoute.TRANSFER, ExitRoute.NONE)
TIER_WORDS = {"": "not on a tier", PPO: "a PPO", IOM: "on the IOM tier", DYO: "a DYO"}


def panel_create(
    *,
    user: Any,
    held_on: dt.date,
    chair_id: int,
    agency_ids: list[int] | None = None,
    notes: str = "",
    kind: str = PanelKind.SELECTION,
) -> SelectionPanel:
    actor = as_actor(user)
    if kind == PanelKind.DYO:
        _check_dyo_panel_creator(actor, chair_id)
    elif kind != PanelKind.SELECTION:
        raise ApplicationError("Choose the kind of panel")
    elif not may_change_selection(actor):
        raise NotPermitted("Only the PPO manager records selection panels")
    if held_on > actor.as_of:
        raise ApplicationError(
            "Record a panel on or after the day it meets",
            field_errors={"held_on": ["The panel's date cannot be in the future"]},
        )
    with transaction.atomic():
        panel = SelectionPanel(
            kind=kind, held_on=held_on, chair_id=chair_id, notes=notes, created_by=actor.user
        )
        panel.full_clean()
        panel.save()
        if agency_ids:
            panel.agencies.set(Agency.objects.filter(pk__in=agency_ids))
        audit.altered(actor, AuditAction.CREATE, panel)
    return panel


def ranking_entry(offender_id: int, on: dt.date) -> tuple[RunEntry | None, bool]:
    """The person's place in the latest run on or before `on`, and whether that run
    recommends them: listed within the scheme's capacity and at or above the threshold."""
    run = SelectionRun.objects.filter(as_of__lte=on).order_by("-as_of", "-run_at", "-pk").first()
    if run is None:
        return None, False
    entry = RunEntry.objects.filter(run=run, offender_id=offender_id).first()
    if entry is None:
        return None, False
    # Ranks follow the score, so those at or above the threshold come first.
    recommended = entry.above_threshold and entry.rank <= run.capacity
    return entry, recommended


def departs_from_ranking(kind: str, recommended: bool) -> bool:
    if kind in (DecisionKind.SELECT, DecisionKind.STEP_UP):
        return not recommended
    if kind in (DecisionKind.STEP_DOWN, DecisionKind.DESELECT, DecisionKind.EXIT_DIP):
        return recommended
    return False


def panel_decide(
    *,
    user: Any,
    panel_id: int,
    offender_id: int,
    kind: str,
    deselection_reason: str = "",
    exit_outcome: str = "",
    reason: str = "",
    asset_score: int | None = None,
    scaled_approach: str = "",
    exit_route: str = "",
    exit_lead_agency_id: int | None = None,
    exit_strategy: str = "",
) -> PanelDecision:
    """Record one decision and make its change of tier (module docstring)."""
    actor = as_actor(user)
    reason = reason.strip()
    with transaction.atomic():
        panel = SelectionPanel.objects.select_for_update().filter(pk=panel_id).first()
        if panel is None:
            raise ApplicationError("There is no such panel")
        if not (may_change_selection(actor) or (actor.user and panel.chair_id == actor.user.pk)):
            raise NotPermitted("Only the panel's chair or a PPO manager records its decisions")
        offender = offender_get(user=actor, pk=offender_id)
        if kind not in MOVES:
            raise ApplicationError(
                "Choose a decision", field_errors={"kind": ["Choose a decision"]}
            )
        check_dyo_decider(actor, panel, offender, kind)
        day = panel.held_on
        current = (
            ProgrammeEpisode.objects.select_for_update()
            .filter(offender=offender)
            .open_on(day)
            .first()
        )
        from_tier = current.kind if current else ""
        allowed, to_tier = MOVES[kind]
        if from_tier not in allowed:
            label = DecisionKind(kind).label
            raise ApplicationError(
                f"{offender.full_name} is {TIER_WORDS[from_tier]} on {day.day} {day:%B %Y}, "
                f"so “{label}” does not apply",
                field_errors={
                    "kind": [f"“{label}” does not apply to someone {TIER_WORDS[from_tier]}"]
                },
            )
        check_under_18_ppo(kind, offender, day)
        terms = _dyo_terms(
            kind,
            offender,
            day,
            asset_score=asset_score,
            scaled_approach=scaled_approach,
            reason=reason,
            exit_route=exit_route,
            exit_lead_agency_id=exit_lead_agency_id,
            exit_strategy=exit_strategy,
        )
        if terms.to_tier is not None:
            to_tier = terms.to_tier
        closing_reason = _closing_reason(kind, deselection_reason, reason, offender.pk, day)
        if exit_outcome and exit_outcome not in ExitOutcome.values:
            raise ApplicationError("Choose an exit outcome from the list")
        entry, recommended = ranking_entry(offender.pk, day)
        departs = departs_from_ranking(kind, recommended)
        if departs and not reason:
            message = "This decision departs from the latest selection ranking: give the reason"
            raise ApplicationError(message, field_errors={"reason": [message]})

        decision = PanelDecision(
            panel=panel,
            offender=offender,
            kind=kind,
            from_tier=from_tier,
            to_tier=from_tier if to_tier is None else to_tier,
            deselection_reason=closing_reason,
            exit_outcome=exit_outcome,
            reason=reason,
            departs_from_ranking=departs,
            asset_score=terms.asset_score,
            scaled_approach=terms.scaled_approach,
            exit_lead_agency=terms.exit_lead_agency,
            exit_strategy=terms.exit_strategy,
            run_entry=entry,
            decided_by=actor.user,
        )
        if to_tier is not None and current is not None:
            current.deselected_on = day
            current.deselection_reason = closing_reason
            current.exit_route = _exit_route(kind, closing_reason, terms.exit_route)
            current.full_clean()
            current.save()
            decision.closed_episode = current
            audit.altered(
                actor,
                AuditAction.UPDATE,
                current,
                changed=["deselected_on", "deselection_reason", "exit_route"],
            )
        if to_tier:
            opened = ProgrammeEpisode(
                offender=offender,
                kind=to_tier,
                selected_on=day,
                selection_decision=f"{panel.get_kind_display()} of {day.isoformat()}: "
                f"{DecisionKind(kind).label.lower()}",
            )
            opened.full_clean()
            opened.save()
            decision.opened_episode = opened
            audit.altered(actor, AuditAction.CREATE, opened)
        decision.full_clean()
        decision.save()
        audit.altered(actor, AuditAction.CREATE, decision)
        # Issue 8: the decision closes the person's reviews that were due by the panel.
        close_for_decision(actor=actor, decision=decision)
        if kind == DecisionKind.MARK_DYO:
            _take_assessment(actor, offender, terms)
    return decision


def check_under_18_ppo(kind: str, offender: Offender, day: dt.date) -> None:
    """003 §7.6-7.8: whether under-18s may be PPOs is the scheme's setting; unless it
    allows them, nobody is selected or stepped up as a PPO before their 18th birthday
    (a DYO included: they are selected at their exit review, §7.5)."""
    if kind not in (DecisionKind.SELECT, DecisionKind.STEP_UP):
        return
    if offender.age_on(day) >= ADULT_AGE or Scheme.current().under_18s_may_be_ppos:
        return
    turns_18 = birthday(offender.date_of_birth, ADULT_AGE)
    message = (
        f"{offender.full_name} is under 18 on {day.day} {day:%B %Y} (18 on {turns_18.day} "
        f"{turns_18:%B %Y}): this scheme does not take under-18s as PPOs, so they are managed "
        "as Deter Young Offenders through Prevent and Deter (003 §7.8). The scheme's "
        "settings say whether under-18s may be selected as PPOs."
    )
    raise ApplicationError(message, field_errors={"kind": [message]})


def _closing_reason(kind: str, chosen: str, reason: str, offender_id: int, day: dt.date) -> str:
    """The de-selection reason recorded on the episode a decision closes."""
    if kind == DecisionKind.STEP_DOWN:
        return DeselectionReason.STEPPED_DOWN
    if kind in (DecisionKind.STEP_UP, DecisionKind.SELECT, DecisionKind.DEFER, *DYO_KINDS):
        return ""
    if chosen not in DeselectionReason.values:
        message = "Choose the reason for de-selection"
        raise ApplicationError(message, field_errors={"deselection_reason": [message]})
    if chosen == DeselectionReason.OTHER and not reason:
        message = "Say why, for a de-selection for another reason"
        raise ApplicationError(message, field_errors={"reason": [message]})
    if chosen == DeselectionReason.LONG_CUSTODY:
        since = day - dt.timedelta(days=RISK_ASSESSMENT_CURRENT_DAYS)
        current = RiskAssessment.objects.filter(
            offender_id=offender_id, assessed_on__gt=since, assessed_on__lte=day
        )
        if not current.exists():
            message = (
                "A long-custody de-selection needs a risk assessment from the last 12 months "
                "(003 §6.2(3)): record one first"
            )
            raise ApplicationError(message, field_errors={"deselection_reason": [message]})
    return chosen


def _exit_route(kind: str, closing_reason: str, dyo_exit_route: str = "") -> str:
    if kind == DecisionKind.END_DYO:
        return dyo_exit_route
    if kind == DecisionKind.STEP_DOWN:
        return ExitRoute.IOM
    if kind == DecisionKind.EXIT_DIP:
        return ExitRoute.DIP_CJIT
    if closing_reason == DeselectionReason.MOVED_AREA:
        return ExitRoute.TRANSFER
    if kind == DecisionKind.DESELECT:
        return ExitRoute.NONE
    return ""


# --- Deter Young Offenders (003 §7) ------------------------------------------------------


def may_record_dyo_decisions(actor: Actor) -> bool:
    """Whether this role records DYO decisions at all (003 §7.2: the YOT identifies
    DYOs; the PPO manager writes every selection record). Which people, and at which
    panel, is `check_dyo_decider`'s: the pages offer the forms on this."""
    return may_change_selection(actor) or actor.role == Role.YOT_WORKER


def _check_dyo_panel_creator(actor: Actor, chair_id: int) -> None:
    if may_change_selection(actor):
        return
    if actor.role != Role.YOT_WORKER:
        raise NotPermitted("Only the YOT or the PPO manager records DYO panels")
    if actor.user is None or chair_id != actor.user.pk:
        message = "A YOT worker records the DYO panels they chair: choose yourself as chair"
        raise ApplicationError(message, field_errors={"chair_id": [message]})


def dyo_panel_for(*, user: Any, held_on: dt.date) -> SelectionPanel:
    """The DYO panel the acting YOT worker (or PPO manager) chairs on `held_on`, recorded
    now if there is none yet: the DYO pages record each decision at it, so the chair
    rule of `panel_decide` holds for them as for any panel."""
    actor = as_actor(user)
    if actor.user is None or not may_record_dyo_decisions(actor):
        raise NotPermitted("Deter Young Offenders are marked by the YOT or a PPO manager")
    if held_on > actor.as_of:
        raise _refuse("held_on", "The date of the decision cannot be in the future")
    found = (
        SelectionPanel.objects.filter(kind=PanelKind.DYO, held_on=held_on, chair=actor.user)
        .order_by("pk")
        .first()
    )
    if found is not None:
        return found
    return panel_create(
        user=actor,
        held_on=held_on,
        chair_id=actor.user.pk,
        agency_ids=[actor.agency_id] if actor.agency_id else None,
        kind=PanelKind.DYO,
    )


def check_dyo_decider(actor: Actor, panel: SelectionPanel, offender: Offender, kind: str) -> None:
    """Who records which decision, past the chair rule (module docstring)."""
    if panel.kind == PanelKind.DYO and kind not in DYO_PANEL_KINDS:
        label = DecisionKind(kind).label
        message = (
            f"A DYO panel decides about Deter Young Offenders only: “{label}” is for a "
            "selection panel"
        )
        raise ApplicationError(message, field_errors={"kind": [message]})
    if may_change_selection(actor):
        return
    yot = actor.role == Role.YOT_WORKER
    if kind in DYO_KINDS and not yot:
        raise NotPermitted("Deter Young Offenders are marked and ended by the YOT or a PPO manager")
    if yot and kind not in DYO_PANEL_KINDS:
        raise NotPermitted(
            "A YOT worker records Deter Young Offender decisions, not PPO or IOM ones"
        )
    if yot and not can_change_person(actor, offender.pk):
        raise NotPermitted("This person is not one of the young people you work with")


@dataclass(frozen=True)
class DyoTerms:
    """What a DYO decision records beyond the common fields."""

    asset_score: int | None = None
    scaled_approach: str = ""
    exit_route: str = ""
    exit_lead_agency: Agency | None = None
    exit_strategy: str = ""
    # Ending a DYO: the tier the exit route leads to; None: the move table's.
    to_tier: str | None = None


def _long(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


def _refuse(field: str, message: str) -> ApplicationError:
    return ApplicationError(message, field_errors={field: [message]})


def _dyo_terms(
    kind: str,
    offender: Offender,
    day: dt.date,
    *,
    asset_score: Any,
    scaled_approach: str,
    reason: str,
    exit_route: str,
    exit_lead_agency_id: Any,
    exit_strategy: str,
) -> DyoTerms:
    if kind == DecisionKind.MARK_DYO:
        return _marking_terms(offender, day, asset_score, scaled_approach, reason)
    if kind == DecisionKind.END_DYO:
        return _exit_terms(offender, day, reason, exit_route, exit_lead_agency_id, exit_strategy)
    return DyoTerms()


def _marking_terms(
    offender: Offender, day: dt.date, asset_score: Any, scaled_approach: str, reason: str
) -> DyoTerms:
    name, when = offender.full_name, _long(day)
    # 003 §7.2: DYOs are young offenders; at 18 a person is an adult (§7.5).
    if offender.age_on(day) >= ADULT_AGE:
        raise _refuse(
            "held_on",
            f"{name} is 18 or over on {when}: only someone under 18 can be marked as a "
            "Deter Young Offender (003 §7.2)",
        )
    if day < birthday(offender.date_of_birth, AGE_OF_CRIMINAL_RESPONSIBILITY):
        raise _refuse(
            "held_on", f"{name} is under 10 on {when}, the age of criminal responsibility"
        )
    # 003 §7.3: "Asset scores as the principal means of identifying DYOs".
    if asset_score is None or asset_score == "":
        raise _refuse(
            "asset_score",
            "Enter the Asset score: it is the principal means of identifying DYOs (003 §7.3)",
        )
    if (
        isinstance(asset_score, bool)
        or not isinstance(asset_score, int)
        or not 0 <= asset_score <= ASSET_SCORE_MAX
    ):
        raise _refuse(
            "asset_score", f"The Asset score must be a whole number from 0 to {ASSET_SCORE_MAX}"
        )
    if scaled_approach not in ScaledApproach.values:
        raise _refuse(
            "scaled_approach", "Choose the Scaled Approach level of intervention (003 §7.4)"
        )
    # 003 §7.4: "DYOs, representing those most at risk of re-offending, will be subject
    # to intensive interventions"; a local criterion may justify another (§7.3).
    if scaled_approach != ScaledApproach.INTENSIVE and not reason:
        level = ScaledApproach(scaled_approach).label.lower()
        raise _refuse(
            "reason",
            f"DYOs are on the intensive level of the Scaled Approach (003 §7.4): say why "
            f"you are marking someone on the {level} level",
        )
    return DyoTerms(asset_score=asset_score, scaled_approach=scaled_approach)


def _exit_terms(
    offender: Offender,
    day: dt.date,
    reason: str,
    exit_route: str,
    exit_lead_agency_id: Any,
    exit_strategy: str,
) -> DyoTerms:
    name, when = offender.full_name, _long(day)
    adult = offender.age_on(day) >= ADULT_AGE
    if exit_route not in DYO_EXIT_ROUTES:
        raise _refuse("exit_route", "Choose where the young person goes after the DYO scheme")
    if exit_route == ExitRoute.IOM and not adult:
        # 003 §7.5, 004 §5.2: IOM is the adult management a DYO moves to at 18.
        raise _refuse(
            "exit_route",
            f"{name} is under 18 on {when}: local IOM arrangements take DYOs from 18 (003 §7.5)",
        )
    agency = None
    if exit_lead_agency_id not in (None, ""):
        try:
            agency_pk = int(exit_lead_agency_id)
        except (TypeError, ValueError):
            agency_pk = 0
        agency = Agency.objects.filter(pk=agency_pk, active=True).first()
        if agency is None:
            raise _refuse("exit_lead_agency", "Choose the agency leading the exit strategy")
    exit_strategy = exit_strategy.strip()
    if adult:
        # 003 §7.5: "an exit strategy ... one agency ... to oversee taking it forward".
        if agency is None:
            raise _refuse(
                "exit_lead_agency",
                f"{name} is 18 or over on {when}: a DYO turning 18 needs an exit strategy "
                "with one agency leading it (003 §7.5): choose the lead agency",
            )
        if not exit_strategy:
            raise _refuse(
                "exit_strategy",
                "Describe the exit strategy: the plan for the young person's enduring "
                "risks and needs (003 §7.5)",
            )
    elif not reason:
        raise _refuse(
            "reason", f"{name} is under 18 on {when}: say why the DYO ends before they turn 18"
        )
    return DyoTerms(
        exit_route=exit_route,
        exit_lead_agency=agency,
        exit_strategy=exit_strategy,
        to_tier=IOM if exit_route == ExitRoute.IOM else "",
    )


def _take_assessment(actor: Actor, offender: Offender, terms: DyoTerms) -> None:
    """The person's record takes the Asset score and Scaled Approach tier a DYO was
    marked on, and the Prevent and Deter strand (003 §7.1), through the service every
    change of a person's details goes through (its policy check and audit row)."""
    data: dict[str, Any] = {}
    if offender.asset_score != terms.asset_score:
        data["asset_score"] = terms.asset_score
    if offender.scaled_approach != terms.scaled_approach:
        data["scaled_approach"] = terms.scaled_approach
    strands = set(offender.strand_values)
    if Strand.PREVENT_DETER not in strands:
        data["strands"] = sorted(strands | {Strand.PREVENT_DETER})
    if data:
        offender_update(user=actor, offender_id=offender.pk, data=data)
