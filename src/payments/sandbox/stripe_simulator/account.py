"""The Stripe simulator's account: state, the payer's and Stripe's actions, the API under a lock."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any, Final

from payments.domain.errors import (
    ConfigurationError,
    IdempotencyConflictError,
    InvalidTransitionError,
    NotFoundError,
)
from payments.sandbox.delivery import Deliver
from payments.sandbox.idempotency import Answer
from payments.sandbox.provider import SimulatedProvider, require_status
from payments.sandbox.stripe_simulator import customers, operations
from payments.sandbox.stripe_simulator.errors import ApiError, encode
from payments.sandbox.stripe_simulator.objects import (
    API_VERSION,
    CANCELABLE,
    SETTLEABLE,
    STRIPE_EVENTS,
    WEBHOOK_PATH,
    Account,
    SimulatedIntent,
    SimulatedRefund,
    charge_wire,
    doc_url,
    event_wire,
    new_id,
)
from payments.sandbox.stripe_simulator.params import form_pairs, unflatten

__all__ = ["StripeSimulatorState"]

PostOperation = Callable[[dict[str, Any]], dict[str, object]]
"""One API call on the request's decoded parameters: its answer, or ``ApiError``."""
_REFUND_EVENTS: Final = frozenset({"refund.created", "refund.updated", "charge.refunded"})


