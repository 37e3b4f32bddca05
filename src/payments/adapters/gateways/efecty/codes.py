"""Voucher codes and barcode data: unpredictable (``secrets``), with a GS1 mod-10 check digit.

A code is the prefix, a dash and 14 random decimal digits (``EFY-48210937552106``): about 46.5
bits drawn from the operating system's CSPRNG, so a code cannot be guessed from another one
(the old system built it from the order id, old-systems.md §B.3). The database's unique index
on the code is the authority on uniqueness; a collision is drawn again.

The barcode data is numeric, for a Code 128 or ITF symbol on the printed voucher: the 14 random
digits, the amount in whole pesos on 10 digits, and a check digit computed as GS1 specifies for
GTIN, SSCC and the other GS1 keys ("mod 10"): from the rightmost digit leftwards, the digits
are weighted 3, 1, 3, 1, ...; the check digit is what brings the weighted sum up to a multiple
of 10. It catches every single-digit error and most swaps of adjacent digits at the counter.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Final

from payments.domain.money import Money

__all__ = ["RANDOM_DIGITS", "barcode_data", "gs1_check_digit", "has_valid_check_digit", "new_code"]

RANDOM_DIGITS: Final = 14
AMOUNT_DIGITS: Final = 10


def new_code(prefix: str, randbelow: Callable[[int], int] = secrets.randbelow) -> str:
    """A fresh voucher code: ``{prefix}-`` and 14 random digits."""
    return f"{prefix}-{randbelow(10**RANDOM_DIGITS):0{RANDOM_DIGITS}d}"


def gs1_check_digit(digits: str) -> int:
    """The GS1 mod-10 check digit of ``digits`` (the data without its check digit).

    ``ValueError`` for an empty string or anything but ASCII digits.
    """
    if not digits or not (digits.isascii() and digits.isdigit()):
        raise ValueError("GS1 check digits are computed over ASCII digits only.")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def has_valid_check_digit(data: str) -> bool:
    """Whether the last digit of ``data`` is the GS1 check digit of the digits before it."""
    if len(data) < 2 or not (data.isascii() and data.isdigit()):
        return False
    return gs1_check_digit(data[:-1]) == int(data[-1])


def barcode_data(code: str, amount: Money) -> str:
    """The voucher's barcode data: its random digits, the whole pesos on 10 digits and the
    GS1 check digit (25 digits)."""
    random_part = code.rpartition("-")[2]
    pesos = amount.to_minor_units() // 10**amount.currency.exponent
    payload = f"{random_part}{pesos:0{AMOUNT_DIGITS}d}"
    return payload + str(gs1_check_digit(payload))
