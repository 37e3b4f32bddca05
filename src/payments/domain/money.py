"""Money: an exact Decimal amount in one ISO 4217 currency, with safe arithmetic and allocation."""

from __future__ import annotations

import decimal
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import (
    MAX_EMAX,
    MAX_PREC,
    MIN_EMIN,
    ROUND_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DecimalException,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
)
from fractions import Fraction
from typing import TYPE_CHECKING, Final

from payments.domain.currency import Currency, get_currency
from payments.domain.errors import CurrencyMismatchError, InvalidAmountError, UnknownCurrencyError

__all__ = ["Money"]

# A plain decimal number in ASCII: optional sign, digits with an optional point, optional exponent.
# No underscores, no non-ASCII digits, no NaN or Infinity (all of which Decimal() would accept).
_AMOUNT_TEXT: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")

# Bounds that keep every operation cheap (a text such as "1e-999999999" must not make
# formatting or arithmetic build a billion digits): at most this many decimal places, and
# an absolute value below 10**(_MAX_MAGNITUDE + 1).
_MAX_DECIMAL_PLACES: Final = 100
_MAX_MAGNITUDE: Final = 100

# Significant digits kept by division, whose result is generally not a finite decimal.
_DIVISION_PRECISION: Final = 34

# The rounding modes ``quantize`` accepts: every one the decimal module defines.
_ROUNDINGS: Final[frozenset[str]] = frozenset(
    getattr(decimal, name) for name in dir(decimal) if name.startswith("ROUND_")
)


def _exact_context(*, allow_rounding: bool = False) -> Context:
    """A fresh context with the maximal precision, so adding, multiplying and scaling are exact.

    ``allow_rounding`` is for an explicit quantize; otherwise a result that would need rounding
    raises ``decimal.Inexact`` rather than being rounded silently.
    """
    traps: list[type[DecimalException]] = [InvalidOperation, DivisionByZero, Overflow]
    if not allow_rounding:
        traps.append(Inexact)
    return Context(
        prec=MAX_PREC, rounding=ROUND_HALF_EVEN, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=traps
    )


# The contexts of exact arithmetic, made once: an operation reads their precision and traps
# (and only sets flags, which nothing reads), so every call may share them.
_EXACT: Final = _exact_context()
_EXACT_ROUNDING: Final = _exact_context(allow_rounding=True)


_QUANTA: Final = tuple(Decimal(1).scaleb(-exponent) for exponent in range(5))
"""One minor unit for each currency exponent (0 to 4, as ``Currency`` allows)."""


@functools.cache
def _division_context(digits: int) -> Context:
    """The context for division, rounding half-even to ``digits`` significant digits (made
    once per ``digits``: shared as ``_EXACT`` is)."""
    return Context(
        prec=digits,
        rounding=ROUND_HALF_EVEN,
        Emax=MAX_EMAX,
        Emin=MIN_EMIN,
        traps=[InvalidOperation, DivisionByZero, Overflow],
    )


def _in_range(value: Decimal) -> bool:
    """Whether a finite Decimal is within the supported number of decimals and magnitude."""
    exponent = value.as_tuple().exponent
    return (
        isinstance(exponent, int)
        and exponent >= -_MAX_DECIMAL_PLACES
        and value.adjusted() <= _MAX_MAGNITUDE
    )


def _parse_text(text: str) -> Decimal:
    """The Decimal written in ``text`` (surrounding whitespace ignored); else InvalidAmountError."""
    stripped = text.strip()
    if _AMOUNT_TEXT.fullmatch(stripped) is None:
        raise InvalidAmountError(f"{text!r} is not a decimal amount.")
    try:
        return Decimal(stripped)
    except (InvalidOperation, ValueError, OverflowError) as exc:
        raise InvalidAmountError(f"{text!r} is not a decimal amount.") from exc


