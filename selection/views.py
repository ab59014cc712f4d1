"""The selection pages: runs and their rankings, score explanations, the matrix.

Who sees what is the selectors' and services' business (ACCESS.md "selection scores,
panel decisions, reviews"): the views ask them, show what they return, and turn their
refusals into 403s and their messages into the error summary.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from access.errors import ApplicationError, NotPermitted, Refused
from access.policy import Actor, RecordKind, actor_for, visible_fields
from access.submissions import Outcome, save_once

from . import panel_selectors, selectors, services
from .forms import (
    ADD_FIELDS,
    AdoptForm,
    MatrixDraftForm,
    NewDraftForm,
    RunSelectionForm,
)
from .forms import plain_number as _number
from .models import RunEntry

RUN = selectors.RUN
MATRIX = "selection.matrixversion"
# A ranking longer than this is shown a page at a time, and is then sorted on the
# server only (moj-sortable-table reorders just the rows on the page, shared/UI.md).
RANKING_PAGE_SIZE = 200
TIER_LABELS = {"ppo": "PPO", "dyo": "DYO", "": "Pool"}
# Cells a spreadsheet would run as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# The CSV's columns that show a field of a person's record, and which.
CSV_COLUMN_FIELDS = {
    "name": (RecordKind.IDENTITY, "full_name"),
    "in_custody": (RecordKind.CUSTODY, "in_custody"),
    "due_out_on": (RecordKind.CUSTODY, "expected_release_on"),
}


# --- helpers ------------------------------------------------------------------------------


def _may_change_selection(actor: Actor) -> bool:
    """Whether to offer "Run selection now" and the matrix's editing buttons: the
    services' own rule, so a button is never offered to someone they would refuse."""
    return services.may_change_selection(actor)


def _is_zero(value: Any) -> bool:
    try:
        return Decimal(str(value)) == 0
    except (InvalidOperation, ValueError):
        return False


def _place_error(form: Any, error: Exception) -> None:
    """Put a service's message where the person will see it: beside the field it is
    about, and in the error summary linking to that field."""
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            name = name if name in form.fields else ADD_FIELDS.get(name, name)
            form.add_error(name if name in form.fields else None, errors)
        return
    if isinstance(error, ApplicationError):
        # The service names the field a message is about (weight_12, threshold, add_kind);
        # a message about the whole matrix goes to the error summary only.
        named = [name for name in error.field_errors if name in form.fields]
        form.add_error(named[0] if named else None, error.message)
        return
    form.add_error(None, getattr(error, "messages", [str(error)]))


def place_service_error(form: Any, error: Exception) -> None:
    """A service's message beside each field it names (a form may map a service's field
    name to its own with `place_field`), and in the error summary; a message about no
    field of the form goes to the summary only."""

    def place(name: str) -> str | None:
        if hasattr(form, "place_field"):
            return form.place_field(name)  # type: ignore[no-any-return]
        return name if name in form.fields else None

    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            form.add_error(place(name), errors)
        return
    if isinstance(error, ApplicationError):
        placed = False
        for name, errors in error.field_errors.items():
            if (target := place(name)) is not None:
                form.add_error(target, errors)
                placed = True
        if not placed:
            form.add_error(None, error.message)
        return
    form.add_error(None, getattr(error, "messages", [str(error)]))


def _save(
    request: HttpRequest,
    form: Any,
    save: Callable[[], Outcome],
    *,
    record_type: str = MATRIX,
    record_id: Any = "",
    place: Callable[[Any, Exception], None] = _place_error,
) -> HttpResponse | None:
    """Save a valid posted form once (access.submissions, as offenders.views does): the
    redirect to show, or None to show the form again with its errors (put by `place`).
    The service's refusal of a role is a 403, audited by the 403 handler. Every selection
    page that records something saves through here."""
    if request.method != "POST" or not form.is_valid():
        return None
    try:
        outcome = save_once(user=request.user, token=form.token, save=save)
    except NotPermitted as refusal:
        raise Refused(record_type, record_id, refusal.message) from None
    except (ValidationError, ApplicationError) as error:
        place(form, error)
        return None
    if outcome.repeated:
        messages.info(request, outcome.message)
    else:
        messages.success(request, outcome.message)
    return redirect(outcome.url)


def _bound(request: HttpRequest) -> Any:
    """The post, for a form that must be bound on every POST (even an empty one, so a
    post without its token is told the page was out of date)."""
    return request.POST if request.method == "POST" else None


# --- runs -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def index_view(request: HttpRequest) -> HttpResponse:
    actor = actor_for(request.user)
    runs = selectors.run_list(user=actor)
    form = RunSelectionForm(_bound(request))

    def run_now() -> Outcome:
        run = services.selection_run(user=actor)
        listed = run.entries.count()
        return Outcome(
            reverse("selection:run", args=[run.pk]),
            f"Selection run: {listed} {'person' if listed == 1 else 'people'} listed "
            f"from a pool of {run.pool_size}",
        )

    if request.method == "POST" and not _may_change_selection(actor):
        raise Refused(RUN, "", "role does not run selection")
    if done := _save(request, form, run_now, record_type=RUN):
        return done
    adopted = selectors.adopted_matrix(user=actor)
    return render(
        request,
        "selection/index.html",
        {
            "runs": list(runs),
            "adopted": adopted,
            "form": form,
            "can_run": _may_change_selection(actor),
        },
    )


