"""The payer's instructions for a voucher, in Colombian Spanish (amounts and dates by Babel)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Final

from babel.dates import format_datetime
from babel.numbers import format_decimal

from payments.domain.money import Money

__all__ = ["COLOMBIA", "LOCALE", "colombian_amount", "payer_instructions"]

LOCALE: Final = "es_CO"
COLOMBIA: Final = timezone(timedelta(hours=-5), "COT")
"""Colombia's time (UTC-5 all year, no daylight saving): deadlines are written in it."""
_DEADLINE: Final = "d 'de' MMMM 'de' y 'a las' h:mm a"


def colombian_amount(amount: Money) -> str:
    """The amount as Colombians write it: ``$50.000`` (dot thousands, whole pesos), with the
    centavos after a comma only when there are any (``$50.000,50``)."""
    whole = amount.amount == amount.amount.to_integral_value()
    pattern = "#,##0" if whole else "#,##0.00"
    return "$" + format_decimal(amount.amount, format=pattern, locale=LOCALE)


def payer_instructions(code: str, amount: Money, expires_at: datetime) -> str:
    """What the payer reads on the voucher: where to pay, how much, which code, until when."""
    deadline = format_datetime(expires_at, _DEADLINE, tzinfo=COLOMBIA, locale=LOCALE)
    return (
        f"Paga {colombian_amount(amount)} {amount.currency.code} en efectivo en cualquier punto "
        f"Efecty antes del {deadline} (hora de Colombia). Di en caja que es un pago con el "
        f"código {code}, o presenta el código de barras. Paga el valor exacto: un pago por "
        "otro valor no se acepta. El pago se confirma en unos 15 minutos; después de la fecha "
        "límite el código deja de ser válido."
    )
