"""Voucher codes are unpredictable and unique; barcode data ends in a GS1 mod-10 check digit."""

from __future__ import annotations

import re

import pytest

from payments.adapters.gateways.efecty import (
    barcode_data,
    gs1_check_digit,
    has_valid_check_digit,
    new_code,
)
from payments.domain.money import Money

# Published GS1 keys with their check digits (the GTIN-13 of Wikipedia's EAN-13 article, a
# UPC-A GTIN-12, a GTIN-8, and the SSCC of GS1's check digit calculator page).
GS1_VECTORS = [
    ("400638133393", 1),  # EAN-13 4006381333931
    ("03600029145", 2),  # UPC-A 036000291452
    ("9638507", 4),  # EAN-8 96385074
    ("37610425002123456", 9),  # SSCC 376104250021234569
    ("0", 0),
    ("1", 7),
]


@pytest.mark.parametrize(("digits", "check"), GS1_VECTORS)
def test_gs1_check_digit_matches_published_keys(digits: str, check: int) -> None:
    assert gs1_check_digit(digits) == check
    assert has_valid_check_digit(digits + str(check))
    assert not has_valid_check_digit(digits + str((check + 1) % 10))


@pytest.mark.parametrize("bad", ["", "12a4", "\uff11\uff12\uff13", "12 3"])
def test_gs1_check_digit_is_computed_over_ascii_digits_only(bad: str) -> None:
    with pytest.raises(ValueError, match="ASCII digits"):
        gs1_check_digit(bad)
    assert not has_valid_check_digit(bad + "0")


def test_every_single_digit_error_breaks_the_check_digit() -> None:
    data = barcode_data("EFY-48210937552106", Money("50000", "COP"))
    for position in range(len(data)):
        for digit in "0123456789":
            if digit != data[position]:
                typo = data[:position] + digit + data[position + 1 :]
                assert not has_valid_check_digit(typo)


def test_ten_thousand_codes_do_not_repeat_and_follow_the_documented_shape() -> None:
    codes = [new_code("EFY") for _ in range(10_000)]
    assert len(set(codes)) == 10_000
    assert all(re.fullmatch(r"EFY-[0-9]{14}", code) for code in codes)


def test_codes_come_from_the_random_source_they_are_given() -> None:
    assert new_code("MST", lambda _limit: 42) == "MST-00000000000042"


def test_barcode_data_is_the_random_digits_the_whole_pesos_and_the_check_digit() -> None:
    data = barcode_data("EFY-48210937552106", Money("50000.00", "COP"))
    assert data[:14] == "48210937552106"
    assert data[14:24] == "0000050000"
    assert len(data) == 25
    assert has_valid_check_digit(data)
