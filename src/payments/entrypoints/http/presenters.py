"""Domain objects as the JSON of the HTTP contract: money as strings, times as RFC 3339 UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Context, Decimal
from enum import Enum
from typing import overload

from payments.domain.catalog import Product
from payments.domain.ledger import CREDITS, Account, LedgerEntry
from payments.domain.money import Money
from payments.domain.purchase import Purchase
from payments.domain.refund import Refund
from payments.domain.services.banks import BankList

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


def money(value: Money) -> dict[str, str]:
    """``{"amount": "79.99", "currency": "EUR"}``."""
    return value.to_dict()


def present_product(product: Product) -> dict[str, object]:
    return {
        "id": product.id,
        "name": product.name,
        "kind": product.kind.value,
        "price": money(product.price),
        "credits": credits_text(product.credits),
        "validity_days": product.validity_days,
        "billing_cycle": product.billing_cycle.value if product.billing_cycle else None,
        "trial_days": product.trial_days,
        "active": product.active,
        "created_at": rfc3339(product.created_at),
    }


def present_purchase(purchase: Purchase) -> dict[str, object]:
    """The purchase of DESIGN §6, plus ``needs_review``, the ``refunded`` total and the
    provider's ``failure_code`` (its code only: provider messages are never echoed)."""
    return {
        "id": purchase.id,
        "reference": purchase.reference,
        "status": purchase.status.value,
        "customer_id": purchase.customer_id,
        "product_id": purchase.product_id,
        "amount": money(purchase.amount),
        "credits": credits_text(purchase.credits),
        "gateway": purchase.gateway,
        "gateway_reference": purchase.gateway_reference,
        "routing": {"chain": list(purchase.routing.chain), "reason": purchase.routing.reason},
        "next_action": purchase.next_action.to_dict() if purchase.next_action else None,
        "created_at": rfc3339(purchase.created_at),
        "updated_at": rfc3339(purchase.updated_at),
        "needs_review": purchase.needs_review,
        "refunded": money(purchase.refunded),
        "failure_code": purchase.failure_code,
    }


def present_refund(refund: Refund) -> dict[str, object]:
    return {
        "id": refund.id,
        "purchase_id": refund.purchase_id,
        "amount": money(refund.amount),
        "status": refund.status.value,
        "reason": refund.reason,
        "gateway_reference": refund.gateway_reference,
        "created_at": rfc3339(refund.created_at),
    }


def _entry_amount(entry: LedgerEntry) -> str:
    if entry.asset == CREDITS:
        return credits_text(entry.amount)
    return Money(entry.amount, entry.asset).format_amount()


def present_entry(entry: LedgerEntry) -> dict[str, object]:
    return {
        "id": entry.id,
        "kind": entry.kind.value,
        "asset": entry.asset,
        "amount": _entry_amount(entry),
        "purchase_id": entry.purchase_id,
        "reference": entry.reference,
        "expires_at": rfc3339(entry.expires_at),
        "created_at": rfc3339(entry.created_at),
    }


def present_account(account: Account, *, with_entries: bool = False) -> dict[str, object]:
    out: dict[str, object] = {
        "customer_id": account.customer_id,
        "credits": credits_text(account.credits),
        "expired_credits": credits_text(account.expired_credits),
        "total_paid": [money(m) for m in account.total_paid],
    }
    if with_entries:
        out["entries"] = [present_entry(e) for e in account.entries]
    return out


def json_default(value: object) -> object:
    """For ``json.dumps``: what a summary may hold besides plain JSON (never a float path)."""
    if isinstance(value, Money):
        return value.to_dict()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def present_bank_list(listing: BankList) -> dict[str, object]:
    """The PSE institutions of one country, with where and when they were fetched."""
    return {
        "country": listing.country,
        "gateway": listing.gateway,
        "banks": [{"code": bank.code, "name": bank.name} for bank in listing.banks],
        "fetched_at": rfc3339(listing.fetched_at),
        "stale": listing.stale,
    }