def _to_amount(value: object) -> Decimal:
    """A finite, in-range Decimal from a Decimal, int or str; floats and bools are refused."""
    if value.__class__ is Decimal:  # the usual case, at once
        amount: Decimal = value
    elif isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise TypeError(
            f"A money amount is a Decimal, int or str, not {type(value).__name__} "
            "(floats are never converted)."
        )
    elif isinstance(value, str):
        amount = _parse_text(value)
    elif isinstance(value, int):
        amount = Decimal(value)
    else:
        amount = value
    if not amount.is_finite():
        raise InvalidAmountError(f"A money amount must be finite, not {amount}.")
    if not _in_range(amount):
        raise InvalidAmountError(
            f"A money amount must have at most {_MAX_DECIMAL_PLACES} decimals and at most "
            f"{_MAX_MAGNITUDE + 1} integer digits."
        )
    return amount


def _to_currency(value: object) -> Currency:
    """The Currency itself, or the active currency with that code."""
    if isinstance(value, Currency):
        return value
    if isinstance(value, str):
        return get_currency(value)
    raise TypeError(f"A money currency is a Currency or a code, not {type(value).__name__}.")


def _to_factor(value: int | Decimal, role: str) -> Decimal | None:
    """The Decimal of an int or Decimal operand, None for any other type (floats included)."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return None
    factor = Decimal(value) if isinstance(value, int) else value
    if not factor.is_finite():
        raise InvalidAmountError(f"A {role} must be finite, not {factor}.")
    return factor


def _to_ratio(value: int | Decimal) -> Fraction:
    """The exact Fraction of a non-negative int or Decimal allocation ratio."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise TypeError(f"A ratio is an int or Decimal, not {type(value).__name__}.")
    if isinstance(value, Decimal) and not (value.is_finite() and _in_range(value)):
        raise ValueError(f"A ratio must be a finite, reasonably sized number, not {value}.")
    if value < 0:
        raise ValueError(f"A ratio must not be negative, not {value}.")
    return Fraction(value)


