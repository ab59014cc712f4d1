"""The 004 PPO Self Assessment Tool: its subsections and criteria as the tool words them,
a RAG rating and evidence per subsection per financial year, and the scheme's own
figures offered as evidence where a criterion can be measured.

The text is copied from 004 (seeds/004_00d60d92168e7454.txt, "1. Management of PPOs
under IOM arrangements" to "5. Deter"), in the tool's order and words; the scan's
recognition errors are corrected where the word is plain from its context ("EVILLENCE",
"Anibei", a heading split over two lines, "ie veis" for "levels") and nothing else is
changed.

Who: everyone who sees aggregates reads it (the steering group and PPO managers,
access.policy.can_see_aggregates); only a PPO manager records a rating. The policy has no
record kind for the self-assessment, so the rule is the two grants together: a reader of
aggregates who may also change selection records (`K.SELECTION` write), which today is the
PPO manager alone (ACCESS.md: the manager chairs the panel and runs the scheme; the
steering group reads, and agrees the assessment with the manager outside the system).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from access import audit
from access.errors import ApplicationError, NotPermitted
from access.models import AuditAction
from access.policy import (
    Actor,
    RecordKind,
    Write,
    as_actor,
    can_see_aggregates,
    grant,
    people_for_counting,
)

from .measures.common import financial_year_of, long_date, year_ends_on, year_label
from .models import Rag, SelfAssessment

RECORD_TYPE = "reporting.selfassessment"
EVIDENCE_MAX = 8000


@dataclass(frozen=True)
class Subsection:
    number: str
    section: str
    title: str
    criteria: tuple[str, ...]


S1 = "1. Management of PPOs under IOM arrangements"
S2 = "2. Partnership Working"
S3 = "3. Catch & Convict"
S4 = "4. Rehabilitate & Resettle"
S5 = "5. Deter"

# 004, every subsection of the tool with its criteria, in order.
SUBSECTIONS: tuple[Subsection, ...] = (
    Subsection(
        "1.1",
        S1,
        "PPOs form part of a wider integrated strategy to reduce crime and reoffending",
        (
            "Key stakeholders understand how the PPO approach impacts on wider offender "
            "management strategies and partnership priorities (including non crime reduction "
            "priorities and non criminal justice agencies).",
            "Clear understanding of, and link to, how other partnership priorities can have "
            "an impact on the PPO approach under IOM.",
            "The local PPO scheme is delivering targeted interventions within the local IOM "
            "framework.",
            "IOM and PPO governance structures are interlinked.",
            "Operational systems including offender identification, assessment and "
            "management arrangements are aligned between PPO and DIP and across IOM "
            "arrangements.",
            "Effectiveness of the alignment is regularly monitored and reviewed.",
        ),
    ),
    Subsection(
        "2.1",
        S2,
        "Agreed strategic vision and effectively supported operational delivery",
        (
            "There is a clear strategic vision ensuring all partner agencies have a common "
            "understanding of what the PPO approach means in the local area.",
            "There is a clear understanding of how to translate the strategic vision into "
            "practical delivery in terms of: Governance; Resources; Information Sharing; "
            "Monitoring & Evaluation; Skills & Training of Staff part of the local "
            "arrangements",
            "The arrangements are regularly reviewed by partners as part of the local IOM "
            "approach.",
        ),
    ),
    Subsection(
        "2.2",
        S2,
        "Agreed local governance structure with clear lines of local accountability",
        (
            "A local governance structure has been agreed for PPOs under IOM.",
            "All partners, at both strategic and operational levels, have a clear "
            "understanding of the local governance structure and lines of accountability.",
            "The roles of the key stakeholders have been considered and are reflected in the "
            "governance structure.",
            "Strong evidence of leadership and strategic alignment at different levels of "
            "partnership and across all 3 strands.",
        ),
    ),
    Subsection(
        "2.3",
        S2,
        "Agreement between key stakeholders on what constitutes success within the PPO approach",
        (
            "What success means is described and agreed at both strategic and operational levels.",
            "The success criteria reflect local priorities on reducing crime and re-offending.",
            "The success criteria is aligned to other offender management approaches and "
            "integrated strongly within the local IOM approach.",
            "Arrangements are in place to assess progress against the agreed success criteria.",
            "Results are shared and routinely used to improve arrangements strategically and "
            "operational performance.",
        ),
    ),
    Subsection(
        "2.4",
        S2,
        "Agreed information sharing processes and protocols are effective",
        (
            "Information sharing processes and protocols are in place, agreed and signed by "
            "key stakeholders.",
            "Intelligence sharing is included in information sharing protocols.",
            "Information sharing processes and protocols are in line with Data Protection "
            "legislation.",
            "Partner agencies are aware of the benefits of sharing information.",
            "Information sharing processes and protocols are reviewed and results are shared "
            "to implement/adopt necessary changes.",
        ),
    ),
    Subsection(
        "3.1",
        S3,
        "Intensive management of offenders delivered through the PPO approach is provided "
        "for those who need it",
        (
            "There is an agreed process for effective use of key stakeholders' information to "
            "identify potential PPOs.",
            "There is an agreed process for reviewing PPOs and selection and de- selection to "
            "ensure the most active and damaging offenders are managed effectively.",
            "Selection criteria refreshed regularly to ensure that the approach remains "
            "sensitive to local issues and changing crime patterns.",
            "Those being released from custody who were sentenced to less than 12 months in "
            "prison, who will not be subject to statutory probation supervision on release "
            "and who are at high risk of re- offending prioritised for inclusion in the "
            "scheme.",
            "The scheme is balanced in managing the number of offenders in the community and "
            "in custody with majority is in the community.",
            "Cross -border offending is strategically and operationally addressed with the "
            "necessary arrangements in place.",
            "There is an agreed de-selection process and criteria linked to wider IOM "
            "arrangements to provide a less intensive management regime for those offenders "
            "who are responding positively to the programme.",
        ),
    ),
    Subsection(
        "3.2",
        S3,
        "PPOs are brought swiftly to justice",
        ("Key stakeholders are fully committed to delivering the PPO Premium Service.",),
    ),
    Subsection(
        "4.1",
        S4,
        "Partnership is responsive to the needs of offenders and can engage offenders in "
        "rehabilitation activity",
        (
            "PPOs are provided with adequate levels of information about the PPO scheme and "
            "motivational support.",
            "The partnership is clear about the offenders' needs and PPOs needs analysis forms "
            "part of their wider understanding, which drives the local joint commissioning "
            "arrangements in order to respond effectively to the identified needs.",
            "The particular needs of young offenders, women and those with mental health "
            "needs are assessed and addressed appropriately.",
            "A mapping exercise has been carried out clearly identifying services available "
            "to offenders as well as gaps in provision, including those provided by the "
            "VCSES.",
            "A joint needs assessment for individuals is in place and information is shared "
            "as required.",
        ),
    ),
    Subsection(
        "4.2",
        S4,
        "Strategic and operational links with prisons have been established to ensure "
        "continued care for offenders leaving custody",
        (
            "Release plans for statutory and non-statutory offenders are put in place.",
            "There are agreed protocols in place to identify community provision before "
            "release from custody.",
            "Information regarding engagement in interventions is passed to partner agencies "
            "in line with information sharing protocols.",
        ),
    ),
    Subsection(
        "5.1",
        S5,
        "Partnership Management Framework is in place",
        (
            "A partnership process established to share all relevant information/intelligence.",
            "Identification and selection/de-selection criteria agreed within the principles "
            "of the Scaled Approach.",
            "Package of appropriate interventions available locally identified and they meet "
            "the needs of the young people as described on 4.1.",
            "Young people managed under this partnership framework are regularly assessed and "
            "refreshed to ensure interventions have maximum impact.",
        ),
    ),
    Subsection(
        "5.2",
        S5,
        "Arrangements are in place for the transition from Deter to the adult management "
        "approaches within PPO and widely in IOM",
        (
            "Local arrangements are in place regarding the transition of young offenders into "
            "the adult offender management within IOM arrangements, including the PPO "
            "approach.",
            "Effectiveness of these arrangements monitored and the necessary improvements "
            "carried out by the partnership.",
        ),
    ),
)
BY_NUMBER = {s.number: s for s in SUBSECTIONS}
RAG_LABELS = dict(Rag.choices)


# --- Who ------------------------------------------------------------------------------------


def may_read_self_assessment(actor: Actor) -> bool:
    return can_see_aggregates(actor)


def may_record_self_assessment(actor: Actor) -> bool:
    """A reader of aggregates who may also change selection records: the PPO manager
    (module docstring)."""
    return can_see_aggregates(actor) and grant(actor, RecordKind.SELECTION).write is Write.ALL


def _year_of(year: Any, today: dt.date) -> int:
    try:
        number = int(year)
    except (TypeError, ValueError):
        raise ApplicationError("Choose a financial year, such as 2026 for 2026/27") from None
    if number < 2000 or number > financial_year_of(today):
        raise ApplicationError(
            f"There is no self-assessment for {year_label(number)}: choose this financial "
            f"year ({year_label(financial_year_of(today))}) or an earlier one"
        )
    return number


# --- Writing --------------------------------------------------------------------------------


class StaleAssessment(ApplicationError):
    """The rating changed since the form was opened: nothing was saved."""

    def __init__(self, current: SelfAssessment | None):
        if current is None:
            message = (
                "This rating was removed since you opened it. Nothing was saved: "
                "open it again and make your change."
            )
        else:
            when = timezone.localtime(current.updated_at)
            message = (
                f"This rating was changed on {long_date(when.date())} at {when:%H:%M} since "
                "you opened it. Nothing was saved: check the current rating and evidence, "
                "then make your change again."
            )
        super().__init__(message)
        self.current = current


def self_assessment_record(
    *,
    user: Any,
    year: int,
    subsection: str,
    rag: str,
    evidence: str,
    version: int,
    as_of: dt.date | None = None,
) -> SelfAssessment:
    """Record the RAG rating and evidence of one subsection for one financial year.

    `version` is the version the form was read at: 0 for a subsection not yet rated.
    Evidence is required whatever the rating: the tool asks for evidence beside every
    criterion, and a green without it is the claim most in need of support. Audited as
    a creation or an update in the same transaction."""
    actor = as_actor(user, as_of)
    if not may_record_self_assessment(actor):
        raise NotPermitted("Only a PPO manager records the self-assessment")
    number = _year_of(year, actor.as_of)
    if subsection not in BY_NUMBER:
        raise ApplicationError(f"There is no subsection {str(subsection)[:10]!r} in the tool")
    if rag not in Rag.values:
        raise ApplicationError(
            "Choose a rating: red, amber or green", field_errors={"rag": ["Choose a rating"]}
        )
    text = (evidence or "").strip()
    if not text:
        raise ApplicationError(
            "Enter the evidence for the rating",
            field_errors={"evidence": ["Enter the evidence for the rating"]},
        )
    if len(text) > EVIDENCE_MAX:
        message = f"The evidence must be {EVIDENCE_MAX:,} characters or fewer"
        raise ApplicationError(message, field_errors={"evidence": [message]})
    starts_on = dt.date(number, 4, 1)
    try:
        with transaction.atomic():
            current = (
                SelfAssessment.objects.select_for_update()
                .filter(year_starts_on=starts_on, subsection=subsection)
                .first()
            )
            if current is None:
                if int(version) != 0:
                    raise StaleAssessment(None)
                row = SelfAssessment.objects.create(
                    year_starts_on=starts_on,
                    subsection=subsection,
                    rag=rag,
                    evidence=text,
                    assessed_by=actor.user,
                    updated_at=timezone.now(),
                )
                audit.altered(actor, AuditAction.CREATE, row)
                return row
            if int(version) != current.version:
                raise StaleAssessment(current)
            changed = [
                name
                for name, value in (("rag", rag), ("evidence", text))
                if getattr(current, name) != value
            ]
            current.rag = rag
            current.evidence = text
            current.assessed_by = actor.user
            current.updated_at = timezone.now()
            current.version += 1
            current.save()
            audit.altered(actor, AuditAction.UPDATE, current, changed=changed)
            return current
    except IntegrityError:
        # Two first ratings of one subsection at the same moment: the second is stale.
        raise StaleAssessment(
            SelfAssessment.objects.filter(year_starts_on=starts_on, subsection=subsection).first()
        ) from None


# --- Reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rating:
    rag: str
    evidence: str
    version: int
    assessed_by: str
    updated_at: dt.datetime

    @property
    def label(self) -> str:
        return str(RAG_LABELS[self.rag])


@dataclass(frozen=True)
class SubsectionRow:
    subsection: Subsection
    this_year: Rating | None
    last_year: Rating | None
    # The scheme's own figures for the criteria that can be measured, as sentences.
    measured: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class SelfAssessmentYear:
    year: int
    label: str
    last_year_label: str
    as_of: dt.date
    rows: tuple[SubsectionRow, ...]
    may_record: bool

    def row(self, number: str) -> SubsectionRow:
        return next(r for r in self.rows if r.subsection.number == number)


def _rating(row: SelfAssessment) -> Rating:
    by = row.assessed_by
    return Rating(
        rag=row.rag,
        evidence=row.evidence,
        version=row.version,
        assessed_by=by.get_full_name() or by.get_username(),
        updated_at=row.updated_at,
    )


def self_assessment_year(
    *, user: Any, year: Any = None, as_of: dt.date | None = None, measured: bool = True
) -> SelfAssessmentYear:
    """Every subsection with this year's and last year's ratings, and (with `measured`)
    the scheme's own figures offered as evidence. A fixed number of queries."""
    actor = as_actor(user, as_of)
    if not may_read_self_assessment(actor):
        raise NotPermitted("Only the steering group and PPO managers see the self-assessment")
    number = financial_year_of(actor.as_of) if year in (None, "") else _year_of(year, actor.as_of)
    starts = [dt.date(number, 4, 1), dt.date(number - 1, 4, 1)]
    rows = SelfAssessment.objects.filter(year_starts_on__in=starts).select_related("assessed_by")
    found = {(r.year_starts_on, r.subsection): _rating(r) for r in rows}
    evidence = measured_evidence(actor, number) if measured else {}
    return SelfAssessmentYear(
        year=number,
        label=year_label(number),
        last_year_label=year_label(number - 1),
        as_of=actor.as_of,
        rows=tuple(
            SubsectionRow(
                subsection=s,
                this_year=found.get((starts[0], s.number)),
                last_year=found.get((starts[1], s.number)),
                measured=tuple(evidence.get(s.number, ())),
            )
            for s in SUBSECTIONS
        ),
        may_record=may_record_self_assessment(actor),
    )


