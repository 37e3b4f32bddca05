"""Invoices (JSON and PDF) and revenue statistics."""

from __future__ import annotations

import falcon

from payments.domain.services.invoicing import InvoiceService
from payments.domain.services.statistics import StatisticsService
from payments.entrypoints.http.context import principal_of
from payments.entrypoints.http.presenters import (
    present_invoice,
    present_invoice_page,
    present_revenue,
)
from payments.entrypoints.http.resources.purchases import page_limit

PDF = "application/pdf"


class _OnInvoices:
    """A resource answered by the invoice use cases."""

    def __init__(self, invoices: InvoiceService) -> None:
        self._invoices = invoices


class InvoicesResource(_OnInvoices):
    """``GET /v1/invoices?customer_id=``: one customer's invoices, newest first (a customer key:
    its own)."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        page = self._invoices.list_invoices(
            principal_of(req),
            customer_id=req.get_param("customer_id") or None,
            limit=page_limit(req),
            cursor=req.get_param("cursor") or None,
        )
        resp.media = present_invoice_page(page)


class InvoiceResource(_OnInvoices):
    """``GET /v1/invoices/{invoice_id}``: the owner, merchants and admins; others get 404."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, invoice_id: str) -> None:
        resp.media = present_invoice(self._invoices.get(invoice_id, principal_of(req)))


class InvoicePdfResource(_OnInvoices):
    """``GET /v1/invoices/{invoice_id}.pdf``: the same invoice as a PDF document."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, invoice_id: str) -> None:
        invoice, document = self._invoices.pdf(invoice_id, principal_of(req))
        resp.content_type = PDF
        resp.downloadable_as = f"{invoice.number}.pdf"
        resp.data = document


class RevenueResource:
    """``GET /v1/stats/revenue?currency=&from=&to=&granularity=`` (merchants and admins)."""

    def __init__(self, statistics: StatisticsService) -> None:
        self._statistics = statistics

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        report = self._statistics.revenue(
            principal_of(req),
            currency=req.get_param("currency"),
            first=req.get_param("from"),
            last=req.get_param("to"),
            granularity=req.get_param("granularity"),
        )
        resp.media = present_revenue(report)
