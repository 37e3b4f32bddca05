"""The PayU simulator's objects: orders, their transactions and card tokens in PayU's format."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from payments.adapters.gateways.payu.settings import CONFIRMATION_CONTENT_TYPE
from payments.sandbox.delivery import EventStyle

__all__ = [
    "PAYU_CONFIRMATIONS",
    "SANDBOX_BANKS",
    "WEBHOOK_PATH",
    "CardToken",
    "CommandError",
    "OrderRequest",
    "SimulatedOrder",
    "SimulatedTransaction",
]

WEBHOOK_PATH: Final = "/v1/webhooks/payu"
PAYU_CONFIRMATIONS: Final = EventStyle(
    provider="PayU simulator",
    signature_header=None,
    headers={"Content-Type": CONFIRMATION_CONTENT_TYPE, "User-Agent": "payments-payu-simulator/1"},
)
"""How the simulator posts confirmations: a form whose ``sign`` field is the signature."""

SANDBOX_BANKS: Final = (
    ("0", "A continuación seleccione su banco"),
    ("1001", "BANCO DE BOGOTA"),
    ("1007", "BANCOLOMBIA"),
    ("1051", "BANCO DAVIVIENDA"),
)
"""The simulator's ``GET_BANKS_LIST``: the prompt ``pseCode "0"`` first, as PayU lists it
(reference §2.7); PayU's own sandbox list (its PSE test guide) is UNCONFIRMED."""


class CommandError(Exception):
    """A command PayU refuses: ``{"code": "ERROR", "error": <message>}`` with HTTP 200."""


@dataclass(frozen=True, slots=True)
class CardToken:
    """A card stored by ``CREATE_TOKEN``; its cardholder name picks the sandbox outcome."""

    id: str
    name: str
    number: str
    payment_method: str

    def to_wire(self) -> dict[str, object]:
        return {
            "creditCardTokenId": self.id,
            "name": self.name,
            "paymentMethod": self.payment_method,
            "maskedNumber": f"{self.number[:6]}*****{self.number[-4:]}",
        }


@dataclass(slots=True)
class SimulatedTransaction:
    """One transaction of an order: the charge, or a ``VOID`` or ``REFUND`` of it."""

    type: str
    state: str
    response_code: str
    payment_method: str
    operation_date: int
    pending_reason: str | None = None
    extra_parameters: dict[str, object] = field(default_factory=dict)
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def settle(self, state: str, response_code: str) -> None:
        self.state = state
        self.response_code = response_code
        self.pending_reason = None

    def response(self, order_id: int) -> dict[str, object]:
        """The ``transactionResponse`` (reference §2.4)."""
        return {
            "orderId": order_id,
            "transactionId": self.id,
            "state": self.state,
            "paymentNetworkResponseCode": None,
            "paymentNetworkResponseErrorMessage": None,
            "trazabilityCode": None,
            "authorizationCode": "SANDBOX" if self.state == "APPROVED" else None,
            "pendingReason": self.pending_reason,
            "responseCode": self.response_code,
            "errorCode": None,
            "responseMessage": None,
            "operationDate": self.operation_date,
            "extraParameters": dict(self.extra_parameters) or None,
        }

    def to_wire(self, order_id: int) -> dict[str, object]:
        """The transaction as the Queries API lists it in its order."""
        return {
            "id": self.id,
            "type": self.type,
            "paymentMethod": self.payment_method,
            "transactionResponse": self.response(order_id),
        }


@dataclass(frozen=True, slots=True)
class OrderRequest:
    """What a ``SUBMIT_TRANSACTION`` asked for: our reference, PayU's account, the order's
    description, ``TX_VALUE`` as sent and the buyer's e-mail."""

    reference: str
    account_id: str
    description: str
    value: Decimal
    currency: str
    buyer_email: str


@dataclass(slots=True)
class SimulatedOrder:
    """One order: what was asked, its charge and the voids or refunds of it."""

    id: int
    asked: OrderRequest
    charge: SimulatedTransaction
    status: str = "IN_PROGRESS"
    children: list[SimulatedTransaction] = field(default_factory=list)

    def to_wire(self) -> dict[str, object]:
        """The order of ``ORDER_DETAIL`` and ``ORDER_DETAIL_BY_REFERENCE_CODE``."""
        transactions = [self.charge, *self.children]
        return {
            "id": self.id,
            "accountId": self.asked.account_id,
            "status": self.status,
            "referenceCode": self.asked.reference,
            "description": self.asked.description,
            "language": "es",
            "buyer": {"emailAddress": self.asked.buyer_email},
            "transactions": [item.to_wire(self.id) for item in transactions],
            "additionalValues": {
                "TX_VALUE": {"value": self.asked.value, "currency": self.asked.currency}
            },
        }
