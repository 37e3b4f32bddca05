"""Invoices: issued in the transaction that completes a purchase, voided by a full refund, read."""

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


def issue_invoice(
    uow: UnitOfWork, purchase: Purchase, policy: InvoicePolicy, *, now: datetime, ids: IdGenerator
) -> Invoice | None:
    """Issue the invoice of a purchase completed in ``uow`` (which holds its lock), numbered in
    the same transaction; None when it already has one. The caller saves the purchase, which
    now names its invoice."""
    if purchase.invoice_id is not None:
        return None
    product = uow.products.get(purchase.product_id)
    invoice = Invoice.issue(
        id=ids.new(INVOICE_ID_PREFIX),
        sequence=uow.invoices.next_sequence(policy.series, now.year),
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


def invoice_follows_refunds(uow: UnitOfWork, purchase: Purchase, now: datetime) -> None:
    """Void the purchase's invoice once its refunds take back everything it paid, and make it
    paid again when a refund that did so fails (the caller holds the purchase's lock)."""
    if purchase.invoice_id is None:
        return
    invoice = uow.invoices.get(purchase.invoice_id)
    if invoice is not None and invoice.follow_refunds(purchase.refunded == purchase.amount, now):
        uow.invoices.set_status(invoice.id, invoice.status, now)


class InvoiceService(UseCase):
    """Reading invoices: each customer its own, merchants and admins anyone's."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        clock: Clock,
        ids: IdGenerator,
        documents: InvoiceDocuments,
    ) -> None:
        super().__init__(uow, clock, ids)
        self._documents = documents

    def get(self, invoice_id: str, principal: Principal) -> Invoice:
        """The invoice if the caller may see it; otherwise ``NotFoundError`` (never a hint)."""
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
        with self._uow() as uow:
            return uow.invoices.page(customer_id, limit=limit, cursor=cursor)
