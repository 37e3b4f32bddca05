"""Row <-> domain translations: pure functions between table rows and domain objects."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from operator import attrgetter, itemgetter
from typing import Any, cast

import msgspec
from sqlalchemy import RowMapping

from payments.domain.access import ApiKey, Role
from payments.domain.cash_voucher import CashVoucher, VoucherStatus
from payments.domain.catalog import BillingCycle, Product, ProductKind
from payments.domain.currency import get_currency
from payments.domain.customer import Customer
from payments.domain.events import DomainEvent, StoredEvent
from payments.domain.idempotency import IdempotencyRecord, OutcomeKind, UnknownOutcome
from payments.domain.inbox import InboxMessage, InboxStatus
from payments.domain.ledger import CREDITS, EntryKind, LedgerEntry
from payments.domain.money import Money
from payments.domain.next_action import (
    CashVoucherAction,
    ClientSecretAction,
    NextAction,
    RedirectAction,
)
from payments.domain.purchase import AuditRecord, Purchase, PurchaseStatus, RoutingDecision
from payments.domain.refund import Refund, RefundStatus

Row = RowMapping | Mapping[str, Any]
"""A row by column name: SQLAlchemy's ``RowMapping``, or a dict from ``direct.py``."""


def _exact(amount: Decimal, exponent: int) -> Decimal:
    """``amount`` with ``exponent`` decimals when that loses nothing (79.990000 -> 79.99)."""
    quantized = amount.quantize(_QUANTA[exponent])
    return quantized if quantized == amount else amount.normalize()


_QUANTA = tuple(Decimal(1).scaleb(-exponent) for exponent in range(5))
"""One minor unit for each currency exponent (0 to 4, as ``Currency`` allows)."""


def _plain(amount: Decimal) -> Decimal:
    """``amount`` without trailing fractional zeros (8.000000 -> 8, 2.500000 -> 2.5)."""
    if amount == amount.to_integral_value():
        return amount.quantize(Decimal(1))
    return amount.normalize()


def money_from_columns(amount: Decimal, currency: str) -> Money:
    """Money read back from an amount column and a currency column, in the currency's decimals."""
    resolved = get_currency(currency)
    return Money(_exact(amount, resolved.exponent), resolved)


def _json(value: object) -> str:
    """``value`` as compact JSON text, keys sorted, anything else JSON lacks as its ``str``.

    Plain values (str, int, bool, None, and lists and str-keyed dicts of them) are encoded by
    msgspec, several times faster, when that gives the very text ``json.dumps`` would: pure
    ASCII without DEL (which ``json.dumps`` escapes, as it does any non-ASCII character)."""
    if _native(value):
        encoded = _ENCODER.encode(value)
        if encoded.isascii() and b"\x7f" not in encoded:
            return encoded.decode("ascii")
    return json.dumps(value, separators=(",", ":"), sort_keys=True, default=str)


_ENCODER = msgspec.json.Encoder(order="sorted")
_SCALARS = frozenset({str, int, bool, type(None)})


def _native(value: object) -> bool:
    """Whether ``value`` is made of JSON's own types only (exactly: no subclasses, no floats,
    whose text msgspec may write otherwise)."""
    kind = value.__class__
    if kind in _SCALARS:
        return True
    if kind is dict:
        for key, item in cast(dict[object, object], value).items():
            if key.__class__ is not str or (item.__class__ not in _SCALARS and not _native(item)):
                return False
        return True
    if kind is list:
        for item in cast(list[object], value):
            if item.__class__ not in _SCALARS and not _native(item):
                return False
        return True
    return False


def _json_or_none(value: object | None) -> str | None:
    return _json(value) if value is not None else None


def _loads(text: str) -> Any:
    """The value of stored JSON text, as ``json.loads`` reads it: by msgspec (several times
    faster, the same values), by ``json.loads`` what msgspec refuses (NaN, lone surrogates,
    out-of-range numbers)."""
    try:
        return _DECODE(text)
    except msgspec.DecodeError:
        return json.loads(text)


