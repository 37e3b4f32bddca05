"""PayU's amount text: what ``TX_VALUE.value`` and the signature carry, and the notified value."""

from __future__ import annotations

import re
from typing import Final

from payments.adapters.gateways.payu.settings import ACCEPTED_CURRENCIES
from payments.adapters.wire.chargeable import require_chargeable
from payments.domain.errors import InvalidAmountError
from payments.domain.money import Money

__all__ = ["WHOLE_UNIT_CURRENCIES", "from_payu_value", "payu_amount_steps", "to_payu_amount"]

WHOLE_UNIT_CURRENCIES: Final = frozenset({"COP"})
"""Currencies PayU's Payments API takes in whole units only: for Colombia ``TX_VALUE.value``
"cannot include decimals" (reference §2.3 and §5: COP 10.000,00 is sent as ``10000``)."""

_VALUE_TEXT: Final = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,2})?")
"""A PayU ``value``: digits with at most two decimals (the field is ``14,2``, reference §2.6)."""


def to_payu_amount(money: Money) -> str:
    """The text PayU is sent for ``money``, in major units; the request signature must sign this
    very text, and the JSON body carry it as its number (reference §2.5a: ``65000`` and
    ``65000.00`` sign differently).

    A whole amount is written without decimals (COP 65000.00 -> ``65000``, USD 3 -> ``3``, as in
    the docs' signature examples, §6); a fractional one with the currency's decimals
    (USD 150.25 -> ``150.25``). COP must be whole pesos (§2.3, §5). Never rounds: an amount with
    more precision than the currency, a fractional COP amount or an amount that is not positive
    raises ``InvalidAmountError``; a currency PayU does not take, ``UnsupportedByGatewayError``.
    """
    require_chargeable(money, provider="PayU", currencies=ACCEPTED_CURRENCIES)
    code = money.currency.code
    whole = money.amount.to_integral_value()
    if money.amount == whole:
        return str(int(whole))
    if code in WHOLE_UNIT_CURRENCIES:
        raise InvalidAmountError(f"PayU takes {code} in whole units only, not {money}.")
    return money.format_amount()


def payu_amount_steps() -> dict[str, int]:
    """Per currency, the multiple of minor units PayU can charge where it is not 1: COP in
    whole pesos (100 centavos). For ``GatewayCapabilities.amount_steps``, so that routing skips
    PayU for such an amount before any I/O; ``to_payu_amount`` refuses the same amounts."""
    return dict.fromkeys(WHOLE_UNIT_CURRENCIES, 100)


def from_payu_value(value: str, currency: str) -> Money:
    """The money of a confirmation's ``value`` and ``currency`` (``100.00``, ``COP``).

    The text must be plain digits with at most two decimals; anything else (a sign, an exponent,
    a thousands separator) raises ``InvalidAmountError``, an unknown currency
    ``UnknownCurrencyError``. The value is read as text, never as a float.
    """
    if not isinstance(value, str) or _VALUE_TEXT.fullmatch(value) is None:
        raise InvalidAmountError(f"{value!r} is not a PayU value.")
    if not isinstance(currency, str):
        raise InvalidAmountError("A PayU currency is a three-letter code.")
    return Money(value, currency.upper())
