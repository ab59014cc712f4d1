"""Who is due a case conference (001 §3.2a): the one rule, for the "due" page, the
caseload's "Next conference" column and the PPO manager's home page.

* **Who**: people on the PPO tier today (an open PPO `ProgrammeEpisode`, offenders.tiers).
  IOM and DYO people are not conferenced by this rule.
* **When**: `Scheme.conference_interval_months` (1–6, default 3) calendar months after the
  person's last *closed* conference held since their current selection
  (`access.policy.months_before`, clamped to the month's last day). Last conferenced on
  2 September with an interval of 3 months: **due on 2 December, not on 1 December**.
  A conference held before the current selection (an earlier spell as a PPO) does not count.
* **A new PPO** (no closed conference since selection) is due `FIRST_CONFERENCE_MONTHS`
  (one) month after the selection date: the plan across the pathways is made at a
  conference (001 §3.1), so a new PPO should not wait a whole interval for one. Selected
  on 10 March: due on 10 April, not on 9 April.
* **Booked**: a planned conference held on or after today that includes the person means
  they are booked, not due (whatever the due date). A planned conference in the past that
  was never closed does not book anyone: the person stays due until it is closed.
* **Not while serving a long sentence** (001 §3.2a): in custody under a sentence whose
  expected release date is more than `Scheme.long_sentence_months` from today — the same
  definition as the reviews' (`selection.reviews.rules.serving_long_sentence`, 003 §6.2(3):
  judged by the expected release date, not the sentence length; a release on the horizon
  itself is not long). A sentence with no expected release date recorded does not exclude
  anyone: the conference is where the date gets chased.

One query for any number of people.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Subquery

from access.models import Scheme
from access.policy import Actor, months_before, people_q
from offenders.models import ProgrammeEpisode, ProgrammeKind
from selection.reviews.rules import serving_long_sentence

from .models import ConferencePerson, ConferenceStatus

# A new PPO's first conference: a month after selection (module docstring).
FIRST_CONFERENCE_MONTHS = 1


def months_after(day: dt.date, months: int) -> dt.date:
    return months_before(day, -months)


@dataclass(frozen=True)
class DueLine:
    """Where a current PPO stands against the rule on `as_of`."""

    offender_id: int
    selected_on: dt.date
    last_conference_on: dt.date | None
    due_on: dt.date
    # The next planned conference on or after `as_of` that includes them.
    booked_on: dt.date | None
    long_sentence: bool
    as_of: dt.date

    @property
    def is_due(self) -> bool:
        return self.due_on <= self.as_of and self.booked_on is None and not self.long_sentence

    @property
    def overdue(self) -> bool:
        return self.is_due and self.due_on < self.as_of


def due_on(*, last_conference_on: dt.date | None, selected_on: dt.date, interval: int) -> dt.date:
    if last_conference_on is not None:
        return months_after(last_conference_on, interval)
    return months_after(selected_on, FIRST_CONFERENCE_MONTHS)


def due_lines(
    actor: Actor, *, as_of: dt.date, offender_ids: list[int] | None = None
) -> dict[int, DueLine]:
    """Every current PPO in the actor's scope (or of `offender_ids`), against the rule.
    A building block: it does not audit (its callers do) and does not check the grant."""
    scheme = Scheme.current()
    person = OuterRef("offender_id")
    last_closed = (
        ConferencePerson.objects.filter(
            offender=person,
            conference__status=ConferenceStatus.CLOSED,
            conference__held_on__gte=OuterRef("selected_on"),
            conference__held_on__lte=as_of,
        )
        .order_by("-conference__held_on")
        .values("conference__held_on")[:1]
    )
    booked = (
        ConferencePerson.objects.filter(
            offender=person,
            conference__status=ConferenceStatus.PLANNED,
            conference__held_on__gte=as_of,
        )
        .order_by("conference__held_on")
        .values("conference__held_on")[:1]
    )
    episodes = (
        ProgrammeEpisode.objects.filter(people_q(actor, prefix="offender__"))
        .open_on(as_of)
        .filter(kind=ProgrammeKind.PPO)
    )
    if offender_ids is not None:
        episodes = episodes.filter(offender_id__in=offender_ids)
    rows = episodes.annotate(
        last_conference_on=Subquery(last_closed),
        booked_on=Subquery(booked),
        long_sentence=Exists(serving_long_sentence(as_of, scheme).filter(offender=person)),
    ).values_list("offender_id", "selected_on", "last_conference_on", "booked_on", "long_sentence")
    interval = scheme.conference_interval_months
    return {
        offender_id: DueLine(
            offender_id=offender_id,
            selected_on=selected_on,
            last_conference_on=last_on,
            due_on=due_on(last_conference_on=last_on, selected_on=selected_on, interval=interval),
            booked_on=booked_on,
            long_sentence=bool(long_sentence),
            as_of=as_of,
        )
        for offender_id, selected_on, last_on, booked_on, long_sentence in rows
    }
