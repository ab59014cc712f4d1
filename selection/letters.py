"""Documents a panel decision produces: the selection letter and the transfer summary.

* **Selection letter** (004 §4.1: "PPOs are provided with adequate levels of information
  about the PPO scheme and motivational support"): for a decision to select someone, or
  to step them up from IOM, a letter addressed to the person saying they are a PPO from
  the panel's date, what that means for them (the premium service of 001 §3.2: more
  contact, fast-tracked treatment, swift enforcement), who their key worker is and how to
  raise a concern. An export of that person.
* **Transfer summary** (003 §6.2(2), DESIGN.md rule 2: "The PPO scheme in the receiving
  area should be informed wherever possible"): for a de-selection because the person
  moved area, the summary the receiving scheme needs to decide whether to select them. It
  is stored as a `TransferRecord` with what was sent, and audited as a disclosure to its
  recipient.

Only a PPO manager produces either (ACCESS.md: selection is written by the manager).
The fields shown are the policy's (`visible_fields`), in the PDF as on a page. PDFs are
made with WeasyPrint from HTML templates (shared/STACK.md: DejaVu fonts; the font is set
in the `@page` margin boxes, which do not inherit it), tagged for screen readers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.template.loader import render_to_string

from access import audit
from access.errors import ApplicationError, NotPermitted, OutOfScope
from access.models import AuditAction, Membership, Scheme
from access.policy import (
    Actor,
    RecordKind,
    as_actor,
    months_before,
    offending_events_q,
    records_q,
    visible_fields,
)
from offenders.models import (
    CustodyEpisode,
    DeselectionReason,
    EventKind,
    Offender,
    OffendingEvent,
    ProgrammeEpisode,
)
from offenders.presentation import identity_details
from offenders.selectors import offender_get
from ppo_case.pdf import render_pdf

from .models import DecisionKind, PanelDecision, RiskAssessment, TransferRecord
from .profile import LETTER_DECISIONS
from .selectors import record_id
from .services import may_change_selection

DECISION = "selection.paneldecision"
TRANSFER = "selection.transferrecord"
OFFENDER = "offenders.offender"
# The offending listed in a transfer summary: the latest events, and counts over a year.
TRANSFER_RECENT_EVENTS = 10
TRANSFER_COUNT_MONTHS = 12
# Identity rows of the transfer summary, in order (each shown only if the policy allows).
TRANSFER_IDENTITY = (
    "full_name",
    "aliases",
    "date_of_birth",
    "sex",
    "pnc_id",
    "cro_number",
    "prison_number",
    "crn",
    "local_ref",
    "address",
)
TRANSFER_SUPERVISION = ("supervision", "strand", "iom_grade", "mappa_level")


def _day(day: dt.date | None) -> str:
    return f"{day.day} {day:%B %Y}" if day else ""


def _staff_name(user: Any) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


_record_id = record_id


@dataclass
class Document:
    """A document to hand over: its HTML (what the PDF is made from) and a file name."""

    filename: str
    html: str
    _pdf: bytes | None = field(default=None, repr=False)

    @property
    def pdf(self) -> bytes:
        if self._pdf is None:
            self._pdf = render_pdf(self.html)
        return self._pdf


@dataclass(frozen=True)
class StaffContact:
    name: str
    agency: str
    email: str


def staff_contact(user: Any, on: dt.date) -> StaffContact | None:
    """A member of staff as a person or another scheme can reach them."""
    if user is None:
        return None
    membership = Membership.objects.active_on(on).filter(user=user).select_related("agency").first()
    return StaffContact(
        name=_staff_name(user),
        agency=membership.agency.name if membership else "",
        email=user.email or "",
    )


def _manager(user: Any, what: str) -> Actor:
    actor = as_actor(user)
    if not may_change_selection(actor):
        raise NotPermitted(f"Only a PPO manager produces {what}")
    return actor


def _decision(actor: Actor, decision_id: Any) -> PanelDecision:
    """A decision about someone in the actor's scope, or 404 (audited)."""
    pk = _record_id(decision_id)
    decision = (
        PanelDecision.objects.select_related("panel__chair", "closed_episode", "opened_episode")
        .filter(pk=pk)
        .first()
        if pk is not None
        else None
    )
    if decision is None:
        audit.denied(actor, DECISION, decision_id, "no such decision")
        raise OutOfScope(DECISION, decision_id)
    # The person as this actor may see them (404 and audited if outside their scope).
    decision.offender = offender_get(user=actor, pk=decision.offender_id)
    return decision


