"""The checks every provider's amount codec makes first: a currency it takes, an exact amount."""

from __future__ import annotations

from collections.abc import Set

from payments.domain.errors import InvalidAmountError, UnsupportedByGatewayError
from payments.domain.money import Money

__all__ = ["require_chargeable"]


def require_chargeable(money: Money, *, provider: str, currencies: Set[str]) -> None:
    """Refuse, before any codec runs, money a provider cannot be asked to charge: a currency it
    does not take (``UnsupportedByGatewayError``), or an amount that is inexact for its
    currency or not positive (``InvalidAmountError``). Nothing is ever rounded."""
    code = money.currency.code
    if code not in currencies:
        raise UnsupportedByGatewayError(f"{provider} does not take {code}.")
    if not money.is_exact:
        raise InvalidAmountError(f"{money} has more decimals than {code} allows.")
    if not money.is_positive:
        raise InvalidAmountError(f"{provider} charges a positive amount, not {money}.")
