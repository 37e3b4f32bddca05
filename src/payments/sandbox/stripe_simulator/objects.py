"""The Stripe simulator's account objects: PaymentIntents, Refunds and Charges in Stripe's shape."""

from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass, field
from typing import Final

from payments.sandbox.delivery import EventStyle

__all__ = [
    "API_VERSION",
    "CANCELABLE",
    "SETTLEABLE",
    "STRIPE_EVENTS",
    "WEBHOOK_PATH",
    "Account",
    "SimulatedIntent",
    "SimulatedPaymentMethod",
    "SimulatedRefund",
    "charge_wire",
    "doc_url",
    "event_wire",
    "new_id",
]

WEBHOOK_PATH: Final = "/v1/webhooks/stripe"
# The API version stripe-python 16.1 pins; our objects carry the subset of it the adapter reads.
API_VERSION: Final = "2026-10-28.endive"
DOCS: Final = "https://docs.stripe.com/error-codes/"
STRIPE_EVENTS: Final = EventStyle(
    provider="Stripe simulator",
    signature_header="Stripe-Signature",
    headers={
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    },
)
"""How Stripe delivers webhook events."""

CANCELABLE: Final = frozenset(
    {
        "requires_payment_method",
        "requires_capture",
        "requires_confirmation",
        "requires_action",
        "processing",
    }
)
SETTLEABLE: Final = CANCELABLE - {"requires_capture"}


def new_id(prefix: str) -> str:
    """A Stripe-looking object id, ``<prefix>_<random letters and digits>``."""
    return f"{prefix}_{secrets.token_urlsafe(18).replace('-', 'A').replace('_', 'B')}"


def doc_url(code: str) -> str:
    """Stripe's documentation page for an error code."""
    return DOCS + code.replace("_", "-")


@dataclass
class SimulatedIntent:
    """A PaymentIntent as the simulator keeps it."""

    id: str
    amount: int
    currency: str
    metadata: dict[str, str]
    payment_method_types: list[str]
    description: str | None
    client_secret: str
    created: int
    status: str = "requires_payment_method"
    last_payment_error: dict[str, object] | None = None
    latest_charge: str | None = None
    payment_method: str | None = None
    canceled_at: int | None = None
    cancellation_reason: str | None = None
    amount_refunded: int = 0
    customer: str | None = None

    def to_wire(self) -> dict[str, object]:
        """The PaymentIntent object of Stripe's API."""
        return {
            "id": self.id,
            "object": "payment_intent",
            "amount": self.amount,
            "amount_capturable": 0,
            "amount_received": self.amount if self.status == "succeeded" else 0,
            "canceled_at": self.canceled_at,
            "cancellation_reason": self.cancellation_reason,
            "capture_method": "automatic_async",
            "client_secret": self.client_secret,
            "confirmation_method": "automatic",
            "created": self.created,
            "currency": self.currency,
            "customer": self.customer,
            "description": self.description,
            "last_payment_error": copy.deepcopy(self.last_payment_error),
            "latest_charge": self.latest_charge,
            "livemode": False,
            "metadata": dict(self.metadata),
            "next_action": None,
            "payment_method": self.payment_method,
            "payment_method_types": list(self.payment_method_types),
            "status": self.status,
        }


@dataclass
class SimulatedRefund:
    """A Refund as the simulator keeps it."""

    id: str
    amount: int
    currency: str
    payment_intent: str
    charge: str
    metadata: dict[str, str]
    reason: str | None
    created: int
    status: str = "succeeded"
    failure_reason: str | None = None

    def to_wire(self) -> dict[str, object]:
        """The Refund object of Stripe's API."""
        wire: dict[str, object] = {
            "id": self.id,
            "object": "refund",
            "amount": self.amount,
            "balance_transaction": None,
            "charge": self.charge,
            "created": self.created,
            "currency": self.currency,
            "metadata": dict(self.metadata),
            "payment_intent": self.payment_intent,
            "reason": self.reason,
            "receipt_number": None,
            "status": self.status,
        }
        if self.failure_reason is not None:
            wire["failure_reason"] = self.failure_reason
        return wire


@dataclass
class SimulatedPaymentMethod:
    """A card PaymentMethod; ``fails`` for Stripe's ``pm_card_chargeCustomerFail``, which
    attaches but declines every charge."""

    id: str
    last4: str
    created: int
    customer: str | None = None
    fails: bool = False

    def to_wire(self) -> dict[str, object]:
        """The PaymentMethod object of Stripe's API."""
        return {
            "id": self.id,
            "object": "payment_method",
            "card": {"brand": "visa", "last4": self.last4, "exp_month": 12, "exp_year": 2034},
            "created": self.created,
            "customer": self.customer,
            "livemode": False,
            "type": "card",
        }


@dataclass
class Account:
    """Every object of the simulated account by id (guarded by the simulator's lock)."""

    intents: dict[str, SimulatedIntent] = field(default_factory=dict)
    refunds: dict[str, SimulatedRefund] = field(default_factory=dict)
    customers: dict[str, dict[str, object]] = field(default_factory=dict)
    payment_methods: dict[str, SimulatedPaymentMethod] = field(default_factory=dict)


def charge_wire(intent: SimulatedIntent, refunds: list[SimulatedRefund]) -> dict[str, object]:
    """The Charge of a settled intent, embedding its ``refunds`` newest first (as API versions
    before 2022-11-15 did)."""
    newest_first = sorted(refunds, key=lambda r: r.created, reverse=True)
    return {
        "id": intent.latest_charge,
        "object": "charge",
        "amount": intent.amount,
        "amount_captured": intent.amount,
        "amount_refunded": intent.amount_refunded,
        "captured": True,
        "created": intent.created,
        "currency": intent.currency,
        "metadata": {},
        "paid": True,
        "payment_intent": intent.id,
        "refunded": intent.amount_refunded >= intent.amount,
        "refunds": {
            "object": "list",
            "data": [r.to_wire() for r in newest_first],
            "has_more": False,
            "total_count": len(newest_first),
            "url": f"/v1/charges/{intent.latest_charge}/refunds",
        },
        "status": "succeeded",
    }


def event_wire(
    event_id: str, event_type: str, data: dict[str, object], *, api_version: str, created: int
) -> dict[str, object]:
    """The Event object Stripe delivers to a webhook endpoint about ``data``."""
    return {
        "id": event_id,
        "object": "event",
        "api_version": api_version,
        "created": created,
        "data": {"object": data},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }
