"""A person's own contact and drug-test level (001 §3.2b: "four contacts a week (reviewed by
Conference)"): setting it, and reading the level in force for a day or for each week.

A level is history, never edited: each change is a new `ContactLevel` row with who set it,
for which agency, from which day and why. With no row in force a person is measured
against their tier's level (offenders.compliance.tier_targets). How a week picks its level
is decided once, in offenders.compliance.level_in_week (the level in force on the week's
Monday, within the tier spell it was set in).

Who may set a level: those whom the policy lets write *every* contact of the person
(contacts Write.ALL: today the PPO manager, key worker, police officer and YOT worker).
Prison staff and partners write only their own agency's contacts, and see only those, so
a level they set would be measured by figures they cannot see. Who may read levels:
those who read every contact of the person (the same readers as compliance).

Decided where the issue was silent:
* A level may start no earlier than the person's current tier spell (a level belongs to
  the spell: one set while a PPO lapses on stepping down to IOM) and no later than
  `FUTURE_LIMIT_DAYS` ahead: a conference sets the level from its day and reviews it at
  the next, at most three months on (001 §3.2a), so a start further off is a mistake.
* A level may be backdated within the tier spell (a decision recorded late); the weeks
  it then covers are measured against it.
* The person must be on a tier (PPO, IOM or DYO) today: compliance measures nobody else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Q

from access import audit
from access.errors import ApplicationError, NotPermitted
from access.models import AuditAction, Scheme
from access.policy import (
    Actor,
    RecordKind,
    Rows,
    Write,
    as_actor,
    can_change_person,
    grant,
    people_q,
)

from .compliance import (
    TIERS,
    Level,
    OwnLevel,
    Week,
    level_in_week,
    monday_of,
    own_levels,
    tier_targets,
)
from .models import Offender, ProgrammeEpisode
from .premium_models import MAX_CONTACTS_PER_WEEK, MAX_DRUG_TESTS_PER_WEEK, ContactLevel

CONTACT_LEVEL = "offenders.contactlevel"
# 001 §3.2a: conferenced at least every 3 months; a level starts at most that far ahead.
FUTURE_LIMIT_DAYS = 92
REASON_MAX = 2000


def _long(day: dt.date) -> str:
    return f"{day.day} {day:%B %Y}"


# --- Who may -----------------------------------------------------------------------------------


def may_set_levels(actor: Actor) -> bool:
    """The record-kind half: may this role set anyone's level (writes every contact)?"""
    return grant(actor, RecordKind.CONTACTS).write is Write.ALL


def can_set_contact_level(actor: Actor, offender_id: int) -> bool:
    return may_set_levels(actor) and can_change_person(actor, offender_id)


def may_read_levels(actor: Actor) -> bool:
    contacts = grant(actor, RecordKind.CONTACTS)
    return contacts.can_read and contacts.rows is Rows.ALL


# --- Setting a level ---------------------------------------------------------------------------


def _refuse(message: str, field_name: str) -> ApplicationError:
    return ApplicationError(message, field_errors={field_name: [message]})


def _whole_number(value: Any, *, field_name: str, most: int, what: str) -> int:
    message = f"Enter {what} as a whole number from 0 to {most}"
    if isinstance(value, bool):
        raise _refuse(message, field_name)
    if isinstance(value, int):
        number = value
    else:
        try:
            number = int(str(value).strip())
        except ValueError:
            raise _refuse(message, field_name) from None
    if not 0 <= number <= most:
        raise _refuse(message, field_name)
    return number


def current_tier_spell(offender_id: int, day: dt.date) -> ProgrammeEpisode | None:
    """The tier episode (PPO, IOM or DYO) open on `day`, the latest if records overlap."""
    return (
        ProgrammeEpisode.objects.filter(offender_id=offender_id, kind__in=TIERS)
        .filter(selected_on__lte=day)
        .filter(Q(deselected_on__isnull=True) | Q(deselected_on__gt=day))
        .order_by("-selected_on", "-pk")
        .first()
    )


