"""The selection panel pages and the risk assessment form.

Who sees and does what is the selectors' and services' business (ACCESS.md "selection
scores, panel decisions, reviews"; selection.panel): the views ask them, show what they
return, turn their refusals into 403s and their messages into the error summary.

A decision that takes someone off a tier (de-select, step down, managed exit) is shown on
a "Check your answers" page before it is recorded (shared/UI.md "Panel decision"): the
service is asked to make the decision inside a savepoint that is then rolled back, so the
check page appears only for answers the service accepts and says exactly what would
change. Nothing of that rehearsal is kept, its audit rows included; the check page's own
view of the person is audited.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods

from access.errors import ApplicationError, NotPermitted, Refused
from access.policy import actor_for
from access.submissions import Outcome
from offenders.models import DeselectionReason, ExitRoute, ProgrammeKind, ScaledApproach

from . import panel as panels
from . import panel_selectors as selectors
from . import review_selectors
from .forms import plain_number
from .models import DecisionKind, ExitOutcome, PanelDecision, PanelKind, RiskTool, RoshLevel
from .panel_forms import PanelDecisionForm, PanelForm, RiskAssessmentForm
from .services import risk_assessment_record
from .views import _save, place_service_error

PANEL = selectors.PANEL
OFFENDER = selectors.OFFENDER
TIER_LABELS = {"": "Not on a tier", **dict(ProgrammeKind.choices)}


def long_date(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


# --- panels ---------------------------------------------------------------------------------


@login_required
@require_GET
def panel_list_view(request: HttpRequest) -> HttpResponse:
    actor = actor_for(request.user)
    found = list(selectors.panel_list(user=actor))
    return render(
        request,
        "selection/panel_list.html",
        {"panels": found, "can_record": selectors.may_record_panels(actor)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def panel_create_view(request: HttpRequest) -> HttpResponse:
    actor = actor_for(request.user)
    if not selectors.may_record_panels(actor):
        raise Refused(PANEL, "", "only the PPO manager records selection panels")
    form = PanelForm(
        request.POST if request.method == "POST" else None,
        initial={"chair": actor.user.pk if actor.user else None},
        chairs=selectors.chair_choices(actor.as_of),
        agencies=selectors.agency_choices(),
    )

    def save() -> Outcome:
        made = panels.panel_create(user=actor, **form.service_args())
        return Outcome(
            reverse("selection:panel", args=[made.pk]),
            f"Selection panel of {long_date(made.held_on)} recorded",
        )

    if done := _save(request, form, save, record_type=PANEL, place=place_service_error):
        return done
    return render(request, "selection/panel_form.html", {"form": form})


@dataclass(frozen=True)
class DecisionRow:
    decision: PanelDecision
    name: str
    kind: str
    detail: list[str]
    from_tier: str
    to_tier: str
    episode: str


def _episode_words(decision: PanelDecision) -> str:
    """The episode a decision opened and the one it closed, with their dates."""
    parts = []
    if decision.closed_episode is not None:
        closed = decision.closed_episode
        end = long_date(closed.deselected_on) if closed.deselected_on else "open"
        parts.append(
            f"Closed: {TIER_LABELS.get(closed.kind, closed.kind)} "
            f"{long_date(closed.selected_on)} to {end}"
        )
    if decision.opened_episode is not None:
        opened = decision.opened_episode
        parts.append(
            f"Opened: {TIER_LABELS.get(opened.kind, opened.kind)} "
            f"from {long_date(opened.selected_on)}"
        )
    return "; ".join(parts) or "No change of tier"


def _label(choices: Any, value: str) -> str:
    return str(dict(choices.choices).get(value, value)) if value else ""


def _decision_rows(
    decisions: list[PanelDecision], names: Callable[[Any], str]
) -> list[DecisionRow]:
    rows = []
    for decision in decisions:
        detail = [
            text
            for text in (
                _label(DeselectionReason, decision.deselection_reason)
                if decision.kind != DecisionKind.STEP_DOWN
                else "",
                f"Outcome: {_label(ExitOutcome, decision.exit_outcome)}"
                if decision.exit_outcome
                else "",
                f"Asset score {decision.asset_score}"
                + (
                    f", {_label(ScaledApproach, decision.scaled_approach).lower()} level"
                    if decision.scaled_approach
                    else ""
                )
                if decision.asset_score is not None
                else "",
                f"Exit strategy led by {decision.exit_lead_agency.name}"
                if decision.exit_lead_agency is not None
                else "",
            )
            if text
        ]
        rows.append(
            DecisionRow(
                decision=decision,
                name=names(decision.offender),
                kind=decision.get_kind_display(),
                detail=detail,
                from_tier=TIER_LABELS.get(decision.from_tier, decision.from_tier),
                to_tier=TIER_LABELS.get(decision.to_tier, decision.to_tier),
                episode=_episode_words(decision),
            )
        )
    return rows


@login_required
@require_GET
def panel_view(request: HttpRequest, panel_id: int) -> HttpResponse:
    actor = actor_for(request.user)
    page = selectors.panel_page(user=actor, panel_id=panel_id)
    deciding = selectors.may_decide(actor, page.panel)
    search = request.GET.get("q", "").strip()[:100] if deciding else ""
    found, more = selectors.person_search(user=actor, search=search) if search else ([], False)
    # The panel's agenda: the open reviews due by its date (issue 8; review_selectors).
    agenda = review_selectors.panel_agenda(
        user=actor, selection_panel=page.panel, deciding=deciding
    )
    return render(
        request,
        "selection/panel_detail.html",
        {
            "page": page,
            "panel": page.panel,
            "agenda": agenda,
            "rows": _decision_rows(page.decisions, lambda o: selectors.person_name(actor, o)),
            "deciding": deciding,
            "dyo_panel": page.panel.kind == PanelKind.DYO,
            "search": search,
            "found": [(o, selectors.person_name(actor, o)) for o in found],
            "more": more,
            "search_limit": selectors.SEARCH_LIMIT,
        },
    )


# --- one decision ---------------------------------------------------------------------------


@login_required
@require_GET
def person_decide_view(request: HttpRequest, offender_id: int) -> HttpResponse:
    """From a ranking's row: which panel is the decision for? With `?panel=` naming one
    the reader may record decisions for, straight to its decision form."""
    actor = actor_for(request.user)
    offender, name, choices = selectors.person_for_decision(user=actor, offender_id=offender_id)
    wanted = request.GET.get("panel", "")
    error = ""
    if wanted:
        chosen = selectors.decidable_panels(actor).filter(pk=selectors.record_id(wanted) or 0)
        if chosen.exists():
            return redirect("selection:panel-decide", panel_id=int(wanted), offender_id=offender.pk)
        error = "Choose the panel the decision was made at"
    return render(
        request,
        "selection/panel_choose.html",
        {
            "offender": offender,
            "name": name,
            "choices": choices,
            "error": error,
            "can_record_panels": selectors.may_record_panels(actor),
        },
    )


class _Rehearsed(Exception):
    """Carries what a rehearsed decision would do out of the savepoint it rolls back."""

    def __init__(self, preview: Preview):
        super().__init__("rehearsal")
        self.preview = preview


@dataclass(frozen=True)
class Preview:
    """What a decision would change, from the service's own rehearsal of it."""

    from_tier: str
    to_tier: str
    departs: bool
    closes: str
    opens: str
    exit_route: str


