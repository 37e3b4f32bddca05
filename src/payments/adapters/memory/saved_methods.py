"""The fake provider's saved payment methods and off-session charges (subscriptions)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from payments.domain import gateway
from payments.domain.errors import IdempotencyConflictError, PaymentDeclinedError
from payments.domain.money import Money
from payments.domain.purchase import GatewayObservation, ObservationSource, PaymentOutcome

FAILING_TOKEN = "pm_card_chargeCustomerFail"  # noqa: S105 - a public test token
"""Stripe's test token of a card that attaches but declines every charge; any other charges."""


class FakeSavedMethods:
    """Saved methods of the fake gateway ``name``: ``methods`` maps each saved method's id to
    the token it was saved from; ``charges`` lists every off-session charge asked (replays
    included) and ``charged`` the idempotency keys that made a payment. A method saved from
    ``FAILING_TOKEN``, or put in ``declining``, is declined with ``card_declined``."""

    def __init__(self, name: str, record: Callable[[str, Money, bool], str]) -> None:
        """``record(reference, amount, declined)`` keeps a payment made and returns its id."""
        self.name = name
        self._record = record
        self.methods: dict[str, str] = {}
        self.declining: set[str] = set()
        self.charges: list[gateway.OffSessionCharge] = []
        self.charged: dict[str, gateway.OffSessionCharge] = {}
        self._answers: dict[str, tuple[gateway.OffSessionCharge, GatewayObservation]] = {}
        self._lock = threading.Lock()

    def save(self, request: gateway.SaveMethodRequest) -> gateway.SavedPaymentMethod:
        with self._lock:
            method = f"{self.name}_pm_{len(self.methods) + 1:06d}"
            self.methods[method] = request.method_token
            if request.method_token == FAILING_TOKEN:
                self.declining.add(method)
        customer = request.customer_reference or f"{self.name}_cus_{request.customer_id}"
        return gateway.SavedPaymentMethod(self.name, customer, method)

    def charge(self, request: gateway.OffSessionCharge) -> gateway.PaymentStart:
        with self._lock:
            self.charges.append(request)
            known = self._answers.get(request.idempotency_key)
            if known is None:
                declined = request.method.method_reference in self.declining
                observation = GatewayObservation(
                    gateway=self.name,
                    outcome=PaymentOutcome.FAILED if declined else PaymentOutcome.SUCCEEDED,
                    source=ObservationSource.RESPONSE,
                    gateway_reference=self._record(request.reference, request.amount, declined),
                    reference=request.reference,
                    amount=request.amount,
                    provider_code="card_declined" if declined else None,
                )
                known = (request, observation)
                self._answers[request.idempotency_key] = known
                if not declined:
                    self.charged[request.idempotency_key] = request
        first, observation = known
        if first != request:
            raise IdempotencyConflictError("The fake gateway saw this key with another charge.")
        if observation.outcome is PaymentOutcome.FAILED:
            raise PaymentDeclinedError(
                "The card was declined.",
                provider_code="card_declined",
                details={"gateway_reference": observation.gateway_reference or ""},
            )
        return gateway.PaymentStart(observation.gateway_reference or "", None, observation)
