"""Invoices: the numbered, taxed record of one paid purchase, and how its figures are worked out."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from payments.domain.errors import ConfigurationError
from payments.domain.money import Money

INVOICE_ID_PREFIX = "inv"
DEFAULT_SERIES = "INV"
SEQUENCE_DIGITS = 6
_SERIES = re.compile(r"[A-Z0-9]{1,12}")
_COUNTRY = re.compile(r"[A-Z]{2}")
_RATE = re.compile(r"[0-9]{1,2}(\.[0-9]{1,4})?")
_HUNDRED = Decimal(100)


class InvoiceStatus(StrEnum):
    """``paid`` when issued (every invoice is issued for a captured payment), ``void`` while its
    purchase is fully refunded. ``open`` (issued, awaiting payment) is not issued by this
    version: it is part of the contract for invoices billed before they are paid."""

    OPEN = "open"
    PAID = "paid"
    VOID = "void"


@dataclass(frozen=True, slots=True)
class InvoicePolicy:
    """How invoices are numbered and taxed: the number series, and the tax rate (a percentage)
    of each country, included in the catalog prices. A country without a rate pays no tax."""

    series: str = DEFAULT_SERIES
    tax_rates: Mapping[str, Decimal] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _SERIES.fullmatch(self.series):
            raise ConfigurationError("An invoice series is 1 to 12 capital letters or digits.")

    def tax_rate(self, country: str) -> Decimal:
        """The percentage of tax included in prices paid in ``country`` (0 without a rate)."""
        return self.tax_rates.get(country.upper(), Decimal(0))


def parse_tax_rates(text: str) -> dict[str, Decimal]:
    """``CO:19, MX:16`` as ``{"CO": Decimal("19"), "MX": Decimal("16")}``.

    Raises ``ConfigurationError`` for anything else: a rate is a percentage below 100 with at
    most four decimals, each country once.
    """
    rates: dict[str, Decimal] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        country, _, rate = (piece.strip() for piece in part.partition(":"))
        country = country.upper()
        if not _COUNTRY.fullmatch(country) or not _RATE.fullmatch(rate) or country in rates:
            raise ConfigurationError(
                "Tax rates look like 'AR:21, MX:16' (a two-letter country, a percentage below "
                "100), each country once."
            )
        rates[country] = Decimal(rate)
    return rates


def invoice_number(series: str, year: int, sequence: int) -> str:
    """``INV-2026-000001``: the series, the year of issue and the sequence within both."""
    return f"{series}-{year:04d}-{sequence:0{SEQUENCE_DIGITS}d}"


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One line: what was sold, how many, at what unit price (tax included) and the line total."""

    description: str
    quantity: int
    unit_price: Money
    total: Money


@dataclass(frozen=True, slots=True)
class InvoiceFigures:
    """An invoice's money: ``total`` (what was paid, tax included) = ``subtotal`` + ``tax``."""

    subtotal: Money
    tax: Money
    total: Money


def included_tax(total: Money, rate: Decimal) -> InvoiceFigures:
    """Split a tax-inclusive ``total`` at ``rate`` percent into subtotal and tax.

    The tax is ``total * rate / (100 + rate)`` rounded half-even to the currency's minor unit
    (0 decimals for JPY and CLP, 2 for COP and EUR); the subtotal is what remains, so the two
    always add up to the total exactly.
    """
    if not rate.is_finite() or not 0 <= rate < _HUNDRED:
        raise ValueError(f"{rate} is not a tax rate.")
    # Multiply first: total * rate is exact, and the one division is exact wherever a tie is
    # (3 JPY at 20 % is 0.5 exactly, rounded to 0), never a rounded share that misses the tie.
    tax = (total * rate / (_HUNDRED + rate)).quantize(ROUND_HALF_EVEN)
    return InvoiceFigures(subtotal=total - tax, tax=tax, total=total)


@dataclass
class Invoice:
    """The invoice of one paid purchase. It is issued unnumbered with the completion and numbered
    once, soon after (``numbered``), in its series and year of issue; the number never changes
    then, and only its status follows the purchase's refunds."""

    id: str
    number: str | None
    series: str
    year: int
    sequence: int | None
    purchase_id: str
    customer_id: str
    country: str
    status: InvoiceStatus
    lines: list[InvoiceLine]
    tax_rate: Decimal
    figures: InvoiceFigures
    issued_at: datetime
    updated_at: datetime

    @property
    def currency(self) -> str:
        return self.figures.total.currency.code

    @classmethod
    def issue(
        cls,
        *,
        id: str,
        policy: InvoicePolicy,
        purchase_id: str,
        customer_id: str,
        country: str,
        description: str,
        paid: Money,
        now: datetime,
        sequence: int | None = None,
    ) -> Invoice:
        """The paid invoice in the policy's series and ``now``'s year, for one unit of
        ``description`` bought at ``paid`` (tax included); numbered ``sequence`` if given,
        otherwise unnumbered until ``numbered``."""
        rate = policy.tax_rate(country)
        invoice = cls(
            id=id,
            number=None,
            series=policy.series,
            year=now.year,
            sequence=None,
            purchase_id=purchase_id,
            customer_id=customer_id,
            country=country,
            status=InvoiceStatus.PAID,
            lines=[InvoiceLine(description, 1, paid, paid)],
            tax_rate=rate,
            figures=included_tax(paid, rate),
            issued_at=now,
            updated_at=now,
        )
        if sequence is not None:
            invoice.numbered(sequence)
        return invoice

    def numbered(self, sequence: int) -> None:
        """Give the invoice its number, ``sequence`` in its series and year; once only."""
        if self.sequence is not None:
            raise ValueError(f"Invoice {self.id} is already numbered {self.number}.")
        self.sequence = sequence
        self.number = invoice_number(self.series, self.year, sequence)

    def follow_refunds(self, fully_refunded: bool, now: datetime) -> bool:
        """Void the invoice while its purchase is fully refunded, and make it paid again if a
        refund that voided it failed; True when the status changed."""
        wanted = InvoiceStatus.VOID if fully_refunded else InvoiceStatus.PAID
        if self.status is wanted:
            return False
        self.status = wanted
        self.updated_at = now
        return True
