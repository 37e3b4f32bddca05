"""Domain events: purchase events carry the purchase and its customer, payloads keep their order."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from payments.domain.events import (
    PurchaseCompleted,
    PurchaseCreated,
    PurchaseEvent,
    PurchaseStatusChanged,
)
from payments.domain.money import Money

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def test_purchase_events_name_the_purchase_and_its_customer() -> None:
    events: list[PurchaseEvent] = [
        PurchaseCreated(T0, "pur_1", "cus_ana", "prd_hours", Money("10", "EUR"), "stripe"),
        PurchaseStatusChanged(T0, "pur_1", "cus_ana", "pending", "completed", "response:succeeded"),
        PurchaseCompleted(T0, "pur_1", "cus_ana", Money("10", "EUR"), Decimal(5), False),
    ]
    assert {(e.purchase_id, e.customer_id) for e in events} == {("pur_1", "cus_ana")}


def test_purchase_event_payload_lists_purchase_and_customer_first() -> None:
    created = PurchaseCreated(T0, "pur_1", "cus_ana", "prd_hours", Money("10", "EUR"), None)
    assert created.payload() == {
        "occurred_at": "2026-01-05T12:00:00+00:00",
        "purchase_id": "pur_1",
        "customer_id": "cus_ana",
        "product_id": "prd_hours",
        "amount": {"amount": "10.00", "currency": "EUR"},
        "gateway": None,
    }
    assert list(created.payload()) == [
        "occurred_at",
        "purchase_id",
        "customer_id",
        "product_id",
        "amount",
        "gateway",
    ]
