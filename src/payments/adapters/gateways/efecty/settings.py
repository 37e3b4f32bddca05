"""Efecty's names, markets and the limits of its vouchers (reference §4, old-systems.md §B)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Final

from payments.domain.cash_voucher import CASH_VOUCHER_GATEWAY
from payments.domain.errors import ConfigurationError
from payments.domain.gateway import GatewayCapabilities
from payments.domain.money import Money

__all__ = [
    "CASH_ONLY",
    "COUNTRIES",
    "CURRENCIES",
    "DEFAULT_CODE_PREFIX",
    "DEFAULT_EXPIRY_HOURS",
    "DEFAULT_MAXIMUM",
    "DEFAULT_MINIMUM",
    "GATEWAY_NAME",
    "MAX_EXPIRY_HOURS",
    "PAYMENT_METHODS",
    "check_code_prefix",
    "check_expiry_hours",
    "check_limits",
]

GATEWAY_NAME: Final = CASH_VOUCHER_GATEWAY
CURRENCIES: Final = frozenset({"COP"})
COUNTRIES: Final = frozenset({"CO"})
PAYMENT_METHODS: Final = frozenset({"cash"})
DEFAULT_CODE_PREFIX: Final = "EFY"
DEFAULT_EXPIRY_HOURS: Final = 72
MAX_EXPIRY_HOURS: Final = 168
"""Seven days: PayU's Efecty vouchers last at most that long ("7 days for others", §4.1)."""
DEFAULT_MINIMUM: Final = Money("20000", "COP")
DEFAULT_MAXIMUM: Final = Money("6000000", "COP")
"""PayU's Efecty limits: "Min: $20.000 COP - Max: $6.000.000 COP" (reference §4.1)."""
WHOLE_PESOS: Final = {"COP": 100}
"""Cash is paid in whole pesos: an amount with centavos is refused before any voucher."""
CASH_ONLY: Final = GatewayCapabilities(
    CURRENCIES,
    COUNTRIES,
    PAYMENT_METHODS,
    refunds=False,
    partial_refunds=False,
    authoritative_lookup=False,
    amount_steps=WHOLE_PESOS,
)
"""What cash at a counter can do, before the configured limits: COP in Colombia, whole pesos,
no refunds (cash is given back outside); ``cancel`` voids an unpaid voucher. A voucher is not
found by our reference alone across a lost start (``authoritative_lookup`` off): the start is
sent again, and answers the stored voucher."""
EXPIRY_MARGIN: Final = timedelta(hours=1)
"""Reconciliation waits this long past a voucher's deadline, so the Efecty expiry job, not the
general sweep, expires its purchase."""

_PREFIX: Final = re.compile(r"[A-Z]{2,5}")


def check_expiry_hours(hours: int) -> timedelta:
    """``PAYMENTS_EFECTY_EXPIRY_HOURS`` as a duration: 1 to 168 hours."""
    if not 1 <= hours <= MAX_EXPIRY_HOURS:
        raise ConfigurationError(
            f"PAYMENTS_EFECTY_EXPIRY_HOURS must be 1 to {MAX_EXPIRY_HOURS} hours (seven days)."
        )
    return timedelta(hours=hours)


def check_limits(minimum: Money, maximum: Money) -> None:
    """``ConfigurationError`` unless the limits are positive amounts in COP, in order."""
    if minimum.currency.code not in CURRENCIES or maximum.currency != minimum.currency:
        raise ConfigurationError("Efecty's limits are amounts in COP.")
    if not minimum.is_positive or maximum < minimum:
        raise ConfigurationError("Efecty's minimum must be positive and below its maximum.")


def check_code_prefix(prefix: str) -> str:
    """``PAYMENTS_EFECTY_CODE_PREFIX``: 2 to 5 capital letters."""
    if not _PREFIX.fullmatch(prefix):
        raise ConfigurationError(
            "PAYMENTS_EFECTY_CODE_PREFIX must be 2 to 5 capital letters such as EFY."
        )
    return prefix
