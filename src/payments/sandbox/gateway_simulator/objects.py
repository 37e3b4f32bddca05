"""The sandbox provider's objects: payments and refunds in the sandbox wire format, its banks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from payments.domain.money import Money
from payments.sandbox.delivery import EventStyle

__all__ = [
    "APPROVABLE",
    "CANCELLABLE",
    "DECLINABLE",
    "EXPIRABLE",
    "NOTIFIABLE",
    "PAYMENT_METHODS",
    "SANDBOX_BANKS",
    "SANDBOX_EVENTS",
    "SIGNATURE_HEADER",
    "WEBHOOK_PATH",
    "Ledger",
    "SimulatedPayment",
    "SimulatedRefund",
]

WEBHOOK_PATH: Final = "/v1/webhooks/sandbox"
SIGNATURE_HEADER: Final = "Sandbox-Signature"
SANDBOX_EVENTS: Final = EventStyle(
    provider="sandbox",
    signature_header=SIGNATURE_HEADER,
    headers={"Content-Type": "application/json", "User-Agent": "payments-sandbox-simulator/1"},
)
"""How the sandbox provider delivers its notifications."""
PAYMENT_METHODS: Final = frozenset({"card", "pse", "nequi", "bank_transfer", "cash"})

_OPEN: Final = frozenset({"pending", "processing"})
APPROVABLE: Final = frozenset({"pending", "processing", "failed", "cancelled", "expired"})
DECLINABLE: Final = _OPEN
EXPIRABLE: Final = _OPEN | {"failed"}
CANCELLABLE: Final = _OPEN | {"failed"}
NOTIFIABLE: Final = frozenset({"succeeded", "failed", "cancelled", "expired"})

# The PSE institutions the sandbox offers, by country: PSE's own test banks are named for what
# they do, and so are these (the outcome is still chosen by the sandbox action).
SANDBOX_BANKS: dict[str, dict[str, str]] = {
    "CO": {
        "1": "Banco que aprueba (sandbox)",
        "2": "Banco que rechaza (sandbox)",
        "1007": "Bancolombia (sandbox)",
        "1051": "Davivienda (sandbox)",
    }
}


@dataclass
class SimulatedPayment:
    """A payment as the sandbox provider keeps it."""

    id: str
    reference: str
    amount: Money
    description: str | None
    payment_method: str
    country: str
    return_url: str | None
    payer_email: str | None
    payer_name: str | None
    metadata: dict[str, str]
    client_secret: str
    checkout_url: str
    created: int
    status: str = "pending"
    decline_code: str | None = None
    failure_message: str | None = None
    amount_refunded: Money | None = None
    bank: str | None = None

    def to_wire(self) -> dict[str, object]:
        """The payment object of the wire format."""
        refunded = self.amount_refunded or Money.zero(self.amount.currency)
        return {
            "id": self.id,
            "object": "payment",
            "reference": self.reference,
            "status": self.status,
            "amount": self.amount.to_dict(),
            "amount_refunded": refunded.to_dict(),
            "description": self.description,
            "payment_method": self.payment_method,
            "country": self.country,
            "return_url": self.return_url,
            "payer": {"email": self.payer_email, "name": self.payer_name},
            "metadata": dict(self.metadata),
            "checkout_url": self.checkout_url,
            "client_secret": self.client_secret,
            "decline_code": self.decline_code,
            "failure_message": self.failure_message,
            "created": self.created,
        }


@dataclass
class SimulatedRefund:
    """A refund as the sandbox provider keeps it."""

    id: str
    payment_id: str
    amount: Money
    reason: str | None
    metadata: dict[str, str]
    created: int
    status: str = "succeeded"

    def to_wire(self) -> dict[str, object]:
        """The refund object of the wire format."""
        return {
            "id": self.id,
            "object": "refund",
            "payment": self.payment_id,
            "amount": self.amount.to_dict(),
            "status": self.status,
            "reason": self.reason,
            "metadata": dict(self.metadata),
            "created": self.created,
        }


@dataclass
class Ledger:
    """Every payment and refund the provider holds, by id (guarded by the simulator's lock)."""

    payments: dict[str, SimulatedPayment] = field(default_factory=dict)
    refunds: dict[str, SimulatedRefund] = field(default_factory=dict)

    def by_reference(self, reference: str) -> list[SimulatedPayment]:
        """The payments made under our ``reference``, newest first."""
        # Payments are kept in creation order: newest first is that order reversed.
        return [p for p in reversed(self.payments.values()) if p.reference == reference]