@dataclass(frozen=True)
class RankingRow:
    entry: RunEntry
    name: str
    sort_name: str
    tier: str
    score: str
    below_threshold: bool
    where: str
    where_sort: str
    # The last row within the scheme's capacity, with people ranked below it.
    capacity_line: bool


def _where(entry: RunEntry, custody_fields: frozenset[str]) -> tuple[str, str]:
    """ "Community" or "In custody, due out 3 March 2027", and a value to sort it by."""
    if "in_custody" not in custody_fields:
        return "", ""
    if not entry.in_custody:
        return "Community", "0"
    if entry.due_out_on and "expected_release_on" in custody_fields:
        return (
            f"In custody, due out {entry.due_out_on:%-d %B %Y}",
            f"1 {entry.due_out_on.isoformat()}",
        )
    return "In custody", "2"


def _name(offender: Any, identity_fields: frozenset[str]) -> str:
    # STYLE.md rule 10: the policy says whether this reader sees a name.
    return offender.full_name if "full_name" in identity_fields else "Name not available to you"


def _rows(entries: list[RunEntry], capacity: int, actor: Actor) -> list[RankingRow]:
    custody_fields = visible_fields(actor, RecordKind.CUSTODY)
    identity_fields = visible_fields(actor, RecordKind.IDENTITY)
    names_shown = "full_name" in identity_fields
    # The line falls after the last person shown whose rank is within capacity, when
    # someone shown is ranked below it (ranks are the run's, whoever is shown).
    within = [e for e in entries if e.rank <= capacity]
    line_after = within[-1].pk if within and len(within) < len(entries) else None
    rows = []
    for entry in entries:
        where, where_sort = _where(entry, custody_fields)
        rows.append(
            RankingRow(
                entry=entry,
                name=_name(entry.offender, identity_fields),
                sort_name=(
                    f"{entry.offender.last_name} {entry.offender.first_name}".lower()
                    if names_shown
                    else ""
                ),
                tier=TIER_LABELS.get(entry.tier, entry.tier.upper()),
                score=_number(entry.score),
                below_threshold=bool(entry.tier) and not entry.above_threshold,
                where=where,
                where_sort=where_sort,
                capacity_line=entry.pk == line_after,
            )
        )
    return rows


