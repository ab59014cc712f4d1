"""Each role's starting point: a screen that gathers from several apps, so it lives here,
above them (STYLE.md rule 11), not in `access` or `offenders`."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from access.models import Role
from access.policy import Actor, actor_for, can_read_audit_log, may_use_admin_site
from conferences.selectors import due_count, next_conference_by_person
from offenders.caseload import (
    NEED_BELOW_TARGET,
    NEED_LABELS,
    NEED_NO_CONTACT,
    Caseload,
    CaseloadRow,
    Column,
    caseload_page,
    rows_needing,
)
from offenders.custody_release import alert_list, release_plans_due
from offenders.enforcement import overdue_cases
from offenders.log_another import log_contact_query, next_to_log
from reporting.selectors import scheme_by_age_and_sex, scheme_headline
from selection.review_selectors import person_reviews_url, reviews_due, reviews_due_by_person

# The headline's figures that are a caseload filter: each links to exactly the people it counts.
HEADLINE_FILTERS: dict[str, dict[str, str]] = {
    "PPOs on the scheme": {"tier": "ppo"},
    "In the community": {"tier": "ppo", "status": "community"},
    "In custody, sentenced": {"tier": "ppo", "status": "custody"},
    "Remanded in custody": {"tier": "ppo", "status": "remand"},
}

REVIEWS_DUE_COLUMN = "reviews_due"
NEXT_CONFERENCE_COLUMN = "next_conference"


@dataclass
class HomeRow(CaseloadRow):
    """A caseload row with the columns that other apps add to it on the home page.

    `offenders` builds the caseload and may not import `selection` (STYLE.md rule 11), so
    the "Reviews due" column is added here, above both, from selection's own selector."""

    reviews_due: int = 0
    reviews_url: str = ""
    # "22 June 2026" (booked), "due 2 December 2026" (conferences.due), or "".
    next_conference: str = ""


@dataclass(frozen=True)
class Panel:
    """One "needs action" count on the manager's home, and the list it counts."""

    key: str
    label: str
    count: int
    href: str


def needs_action(caseload: Caseload, actor: Actor) -> list[Panel]:
    """The manager's "needs action" panels (issue 13.2), each counted from the same rows
    and the same rule (`offenders.caseload.rows_needing`) as the caseload filter it links
    to, so a count always equals the rows behind its link."""
    rows = caseload.rows if not caseload.query.filtered else caseload_page(user=actor).rows
    return [
        Panel(
            need, NEED_LABELS[need], len(rows_needing(rows, need)), f"?{urlencode({'need': need})}"
        )
        for need in (NEED_BELOW_TARGET, NEED_NO_CONTACT)
    ]


@dataclass(frozen=True)
class LinkedFigure:
    """A headline figure, with the caseload filter listing exactly whom it counts ("" if none)."""

    label: str
    value: Any
    href: str = ""


def linked_headline(figures: list[Any]) -> list[LinkedFigure]:
    """The headline figures, each that is a caseload filter with its link."""
    return [
        LinkedFigure(
            f.label,
            f.value,
            f"?{urlencode(HEADLINE_FILTERS[f.label])}" if f.label in HEADLINE_FILTERS else "",
        )
        for f in figures
    ]


def with_reviews_due(actor: Actor, caseload: Caseload) -> list[CaseloadRow]:
    """The caseload's rows with each person's number of open reviews (one query), and the
    "Reviews due" column before the row actions, for a reader who may read reviews; the
    rows unchanged for anyone else. Each number links to the list of exactly those."""
    counts = reviews_due_by_person(user=actor, offender_ids=[o.pk for o in caseload.offenders])
    if counts is None:
        return list(caseload.rows)
    rows: list[CaseloadRow] = [
        HomeRow(
            **{f.name: getattr(row, f.name) for f in fields(CaseloadRow)},
            reviews_due=counts.get(row.offender.pk, 0),
            reviews_url=person_reviews_url(row.offender.pk),
        )
        for row in caseload.rows
    ]
    column = Column(REVIEWS_DUE_COLUMN, "Reviews due", numeric=True)
    caseload.columns = [*caseload.columns, column]
    return rows


def with_next_conference(
    actor: Actor, caseload: Caseload, rows: list[CaseloadRow]
) -> list[CaseloadRow]:
    """The rows with each person's next conference (one query, conferences.selectors), and
    the "Next conference" column before the row actions, for a reader of conferences; the
    rows unchanged for anyone else."""
    found = next_conference_by_person(user=actor, offender_ids=[o.pk for o in caseload.offenders])
    if found is None:
        return rows
    with_column: list[CaseloadRow] = []
    for row in rows:
        home_row = (
            row
            if isinstance(row, HomeRow)
            else HomeRow(**{f.name: getattr(row, f.name) for f in fields(CaseloadRow)})
        )
        home_row.next_conference = found.get(row.offender.pk, "")
        with_column.append(home_row)
    column = Column(NEXT_CONFERENCE_COLUMN, "Next conference")
    caseload.columns = [*caseload.columns, column]
    return with_column


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each role's own starting point (shared/UI.md "Home per role")."""
    actor = actor_for(request.user)
    context: dict[str, Any] = {"actor": actor}
    if actor.membership is None:
        template = "home/no_role.html"
    elif actor.role == Role.STEERING_GROUP:
        template = "home/steering.html"
        context["headline"] = scheme_headline(user=actor)
        context["by_age_and_sex"] = scheme_by_age_and_sex(user=actor)
    elif actor.role == Role.ADMINISTRATOR:
        template = "home/administrator.html"
        context["can_read_audit"] = can_read_audit_log(actor)
        context["can_use_admin"] = may_use_admin_site(actor.user)
    else:
        template = "home/caseload.html"
        caseload = caseload_page(user=actor, params=request.GET)
        context["caseload"] = caseload
        context["rows"] = with_next_conference(actor, caseload, with_reviews_due(actor, caseload))
        # Issue 13.1: after "Save and log another", the next person's "Log contact" focused.
        context["focus_log_contact"] = next_to_log(context["rows"], request.GET)
        # The success banner then does not take the focus (templates/base.html).
        context["page_sets_focus"] = context["focus_log_contact"] is not None
        context["log_contact_query"] = log_contact_query(request.GET)
        context["reviews_due"] = reviews_due(user=actor)
        # 004 §4.2: alerts about the reader's people, and who is due out without a plan.
        context["alerts"] = alert_list(user=actor)
        context["plans_due"] = release_plans_due(user=actor)
        # 001 §3.2e: overdue enforcement, the key worker's own people's, all for the manager.
        if actor.role in (Role.KEY_WORKER, Role.PPO_MANAGER):
            context["enforcement_overdue"] = overdue_cases(
                user=actor, mine=actor.role == Role.KEY_WORKER
            )
        if actor.role == Role.PPO_MANAGER:
            context["headline"] = linked_headline(scheme_headline(user=actor))
            context["headline_ppos_only"] = True
            if caseload.shows_compliance:
                context["needs_action"] = needs_action(caseload, actor)
            context["conferences_due"] = due_count(user=actor)
    return render(request, template, context)
