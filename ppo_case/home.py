"""Each role's starting point: a screen that gathers from several apps, so it lives here,
above them (STYLE.md rule 11), not in `access` or `offenders`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from access.models import Role
from access.policy import (
    Actor,
    RecordKind,
    actor_for,
    can_read_audit_log,
    grant,
    may_use_admin_site,
    offending_events_q,
)
from conferences.due import due_lines
from conferences.selectors import (
    due_count,
    long_date,
    next_conference_by_person,
    reads_every_conference,
)
from offenders.caseload import (
    NEED_SORT,
    Caseload,
    CaseloadRow,
    Column,
    NeedRule,
    caseload_page,
    contacts_short,
    rows_needing,
    sort_rows,
)
from offenders.custody_release import alert_list, release_plans_due
from offenders.enforcement import overdue_cases
from offenders.log_another import log_contact_query, next_to_log
from offenders.models import EventKind, OffendingEvent
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


# "New arrests and charges since the last conference" (issue 13.2): a caseload filter the
# home page adds, since offenders may not read conferences (STYLE.md rule 11).
NEED_NEW_OFFENDING = "new_offending"
NEW_OFFENDING_KINDS = {EventKind.ARREST: "arrest", EventKind.CHARGE: "charge"}


def _reads_conferences_and_offending(actor: Actor) -> bool:
    return reads_every_conference(actor) and grant(actor, RecordKind.OFFENDING).can_read


def offending_since_conference(actor: Actor, offender_ids: list[int]) -> dict[int, str]:
    """Of `offender_ids`, the PPOs with an arrest or charge the reader may read for an
    offence on or after the day after their last closed conference since their current
    selection (conferences.due, the rule for who is due one), or, never conferenced since
    selection, on or after the selection day; up to today. By the offence day, as the
    conference agenda lists "what happened since" (conferences.agenda). Two queries."""
    lines = due_lines(actor, as_of=actor.as_of, offender_ids=offender_ids)
    since: dict[int, tuple[dt.date, str]] = {}
    for pk, line in lines.items():
        if line.last_conference_on is not None:
            since[pk] = (
                line.last_conference_on + dt.timedelta(days=1),
                f"since the last conference on {long_date(line.last_conference_on)}",
            )
        else:
            since[pk] = (line.selected_on, f"since selection on {long_date(line.selected_on)}")
    if not since:
        return {}
    # One condition per distinct first day (people conferenced or selected on the same day
    # share it), not one per person: a few hundred OR'ed pairs over a million events cost
    # PostgreSQL more than the rest of the page (issue 15).
    by_first: dict[dt.date, list[int]] = {}
    for pk, (first, _) in since.items():
        by_first.setdefault(first, []).append(pk)
    window = Q()
    for first, people in by_first.items():
        window |= Q(offender_id__in=people, occurred_on__gte=first)
    counted = (
        OffendingEvent.objects.filter(offending_events_q(actor))
        .filter(window, kind__in=list(NEW_OFFENDING_KINDS), occurred_on__lte=actor.as_of)
        .order_by()
        .values("offender_id", "kind")
        .annotate(n=Count("pk"))
        .values_list("offender_id", "kind", "n")
    )
    found: dict[int, dict[str, int]] = {}
    for pk, kind, n in counted:
        found.setdefault(pk, {})[kind] = n
    return {
        pk: ", ".join(
            f"{kinds[kind]} {word}{'s' if kinds[kind] != 1 else ''}"
            for kind, word in NEW_OFFENDING_KINDS.items()
            if kinds.get(kind)
        )
        + f" {since[pk][1]}"
        for pk, kinds in found.items()
    }


HOME_NEEDS: dict[str, NeedRule] = {
    NEED_NEW_OFFENDING: NeedRule(
        label="New arrests or charges since their last conference",
        column="Since the last conference",
        offered=_reads_conferences_and_offending,
        people=offending_since_conference,
    ),
}


@dataclass(frozen=True)
class Panel:
    """One "needs action" count on the manager's home, and the list it counts."""

    key: str
    label: str
    count: int
    href: str


def needs_action(caseload: Caseload, actor: Actor) -> list[Panel]:
    """The manager's "needs action" panels (issue 13.2), one for each "needs action"
    filter the caseload offers this reader, each counted from the same rows and the same
    rule (`offenders.caseload.rows_needing`) as the filter it links to, so a count always
    equals the rows behind its link."""
    rows = (
        caseload.rows
        if not caseload.query.filtered
        else caseload_page(user=actor, extra_needs=HOME_NEEDS, audited=False).rows
    )
    return [
        Panel(
            need,
            label,
            len(rows_needing(rows, need, actor=actor, rules=caseload.need_rules)),
            f"?{urlencode({'need': need})}",
        )
        for need, label in caseload.needs.items()
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


@dataclass(frozen=True)
class NextContact:
    """Issue 13.1: the person furthest below this week's contact target, offered first."""

    row: CaseloadRow
    # The row's place in the list, as its own "Log contact" link passes it, so that "Save
    # and log another" goes on from there (offenders.log_another).
    index: int


def next_contact(rows: list[CaseloadRow]) -> NextContact | None:
    """Of the rows the reader may log a contact for and who are short of this week's
    contact target, the first in the caseload's "need" order (offenders.caseload), whatever
    order the list is in. None when nobody listed is short."""
    behind = [row for row in rows if row.can_log_contact and (contacts_short(row) or 0) > 0]
    if not behind:
        return None
    first = sort_rows(behind, NEED_SORT, "asc")[0]
    return NextContact(first, next(i for i, row in enumerate(rows) if row is first))


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
        caseload = caseload_page(user=actor, params=request.GET, extra_needs=HOME_NEEDS)
        context["caseload"] = caseload
        context["rows"] = with_next_conference(actor, caseload, with_reviews_due(actor, caseload))
        # Issue 13.1: after "Save and log another", the next person's "Log contact" focused.
        context["focus_log_contact"] = next_to_log(context["rows"], request.GET)
        # Issue 13.1: the first link on the page, so the keyboard reaches it straight away.
        context["next_contact"] = next_contact(context["rows"])
        # Issue 13.8: "not on a tier this week" said once for the list, not on every row.
        context["off_tier_rows"] = sum(
            1 for row in context["rows"] if row.this_week is not None and not row.this_week.tier
        )
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
            if caseload.needs:
                context["needs_action"] = needs_action(caseload, actor)
            context["conferences_due"] = due_count(user=actor)
    return render(request, template, context)