def contact_level_set(
    *,
    user: Any,
    offender_id: int,
    contacts_per_week: int,
    drug_tests_per_week: int,
    starts_on: dt.date,
    reason: str,
    as_of: dt.date | None = None,
) -> ContactLevel:
    """Set a person's own level from `starts_on` (001 §3.2b), with the reason; audited.

    Refused with a message and nothing saved: a role that does not write every contact of
    the person, a level below 0 or above MAX_CONTACTS_PER_WEEK / MAX_DRUG_TESTS_PER_WEEK,
    an empty reason, a person not on a tier today, a start before their current tier
    spell or more than FUTURE_LIMIT_DAYS after `as_of`.
    """
    from .selectors import offender_get  # selectors reads levels for the person's page

    actor = as_actor(user, as_of)
    today = actor.as_of
    contacts = _whole_number(
        contacts_per_week,
        field_name="contacts_per_week",
        most=MAX_CONTACTS_PER_WEEK,
        what="the contacts a week",
    )
    tests = _whole_number(
        drug_tests_per_week,
        field_name="drug_tests_per_week",
        most=MAX_DRUG_TESTS_PER_WEEK,
        what="the drug tests a week",
    )
    reason = (reason or "").strip()
    if not reason:
        raise _refuse("Enter why the level is being set", "reason")
    if len(reason) > REASON_MAX:
        raise _refuse(f"The reason must be {REASON_MAX} characters or fewer", "reason")
    if not isinstance(starts_on, dt.date) or isinstance(starts_on, dt.datetime):
        raise _refuse("Enter the date the level starts", "starts_on")
    latest = today + dt.timedelta(days=FUTURE_LIMIT_DAYS)
    if starts_on > latest:
        raise _refuse(
            f"The level must start by {_long(latest)}: a conference reviews it within three months",
            "starts_on",
        )
    with transaction.atomic():
        offender = offender_get(user=actor, pk=offender_id, write=True)
        if not may_set_levels(actor):
            raise NotPermitted(
                "Only those who record every contact with this person (the PPO manager, key "
                "workers, police officers and YOT workers) set their contact level"
            )
        spell = current_tier_spell(offender.pk, today)
        if spell is None:
            raise _refuse(
                f"{offender.full_name} is not on a tier (PPO, IOM or DYO) today, so there is "
                "no contact level to set",
                "starts_on",
            )
        if starts_on < spell.selected_on:
            raise _refuse(
                f"The level cannot start before {_long(spell.selected_on)}, when "
                f"{offender.full_name} began on the {spell.get_kind_display()} tier",
                "starts_on",
            )
        level = ContactLevel(
            offender=offender,
            contacts_per_week=contacts,
            drug_tests_per_week=tests,
            starts_on=starts_on,
            reason=reason,
            set_by=actor.user,
            set_by_agency_id=actor.agency_id,
        )
        level.full_clean()
        level.save()
        audit.altered(
            actor,
            AuditAction.CREATE,
            level,
            changed=["contacts_per_week", "drug_tests_per_week", "starts_on", "reason"],
        )
    return level


# --- Reading levels ----------------------------------------------------------------------------


def _scheme() -> Scheme:
    """The scheme's settings for a read: the saved row, or its defaults before one is
    saved (a read never writes; Scheme.current() would create the row)."""
    return Scheme.objects.order_by("pk").first() or Scheme(name="PPO scheme", area="Local area")


def _scoped_ids(actor: Actor, ids: Any) -> list[int]:
    return list(
        Offender.objects.filter(people_q(actor), pk__in=list(ids)).values_list("pk", flat=True)
    )


def _spells(ids: list[int], first_day: dt.date, last_day: dt.date) -> dict[int, list[Any]]:
    spells: dict[int, list[tuple[str, dt.date, dt.date | None]]] = {pk: [] for pk in ids}
    for offender_id, kind, selected_on, deselected_on in (
        ProgrammeEpisode.objects.filter(offender_id__in=ids, kind__in=TIERS)
        .filter(selected_on__lte=last_day)
        .filter(Q(deselected_on__isnull=True) | Q(deselected_on__gt=first_day))
        .values_list("offender_id", "kind", "selected_on", "deselected_on")
    ):
        spells[offender_id].append((kind, selected_on, deselected_on))
    return spells


