"""Reads for a person's "Selection & panel" tab: score history, panel decisions, risk
assessments and tier history (issue 7 item 7).

ACCESS.md "selection scores, panel decisions, reviews": the PPO manager, key workers and
police read them; YOT reads its own people; prison staff, partners, the steering group and
administrators nothing. A role without the grant is refused whoever the person (403); a
reader asking for someone outside their scope gets a 404 (`offender_get`), so the page
never says whether a person they may not see exists. What the page shows is audited as a
view of the person, with the parts shown.

A fixed number of queries, whatever the number of runs, decisions or episodes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from access import audit
from access.policy import Actor, RecordKind, as_actor, visible_fields
from offenders.models import DeselectionReason, Offender, ProgrammeEpisode
from offenders.selectors import offender_get

from .models import DecisionKind, PanelDecision, PanelKind, RiskAssessment, RunEntry, TransferRecord
from .selectors import selection_reader
from .services import may_change_selection

OFFENDER = "offenders.offender"
TIER_NAMES = {"ppo": "PPO", "iom": "IOM", "dyo": "DYO", "": "no tier"}
# 004 §4.1: a person selected is told of their status and the scheme.
LETTER_DECISIONS = frozenset({DecisionKind.SELECT, DecisionKind.STEP_UP})


def tier_name(tier: str) -> str:
    return TIER_NAMES.get(tier, tier.upper())


def tier_move(from_tier: str, to_tier: str) -> str:
    """ "PPO to IOM", "No tier to PPO", "PPO to no tier"; "Stays PPO" for a deferral."""
    if from_tier == to_tier:
        return f"Stays {tier_name(from_tier)}" if from_tier else "Stays off the tiers"
    words = f"{tier_name(from_tier)} to {tier_name(to_tier)}"
    return words[0].upper() + words[1:]


def deselection_reason_label(reason: str) -> str:
    return str(DeselectionReason(reason).label) if reason in DeselectionReason.values else reason


PANEL_WORDS: dict[str, str] = {
    PanelKind.SELECTION: "selection panel",
    PanelKind.DYO: "DYO panel",
}


def decision_words(decision: PanelDecision) -> str:
    """ "Select as a PPO, selection panel of 10 June 2026" ("DYO panel of" for YOT's)."""
    day = decision.panel.held_on
    panel = PANEL_WORDS.get(decision.panel.kind, "panel")
    return f"{decision.get_kind_display()}, {panel} of {day.day} {day:%B %Y}"


@dataclass(frozen=True)
class TierRow:
    """One period on a tier, and the decisions that opened and closed it."""

    episode: ProgrammeEpisode
    tier: str
    reason: str
    exit_route: str
    opened_by: str
    closed_by: str


@dataclass
class SelectionProfile:
    offender: Offender
    identity_fields: frozenset[str]
    scores: list[RunEntry] = field(default_factory=list)
    decisions: list[PanelDecision] = field(default_factory=list)
    risk_assessments: list[RiskAssessment] = field(default_factory=list)
    tiers: list[TierRow] = field(default_factory=list)
    # Whether this reader produces letters and transfer summaries (the PPO manager).
    manages: bool = False
    transfers: dict[int, TransferRecord] = field(default_factory=dict)

    @property
    def name(self) -> str:
        # STYLE.md rule 10: the policy says whether this reader sees a name.
        if "full_name" in self.identity_fields:
            return self.offender.full_name
        return "Name not available to you"


def _reader(user: Any, offender_id: Any) -> Actor:
    return selection_reader(user, OFFENDER, offender_id)  # type: ignore[no-any-return]


def _tier_rows(episodes: list[ProgrammeEpisode]) -> list[TierRow]:
    rows = []
    for episode in episodes:
        opened = getattr(episode, "opened_by_decision", None)
        closed = getattr(episode, "closed_by_decision", None)
        rows.append(
            TierRow(
                episode=episode,
                tier=tier_name(episode.kind),
                reason=episode.get_deselection_reason_display(),
                exit_route=episode.get_exit_route_display(),
                # Episodes from before panels were recorded keep the words they came with.
                opened_by=decision_words(opened) if opened else episode.selection_decision,
                closed_by=decision_words(closed) if closed else "",
            )
        )
    return rows


def _episodes(offender: Offender) -> list[ProgrammeEpisode]:
    """The person's tiers, newest first, with the decisions that opened and closed them
    (a reverse one-to-one: `select_related` fetches it, or None, in the same query)."""
    return list(
        ProgrammeEpisode.objects.filter(offender=offender)
        .select_related("opened_by_decision__panel", "closed_by_decision__panel")
        .order_by("-selected_on", "-pk")
    )


def person_selection(
    *, user: Any, offender_id: Any, as_of: dt.date | None = None
) -> SelectionProfile:
    """A person's selection record as this reader may see it; audited as a view."""
    actor = _reader(as_actor(user, as_of), offender_id)
    offender = offender_get(user=actor, pk=offender_id)
    profile = SelectionProfile(
        offender=offender,
        identity_fields=visible_fields(actor, RecordKind.IDENTITY),
        manages=may_change_selection(actor),
    )
    profile.scores = list(
        RunEntry.objects.filter(offender=offender)
        .select_related("run__version")
        .order_by("-run__as_of", "-run__run_at", "-run__pk")
    )
    profile.decisions = list(
        PanelDecision.objects.filter(offender=offender)
        .select_related("panel__chair", "decided_by")
        .order_by("-panel__held_on", "-pk")
    )
    profile.risk_assessments = list(
        RiskAssessment.objects.filter(offender=offender)
        .select_related("agency")
        .order_by("-assessed_on", "-pk")
    )
    profile.tiers = _tier_rows(_episodes(offender))
    if profile.manages:
        profile.transfers = {
            t.decision_id: t
            for t in TransferRecord.objects.filter(decision__offender=offender).select_related(
                "sent_by"
            )
        }
    audit.viewed(
        actor,
        offender,
        view="selection and panel",
        shown=["scores", "decisions", "risk_assessments", "tiers"],
        runs=sorted({entry.run_id for entry in profile.scores}),
    )
    return profile