_DECODE = msgspec.json.Decoder().decode


def _loads_or_none(text: str | None) -> Any:
    return _loads(text) if text is not None else None


class SameColumns:
    """Columns stored exactly as the attributes of the same names (at least two)."""

    __slots__ = ("_attributes", "_columns", "names")

    def __init__(self, *names: str) -> None:
        self.names = names
        self._attributes = attrgetter(*names)
        self._columns = itemgetter(*names)

    def of(self, source: object) -> dict[str, Any]:
        """The attributes of ``source``, by name."""
        return dict(zip(self.names, self._attributes(source), strict=True))

    def read(self, row: Row) -> dict[str, Any]:
        """The columns of ``row``, by name."""
        return dict(zip(self.names, self._columns(row), strict=True))


_CLIENT_SECRET = SameColumns("type", "client_secret", "publishable_key")
_REDIRECT = SameColumns("type", "url")
_VOUCHER = SameColumns("type", "code", "barcode", "instructions")


def next_action_to_json(action: NextAction | None) -> str | None:
    """The next action as JSON text, keeping full precision (unlike its wire form)."""
    if action is None:
        return None
    if isinstance(action, ClientSecretAction):
        data: dict[str, object] = _CLIENT_SECRET.of(action)
    elif isinstance(action, RedirectAction):
        data = _REDIRECT.of(action)
    else:
        data = {
            **_VOUCHER.of(action),
            "amount": action.amount.to_dict(),
            "expires_at": action.expires_at.isoformat(),
        }
    return _json(data)


def next_action_from_json(text: str | None) -> NextAction | None:
    """The next action stored by ``next_action_to_json``."""
    if text is None:
        return None
    data = _loads(text)
    kind = data["type"]
    if kind == "client_secret":
        return ClientSecretAction(data["client_secret"], data.get("publishable_key"))
    if kind == "redirect":
        return RedirectAction(data["url"])
    if kind == "cash_voucher":
        return CashVoucherAction(
            code=data["code"],
            barcode=data["barcode"],
            amount=Money.from_dict(data["amount"]),
            expires_at=datetime.fromisoformat(data["expires_at"]),
            instructions=data["instructions"],
        )
    raise ValueError(f"Unknown next action type {kind!r}.")


_PRODUCT_SAME = SameColumns("id", "name", "validity_days", "trial_days", "active", "created_at")


def product_to_row(product: Product) -> dict[str, Any]:
    cycle = product.billing_cycle
    return {
        **_PRODUCT_SAME.of(product),
        "kind": product.kind.value,
        "price": product.price.amount,
        "currency": product.price.currency.code,
        "credits": product.credits,
        "billing_cycle": cycle.value if cycle else None,
    }


def product_from_row(row: Row) -> Product:
    cycle = row["billing_cycle"]
    return Product(
        **_PRODUCT_SAME.read(row),
        kind=ProductKind(row["kind"]),
        price=money_from_columns(row["price"], row["currency"]),
        credits=_plain(row["credits"]),
        billing_cycle=BillingCycle(cycle) if cycle else None,
    )


_CUSTOMER_SAME = SameColumns("id", "email", "name", "created_at")


def customer_to_row(customer: Customer) -> dict[str, Any]:
    return _CUSTOMER_SAME.of(customer)


def customer_from_row(row: Row) -> Customer:
    return Customer(**_CUSTOMER_SAME.read(row))


_PURCHASE_SAME = SameColumns(
    "id", "reference", "customer_id", "product_id", "validity_days", "country", "payment_method",
    "gateway", "gateway_reference", "return_url", "needs_review", "review_reason", "failure_code",
    "failure_message", "created_at", "updated_at", "completed_at", "version", "invoice_id",
)  # fmt: skip


