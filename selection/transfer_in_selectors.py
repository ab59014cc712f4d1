"""Reads for the transfer-in pages: a PPO arriving from another area's scheme, whose
selection review then falls due (003 §6.2(2); selection.reviews.transfer_in_record).

ACCESS.md "selection scores, panel decisions, reviews": a transfer in is a selection
record. Those who read selection (manager, key workers, police, YOT for their people)
read a person's transfers in; only whoever writes selection records for the whole scheme
(`may_change_selection`: the PPO manager) records or corrects one. A role that may not is
refused (403) whoever the person; a person or transfer outside the reader's scope is not
found (404, audited as a denial), exactly as if it did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from access import audit
from access.errors import OutOfScope, Refused
from access.policy import Actor, as_actor, people_q
from offenders.models import Offender
from offenders.selectors import offender_get

from .models import Review, ReviewKind, TransferIn
from .panel_selectors import person_name, record_id
from .reviews.services import transfer_basis
from .selectors import selection_reader
from .services import may_change_selection

OFFENDER = "offenders.offender"
TRANSFER_IN = "selection.transferin"


def may_record_transfers_in(actor: Actor) -> bool:
    """The services' own rule (`transfer_in_record`, `transfer_in_correct`), so the pages
    offer the buttons only to those the services accept."""
    return may_change_selection(actor)


def _writer(user: Any, record_type: str, record_id_: Any) -> Actor:
    actor = selection_reader(as_actor(user), record_type, record_id_)
    if not may_record_transfers_in(actor):
        raise Refused(record_type, record_id_, "only the PPO manager records transfers in")
    return actor  # type: ignore[no-any-return]


@dataclass
class TransferInRow:
    transfer: TransferIn
    # The review the arrival raised, if any (open or closed).
    review: Review | None = None


@dataclass
class PersonTransfers:
    offender: Offender
    name: str
    rows: list[TransferInRow] = field(default_factory=list)
    manages: bool = False


def transfer_in_person(*, user: Any, offender_id: Any) -> tuple[Actor, Offender, str]:
    """The person a transfer in is about to be recorded for (the form page): the actor,
    the person and their name as this reader may see it. Audited as a view."""
    actor = _writer(user, OFFENDER, offender_id)
    offender = offender_get(user=actor, pk=offender_id, write=True)
    audit.viewed(actor, offender, view="record a transfer in", shown=["full_name"])
    return actor, offender, person_name(actor, offender)


def transfer_in_for_correcting(*, user: Any, transfer_id: Any) -> tuple[Actor, TransferIn, str]:
    """A recorded transfer in, for its correction form: the actor, the transfer and the
    person's name. Audited as a consultation of the transfer."""
    actor = _writer(user, TRANSFER_IN, transfer_id)
    pk = record_id(transfer_id)
    found = (
        TransferIn.objects.filter(people_q(actor, write=True, prefix="offender__"))
        .select_related("offender", "recorded_by")
        .filter(pk=pk)
        .first()
        if pk is not None
        else None
    )
    if found is None:
        audit.denied(actor, TRANSFER_IN, transfer_id, "no such transfer in scope")
        raise OutOfScope(TRANSFER_IN, transfer_id)
    audit.consulted(actor, TRANSFER_IN, [found], view="correct a transfer in")
    return actor, found, person_name(actor, found.offender)


def person_transfers_in(*, user: Any, offender_id: Any) -> PersonTransfers:
    """A person's recorded arrivals, newest first, each with the review it raised (three
    queries whatever their number). Audited as a view of the person."""
    actor = selection_reader(as_actor(user), OFFENDER, offender_id)
    offender = offender_get(user=actor, pk=offender_id)
    transfers = list(TransferIn.objects.filter(offender=offender).select_related("recorded_by"))
    reviews = {
        review.basis: review
        for review in Review.objects.filter(
            kind=ReviewKind.TRANSFER_IN,
            offender=offender,
            basis__in=[transfer_basis(t) for t in transfers],
        )
    }
    audit.viewed(
        actor,
        offender,
        view="transfers in",
        shown=["transfers_in"],
        transfers=[t.pk for t in transfers],
    )
    return PersonTransfers(
        offender=offender,
        name=person_name(actor, offender),
        rows=[TransferInRow(t, reviews.get(transfer_basis(t))) for t in transfers],
        manages=may_record_transfers_in(actor),
    )


def review_of_transfer(transfer: TransferIn) -> Review | None:
    """The review an arrival raised, for the page that has just recorded it to say so
    (the writer has just been shown the person; nothing more is disclosed)."""
    return Review.objects.filter(
        kind=ReviewKind.TRANSFER_IN,
        offender_id=transfer.offender_id,
        basis=transfer_basis(transfer),
    ).first()
