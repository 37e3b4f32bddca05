"""Subscription statistics: counts by status, churn over a window, and MRR per currency."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from payments.domain.access import Principal
from payments.domain.catalog import BillingCycle
from payments.domain.errors import ForbiddenError
from payments.domain.money import Money
from payments.domain.services.use_case import UseCase
from payments.domain.subscription import SubscriptionStatus


@dataclass(frozen=True, slots=True)
class SubscriptionStats:
    """``churn`` is the share of the subscriptions billed during the window that were cancelled
    in it: cancelled in the window / (billed now + cancelled in the window), to 4 decimals."""

    counts: dict[str, int]
    window_start: datetime
    window_end: datetime
    cancelled_in_window: int
    churn: Decimal
    mrr: list[Money]


def monthly_recurring_revenue(billed: list[tuple[str, str, Decimal]]) -> list[Money]:
    """MRR per currency from summed prices by (currency, cycle): quarterly and yearly sums are
    divided by 3 and 12, and each currency's total is rounded half-even to its minor unit once."""
    totals: dict[str, Money] = {}
    for currency, cycle, summed in billed:
        monthly = Money(summed, currency) / BillingCycle(cycle).months
        totals[currency] = totals[currency] + monthly if currency in totals else monthly
    return [totals[code].quantize(ROUND_HALF_EVEN) for code in sorted(totals)]


class SubscriptionStatsService(UseCase):
    """Reads the subscription statistics (merchants and admins)."""

    def stats(self, principal: Principal, window: timedelta) -> SubscriptionStats:
        """The statistics now, with churn over the last ``window``."""
        if not principal.role.is_staff:
            raise ForbiddenError("Only merchants and admins read statistics.")
        now = self._clock.now()
        with self._uow() as uow:
            counts = uow.subscriptions.counts(now - window)
        by_status = {
            status.value: counts.by_status.get(status.value, 0) for status in SubscriptionStatus
        }
        billed_now = sum(n for s, n in by_status.items() if s != SubscriptionStatus.CANCELLED.value)
        base = billed_now + counts.cancelled_in_window
        churn = (
            (Decimal(counts.cancelled_in_window) / base).quantize(
                Decimal("0.0001"), ROUND_HALF_EVEN
            )
            if base
            else Decimal(0)
        )
        return SubscriptionStats(
            counts=by_status,
            window_start=now - window,
            window_end=now,
            cancelled_in_window=counts.cancelled_in_window,
            churn=churn,
            mrr=monthly_recurring_revenue(list(counts.billed_prices)),
        )