def purchase_to_row(purchase: Purchase) -> dict[str, Any]:
    """Every column of the purchase; ``version`` is the one it was read at."""
    refunded = purchase.refunded_amount
    return {
        **_PURCHASE_SAME.of(purchase),
        "amount": purchase.amount.amount,
        "currency": purchase.amount.currency.code,
        "credits": purchase.credits,
        "routing_chain": _json(list(purchase.routing.chain)),
        "routing_reason": purchase.routing.reason,
        "status": purchase.status.value,
        "next_action": next_action_to_json(purchase.next_action),
        "refunded_amount": refunded.amount if refunded is not None else None,
    }


def purchase_from_row(row: Row) -> Purchase:
    currency = row["currency"]
    refunded = row["refunded_amount"]
    return Purchase(
        **_PURCHASE_SAME.read(row),
        amount=money_from_columns(row["amount"], currency),
        credits=_plain(row["credits"]),
        routing=RoutingDecision(tuple(_loads(row["routing_chain"])), row["routing_reason"]),
        status=PurchaseStatus(row["status"]),
        next_action=next_action_from_json(row["next_action"]),
        refunded_amount=money_from_columns(refunded, currency) if refunded is not None else None,
    )


_AUDIT_SAME = SameColumns("purchase_id", "cause", "actor", "event_id", "at")


def audit_to_row(record: AuditRecord) -> dict[str, Any]:
    before = record.from_status
    return {
        **_AUDIT_SAME.of(record),
        "from_status": before.value if before is not None else None,
        "to_status": record.to_status.value,
    }


def audit_from_row(row: Row) -> AuditRecord:
    before = row["from_status"]
    return AuditRecord(
        **_AUDIT_SAME.read(row),
        from_status=PurchaseStatus(before) if before is not None else None,
        to_status=PurchaseStatus(row["to_status"]),
    )


class _Priced(SameColumns):
    """A record's columns of the same names, its ``amount`` (Money) in the ``amount`` and
    ``currency`` columns, and its ``status`` enum by value."""

    __slots__ = ("_status",)

    def __init__(self, status: Callable[[str], object], *names: str) -> None:
        super().__init__(*names)
        self._status = status

    def row(self, source: Any) -> dict[str, Any]:
        """Every column of ``source``."""
        money = source.amount
        priced = {"amount": money.amount, "currency": money.currency.code}
        return {**self.of(source), **priced, "status": source.status.value}

    def fields(self, row: Row) -> dict[str, Any]:
        """The record's fields read back from ``row``."""
        amount = money_from_columns(row["amount"], row["currency"])
        return {**self.read(row), "amount": amount, "status": self._status(row["status"])}


_REFUND = _Priced(
    RefundStatus, "id", "purchase_id", "customer_id", "reason", "gateway", "gateway_reference",
    "failure_message", "created_at", "updated_at",
)  # fmt: skip


def refund_to_row(refund: Refund) -> dict[str, Any]:
    return _REFUND.row(refund)


def refund_from_row(row: Row) -> Refund:
    return Refund(**_REFUND.fields(row))


_LEDGER_SAME = SameColumns(
    "id", "customer_id", "asset", "source", "created_at", "purchase_id", "expires_at", "reference",
)  # fmt: skip


def ledger_entry_to_row(entry: LedgerEntry) -> dict[str, Any]:
    return {**_LEDGER_SAME.of(entry), "kind": entry.kind.value, "amount": entry.amount}


def ledger_entry_from_row(row: Row) -> LedgerEntry:
    asset = row["asset"]
    amount = row["amount"]
    exact = _plain(amount) if asset == CREDITS else _exact(amount, get_currency(asset).exponent)
    return LedgerEntry(**_LEDGER_SAME.read(row), kind=EntryKind(row["kind"]), amount=exact)


