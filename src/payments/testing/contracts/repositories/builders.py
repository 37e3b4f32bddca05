"""What the repository contract builds its cases from: customers, products, purchases, messages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from payments.domain.catalog import Product
from payments.domain.customer import Customer
from payments.domain.inbox import InboxMessage, InboxStatus
from payments.domain.ledger import CREDITS, EntryKind, LedgerEntry
from payments.domain.money import Money
from payments.domain.ports import UnitOfWork
from payments.domain.purchase import (
    GatewayObservation,
    ObservationSource,
    PaymentOutcome,
    Purchase,
    RoutingDecision,
)
from payments.domain.refund import Refund, RefundStatus

UnitOfWorkFactory = Callable[[], UnitOfWork]
"""Makes units of work on one store: each call a new unit of work on the same data."""

CommittedEvents = Callable[[], list[str]]
"""The names of the events committed to the store's outbox so far, in order."""

# A time with microseconds and a zone that is not UTC: it must come back as the same instant.
T0 = datetime(2026, 3, 14, 15, 9, 26, 535897, tzinfo=UTC)


def a_customer(customer_id: str = "cus_ana", email: str | None = "ana@example.com") -> Customer:
    return Customer(customer_id, email, "Ana", T0)


def a_product(
    product_id: str = "prd_hours", price: Money | None = None, *, created_at: datetime = T0
) -> Product:
    return Product.create(
        id=product_id,
        name="8 Hour Premium Package",
        kind="package",
        price=price or Money("79.99", "EUR"),
        credits="8",
        validity_days=60,
        created_at=created_at,
    )


def a_purchase(
    purchase_id: str = "pur_1",
    *,
    amount: Money | None = None,
    customer_id: str = "cus_ana",
    product_id: str = "prd_hours",
    reference: str | None = None,
    now: datetime = T0,
    credits: Decimal = Decimal("8"),
) -> Purchase:
    return Purchase.create(
        id=purchase_id,
        reference=reference or f"ref_{purchase_id}",
        customer_id=customer_id,
        product_id=product_id,
        amount=amount or Money("79.99", "EUR"),
        credits=credits,
        validity_days=60,
        country="PT",
        payment_method="card",
        routing=RoutingDecision(("stripe", "payu"), "*: stripe, payu"),
        now=now,
        return_url="https://shop.example/return",
    )


def seed(uow: UnitOfWork, *purchase_list: Purchase) -> None:
    """Commit the customer and product the purchases refer to, and the purchases."""
    with uow:
        uow.customers.add(a_customer())
        uow.products.add(a_product())
        for purchase in purchase_list:
            uow.purchases.add(purchase)
        uow.commit()


def as_stored(purchase: Purchase) -> Purchase:
    """What a repository gives back: no pending audit, no events."""
    return replace(purchase, pending_audit=[], events=[])


def observation(
    outcome: PaymentOutcome, event_id: str, reference: str = "pi_1"
) -> GatewayObservation:
    """What Stripe reports about the payment of ``a_purchase()`` (its amount, 79.99 EUR)."""
    return GatewayObservation(
        gateway="stripe",
        outcome=outcome,
        source=ObservationSource.NOTIFICATION,
        gateway_reference=reference,
        amount=Money("79.99", "EUR"),
        event_id=event_id,
    )


def a_message(
    message_id: str,
    *,
    provider: str = "stripe",
    event_id: str | None = None,
    status: InboxStatus = InboxStatus.RECEIVED,
    next_attempt_at: datetime | None = None,
    received_at: datetime = T0,
) -> InboxMessage:
    return InboxMessage(
        id=message_id,
        provider=provider,
        event_id=event_id or f"evt_{message_id}",
        event_type="payment_intent.succeeded",
        headers={"stripe-signature": "t=1,v1=abc", "content-type": "application/json"},
        body=b'{"id": "evt", "amount": 7999, "raw": "\xc3\xa9"}\x00\xff',
        received_at=received_at,
        status=status,
        attempts=1 if status is InboxStatus.FAILED else 0,
        next_attempt_at=next_attempt_at,
        last_error="GatewayUnavailableError: timeout" if status is InboxStatus.FAILED else None,
    )


def is_utc(moment: datetime | None) -> bool:
    return moment is not None and moment.utcoffset() == timedelta(0)


def a_refund(
    status: RefundStatus = RefundStatus.PENDING,
    *,
    reason: str | None = "requested_by_customer",
    gateway_reference: str | None = None,
) -> Refund:
    """A refund of 20.00 EUR of ``a_purchase()``."""
    return Refund(
        id="rfd_1",
        purchase_id="pur_1",
        customer_id="cus_ana",
        amount=Money("20.00", "EUR"),
        reason=reason,
        status=status,
        gateway="stripe",
        created_at=T0,
        updated_at=T0,
        gateway_reference=gateway_reference,
    )


def payment_entry() -> LedgerEntry:
    """The ledger entry of the money ``a_purchase()`` took."""
    return LedgerEntry(
        id="led_1",
        customer_id="cus_ana",
        kind=EntryKind.PURCHASE_PAYMENT,
        asset="EUR",
        amount=Decimal("79.99"),
        created_at=T0,
        source="purchase:pur_1:payment",
        purchase_id="pur_1",
    )


def credits_entry() -> LedgerEntry:
    """The ledger entry of the credits ``a_purchase()`` gave, valid for 60 days."""
    return replace(
        payment_entry(),
        id="led_2",
        kind=EntryKind.PURCHASE_CREDITS,
        asset=CREDITS,
        amount=Decimal("8"),
        expires_at=T0 + timedelta(days=60),
        source="purchase:pur_1:credits",
    )


def refund_entry(entry_id: str, amount: Decimal, *, asset: str = "EUR") -> LedgerEntry:
    """The money debit of refund ``rfd_1`` of ``a_purchase()``, a second after ``T0``."""
    return replace(
        payment_entry(),
        id=entry_id,
        kind=EntryKind.REFUND_PAYMENT,
        asset=asset,
        amount=amount,
        created_at=T0 + timedelta(seconds=1),
        source="refund:rfd_1:payment",
    )
