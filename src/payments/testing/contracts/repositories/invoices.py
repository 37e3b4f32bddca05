"""The repository contract, invoices and revenue: numbers, round trips, pages and sums."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from payments.domain.currency import get_currency
from payments.domain.errors import ConflictError
from payments.domain.invoice import Invoice, InvoicePolicy, InvoiceStatus
from payments.domain.money import Money
from payments.domain.ports import UnitOfWork
from payments.domain.purchase import PaymentOutcome
from payments.domain.revenue import Granularity, RevenueQuery, RevenueRow
from payments.testing.contracts.repositories.base import UnitOfWorkFixtures
from payments.testing.contracts.repositories.builders import (
    T0,
    a_purchase,
    a_refund,
    is_utc,
    observation,
    seed,
)
from payments.testing.expect import expect, expect_equal

POLICY = InvoicePolicy("INV", {"PT": Decimal("23")})


def an_invoice(
    invoice_id: str = "inv_1",
    *,
    purchase_id: str = "pur_1",
    sequence: int | None = 1,
    minutes: int = 0,
) -> Invoice:
    """The invoice of ``a_purchase()``: 79.99 EUR, 23 % included; unnumbered if ``sequence``
    is None."""
    return Invoice.issue(
        id=invoice_id,
        sequence=sequence,
        policy=POLICY,
        purchase_id=purchase_id,
        customer_id="cus_ana",
        country="PT",
        description="8 Hour Premium Package",
        paid=Money("79.99", "EUR"),
        now=T0 + timedelta(minutes=minutes),
    )


class InvoicesContract(UnitOfWorkFixtures):
    """Invoices come back whole, are numbered without gaps, and revenue sums what was paid."""

    def test_invoice_comes_back_with_its_lines_and_exact_figures(self, uow: UnitOfWork) -> None:
        seed(uow, a_purchase())
        with uow:
            uow.invoices.add(an_invoice())
            uow.commit()
        with uow:
            stored = uow.invoices.get("inv_1")
            missing = uow.invoices.get("inv_missing")
        expect_equal(stored, an_invoice(), "the invoice read back")
        expect(missing is None, "an unknown invoice is None")
        expect(stored is not None and is_utc(stored.issued_at), "times come back UTC")

    def test_numbers_count_per_series_and_year_and_a_rollback_gives_one_back(
        self, uow: UnitOfWork
    ) -> None:
        with uow:
            counted = [uow.invoices.next_sequence("INV", 2026) for _ in range(3)]
            uow.commit()
        with uow:
            uow.invoices.next_sequence("INV", 2026, 10)  # rolled back below
        with uow:
            after = (
                uow.invoices.next_sequence("INV", 2026, 5),
                uow.invoices.next_sequence("INV", 2026),
                uow.invoices.next_sequence("INV", 2027),
                uow.invoices.next_sequence("B2B", 2026, 2),
            )
        expect_equal(counted, [1, 2, 3], "the first numbers of a series and year")
        expect_equal(after, (4, 9, 1, 1), "the next numbers, reserved five at a time, apart")

    def test_unnumbered_invoices_come_oldest_first_and_keep_the_numbers_given(
        self, uow: UnitOfWork
    ) -> None:
        seed(uow, *(a_purchase(f"pur_{n}") for n in range(3)))
        with uow:
            for n in (2, 0, 1):  # several unnumbered invoices: NULL numbers never conflict
                uow.invoices.add(
                    an_invoice(f"inv_{n}", purchase_id=f"pur_{n}", sequence=None, minutes=n)
                )
            uow.commit()
        with uow:
            oldest = uow.invoices.unnumbered(2)
            for sequence, invoice in enumerate(oldest, start=7):
                invoice.numbered(sequence)
            uow.invoices.save_numbers(oldest)
            uow.commit()
        with uow:
            left = uow.invoices.unnumbered(10)
            stored = uow.invoices.get("inv_1")
        expect_equal([i.id for i in oldest], ["inv_0", "inv_1"], "the oldest two, in order")
        expect_equal([i.id for i in left], ["inv_2"], "the one left unnumbered")
        expect(
            stored is not None and (stored.number, stored.sequence) == ("INV-2026-000008", 8),
            "the number stored",
        )

    def test_a_second_invoice_of_a_purchase_or_a_taken_number_is_a_conflict(
        self, uow: UnitOfWork
    ) -> None:
        seed(uow, a_purchase(), a_purchase("pur_2"))
        with uow:
            uow.invoices.add(an_invoice())
            uow.commit()
        for again in (an_invoice("inv_2", sequence=2), an_invoice("inv_3", purchase_id="pur_2")):
            with uow, pytest.raises(ConflictError):
                _add_and_commit(uow, again)

    def test_a_status_change_is_stored(self, uow: UnitOfWork) -> None:
        seed(uow, a_purchase())
        later = T0 + timedelta(days=1)
        with uow:
            uow.invoices.add(an_invoice())
            uow.invoices.set_status("inv_1", InvoiceStatus.VOID, later)
            uow.commit()
        with uow:
            stored = uow.invoices.get("inv_1")
        expect(stored is not None and stored.status is InvoiceStatus.VOID, "voided")
        expect(stored is not None and stored.updated_at == later, "changed at the time given")

    def test_invoice_pages_return_each_invoice_once_newest_first(self, uow: UnitOfWork) -> None:
        purchases = [a_purchase(f"pur_{n}") for n in range(5)]
        seed(uow, *purchases)
        with uow:
            for n in range(5):
                uow.invoices.add(
                    an_invoice(f"inv_{n}", purchase_id=f"pur_{n}", sequence=n + 1, minutes=n)
                )
            uow.commit()
        seen: list[str] = []
        cursor = None
        with uow:
            for _ in range(3):
                page = uow.invoices.page("cus_ana", limit=2, cursor=cursor)
                seen.extend(invoice.id for invoice in page.items)
                cursor = page.next_cursor
            others = uow.invoices.page("cus_bob", limit=2, cursor=None)
        expect_equal(seen, [f"inv_{n}" for n in (4, 3, 2, 1, 0)], "newest first, each once")
        expect(cursor is None, "no cursor after the last page")
        expect_equal(others.items, [], "another customer's page")

    def test_revenue_sums_paid_purchases_and_refunds_not_failed(self, uow: UnitOfWork) -> None:
        paid, pending = a_purchase(), a_purchase("pur_2")
        paid.start_at_gateway("stripe", "pi_1", None, T0)
        paid.apply(observation(PaymentOutcome.SUCCEEDED, "evt_1"), T0, "stripe")
        seed(uow, paid, pending)
        with uow:
            uow.refunds.add(a_refund())
            uow.commit()
        query = RevenueQuery(get_currency("EUR"), T0.date(), T0.date(), Granularity.MONTH)
        with uow:
            rows = uow.revenue.revenue_rows(query)
            other = uow.revenue.revenue_rows(
                RevenueQuery(get_currency("JPY"), T0.date(), T0.date(), Granularity.DAY)
            )
        expect_equal(rows, [RevenueRow("2026-03", "stripe", 7999, 1, 2000)], "the month's sums")
        expect_equal(other, [], "nothing in another currency")


def _add_and_commit(uow: UnitOfWork, invoice: Invoice) -> None:
    """Add ``invoice`` and commit: a repository refuses a conflict at the add, or at the latest
    at the commit (a queued write)."""
    uow.invoices.add(invoice)
    uow.commit()
