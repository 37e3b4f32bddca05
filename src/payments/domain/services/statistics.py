"""Revenue statistics for merchants and admins, one currency per report, summed by the store."""

from __future__ import annotations

from datetime import date, timedelta

from payments.domain.access import Principal
from payments.domain.currency import get_currency
from payments.domain.errors import FieldError, ForbiddenError, UnknownCurrencyError, ValidationError
from payments.domain.revenue import (
    MAX_DAYS,
    Granularity,
    RevenueQuery,
    RevenueReport,
    revenue_report,
)
from payments.domain.services.use_case import UseCase

DEFAULT_DAYS = 30


class StatisticsService(UseCase):
    """Revenue per period and gateway."""

    def revenue(
        self,
        principal: Principal,
        *,
        currency: str | None,
        first: str | None = None,
        last: str | None = None,
        granularity: str | None = None,
    ) -> RevenueReport:
        """Paid and refunded money in ``currency`` from day ``first`` to day ``last`` (UTC,
        both included; by default the 30 days up to today), per ``day`` (default) or ``month``.

        Amounts of different currencies are never added: the currency is required.
        """
        if not principal.role.is_staff:
            raise ForbiddenError("Only merchants and admins read statistics.")
        errors: list[FieldError] = []
        query_currency = None
        try:
            query_currency = get_currency((currency or "").upper())
        except (UnknownCurrencyError, ValueError):
            errors.append(FieldError("currency", "an ISO 4217 code is required"))
        today = self._clock.now().date()
        end = _day(last, "to", errors) or today
        start = _day(first, "from", errors) or _days_before(end, DEFAULT_DAYS - 1)
        try:
            grain = Granularity(granularity or Granularity.DAY.value)
        except ValueError:
            errors.append(FieldError("granularity", "day or month"))
            grain = Granularity.DAY
        if start > end or (end - start).days >= MAX_DAYS:
            errors.append(FieldError("from", f"on or before 'to', at most {MAX_DAYS} days before"))
        if errors or query_currency is None:
            raise ValidationError("The query is invalid.", errors=errors)
        query = RevenueQuery(query_currency, start, end, grain)
        with self._uow() as uow:
            rows = uow.revenue.revenue_rows(query)
        return revenue_report(query, rows)


def _days_before(day: date, days: int) -> date:
    """``day`` less ``days`` days, or the first day there is when that falls before it."""
    try:
        return day - timedelta(days=days)
    except OverflowError:
        return date.min


def _day(text: str | None, name: str, errors: list[FieldError]) -> date | None:
    if text is None:
        return None
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        errors.append(FieldError(name, "a date such as 2026-01-31"))
        return None
