"""Treatment on a clock (001 §3.2c "fast-tracked into treatment", §3.2d): for each
referral, the working days from `opened_on` to `assessed_on` and to `first_appointment_on`,
against the scheme's two standards (`Scheme.treatment_assessment_working_days`,
`Scheme.treatment_appointment_working_days`).

The boundary is offenders.working_days': the referral day is day 0 and a standard of N
working days runs to the N-th working day after it, which is still on time. Each clock
reads one of:

* **on time** / **late**: the date is recorded, on or before the last day, or after it;
* **waiting, within standard** / **waiting, already late**: no date yet, and the last
  day is today or later, or has passed;
* **closed within standard**: the referral closed (declined, withdrawn, completed) with
  no date, before its last day came: the standard did not get to apply. A referral
  closed with no date after its last day had waited past it: late.

Applies to every referral, treatment and other providers alike (issue 10 item 3).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from access.models import Scheme
from access.policy import Actor, RecordKind, as_actor, grant, referrals_q
from offenders.standards import StandardMeasure, register
from offenders.working_days import (
    add_working_days,
    bank_holidays,
    span_for,
    working_day_words,
    working_days_between,
)

from .models import Referral

CITATION = "001 §3.2c"


class Clock:
    ON_TIME = "on_time"
    LATE = "late"
    WAITING_LATE = "waiting_late"
    WAITING = "waiting"
    CLOSED_WITHIN = "closed_within"


WORDS = {
    Clock.ON_TIME: ("On time", "govuk-tag--green"),
    Clock.LATE: ("Late", "govuk-tag--red"),
    Clock.WAITING_LATE: ("Waiting, already late", "govuk-tag--red"),
    Clock.WAITING: ("Waiting, within standard", "govuk-tag--blue"),
    Clock.CLOSED_WITHIN: ("Closed within standard", "govuk-tag--grey"),
}
MEASURED = frozenset({Clock.ON_TIME, Clock.LATE, Clock.WAITING_LATE})


@dataclass(frozen=True)
class Reading:
    """One clock of a referral: to the assessment, or to the first appointment."""

    standard_days: int
    # The standard's last working day: a date on it is on time.
    last_day: dt.date
    # The date recorded, if any.
    on: dt.date | None
    # Working days from the referral to the date, or (no date yet) to today or the closing.
    days: int
    state: str

    @property
    def label(self) -> str:
        return WORDS[self.state][0]

    @property
    def tag_class(self) -> str:
        return WORDS[self.state][1]

    @property
    def measured(self) -> bool:
        return self.state in MEASURED

    @property
    def met(self) -> bool:
        return self.state == Clock.ON_TIME


def reading(
    opened_on: dt.date,
    on: dt.date | None,
    *,
    standard_days: int,
    as_of: dt.date,
    closed_on: dt.date | None,
    holidays: frozenset[dt.date],
) -> Reading:
    last_day = add_working_days(opened_on, standard_days, holidays)
    if on is not None:
        state = Clock.ON_TIME if on <= last_day else Clock.LATE
        return Reading(
            standard_days,
            last_day,
            on,
            working_days_between(opened_on, on, holidays),
            state,
        )
    closed = closed_on is not None and closed_on <= as_of
    end = closed_on if closed and closed_on is not None else as_of
    days = max(0, working_days_between(opened_on, end, holidays))
    if closed:
        # `closed_on` is the first day the referral no longer applies: it was still
        # waiting at the end of every day before it.
        state = Clock.LATE if end > last_day else Clock.CLOSED_WITHIN
    else:
        state = Clock.WAITING_LATE if as_of > last_day else Clock.WAITING
    return Reading(standard_days, last_day, None, days, state)


@dataclass(frozen=True)
class TreatmentClock:
    assessment: Reading
    first_appointment: Reading


@dataclass(frozen=True)
class Standards:
    assessment_days: int
    appointment_days: int

    @classmethod
    def current(cls) -> Standards:
        scheme = Scheme.current()
        return cls(
            int(scheme.treatment_assessment_working_days),
            int(scheme.treatment_appointment_working_days),
        )


def _holidays_for(opened: Iterable[dt.date], as_of: dt.date, most_days: int) -> frozenset[dt.date]:
    days = list(opened)
    if not days:
        return frozenset()
    return bank_holidays(min(days), max(as_of, span_for(max(days), most_days)))


def clocks_for(
    referrals: Iterable[Referral], *, as_of: dt.date, standards: Standards | None = None
) -> dict[int, TreatmentClock]:
    """Each referral's two clocks, by referral id: one query for the bank holidays (and
    one for the scheme's standards unless given)."""
    rows = list(referrals)
    if not rows:
        return {}
    standards = standards or Standards.current()
    most = max(standards.assessment_days, standards.appointment_days)
    recorded = [d for r in rows for d in (r.assessed_on, r.first_appointment_on) if d]
    holidays = _holidays_for([r.opened_on for r in rows], max([as_of, *recorded]), most)
    return {
        r.pk: TreatmentClock(
            assessment=reading(
                r.opened_on,
                r.assessed_on,
                standard_days=standards.assessment_days,
                as_of=as_of,
                closed_on=r.closed_on,
                holidays=holidays,
            ),
            first_appointment=reading(
                r.opened_on,
                r.first_appointment_on,
                standard_days=standards.appointment_days,
                as_of=as_of,
                closed_on=r.closed_on,
                holidays=holidays,
            ),
        )
        for r in rows
    }


# --- the standards (offenders.standards) ------------------------------------------------


def _referrals_opened(actor: Actor, first_day: dt.date, last_day: dt.date) -> list[Referral]:
    return list(
        Referral.objects.filter(referrals_q(actor))
        .filter(opened_on__gte=first_day, opened_on__lte=last_day)
        .only("pk", "opened_on", "closed_on", "assessed_on", "first_appointment_on")
    )


def _measure(
    actor: Actor, first_day: dt.date, last_day: dt.date, *, first_appointment: bool
) -> StandardMeasure | None:
    actor = as_actor(actor)
    if not grant(actor, RecordKind.PATHWAYS).can_read:
        return None
    standards = Standards.current()
    if first_appointment:
        key = "treatment_first_appointment"
        label = f"First appointment within {working_day_words(standards.appointment_days)}"
    else:
        key = "treatment_assessment"
        label = f"Assessed within {working_day_words(standards.assessment_days)}"
    label += " of the referral"
    clocks = clocks_for(
        _referrals_opened(actor, first_day, last_day), as_of=actor.as_of, standards=standards
    ).values()
    readings = [c.first_appointment if first_appointment else c.assessment for c in clocks]
    measured = [r for r in readings if r.measured]
    return StandardMeasure(key, label, CITATION, sum(1 for r in measured if r.met), len(measured))


@register
def treatment_assessment_standard(
    actor: Actor, first_day: dt.date, last_day: dt.date
) -> StandardMeasure | None:
    """001 §3.2c: referrals in the reader's scope opened from `first_day` to `last_day`,
    met when assessed by the standard's last working day; one still waiting within the
    standard, or closed before it, is not counted; one waiting past it counts as not met.
    Three queries; None for a reader of no pathway records."""
    return _measure(actor, first_day, last_day, first_appointment=False)


@register
def treatment_first_appointment_standard(
    actor: Actor, first_day: dt.date, last_day: dt.date
) -> StandardMeasure | None:
    """001 §3.2c–d: as `treatment_assessment_standard`, to the first appointment."""
    return _measure(actor, first_day, last_day, first_appointment=True)
