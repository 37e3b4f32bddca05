"""The SQL invoice repository: invoices with their lines, those waiting for a number, and the
gap-free number counters."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError

from payments.adapters.sql import direct
from payments.adapters.sql.mappers import Row, SameColumns, money_from_columns
from payments.adapters.sql.repositories.base import SqlRepository
from payments.adapters.sql.statements import FixedStatement
from payments.adapters.sql.tables import invoice_counters, invoice_lines, invoices
from payments.domain.errors import ConflictError
from payments.domain.invoice import Invoice, InvoiceFigures, InvoiceLine, InvoiceStatus
from payments.domain.ports import InvoicePage, InvoiceRepository

_INVOICE_SAME = SameColumns(
    "id", "number", "series", "year", "sequence", "purchase_id", "customer_id", "country",
    "issued_at", "updated_at",
)  # fmt: skip
_FIGURES = ("subtotal", "tax", "total")


def _invoice_row(invoice: Invoice) -> dict[str, Any]:
    figures = invoice.figures
    return {
        **_INVOICE_SAME.of(invoice),
        "status": invoice.status.value,
        "currency": invoice.currency,
        **{name: getattr(figures, name).amount for name in _FIGURES},
        "tax_rate": invoice.tax_rate,
    }


def _line_rows(invoice: Invoice) -> list[dict[str, Any]]:
    return [
        {
            "invoice_id": invoice.id,
            "position": position,
            "description": line.description,
            "quantity": line.quantity,
            "unit_price": line.unit_price.amount,
            "total": line.total.amount,
        }
        for position, line in enumerate(invoice.lines, start=1)
    ]


def _invoice_from_rows(row: Row, lines: list[Row]) -> Invoice:
    currency = row["currency"]
    return Invoice(
        **_INVOICE_SAME.read(row),
        status=InvoiceStatus(row["status"]),
        lines=[
            InvoiceLine(
                line["description"],
                line["quantity"],
                money_from_columns(line["unit_price"], currency),
                money_from_columns(line["total"], currency),
            )
            for line in lines
        ],
        tax_rate=row["tax_rate"].normalize(),
        figures=InvoiceFigures(
            **{name: money_from_columns(row[name], currency) for name in _FIGURES}
        ),
    )


_COUNT = FixedStatement(
    "UPDATE invoice_counters SET last_number = last_number + :count"
    " WHERE series = :series AND year = :year RETURNING last_number",
    {
        "count": invoice_counters.c.last_number.type,
        "series": invoice_counters.c.series.type,
        "year": invoice_counters.c.year.type,
    },
    (invoice_counters.c.last_number,),
)
"""``count`` more on a counter, its new value read back: once per series and year numbered."""

_NUMBER = (
    update(invoices)
    .where(invoices.c.id == bindparam("numbered_id"))
    .values(number=bindparam("number"), sequence=bindparam("sequence"))
)
"""One invoice's number and sequence, run for every invoice of a batch at once."""


class SqlInvoiceRepository(SqlRepository, InvoiceRepository):
    def next_sequence(self, series: str, year: int, count: int = 1) -> int:
        """Reserve ``count`` numbers on the series' counter of ``year`` in this transaction,
        creating the counter for the year's first invoice; the first of them. The UPDATE locks
        the counter row until commit or rollback (on SQLite the transaction already holds the
        write lock), so concurrent numberers queue on it and a rollback gives the numbers back."""
        counted = self._count(series, year, count)
        if counted is None:  # the year's first invoice: create its counter (once), count again
            new = {"series": series, "year": year, "last_number": 0}
            self._insert_all(invoice_counters, [new], conflict=("series", "year"))
            counted = self._count(series, year, count)
        if counted is None:
            raise ConflictError(f"The invoice counter of {series} {year} cannot be created.")
        return counted - count + 1

    def _count(self, series: str, year: int, count: int) -> int | None:
        keys = {"series": series, "year": year, "count": count}
        counted = direct.fetch_one(self._connection, _COUNT, keys)
        return int(counted["last_number"]) if counted is not None else None

    def unnumbered(self, limit: int) -> list[Invoice]:
        """Locked FOR UPDATE on PostgreSQL, without SKIP LOCKED: a read that numbers first
        waits for a numberer's batch and then sees it numbered (on SQLite the one writer at a
        time does that)."""
        statement = (
            select(invoices)
            .where(invoices.c.number.is_(None))
            .order_by(invoices.c.issued_at, invoices.c.id)
            .limit(limit)
        )
        if self._row_locks:
            statement = statement.with_for_update()
        return self._with_lines(list(self._all(statement)))

    def save_numbers(self, numbered: list[Invoice]) -> None:
        self._connection.execute(
            _NUMBER,
            [{"numbered_id": i.id, "number": i.number, "sequence": i.sequence} for i in numbered],
        )

    def add(self, invoice: Invoice) -> None:
        """Store the invoice and its lines, sent with the next statement or the commit (on
        PostgreSQL; at once elsewhere): ``ConflictError`` there when its id, number or purchase
        is taken, and nothing of the transaction is committed."""

        def refused(error: IntegrityError) -> ConflictError:
            return ConflictError(f"Invoice {invoice.id!r} breaks a database constraint.")

        self._insert_all_later(invoices, [_invoice_row(invoice)], refused=refused)
        self._insert_all_later(invoice_lines, _line_rows(invoice), refused=refused)

    def get(self, invoice_id: str) -> Invoice | None:
        row = self._one(invoices, {"id": invoice_id})
        return self._with_lines([row])[0] if row is not None else None

    def set_status(self, invoice_id: str, status: InvoiceStatus, at: datetime) -> None:
        self._connection.execute(
            update(invoices)
            .where(invoices.c.id == invoice_id)
            .values(status=status.value, updated_at=at)
        )

    def page(self, customer_id: str, *, limit: int, cursor: str | None) -> InvoicePage:
        rows, next_cursor = self._newest_first(
            select(invoices).where(invoices.c.customer_id == customer_id),
            invoices.c.issued_at,
            cursor,
            limit,
        )
        return InvoicePage(self._with_lines(list(rows)), next_cursor)

    def _with_lines(self, rows: list[Row]) -> list[Invoice]:
        """The invoices of ``rows``, their lines read in one query."""
        if not rows:
            return []
        lines: dict[str, list[Row]] = {row["id"]: [] for row in rows}
        statement = (
            select(invoice_lines)
            .where(invoice_lines.c.invoice_id.in_(list(lines)))
            .order_by(invoice_lines.c.invoice_id, invoice_lines.c.position)
        )
        for line in self._all(statement):
            lines[line["invoice_id"]].append(line)
        return [_invoice_from_rows(row, lines[row["id"]]) for row in rows]
