"""A fake payment gateway with deterministic fault injection, for integrators' unit tests."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from payments.domain.errors import (
    GatewayUnavailableError,
    InvalidSignatureError,
    MalformedNotificationError,
    PaymentDeclinedError,
)
from payments.domain.money import Money
from payments.domain.ports import (
    GatewayCapabilities,
    Notification,
    PaymentGateway,
    PaymentRequest,
    PaymentStart,
    RefundRequest,
    RefundResult,
)
from payments.domain.purchase import (
    ClientSecretAction,
    GatewayObservation,
    ObservationSource,
    PaymentOutcome,
)
from payments.domain.refund import RefundObservation, RefundStatus

SIGNATURE_HEADER = "x-fake-signature"


@dataclass
class FakePayment:
    """A payment as the fake provider sees it."""

    gateway_reference: str
    reference: str
    amount: Money
    outcome: PaymentOutcome = PaymentOutcome.PROCESSING
    provider_code: str | None = None
    refunds: list[tuple[str, Money]] = field(default_factory=list)


class FakeGateway(PaymentGateway):
    """Behaves like a provider with a client-secret flow; every fault is chosen by the test.

    Faults, each for the next call only: ``decline_next(code)``, ``fail_next(charged=...)`` (an
    outage before or after the provider acted), ``pending_next()`` (stays processing),
    ``approve_next()`` (instant capture). Notifications are queued in ``deliveries`` as
    ``(headers, body)`` pairs signed with ``secret``; ``drain(duplicates=, shuffle_seed=)`` hands
    them out duplicated or reordered. Calls are recorded in ``calls`` as plain tuples.
    """

    def __init__(
        self,
        name: str = "fake",
        *,
        secret: str = "fake_secret",  # noqa: S107 - a fake's test secret
        capabilities: GatewayCapabilities | None = None,
    ) -> None:
        self.name = name
        self.secret = secret
        self.capabilities = capabilities or GatewayCapabilities(
            currencies=None, countries=None, payment_methods=frozenset({"card", "pse", "cash"})
        )
        self.payments: dict[str, FakePayment] = {}
        self.by_idempotency_key: dict[str, str] = {}
        self.calls: list[tuple[str, str]] = []
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self._faults: list[tuple[str, object]] = []
        self._events = 0
        self._lock = threading.Lock()

    # -- fault injection -----------------------------------------------------------------------

    def decline_next(self, code: str = "card_declined") -> None:
        self._faults.append(("decline", code))

    def fail_next(self, *, charged: bool = False) -> None:
        self._faults.append(("fail", charged))

    def pending_next(self) -> None:
        self._faults.append(("pending", None))

    def approve_next(self) -> None:
        self._faults.append(("approve", None))

    def _fault(self) -> tuple[str, object] | None:
        return self._faults.pop(0) if self._faults else None

    # -- the provider's side -------------------------------------------------------------------

    def approve(self, gateway_reference: str, *, amount: Money | None = None) -> None:
        """The payer paid: queue a signed ``succeeded`` notification (``amount`` to forge one)."""
        payment = self.payments[gateway_reference]
        payment.outcome = PaymentOutcome.SUCCEEDED
        self._queue(payment, PaymentOutcome.SUCCEEDED, amount=amount)

    def decline(self, gateway_reference: str, code: str = "card_declined") -> None:
        """The payment failed: queue a signed ``failed`` notification."""
        payment = self.payments[gateway_reference]
        payment.outcome = PaymentOutcome.FAILED
        payment.provider_code = code
        self._queue(payment, PaymentOutcome.FAILED)

    def expire(self, gateway_reference: str) -> None:
        payment = self.payments[gateway_reference]
        payment.outcome = PaymentOutcome.EXPIRED
        self._queue(payment, PaymentOutcome.EXPIRED)

    def notification(
        self,
        gateway_reference: str,
        outcome: PaymentOutcome,
        *,
        event_id: str | None = None,
        amount: Money | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """A signed notification about a payment, without queueing it."""
        payment = self.payments[gateway_reference]
        with self._lock:
            self._events += 1
            number = self._events
        sent = amount or payment.amount
        body = json.dumps(
            {
                "id": event_id or f"evt_{self.name}_{number:06d}",
                "type": f"payment.{outcome.value}",
                "payment": {
                    "id": payment.gateway_reference,
                    "reference": payment.reference,
                    "amount": sent.to_dict(),
                    "code": payment.provider_code,
                },
            },
            sort_keys=True,
        ).encode()
        return {SIGNATURE_HEADER: self.sign(body)}, body

    def refund_notification(
        self, gateway_reference: str, refund_reference: str, amount: Money, status: RefundStatus
    ) -> tuple[dict[str, str], bytes]:
        """A signed notification about a refund."""
        with self._lock:
            self._events += 1
            number = self._events
        body = json.dumps(
            {
                "id": f"evt_{self.name}_{number:06d}",
                "type": f"refund.{status.value}",
                "refund": {
                    "id": refund_reference,
                    "payment": gateway_reference,
                    "amount": amount.to_dict(),
                    "status": status.value,
                },
            },
            sort_keys=True,
        ).encode()
        return {SIGNATURE_HEADER: self.sign(body)}, body

    def _queue(
        self, payment: FakePayment, outcome: PaymentOutcome, amount: Money | None = None
    ) -> None:
        self.deliveries.append(self.notification(payment.gateway_reference, outcome, amount=amount))

    def drain(
        self, *, duplicates: int = 1, shuffle_seed: int | None = None
    ) -> list[tuple[dict[str, str], bytes]]:
        """Take the queued deliveries, each repeated ``duplicates`` times, shuffled if seeded."""
        out = [d for d in self.deliveries for _ in range(duplicates)]
        self.deliveries = []
        if shuffle_seed is not None:
            random.Random(shuffle_seed).shuffle(out)  # noqa: S311 - reproducible test order
        return out

    def sign(self, body: bytes) -> str:
        return hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()

    # -- the port ------------------------------------------------------------------------------

    def start_payment(self, request: PaymentRequest) -> PaymentStart:
        self.calls.append(("start_payment", request.idempotency_key))
        with self._lock:
            known = self.by_idempotency_key.get(request.idempotency_key)
            fault = None if known else self._fault()
            if fault and fault[0] == "decline":
                raise PaymentDeclinedError("The card was declined.", provider_code=str(fault[1]))
            if fault and fault[0] == "fail" and not fault[1]:
                raise GatewayUnavailableError("The provider is down.", charged_possible=False)
            if known is None:
                known = f"{self.name}_pay_{len(self.payments) + 1:06d}"
                self.payments[known] = FakePayment(known, request.reference, request.amount)
                self.by_idempotency_key[request.idempotency_key] = known
            payment = self.payments[known]
            if fault and fault[0] == "fail":
                raise GatewayUnavailableError("Timed out after sending.", charged_possible=True)
            observation = None
            if fault and fault[0] == "approve":
                payment.outcome = PaymentOutcome.SUCCEEDED
            if fault and fault[0] in ("approve", "pending"):
                observation = self._observe(payment, ObservationSource.RESPONSE)
        return PaymentStart(known, ClientSecretAction(f"{known}_secret"), observation)

    def _observe(self, payment: FakePayment, source: ObservationSource) -> GatewayObservation:
        return GatewayObservation(
            gateway=self.name,
            outcome=payment.outcome,
            source=source,
            gateway_reference=payment.gateway_reference,
            reference=payment.reference,
            amount=payment.amount,
            provider_code=payment.provider_code,
        )

    def lookup(self, reference: str, gateway_reference: str | None) -> GatewayObservation | None:
        self.calls.append(("lookup", reference))
        for payment in self.payments.values():
            if payment.reference == reference:
                return self._observe(payment, ObservationSource.LOOKUP)
        return None

    def cancel(self, gateway_reference: str, idempotency_key: str) -> GatewayObservation:
        self.calls.append(("cancel", gateway_reference))
        payment = self.payments[gateway_reference]
        if payment.outcome is not PaymentOutcome.SUCCEEDED:
            payment.outcome = PaymentOutcome.CANCELLED
        return self._observe(payment, ObservationSource.RESPONSE)

    def refund(self, request: RefundRequest) -> RefundResult:
        self.calls.append(("refund", request.idempotency_key))
        fault = self._fault()
        if fault and fault[0] == "fail":
            raise GatewayUnavailableError("The provider is down.", charged_possible=bool(fault[1]))
        if fault and fault[0] == "decline":
            return RefundResult(f"{self.name}_re_rejected", RefundStatus.FAILED, str(fault[1]))
        payment = self.payments[request.gateway_reference]
        refund_reference = f"{self.name}_re_{request.idempotency_key}"
        if all(ref != refund_reference for ref, _ in payment.refunds):
            payment.refunds.append((refund_reference, request.amount))
        return RefundResult(refund_reference, RefundStatus.SUCCEEDED)

    def parse_notification(
        self, headers: Mapping[str, str], body: bytes, *, verify: bool = True
    ) -> Notification:
        if verify:
            given = headers.get(SIGNATURE_HEADER, "")
            if not hmac.compare_digest(given, self.sign(body)):
                raise InvalidSignatureError("The fake signature does not match.")
        try:
            data = json.loads(body)
            event_id = str(data["id"])
            event_type = str(data["type"])
            if "payment" in data:
                p = data["payment"]
                outcome = PaymentOutcome(event_type.removeprefix("payment."))
                return Notification(
                    self.name,
                    event_id,
                    event_type,
                    payment=GatewayObservation(
                        gateway=self.name,
                        outcome=outcome,
                        source=ObservationSource.NOTIFICATION,
                        gateway_reference=p["id"],
                        reference=p["reference"],
                        amount=Money.from_dict(p["amount"]),
                        event_id=event_id,
                        provider_code=p.get("code"),
                    ),
                )
            if "refund" in data:
                r = data["refund"]
                return Notification(
                    self.name,
                    event_id,
                    event_type,
                    refund=RefundObservation(
                        gateway=self.name,
                        gateway_refund_reference=r["id"],
                        gateway_payment_reference=r["payment"],
                        amount=Money.from_dict(r["amount"]),
                        status=RefundStatus(r["status"]),
                        event_id=event_id,
                    ),
                )
            return Notification(self.name, event_id, event_type)
        except (ValueError, KeyError, TypeError) as error:
            raise MalformedNotificationError("Not a fake-gateway notification.") from error
