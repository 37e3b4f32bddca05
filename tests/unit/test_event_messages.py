"""An outbox event as a NATS message: subject, JSON body (no floats) and the dedupe header."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

from payments.adapters.events import event_body, event_headers, event_subject
from payments.domain.events import CreditsConsumed, PurchaseCompleted, StoredEvent
from payments.domain.money import Money

AT = datetime(2026, 3, 14, 15, 9, 26, 535897, tzinfo=UTC)


def _stored(event: PurchaseCompleted | CreditsConsumed) -> StoredEvent:
    return StoredEvent(7, "evt_01J", event.name, event.aggregate_id, AT, event.payload())


def test_a_completed_purchase_is_published_under_its_type_with_money_as_strings() -> None:
    completed = PurchaseCompleted(AT, "pur_1", "cus_1", Money("5.120", "KWD"), Decimal("8"), False)
    stored = _stored(completed)

    body = json.loads(event_body(stored), parse_float=lambda text: float("nan"))

    assert event_subject("payments", stored) == "payments.purchase.completed"
    assert event_headers(stored) == {"Nats-Msg-Id": "evt_01J"}
    assert body == {
        "id": "evt_01J",
        "type": "purchase.completed",
        "occurred_at": "2026-03-14T15:09:26.535897+00:00",
        "aggregate_id": "pur_1",
        "data": {
            "occurred_at": "2026-03-14T15:09:26.535897+00:00",
            "purchase_id": "pur_1",
            "customer_id": "cus_1",
            "amount": {"amount": "5.120", "currency": "KWD"},
            "credits": "8",
            "needs_review": False,
        },
    }


def test_events_about_a_customer_name_the_customer_as_their_aggregate() -> None:
    consumed = CreditsConsumed(AT, "cus_1", Decimal("1.5"), "ref_1")
    assert consumed.aggregate_id == "cus_1"
    assert event_subject("acme.payments", _stored(consumed)) == "acme.payments.credits.consumed"
