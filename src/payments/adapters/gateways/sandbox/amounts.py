"""The sandbox wire's money: ``{"amount": "79.99", "currency": "EUR"}``, the amount a string."""

from __future__ import annotations

from collections.abc import Mapping

from payments.adapters.gateways.sandbox.errors import WireFormatError
from payments.domain.errors import ValidationError
from payments.domain.money import Money

__all__ = ["money_from_wire", "money_to_wire"]


def money_to_wire(money: Money) -> dict[str, str]:
    """Money as the wire writes it: ``{"amount": "79.99", "currency": "EUR"}``."""
    return money.to_dict()


def money_from_wire(value: object) -> Money:
    """Money from its wire form; the amount must be a decimal string (a JSON number is refused)."""
    if not isinstance(value, Mapping):
        raise WireFormatError("Money must be an object with an amount and a currency.")
    amount = value.get("amount")
    currency = value.get("currency")
    if not isinstance(amount, str):
        raise WireFormatError(f"A money amount must be a decimal string, not {amount!r}.")
    if not isinstance(currency, str):
        raise WireFormatError(f"A currency must be an ISO 4217 code, not {currency!r}.")
    try:
        return Money(amount, currency)
    except ValidationError as error:
        raise WireFormatError(error.message) from error