def _rehearse(decide: Callable[[], PanelDecision]) -> Preview:
    try:
        with transaction.atomic():
            decision = decide()
            closed, opened = decision.closed_episode, decision.opened_episode
            raise _Rehearsed(
                Preview(
                    from_tier=decision.from_tier,
                    to_tier=decision.to_tier,
                    departs=decision.departs_from_ranking,
                    closes=(
                        f"Their {TIER_LABELS.get(closed.kind, closed.kind)} episode, from "
                        f"{long_date(closed.selected_on)}, ends on "
                        f"{long_date(decision.panel.held_on)}"
                        if closed is not None
                        else ""
                    ),
                    opens=(
                        f"A new {TIER_LABELS.get(opened.kind, opened.kind)} episode starts on "
                        f"{long_date(opened.selected_on)}"
                        if opened is not None
                        else ""
                    ),
                    exit_route=_label(ExitRoute, closed.exit_route) if closed is not None else "",
                )
            )
    except _Rehearsed as done:
        return done.preview


def decision_message(name: str, decision: PanelDecision) -> str:
    """What changed, in a sentence: "Qx Brannock is a PPO from 3 March 2026"."""
    day = long_date(decision.panel.held_on)
    words = panels.TIER_WORDS
    before, after = decision.from_tier, decision.to_tier
    if decision.kind == DecisionKind.DEFER or before == after:
        return f"Decision deferred: {name} is still {words.get(before, before)}"
    if not after:
        return f"{name} is no longer {words.get(before, before)} from {day}"
    message = f"{name} is {words.get(after, after)} from {day}"
    return f"{message} and no longer {words.get(before, before)}" if before else message


