"""Domain objects as the JSON of the HTTP contract: money as strings, times as RFC 3339 UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Context, Decimal
from typing import TypeVar, overload

from msgspec import UNSET, Struct

from payments.domain.catalog import Product
from payments.domain.invoice import Invoice
from payments.domain.ledger import CREDITS, Account, LedgerEntry
from payments.domain.money import Money
from payments.domain.next_action import (
    CashVoucherAction,
    ClientSecretAction,
    NextAction,
    RedirectAction,
)
from payments.domain.ports import InvoicePage, PurchasePage
from payments.domain.purchase import ApplyResult, Purchase
from payments.domain.refund import Refund
from payments.domain.revenue import RevenueFigures, RevenueReport
from payments.domain.services.banks import BankList
from payments.domain.services.cash_vouchers import SettlementLine, SettlementReport
from payments.domain.services.notifications import Delivery, Receipt
from payments.domain.webhooks import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from payments.entrypoints.http import bodies
from payments.entrypoints.http import representations as rep
from payments.entrypoints.http.representations import SyncAnswer, WebhookAnswer

_CREDIT_QUANTUM = Decimal("0.01")
_WIDE = Context(prec=120)
Body = TypeVar("Body", bound=Struct)


@overload
def rfc3339(moment: datetime) -> str: ...
@overload
def rfc3339(moment: None) -> None: ...
def rfc3339(moment: datetime | None) -> str | None:
    """``2026-01-01T12:00:00Z`` (with microseconds only when there are some)."""
    if moment is None:
        return None
    utc = moment.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond:06d}"
    return text + "Z"


def credits_text(value: Decimal) -> str:
    """Credits with two decimals: ``"8.00"``."""
    return format(value.quantize(_CREDIT_QUANTUM, context=_WIDE), "f")


def money(value: Money) -> bodies.Money:
    """``{"amount": "79.99", "currency": "EUR"}``."""
    return bodies.Money(value.format_amount(), value.currency.code)


def _wire(value: object) -> object:
    """A domain value as the contract writes it: Money as ``{amount, currency}`` strings, times
    as RFC 3339 UTC; any other value as it is."""
    if isinstance(value, Money):
        return money(value)
    if isinstance(value, datetime):
        return rfc3339(value)
    return value


def _present(body: type[Body], source: object, **presented: object) -> Body:
    """The response ``body`` of a domain object: each field is ``source``'s attribute of the
    same name in its wire form (``_wire``), unless ``presented`` gives the field's value."""
    return body(
        **{
            name: presented[name] if name in presented else _wire(getattr(source, name))
            for name in body.__struct_fields__
        }
    )


def present_product(product: Product) -> rep.Product:
    return _present(rep.Product, product, credits=credits_text(product.credits))


def _whole_seconds(moment: datetime) -> str:
    """``2026-01-01T12:00:00Z``, as a voucher's expiry has always been written."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def present_next_action(action: NextAction | None) -> rep.NextAction | None:
    """What the payer must do next: confirm with a client secret, follow a redirect, or pay a
    cash voucher."""
    if isinstance(action, ClientSecretAction):
        return rep.ClientSecretAction(action.client_secret, action.publishable_key or UNSET)
    if isinstance(action, RedirectAction):
        return rep.RedirectAction(action.url)
    if isinstance(action, CashVoucherAction):
        return rep.CashVoucherAction(
            code=action.code,
            barcode=action.barcode,
            amount=money(action.amount),
            expires_at=_whole_seconds(action.expires_at),
            instructions=action.instructions,
        )
    return None


def present_purchase(purchase: Purchase) -> rep.Purchase:
    """The purchase of DESIGN §6, plus ``needs_review``, the ``refunded`` total and the
    provider's ``failure_code`` (its code only: provider messages are never echoed)."""
    return _present(
        rep.Purchase,
        purchase,
        credits=credits_text(purchase.credits),
        routing=rep.Routing(list(purchase.routing.chain), purchase.routing.reason),
        next_action=present_next_action(purchase.next_action),
    )


def present_purchase_page(page: PurchasePage) -> rep.PurchaseList:
    return rep.PurchaseList([present_purchase(p) for p in page.items], page.next_cursor)


def present_invoice(invoice: Invoice) -> rep.Invoice:
    figures = invoice.figures
    lines = [
        rep.InvoiceLine(line.description, line.quantity, money(line.unit_price), money(line.total))
        for line in invoice.lines
    ]
    return rep.Invoice(
        id=invoice.id,
        number=invoice.number,
        status=invoice.status,
        subtotal=money(figures.subtotal),
        purchase_id=invoice.purchase_id,
        tax=money(figures.tax),
        customer_id=invoice.customer_id,
        total=money(figures.total),
        country=invoice.country,
        tax_rate=format(invoice.tax_rate.normalize(), "f"),
        lines=lines,
        issued_at=rfc3339(invoice.issued_at),
        updated_at=rfc3339(invoice.updated_at),
    )


def present_invoice_page(page: InvoicePage) -> rep.InvoiceList:
    return rep.InvoiceList([present_invoice(i) for i in page.items], page.next_cursor)


def _figures(figures: RevenueFigures) -> tuple[bodies.Money, bodies.Money, bodies.Money, int]:
    return money(figures.gross), money(figures.refunds), money(figures.net), figures.count


