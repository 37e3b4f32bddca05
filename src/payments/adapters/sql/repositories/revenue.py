"""Revenue statistics in SQL: GROUP BY period and gateway in the database, sums in minor units."""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, String, cast, func, literal_column, select
from sqlalchemy.sql.elements import KeyedColumnElement

from payments.adapters.sql.repositories.base import SqlRepository
from payments.adapters.sql.tables import purchases, refunds
from payments.domain.ports import RevenueStatistics
from payments.domain.purchase import CAPTURED_STATUSES
from payments.domain.refund import RefundStatus
from payments.domain.revenue import Granularity, RevenueQuery, RevenueRow

_FORMATS = {
    ("postgresql", Granularity.DAY): "YYYY-MM-DD",
    ("postgresql", Granularity.MONTH): "YYYY-MM",
    ("sqlite", Granularity.DAY): "%Y-%m-%d",
    ("sqlite", Granularity.MONTH): "%Y-%m",
}


class SqlRevenueStatistics(SqlRepository, RevenueStatistics):
    """Two aggregate queries per report (purchases, refunds), whatever the number of rows."""

    def _period(self, moment: Any, granularity: Granularity) -> ColumnElement[str]:
        """The UTC day or month of a time column, as text (``2026-03-07``, ``2026-03``)."""
        # Constants written into the SQL, not bound: PostgreSQL matches the GROUP BY expression
        # to the selected one only when they are the same text.
        pattern: ColumnElement[str] = literal_column(f"'{_FORMATS[(self._dialect, granularity)]}'")
        if self._dialect == "postgresql":
            utc = func.timezone(literal_column("'UTC'"), moment)
            return func.to_char(utc, pattern, type_=String)
        # SQLite keeps the UTC wall time as text: strftime reads it as it is.
        return func.strftime(pattern, moment, type_=String)

    @staticmethod
    def _minor_units(amount: KeyedColumnElement[Any], exponent: int) -> ColumnElement[int]:
        """The sum of an amount column in whole minor units: exact on both backends (SQLite
        keeps a NUMERIC as a REAL; rounding each amount to its minor unit before adding keeps
        the sum an exact integer)."""
        scale: ColumnElement[int] = literal_column(str(10**exponent))
        return func.coalesce(func.sum(cast(func.round(amount * scale), BigInteger)), 0)

    def revenue_rows(self, query: RevenueQuery) -> builtins.list[RevenueRow]:
        exponent = query.currency.exponent
        paid_period = self._period(purchases.c.completed_at, query.granularity)
        paid = (
            select(
                paid_period.label("period"),
                func.coalesce(purchases.c.gateway, "").label("gateway"),
                self._minor_units(purchases.c.amount, exponent).label("units"),
                func.count().label("count"),
            )
            .where(
                purchases.c.currency == query.currency.code,
                purchases.c.status.in_(sorted(s.value for s in CAPTURED_STATUSES)),
                purchases.c.completed_at >= query.start,
                purchases.c.completed_at < query.end,
            )
            .group_by(paid_period, purchases.c.gateway)
        )
        refund_period = self._period(refunds.c.created_at, query.granularity)
        refunded = (
            select(
                refund_period.label("period"),
                refunds.c.gateway.label("gateway"),
                self._minor_units(refunds.c.amount, exponent).label("units"),
            )
            .where(
                refunds.c.currency == query.currency.code,
                refunds.c.status != RefundStatus.FAILED.value,
                refunds.c.created_at >= query.start,
                refunds.c.created_at < query.end,
            )
            .group_by(refund_period, refunds.c.gateway)
        )
        rows: dict[tuple[str, str], RevenueRow] = {}
        for row in self._connection.execute(paid).mappings():
            key = (row["period"], row["gateway"])
            rows[key] = RevenueRow(key[0], key[1], int(row["units"]), int(row["count"]), 0)
        for row in self._connection.execute(refunded).mappings():
            key = (row["period"], row["gateway"])
            before = rows.get(key, RevenueRow(key[0], key[1], 0, 0, 0))
            rows[key] = RevenueRow(
                key[0], key[1], before.paid_units, before.count, int(row["units"])
            )
        return list(rows.values())
