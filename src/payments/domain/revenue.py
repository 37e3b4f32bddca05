"""Revenue statistics: what was paid and refunded in one currency, per period and per gateway."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from payments.domain.currency import Currency
from payments.domain.money import Money

MAX_DAYS = 3660
"""The longest window one report covers (about ten years), so a report stays small."""


class Granularity(StrEnum):
    DAY = "day"
    MONTH = "month"

    def period_of(self, moment: datetime) -> str:
        """The bucket a UTC moment falls in: ``2026-03-07`` by day, ``2026-03`` by month."""
        text = moment.astimezone(UTC).date().isoformat()
        return text if self is Granularity.DAY else text[:7]


@dataclass(frozen=True, slots=True)
class RevenueQuery:
    """Paid purchases and refunds in ``currency`` from the start of day ``first`` to the end of
    day ``last`` (UTC, both included), bucketed by ``granularity``."""

    currency: Currency
    first: date
    last: date
    granularity: Granularity

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), UTC)

    @property
    def end(self) -> datetime:
        """The first moment after the window."""
        return datetime.combine(self.last + timedelta(days=1), time(), UTC)


@dataclass(frozen=True, slots=True)
class RevenueRow:
    """One group the database summed: a period and a gateway, with what purchases paid and how
    many (``count``), and what refunds gave back, in minor units of the query's currency."""

    period: str
    gateway: str
    paid_units: int
    count: int
    refunded_units: int


@dataclass(frozen=True, slots=True)
class RevenueFigures:
    """``gross`` paid by ``count`` purchases, ``refunds`` given back, ``net`` = gross - refunds."""

    gross: Money
    refunds: Money
    count: int

    @property
    def net(self) -> Money:
        return self.gross - self.refunds


@dataclass(frozen=True, slots=True)
class RevenueReport:
    currency: Currency
    buckets: list[tuple[str, RevenueFigures]]
    """Periods with activity, oldest first."""
    totals: RevenueFigures
    by_gateway: list[tuple[str, RevenueFigures]]
    """Gateways with activity, by name."""


def _figures(rows: list[RevenueRow], currency: Currency) -> RevenueFigures:
    return RevenueFigures(
        gross=Money.from_minor_units(sum(r.paid_units for r in rows), currency),
        refunds=Money.from_minor_units(sum(r.refunded_units for r in rows), currency),
        count=sum(r.count for r in rows),
    )


def _grouped(
    rows: list[RevenueRow], key: str, currency: Currency
) -> list[tuple[str, RevenueFigures]]:
    groups: dict[str, list[RevenueRow]] = {}
    for row in rows:
        groups.setdefault(getattr(row, key), []).append(row)
    return [(name, _figures(groups[name], currency)) for name in sorted(groups)]


def revenue_report(query: RevenueQuery, rows: list[RevenueRow]) -> RevenueReport:
    """The report from the database's sums per (period, gateway): a few rows whatever the
    number of purchases, added up here in whole minor units, so nothing is ever rounded."""
    return RevenueReport(
        currency=query.currency,
        buckets=_grouped(rows, "period", query.currency),
        totals=_figures(rows, query.currency),
        by_gateway=_grouped(rows, "gateway", query.currency),
    )