def _open_custody(actor: Actor, offender: Offender) -> CustodyEpisode | None:
    return (
        CustodyEpisode.objects.filter(offender=offender)
        .filter(records_q(actor, RecordKind.CUSTODY, "offenders.custodyepisode"))
        .open_on(actor.as_of)
        .select_related("establishment")
        .order_by("-started_on")
        .first()
    )


# --- the selection letter -------------------------------------------------------------------


def letter_applies(decision: PanelDecision) -> bool:
    return decision.kind in LETTER_DECISIONS


def _address_lines(actor: Actor, offender: Offender, fields: frozenset[str]) -> list[str]:
    """Where the letter goes: to the prison while they are in custody, else their address."""
    lines = [offender.full_name] if "full_name" in fields else []
    custody_fields = visible_fields(actor, RecordKind.CUSTODY)
    in_custody = getattr(offender, "current_status", "community") != "community"
    if in_custody and "establishment" in custody_fields:
        episode = _open_custody(actor, offender)
        if episode is not None:
            if "prison_number" in fields and offender.prison_number:
                lines.append(f"Prison number {offender.prison_number}")
            lines.append(episode.establishment.name)
            return lines
    if "address" in fields and offender.address:
        lines += [line.strip() for line in offender.address.splitlines() if line.strip()]
    return lines


def selection_letter(*, user: Any, decision_id: Any) -> Document:
    """The letter telling a person they are a PPO (module docstring); audited as an export
    of that person."""
    actor = _manager(user, "selection letters")
    decision = _decision(actor, decision_id)
    if not letter_applies(decision):
        # There is no letter for this decision: as for any document that does not exist.
        raise OutOfScope(DECISION, decision.pk)
    offender = decision.offender
    fields = visible_fields(actor, RecordKind.IDENTITY)
    scheme = Scheme.current()
    context = {
        "scheme": scheme,
        "offender": offender,
        "name": offender.full_name if "full_name" in fields else "",
        "first_name": offender.first_name if "first_name" in fields else "",
        "address": _address_lines(actor, offender, fields),
        "letter_date": actor.as_of,
        "from_date": decision.panel.held_on,
        "stepped_up": decision.kind == DecisionKind.STEP_UP,
        "key_worker": (
            staff_contact(offender.key_worker, actor.as_of) if "key_worker" in fields else None
        ),
        "manager": staff_contact(actor.user, actor.as_of),
        # 001 §3.2 b, f; 003 §6.2(1), (5): the scheme's own figures, not the guidance's.
        "contacts_per_week": scheme.contact_target_per_week,
        "tests_per_week": scheme.drug_test_target_per_week,
        "conference_months": scheme.conference_interval_months,
        "no_arrest_months": scheme.no_arrest_review_months,
        "review_years": scheme.programme_review_months // 12,
        "review_months": scheme.programme_review_months,
    }
    html = render_to_string("selection/letter.html", context)
    audit.record(
        actor,
        AuditAction.EXPORT,
        record_type=OFFENDER,
        records=[offender],
        offenders=[offender],
        detail={"document": "selection letter", "decision": decision.pk, "format": "pdf"},
    )
    return Document(
        filename=f"selection-letter-{offender.pk}-{decision.panel.held_on.isoformat()}.pdf",
        html=html,
    )


# --- the transfer summary -------------------------------------------------------------------


def transfer_applies(decision: PanelDecision) -> bool:
    """003 §6.2(2): a de-selection because the person moved to another area."""
    return (
        decision.kind == DecisionKind.DESELECT
        and decision.deselection_reason == DeselectionReason.MOVED_AREA
    )


def transfer_decision(
    *, user: Any, decision_id: Any
) -> tuple[PanelDecision, TransferRecord | None]:
    """The moved-area de-selection a transfer summary is for, and the transfer already
    recorded for it (if any), for the page that records it; audited as a view of the
    person. 404 for any other decision."""
    actor = _manager(user, "transfer summaries")
    decision = _decision(actor, decision_id)
    if not transfer_applies(decision):
        raise OutOfScope(DECISION, decision.pk)
    sent = TransferRecord.objects.filter(decision=decision).select_related("sent_by").first()
    audit.viewed(actor, decision.offender, view="transfer summary", decision=decision.pk)
    return decision, sent


def _section(title: str, rows: list[tuple[str, str]], note: str = "") -> dict[str, Any]:
    return {"title": title, "rows": [[label, text] for label, text in rows], "note": note}


def _yes_no(value: bool) -> str:
    return "Yes" if value else "No"


