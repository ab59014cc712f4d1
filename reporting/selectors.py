"""Aggregate figures: no row that names or identifies a person; counts under 5 suppressed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count

from access.errors import NotPermitted
from access.models import Role, Scheme
from access.policy import as_actor, can_see_aggregates, people_for_counting

# ACCESS.md "Steering group": counts under 5 suppressed.
SUPPRESSION_THRESHOLD = 5


@dataclass(frozen=True)
class Figure:
    label: str
    value: int | None  # None = suppressed

    @property
    def shown(self) -> str:
        return "fewer than 5" if self.value is None else str(self.value)


def suppress(value: int) -> int | None:
    return value if value == 0 or value >= SUPPRESSION_THRESHOLD else None


def scheme_headline(*, user: Any, as_of: dt.date | None = None) -> list[Figure]:
    """Counts of PPOs on the scheme today by status, against the scheme's capacity."""
    from offenders.models import ProgrammeEpisode, ProgrammeKind, Status

    actor = as_actor(user, as_of)
    if not can_see_aggregates(actor):
        raise NotPermitted("Only the steering group and PPO managers see scheme figures")
    on_scheme = ProgrammeEpisode.objects.open_on(actor.as_of).filter(kind=ProgrammeKind.PPO)
    by_status = dict(
        people_for_counting(actor)
        .filter(pk__in=on_scheme.values("offender_id"))
        .with_status(actor.as_of)
        .values_list("current_status")
        .annotate(n=Count("pk"))
        .values_list("current_status", "n")
    )
    scheme = Scheme.current()
    # Only the steering group's figures are suppressed; a PPO manager sees every person anyway.
    hide = suppress if actor.role == Role.STEERING_GROUP else (lambda n: n)
    labels = {
        Status.COMMUNITY: "In the community",
        Status.CUSTODY: "In custody, sentenced",
        Status.REMAND: "Remanded in custody",
    }
    figures = [Figure("PPOs on the scheme", hide(sum(by_status.values())))]
    figures += [Figure(label, hide(by_status.get(status, 0))) for status, label in labels.items()]
    figures.append(Figure("Scheme capacity", scheme.capacity_max))
    return figures
