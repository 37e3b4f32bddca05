"""The in-memory invoices, their number counters, and revenue statistics summed in Python."""

from __future__ import annotations

import builtins
import copy
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from payments.adapters.cursors import decode_cursor, encode_cursor
from payments.domain.errors import ConflictError
from payments.domain.invoice import Invoice, InvoiceStatus
from payments.domain.ports import InvoicePage, InvoiceRepository, RevenueStatistics
from payments.domain.purchase import CAPTURED_STATUSES, Purchase
from payments.domain.refund import Refund, RefundStatus
from payments.domain.revenue import RevenueQuery, RevenueRow


class InvoiceTables(Protocol):
    """The part of a store's tables invoices and statistics work on."""

    purchases: dict[str, Purchase]
    refunds: dict[str, Refund]
    invoices: dict[str, Invoice]
    invoice_counters: dict[tuple[str, int], int]


class InMemoryInvoices(InvoiceRepository):
    """Invoices on one unit of work's working tables; the store's lock serializes issuers, and
    a rolled-back unit of work drops its counter change with the rest."""

    def __init__(self, t: InvoiceTables) -> None:
        self._t = t

    def next_sequence(self, series: str, year: int, count: int = 1) -> int:
        first = self._t.invoice_counters.get((series, year), 0) + 1
        self._t.invoice_counters[(series, year)] = first + count - 1
        return first

    def unnumbered(self, limit: int) -> builtins.list[Invoice]:
        pending = (i for i in self._t.invoices.values() if i.number is None)
        oldest = sorted(pending, key=lambda i: (i.issued_at, i.id))[:limit]
        return [copy.deepcopy(i) for i in oldest]

    def save_numbers(self, numbered: builtins.list[Invoice]) -> None:
        for invoice in numbered:
            stored = self._t.invoices.get(invoice.id)
            if stored is not None:
                self._t.invoices[invoice.id] = replace(
                    copy.deepcopy(stored), number=invoice.number, sequence=invoice.sequence
                )

    def add(self, invoice: Invoice) -> None:
        for other in self._t.invoices.values():
            taken = invoice.number is not None and invoice.number == other.number
            if invoice.id == other.id or taken:
                raise ConflictError(f"Invoice {invoice.id!r} or its number already exists.")
            if invoice.purchase_id == other.purchase_id:
                raise ConflictError(f"Purchase {invoice.purchase_id!r} already has an invoice.")
        self._t.invoices[invoice.id] = copy.deepcopy(invoice)

    def get(self, invoice_id: str) -> Invoice | None:
        found = self._t.invoices.get(invoice_id)
        return copy.deepcopy(found) if found is not None else None

    def set_status(self, invoice_id: str, status: InvoiceStatus, at: datetime) -> None:
        found = self._t.invoices.get(invoice_id)
        if found is not None:
            self._t.invoices[invoice_id] = replace(
                copy.deepcopy(found), status=status, updated_at=at
            )

    def page(self, customer_id: str, *, limit: int, cursor: str | None) -> InvoicePage:
        items = sorted(
            (i for i in self._t.invoices.values() if i.customer_id == customer_id),
            key=lambda i: (i.issued_at, i.id),
            reverse=True,
        )
        if cursor:
            after = decode_cursor(cursor)
            items = [i for i in items if (i.issued_at, i.id) < after]
        page = items[:limit]
        more = len(items) > limit and bool(page)
        next_cursor = encode_cursor(page[-1].issued_at, page[-1].id) if more else None
        return InvoicePage([copy.deepcopy(i) for i in page], next_cursor)


class InMemoryRevenue(RevenueStatistics):
    """The statistics the SQL store sums with GROUP BY, summed here over the working tables."""

    def __init__(self, t: InvoiceTables) -> None:
        self._t = t

    def revenue_rows(self, query: RevenueQuery) -> builtins.list[RevenueRow]:
        sums: dict[tuple[str, str], list[int]] = {}
        for purchase in self._t.purchases.values():
            moment = purchase.completed_at
            if (
                moment is not None
                and purchase.status in CAPTURED_STATUSES
                and purchase.amount.currency == query.currency
                and query.start <= moment < query.end
            ):
                key = (query.granularity.period_of(moment), purchase.gateway or "")
                sums.setdefault(key, [0, 0, 0])
                sums[key][0] += purchase.amount.to_minor_units()
                sums[key][1] += 1
        for refund in self._t.refunds.values():
            if (
                refund.status is not RefundStatus.FAILED
                and refund.amount.currency == query.currency
                and query.start <= refund.created_at < query.end
            ):
                key = (query.granularity.period_of(refund.created_at), refund.gateway)
                sums.setdefault(key, [0, 0, 0])
                sums[key][2] += refund.amount.to_minor_units()
        return [RevenueRow(p, g, paid, count, back) for (p, g), (paid, count, back) in sums.items()]