def transfer_contents(actor: Actor, decision: PanelDecision) -> list[dict[str, Any]]:
    """What the receiving scheme is told, section by section, as the actor may see it."""
    offender = decision.offender
    as_of = actor.as_of
    fields = visible_fields(actor, RecordKind.IDENTITY)
    sections = []

    identity = identity_details(offender, set(TRANSFER_IDENTITY) & fields)
    order = {name: index for index, name in enumerate(TRANSFER_IDENTITY)}
    identity.sort(key=lambda d: order[d.field])
    # They have moved: the address held here is where they were.
    labels = {"address": "Last known address"}
    sections.append(
        _section(
            "Identity and identifiers",
            [(labels.get(d.field, d.label), d.text) for d in identity],
        )
    )

    supervision = [
        (d.label, d.text) for d in identity_details(offender, set(TRANSFER_SUPERVISION) & fields)
    ]
    if "dip_client" in fields:
        supervision.append(("DIP client", _yes_no(offender.dip_client)))
    if "crasbo" in fields:
        supervision.append(("CRASBO", _yes_no(offender.crasbo)))
    sections.append(_section("Supervision and flags", supervision))

    custody_fields = visible_fields(actor, RecordKind.CUSTODY)
    custody: list[tuple[str, str]] = []
    if "status" in fields:
        custody.append(("Status", str(getattr(offender, "current_status", "")).capitalize()))
    episode = _open_custody(actor, offender) if "in_custody" in custody_fields else None
    if "in_custody" in custody_fields:
        custody.append(("In custody", _yes_no(episode is not None)))
    if episode is not None:
        if "establishment" in custody_fields:
            custody.append(("Establishment", episode.establishment.name))
        if "kind" in custody_fields:
            custody.append(("Kind", episode.get_kind_display()))
        if "started_on" in custody_fields:
            custody.append(("Since", _day(episode.started_on)))
        if "expected_release_on" in custody_fields:
            custody.append(("Expected release", _day(episode.expected_release_on) or "Not known"))
    if episode is None and "released_on" in custody_fields:
        released = (
            CustodyEpisode.objects.filter(offender=offender, released_on__lte=as_of)
            .filter(records_q(actor, RecordKind.CUSTODY, "offenders.custodyepisode"))
            .order_by("-released_on")
            .values_list("released_on", flat=True)
            .first()
        )
        if released:
            custody.append(("Last released", _day(released)))
    sections.append(_section("Custody status", custody))

    # Intelligence reports are not disclosed in the summary: the receiving area's police
    # ask for them police to police.
    events = (
        OffendingEvent.objects.filter(offender=offender)
        .filter(offending_events_q(actor))
        .exclude(kind=EventKind.INTELLIGENCE)
    )
    since = months_before(as_of, TRANSFER_COUNT_MONTHS)
    counts = {
        row["kind"]: (row["total"], row["recent"])
        for row in events.filter(occurred_on__lte=as_of)
        .values("kind")
        .annotate(total=Count("pk"), recent=Count("pk", filter=Q(occurred_on__gt=since)))
    }
    offending = [
        (
            str(label),
            f"{counts[kind][1]} in the last {TRANSFER_COUNT_MONTHS} months, "
            f"{counts[kind][0]} in all",
        )
        for kind, label in EventKind.choices
        if kind in counts
    ]
    latest = [
        (
            _day(event.occurred_on),
            f"{event.get_kind_display()}: "
            f"{event.category.name if event.category else 'offence not recorded'}",
        )
        for event in events.select_related("category").order_by("-occurred_on", "-pk")[
            :TRANSFER_RECENT_EVENTS
        ]
    ]
    sections.append(
        _section(
            "Offending summary",
            offending,
            note="Intelligence reports are not included: ask for them police to police.",
        )
    )
    sections.append(_section(f"Latest offending (up to {TRANSFER_RECENT_EVENTS} events)", latest))

    assessment = (
        RiskAssessment.objects.filter(offender=offender, assessed_on__lte=as_of)
        .select_related("agency")
        .order_by("-assessed_on", "-pk")
        .first()
    )
    risk: list[tuple[str, str]] = (
        [
            ("Assessed on", _day(assessment.assessed_on)),
            ("Tool", assessment.get_tool_display()),
            ("Likelihood of re-offending", f"{assessment.likelihood_score}%"),
            ("Risk of serious harm", assessment.get_rosh_level_display()),
            ("Assessed by", assessment.agency.name),
        ]
        if assessment
        else [("Latest risk assessment", "None recorded")]
    )
    sections.append(_section("Latest risk assessment", risk))

    contacts: list[tuple[str, str]] = []
    if "key_worker" in fields:
        worker = staff_contact(offender.key_worker, as_of)
        contacts.append(
            (
                "Key worker",
                ", ".join(x for x in (worker.name, worker.agency, worker.email) if x)
                if worker
                else "Not allocated",
            )
        )
    manager = staff_contact(actor.user, as_of)
    if manager is not None:
        contacts.append(
            (
                "Sent by",
                ", ".join(
                    x for x in (manager.name, "PPO manager", manager.agency, manager.email) if x
                ),
            )
        )
    sections.append(_section("Contacts in this scheme", contacts))

    panel = decision.panel
    closed: ProgrammeEpisode | None = decision.closed_episode
    outcome = [
        ("Decision", f"{decision.get_kind_display()}: {DeselectionReason.MOVED_AREA.label}"),
        ("Panel date", _day(panel.held_on)),
        ("Chair", _staff_name(panel.chair)),
    ]
    if closed is not None:
        outcome.append(
            (
                f"On the scheme as a {closed.get_kind_display()}",
                f"From {_day(closed.selected_on)} to {_day(closed.deselected_on)}",
            )
        )
    if decision.reason:
        outcome.append(("Reason given", decision.reason))
    sections.append(
        _section(
            "Panel decision",
            outcome,
            note=(
                "003 §6.2(2): the receiving area should consider whether or not to select "
                "this person under its own selection policy."
            ),
        )
    )
    return sections


