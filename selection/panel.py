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
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction

from access import audit
from access.errors import ApplicationError, NotPermitted
from access.models import Agency, AuditAction
from access.policy import as_actor
from offenders.models import DeselectionReason, ExitRoute, ProgrammeEpisode, ProgrammeKind
from offenders.selectors import offender_get

from .models import (
    DecisionKind,
    ExitOutcome,
    PanelDecision,
    RiskAssessment,
    RunEntry,
    SelectionPanel,
    SelectionRun,
)
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
}
TIER_WORDS = {"": "not on a tier", PPO: "a PPO", IOM: "on the IOM tier", DYO: "a DYO"}


def panel_create(
    *,
    user: Any,
    held_on: dt.date,
    chair_id: int,
    agency_ids: list[int] | None = None,
    notes: str = "",
) -> SelectionPanel:
    actor = as_actor(user)
    if not may_change_selection(actor):
        raise NotPermitted("Only the PPO manager records selection panels")
    if held_on > actor.as_of:
        raise ApplicationError(
            "Record a panel on or after the day it meets",
            field_errors={"held_on": ["The panel's date cannot be in the future"]},
        )
    with transaction.atomic():
        panel = SelectionPanel(
            held_on=held_on, chair_id=chair_id, notes=notes, created_by=actor.user
        )
        panel.full_clean()
        panel.save()
        if agency_ids:
            panel.agencies.set(Agency.objects.filter(pk__in=agency_ids))
        audit.altered(actor, AuditAction.CREATE, panel)
    return panel


def _ranking_entry(offender_id: int, on: dt.date) -> tuple[RunEntry | None, bool]:
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


def _departs(kind: str, recommended: bool) -> bool:
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
        if kind == DecisionKind.SELECT and from_tier == DYO and offender.age_on(day) < 18:
            raise ApplicationError(
                "A Deter Young Offender under 18 stays on the DYO tier: select them as a PPO "
                "at their exit review (003 §7.5)"
            )
        closing_reason = _closing_reason(kind, deselection_reason, reason, offender.pk, day)
        if exit_outcome and exit_outcome not in ExitOutcome.values:
            raise ApplicationError("Choose an exit outcome from the list")
        entry, recommended = _ranking_entry(offender.pk, day)
        departs = _departs(kind, recommended)
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
            run_entry=entry,
            decided_by=actor.user,
        )
        if to_tier is not None and current is not None:
            current.deselected_on = day
            current.deselection_reason = closing_reason
            current.exit_route = _exit_route(kind, closing_reason)
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
                selection_decision=f"Selection panel of {day.isoformat()}: "
                f"{DecisionKind(kind).label.lower()}",
            )
            opened.full_clean()
            opened.save()
            decision.opened_episode = opened
            audit.altered(actor, AuditAction.CREATE, opened)
        decision.full_clean()
        decision.save()
        audit.altered(actor, AuditAction.CREATE, decision)
    return decision


def _closing_reason(kind: str, chosen: str, reason: str, offender_id: int, day: dt.date) -> str:
    """The de-selection reason recorded on the episode a decision closes."""
    if kind == DecisionKind.STEP_DOWN:
        return DeselectionReason.STEPPED_DOWN
    if kind in (DecisionKind.STEP_UP, DecisionKind.SELECT, DecisionKind.DEFER):
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


def _exit_route(kind: str, closing_reason: str) -> str:
    if kind == DecisionKind.STEP_DOWN:
        return ExitRoute.IOM
    if kind == DecisionKind.EXIT_DIP:
        return ExitRoute.DIP_CJIT
    if closing_reason == DeselectionReason.MOVED_AREA:
        return ExitRoute.TRANSFER
    if kind == DecisionKind.DESELECT:
        return ExitRoute.NONE
    return ""
