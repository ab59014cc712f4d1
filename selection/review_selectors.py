"""Reads for the reviews that fall due by themselves (issue 8): the list of open reviews,
the counts on the home page and the caseload, and a panel's agenda.

ACCESS.md "selection scores, panel decisions, reviews": the PPO manager, key workers and
police read reviews; YOT reads its own people's; prison staff, partners, the steering
group and administrators nothing (403). A review about a person is shown only to those
who may see that person (`people_q`). The review of the whole list against the pool
(`003 §6.2(4)`) names nobody, but it is about the whole known-offender pool, so it is
shown only to those whose scope holds that pool (`Scope.EVERYONE`: the manager and
police), not to a key worker or YOT worker, whose scope does not.

"Due" means open: a review is raised on the day it falls due and stays due until a panel
decision or a recorded "no change, reviewed" closes it. It is *overdue* once its due date
has passed (due on 10 June: due on 10 June, overdue from 11 June). The list, the home
page's counts, the caseload's column and a panel's agenda all read `open_reviews`, so a
count always agrees with the list it links to.

Every page here runs a fixed number of queries, whatever the number of reviews or rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.urls import reverse

from access import audit
from access.errors import OutOfScope, Refused
from access.policy import Actor, Read, RecordKind, Scope, as_actor, grant, people_q

from .models import PanelKind, Review, ReviewKind, ReviewStatus, SelectionPanel
from .panel_selectors import (
    decidable_panels,
    may_record_panels,
    person_name,
    record_id,
)
from .reviews import INTELLIGENCE_DETAIL_KEYS
from .services import may_change_selection

REVIEW = "selection.review"


def may_read_reviews(actor: Actor) -> bool:
    return grant(actor, RecordKind.SELECTION).can_read


def _reader(user: Any, record_id_: Any = "") -> Actor:
    actor = as_actor(user)
    if not may_read_reviews(actor):
        raise Refused(REVIEW, record_id_, "role does not read selection")
    return actor


def sees_list_reviews(actor: Actor) -> bool:
    """Whether the reader sees the review of the whole list against the pool (module
    docstring): only those whose scope holds the whole pool."""
    return may_read_reviews(actor) and actor.scope is Scope.EVERYONE


def may_close_reviews(actor: Actor) -> bool:
    """Who is offered "Close: no change, reviewed": whoever writes selection records for
    the whole scheme (the PPO manager), as for every other selection write. The service
    (`selection.reviews.review_close`) decides; a refusal there is a 403 here."""
    return may_change_selection(actor)


def visible_q(actor: Actor) -> Q:
    """The reviews this actor may read, as a filter on `Review`."""
    if not may_read_reviews(actor):
        return Q(pk__in=[])
    about_people = Q(offender__isnull=False) & people_q(actor, prefix="offender__")
    return about_people | Q(offender__isnull=True) if sees_list_reviews(actor) else about_people


def open_reviews(actor: Actor) -> QuerySet[Review]:
    """Every open review the actor may read, due first (the model's order)."""
    return Review.objects.filter(status=ReviewStatus.OPEN).filter(visible_q(actor))


def overdue_q(as_of: dt.date) -> Q:
    """Overdue: the due date has passed (due on 10 June is overdue from 11 June)."""
    return Q(due_on__lt=as_of)


def is_overdue(review: Review, as_of: dt.date) -> bool:
    """`overdue_q` for one review: the same rule."""
    return review.due_on < as_of


# --- the filters -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewQuery:
    kind: str = ""
    overdue: bool = False
    person: int | None = None
    ignored: tuple[str, ...] = ()

    @property
    def filtered(self) -> bool:
        return bool(self.kind or self.overdue or self.person)

    def params(self) -> dict[str, str]:
        chosen = {
            "kind": self.kind,
            "overdue": "yes" if self.overdue else "",
            "person": str(self.person) if self.person else "",
        }
        return {k: v for k, v in chosen.items() if v}


def read_review_query(params: Mapping[str, Any]) -> ReviewQuery:
    """The filters from a query string: unknown values are dropped with a message the
    person can read; nothing here raises."""
    ignored: list[str] = []
    kind = str(params.get("kind", "") or "").strip()
    if kind and kind not in ReviewKind.values:
        ignored.append(f"“{kind[:40]}” is not a kind of review, so that filter was not applied.")
        kind = ""
    overdue_text = str(params.get("overdue", "") or "").strip().lower()
    if overdue_text not in ("", "yes", "no"):
        ignored.append(
            f"“{overdue_text[:40]}” is not yes or no, so the overdue filter was not applied."
        )
    person_text = str(params.get("person", "") or "").strip()
    person = record_id(person_text) if person_text else None
    if person_text and person is None:
        ignored.append(f"“{person_text[:40]}” is not a person, so that filter was not applied.")
    return ReviewQuery(
        kind=kind, overdue=overdue_text == "yes", person=person, ignored=tuple(ignored)
    )


def _filtered(reviews: QuerySet[Review], query: ReviewQuery, as_of: dt.date) -> QuerySet[Review]:
    if query.overdue:
        reviews = reviews.filter(overdue_q(as_of))
    if query.person is not None:
        reviews = reviews.filter(offender_id=query.person)
    return reviews


def counts_by_kind(reviews: QuerySet[Review]) -> dict[str, int]:
    """How many of these reviews there are of each kind (one query)."""
    rows = reviews.order_by().values("kind").annotate(n=Count("pk")).values_list("kind", "n")
    return dict(rows)


# --- what the sweep found ---------------------------------------------------------------------


def _words(key: str) -> str:
    return key.replace("_", " ").strip().capitalize()


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if value is None or value == "":
        return "none"
    if isinstance(value, str):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            return value
        return f"{day.day} {day:%B %Y}"
    if isinstance(value, Mapping):
        return "; ".join(f"{_words(str(k))}: {_value(v)}" for k, v in value.items())
    if isinstance(value, Iterable):
        return ", ".join(_value(v) for v in value) or "none"
    return str(value)


def detail_lines(detail: Any, *, reads_intelligence: bool = True) -> list[str]:
    """What the sweep recorded with a review (`Review.detail`), one line per item, in
    words: "Positive drug tests: 2"; dates as "3 March 2026". A reader who sees
    intelligence reports only as counts (ACCESS.md: key workers) is not shown the items
    that date one (`reviews.INTELLIGENCE_DETAIL_KEYS`)."""
    if not detail:
        return []
    if not isinstance(detail, Mapping):
        return [_value(detail)]
    hidden = set() if reads_intelligence else INTELLIGENCE_DETAIL_KEYS
    # Record numbers (custody_id, ...) are for the sweep's own bookkeeping, not the panel.
    return [
        f"{_words(str(key))}: {_value(value)}"
        for key, value in detail.items()
        if str(key) != "id" and not str(key).endswith("_id") and str(key) not in hidden
    ]


# --- the list -----------------------------------------------------------------------------------


@dataclass
class ReviewRow:
    review: Review
    name: str
    kind: str
    overdue: bool
    detail: list[str]
    # Links: "" where the reader is not offered them.
    decide_url: str = ""
    person_url: str = ""
    close_url: str = ""
    ranking_url: str = ""


@dataclass
class ReviewList:
    actor: Actor
    as_of: dt.date
    query: ReviewQuery
    rows: list[ReviewRow]
    # (kind, label, how many the kind filter would list given the other filters).
    kinds: list[tuple[str, str, int]] = field(default_factory=list)
    overdue_count: int = 0
    next_panel: SelectionPanel | None = None
    person_name: str = ""


def next_panel(actor: Actor) -> SelectionPanel | None:
    """The next selection panel whose decisions this actor may record: the first held on
    or after today."""
    return (
        decidable_panels(actor).filter(held_on__gte=actor.as_of).order_by("held_on", "pk").first()
    )


def _decide_url(actor: Actor, offender_id: int, panel: SelectionPanel | None) -> str:
    url = reverse("selection:person-decide", args=[offender_id])
    return f"{url}?panel={panel.pk}" if panel is not None else url


def _rows(
    actor: Actor,
    reviews: list[Review],
    *,
    panel: SelectionPanel | None,
    decides: bool,
    closes: bool,
    decide_at: SelectionPanel | None = None,
) -> list[ReviewRow]:
    reads_intelligence = grant(actor, RecordKind.INTELLIGENCE).read is Read.FULL
    rows = []
    for review in reviews:
        offender = review.offender
        row = ReviewRow(
            review=review,
            name=person_name(actor, offender) if offender is not None else "The whole list",
            kind=review.get_kind_display(),
            overdue=is_overdue(review, actor.as_of),
            detail=detail_lines(review.detail, reads_intelligence=reads_intelligence),
        )
        if offender is not None:
            row.person_url = reverse("selection:person", args=[offender.pk])
            if decide_at is not None:
                row.decide_url = reverse("selection:panel-decide", args=[decide_at.pk, offender.pk])
            elif decides:
                row.decide_url = _decide_url(actor, offender.pk, panel)
        else:
            row.ranking_url = reverse("selection:index")
        if closes:
            row.close_url = reverse("selection:review-close", args=[review.pk])
        rows.append(row)
    return rows


def review_list_page(
    *, user: Any, as_of: dt.date | None = None, params: Mapping[str, Any] | None = None
) -> ReviewList:
    """The open reviews the reader may see, filtered by kind, overdue and person; the rows
    returned are audited as one consultation."""
    actor = _reader(user)
    if as_of is not None:
        actor = as_actor(actor, as_of)
    query = read_review_query(params or {})
    reviews = _filtered(open_reviews(actor), query, actor.as_of)
    counts = counts_by_kind(reviews)
    if query.kind:
        reviews = reviews.filter(kind=query.kind)
    found = list(reviews.select_related("offender"))
    decides = may_record_panels(actor) or decidable_panels(actor).exists()
    panel = next_panel(actor) if decides else None
    rows = _rows(actor, found, panel=panel, decides=decides, closes=may_close_reviews(actor))
    audit.consulted(actor, REVIEW, found, view="reviews due", filters=query.params())
    page = ReviewList(
        actor=actor,
        as_of=actor.as_of,
        query=query,
        rows=rows,
        kinds=[(kind, str(label), counts.get(kind, 0)) for kind, label in ReviewKind.choices],
        overdue_count=sum(1 for row in rows if row.overdue),
        next_panel=panel,
    )
    if query.person is not None and found and found[0].offender is not None:
        page.person_name = person_name(actor, found[0].offender)
    return page


# --- the home page and the caseload -------------------------------------------------------------


@dataclass(frozen=True)
class DueCount:
    kind: str
    label: str
    count: int
    url: str


@dataclass(frozen=True)
class ReviewsDue:
    total: int
    overdue: int
    by_kind: list[DueCount]
    url: str
    overdue_url: str


def reviews_due(*, user: Any) -> ReviewsDue | None:
    """The home page's "Reviews due" panel: how many open reviews of each kind, and how
    many overdue, each linking to the list that shows exactly those (two queries). None
    for a reader who may not read reviews. It names nobody, so it is not audited."""
    actor = as_actor(user)
    if not may_read_reviews(actor):
        return None
    reviews = open_reviews(actor)
    counts = counts_by_kind(reviews)
    url = reverse("selection:reviews")
    return ReviewsDue(
        total=sum(counts.values()),
        overdue=reviews.filter(overdue_q(actor.as_of)).count(),
        by_kind=[
            DueCount(kind, str(label), counts[kind], f"{url}?kind={kind}")
            for kind, label in ReviewKind.choices
            if counts.get(kind)
        ],
        url=url,
        overdue_url=f"{url}?overdue=yes",
    )


def reviews_due_by_person(*, user: Any, offender_ids: Iterable[int]) -> dict[int, int] | None:
    """For the caseload's "Reviews due" column: each person's number of open reviews
    (one query), or None for a reader who may not read reviews (no column)."""
    actor = as_actor(user)
    if not may_read_reviews(actor):
        return None
    ids = list(offender_ids)
    if not ids:
        return {}
    rows = (
        open_reviews(actor)
        .filter(offender_id__in=ids)
        .order_by()
        .values("offender_id")
        .annotate(n=Count("pk"))
        .values_list("offender_id", "n")
    )
    return dict(rows)


def person_reviews_url(offender_id: int) -> str:
    return f"{reverse('selection:reviews')}?person={offender_id}"


# --- one review -------------------------------------------------------------------------------


def review_for_closing(*, user: Any, review_id: Any) -> ReviewRow:
    """The review a "no change, reviewed" outcome is about to be recorded for. Refused
    (403) to anyone not offered it; a review the reader may not see is not found (404).
    The page is audited as a consultation of the review."""
    actor = _reader(user, review_id)
    if not may_close_reviews(actor):
        raise Refused(REVIEW, review_id, "only the PPO manager closes reviews")
    pk = record_id(review_id)
    found = (
        Review.objects.filter(visible_q(actor)).select_related("offender").filter(pk=pk).first()
        if pk is not None
        else None
    )
    if found is None:
        audit.denied(actor, REVIEW, review_id, "no such review")
        raise OutOfScope(REVIEW, review_id)
    (row,) = _rows(actor, [found], panel=None, decides=False, closes=False)
    audit.consulted(actor, REVIEW, [found], view="close a review")
    return row


# --- a panel's agenda ---------------------------------------------------------------------------


def panel_agenda(*, user: Any, selection_panel: SelectionPanel, deciding: bool) -> list[ReviewRow]:
    """The open reviews due on or before the panel's date that the reader may see, for
    the panel's agenda (DESIGN.md: reviews "land on the next panel agenda"), each with
    "Record a decision" at this panel for those who record its decisions (`deciding`;
    a DYO panel's decisions are recorded from the DYO pages). Audited as a consultation."""
    actor = _reader(user, selection_panel.pk)
    found = list(
        open_reviews(actor)
        .filter(due_on__lte=selection_panel.held_on)
        .select_related("offender")
        .order_by("due_on", "pk")
    )
    decide_here = deciding and selection_panel.kind == PanelKind.SELECTION
    rows = _rows(
        actor,
        found,
        panel=None,
        decides=False,
        closes=False,
        decide_at=selection_panel if decide_here else None,
    )
    if found:
        # The panel page's own consultation (of its decisions) is written by panel_page;
        # this one is written when the agenda names someone, or the list review.
        audit.consulted(actor, REVIEW, found, view="panel agenda", panel=selection_panel.pk)
    return rows


# --- the list for the partner API (issue 12) ------------------------------------------------


def review_list(*, user: Any, as_of: dt.date | None = None) -> QuerySet[Review]:
    """Every review the reader may read, open or closed (`visible_q`), for the partner API;
    refused (403) to a role that reads no selection records, as the pages are. Not
    audited: the caller audits the rows it returns."""
    actor = _reader(user)
    if as_of is not None:
        actor = as_actor(actor, as_of)
    return Review.objects.filter(visible_q(actor))
