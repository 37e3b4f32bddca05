"""Invoices as PDF documents, drawn with fpdf2 (no I/O: the bytes are returned)."""

from __future__ import annotations

from payments.adapters.deferred import fpdf_document
from payments.domain.invoice import Invoice
from payments.domain.ports import InvoiceDocuments

_FONT = "helvetica"
_WIDTHS = (95, 20, 37, 38)  # description, quantity, unit price, line total (mm; A4 minus margins)


def _latin1(text: str) -> str:
    """fpdf2's core fonts draw Latin-1 only: anything else becomes '?', never an error."""
    return text.encode("latin-1", "replace").decode("latin-1")


class FpdfInvoiceDocuments(InvoiceDocuments):
    """One A4 page: the number and dates, the customer and purchase, the lines, tax and total."""

    def __init__(self, issuer: str = "payments") -> None:
        self._issuer = issuer

    def pdf(self, invoice: Invoice) -> bytes:
        if invoice.number is None:
            raise ValueError(f"Invoice {invoice.id} is drawn before it is numbered.")
        document = fpdf_document()(format="A4")
        document.set_title(invoice.number)
        document.set_creator(self._issuer)
        document.add_page()
        document.set_font(_FONT, style="B", size=16)
        document.cell(0, 10, f"Invoice {invoice.number}", new_x="LMARGIN", new_y="NEXT")
        document.set_font(_FONT, size=10)
        for label, value in (
            ("Status", invoice.status.value),
            ("Issued", invoice.issued_at.strftime("%Y-%m-%d %H:%M UTC")),
            ("Customer", invoice.customer_id),
            ("Purchase", invoice.purchase_id),
            ("Country", invoice.country),
        ):
            document.cell(0, 6, _latin1(f"{label}: {value}"), new_x="LMARGIN", new_y="NEXT")
        document.ln(4)
        document.set_font(_FONT, style="B", size=10)
        for width, heading in zip(
            _WIDTHS, ("Description", "Quantity", "Unit price", "Total"), strict=True
        ):
            document.cell(width, 7, heading, border=1)
        document.ln()
        document.set_font(_FONT, size=10)
        for line in invoice.lines:
            cells = (
                _latin1(line.description),
                str(line.quantity),
                str(line.unit_price),
                str(line.total),
            )
            for width, text in zip(_WIDTHS, cells, strict=True):
                document.cell(width, 7, text, border=1)
            document.ln()
        document.ln(3)
        figures = invoice.figures
        label_width = sum(_WIDTHS[:3])
        for label, amount in (
            ("Subtotal", figures.subtotal),
            (f"Tax ({invoice.tax_rate}%, included in prices)", figures.tax),
            ("Total", figures.total),
        ):
            document.cell(label_width, 7, label, align="R")
            document.cell(_WIDTHS[3], 7, str(amount), align="R", new_x="LMARGIN", new_y="NEXT")
        return bytes(document.output())
