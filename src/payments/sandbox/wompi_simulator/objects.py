"""The Wompi simulator's objects: transactions and card tokens in Wompi's wire format."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from payments.adapters.gateways.wompi.settings import CHECKSUM_HEADER
from payments.sandbox.delivery import EventStyle

__all__ = [
    "WEBHOOK_PATH",
    "WOMPI_EVENTS",
    "ApiError",
    "CardToken",
    "SimulatedTransaction",
    "encode",
    "iso_time",
    "validation_error",
]

WEBHOOK_PATH: Final = "/v1/webhooks/wompi"
WOMPI_EVENTS: Final = EventStyle(
    provider="Wompi simulator",
    signature_header=CHECKSUM_HEADER,
    headers={"Content-Type": "application/json", "User-Agent": "payments-wompi-simulator/1"},
)
"""How the simulator delivers events: JSON, the checksum repeated in ``X-Event-Checksum``."""


class ApiError(Exception):
    """An error answer in Wompi's shape (reference §3.8): ``{"error": {"type", ...}}``."""

    def __init__(self, status: int, error: Mapping[str, object]) -> None:
        super().__init__(str(error.get("type")))
        self.status = status
        self.body: dict[str, object] = {"error": dict(error)}


def validation_error(field_name: str, message: str) -> ApiError:
    """422 ``INPUT_VALIDATION_ERROR`` naming one field."""
    return ApiError(422, {"type": "INPUT_VALIDATION_ERROR", "messages": {field_name: [message]}})


def encode(payload: Mapping[str, object]) -> bytes:
    """An answer or event body, compact JSON."""
    return json.dumps(payload, separators=(",", ":")).encode()


def iso_time(unix: float) -> str:
    """``2018-07-20T16:45:05.000Z``: how Wompi writes a time."""
    moment = datetime.fromtimestamp(unix, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@dataclass(frozen=True, slots=True)
class CardToken:
    """A tokenized card (``POST /tokens/cards``); only what the sandbox outcome depends on."""

    id: str
    number: str
    brand: str

    @property
    def last_four(self) -> str:
        return self.number[-4:]


@dataclass(slots=True)
class SimulatedTransaction:
    """One transaction; ``planned`` is the final status the documented sandbox test data leads
    to (card, Nequi phone, PSE bank), applied by ``WompiSimulator.complete``."""

    id: str
    reference: str
    amount_in_cents: int
    currency: str
    customer_email: str
    method: dict[str, object]
    redirect_url: str | None
    created: float
    planned: str | None
    payer_url: str | None = None
    """The ``async_payment_url`` of a PSE or transfer payment, once Wompi has made it."""
    status: str = "PENDING"
    status_message: str | None = None
    processor_code: str | None = None
    finalized: float | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def method_type(self) -> str:
        return str(self.method["type"])

    def finish(self, status: str, now: float, message: str | None, code: str | None) -> None:
        self.status = status
        self.status_message = message
        self.processor_code = code
        self.finalized = now

    def to_wire(self) -> dict[str, object]:
        """The transaction object (reference §3.3)."""
        extra = dict(self.extra)
        if self.payer_url is not None:
            extra["async_payment_url"] = self.payer_url
        if self.processor_code is not None:
            extra["processor_response_code"] = self.processor_code
        method = {key: value for key, value in self.method.items() if key != "token"}
        return {
            "id": self.id,
            "created_at": iso_time(self.created),
            "finalized_at": iso_time(self.finalized) if self.finalized is not None else None,
            "amount_in_cents": self.amount_in_cents,
            "reference": self.reference,
            "customer_email": self.customer_email,
            "currency": self.currency,
            "payment_method_type": self.method_type,
            "payment_method": {**method, "extra": extra},
            "redirect_url": self.redirect_url,
            "status": self.status,
            "status_message": self.status_message,
            "shipping_address": None,
            "payment_link_id": None,
            "payment_source_id": None,
        }
