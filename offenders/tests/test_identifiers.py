"""Identifier formats and check characters (offenders/identifiers.py)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from offenders import identifiers


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        # (04 * 10^7 + 46583) mod 23 = 18 -> "U" in ZABCDEFGHJKLMNPQRTUVWXY
        ("2004/0046583U", "2004/0046583U"),
        ("04/46583U", "2004/0046583U"),
        (" 2004/46583u ", "2004/0046583U"),
        ("1999/0000001G", "1999/0000001G"),  # 990000001 mod 23 = 7 -> "G"
    ],
)
def test_pnc_ids_are_stored_in_the_long_form(typed: str, stored: str) -> None:
    assert identifiers.normalise_pnc(typed) == stored


def test_the_check_letter_is_year_and_padded_serial_mod_23() -> None:
    assert identifiers.pnc_check_letter(2004, 46583) == "U"
    assert 4_0046583 % 23 == 18 and identifiers.CHECK_LETTERS[18] == "U"
    assert (
        identifiers.format_pnc(2010, 7)
        == "2010/0000007" + identifiers.CHECK_LETTERS[100000007 % 23]
    )


@pytest.mark.parametrize("typed", ["2004/0046583A", "04/46583V"])
def test_a_wrong_check_letter_is_refused(typed: str) -> None:
    with pytest.raises(ValidationError) as error:
        identifiers.normalise_pnc(typed)
    assert error.value.code == "pnc_check"


@pytest.mark.parametrize(
    "typed", ["", "2004-0046583U", "2004/00465831U", "200/123U", "2004/12345", "ABCD/1234567U"]
)
def test_a_malformed_pnc_id_is_refused_with_the_expected_shape(typed: str) -> None:
    with pytest.raises(ValidationError) as error:
        identifiers.normalise_pnc(typed)
    assert error.value.code == "pnc_format"
    assert "2004/0046583U" in error.value.message


def test_cro_numbers() -> None:
    serial, year = 123456, "08"
    letter = identifiers.CHECK_LETTERS[int(f"{year}{serial:06d}") % 23]
    assert identifiers.normalise_cro(f"123456/08{letter}") == f"123456/08{letter}"
    wrong = identifiers.CHECK_LETTERS[(identifiers.CHECK_LETTERS.index(letter) + 1) % 23]
    with pytest.raises(ValidationError):
        identifiers.normalise_cro(f"123456/08{wrong}")
    with pytest.raises(ValidationError):
        identifiers.normalise_cro("12345608")


@pytest.mark.parametrize(
    ("typed", "ok"), [("a1234bc", "A1234BC"), ("A1234B", None), ("11234BC", None)]
)
def test_prison_numbers(typed: str, ok: str | None) -> None:
    if ok:
        assert identifiers.normalise_prison_number(typed) == ok
    else:
        with pytest.raises(ValidationError):
            identifiers.normalise_prison_number(typed)


@pytest.mark.parametrize(
    ("typed", "ok"), [("x123456", "X123456"), ("X12345", None), ("1234567", None)]
)
def test_probation_crns(typed: str, ok: str | None) -> None:
    if ok:
        assert identifiers.normalise_crn(typed) == ok
    else:
        with pytest.raises(ValidationError):
            identifiers.normalise_crn(typed)
