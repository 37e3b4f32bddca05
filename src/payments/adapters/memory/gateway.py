"""A fake payment gateway with deterministic fault injection, for integrators' unit tests."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from payments.adapters.memory.gateway_events import (
    notification_from_body,
    payment_event_body,
    refund_event_body,
)
from payments.adapters.memory.saved_methods import FakeSavedMethods
from payments.adapters.wire import webhook_signing
from payments.domain import gateway
from payments.domain.errors import (
    CurrencyMismatchError,
    GatewayUnavailableError,
    IdempotencyConflictError,
    InvalidAmountError,
    InvalidTransitionError,
    NotFoundError,
    PaymentDeclinedError,
    RefundExceedsCapturedError,
    UnsupportedByGatewayError,
)
from payments.domain.money import Money
from payments.domain.next_action import ClientSecretAction
from payments.domain.ports import PaymentGateway
from payments.domain.purchase import GatewayObservation, ObservationSource, PaymentOutcome
from payments.domain.refund import RefundStatus

SIGNATURE_HEADER = "X-Fake-Signature"

# A provider cancels only what it has not settled; a capture always wins over a cancel.
_CANCELLABLE = frozenset({PaymentOutcome.PROCESSING, PaymentOutcome.FAILED})


@dataclass
class FakePayment:
    """A payment as the fake provider sees it; ``refunds`` are ``(reference, amount)`` pairs."""

    gateway_reference: str
    reference: str
    amount: Money
    outcome: PaymentOutcome = PaymentOutcome.PROCESSING
    provider_code: str | None = None
    refunds: list[tuple[str, Money]] = field(default_factory=list)

    @property
    def refunded(self) -> Money:
        """What the provider has given back of this payment so far."""
        return sum((amount for _, amount in self.refunds), start=Money.zero(self.amount.currency))


class FakeGateway(PaymentGateway):
    """Behaves like a provider with a client-secret flow; every fault is chosen by the test.

    Faults, each for the next ``start_payment`` or ``refund`` only: ``decline_next(code)``,
    ``fail_next(charged=...)``, ``pending_next()`` (the answer says processing) and
    ``approve_next()`` (instant capture). ``fail_next(charged=False)`` is an outage before the
    provider acted. ``fail_next(charged=True)`` times out after the provider acted: a payment is
    created *and captured* (a refund is made), but the answer is lost and no notification is
    queued, so only ``lookup`` (reconciliation) or a notification the test sends itself with
    ``notification()`` can tell; retrying with the same idempotency key replays the payment.

    The provider's side: ``approve``, ``decline`` and ``expire`` settle a payment and queue a
    signed notification; ``refund_at_provider`` and ``fail_refund`` do the same for refunds (a
    dashboard refund, a refund the network rejected later). ``notification`` and
    ``refund_notification`` build signed notifications without touching state (to forge,
    duplicate or reorder them). Notifications are queued in ``deliveries`` as ``(headers, body)``
    pairs signed with ``secret`` at ``clock()`` (``X-Fake-Signature: t=<unix>,v1=<hex>``, the
    scheme of every provider here); ``drain(duplicates=, shuffle_seed=)`` hands them out duplicated
    or reordered. Port calls are recorded in ``calls`` as plain tuples; a request the declared
    ``capabilities`` cannot serve is refused before anything is recorded, as a real adapter
    refuses it before any I/O.
    """

    def __init__(
        self,
        name: str = "fake",
        *,
        secret: str = "fake_secret",  # noqa: S107 - a fake's test secret
        capabilities: gateway.GatewayCapabilities | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.secret = secret
        self.clock = clock
        self.capabilities = capabilities or gateway.GatewayCapabilities(
            currencies=None,
            countries=None,
            payment_methods=frozenset({"card", "pse", "cash"}),
            saved_methods=True,
        )
        self.bank_list: list[gateway.Bank] = [
            gateway.Bank("1", "Banco que aprueba"),
            gateway.Bank("2", "Banco que rechaza"),
        ]
        """What ``banks`` answers for any country; set ``banks_unavailable`` to make it fail."""
        self.banks_unavailable = False
        self.payments: dict[str, FakePayment] = {}
        self.by_idempotency_key: dict[str, str] = {}
        self.calls: list[tuple[str, str]] = []
        self.deliveries: list[tuple[dict[str, str], bytes]] = []
        self._requests: dict[str, gateway.PaymentRequest] = {}
        self._declined_at_start: dict[str, str] = {}
        self._refund_answers: dict[str, tuple[gateway.RefundRequest, gateway.RefundResult]] = {}
        self._faults: list[tuple[str, object]] = []
        self._events = 0
        self._refund_numbers = 0
        self._lock = threading.RLock()
        self.saved = FakeSavedMethods(name, self._record_charge)
        """Saved methods and off-session charges (see ``FakeSavedMethods``)."""

    # -- fault injection -----------------------------------------------------------------------

    def decline_next(self, code: str = "card_declined") -> None:
        """The next payment is declined with ``code`` (the next refund is rejected)."""
        self._faults.append(("decline", code))

    def fail_next(self, *, charged: bool = False) -> None:
        """The next call fails as an outage: before the provider acted, or after (``charged``)."""
        self._faults.append(("fail", charged))

    def pending_next(self) -> None:
        """The next payment's answer already says it is processing."""
        self._faults.append(("pending", None))

    def approve_next(self) -> None:
        """The next payment is captured at once and the answer says so."""
        self._faults.append(("approve", None))

    def _fault(self) -> tuple[str, object] | None:
        return self._faults.pop(0) if self._faults else None

    # -- the provider's side -------------------------------------------------------------------

    def approve(self, gateway_reference: str, *, amount: Money | None = None) -> None:
        """The payer paid: capture and queue a signed ``succeeded`` notification (``amount`` to
        forge one with another amount). A late capture after a decline, cancel or expiry counts.
        """
        payment = self._payment(gateway_reference)
        payment.outcome = PaymentOutcome.SUCCEEDED
        payment.provider_code = None
        self.deliveries.append(
            self.notification(gateway_reference, PaymentOutcome.SUCCEEDED, amount=amount)
        )

    def decline(self, gateway_reference: str, code: str = "card_declined") -> None:
        """The payment failed: queue a signed ``failed`` notification.

        A captured payment stays captured (the notification is then a stale one, as a provider
        delivering out of order would send).
        """
        payment = self._payment(gateway_reference)
        if payment.outcome is not PaymentOutcome.SUCCEEDED:
            payment.outcome = PaymentOutcome.FAILED
            payment.provider_code = code
        self.deliveries.append(
            self.notification(gateway_reference, PaymentOutcome.FAILED, code=code)
        )

    def expire(self, gateway_reference: str) -> None:
        """The payment window ran out: queue a signed ``expired`` notification (a captured
        payment stays captured)."""
        payment = self._payment(gateway_reference)
        if payment.outcome is not PaymentOutcome.SUCCEEDED:
            payment.outcome = PaymentOutcome.EXPIRED
        self.deliveries.append(self.notification(gateway_reference, PaymentOutcome.EXPIRED))

    def refund_at_provider(self, gateway_reference: str, amount: Money) -> str:
        """Someone refunded ``amount`` outside our service (the provider's dashboard): record it
        and queue a signed ``refund.succeeded`` notification; returns the refund's reference.

        Raises ``InvalidTransitionError`` for an uncaptured payment and
        ``RefundExceedsCapturedError`` beyond what remains, as the provider would.
        """
        with self._lock:
            payment = self._payment(gateway_reference)
            self._check_refundable(payment, amount)
            self._refund_numbers += 1
            reference = f"{self.name}_re_dashboard_{self._refund_numbers:06d}"
            payment.refunds.append((reference, amount))
        self.deliveries.append(
            self.refund_notification(gateway_reference, reference, amount, RefundStatus.SUCCEEDED)
        )
        return reference

    def fail_refund(self, refund_reference: str) -> None:
        """The network rejected a refund after accepting it: it no longer counts at the provider;
        queue a signed ``refund.failed`` notification. ``NotFoundError`` for an unknown refund."""
        with self._lock:
            found = [
                (payment, index)
                for payment in self.payments.values()
                for index, (reference, _) in enumerate(payment.refunds)
                if reference == refund_reference
            ]
            if not found:
                raise NotFoundError(f"The fake gateway has no refund {refund_reference!r}.")
            payment, index = found[0]
            _, amount = payment.refunds.pop(index)
        self.deliveries.append(
            self.refund_notification(
                payment.gateway_reference, refund_reference, amount, RefundStatus.FAILED
            )
        )

    def notification(
        self,
        gateway_reference: str,
        outcome: PaymentOutcome,
        *,
        event_id: str | None = None,
        amount: Money | None = None,
        code: str | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """A signed notification about a payment, without queueing it or changing the payment.

        ``amount`` defaults to the payment's; ``code`` (a failure's provider code) to the
        payment's own when ``outcome`` is FAILED.
        """
        payment = self._payment(gateway_reference)
        if code is None and outcome is PaymentOutcome.FAILED:
            code = payment.provider_code
        body = payment_event_body(
            event_id or self._next_event_id(),
            outcome,
            gateway_reference=payment.gateway_reference,
            reference=payment.reference,
            amount=amount or payment.amount,
            code=code,
        )
        return {SIGNATURE_HEADER.lower(): self.sign(body)}, body

    def refund_notification(
        self,
        gateway_reference: str,
        refund_reference: str,
        amount: Money,
        status: RefundStatus,
        *,
        refund_id: str | None = None,
        event_id: str | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """A signed notification about a refund, without queueing it or changing any state.

        ``refund_id`` is our refund's id, echoed back as real providers do from metadata.
        """
        body = refund_event_body(
            event_id or self._next_event_id(),
            status,
            gateway_reference=gateway_reference,
            refund_reference=refund_reference,
            amount=amount,
            refund_id=refund_id,
        )
        return {SIGNATURE_HEADER.lower(): self.sign(body)}, body

    def _next_event_id(self) -> str:
        with self._lock:
            self._events += 1
            return f"evt_{self.name}_{self._events:06d}"

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
        """The ``X-Fake-Signature`` value of ``body``, signed with ``secret`` now (``clock``)."""
        return webhook_signing.signature_header([self.secret], int(self.clock()), body)

    def _payment(self, gateway_reference: str) -> FakePayment:
        payment = self.payments.get(gateway_reference)
        if payment is None:
            raise NotFoundError(f"The fake gateway has no payment {gateway_reference!r}.")
        return payment

    # -- the port ------------------------------------------------------------------------------

    def start_payment(self, request: gateway.PaymentRequest) -> gateway.PaymentStart:
        """Create the payment, or replay it for a known idempotency key; faults apply to new ones.

        Refuses, before recording anything, what the declared capabilities cannot serve
        (``UnsupportedByGatewayError``) and an amount that is not positive and exact
        (``InvalidAmountError``). The same key with another request is an
        ``IdempotencyConflictError``; a decline is replayed for its key like any answer.
        """
        refusal = self.capabilities.refusal(request.country, request.amount, request.payment_method)
        if refusal is not None:
            raise UnsupportedByGatewayError(f"The {self.name} gateway {refusal}.")
        if not request.amount.is_positive or not request.amount.is_exact:
            raise InvalidAmountError("A payment amount must be positive and exact in its currency.")
        with self._lock:
            self.calls.append(("start_payment", request.idempotency_key))
            known = self.by_idempotency_key.get(request.idempotency_key)
            if known is not None:
                if self._requests[request.idempotency_key] != request:
                    raise IdempotencyConflictError(
                        "The fake gateway saw this idempotency key with another request."
                    )
                if request.idempotency_key in self._declined_at_start:
                    raise self._declined(known, self._declined_at_start[request.idempotency_key])
                return self._answer(self.payments[known], tell=False)
            fault = self._fault()
            kind = fault[0] if fault else None
            if fault and kind == "fail" and not fault[1]:
                raise GatewayUnavailableError("The provider is down.", charged_possible=False)
            payment = FakePayment(
                f"{self.name}_pay_{len(self.payments) + 1:06d}", request.reference, request.amount
            )
            self.payments[payment.gateway_reference] = payment
            self.by_idempotency_key[request.idempotency_key] = payment.gateway_reference
            self._requests[request.idempotency_key] = request
            if fault and kind == "decline":
                payment.outcome = PaymentOutcome.FAILED
                payment.provider_code = str(fault[1])
                self._declined_at_start[request.idempotency_key] = payment.provider_code
                raise self._declined(payment.gateway_reference, payment.provider_code)
            if kind in ("approve", "fail"):
                payment.outcome = PaymentOutcome.SUCCEEDED
            if kind == "fail":
                raise GatewayUnavailableError("Timed out after sending.", charged_possible=True)
            return self._answer(payment, tell=kind in ("approve", "pending"))

    @staticmethod
    def _declined(gateway_reference: str, code: str) -> PaymentDeclinedError:
        return PaymentDeclinedError(
            "The card was declined.",
            provider_code=code,
            details={"gateway_reference": gateway_reference},
        )

    def _answer(self, payment: FakePayment, *, tell: bool) -> gateway.PaymentStart:
        """The answer to a start: a client secret while unsettled, and an observation when a
        fault asked for one (``tell``) or when a replayed payment has settled meanwhile."""
        action = None
        if payment.outcome is PaymentOutcome.PROCESSING:
            action = ClientSecretAction(f"{payment.gateway_reference}_secret")
        observation = None
        if tell or payment.outcome is not PaymentOutcome.PROCESSING:
            observation = self._observe(payment, ObservationSource.RESPONSE)
        return gateway.PaymentStart(payment.gateway_reference, action, observation)

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

    @property
    def payment_requests(self) -> list[gateway.PaymentRequest]:
        """Every distinct payment request started, oldest first (what reached the provider)."""
        return list(self._requests.values())

    def banks(self, country: str) -> list[gateway.Bank]:
        """``bank_list`` (when the payment methods include PSE), or an outage."""
        self.calls.append(("banks", country))
        if self.banks_unavailable:
            raise GatewayUnavailableError("The fake provider is down.", charged_possible=False)
        return list(self.bank_list) if "pse" in self.capabilities.payment_methods else []

    def _record_charge(self, reference: str, amount: Money, declined: bool) -> str:
        """A payment made off-session, kept like any other (looked up, refunded)."""
        with self._lock:
            payment = FakePayment(
                f"{self.name}_pay_{len(self.payments) + 1:06d}", reference, amount
            )
            payment.outcome = PaymentOutcome.FAILED if declined else PaymentOutcome.SUCCEEDED
            payment.provider_code = "card_declined" if declined else None
            self.payments[payment.gateway_reference] = payment
            return payment.gateway_reference

    def save_payment_method(self, request: gateway.SaveMethodRequest) -> gateway.SavedPaymentMethod:
        """Keep the token's method (``FakeSavedMethods.save``)."""
        return self.saved.save(request)

    def charge_saved_method(self, request: gateway.OffSessionCharge) -> gateway.PaymentStart:
        """Charge a saved method at once (``FakeSavedMethods.charge``)."""
        return self.saved.charge(request)

    def lookup(self, reference: str, gateway_reference: str | None) -> GatewayObservation | None:
        """What the fake provider knows under our ``reference``: the payment we name if it is
        one of them, else a captured one (money moved), else the newest; None if none. Declared
        without ``authoritative_lookup`` it finds nothing without ``gateway_reference``, as
        Stripe."""
        self.calls.append(("lookup", reference))
        if gateway_reference is None and not self.capabilities.authoritative_lookup:
            return None
        with self._lock:
            found = [p for p in self.payments.values() if p.reference == reference]
            if not found:
                return None
            chosen = next((p for p in found if p.gateway_reference == gateway_reference), None)
            if chosen is None:
                captured = [p for p in found if p.outcome is PaymentOutcome.SUCCEEDED]
                chosen = (captured or found)[-1]
            return self._observe(chosen, ObservationSource.LOOKUP)

    def cancel(self, gateway_reference: str, idempotency_key: str) -> GatewayObservation:
        """Cancel an unsettled payment; a captured one comes back captured (``NotFoundError`` for
        an unknown one)."""
        self.calls.append(("cancel", gateway_reference))
        with self._lock:
            payment = self._payment(gateway_reference)
            if payment.outcome in _CANCELLABLE:
                payment.outcome = PaymentOutcome.CANCELLED
            return self._observe(payment, ObservationSource.RESPONSE)

    def refund(self, request: gateway.RefundRequest) -> gateway.RefundResult:
        """Refund part or all of a captured payment; the same key replays the first answer.

        Raises ``NotFoundError`` (unknown payment), ``InvalidTransitionError`` (not captured),
        ``CurrencyMismatchError`` and ``RefundExceedsCapturedError`` (beyond what remains), as a
        provider refuses those. Faults: a decline answers FAILED; an outage raises, after making
        the refund when ``charged``.
        """
        self.calls.append(("refund", request.idempotency_key))
        with self._lock:
            answered = self._refund_answers.get(request.idempotency_key)
            if answered is not None:
                if answered[0] != request:
                    raise IdempotencyConflictError(
                        "The fake gateway saw this idempotency key with another refund."
                    )
                return answered[1]
            fault = self._fault()
            if fault and fault[0] == "fail" and not fault[1]:
                raise GatewayUnavailableError("The provider is down.", charged_possible=False)
            payment = self._payment(request.gateway_reference)
            reference = f"{self.name}_re_{request.idempotency_key}"
            if fault and fault[0] == "decline":
                result = gateway.RefundResult(reference, RefundStatus.FAILED, str(fault[1]))
            else:
                self._check_refundable(payment, request.amount)
                payment.refunds.append((reference, request.amount))
                result = gateway.RefundResult(reference, RefundStatus.SUCCEEDED)
            self._refund_answers[request.idempotency_key] = (request, result)
            if fault and fault[0] == "fail":
                raise GatewayUnavailableError("Timed out after sending.", charged_possible=True)
            return result

    @staticmethod
    def _check_refundable(payment: FakePayment, amount: Money) -> None:
        if payment.outcome is not PaymentOutcome.SUCCEEDED:
            raise InvalidTransitionError("Only a captured payment can be refunded.")
        if amount.currency != payment.amount.currency:
            raise CurrencyMismatchError("The refund is in another currency than the payment.")
        if not amount.is_positive or not amount.is_exact:
            raise InvalidAmountError("A refund must be positive and exact in its currency.")
        if amount > payment.amount - payment.refunded:
            raise RefundExceedsCapturedError("The refund exceeds what remains captured.")

    def verify_notification(self, headers: Mapping[str, str], body: bytes) -> gateway.Notification:
        """Verify the ``X-Fake-Signature`` against ``secret`` and ``clock`` and translate the body.

        Raises ``InvalidSignatureError`` or ``MalformedNotificationError``, nothing else.
        """
        header = webhook_signing.header_value(headers, SIGNATURE_HEADER)
        webhook_signing.verify(header, body, [self.secret], now=self.clock(), name=SIGNATURE_HEADER)
        return self.parse_stored_notification(headers, body)

    def parse_stored_notification(
        self, headers: Mapping[str, str], body: bytes
    ) -> gateway.Notification:
        """Translate a body verified when it was stored; ``MalformedNotificationError`` if it is
        not one of this fake's notifications."""
        return notification_from_body(self.name, body)
