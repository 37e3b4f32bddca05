"""Usage of a subscription: metered quantities recorded once per caller reference."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from payments.domain.errors import FieldError, ValidationError

_METRIC = re.compile(r"[a-z][a-z0-9_.]{0,63}")
_REFERENCE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:@-]{0,127}")
MAX_QUANTITY = Decimal("1000000000")


@dataclass(frozen=True, slots=True)
class UsageRecord:
    """``quantity`` of ``metric`` used by a subscription, counted in the billing period that
    started at ``period_start``; ``reference`` (the caller's) makes recording it idempotent."""

    id: str
    subscription_id: str
    metric: str
    quantity: Decimal
    reference: str
    period_start: datetime
    recorded_at: datetime

    @classmethod
    def create(
        cls,
        *,
        id: str,
        subscription_id: str,
        metric: str,
        quantity: str | Decimal,
        reference: str,
        period_start: datetime,
        now: datetime,
    ) -> UsageRecord:
        """Validate the caller's fields; ``ValidationError`` names each bad one."""
        errors: list[FieldError] = []
        if not isinstance(metric, str) or not _METRIC.fullmatch(metric):
            errors.append(FieldError("metric", "lower-case letters, digits, '_' or '.' (1-64)"))
        if not isinstance(reference, str) or not _REFERENCE.fullmatch(reference):
            errors.append(FieldError("reference", "1 to 128 letters, digits or _.:@-"))
        amount = Decimal(0)
        try:
            amount = Decimal(quantity)
        except (InvalidOperation, TypeError, ValueError):
            errors.append(FieldError("quantity", 'must be a decimal string such as "12"'))
        else:
            if not amount.is_finite() or not 0 < amount <= MAX_QUANTITY:
                errors.append(FieldError("quantity", f"must be above 0 and at most {MAX_QUANTITY}"))
            elif amount != amount.quantize(Decimal("0.000001")):
                errors.append(FieldError("quantity", "at most six decimals"))
        if errors:
            raise ValidationError("The usage record is invalid.", errors=errors)
        return cls(id, subscription_id, metric, amount, reference, period_start, now)