def present_revenue(report: RevenueReport) -> rep.RevenueReport:
    """Revenue in one currency: every amount a Money of that currency."""
    return rep.RevenueReport(
        currency=report.currency.code,
        buckets=[rep.RevenueBucket(period, *_figures(f)) for period, f in report.buckets],
        totals=rep.RevenueFigures(*_figures(report.totals)),
        by_gateway=[rep.GatewayRevenue(name, *_figures(f)) for name, f in report.by_gateway],
    )


def present_refund(refund: Refund) -> rep.Refund:
    return _present(rep.Refund, refund)


def _entry_amount(entry: LedgerEntry) -> str:
    if entry.asset == CREDITS:
        return credits_text(entry.amount)
    return Money(entry.amount, entry.asset).format_amount()


def present_entry(entry: LedgerEntry) -> rep.LedgerEntry:
    return _present(rep.LedgerEntry, entry, kind=entry.kind.value, amount=_entry_amount(entry))


def present_account(account: Account, *, with_entries: bool = False) -> rep.Account:
    return rep.Account(
        customer_id=account.customer_id,
        credits=credits_text(account.credits),
        expired_credits=credits_text(account.expired_credits),
        total_paid=[money(m) for m in account.total_paid],
        entries=[present_entry(e) for e in account.entries] if with_entries else UNSET,
    )


SYNC_ANSWERS: dict[ApplyResult, SyncAnswer] = {
    ApplyResult.APPLIED: "processed",
    ApplyResult.ALREADY_APPLIED: "duplicate",
    ApplyResult.STALE: "ignored",
    ApplyResult.CONFLICTING: "conflict",
}
"""The apply step's domain words as the API has always answered them."""

WEBHOOK_ANSWERS: dict[Delivery, WebhookAnswer] = {
    Delivery.PROCESSED: "processed",
    Delivery.DUPLICATE: "duplicate",
    Delivery.IGNORED: "ignored",
    Delivery.CONFLICT: "conflict",
    Delivery.QUEUED: "queued",
    Delivery.RECEIVED: "received",
}


def present_sync(purchase: Purchase, result: ApplyResult | None) -> rep.SyncResult:
    """A purchase after a lookup at its provider, and what the apply step made of the answer."""
    return rep.SyncResult(
        present_purchase(purchase), SYNC_ANSWERS[result] if result is not None else None
    )


def present_receipt(receipt: Receipt) -> rep.WebhookReceipt:
    return rep.WebhookReceipt(WEBHOOK_ANSWERS[receipt.status])


def present_bank_list(listing: BankList) -> rep.BankList:
    """The PSE institutions of one country, with where and when they were fetched."""
    return rep.BankList(
        country=listing.country,
        gateway=listing.gateway,
        banks=[rep.Bank(bank.code, bank.name) for bank in listing.banks],
        fetched_at=rfc3339(listing.fetched_at),
        stale=listing.stale,
    )


def _endpoint_fields(endpoint: WebhookEndpoint) -> dict[str, object]:
    return {
        "id": endpoint.id,
        "url": endpoint.url,
        "events": list(endpoint.events),
        "status": endpoint.status.value,
        "created_at": rfc3339(endpoint.created_at),
        "disabled_at": rfc3339(endpoint.disabled_at),
        "disabled_reason": endpoint.disabled_reason,
    }


def present_webhook_endpoint(endpoint: WebhookEndpoint) -> rep.WebhookEndpoint:
    """An endpoint as listed and read: never its secret."""
    return rep.WebhookEndpoint(**_endpoint_fields(endpoint))  # type: ignore[arg-type]


def present_created_webhook_endpoint(
    endpoint: WebhookEndpoint, secret: str
) -> rep.CreatedWebhookEndpoint:
    """The answer to a creation: the endpoint and, this once, its signing secret."""
    return rep.CreatedWebhookEndpoint(**_endpoint_fields(endpoint), secret=secret)  # type: ignore[arg-type]


def present_webhook_delivery(delivery: WebhookDelivery) -> rep.WebhookDelivery:
    pending = delivery.status is DeliveryStatus.PENDING
    return rep.WebhookDelivery(
        id=delivery.id,
        endpoint_id=delivery.endpoint_id,
        event_id=delivery.event.event_id,
        event_type=delivery.event.name,
        status=delivery.status.value,
        attempts=delivery.attempts,
        answer_code=delivery.answer_code,
        error=delivery.error,
        created_at=rfc3339(delivery.created_at),
        next_attempt_at=rfc3339(delivery.next_attempt_at) if pending else None,
        last_attempt_at=rfc3339(delivery.last_attempt_at),
        delivered_at=rfc3339(delivery.delivered_at),
    )


def present_settlement(report: SettlementReport) -> rep.SettlementReport:
    """A settlement file's report, row by row."""

    def lines(items: list[SettlementLine]) -> list[rep.SettlementLine]:
        return [rep.SettlementLine(item.line, item.code, item.reason) for item in items]

    return rep.SettlementReport(
        applied=list(report.applied),
        duplicate=lines(report.duplicate),
        unknown=lines(report.unknown),
        mismatched=lines(report.mismatched),
    )
