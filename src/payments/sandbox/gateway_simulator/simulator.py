"""The sandbox provider simulator: payments in memory, the payer's actions, the API's rules."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable, Mapping

import falcon

from payments.domain.errors import (
    ConfigurationError,
    IdempotencyConflictError,
    InvalidTransitionError,
    NotFoundError,
)
from payments.domain.money import Money
from payments.sandbox.delivery import Deliver
from payments.sandbox.gateway_simulator import operations
from payments.sandbox.gateway_simulator.app import gateway_simulator_app
from payments.sandbox.gateway_simulator.objects import (
    APPROVABLE,
    DECLINABLE,
    EXPIRABLE,
    NOTIFIABLE,
    SANDBOX_EVENTS,
    WEBHOOK_PATH,
    Ledger,
    SimulatedPayment,
    SimulatedRefund,
)
from payments.sandbox.gateway_simulator.wire import ApiError, encode, read_json
from payments.sandbox.idempotency import Answer
from payments.sandbox.provider import SimulatedProvider, require_status

__all__ = ["SandboxSimulator"]

Operation = Callable[[Mapping[str, object]], tuple[int, dict[str, object]]]
"""One API call on the request's JSON body: ``(status, answer)`` or ``ApiError``."""


class SandboxSimulator(SimulatedProvider):
    """Plays the sandbox payment provider, in memory and thread-safe.

    ``wsgi_app()`` serves the wire format documented in ``payments.adapters.gateways.sandbox``
    (routes relative to wherever it is mounted). The Python methods ``approve``, ``decline`` and
    ``expire`` act as the payer or the network would, then sign the resulting notification and
    hand it to ``deliver(path, headers, body)`` (normally a POST to our own
    ``/v1/webhooks/sandbox``), outside the simulator's lock. Notifications are only ever sent by
    these Python methods, never from inside an HTTP request to the simulator, so a request to it
    never waits for our own webhook endpoint.

    The API demands ``Authorization: Bearer <secret>``, the secret the simulator signs with (our
    gateway adapter holds it), and answers anyone else 401, as a provider's API would. Only the
    payer's checkout page is open.

    Test triggers at creation: a payer e-mail whose local part is ``decline`` (or
    ``decline+<code>``) is declined at once with 402; ``approve`` is captured at once.

    What tests assert on is plain attributes: ``payments``, ``refunds``, ``deliveries``.
    """

    def __init__(
        self,
        secret: str,
        deliver: Deliver | None = None,
        *,
        checkout_base: str | None = None,
        clock: Callable[[], float] = time.time,
        webhook_path: str = WEBHOOK_PATH,
    ) -> None:
        if not secret:
            raise ConfigurationError("The sandbox simulator needs a secret to sign notifications.")
        super().__init__(SANDBOX_EVENTS, secret, deliver, webhook_path=webhook_path, clock=clock)
        self._secret = secret
        # Where the payer's browser reaches the checkout pages; by default the address the API
        # call came in at (which, for a call over a private loopback port, a payer cannot use).
        self._checkout_base = checkout_base.rstrip("/") if checkout_base else None
        self._ledger = Ledger()
        # Every payment and refund by its id: the live objects, to read and never to change.
        self.payments: dict[str, SimulatedPayment] = self._ledger.payments
        self.refunds: dict[str, SimulatedRefund] = self._ledger.refunds

    # -- the payer's and the network's side ----------------------------------------------------

    def approve(self, payment_id: str) -> dict[str, object]:
        """The payer paid: capture and notify ``payment.succeeded``.

        Allowed also after a failure, cancel or expiry (a late capture, which our side must flag
        for review). Raises ``NotFoundError`` or ``InvalidTransitionError``.
        """
        return self._settle(payment_id, "succeeded", APPROVABLE)

    def decline(self, payment_id: str, code: str = "card_declined") -> dict[str, object]:
        """The payment failed with decline ``code``: notify ``payment.failed``."""
        return self._settle(payment_id, "failed", DECLINABLE, code=code)

    def expire(self, payment_id: str) -> dict[str, object]:
        """The payment window ran out before the payer paid: notify ``payment.expired``."""
        return self._settle(payment_id, "expired", EXPIRABLE)

    def notify_payment(self, payment_id: str) -> dict[str, object]:
        """Send a new event with the payment's current, settled status (e.g. ``cancelled``)."""
        with self._lock:
            payment = self._payment(payment_id)
            if payment.status not in NOTIFIABLE:
                raise InvalidTransitionError(f"A {payment.status} payment has nothing to notify.")
            event = self._event(f"payment.{payment.status}", payment.to_wire())
        return self._events.send(*event)

    def notify_refund(self, refund_id: str) -> dict[str, object]:
        """Send the ``refund.<status>`` event of a refund (refunds are answered synchronously)."""
        with self._lock:
            refund = self._ledger.refunds.get(refund_id)
            if refund is None:
                raise NotFoundError(f"The sandbox has no refund {refund_id!r}.")
            event = self._event(f"refund.{refund.status}", refund.to_wire())
        return self._events.send(*event)

    def find_by_reference(self, reference: str) -> dict[str, object] | None:
        """The newest payment made under our ``reference``, in its wire form, or None."""
        with self._lock:
            found = self._ledger.by_reference(reference)
            return found[0].to_wire() if found else None

    def payment(self, payment_id: str) -> dict[str, object]:
        """One payment in its wire form; ``NotFoundError`` if unknown."""
        with self._lock:
            return self._payment(payment_id).to_wire()

    def checkout(self, payment_id: str) -> tuple[Money, str]:
        """What the payer's checkout page shows: the amount and the status; ``NotFoundError``."""
        with self._lock:
            payment = self._payment(payment_id)
            return payment.amount, payment.status

    def _settle(
        self, payment_id: str, status: str, allowed: frozenset[str], *, code: str | None = None
    ) -> dict[str, object]:
        with self._lock:
            payment = self._payment(payment_id)
            require_status(
                payment.status,
                allowed,
                f"A {payment.status} sandbox payment cannot become {status}.",
            )
            payment.status = status
            payment.decline_code = code
            payment.failure_message = f"Declined by the sandbox ({code})." if code else None
            event = self._event(f"payment.{status}", payment.to_wire())
        return self._events.send(*event)

    def _event(self, event_type: str, data: dict[str, object]) -> tuple[str, str, bytes]:
        event_id = f"evt_{secrets.token_hex(12)}"
        body = json.dumps(
            {"id": event_id, "type": event_type, "created": self._now(), "data": data},
            separators=(",", ":"),
        ).encode()
        self._events.keep(event_id, event_type, body)
        return event_id, event_type, body

    def _payment(self, payment_id: str) -> SimulatedPayment:
        payment = self._ledger.payments.get(payment_id)
        if payment is None:
            raise NotFoundError(f"The sandbox has no payment {payment_id!r}.")
        return payment

    # -- the API -------------------------------------------------------------------------------

    def wsgi_app(self) -> falcon.App[falcon.Request, falcon.Response]:
        """A Falcon WSGI app serving the wire format, to mount under any path prefix."""
        return gateway_simulator_app(self, self._secret)

    def handle_post(self, path: str, raw: bytes, key: str | None, operation: Operation) -> Answer:
        """Run a POST once per ``Idempotency-Key``; replay its stored answer afterwards.

        Returns (status, body, extra headers). Answers that show the request ran (2xx, 402) are
        stored; validation errors and 5xx are not, so the request can be sent again. The same
        key with another path or body is 422.
        """
        try:
            body = read_json(raw)
            fingerprint = hashlib.sha256(
                f"POST {path} ".encode()
                + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
            ).hexdigest()
            with self._lock:
                return self._run_once(key, fingerprint, body, operation)
        except ApiError as error:
            return error.status, encode(error.body), {}

    def _run_once(
        self, key: str | None, fingerprint: str, body: Mapping[str, object], operation: Operation
    ) -> Answer:
        try:
            saved = self._answers.replay(key, fingerprint)
        except IdempotencyConflictError:
            raise ApiError(
                422,
                "idempotency_key_reused",
                "This idempotency key was used with another request.",
                kind="idempotency_error",
            ) from None
        if saved is not None:
            return saved.status, saved.body, {"Idempotent-Replayed": "true"}
        try:
            status, payload = operation(body)
        except ApiError as error:
            if error.status == 402:
                self._answers.save(key, fingerprint, 402, encode(error.body))
            raise
        encoded = encode(payload)
        self._answers.save(key, fingerprint, status, encoded)
        return status, encoded, {}

    def create_payment(self, body: Mapping[str, object], prefix: str) -> dict[str, object]:
        """``POST /v1/payments`` served under ``prefix`` (see ``operations.create_payment``)."""
        checkout_base = self._checkout_base or prefix
        with self._lock:
            return operations.create_payment(self._ledger, body, checkout_base, self._now())

    def cancel_payment(self, payment_id: str) -> dict[str, object]:
        """``POST /v1/payments/{id}/cancel``."""
        with self._lock:
            return operations.cancel_payment(self._ledger, payment_id)

    def create_refund(self, body: Mapping[str, object]) -> dict[str, object]:
        """``POST /v1/refunds``."""
        with self._lock:
            return operations.create_refund(self._ledger, body, self._now())

    def list_payments(self, reference: str) -> dict[str, object]:
        """``GET /v1/payments?reference=``: the payments under ``reference``, newest first."""
        with self._lock:
            data = [p.to_wire() for p in self._ledger.by_reference(reference)]
        return {"object": "list", "data": data}