@login_required
def run_view(request: HttpRequest, run_id: int) -> HttpResponse:
    actor = actor_for(request.user)
    ranking = selectors.run_ranking(user=actor, run_id=run_id)
    run = ranking.run
    page = Paginator(_rows(ranking.entries, ranking.capacity, actor), RANKING_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    criteria = list(run.version.criteria.select_related("category"))
    custody_fields = visible_fields(actor, RecordKind.CUSTODY)
    return render(
        request,
        "selection/run.html",
        {
            "ranking": ranking,
            "run": run,
            "page": page,
            "rows": page.object_list,
            # shared/UI.md: sortable in the browser only when the whole run is on the page.
            "sortable": page.paginator.num_pages == 1 and bool(ranking.entries),
            "criteria": [(c, _number(c.weight)) for c in criteria],
            "threshold": _number(run.version.threshold),
            "shows_where": "in_custody" in custody_fields,
            "balances": _balance_rows(ranking),
            # "Record a decision" beside each row, for those who record panel decisions.
            "can_decide": panel_selectors.may_decide_any(actor),
        },
    )


def _balance_rows(ranking: selectors.Ranking) -> list[tuple[str, Any, Any]]:
    now, proposed = ranking.balance_now, ranking.balance_proposed
    return [
        ("In the community", now.community, proposed.community),
        ("In custody, due out soon", now.due_out, proposed.due_out),
        ("In custody", now.custody, proposed.custody),
        (
            "Share in the community (counting those due out)",
            f"{now.community_share}%",
            f"{proposed.community_share}%",
        ),
    ]


@dataclass(frozen=True)
class ExplainedPart:
    label: str
    measure: str
    weight: str
    points: str


@login_required
def explanation_view(request: HttpRequest, run_id: int, offender_id: int) -> HttpResponse:
    actor = actor_for(request.user)
    entry = selectors.run_entry(user=actor, run_id=run_id, offender_id=offender_id)
    fired: list[ExplainedPart] = []
    no_points: list[ExplainedPart] = []
    for part in entry.explanation:
        explained = ExplainedPart(
            label=str(part.get("label", "")),
            measure=_number(part.get("measure", "0")),
            weight=_number(part.get("weight", "0")),
            points=_number(part.get("points", "0")),
        )
        (no_points if _is_zero(part.get("points", "0")) else fired).append(explained)
    return render(
        request,
        "selection/explanation.html",
        {
            "entry": entry,
            "run": entry.run,
            "name": _name(entry.offender, visible_fields(actor, RecordKind.IDENTITY)),
            "fired": fired,
            "no_points": no_points,
            "score": _number(entry.score),
            "threshold": _number(entry.run.version.threshold),
            "tier": TIER_LABELS.get(entry.tier, entry.tier.upper()),
        },
    )


def _csv_safe(value: str) -> str:
    """A cell a spreadsheet shows as text: a leading = + - @ (or tab, return) would
    make it a formula, so such a cell starts with a single quote."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


@login_required
def run_csv_view(request: HttpRequest, run_id: int) -> HttpResponse:
    actor = actor_for(request.user)
    run, rows = selectors.run_csv_rows(user=actor, run_id=run_id)
    header = rows[0] if rows else []
    hidden = {
        index
        for index, column in enumerate(header)
        if column in CSV_COLUMN_FIELDS
        and CSV_COLUMN_FIELDS[column][1] not in visible_fields(actor, CSV_COLUMN_FIELDS[column][0])
    }
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="selection-run-{run.pk}-{run.as_of.isoformat()}.csv"'
    )
    writer = csv.writer(response, lineterminator="\r\n")
    for row in rows:
        writer.writerow(
            [_csv_safe(str(cell)) for index, cell in enumerate(row) if index not in hidden]
        )
    return response


# --- the matrix -----------------------------------------------------------------------------


@login_required
def matrix_list_view(request: HttpRequest) -> HttpResponse:
    actor = actor_for(request.user)
    versions = list(selectors.matrix_list(user=actor))
    return render(
        request,
        "selection/matrix_list.html",
        {"versions": versions, "can_change": _may_change_selection(actor)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def matrix_view(request: HttpRequest, version_id: int) -> HttpResponse:
    actor = actor_for(request.user)
    version = selectors.matrix_get(user=actor, version_id=version_id)
    criteria = list(version.criteria.select_related("category"))
    can_change = _may_change_selection(actor)
    form = MatrixDraftForm(_bound(request), version=version, criteria=criteria)

    def save() -> Outcome:
        services.matrix_draft_update(user=actor, version_id=version.pk, **form.update())
        return Outcome(
            reverse("selection:matrix", args=[version.pk]),
            f"Draft version {version.number} saved",
        )

    if request.method == "POST" and not can_change:
        raise Refused(MATRIX, version.pk, "role does not change the matrix")
    if done := _save(request, form, save):
        return done
    return render(
        request,
        "selection/matrix.html",
        {
            "version": version,
            "criteria": [(c, _number(c.weight)) for c in criteria],
            "threshold": _number(version.threshold),
            "form": form,
            "editing": version.editable and can_change,
            "can_copy": can_change and not version.editable,
            "copy_form": NewDraftForm(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def matrix_new_draft_view(request: HttpRequest, version_id: int) -> HttpResponse:
    """Copy a version to a new draft (POST from the version's page)."""
    actor = actor_for(request.user)
    version = selectors.matrix_get(user=actor, version_id=version_id)
    if request.method == "GET":
        return redirect("selection:matrix", version_id=version.pk)
    if not _may_change_selection(actor):
        raise Refused(MATRIX, version.pk, "role does not change the matrix")
    form = NewDraftForm(request.POST)

    def copy() -> Outcome:
        draft = services.matrix_draft_create(user=actor, from_version_id=version.pk)
        return Outcome(
            reverse("selection:matrix", args=[draft.pk]),
            f"Draft version {draft.number} made from version {version.number}",
        )

    if done := _save(request, form, copy):
        return done
    for error in form.non_field_errors():
        messages.error(request, str(error))
    return redirect("selection:matrix", version_id=version.pk)


@login_required
@require_http_methods(["GET", "POST"])
def matrix_adopt_view(request: HttpRequest, version_id: int) -> HttpResponse:
    """ "Are you sure?" (shared/UI.md: an interruption panel), then adopt."""
    actor = actor_for(request.user)
    version = selectors.matrix_get(user=actor, version_id=version_id)
    if not _may_change_selection(actor):
        raise Refused(MATRIX, version.pk, "role does not change the matrix")
    if request.method == "GET" and not version.editable:
        messages.info(request, f"Version {version.number} is not a draft: it cannot be adopted")
        return redirect("selection:matrix", version_id=version.pk)
    form = AdoptForm(_bound(request))

    def adopt() -> Outcome:
        services.matrix_adopt(user=actor, version_id=version.pk)
        return Outcome(
            reverse("selection:matrix", args=[version.pk]),
            f"Version {version.number} adopted: selection runs now use it",
        )

    if done := _save(request, form, adopt):
        return done
    adopted = selectors.adopted_matrix(user=actor)
    return render(
        request,
        "selection/matrix_adopt.html",
        {"version": version, "adopted": adopted, "form": form},
    )


@login_required
def matrix_what_if_view(request: HttpRequest, version_id: int) -> HttpResponse:
    actor = actor_for(request.user)
    result = selectors.what_if(user=actor, draft_id=version_id)
    return render(
        request,
        "selection/matrix_what_if.html",
        {
            "result": result,
            "version": result.draft,
            "entering": [(s, _number(s.score)) for s in result.entering],
            "leaving": [(s, _number(s.score)) for s in result.leaving],
        },
    )