def levels_for(
    *, user: Any, offender_ids: Any, first_day: dt.date, last_day: dt.date
) -> dict[int, dict[dt.date, Level | None]]:
    """Each person's level for each week from the week of `first_day` to that of
    `last_day`, keyed by the week's Monday: their own level in force on that Monday, else
    their tier's; None for a week they were on no tier. People outside the user's scope
    are left out. Four queries whatever the number of people or weeks."""
    actor = as_actor(user)
    if not may_read_levels(actor) or last_day < first_day:
        return {}
    targets = tier_targets(_scheme())
    ids = _scoped_ids(actor, offender_ids)
    first_monday = monday_of(first_day)
    weeks = [
        Week(
            start=first_monday + dt.timedelta(weeks=n),
            last_day=first_monday + dt.timedelta(weeks=n, days=6),
        )
        for n in range((monday_of(last_day) - first_monday).days // 7 + 1)
    ]
    spells = _spells(ids, first_monday, weeks[-1].end)
    history = own_levels(ids, weeks[-1].start)
    return {
        pk: {
            week.start: level_in_week(spells[pk], history.get(pk, []), week, targets)
            for week in weeks
        }
        for pk in ids
    }


def level_on(*, user: Any, offender: Offender | int, day: dt.date) -> Level | None:
    """The level in force for a person on `day` (their own level starting on or before it,
    within their tier spell, else the tier's); None when on no tier that day or not theirs
    to read. The week containing `day` is measured against the level of its Monday."""
    actor = as_actor(user)
    if not may_read_levels(actor):
        return None
    pk = offender if isinstance(offender, int) else offender.pk
    if not _scoped_ids(actor, [pk]):
        return None
    on_the_day = Week(start=day, last_day=day)
    return level_in_week(
        _spells([pk], day, day)[pk],
        own_levels([pk], day).get(pk, []),
        on_the_day,
        tier_targets(_scheme()),
    )


@dataclass(frozen=True)
class HistoryRow:
    level: ContactLevel
    # The first week measured against it (the Monday on or after its start), and whether
    # it is the one in force today.
    measured_from: dt.date
    current: bool = False


@dataclass
class PersonLevel:
    """What a person's page shows: the level today and the history behind it."""

    current: Level | None
    history: list[HistoryRow] = field(default_factory=list)
    can_change: bool = False

    @property
    def own(self) -> OwnLevel | None:
        return self.current.own if self.current else None


def person_level(actor: Actor, offender: Offender) -> PersonLevel | None:
    """The person's level today and its whole history, for someone already allowed to see
    the person (the caller audits the page); None for a reader who may not read levels.
    Three queries."""
    if not may_read_levels(actor):
        return None
    today = actor.as_of
    spell = current_tier_spell(offender.pk, today)
    rows = list(
        ContactLevel.objects.filter(offender=offender)
        .select_related("set_by", "set_by_agency")
        .order_by("-starts_on", "-pk")
    )
    current: Level | None = None
    if spell is not None:
        tier_level = tier_targets(_scheme())[spell.kind]
        history = [
            OwnLevel(r.pk, r.starts_on, r.contacts_per_week, r.drug_tests_per_week) for r in rows
        ]
        spells = [(spell.kind, spell.selected_on, spell.deselected_on)]
        current = level_in_week(
            spells, history, Week(start=today, last_day=today), {spell.kind: tier_level}
        )
    in_force = current.own.pk if current and current.own else None
    return PersonLevel(
        current=current,
        history=[
            HistoryRow(
                level=r,
                measured_from=r.starts_on + dt.timedelta(days=(7 - r.starts_on.weekday()) % 7),
                current=r.pk == in_force,
            )
            for r in rows
        ],
        can_change=spell is not None and can_set_contact_level(actor, offender.pk),
    )