class StripeSimulatorState(SimulatedProvider):
    """A Stripe account in memory, thread-safe: what the simulator's HTTP API serves.

    The Python methods ``approve``, ``decline``, ``expire``, ``fail_refund``, ``notify_refund``
    and ``redeliver`` act as the payer, the card network or Stripe would, then build an Event
    (``evt_...``) signed exactly like Stripe (``Stripe-Signature: t=...,v1=...``, HMAC-SHA256 of
    ``"<t>." + body`` keyed with the whole webhook secret) and hand it to ``deliver`` outside the
    lock. Events are only ever sent by these methods, never from inside an HTTP request to the
    simulator, so a request to it never waits on our own webhook endpoint.

    Unknown ids raise ``NotFoundError``; a change Stripe would not allow raises
    ``InvalidTransitionError``. Tests assert on plain attributes: ``intents``, ``refunds``,
    ``deliveries`` and ``api_calls`` (method, path, idempotency key).
    """

    def __init__(
        self,
        *,
        webhook_secret: str,
        deliver: Deliver | None = None,
        clock: Callable[[], float] = time.time,
        webhook_path: str = WEBHOOK_PATH,
    ) -> None:
        if not webhook_secret or not webhook_secret.strip():
            raise ConfigurationError("The Stripe simulator needs a webhook secret to sign events.")
        super().__init__(
            STRIPE_EVENTS, webhook_secret, deliver, webhook_path=webhook_path, clock=clock
        )
        self._account = Account()
        # Every PaymentIntent and Refund by id: the live objects, to read and never to change.
        self.intents: dict[str, SimulatedIntent] = self._account.intents
        self.refunds: dict[str, SimulatedRefund] = self._account.refunds
        self.api_calls: list[tuple[str, str, str | None]] = []

    # -- the payer's, the network's and Stripe's side ------------------------------------------

    def approve(self, intent_id: str) -> dict[str, object]:
        """The payer confirmed with a good card: the intent succeeds; sends
        ``payment_intent.succeeded``."""
        with self._lock:
            intent = self._settleable(intent_id, "succeed")
            intent.status = "succeeded"
            intent.payment_method = intent.payment_method or new_id("pm")
            intent.latest_charge = new_id("ch")
            intent.last_payment_error = None
            event = self._event("payment_intent.succeeded", intent.to_wire())
        return self._events.send(*event)

    def decline(
        self,
        intent_id: str,
        code: str = "card_declined",
        *,
        decline_code: str | None = None,
        message: str = "Your card was declined.",
    ) -> dict[str, object]:
        """The payer's card was declined with ``code``: the intent goes back to
        ``requires_payment_method`` with ``last_payment_error``; sends
        ``payment_intent.payment_failed``. ``card_declined`` gets ``generic_decline`` as its
        ``decline_code`` unless one is given."""
        if decline_code is None and code == "card_declined":
            decline_code = "generic_decline"
        with self._lock:
            intent = self._settleable(intent_id, "be declined")
            charge = new_id("ch")
            error: dict[str, object] = {
                "type": "card_error",
                "code": code,
                "message": message,
                "charge": charge,
                "doc_url": doc_url(code),
            }
            if decline_code:
                error["decline_code"] = decline_code
            intent.status = "requires_payment_method"
            intent.payment_method = None
            intent.latest_charge = charge
            intent.last_payment_error = error
            event = self._event("payment_intent.payment_failed", intent.to_wire())
        return self._events.send(*event)

    def expire(self, intent_id: str) -> dict[str, object]:
        """The payer never paid: the intent is canceled as ``abandoned``; sends
        ``payment_intent.canceled``."""
        with self._lock:
            intent = self._intent(intent_id)
            require_status(
                intent.status, CANCELABLE, f"A {intent.status} PaymentIntent cannot be canceled."
            )
            intent.status = "canceled"
            intent.canceled_at = self._now()
            intent.cancellation_reason = "abandoned"
            event = self._event("payment_intent.canceled", intent.to_wire())
        return self._events.send(*event)

    def fail_refund(self, refund_id: str, reason: str = "declined") -> dict[str, object]:
        """The card network rejected a refund: it becomes ``failed`` with ``failure_reason``
        and no longer counts; sends ``refund.updated``."""
        with self._lock:
            refund = self._refund(refund_id)
            if refund.status not in ("pending", "succeeded"):
                raise InvalidTransitionError(f"A {refund.status} refund cannot fail.")
            refund.status = "failed"
            refund.failure_reason = reason
            self._account.intents[refund.payment_intent].amount_refunded -= refund.amount
            event = self._event("refund.updated", refund.to_wire())
        return self._events.send(*event)

    def notify_refund(
        self, refund_id: str, event_type: str = "refund.created"
    ) -> dict[str, object]:
        """Send an event about a refund as it is now: ``refund.created``, ``refund.updated``
        (the Refund) or ``charge.refunded`` (its Charge, embedding every refund newest first,
        as API versions before 2022-11-15 did). Creating a refund over HTTP sends nothing."""
        if event_type not in _REFUND_EVENTS:
            raise ValueError(f"Choose one of {sorted(_REFUND_EVENTS)}, not {event_type!r}.")
        with self._lock:
            refund = self._refund(refund_id)
            if event_type == "charge.refunded":
                intent = self._account.intents[refund.payment_intent]
                refunds = [r for r in self.refunds.values() if r.payment_intent == intent.id]
                data = charge_wire(intent, refunds)
            else:
                data = refund.to_wire()
            event = self._event(event_type, data)
        return self._events.send(*event)

    def event(self, event_id: str) -> dict[str, Any]:
        """An event sent earlier, parsed."""
        parsed: dict[str, Any] = json.loads(self._events.body(event_id))
        return parsed

    def _settleable(self, intent_id: str, verb: str) -> SimulatedIntent:
        intent = self._intent(intent_id)
        require_status(intent.status, SETTLEABLE, f"A {intent.status} PaymentIntent cannot {verb}.")
        return intent

    def _intent(self, intent_id: str) -> SimulatedIntent:
        intent = self._account.intents.get(intent_id)
        if intent is None:
            raise NotFoundError(f"The Stripe simulator has no PaymentIntent {intent_id!r}.")
        return intent

    def _refund(self, refund_id: str) -> SimulatedRefund:
        refund = self._account.refunds.get(refund_id)
        if refund is None:
            raise NotFoundError(f"The Stripe simulator has no refund {refund_id!r}.")
        return refund

    def _event(self, event_type: str, data: dict[str, object]) -> tuple[str, str, bytes]:
        event_id = new_id("evt")
        event = event_wire(event_id, event_type, data, api_version=API_VERSION, created=self._now())
        body = json.dumps(event, indent=2).encode("utf-8")
        self._events.keep(event_id, event_type, body)
        return event_id, event_type, body

    # -- the HTTP API --------------------------------------------------------------------------

    def handle_post(
        self, path: str, raw: bytes, key: str | None, operation: PostOperation
    ) -> Answer:
        """Run one POST under Stripe's idempotency rules; (status, body, extra headers).

        The same ``Idempotency-Key`` with the same path and parameters replays the stored answer
        with ``Idempotent-Replayed: true``; with anything else it is a 400 ``idempotency_error``.
        Answers are stored once the endpoint began its work (successes and refusals of the
        request's substance), not for malformed requests, which may be sent again.
        """
        with self._lock:
            self.api_calls.append(("POST", path, key))
            try:
                return self._post(path, raw, key, operation)
            except ApiError as error:
                return error.status, encode(error.body), {}

    def _post(self, path: str, raw: bytes, key: str | None, operation: PostOperation) -> Answer:
        pairs = form_pairs(raw)
        fingerprint = hashlib.sha256(
            json.dumps([path, sorted(pairs)], separators=(",", ":")).encode()
        ).hexdigest()
        headers = {"Idempotency-Key": key} if key else {}
        if key is not None and not 0 < len(key) <= 255:
            raise ApiError(400, "Idempotency keys are 1 to 255 characters long.")
        try:
            saved = self._answers.replay(key, fingerprint)
        except IdempotencyConflictError:
            raise ApiError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they "
                f"were first used with. Try using a key other than '{key}' if you meant to "
                "execute a different request.",
                kind="idempotency_error",
            ) from None
        if saved is not None:
            return saved.status, saved.body, {**headers, "Idempotent-Replayed": "true"}
        try:
            status, body = 200, encode(operation(unflatten(pairs)))
        except ApiError as error:
            if not error.executed:
                raise
            status, body = error.status, encode(error.body)
        self._answers.save(key, fingerprint, status, body)
        return status, body, headers

    def handle_get(
        self, path: str, operation: Callable[[], dict[str, object]]
    ) -> tuple[int, bytes]:
        """Run one GET: (status, body)."""
        with self._lock:
            self.api_calls.append(("GET", path, None))
            try:
                return 200, encode(operation())
            except ApiError as error:
                return error.status, encode(error.body)

    def create_payment_intent(
        self, params: dict[str, Any], api_version: str = API_VERSION
    ) -> dict[str, object]:
        """``POST /v1/payment_intents`` (see ``operations.create_payment_intent``)."""
        with self._lock:
            return operations.create_payment_intent(self._account, params, self._now(), api_version)

    def retrieve_payment_intent(self, intent_id: str) -> dict[str, object]:
        """``GET /v1/payment_intents/{id}``."""
        with self._lock:
            return operations.retrieve_payment_intent(self._account, intent_id)

    def cancel_payment_intent(self, intent_id: str, params: dict[str, Any]) -> dict[str, object]:
        """``POST /v1/payment_intents/{id}/cancel``: only before the payment settled."""
        return self._now_on_account(operations.cancel_payment_intent, intent_id, params)

    def create_customer(self, params: dict[str, Any]) -> dict[str, object]:
        """``POST /v1/customers``."""
        return self._now_on_account(customers.create_customer, params)

    def attach_payment_method(self, token: str, params: dict[str, Any]) -> dict[str, object]:
        """``POST /v1/payment_methods/{id}/attach`` (Stripe's test tokens included)."""
        return self._now_on_account(customers.attach_payment_method, token, params)

    def create_refund(self, params: dict[str, Any]) -> dict[str, object]:
        """``POST /v1/refunds`` (see ``operations.create_refund``)."""
        return self._now_on_account(operations.create_refund, params)

    def _now_on_account(
        self, operation: Callable[..., dict[str, object]], *arguments: object
    ) -> dict[str, object]:
        """``operation(account, *arguments, now)`` under the account's lock: an API call that
        changes the account at the current time."""
        with self._lock:
            return operation(self._account, *arguments, self._now())
