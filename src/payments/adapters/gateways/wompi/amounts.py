"""Wompi's ``amount_in_cents``: Money to and from the integer it is sent and notified as."""

from __future__ import annotations

from payments.adapters.gateways.wompi.settings import CURRENCIES
from payments.adapters.wire.chargeable import require_chargeable
from payments.domain.errors import InvalidAmountError
from payments.domain.money import Money

__all__ = ["from_amount_in_cents", "to_amount_in_cents", "wompi_amount_steps"]


def to_amount_in_cents(money: Money) -> int:
    """The ``amount_in_cents`` Wompi is sent for ``money``: COP in centavos, COP 50,000.00 ->
    ``5000000`` ("$95.000 COP -> 9500000", reference §5).

    Only COP (reference §3.3). Whole pesos only: whether Wompi accepts non-zero centavos is
    UNCONFIRMED (reference §5, §7), so they are refused here rather than risked at the
    provider. Never rounds. Raises ``UnsupportedByGatewayError`` for another currency and
    ``InvalidAmountError`` for an inexact, fractional or non-positive amount.
    """
    require_chargeable(money, provider="Wompi", currencies=CURRENCIES)
    cents = money.to_minor_units()
    if cents % 100:
        raise InvalidAmountError(f"Wompi is sent whole pesos only, not {money}.")
    return cents


def wompi_amount_steps() -> dict[str, int]:
    """Per currency, the multiple of minor units Wompi can charge: COP in whole pesos. For
    ``GatewayCapabilities.amount_steps``, so routing skips Wompi for such an amount before any
    I/O; ``to_amount_in_cents`` refuses the same amounts."""
    return dict.fromkeys(CURRENCIES, 100)


def from_amount_in_cents(cents: int, currency: str) -> Money:
    """The money an ``amount_in_cents`` and ``currency`` stand for (``4490000``, ``COP`` ->
    COP 44,900.00). The integer is read as is (a notified amount is checked, never refused for
    its centavos); ``TypeError`` for anything but an int, ``UnknownCurrencyError`` for an
    unknown currency."""
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError(f"amount_in_cents is an int, not {type(cents).__name__}.")
    if not isinstance(currency, str):
        raise TypeError(f"A Wompi currency is a code, not {type(currency).__name__}.")
    return Money.from_minor_units(cents, currency.upper())
