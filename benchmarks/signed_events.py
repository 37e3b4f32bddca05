"""Signed ``payment_intent.succeeded`` deliveries in Stripe's wire shape, ready to post."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import stripe

API_VERSION = "2026-09-30.endive"
WEBHOOK_PATH = "/v1/webhooks/stripe"
# What Stripe's webhook sender puts beside the signature (docs.stripe.com/webhooks).
STRIPE_HEADERS = {
    "Content-Type": "application/json; charset=utf-8",
    "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    "Accept": "*/*; q=0.5, application/xml",
    "Cache-Control": "no-cache",
}


@dataclass(frozen=True, slots=True)
class SeededPurchase:
    """What an event needs to know about a purchase the benchmark stored."""

    purchase_id: str
    reference: str
    intent_id: str
    amount_minor: int
    currency: str  # lower-case, as Stripe writes it


@dataclass(frozen=True, slots=True)
class SignedDelivery:
    """One webhook as Stripe would send it: the raw body and its ``Stripe-Signature``."""

    event_id: str
    body: bytes
    signature: str

    def headers(self) -> dict[str, str]:
        return {**STRIPE_HEADERS, "Stripe-Signature": self.signature}


def intent_succeeded_event(purchase: SeededPurchase, event_id: str, created: int) -> bytes:
    """The body of ``payment_intent.succeeded`` for ``purchase``, pretty-printed like Stripe's."""
    intent = {
        "id": purchase.intent_id,
        "object": "payment_intent",
        "amount": purchase.amount_minor,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": purchase.amount_minor,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic_async",
        "client_secret": f"{purchase.intent_id}_secret_benchNotARealSecret",
        "confirmation_method": "automatic",
        "created": created - 30,
        "currency": purchase.currency,
        "customer": None,
        "description": None,
        "last_payment_error": None,
        "latest_charge": purchase.intent_id.replace("pi_", "ch_", 1),
        "livemode": False,
        "metadata": {
            "purchase_reference": purchase.reference,
            "purchase_id": purchase.purchase_id,
        },
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": purchase.intent_id.replace("pi_", "pm_", 1),
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {
                "installments": None,
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": ["card"],
        "processing": None,
        "receipt_email": None,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": "succeeded",
        "transfer_data": None,
        "transfer_group": None,
    }
    event = {
        "id": event_id,
        "object": "event",
        "api_version": API_VERSION,
        "created": created,
        "data": {"object": intent},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": "payment_intent.succeeded",
    }
    return json.dumps(event, indent=2).encode("utf-8")


def build_events(purchases: Iterable[SeededPurchase], start: int = 0) -> list[tuple[str, bytes]]:
    """One ``(event id, body)`` per purchase; event ids are ``evt_bench_<n>`` from ``start``."""
    created = int(time.time())
    return [
        (f"evt_bench_{n}", intent_succeeded_event(p, f"evt_bench_{n}", created))
        for n, p in enumerate(purchases, start=start)
    ]


def sign(events: Sequence[tuple[str, bytes]], secret: str) -> list[SignedDelivery]:
    """Sign every body now, with the official SDK (one timestamp: Stripe's tolerance is 300 s)."""
    now = int(time.time())
    return [
        SignedDelivery(
            event_id,
            body,
            stripe.WebhookSignature.generate_signature_header(
                body.decode("utf-8"), secret, timestamp=now
            ),
        )
        for event_id, body in events
    ]


class Postable(Protocol):
    """One request the load generators post: a body and its headers."""

    @property
    def body(self) -> bytes: ...

    def headers(self) -> dict[str, str]: ...


def write_for_wrk(requests: Sequence[Postable], path: Path) -> None:
    """Write ``"<body length> <header count>\\n"``, one ``"Name: value\\n"`` line per header,
    then the body: the records ``webhooks.lua`` reads."""
    with path.open("wb") as out:
        for request in requests:
            headers = request.headers()
            out.write(b"%d %d\n" % (len(request.body), len(headers)))
            for name, value in headers.items():
                out.write(f"{name}: {value}\n".encode("ascii"))
            out.write(request.body)
