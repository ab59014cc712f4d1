"""Validation and normal forms of the identifiers partner systems use for a person.

PNC ID: year (2 or 4 digits), "/", serial (up to 7 digits), check letter. The
check letter is (two-digit year followed by the serial padded to 7 digits)
mod 23, looked up in the PNC alphabet, which leaves out I, O and S.
CRO number: serial (up to 6 digits), "/", two-digit year, check letter, with
the same alphabet over the year followed by the serial padded to 6 digits.
Prison number (NOMIS): a letter, four digits, two letters (A1234BC).
Probation CRN (nDelius): a letter and six digits (X123456).
"""

from __future__ import annotations

import datetime as dt
import re

from django.core.exceptions import ValidationError

CHECK_LETTERS = "ZABCDEFGHJKLMNPQRTUVWXY"

_PNC_RE = re.compile(r"^(?P<year>\d{2}|\d{4})/(?P<serial>\d{1,7})(?P<check>[A-Z])$")
_CRO_RE = re.compile(r"^(?P<serial>\d{1,6})/(?P<year>\d{2})(?P<check>[A-Z])$")
_PRISON_NUMBER_RE = re.compile(r"^[A-Z]\d{4}[A-Z]{2}$")
_CRN_RE = re.compile(r"^[A-Z]\d{6}$")


def _check_letter(digits: str) -> str:
    return CHECK_LETTERS[int(digits) % len(CHECK_LETTERS)]


def pnc_check_letter(year: int, serial: int) -> str:
    return _check_letter(f"{year % 100:02d}{serial:07d}")


def format_pnc(year: int, serial: int) -> str:
    """The long form, e.g. 2004/0046583U, as stored."""
    return f"{year:04d}/{serial:07d}{pnc_check_letter(year, serial)}"


def _full_year(two_digits: int, today: dt.date | None = None) -> int:
    today = today or dt.date.today()
    century = today.year // 100 * 100
    year = century + two_digits
    return year if year <= today.year else year - 100


def normalise_pnc(value: str) -> str:
    """Return the long form of a PNC ID, or raise ValidationError saying what is wrong."""
    text = value.strip().upper().replace(" ", "")
    match = _PNC_RE.match(text)
    if not match:
        raise ValidationError(
            "Enter a PNC ID as year, slash, serial number and check letter, like 2004/0046583U",
            code="pnc_format",
        )
    year_text, serial, check = match["year"], int(match["serial"]), match["check"]
    year = int(year_text) if len(year_text) == 4 else _full_year(int(year_text))
    expected = pnc_check_letter(year, serial)
    if check != expected:
        raise ValidationError(
            "The PNC ID's check letter does not match its number: check it was copied exactly",
            code="pnc_check",
        )
    return format_pnc(year, serial)


def normalise_cro(value: str) -> str:
    text = value.strip().upper().replace(" ", "")
    match = _CRO_RE.match(text)
    if not match:
        raise ValidationError(
            "Enter a CRO number as serial number, slash, two-digit year and check letter, "
            "like 123456/08H",
            code="cro_format",
        )
    serial, year = int(match["serial"]), match["year"]
    if match["check"] != _check_letter(f"{year}{serial:06d}"):
        raise ValidationError(
            "The CRO number's check letter does not match its number: check it was copied exactly",
            code="cro_check",
        )
    return f"{serial:06d}/{year}{match['check']}"


def normalise_prison_number(value: str) -> str:
    text = value.strip().upper()
    if not _PRISON_NUMBER_RE.match(text):
        raise ValidationError(
            "Enter a prison number as a letter, four digits and two letters, like A1234BC",
            code="prison_number_format",
        )
    return text


def normalise_crn(value: str) -> str:
    text = value.strip().upper()
    if not _CRN_RE.match(text):
        raise ValidationError(
            "Enter a probation CRN as a letter followed by six digits, like X123456",
            code="crn_format",
        )
    return text