def _required(value: str, field_name: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ApplicationError(message, field_errors={field_name: [message]})
    return value


def transfer_record_create(
    *,
    user: Any,
    decision_id: int,
    receiving_scheme: str,
    receiving_area: str,
    receiving_contact: str,
) -> TransferRecord:
    """Record the transfer summary sent to the receiving scheme, with what it says, and
    audit it as a disclosure to that scheme. Once per decision."""
    actor = _manager(user, "transfer summaries")
    scheme_name = _required(
        receiving_scheme, "receiving_scheme", "Enter the name of the receiving scheme"
    )
    area = _required(receiving_area, "receiving_area", "Enter the receiving scheme's area")
    contact = _required(
        receiving_contact, "receiving_contact", "Enter who the summary is sent to at that scheme"
    )
    with transaction.atomic():
        # Two managers sending at once: the second waits here, then finds the first.
        locked = PanelDecision.objects.select_for_update().filter(pk=decision_id).first()
        if locked is None:
            raise ApplicationError("There is no such decision")
        decision = _decision(actor, locked.pk)
        if not transfer_applies(decision):
            raise ApplicationError(
                "A transfer summary is only for a de-selection because the person moved "
                "to another area (003 §6.2(2))"
            )
        sent = TransferRecord.objects.filter(decision=decision).first()
        if sent is not None:
            raise ApplicationError(
                f"A transfer summary for this decision was already sent to "
                f"{sent.receiving_scheme} on {_day(sent.sent_at.date())}"
            )
        record = TransferRecord(
            decision=decision,
            receiving_scheme=scheme_name,
            receiving_area=area,
            receiving_contact=contact,
            contents=transfer_contents(actor, decision),
            as_of=actor.as_of,
            sent_by=actor.user,
        )
        record.full_clean()
        record.save()
        audit.altered(actor, AuditAction.CREATE, record, offender_id=decision.offender_id)
        audit.record(
            actor,
            AuditAction.DISCLOSE,
            record_type=TRANSFER,
            records=[record],
            offenders=[decision.offender_id],
            recipient=record.recipient,
            detail={"document": "transfer summary", "decision": decision.pk},
        )
    return record


def transfer_summary(*, user: Any, transfer_id: Any) -> tuple[TransferRecord, Document]:
    """The transfer summary as it was sent, to download again; audited as an export."""
    actor = _manager(user, "transfer summaries")
    pk = _record_id(transfer_id)
    record = (
        TransferRecord.objects.select_related("decision__panel", "sent_by").filter(pk=pk).first()
        if pk is not None
        else None
    )
    if record is None:
        audit.denied(actor, TRANSFER, transfer_id, "no such transfer")
        raise OutOfScope(TRANSFER, transfer_id)
    offender = offender_get(user=actor, pk=record.decision.offender_id)
    html = render_to_string(
        "selection/transfer_summary.html",
        {
            "record": record,
            "scheme": Scheme.current(),
            "name": offender.full_name
            if "full_name" in visible_fields(actor, RecordKind.IDENTITY)
            else "",
        },
    )
    audit.record(
        actor,
        AuditAction.EXPORT,
        record_type=TRANSFER,
        records=[record],
        offenders=[offender],
        recipient=record.recipient,
        detail={"document": "transfer summary", "format": "pdf"},
    )
    return record, Document(
        filename=f"transfer-summary-{offender.pk}-{record.as_of.isoformat()}.pdf", html=html
    )