@login_required
@require_http_methods(["GET", "POST"])
def panel_decide_view(request: HttpRequest, panel_id: int, offender_id: int) -> HttpResponse:
    actor = actor_for(request.user)
    posted = request.method == "POST"
    confirming, changing = posted and "confirm" in request.POST, posted and "change" in request.POST
    context = selectors.decision_context(
        user=actor,
        panel_id=panel_id,
        offender_id=offender_id,
        view="check a panel decision" if posted and not changing else "record a panel decision",
    )
    selection_panel, offender = context.panel, context.offender
    form = PanelDecisionForm(request.POST if posted else None)

    def decide() -> PanelDecision:
        return panels.panel_decide(
            user=actor,
            panel_id=selection_panel.pk,
            offender_id=offender.pk,
            **form.service_args(),
        )

    def save() -> Outcome:
        decision = decide()
        return Outcome(
            reverse("selection:panel", args=[selection_panel.pk]),
            decision_message(context.name, decision),
        )

    page = {
        "context": context,
        "panel": selection_panel,
        "offender": offender,
        "form": form,
        "score": (
            plain_number(context.recommendation.entry.score) if context.recommendation.entry else ""
        ),
        "tier_label": TIER_LABELS.get(context.tier, context.tier),
        "kinds": [
            {
                "value": kind,
                "label": label,
                "departs": departs,
                "id": "id_kind" if index == 0 else f"id_kind-{index + 1}",
                "reveal": kind if kind in (DecisionKind.DESELECT, DecisionKind.EXIT_DIP) else "",
                "checked": form["kind"].value() == kind,
            }
            for index, (kind, label, departs) in enumerate(context.kinds)
        ],
        "may_record_risk": selectors.may_record_risk_assessments(actor),
    }
    if changing:
        form.is_valid()  # back to the form with the answers as they were, to change them
    elif (
        posted
        and not confirming
        and form.is_valid()
        and form.cleaned_data["kind"] in selectors.OFF_TIER_KINDS
    ):
        try:
            preview = _rehearse(decide)
        except NotPermitted as refusal:
            raise Refused(PANEL, selection_panel.pk, refusal.message) from None
        except (ValidationError, ApplicationError) as error:
            place_service_error(form, error)
        else:
            return render(
                request,
                "selection/panel_decision_check.html",
                {**page, "preview": preview, **_check_rows(form, preview)},
            )
    elif done := _save(request, form, save, record_type=PANEL, place=place_service_error):
        return done
    return render(request, "selection/panel_decision_form.html", page)


def _check_rows(form: PanelDecisionForm, preview: Preview) -> dict[str, Any]:
    args = form.service_args()
    rows = [("Decision", str(DecisionKind(args["kind"]).label), "id_kind")]
    if args["deselection_reason"]:
        rows.append(
            (
                "Reason for de-selection",
                _label(DeselectionReason, args["deselection_reason"]),
                "id_deselection_reason",
            )
        )
    if args["kind"] in (DecisionKind.DESELECT, DecisionKind.EXIT_DIP):
        rows.append(
            (
                "Outcome on leaving the scheme",
                _label(ExitOutcome, args["exit_outcome"]) or "Not recorded",
                "",
            )
        )
    rows.append(("Reason for the decision", args["reason"].strip() or "None given", "id_reason"))
    rows.append(
        (
            "Departs from the ranking",
            "Yes" if preview.departs else "No",
            "",
        )
    )
    return {"answers": rows, "hidden": form.answers()}


# --- risk assessments -------------------------------------------------------------------------


def _return_to(request: HttpRequest, default: str) -> str:
    """A page on this site to go back to after saving (`next`), or `default`."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted.startswith("/") and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return default


@login_required
@require_http_methods(["GET", "POST"])
def risk_assessment_create_view(request: HttpRequest, offender_id: int) -> HttpResponse:
    actor = actor_for(request.user)
    offender = selectors.risk_assessment_person(user=actor, offender_id=offender_id)
    name = selectors.person_name(actor, offender)
    back = _return_to(request, reverse("offenders:detail", args=[offender.pk]))
    form = RiskAssessmentForm(request.POST if request.method == "POST" else None)

    def save() -> Outcome:
        made = risk_assessment_record(user=actor, offender_id=offender.pk, **form.service_args())
        return Outcome(
            back,
            f"Risk assessment recorded for {name}: {RiskTool(made.tool).label}, "
            f"{long_date(made.assessed_on)}, likelihood of re-offending {made.likelihood_score}%, "
            f"risk of serious harm {str(RoshLevel(made.rosh_level).label).lower()}",
        )

    if done := _save(
        request, form, save, record_type="selection.riskassessment", place=place_service_error
    ):
        return done
    return render(
        request,
        "selection/risk_assessment_form.html",
        {"form": form, "offender": offender, "name": name, "back": back},
    )