def self_assessment_subsection(
    *, user: Any, year: Any, subsection: str, as_of: dt.date | None = None
) -> SubsectionRow:
    """One subsection for its edit page (a PPO manager only)."""
    actor = as_actor(user, as_of)
    if not may_record_self_assessment(actor):
        raise NotPermitted("Only a PPO manager records the self-assessment")
    if subsection not in BY_NUMBER:
        raise ApplicationError(f"There is no subsection {str(subsection)[:10]!r} in the tool")
    page = self_assessment_year(user=actor, year=year, measured=True)
    return page.row(subsection)


def measured_evidence(actor: Actor, year: int) -> dict[str, list[str]]:
    """The scheme's own figures offered as evidence, per subsection, as at the year's end
    (or the reader's day, during the year). Which criteria they speak to:

    - 1.1 (PPO and DIP aligned): adults on the scheme also in DIP (scheme profile);
    - 3.1 (the most active offenders; the community / custody balance; short sentences):
      time on the programme, convictions in the last 12 months, the share in custody,
      sentences under 12 months, capacity (refresh indicators);
    - 3.2 (the Premium Service): each premium-service standard for the year so far
      (offenders.standards: contacts, drug tests, enforcement, treatment, release
      plans, reception assessments) as measured for this reader;
    - 4.1 (needs and gaps in provision): the gap view's count per pathway, and the needs
      of women, young people and those with mental health needs;
    - 4.2 (release plans): the release-plan and reception standards from 3.2's list;
    - 5.1 (Deter): Deter Young Offenders on the scheme.
    The other subsections are about agreements and governance, which the record does not
    hold."""
    from offenders.models import ProgrammeEpisode, ProgrammeKind
    from offenders.standards import measures
    from pathways.selectors import gap_view

    from .profile import refresh_indicators, scheme_profile

    day = min(actor.as_of, year_ends_on(year))
    first = dt.date(year, 4, 1)
    if day < first:
        return {}
    actor = as_actor(actor, day)
    when = long_date(day)
    profile = scheme_profile(user=actor, as_of=day)
    refresh = refresh_indicators(user=actor, as_of=day)
    found: dict[str, list[str]] = {}
    dip = profile.adults_in_dip
    found["1.1"] = [
        f"Adults on the scheme on {when} also in DIP: {dip.rows[0].cells[0]} of "
        f"{dip.rows[-1].cells[0]}."
    ]
    bands = refresh.time_on_programme
    found["3.1"] = [
        f"On the scheme on {when}: {refresh.on_scheme}; {refresh.capacity.against_local.lower()}.",
        f"In custody (sentenced or remanded): {refresh.custody_share or 0}%; in the "
        f"community: {refresh.capacity.in_community}.",
        "Time on the programme: "
        + "; ".join(f"{line.label.lower()} {line.cells[0]}" for line in bands.rows[:-1])
        + ".",
        "Convictions in the last 12 months: "
        + "; ".join(
            f"{line.label.lower()} {line.cells[0]}"
            for line in refresh.convictions_last_12_months.rows[:-1]
        )
        + ".",
        f"Serving sentences under 12 months: {refresh.sentences.rows[0].cells[0]} of "
        f"{refresh.sentences.rows[-1].cells[0]}.",
    ]
    standards = measures(user=actor, first_day=first, last_day=day)
    found["3.2"] = [
        f"{m.label} ({m.citation}), {long_date(first)} to {when}: {m.met} of {m.total} ({m.shown})."
        for m in standards
    ]
    found["4.2"] = [
        line
        for m, line in zip(standards, found["3.2"], strict=True)
        if "release" in m.key or "reception" in m.key
    ]
    gaps = gap_view(user=actor, as_of=day)
    found["4.1"] = [
        f"Gaps in provision on {when} (medium or high need, no provider or no open "
        f"referral): {gaps.total} in all; "
        + "; ".join(f"{g.pathway.name} {g.count}" for g in gaps.pathways if g.count)
        + ".",
        "Medium or high needs of women, young people and those with mental health needs: "
        "see “Needs of particular groups” in the scheme profile.",
    ]
    dyos = (
        ProgrammeEpisode.objects.open_on(day)
        .filter(kind=ProgrammeKind.DYO, offender__in=people_for_counting(actor))
        .count()
    )
    found["5.1"] = [f"Deter Young Offenders on the scheme on {when}: {dyos}."]
    return found