@dataclass(frozen=True, slots=True)
class Money:
    """An immutable amount of one currency; equal amounts of a currency are equal and hash alike.

    The amount is kept exactly as given (it may hold more decimals than the currency has, as an
    intermediate result); ``quantize`` rounds it to the currency, ``is_exact`` tells if it fits.
    """

    amount: Decimal
    currency: Currency

    if TYPE_CHECKING:

        def __init__(self, amount: Decimal | int | str, currency: Currency | str) -> None:
            """Money from a Decimal, int or decimal string and a Currency or currency code."""

    def __post_init__(self) -> None:
        """Normalize the amount to a finite Decimal and the currency to a Currency, or raise."""
        object.__setattr__(self, "amount", _to_amount(self.amount))
        object.__setattr__(self, "currency", _to_currency(self.currency))

    # -- construction ------------------------------------------------------------------------

    @classmethod
    def zero(cls, currency: Currency | str) -> Money:
        """No money in ``currency``, written with the currency's decimals (``0.00 EUR``)."""
        return cls.from_minor_units(0, currency)

    @classmethod
    def from_minor_units(cls, units: int, currency: Currency | str) -> Money:
        """The money worth exactly ``units`` minor units of ``currency`` (1999 EUR -> 19.99)."""
        if isinstance(units, bool) or not isinstance(units, int):
            raise TypeError(f"Minor units are an int, not {type(units).__name__}.")
        resolved = _to_currency(currency)
        amount = Decimal(units).scaleb(-resolved.exponent, context=_EXACT)
        if cls is Money and _in_range(amount):  # finite and a Currency: nothing to check
            return _made(amount, resolved)
        return cls(amount, resolved)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Money:
        """Money from ``{"amount": "79.99", "currency": "EUR"}`` read from input; floats refused."""
        if not isinstance(data, Mapping):
            raise InvalidAmountError("Money must be an object with an amount and a currency.")
        if "amount" not in data:
            raise InvalidAmountError("The money amount is missing.")
        amount = data["amount"]
        if isinstance(amount, bool) or not isinstance(amount, str | int | Decimal):
            raise InvalidAmountError(
                f"The money amount must be a decimal string, not {type(amount).__name__}."
            )
        currency = data.get("currency")
        if not isinstance(currency, str):
            raise UnknownCurrencyError("The money currency must be an ISO 4217 code string.")
        return cls(amount, currency)

    # -- arithmetic --------------------------------------------------------------------------

    def _require_same_currency(self, other: Money, operation: str) -> None:
        """Raise CurrencyMismatchError unless ``other`` is in this money's currency."""
        if other.currency is not self.currency and other.currency != self.currency:
            raise CurrencyMismatchError(
                f"Cannot {operation} {self.currency.code} and {other.currency.code}."
            )

    def __add__(self, other: Money) -> Money:
        """The exact sum of two amounts of the same currency."""
        if not isinstance(other, Money):
            return NotImplemented
        self._require_same_currency(other, "add")
        return _bounded(_EXACT.add(self.amount, other.amount), self.currency)

    def __sub__(self, other: Money) -> Money:
        """The exact difference of two amounts of the same currency."""
        if not isinstance(other, Money):
            return NotImplemented
        self._require_same_currency(other, "subtract")
        return _bounded(_EXACT.subtract(self.amount, other.amount), self.currency)

    def __neg__(self) -> Money:
        """The same amount with the opposite sign."""
        return _made(self.amount.copy_negate(), self.currency)

    def __abs__(self) -> Money:
        """The same amount without its sign."""
        return _made(self.amount.copy_abs(), self.currency)

    def __mul__(self, factor: int | Decimal) -> Money:
        """The exact product by an int or Decimal (never a float, never Money)."""
        value = _to_factor(factor, "factor")
        if value is None:
            return NotImplemented
        return Money(_EXACT.multiply(self.amount, value), self.currency)

    def __rmul__(self, factor: int | Decimal) -> Money:
        """The exact product by an int or Decimal, written factor first."""
        return self.__mul__(factor)

    def __truediv__(self, divisor: int | Decimal) -> Money:
        """The quotient by a non-zero int or Decimal, to at least 34 significant digits."""
        value = _to_factor(divisor, "divisor")
        if value is None:
            return NotImplemented
        if value == 0:
            raise ZeroDivisionError("Cannot divide money by zero.")
        digits = max(_DIVISION_PRECISION, len(self.amount.as_tuple().digits))
        return Money(_division_context(digits).divide(self.amount, value), self.currency)

    # -- comparison --------------------------------------------------------------------------

    def __hash__(self) -> int:
        """A hash of the amount's value and the currency code, so equal money hashes alike."""
        return hash((self.amount, self.currency.code))

    def __lt__(self, other: Money) -> bool:
        """Whether this amount is smaller; both must be in the same currency."""
        if not isinstance(other, Money):
            return NotImplemented
        self._require_same_currency(other, "compare")
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        """Whether this amount is smaller or equal; both must be in the same currency."""
        if not isinstance(other, Money):
            return NotImplemented
        self._require_same_currency(other, "compare")
        return self.amount <= other.amount

    def __gt__(self, other: Money) -> bool:
        """Whether this amount is larger; both must be in the same currency."""
        if not isinstance(other, Money):
            return NotImplemented
        self._require_same_currency(other, "compare")
        return self.amount > other.amount

    def __ge__(self, other: Money) -> bool:
        """Whether this amount is larger or equal; both must be in the same currency."""
        if not isinstance(other, Money):
            return NotImplemented
        self._require_same_currency(other, "compare")
        return self.amount >= other.amount

    @property
    def is_zero(self) -> bool:
        """Whether the amount is zero."""
        return self.amount.is_zero()

    @property
    def is_positive(self) -> bool:
        """Whether the amount is greater than zero."""
        return self.amount > 0

    @property
    def is_negative(self) -> bool:
        """Whether the amount is less than zero."""
        return self.amount < 0

    # -- minor units and rounding -----------------------------------------------------------

    def _quantum(self) -> Decimal:
        """One minor unit of the currency as a Decimal exponent (``0.01`` for EUR)."""
        return _QUANTA[self.currency.exponent]

    def _exact_minor_units(self) -> int | None:
        """The amount in minor units when it is a whole number of them, else None."""
        scaled = self.amount.scaleb(self.currency.exponent, context=_EXACT)
        whole = scaled.to_integral_value(rounding=ROUND_DOWN)
        return int(whole) if whole == scaled else None

    @property
    def is_exact(self) -> bool:
        """Whether the amount has no precision beyond the currency's minor unit."""
        return self._exact_minor_units() is not None

    def to_minor_units(self) -> int:
        """The exact whole number of minor units (19.99 EUR -> 1999); InvalidAmountError if none."""
        units = self._exact_minor_units()
        if units is None:
            raise InvalidAmountError(
                f"{self} has more decimals than {self.currency.code} allows; quantize it first."
            )
        return units

    def quantize(self, rounding: str = ROUND_HALF_UP) -> Money:
        """The amount rounded to the currency's minor unit with ``rounding``, half up by default."""
        if rounding not in _ROUNDINGS:
            raise ValueError(f"{rounding!r} is not a decimal rounding mode.")
        amount = self.amount.quantize(self._quantum(), rounding=rounding, context=_EXACT_ROUNDING)
        return _bounded(amount, self.currency)

    # -- allocation --------------------------------------------------------------------------

    def allocate(self, ratios: Sequence[int | Decimal]) -> list[Money]:
        """Parts in proportion to ``ratios`` that sum exactly to this money, to the minor unit.

        The money must be exact; ratios must be non-negative with a positive sum. Minor units left
        after flooring each share go one at a time to the largest remainders (earlier index on a
        tie). A negative amount is allocated by its absolute value and every part negated.
        """
        weights = [_to_ratio(ratio) for ratio in ratios]
        total_weight = sum(weights, Fraction(0))
        if total_weight <= 0:
            raise ValueError("Ratios must have a positive sum.")
        units = self.to_minor_units()
        magnitude = abs(units)
        parts: list[int] = []
        remainders: list[Fraction] = []
        for weight in weights:
            share = magnitude * weight / total_weight
            whole = share.numerator // share.denominator
            parts.append(whole)
            remainders.append(share - whole)
        leftover = magnitude - sum(parts)
        by_remainder = sorted(range(len(parts)), key=lambda index: (-remainders[index], index))
        for index in by_remainder[:leftover]:
            parts[index] += 1
        sign = -1 if units < 0 else 1
        return [Money.from_minor_units(sign * part, self.currency) for part in parts]

    def split(self, n: int) -> list[Money]:
        """``n`` parts as equal as possible that sum exactly to this money, larger parts first."""
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"The number of parts is an int, not {type(n).__name__}.")
        if n < 1:
            raise ValueError(f"Cannot split money into {n} parts.")
        return self.allocate([1] * n)

    # -- representation ----------------------------------------------------------------------

    def format_amount(self) -> str:
        """The amount as plain digits: the currency's decimals when exact, else full precision."""
        amount = self.amount
        if self.is_exact:
            amount = amount.quantize(self._quantum(), context=_EXACT)
        text = format(amount, "f")
        if amount.is_zero() and text.startswith("-"):
            return text[1:]
        return text

    def to_dict(self) -> dict[str, str]:
        """The JSON-ready form ``{"amount": "79.99", "currency": "EUR"}``."""
        return {"amount": self.format_amount(), "currency": self.currency.code}

    def __str__(self) -> str:
        """The amount and currency code, as ``79.99 EUR``."""
        return f"{self.format_amount()} {self.currency.code}"

    def __repr__(self) -> str:
        """The constructor call that rebuilds this money, as ``Money('79.99', 'EUR')``."""
        return f"Money({self.format_amount()!r}, {self.currency.code!r})"


def _made(amount: Decimal, currency: Currency) -> Money:
    """Money of an amount and currency known valid already (the result of exact arithmetic on
    valid money, a sign change): built without ``__post_init__``'s checks."""
    money = object.__new__(Money)
    object.__setattr__(money, "amount", amount)
    object.__setattr__(money, "currency", currency)
    return money


def _bounded(amount: Decimal, currency: Currency) -> Money:
    """The money of a finite amount made from valid money whose exponent is in range by
    construction (an exact sum or difference: one of theirs; a quantize: the currency's): only
    its magnitude may have grown past the bound (then refused as ``Money()`` refuses it)."""
    if amount.adjusted() <= _MAX_MAGNITUDE:
        return _made(amount, currency)
    return Money(amount, currency)
