"""Reads for the Deter Young Offender pages (003 §7): who is a DYO today, who could be
marked, and one young person as the DYO forms show them.

ACCESS.md "selection scores, panel decisions, reviews": whoever reads selection records
sees the DYOs in their own scope (the PPO manager and police everyone, key workers the
scheme's DYOs, YOT its young people); prison staff, partners, the steering group and
administrators nothing (403). The list of young people who could be marked is for those
who record DYO decisions (selection.panel.may_record_dyo_decisions). Every person a page
names is audited as a consultation or a view. A fixed number of queries per page.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Exists, F, OuterRef

from access import audit
from access.policy import Actor, RecordKind, people, people_q, visible_fields
from offenders.dates import birthday
from offenders.models import Offender, ProgrammeEpisode, ProgrammeKind
from offenders.selectors import offender_get

from .panel import ADULT_AGE, may_record_dyo_decisions
from .selectors import selection_reader

OFFENDER = "offenders.offender"
DECISION = "selection.paneldecision"
CANDIDATES_PER_PAGE = 50
TIER_NAMES: dict[str, str] = {
    ProgrammeKind.PPO: "PPO",
    ProgrammeKind.IOM: "IOM",
    ProgrammeKind.DYO: "DYO",
}


def _reader(user: Any) -> Actor:
    return selection_reader(user, DECISION)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class YoungPerson:
    offender: Offender
    age: int
    turns_18_on: dt.date
    # The tier episode open on the day, if any.
    episode: ProgrammeEpisode | None

    @property
    def tier(self) -> str:
        return self.episode.kind if self.episode else ""

    @property
    def tier_name(self) -> str:
        return TIER_NAMES.get(self.episode.kind, "") if self.episode else "Not on a tier"


def _young_person(offender: Offender, on: dt.date, episode: ProgrammeEpisode | None) -> YoungPerson:
    return YoungPerson(
        offender=offender,
        age=offender.age_on(on),
        turns_18_on=birthday(offender.date_of_birth, ADULT_AGE),
        episode=episode,
    )


@dataclass
class DyoOverview:
    as_of: dt.date
    identity_fields: frozenset[str]
    dyos: list[YoungPerson]
    # Under 18 today, on no tier, writable by the reader: only for those who mark DYOs.
    candidates: Page[Offender] | None
    candidate_rows: list[YoungPerson]


def dyo_overview(*, user: Any, page_number: Any = 1) -> DyoOverview:
    actor = _reader(user)
    today = actor.as_of
    identity = visible_fields(actor, RecordKind.IDENTITY)
    episodes = (
        ProgrammeEpisode.objects.filter(kind=ProgrammeKind.DYO)
        .open_on(today)
        .filter(people_q(actor, prefix="offender__"))
        .select_related("offender")
        .order_by("offender__last_name", "offender__first_name", "offender__pk")
    )
    dyos = [_young_person(e.offender, today, e) for e in episodes]
    candidates = None
    candidate_rows: list[YoungPerson] = []
    if may_record_dyo_decisions(actor):
        on_a_tier = ProgrammeEpisode.objects.filter(offender=OuterRef("pk")).open_on(today)
        # 003 §7.3: the Asset score is the principal means of identifying DYOs, so the
        # highest first, when this reader may see it (STYLE.md rule 10).
        order: list[Any] = ["last_name", "first_name", "pk"]
        if "asset_score" in identity:
            order.insert(0, F("asset_score").desc(nulls_last=True))
        pool = (
            people(actor, write=True).under_18_on(today).exclude(Exists(on_a_tier)).order_by(*order)
        )
        candidates = Paginator(pool, CANDIDATES_PER_PAGE).get_page(page_number)
        candidate_rows = [_young_person(o, today, None) for o in candidates.object_list]
    named = [row.offender for row in dyos] + [row.offender for row in candidate_rows]
    audit.consulted(
        actor,
        OFFENDER,
        named,
        page="deter-young-offenders",
        candidates_page=candidates.number if candidates else None,
    )
    return DyoOverview(
        as_of=today,
        identity_fields=identity,
        dyos=dyos,
        candidates=candidates,
        candidate_rows=candidate_rows,
    )


def dyo_person(*, user: Any, offender_id: Any, page: str) -> YoungPerson:
    """One young person for a DYO form, with their tier today; 404 outside the reader's
    scope (offender_get audits the refusal), the view audited otherwise."""
    actor = _reader(user)
    offender = offender_get(user=actor, pk=offender_id)
    episode = ProgrammeEpisode.objects.filter(offender=offender).open_on(actor.as_of).first()
    audit.viewed(actor, offender, page=page)
    return _young_person(offender, actor.as_of, episode)
