"""Recognised on arrival (002 inspection: PPOs should be "identifiable on arrival in
prison custody").

Prison staff see only people already in their establishment. The arrival check is the
one carve-out of that rule (access.policy.may_check_arrivals): given a PNC ID or a
prison number, it answers only "PPO", "former PPO" or "not known", with the scheme
contact to call. It never shows a name, a date of birth, an offence or anything else of
the record, and "not known" is the same answer whether the identifier is on the record
(someone in the known-offender pool, a DYO) or not at all.

Each check is audited as a consultation (who checked which identifier, and the answer);
a check refused — a malformed identifier, or more than `Scheme.arrival_checks_per_minute`
in the last minute — is audited too. The limit counts this user's audited checks of the
last 60 seconds (a check exactly 60 seconds ago no longer counts), so it holds on every
database and across processes; checks refused for the limit do not count towards it, so
waiting a minute always lets the next one through. A check over the limit raises
`RateLimited`, which says how many seconds until the next would be answered (the API's
429 and Retry-After).

A match lets the prison worker record the reception (`reception_record`): a custody
episode (remand or sentence) in their establishment, received now. The open episode
brings the person into their scope by the ordinary rule, and the key worker and police
officer are alerted (offenders.custody_release.alert_people).
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from access import audit
from access.errors import ApplicationError, Refused
from access.models import AuditAction, AuditEvent, Membership, Role, Scheme
from access.policy import Actor, as_actor, may_check_arrivals

from . import identifiers
from .custody_release import alert_people
from .models import CustodyEpisode, CustodyKind, Offender, ProgrammeEpisode, ProgrammeKind
from .premium_models import AlertKind

# The audit trail's record type for a check: counted for the rate limit.
ARRIVAL_CHECK = "offenders.arrival_check"
RATE_WINDOW = dt.timedelta(seconds=60)
IDENTIFIER_FIELD = "identifier"
MALFORMED = "Enter a PNC ID, like 2004/0046583U, or a prison number, like A1234BC"


class Answer(enum.StrEnum):
    PPO = "ppo"
    FORMER_PPO = "former_ppo"
    NOT_KNOWN = "not_known"

    @property
    def label(self) -> str:
        return {"ppo": "PPO", "former_ppo": "Former PPO", "not_known": "Not known"}[self.value]


class IdentifierKind(enum.StrEnum):
    PNC = "pnc"
    PRISON_NUMBER = "prison_number"

    @property
    def label(self) -> str:
        return "PNC ID" if self is IdentifierKind.PNC else "Prison number"

    @property
    def field(self) -> str:
        return "pnc_id" if self is IdentifierKind.PNC else "prison_number"


@dataclass(frozen=True)
class Identifier:
    kind: IdentifierKind
    value: str  # the normal form (offenders.identifiers)


@dataclass(frozen=True)
class SchemeContact:
    """Whom to call about a PPO: the PPO manager (the longest-serving one today), their
    agency and email, and the scheme's name. The scheme records no telephone number of
    its own; the email is the manager's sign-in account's."""

    scheme: str
    name: str
    agency: str
    email: str


@dataclass(frozen=True)
class ArrivalAnswer:
    identifier: Identifier
    answer: Answer
    contact: SchemeContact

    @property
    def matched(self) -> bool:
        return self.answer is not Answer.NOT_KNOWN


class RateLimited(ApplicationError):
    """A check refused for the per-minute limit: `retry_after` is how many whole seconds
    until the next one would be answered (the API's 429 and Retry-After)."""

    def __init__(self, message: str, *, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def _refuse(message: str) -> ApplicationError:
    return ApplicationError(message, field_errors={IDENTIFIER_FIELD: [message]})


def read_identifier(text: Any) -> Identifier:
    """A PNC ID (checked with its check letter, offenders.identifiers.normalise_pnc) or a
    prison number (A1234BC), in its normal form; ApplicationError saying what is wrong."""
    cleaned = str(text or "").strip().upper().replace(" ", "")
    if not cleaned:
        raise _refuse("Enter a PNC ID or a prison number")
    if len(cleaned) > 20:
        raise _refuse(MALFORMED)
    try:
        if "/" in cleaned:
            return Identifier(IdentifierKind.PNC, identifiers.normalise_pnc(cleaned))
        if cleaned[0].isalpha():
            return Identifier(
                IdentifierKind.PRISON_NUMBER, identifiers.normalise_prison_number(cleaned)
            )
    except ValidationError as error:
        raise _refuse(error.messages[0]) from None
    raise _refuse(MALFORMED)


def scheme_contact(as_of: dt.date) -> SchemeContact:
    scheme = Scheme.current()
    manager = (
        Membership.objects.active_on(as_of)
        .filter(role=Role.PPO_MANAGER, agency__active=True, user__is_active=True)
        .select_related("user", "agency")
        .order_by("started_on", "pk")
        .first()
    )
    if manager is None:
        return SchemeContact(scheme=scheme.name, name="", agency="", email="")
    user = manager.user
    return SchemeContact(
        scheme=scheme.name,
        name=user.get_full_name() or user.username,
        agency=manager.agency.name,
        email=user.email,
    )


def _matches(identifier: Identifier, as_of: dt.date) -> list[tuple[int, Answer]]:
    """Everyone recorded with the identifier, with what the check may say of each."""
    ref = OuterRef("pk")
    ppo = ProgrammeEpisode.objects.filter(offender=ref, kind=ProgrammeKind.PPO)
    rows = (
        Offender.objects.filter(**{identifier.kind.field: identifier.value})
        .annotate(
            is_ppo=Exists(ppo.open_on(as_of)), was_ppo=Exists(ppo.filter(selected_on__lte=as_of))
        )
        .values_list("pk", "is_ppo", "was_ppo")
        .order_by("pk")
    )
    return [
        (pk, Answer.PPO if is_ppo else Answer.FORMER_PPO if was_ppo else Answer.NOT_KNOWN)
        for pk, is_ppo, was_ppo in rows
    ]


def _answer_of(matches: list[tuple[int, Answer]]) -> Answer:
    answers = {answer for _, answer in matches}
    for answer in (Answer.PPO, Answer.FORMER_PPO):
        if answer in answers:
            return answer
    return Answer.NOT_KNOWN


def _audit_check(
    actor: Actor,
    action: str,
    *,
    typed: str,
    outcome: str,
    identifier: Identifier | None = None,
    answer: Answer | None = None,
    offenders: list[int] | None = None,
) -> None:
    detail: dict[str, Any] = {"view": "arrival check", "outcome": outcome}
    if identifier is not None:
        detail |= {"identifier_kind": identifier.kind.value, "identifier": identifier.value}
    else:
        detail["identifier_typed"] = typed[:30]
    if answer is not None:
        detail["answer"] = answer.value
    audit.record(
        actor,
        action,
        record_type=ARRIVAL_CHECK,
        records=offenders or [],
        offenders=offenders or [],
        detail=detail,
    )


def _require(actor: Actor) -> None:
    if not may_check_arrivals(actor):
        raise Refused(ARRIVAL_CHECK, "", "only prison staff check arrivals")


def _counted_checks(actor: Actor, now: dt.datetime) -> Any:
    return AuditEvent.objects.filter(
        user_id=actor.user.pk,
        record_type=ARRIVAL_CHECK,
        action=AuditAction.LIST,
        at__gt=now - RATE_WINDOW,
    )


def checks_in_last_minute(actor: Actor) -> int:
    return int(_counted_checks(actor, timezone.now()).count())


def seconds_until_next_check(actor: Actor, limit: int) -> int:
    """Whole seconds until enough counted checks have left the window for one more to
    be answered (at least 1); a whole window if none will (a limit of 0)."""
    now = timezone.now()
    times = list(_counted_checks(actor, now).order_by("at").values_list("at", flat=True))
    if limit < 1 or len(times) < limit:
        return int(RATE_WINDOW.total_seconds()) if limit < 1 else 1
    frees_at = times[len(times) - limit] + RATE_WINDOW
    return max(1, math.ceil((frees_at - now).total_seconds()))


def arrival_check(*, user: Any, identifier: Any) -> ArrivalAnswer:
    """Whether a PNC ID or prison number is a PPO's, a former PPO's or not known, and the
    scheme contact: nothing else. Audited, answered or refused."""
    actor = as_actor(user)
    _require(actor)
    typed = str(identifier or "")
    refusal: ApplicationError | None = None
    result: ArrivalAnswer | None = None
    with transaction.atomic():
        # One check at a time per person, so two at once cannot both slip under the limit.
        get_user_model().objects.select_for_update().filter(pk=actor.user.pk).first()
        limit = Scheme.current().arrival_checks_per_minute
        if checks_in_last_minute(actor) >= limit:
            _audit_check(actor, AuditAction.DENIED, typed=typed, outcome="refused: rate limit")
            refusal = RateLimited(
                f"You have made {limit} checks in the last minute, the most allowed. "
                "Wait a minute, then check again.",
                retry_after=seconds_until_next_check(actor, limit),
            )
        else:
            try:
                parsed = read_identifier(typed)
            except ApplicationError as error:
                _audit_check(actor, AuditAction.LIST, typed=typed, outcome="refused: malformed")
                refusal = error
            else:
                matches = _matches(parsed, actor.as_of)
                answer = _answer_of(matches)
                _audit_check(
                    actor,
                    AuditAction.LIST,
                    typed=typed,
                    outcome="answered",
                    identifier=parsed,
                    answer=answer,
                    offenders=[pk for pk, _ in matches],
                )
                result = ArrivalAnswer(
                    identifier=parsed, answer=answer, contact=scheme_contact(actor.as_of)
                )
    if refusal is not None or result is None:
        raise refusal or ApplicationError(MALFORMED)
    return result


def reception_record(
    *,
    user: Any,
    identifier: Any,
    kind: str,
    sentence_length_months: int | None = None,
    expected_release_on: dt.date | None = None,
) -> CustodyEpisode:
    """Record the reception of a PPO or former PPO into the acting prison worker's
    establishment, now: a new custody episode with `received_at`, which brings the
    person into their scope. The key worker and police officer are alerted."""
    actor = as_actor(user)
    _require(actor)
    parsed = read_identifier(identifier)
    if kind not in CustodyKind.values:
        raise ApplicationError(
            "Choose remand or sentence", field_errors={"kind": ["Choose remand or sentence"]}
        )
    with transaction.atomic():
        found = [
            pk for pk, answer in _matches(parsed, actor.as_of) if answer is not Answer.NOT_KNOWN
        ]
        if not found:
            raise _refuse(
                "No PPO or former PPO has this identifier, so a reception cannot be recorded "
                "for them here"
            )
        if len(found) > 1:
            raise _refuse(
                "More than one person on the record has this identifier: ask the scheme "
                "contact to record the reception"
            )
        offender = Offender.objects.select_for_update().get(pk=found[0])
        now = timezone.now()
        today = timezone.localdate(now)
        open_here = CustodyEpisode.objects.filter(offender=offender, released_on__isnull=True)
        if open_here.filter(establishment_id=actor.agency_id).exists():
            raise _refuse("This person's reception here is already recorded")
        if open_here.exists():
            raise _refuse(
                "The record shows this person in custody elsewhere: ask the scheme contact "
                "to record the move between prisons"
            )
        episode = CustodyEpisode(
            offender=offender,
            kind=kind,
            establishment=actor.agency,
            started_on=today,
            received_at=now,
            sentence_length_months=sentence_length_months,
            expected_release_on=expected_release_on,
        )
        episode.full_clean()
        episode.save()
        audit.altered(
            actor,
            AuditAction.CREATE,
            episode,
            changed=["kind", "establishment", "started_on", "received_at"]
            + (["sentence_length_months"] if sentence_length_months else [])
            + (["expected_release_on"] if expected_release_on else []),
        )
        where = episode.establishment.name
        message = (
            f"{offender.full_name} was received into custody at {where} "
            f"({episode.get_kind_display().lower()}) on "
            f"{timezone.localtime(now):%-d %B %Y at %H:%M}"
        )
        if expected_release_on:
            message += f"; expected release {expected_release_on.day} {expected_release_on:%B %Y}"
        alert_people(
            actor=actor, offender=offender, kind=AlertKind.RECEIVED_INTO_CUSTODY, message=message
        )
    return episode
