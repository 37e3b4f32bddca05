"""Domain objects as the JSON of the HTTP contract: money as strings, times as RFC 3339 UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Context, Decimal
from typing import TypeVar, overload

from msgspec import UNSET, Struct

from payments.domain.catalog import Product
from payments.domain.ledger import CREDITS, Account, LedgerEntry
from payments.domain.money import Money
from payments.domain.ports import PurchasePage
from payments.domain.purchase import (
    ApplyResult,
    CashVoucherAction,
    ClientSecretAction,
    NextAction,
    Purchase,
    RedirectAction,
)
from payments.domain.refund import Refund
from payments.domain.services.banks import BankList
from payments.domain.services.notifications import Delivery, Receipt
from payments.entrypoints.http import bodies
from payments.entrypoints.http import representations as rep
from payments.entrypoints.http.representations import SyncAnswer, WebhookAnswer

Body = TypeVar("Body", bound=Struct)

_CREDIT_QUANTUM = Decimal("0.01")
_WIDE = Context(prec=120)


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
    return rep.Product(
        id=product.id,
        name=product.name,
        kind=product.kind,
        price=money(product.price),
        credits=credits_text(product.credits),
        validity_days=product.validity_days,
        billing_cycle=product.billing_cycle,
        trial_days=product.trial_days,
        active=product.active,
        created_at=rfc3339(product.created_at),
    )


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
    return rep.Purchase(
        id=purchase.id,
        reference=purchase.reference,
        status=purchase.status,
        customer_id=purchase.customer_id,
        product_id=purchase.product_id,
        amount=money(purchase.amount),
        credits=credits_text(purchase.credits),
        gateway=purchase.gateway,
        gateway_reference=purchase.gateway_reference,
        routing=rep.Routing(list(purchase.routing.chain), purchase.routing.reason),
        next_action=present_next_action(purchase.next_action),
        created_at=rfc3339(purchase.created_at),
        updated_at=rfc3339(purchase.updated_at),
        needs_review=purchase.needs_review,
        refunded=money(purchase.refunded),
        failure_code=purchase.failure_code,
    )


def present_purchase_page(page: PurchasePage) -> rep.PurchaseList:
    return rep.PurchaseList([present_purchase(p) for p in page.items], page.next_cursor)


def present_refund(refund: Refund) -> rep.Refund:
    return rep.Refund(
        id=refund.id,
        purchase_id=refund.purchase_id,
        amount=money(refund.amount),
        status=refund.status,
        reason=refund.reason,
        gateway_reference=refund.gateway_reference,
        created_at=rfc3339(refund.created_at),
    )


def _entry_amount(entry: LedgerEntry) -> str:
    if entry.asset == CREDITS:
        return credits_text(entry.amount)
    return Money(entry.amount, entry.asset).format_amount()


def present_entry(entry: LedgerEntry) -> rep.LedgerEntry:
    return rep.LedgerEntry(
        id=entry.id,
        kind=entry.kind.value,
        asset=entry.asset,
        amount=_entry_amount(entry),
        purchase_id=entry.purchase_id,
        reference=entry.reference,
        expires_at=rfc3339(entry.expires_at),
        created_at=rfc3339(entry.created_at),
    )


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
