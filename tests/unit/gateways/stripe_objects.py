"""Realistic Stripe objects and an offline gateway, shared by the Stripe adapter's tests."""

from __future__ import annotations

import json
from typing import Any

import stripe

from payments.adapters.gateways.stripe import (
    StripeGateway,
)

SECRET = "whsec_test_primary_secret"
OLD_SECRET = "whsec_test_previous_secret"
NOW = 1_790_000_000


def sign(body: bytes, secret: str = SECRET, timestamp: int = NOW) -> str:
    return str(
        stripe.WebhookSignature.generate_signature_header(
            body.decode("utf-8"), secret, timestamp=timestamp
        )
    )


def gateway(*secrets: str) -> StripeGateway:
    client = stripe.StripeClient("sk_test_fake_offline_never_called")
    return StripeGateway(client, list(secrets or (SECRET,)), clock=lambda: float(NOW))


# -- realistic Stripe objects (shape of API version 2026-10-28, trimmed to what matters) ----------


def intent(status: str = "succeeded", **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "pi_3QxYZaLkdIwHu7ix0ABCDEFG",
        "object": "payment_intent",
        "amount": 7999,
        "amount_capturable": 0,
        "amount_received": 7999 if status == "succeeded" else 0,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic_async",
        "client_secret": "pi_3QxYZaLkdIwHu7ix0ABCDEFG_secret_fake",
        "confirmation_method": "automatic",
        "created": NOW - 60,
        "currency": "eur",
        "customer": None,
        "description": None,
        "last_payment_error": None,
        "latest_charge": "ch_3QxYZaLkdIwHu7ix0HIJKLMN",
        "livemode": False,
        "metadata": {"purchase_reference": "PUR-2026-000042", "purchase_id": "pur_01JABC"},
        "next_action": None,
        "payment_method": "pm_1QxYZaLkdIwHu7ixCard",
        "payment_method_types": ["card"],
        "status": status,
    }
    data.update(overrides)
    return data


DECLINE = {
    "type": "card_error",
    "code": "card_declined",
    "decline_code": "insufficient_funds",
    "message": "Your card has insufficient funds.",
    "charge": "ch_3QxYZaLkdIwHu7ix0HIJKLMN",
    "doc_url": "https://docs.stripe.com/error-codes/card-declined",
}


def refund(status: str = "succeeded", **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "re_3QxYZaLkdIwHu7ix0REFUND1",
        "object": "refund",
        "amount": 2000,
        "balance_transaction": "txn_3QxYZaLkdIwHu7ix0TXN",
        "charge": "ch_3QxYZaLkdIwHu7ix0HIJKLMN",
        "created": NOW - 30,
        "currency": "eur",
        "metadata": {"refund_id": "rfd_01JREF"},
        "payment_intent": "pi_3QxYZaLkdIwHu7ix0ABCDEFG",
        "reason": "requested_by_customer",
        "receipt_number": None,
        "status": status,
    }
    data.update(overrides)
    return data


def event(event_type: str, obj: dict[str, Any], event_id: str = "evt_1QxYZaLkdIwHu7ix") -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "api_version": "2026-10-28.endive",
            "created": NOW,
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": "req_fake", "idempotency_key": "pur_01JABC:start"},
            "type": event_type,
        },
        indent=2,
    ).encode()