_INBOX_SAME = SameColumns(
    "id", "provider", "event_id", "event_type", "received_at", "attempts", "next_attempt_at",
    "last_error", "processed_at", "purchase_id",
)  # fmt: skip


def inbox_to_row(message: InboxMessage) -> dict[str, Any]:
    return {
        **_INBOX_SAME.of(message),
        "headers": _json(message.headers),
        "body": message.body,
        "status": message.status.value,
    }


def inbox_from_row(row: Row) -> InboxMessage:
    return InboxMessage(
        **_INBOX_SAME.read(row),
        headers=_loads(row["headers"]),
        body=bytes(row["body"]),
        status=InboxStatus(row["status"]),
    )


_IDEMPOTENCY_SAME = SameColumns(
    "scope", "key", "fingerprint", "created_at", "expires_at", "response_status"
)


def outcome_to_text(outcome: UnknownOutcome | None) -> str | None:
    """``purchase:<id>`` or ``refund:<id>``: the ``unknown_outcome`` column."""
    return None if outcome is None else f"{outcome.kind.value}:{outcome.id}"


def _outcome_from_text(text: str | None) -> UnknownOutcome | None:
    if text is None:
        return None
    kind, _, record_id = text.partition(":")
    return UnknownOutcome(OutcomeKind(kind), record_id)


def idempotency_to_row(record: IdempotencyRecord) -> dict[str, Any]:
    return {
        **_IDEMPOTENCY_SAME.of(record),
        "response_body": record.response_body,
        "response_headers": _json_or_none(record.response_headers),
        "unknown_outcome": outcome_to_text(record.unknown_outcome),
    }


def idempotency_from_row(row: Row) -> IdempotencyRecord:
    body = row["response_body"]
    return IdempotencyRecord(
        **_IDEMPOTENCY_SAME.read(row),
        response_body=bytes(body) if body is not None else None,
        response_headers=_loads_or_none(row["response_headers"]),
        unknown_outcome=_outcome_from_text(row["unknown_outcome"]),
    )


_API_KEY_SAME = SameColumns(
    "id", "prefix", "secret_hash", "customer_id", "created_at", "revoked_at"
)


def api_key_to_row(key: ApiKey) -> dict[str, Any]:
    return {**_API_KEY_SAME.of(key), "role": key.role.value}


def api_key_from_row(row: Row) -> ApiKey:
    return ApiKey(**_API_KEY_SAME.read(row), role=Role(row["role"]))


def event_to_row(event: DomainEvent, event_id: str) -> dict[str, Any]:
    return {
        "name": event.name,
        "payload": _json(event.payload()),
        "occurred_at": event.occurred_at,
        "event_id": event_id,
        "aggregate_id": event.aggregate_id,
    }


def legacy_event_id(position: int) -> str:
    """The event id of an outbox row written before ids were (migration 0004 writes the same)."""
    return f"outbox_{position}"


def stored_event_from_row(row: Row) -> StoredEvent:
    data = _loads(row["payload"])
    aggregate_id = row["aggregate_id"]
    if aggregate_id is None:  # a row written before 0004: its payload names the aggregate
        aggregate_id = str(data.get("purchase_id") or data.get("customer_id") or "")
    return StoredEvent(
        position=row["id"],
        event_id=row["event_id"] or legacy_event_id(row["id"]),
        name=row["name"],
        aggregate_id=aggregate_id,
        occurred_at=row["occurred_at"],
        data=data,
        published_at=row["published_at"],
    )


_VOUCHER_ROW = _Priced(
    VoucherStatus, "code", "purchase_id", "purchase_reference", "barcode", "created_at",
    "expires_at", "receipt_number", "paid_at", "closed_at",
)  # fmt: skip


def voucher_to_row(voucher: CashVoucher) -> dict[str, Any]:
    return _VOUCHER_ROW.row(voucher)


def voucher_from_row(row: Row) -> CashVoucher:
    return CashVoucher(**_VOUCHER_ROW.fields(row))
