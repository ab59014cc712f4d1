"""The premium service's standards, measured (issue 10 item 6; 001 §3.2b–e, 000 §7.1, 002).

Each standard (contacts and drug tests against each person's level, enforcement within N
working days, treatment assessed and first seen within N working days, release plans
complete N weeks before release, reception assessments within N hours) is one function
that, given the reader and a period of days, says how many cases it applied to and how
many met it. Modules register their functions here from `OffendersConfig.ready()`; the
compliance page shows every registered measure per week and per quarter, and the annual
report reads `measures()`.

The rules every registered function keeps:

* **Set-based**: a fixed number of queries whatever the number of people or cases.
* **Scoped**: it reads only people in the reader's scope (access.policy.people_q /
  records_q), so a key worker's figure is their own caseload's.
* **None** when the standard is not for this reader (their role cannot see what it is
  built from): the measure is then left out rather than shown as 0 of 0.
* `first_day` and `last_day` are both included: a case belongs to the period by the day
  its clock started (the failure, the referral, the reception, the week's Monday…), each
  function saying which in its own docstring.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from access.policy import Actor, as_actor


@dataclass(frozen=True)
class StandardMeasure:
    """How many cases a standard applied to in a period, and how many met it."""

    key: str  # "contacts", "drug_tests", "enforcement", "treatment_assessment", ...
    label: str  # "Breach laid or recall requested within 5 working days"
    citation: str  # "001 §3.2e"
    met: int  # cases that met the standard in the period
    total: int  # cases the standard applied to in the period

    def __post_init__(self) -> None:
        if not self.key:
            raise ValueError("a standard needs a key")
        if self.total < 0 or self.met < 0 or self.met > self.total:
            raise ValueError(
                f"{self.key}: met ({self.met}) must be between 0 and total ({self.total})"
            )

    @property
    def percentage(self) -> float | None:
        """`met` of `total` as a percentage to one decimal place, halves rounded up
        (DESIGN.md "Percentages to one decimal place"); None when nothing was measured.

        Worked in integers, so 1 of 8 is 12.5 and 1 of 3 is 33.3 exactly as a person
        would round them, never 12.499999.
        """
        if self.total == 0:
            return None
        tenths = (2000 * self.met + self.total) // (2 * self.total)
        return tenths / 10

    @property
    def shown(self) -> str:
        """The percentage in words for a page: "82.5%", or that there was nothing to measure."""
        share = self.percentage
        return "No cases in the period" if share is None else f"{share:.1f}%"


StandardFn = Callable[[Actor, dt.date, dt.date], StandardMeasure | None]

# Registered functions by module and name, in the order first registered: `ready()` may
# run more than once in a process, and registering the same function again is harmless.
_registry: dict[str, StandardFn] = {}


def _name(fn: StandardFn) -> str:
    return f"{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', repr(fn))}"


def register(fn: StandardFn) -> StandardFn:
    """Decorator: measure this standard wherever standards are shown. Returns `fn` itself."""
    _registry[_name(fn)] = fn
    return fn


def unregister(fn: StandardFn) -> None:
    _registry.pop(_name(fn), None)


def registered() -> list[StandardFn]:
    return list(_registry.values())


def measures(*, user: Any, first_day: dt.date, last_day: dt.date) -> list[StandardMeasure]:
    """Every registered standard for the period `first_day`..`last_day` (both included), as
    this reader may see it, in the order registered; a standard not for them is left out."""
    if last_day < first_day:
        raise ValueError("the period ends before it starts")
    actor = as_actor(user)
    found = []
    for fn in registered():
        measure = fn(actor, first_day, last_day)
        if measure is not None:
            found.append(measure)
    return found
