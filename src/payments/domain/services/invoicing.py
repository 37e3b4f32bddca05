"""Invoices: issued in the transaction that completes a purchase, numbered in batches soon after,
voided by a full refund, read (numbered first)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from payments.domain.access import Principal
from payments.domain.errors import FieldError, ValidationError
from payments.domain.invoice import INVOICE_ID_PREFIX, Invoice, InvoicePolicy
from payments.domain.ports import (
    Clock,
    IdGenerator,
    InvoiceDocuments,
    InvoicePage,
    UnitOfWork,
)
from payments.domain.purchase import Purchase
from payments.domain.services.records import listed_customer, readable
from payments.domain.services.use_case import UseCase

MAX_PAGE = 200
NUMBERING_BATCH = 500
"""Invoices numbered in one transaction at most."""


def issue_invoice(
    uow: UnitOfWork, purchase: Purchase, policy: InvoicePolicy, *, now: datetime, ids: IdGenerator
) -> Invoice | None:
    """Issue the invoice of a purchase completed in ``uow`` (which holds its lock), unnumbered:
    ``number_pending`` numbers it after the commit, so completions never queue on the number
    counter. None when it already has one. The caller saves the purchase, which now names its
    invoice."""
    if purchase.invoice_id is not None:
        return None
    product = uow.products.get(purchase.product_id)
    invoice = Invoice.issue(
        id=ids.new(INVOICE_ID_PREFIX),
        policy=policy,
        purchase_id=purchase.id,
        customer_id=purchase.customer_id,
        country=purchase.country,
        description=product.name if product is not None else purchase.product_id,
        paid=purchase.amount,
        now=now,
    )
    uow.invoices.add(invoice)
    purchase.invoice_id = invoice.id
    return invoice


def number_pending(uow: UnitOfWork, limit: int = NUMBERING_BATCH) -> int:
    """Number at most ``limit`` unnumbered invoices in ``uow``'s transaction, the oldest first:
    each series and year takes its counter once for all of its invoices and gives them
    consecutive numbers in (issued_at, id) order. The counters stay locked to the commit, so
    the numbers have no gap and no repeat. How many were numbered (the caller commits)."""
    pending = uow.invoices.unnumbered(limit)
    groups: dict[tuple[str, int], list[Invoice]] = {}
    for invoice in pending:
        groups.setdefault((invoice.series, invoice.year), []).append(invoice)
    for (series, year), group in sorted(groups.items()):  # counters locked in one order
        first = uow.invoices.next_sequence(series, year, len(group))
        for offset, invoice in enumerate(group):
            invoice.numbered(first + offset)
    if pending:
        uow.invoices.save_numbers(pending)
    return len(pending)


def invoice_follows_refunds(uow: UnitOfWork, purchase: Purchase, now: datetime) -> None:
    """Void the purchase's invoice once its refunds take back everything it paid, and make it
    paid again when a refund that did so fails (the caller holds the purchase's lock)."""
    if purchase.invoice_id is None:
        return
    invoice = uow.invoices.get(purchase.invoice_id)
    if invoice is not None and invoice.follow_refunds(purchase.refunded == purchase.amount, now):
        uow.invoices.set_status(invoice.id, invoice.status, now)


class InvoiceService(UseCase):
    """Numbering invoices, and reading them: each customer its own, merchants and admins
    anyone's. Every read numbers the pending invoices first, so a reader never sees an
    invoice without its number."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        clock: Clock,
        ids: IdGenerator,
        documents: InvoiceDocuments,
    ) -> None:
        super().__init__(uow, clock, ids)
        self._documents = documents

    def number_pending(self, limit: int = NUMBERING_BATCH) -> int:
        """Number at most ``limit`` of the invoices issued unnumbered, in one transaction; how
        many (the worker's job). One indexed query when none is pending."""
        with self._uow() as uow:
            numbered = number_pending(uow, limit)
            uow.commit()
        return numbered

    def _number_all(self) -> None:
        """Number every invoice pending, a batch at a time, before a read."""
        while self.number_pending() == NUMBERING_BATCH:
            pass

    def get(self, invoice_id: str, principal: Principal) -> Invoice:
        """The invoice if the caller may see it; otherwise ``NotFoundError`` (never a hint)."""
        self._number_all()
        with self._uow() as uow:
            return readable(principal, uow.invoices.get(invoice_id), "Invoice", invoice_id)

    def pdf(self, invoice_id: str, principal: Principal) -> tuple[Invoice, bytes]:
        """The invoice and its PDF document, under the same rule as ``get``."""
        invoice = self.get(invoice_id, principal)
        return invoice, self._documents.pdf(invoice)

    def list_invoices(
        self,
        principal: Principal,
        *,
        customer_id: str | None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> InvoicePage:
        """A page of one customer's invoices, newest first. A customer key lists its own (and
        finds none of anyone else's); merchants and admins name the customer."""
        visible, customer_id = listed_customer(principal, customer_id, "invoices")
        if not visible:
            return InvoicePage([], None)
        if not customer_id:
            raise ValidationError(
                "Name the customer.", errors=[FieldError("customer_id", "is required")]
            )
        if not 1 <= limit <= MAX_PAGE:
            raise ValidationError(
                "Bad limit.", errors=[FieldError("limit", f"must be 1 to {MAX_PAGE}")]
            )
        self._number_all()
        with self._uow() as uow:
            return uow.invoices.page(customer_id, limit=limit, cursor=cursor)
