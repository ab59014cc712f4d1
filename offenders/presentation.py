"""How each field of a person's record is labelled, shown, searched and filtered.

Which fields a viewer gets is never decided here or in a template: the policy's field
set (`access.policy.visible_fields`) is passed in, and everything below keeps only what
is in it. A field missing from that set is not rendered, searched, filtered or sorted on
(STYLE.md rule 10), so a partner never sees — or can probe for — a PNC ID, CRN, prison
number, strand, grade or custody history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from .models import Offender, Status


@dataclass(frozen=True)
class Detail:
    """One row of a summary list: a label and the text shown for it."""

    field: str
    label: str
    text: str


def _date(day: dt.date | None) -> str:
    return f"{day.day} {day:%B %Y}" if day else ""


def _staff(user: Any) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


def _yes_no(value: bool) -> str:
    return "Yes" if value else "No"


# The identity rows of the profile, in the order they are shown. Each names the one
# policy field it shows.
IDENTITY_DETAILS: list[tuple[str, str, Callable[[Offender], str], str]] = [
    ("full_name", "Name", lambda o: o.full_name, ""),
    ("date_of_birth", "Date of birth", lambda o: _date(o.date_of_birth), ""),
    ("address", "Address", lambda o: o.address, "Not recorded"),
    ("phone", "Phone", lambda o: o.phone, "Not recorded"),
    ("aliases", "Other names", lambda o: o.aliases, "None recorded"),
    ("sex", "Sex", lambda o: o.get_sex_display(), ""),
    ("ethnicity", "Ethnicity", lambda o: o.get_ethnicity_display(), ""),
    ("pnc_id", "PNC ID", lambda o: o.pnc_id or "", "Not recorded"),
    ("cro_number", "CRO number", lambda o: o.cro_number, "Not recorded"),
    ("prison_number", "Prison number", lambda o: o.prison_number, "Not recorded"),
    ("crn", "Probation CRN", lambda o: o.crn, "Not recorded"),
    ("local_ref", "Local reference", lambda o: o.local_ref, "Not recorded"),
    ("supervision", "Supervision", lambda o: o.get_supervision_display(), ""),
    ("strands", "Strands", lambda o: ", ".join(o.strand_labels), "Not set"),
    ("iom_grade", "IOM grade", lambda o: o.get_iom_grade_display(), "Not graded"),
    ("mappa_level", "MAPPA", lambda o: o.get_mappa_level_display() or "", "Not managed"),
    ("asset_score", "Asset score", lambda o: str(o.asset_score or ""), "Not recorded"),
    ("scaled_approach", "Scaled approach", lambda o: o.get_scaled_approach_display(), "Not set"),
    ("key_worker", "Key worker", lambda o: _staff(o.key_worker), "Not allocated"),
    ("offender_manager", "Offender manager", lambda o: _staff(o.offender_manager), "Not allocated"),
    ("police_officer", "Police officer", lambda o: _staff(o.police_officer), "Not allocated"),
]


def identity_details(offender: Offender, fields: Collection[str]) -> list[Detail]:
    return [
        Detail(name, label, show(offender) or default)
        for name, label, show, default in IDENTITY_DETAILS
        if name in fields
    ]


@dataclass(frozen=True)
class Flag:
    """A tag beside the name: the text says it in words, labelled ("IOM grade: Green",
    issue 13.5) where the value alone would not say what it is; the colour only repeats it."""

    text: str
    colour: str


STATUS_TAGS = {
    Status.COMMUNITY: Flag("Status: Community", "teal"),
    Status.CUSTODY: Flag("Status: Custody", "grey"),
    Status.REMAND: Flag("Status: Remand", "purple"),
}

# offenders.tiers.Tier values; the known-offender pool ("none") is not a tag.
TIER_TAGS = {
    "ppo": Flag("Tier: PPO", ""),
    "iom": Flag("Tier: IOM", "teal"),
    "dyo": Flag("Tier: DYO", "purple"),
    "former": Flag("Tier: former (on no tier today)", "grey"),
}


def flags(offender: Offender, fields: Collection[str], *, as_of: dt.date) -> list[Flag]:
    """The person's tags, each for a field the viewer may see; the tier when the caller
    annotated `current_tier` (offenders.tiers.with_tier)."""
    shown: list[Flag] = []
    status = getattr(offender, "current_status", None)
    if "status" in fields and status:
        shown.append(STATUS_TAGS[status])
    tier = getattr(offender, "current_tier", None)
    if "tier" in fields and tier in TIER_TAGS:
        shown.append(TIER_TAGS[tier])
    if "iom_grade" in fields and offender.iom_grade:
        shown.append(GRADE_TAGS[offender.iom_grade])
    if "dip_client" in fields and offender.dip_client:
        shown.append(Flag("DIP client", "yellow"))
    if "crasbo" in fields and offender.crasbo:
        shown.append(Flag("CRASBO", "orange"))
    if "mappa_level" in fields and offender.mappa_level:
        shown.append(Flag(offender.get_mappa_level_display() or "", "red"))
    if "date_of_birth" in fields and offender.age_on(as_of) < 18:
        shown.append(Flag("Under 18", "purple"))
    if "supervision" in fields and offender.supervision != "none":
        shown.append(Flag(f"Supervision: {offender.get_supervision_display()}", "grey"))
    return shown


GRADE_TAGS = {
    "red": Flag("IOM grade: Red", "red"),
    "amber": Flag("IOM grade: Amber", "orange"),
    "green": Flag("IOM grade: Green", "green"),
    "blue": Flag("IOM grade: Blue – custody", ""),  # the default tag colour is blue
}


# --- Searching ----------------------------------------------------------------------------

# Which fields a search looks in, and how: a viewer's search looks only in the fields they
# may see, so what it matches cannot reveal a hidden identifier or alias letter by letter.
SEARCHABLE: list[tuple[str, str, str]] = [
    ("first_name", "first_name__icontains", "name"),
    ("last_name", "last_name__icontains", "name"),
    ("aliases", "aliases__icontains", "other names"),
    ("pnc_id", "pnc_id__icontains", "PNC ID"),
    ("crn", "crn__iexact", "CRN"),
    ("prison_number", "prison_number__iexact", "prison number"),
    ("local_ref", "local_ref__iexact", "local reference"),
]


def search_q(words: Iterable[str], fields: Collection[str]) -> Q | None:
    """Every word must match one of the visible searchable fields; None if none is visible."""
    lookups = [lookup for name, lookup, _ in SEARCHABLE if name in fields]
    if not lookups:
        return None
    condition = Q()
    for word in words:
        either = Q()
        for lookup in lookups:
            either |= Q(**{lookup: word})
        condition &= either
    return condition


def search_label(fields: Collection[str]) -> str:
    """'Name, PNC ID, CRN or prison number', from what this viewer's search looks in."""
    parts: list[str] = []
    for name, _, label in SEARCHABLE:
        if name in fields and label not in parts:
            parts.append(label)
    if not parts:
        return "Search"
    text = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} or {parts[-1]}"
    return text[0].upper() + text[1:]


# --- Lists of people ------------------------------------------------------------------------

# Columns of the people list: (key, heading, the policy field it needs, of which record kind).
LIST_COLUMNS: list[tuple[str, str, str, str]] = [
    ("full_name", "Name", "full_name", "identity"),
    ("date_of_birth", "Date of birth", "date_of_birth", "identity"),
    ("pnc_id", "PNC ID", "pnc_id", "identity"),
    ("tier", "Tier", "tier", "identity"),
    ("status", "Status", "status", "identity"),
    # Custody yes or no, for a viewer who may not see the kind of custody (a partner).
    ("in_custody", "In custody", "in_custody", "custody"),
]


def list_columns(identity: Collection[str], custody: Collection[str]) -> list[tuple[str, str]]:
    fields = {"identity": identity, "custody": custody}
    columns = [(key, heading) for key, heading, name, kind in LIST_COLUMNS if name in fields[kind]]
    keys = {key for key, _ in columns}
    if "status" in keys:
        columns = [(k, h) for k, h in columns if k != "in_custody"]
    return columns
