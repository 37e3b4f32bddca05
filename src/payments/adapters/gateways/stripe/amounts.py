"""Stripe's amount codec: Money to and from its integer ``amount``, and the steps it charges in."""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from payments.domain.currency import get_currency
from payments.domain.errors import InvalidAmountError, UnknownCurrencyError
from payments.domain.money import Money

__all__ = [
    "THREE_DECIMAL_CURRENCIES",
    "ZERO_DECIMAL_CURRENCIES",
    "from_stripe_amount",
    "stripe_amount_steps",
    "to_stripe_amount",
]

# https://docs.stripe.com/currencies: amounts in these are whole units, never multiplied by 100,
# whatever ISO 4217 says (MGA has two ISO decimals but is zero-decimal at Stripe).
ZERO_DECIMAL_CURRENCIES: Final = frozenset(
    {
        "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA",
        "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF",
    }
)  # fmt: skip
# Three-decimal currencies: the API takes 3 decimals but the last digit must be 0.
THREE_DECIMAL_CURRENCIES: Final = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})
# ISK is zero-decimal in ISO 4217 but two-decimal in Stripe's API, in whole krónur only.
_TWO_DECIMAL_WHOLE_UNITS: Final = frozenset({"ISK"})


def _wire_decimals(code: str, exponent: int) -> int:
    """How many decimals Stripe's integer amount carries for this currency."""
    if code in ZERO_DECIMAL_CURRENCIES:
        return 0
    if code in _TWO_DECIMAL_WHOLE_UNITS:
        return 2
    return exponent


def _scaled_integer(amount: Decimal, places: int) -> int | None:
    """``amount * 10**places`` exactly, or None when that is not a whole number (no rounding)."""
    sign, digits, exponent = amount.as_tuple()
    if not isinstance(exponent, int):
        return None
    number = int("".join(map(str, digits)) or "0")
    shift = exponent + places
    scaled: int
    if shift >= 0:
        scaled = number * 10**shift
    else:
        divisor = 10**-shift
        if number % divisor:
            return None
        scaled = number // divisor
    return -scaled if sign else scaled


def to_stripe_amount(money: Money) -> int:
    """The integer Stripe puts in ``amount`` for ``money`` (19.99 EUR -> 1999, 500 JPY -> 500).

    Never rounds: money with more precision than Stripe takes for its currency raises
    ``InvalidAmountError``: the zero-decimal list is sent in whole units, BHD JOD KWD OMR TND with
    three decimals whose last digit must be 0 (5.124 KWD is refused, 5.120 -> 5120), ISK with two
    decimals in whole krónur (ISK 500 -> 50000), every other currency by its ISO 4217 exponent.
    """
    code = money.currency.code
    if not money.is_exact:
        raise InvalidAmountError(f"{money} has more decimals than {code} allows.")
    units = _scaled_integer(money.amount, _wire_decimals(code, money.currency.exponent))
    if units is None:
        raise InvalidAmountError(f"Stripe takes {code} in whole units only, not {money}.")
    if code in THREE_DECIMAL_CURRENCIES and units % 10:
        raise InvalidAmountError(
            f"Stripe needs the last of the three {code} decimals to be 0; {money} must be "
            "rounded to a multiple of 0.010 first."
        )
    if code in _TWO_DECIMAL_WHOLE_UNITS and units % 100:
        raise InvalidAmountError(f"Stripe takes {code} in whole units only, not {money}.")
    return units


def stripe_amount_steps() -> dict[str, int]:
    """Per currency, the multiple of ISO 4217 minor units Stripe can charge, where it is not 1.

    BHD JOD KWD OMR TND: 10 (the last of three decimals must be 0). A zero-decimal currency
    that ISO 4217 gives decimals (MGA) is charged in whole units: 10 to the ISO exponent. This is
    what ``GatewayCapabilities.amount_steps`` declares so that routing skips Stripe for such an
    amount before any I/O; ``to_stripe_amount`` refuses the same amounts as a last defence.
    """
    steps = dict.fromkeys(THREE_DECIMAL_CURRENCIES, 10)
    for code in ZERO_DECIMAL_CURRENCIES:
        try:
            exponent = get_currency(code).exponent
        except UnknownCurrencyError:  # on Stripe's list but not (or no longer) in ISO 4217
            continue
        if exponent:
            steps[code] = 10**exponent
    return steps


def from_stripe_amount(units: int, currency_code: str) -> Money:
    """The money a Stripe ``amount`` and ``currency`` (either case) stand for; the exact inverse
    of ``to_stripe_amount``. Raises ``UnknownCurrencyError`` for a currency we do not know."""
    if isinstance(units, bool) or not isinstance(units, int):
        raise TypeError(f"A Stripe amount is an int, not {type(units).__name__}.")
    if not isinstance(currency_code, str):
        raise UnknownCurrencyError("A Stripe currency is a three-letter code.")
    currency = get_currency(currency_code.upper())
    places = _wire_decimals(currency.code, currency.exponent)
    # "1999E-2" is exactly 19.99 with two places, whatever the context's precision.
    return Money(Decimal(f"{units}E-{places}"), currency)
