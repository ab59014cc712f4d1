"""IOM grades that follow the person (003 §5.6, issue 13.10).

The Safer Bristol grading: Red (known to be offending), Amber (incomplete picture), Green
(no intelligence of current offending), Blue (in custody). Blue is a fact about custody,
the others a judgement, so custody moves are where the grade goes stale:

- in custody (sentence or remand) today and not Blue -> prompt "grade them Blue";
- not in custody today and still Blue (released, or Blue without custody) -> prompt a
  re-grade: the Red/Amber/Green judgement is the team's to make again, nobody guesses it.

Nothing changes a grade by itself: a prompt links to "Change the IOM grade", whose
service (offenders.services.grade_change) records the change in GradeChange with who and
why. The "Red-graded now" list is the tasking meeting's (003 §5.6 case study: "the most
problematic 'red' offenders who are back in the community or about to return to it").

Everything is scoped by the access policy (offenders.selectors.offender_list) and shown
only to a reader who may see the IOM grade (`visible_fields`); lists are audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery

from access import audit
from access.policy import RecordKind, as_actor, visible_fields

from .models import CustodyEpisode, GradeChange, IomGrade, Offender, Status
from .selectors import OFFENDER, offender_list

GRADE_FIELD = "iom_grade"
IN_CUSTODY = (Status.CUSTODY, Status.REMAND)
TO_BLUE = "to_blue"
REGRADE = "regrade"


@dataclass(frozen=True)
class GradePrompt:
    offender: Offender
    kind: str  # TO_BLUE or REGRADE
    # Custody started (TO_BLUE) or the last release (REGRADE); None if not recorded.
    since: dt.date | None

    @property
    def message(self) -> str:
        grade = self.offender.iom_grade
        if self.kind == TO_BLUE:
            graded = f"graded {grade.capitalize()}" if grade else "not graded"
            return (
                f"In custody since {_long(self.since)} but {graded}: grade them Blue (in custody)"
            )
        if self.since is not None:
            return (
                f"Released on {_long(self.since)} and still graded Blue: "
                "re-grade them Red, Amber or Green"
            )
        return "Graded Blue but not in custody: re-grade them Red, Amber or Green"


def _long(day: dt.date | None) -> str:
    return f"{day.day} {day:%B %Y}" if day else "a date not recorded"


def may_see_grades(actor: Any) -> bool:
    return GRADE_FIELD in visible_fields(actor, RecordKind.IDENTITY)


def _stale_q() -> Q:
    """Grades that disagree with custody today (the annotated `current_status`)."""
    in_custody = Q(current_status__in=IN_CUSTODY)
    return (in_custody & ~Q(iom_grade=IomGrade.BLUE)) | (~in_custody & Q(iom_grade=IomGrade.BLUE))


def _with_custody_dates(people: QuerySet[Offender], as_of: dt.date) -> QuerySet[Offender]:
    episodes = CustodyEpisode.objects.filter(offender=OuterRef("pk"))
    return people.annotate(
        custody_since=Subquery(
            episodes.open_on(as_of).order_by("-started_on").values("started_on")[:1]
        ),
        released_on=Subquery(
            episodes.filter(released_on__lte=as_of)
            .order_by("-released_on")
            .values("released_on")[:1]
        ),
    )


def _prompt(offender: Any) -> GradePrompt | None:
    in_custody = offender.current_status in IN_CUSTODY
    if in_custody and offender.iom_grade != IomGrade.BLUE:
        return GradePrompt(offender, TO_BLUE, getattr(offender, "custody_since", None))
    if not in_custody and offender.iom_grade == IomGrade.BLUE:
        return GradePrompt(offender, REGRADE, getattr(offender, "released_on", None))
    return None


def grade_prompts(*, user: Any, as_of: dt.date | None = None) -> list[GradePrompt]:
    """Everyone in the reader's scope whose grade custody has made stale (see the module
    docstring), longest-standing first; empty for a reader who may not see grades."""
    actor = as_actor(user, as_of)
    if not may_see_grades(actor):
        return []
    people = _with_custody_dates(
        offender_list(user=actor).filter(_stale_q()), actor.as_of
    ).order_by("last_name", "first_name", "pk")
    prompts = [p for p in (_prompt(o) for o in people) if p is not None]
    prompts.sort(key=lambda p: (p.since or dt.date.min, p.offender.last_name))
    audit.consulted(actor, OFFENDER, [p.offender for p in prompts], view="IOM grades to change")
    return prompts


def grade_prompt_count(*, user: Any, as_of: dt.date | None = None) -> int | None:
    """How many grades `grade_prompts` would list (a count, no one named), or None for a
    reader who may not see grades."""
    actor = as_actor(user, as_of)
    if not may_see_grades(actor):
        return None
    return offender_list(user=actor).filter(_stale_q()).count()


def grade_prompt_for(*, actor: Any, offender: Offender) -> GradePrompt | None:
    """The prompt on one person's page (`offender` from offender_get: already read,
    scoped and audited, with its `current_status`); None if the reader may not see grades."""
    if not may_see_grades(actor) or _prompt(offender) is None:
        return None
    dated = _with_custody_dates(Offender.objects.filter(pk=offender.pk), actor.as_of).first()
    for name in ("custody_since", "released_on"):
        setattr(offender, name, getattr(dated, name, None))
    return _prompt(offender)


@dataclass(frozen=True)
class RedRow:
    offender: Offender
    red_since: dt.datetime | None  # when they were last graded Red, if recorded


def red_graded(*, user: Any, as_of: dt.date | None = None) -> list[RedRow]:
    """Everyone in the reader's scope graded Red now, for the tasking meeting: those
    in the community first (the guidance's focus), then by how long they have been Red.
    Empty for a reader who may not see grades."""
    actor = as_actor(user, as_of)
    if not may_see_grades(actor):
        return []
    last_red = (
        GradeChange.objects.filter(offender=OuterRef("pk"), to_grade=IomGrade.RED)
        .order_by("-changed_at", "-pk")
        .values("changed_at")[:1]
    )
    people = (
        offender_list(user=actor)
        .filter(iom_grade=IomGrade.RED)
        .annotate(red_since=Subquery(last_red))
        .order_by("last_name", "first_name", "pk")
    )
    rows = [RedRow(o, o.red_since) for o in people]
    rows.sort(
        key=lambda r: (
            getattr(r.offender, "current_status", "") in IN_CUSTODY,
            r.red_since is None,
            r.red_since or dt.datetime.min.replace(tzinfo=dt.UTC),
        )
    )
    audit.consulted(actor, OFFENDER, [r.offender for r in rows], view="Red-graded now")
    return rows
