"""A person's tier today, as the caseload and the people list filter and count by it.

A person is on at most one tier at a time (DESIGN.md rule 7): PPO, IOM or DYO, read from
the programme episode open on the day (`ProgrammeEpisode.open_on`). Someone on no tier
today is *former* if they have been on one before, and otherwise in the known-offender
pool (*none*). `tier_q` is the one definition: the filter, the counts beside each choice
and the column shown on a row all come from it, so a count always equals the rows that
choosing it lists.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import models
from django.db.models import Case, CharField, Count, Q, QuerySet, Value, When

from access.policy import Actor, RecordKind, Scope, visible_fields

from .models import ProgrammeEpisode, ProgrammeKind

# The policy field a tier is shown, filtered and counted by (access.policy.IDENTITY_FIELDS).
TIER_FIELD = "tier"


class Tier(models.TextChoices):
    PPO = ProgrammeKind.PPO.value, "PPO"
    IOM = ProgrammeKind.IOM.value, "IOM"
    DYO = ProgrammeKind.DYO.value, "DYO"
    FORMER = "former", "Former (on no tier today)"
    NONE = "none", "Never on a tier (known-offender pool)"


ON_A_TIER = (Tier.PPO, Tier.IOM, Tier.DYO)

# Which tiers each scope can hold people on (ACCESS.md "Who is in scope"), so that a
# reader is offered only filters for people they may see:
# * the key worker's scope is current and former PPOs and DYOs: someone on the IOM tier in
#   it is a stepped-down PPO (a former PPO), and nobody in it was never on a tier;
# * prison staff see PPOs and former PPOs in their establishment: a DYO is not one;
# * a YOT worker sees anyone under 18 (on any tier or none) and DYOs of any age;
# * partners see the people referred to them, whoever they are, but not their tier
#   (the policy's field set leaves "tier" out, so they get no tier filter at all).
SCOPE_TIERS: dict[Scope, tuple[Tier, ...]] = {
    Scope.EVERYONE: tuple(Tier),
    Scope.SCHEME: (Tier.PPO, Tier.IOM, Tier.DYO, Tier.FORMER),
    Scope.PRISON: (Tier.PPO, Tier.IOM, Tier.FORMER),
    Scope.YOUTH: tuple(Tier),
    Scope.REFERRED: tuple(Tier),
    Scope.NOBODY: (),
}


def _ids(episodes: Any) -> Any:
    return episodes.order_by().values("offender_id")


def tier_q(tier: str, as_of: dt.date) -> Q:
    """People (an `Offender` queryset) on `tier` on `as_of`.

    As `pk IN` the ids of the matching programme episodes, not correlated EXISTS: as a
    filter PostgreSQL turns that into a semi-join it estimates from the episodes; in a
    count or a column (`tier_counts`, `with_tier`) it hashes the few hundred episode ids
    once instead of probing them once a person (issue 15: 50,000 people, 5 probes each).
    """
    opened = ProgrammeEpisode.objects.open_on(as_of)
    if tier in ON_A_TIER:
        return Q(pk__in=_ids(opened.filter(kind=tier)))
    ever = _ids(ProgrammeEpisode.objects.filter(selected_on__lte=as_of))
    if tier == Tier.FORMER:
        return Q(pk__in=ever) & ~Q(pk__in=_ids(opened))
    if tier == Tier.NONE:
        return ~Q(pk__in=ever)
    raise ValueError(f"not a tier: {tier!r}")


def tier_choices(actor: Actor, *, on_a_tier_only: bool) -> list[Tier]:
    """The tier filters to offer this reader: none unless the policy lets them see a
    person's tier, and only tiers their scope can hold people on. `on_a_tier_only` for a
    list that holds only people on a tier today (the scheme's caseload)."""
    if TIER_FIELD not in visible_fields(actor, RecordKind.IDENTITY):
        return []
    tiers = SCOPE_TIERS.get(actor.scope, ())
    return [t for t in tiers if t in ON_A_TIER] if on_a_tier_only else list(tiers)


def tier_counts(people: QuerySet[Any], tiers: list[Tier], as_of: dt.date) -> dict[str, int]:
    """How many of `people` are on each of `tiers`, and under "" how many in all; one query."""
    counts = people.order_by().aggregate(
        everyone=Count("pk"),
        **{f"on_{tier.value}": Count("pk", filter=tier_q(tier, as_of)) for tier in tiers},
    )
    found = {tier.value: int(counts[f"on_{tier.value}"] or 0) for tier in tiers}
    return {"": int(counts["everyone"] or 0), **found}


def with_tier(people: QuerySet[Any], as_of: dt.date) -> QuerySet[Any]:
    """Annotate `current_tier` (a `Tier` value) on each person, by `tier_q`'s rules."""
    return people.annotate(
        current_tier=Case(
            *[When(tier_q(tier, as_of), then=Value(tier.value)) for tier in ON_A_TIER],
            When(tier_q(Tier.FORMER, as_of), then=Value(Tier.FORMER.value)),
            default=Value(Tier.NONE.value),
            output_field=CharField(),
        )
    )


def read_tier(value: Any, choices: list[Tier]) -> tuple[str, str]:
    """A tier asked for in a query string: (the tier or "", a message if it was dropped)."""
    text = str(value or "").strip()
    if not text or text in {tier.value for tier in choices}:
        return text, ""
    if not choices:
        return "", "That filter is not available to you, so it was not applied."
    return "", f"“{text[:40]}” is not a tier you can filter this list by, so it was not applied."


def tier_options(choices: list[Tier], counts: dict[str, int]) -> list[tuple[str, str]]:
    """(value, label with its count) for a select, "" first for everyone."""
    return [
        ("", f"All tiers ({counts.get('', 0):,})"),
        *[(tier.value, f"{tier.label} ({counts.get(tier.value, 0):,})") for tier in choices],
    ]
