"""Settlement files of a cash network (Efecty): one paid voucher per CSV row, read strictly.

The file is UTF-8 CSV with a header row naming exactly the columns ``code, amount, currency,
receipt_number, paid_at`` (in any order); every other row is one payment:

- ``code``: the voucher code as issued (``EFY-...``);
- ``amount``: the amount paid, a plain decimal (``50000`` or ``50000.00``);
- ``currency``: ISO 4217 (``COP``);
- ``receipt_number``: the network's receipt for that payment, 1 to 64 printable characters;
- ``paid_at``: when it was paid, ISO 8601 with a UTC offset (``2026-12-06T14:03:00-05:00``).

A file with any malformed row is refused whole, naming the lines: nothing of it is applied.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from payments.domain.cash_voucher import MAX_RECEIPT_LENGTH
from payments.domain.errors import FieldError, PaymentsError, ValidationError
from payments.domain.money import Money

__all__ = ["COLUMNS", "MAX_ROWS", "SettlementRow", "parse_settlement"]

COLUMNS: Final = ("code", "amount", "currency", "receipt_number", "paid_at")
MAX_ROWS: Final = 10_000
"""Rows one file may hold; a larger settlement is split into several files."""
MAX_ERRORS: Final = 20
"""Malformed lines named in one refusal."""
_PLAIN_DECIMAL: Final = re.compile(r"[0-9]{1,14}(?:\.[0-9]{1,6})?")
_CODE: Final = re.compile(r"[A-Z0-9-]{4,64}")


@dataclass(frozen=True, slots=True)
class SettlementRow:
    """One payment of a settlement file, with its line number (the header is line 1)."""

    line: int
    code: str
    amount: Money
    receipt_number: str
    paid_at: datetime


def parse_settlement(text: str) -> list[SettlementRow]:
    """The rows of a settlement file; ``ValidationError`` naming the header or each malformed
    line (``line 3: amount ...``) refuses the whole file."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None or sorted(name.strip().lower() for name in header) != sorted(COLUMNS):
            raise ValidationError(
                "The settlement file's header is not the documented one.",
                errors=[FieldError("line 1", "must name the columns " + ", ".join(COLUMNS))],
            )
        positions = {name.strip().lower(): index for index, name in enumerate(header)}
        rows: list[SettlementRow] = []
        errors: list[FieldError] = []
        for fields in reader:
            line = reader.line_num
            if not fields or all(not value.strip() for value in fields):
                continue
            if len(rows) + len(errors) >= MAX_ROWS:
                raise ValidationError(
                    f"A settlement file holds at most {MAX_ROWS} rows: split it.",
                    errors=[FieldError(f"line {line}", "one row too many")],
                )
            try:
                rows.append(_row(line, fields, positions))
            except _RowError as error:
                errors.append(FieldError(f"line {line}", str(error)))
    except csv.Error as error:
        raise ValidationError(
            "The settlement file is not valid CSV.",
            errors=[FieldError(f"line {reader.line_num}", str(error))],
        ) from error
    if errors:
        raise ValidationError(
            f"The settlement file has {len(errors)} malformed row(s); nothing was applied.",
            errors=errors[:MAX_ERRORS],
        )
    return rows


class _RowError(Exception):
    """What is wrong with one row (its message names the column)."""


def _row(line: int, fields: list[str], positions: dict[str, int]) -> SettlementRow:
    if len(fields) != len(positions):
        raise _RowError(f"has {len(fields)} columns, the header {len(positions)}")
    value = {name: fields[index].strip() for name, index in positions.items()}
    code = value["code"].upper()
    if not _CODE.fullmatch(code):
        raise _RowError("code must be a voucher code such as EFY-12345678901234")
    if not _PLAIN_DECIMAL.fullmatch(value["amount"]):
        raise _RowError("amount must be a plain decimal such as 50000.00")
    try:
        amount = Money(value["amount"], value["currency"].upper())
    except PaymentsError as error:
        raise _RowError(f"currency: {error.message}") from None
    receipt = value["receipt_number"]
    if not (1 <= len(receipt) <= MAX_RECEIPT_LENGTH and receipt.isprintable()):
        raise _RowError(f"receipt_number must be 1 to {MAX_RECEIPT_LENGTH} printable characters")
    try:
        paid_at = datetime.fromisoformat(value["paid_at"])
    except ValueError:
        paid_at = None
    if paid_at is None or paid_at.utcoffset() is None:
        raise _RowError("paid_at must be ISO 8601 with a UTC offset: 2026-12-06T14:03:00-05:00")
    return SettlementRow(line, code, amount, receipt, paid_at)
