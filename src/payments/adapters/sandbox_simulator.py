"""The sandbox provider: an in-memory payments API in the sandbox wire format, served by Falcon."""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Final

import falcon
import requests

from payments.domain.errors import (
    ConfigurationError,
    InvalidTransitionError,
    NotFoundError,
    ValidationError,
)
from payments.domain.money import Money

log = logging.getLogger(__name__)

Deliver = Callable[[str, dict[str, str], bytes], int]
"""Hands a signed notification ``(path, headers, body)`` to the receiver; returns the status."""

WEBHOOK_PATH: Final = "/v1/webhooks/sandbox"
SIGNATURE_HEADER: Final = "Sandbox-Signature"
PAYMENT_METHODS: Final = frozenset({"card", "pse", "nequi", "bank_transfer", "cash"})

_OPEN: Final = frozenset({"pending", "processing"})
_APPROVABLE: Final = frozenset({"pending", "processing", "failed", "cancelled", "expired"})
_DECLINABLE: Final = _OPEN
_EXPIRABLE: Final = _OPEN | {"failed"}
_CANCELLABLE: Final = _OPEN | {"failed"}
_NOTIFIABLE: Final = frozenset({"succeeded", "failed", "cancelled", "expired"})


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


@dataclass(frozen=True, slots=True)
class Delivery:
    """One notification handed to ``deliver``, and the status it answered (None: no deliverer)."""

    path: str
    headers: dict[str, str]
    body: bytes
    status: int | None


@dataclass(frozen=True, slots=True)
class _StoredResponse:
    fingerprint: str
    status: int
    body: bytes


@dataclass
class _State:
    payments: dict[str, SimulatedPayment] = field(default_factory=dict)
    refunds: dict[str, SimulatedRefund] = field(default_factory=dict)
    events: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    idempotency: dict[str, _StoredResponse] = field(default_factory=dict)


class _ApiError(Exception):
    """An error answer of the wire format: ``{"error": {"type", "code", "message"}}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        kind: str = "invalid_request",
        extra: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, object] = {
            "error": {"type": kind, "code": code, "message": message, **(extra or {})}
        }


class SandboxSimulator:
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
        clock: Callable[[], float] = time.time,
        webhook_path: str = WEBHOOK_PATH,
        checkout_base: str | None = None,
    ) -> None:
        if not secret:
            raise ConfigurationError("The sandbox simulator needs a secret to sign notifications.")
        self._secret = secret.encode()
        self._deliver = deliver
        self._clock = clock
        self._webhook_path = webhook_path
        # Where the payer's browser reaches the checkout pages; by default the address the API
        # call came in at (which, for a call over a private loopback port, a payer cannot use).
        self._checkout_base = checkout_base.rstrip("/") if checkout_base else None
        self._lock = threading.RLock()
        self._state = _State()
        self.deliveries: list[Delivery] = []

    @property
    def payments(self) -> dict[str, SimulatedPayment]:
        """Every payment by its id (the live objects: read them, do not change them)."""
        return self._state.payments

    @property
    def refunds(self) -> dict[str, SimulatedRefund]:
        """Every refund by its id."""
        return self._state.refunds

    # -- the payer's and the network's side ----------------------------------------------------

    def approve(self, payment_id: str) -> dict[str, object]:
        """The payer paid: capture and notify ``payment.succeeded``.

        Allowed also after a failure, cancel or expiry (a late capture, which our side must flag
        for review). Raises ``NotFoundError`` or ``InvalidTransitionError``.
        """
        return self._settle(payment_id, "succeeded", _APPROVABLE)

    def decline(self, payment_id: str, code: str = "card_declined") -> dict[str, object]:
        """The payment failed with decline ``code``: notify ``payment.failed``."""
        return self._settle(payment_id, "failed", _DECLINABLE, code=code)

    def expire(self, payment_id: str) -> dict[str, object]:
        """The payment window ran out before the payer paid: notify ``payment.expired``."""
        return self._settle(payment_id, "expired", _EXPIRABLE)

    def notify_payment(self, payment_id: str) -> dict[str, object]:
        """Send a new event with the payment's current, settled status (e.g. ``cancelled``)."""
        with self._lock:
            payment = self._payment(payment_id)
            if payment.status not in _NOTIFIABLE:
                raise InvalidTransitionError(f"A {payment.status} payment has nothing to notify.")
            event = self._event(f"payment.{payment.status}", payment.to_wire())
        return self._send(*event)

    def notify_refund(self, refund_id: str) -> dict[str, object]:
        """Send the ``refund.<status>`` event of a refund (refunds are answered synchronously)."""
        with self._lock:
            refund = self._state.refunds.get(refund_id)
            if refund is None:
                raise NotFoundError(f"The sandbox has no refund {refund_id!r}.")
            event = self._event(f"refund.{refund.status}", refund.to_wire())
        return self._send(*event)

    def redeliver(self, event_id: str) -> dict[str, object]:
        """Send an event again, same id and body, freshly signed: a duplicate delivery."""
        with self._lock:
            if event_id not in self._state.events:
                raise NotFoundError(f"The sandbox has no event {event_id!r}.")
            event_type, body = self._state.events[event_id]
        return self._send(event_id, event_type, body)

    def find_by_reference(self, reference: str) -> dict[str, object] | None:
        """The newest payment made under our ``reference``, in its wire form, or None."""
        with self._lock:
            found = self._by_reference(reference)
            return found[0].to_wire() if found else None

    def payment(self, payment_id: str) -> dict[str, object]:
        """One payment in its wire form; ``NotFoundError`` if unknown."""
        with self._lock:
            return self._payment(payment_id).to_wire()

    def sign(self, timestamp: int, body: bytes) -> str:
        """The ``Sandbox-Signature`` value for ``body`` sent at ``timestamp``."""
        digest = hmac.new(self._secret, b"%d." % timestamp + body, hashlib.sha256).hexdigest()
        return f"t={timestamp},v1={digest}"

    def _settle(
        self, payment_id: str, status: str, allowed: frozenset[str], *, code: str | None = None
    ) -> dict[str, object]:
        with self._lock:
            payment = self._payment(payment_id)
            if payment.status not in allowed:
                raise InvalidTransitionError(
                    f"A {payment.status} sandbox payment cannot become {status}.",
                    details={"status": payment.status},
                )
            payment.status = status
            payment.decline_code = code
            payment.failure_message = f"Declined by the sandbox ({code})." if code else None
            event = self._event(f"payment.{status}", payment.to_wire())
        return self._send(*event)

    def _event(self, event_type: str, data: dict[str, object]) -> tuple[str, str, bytes]:
        event_id = f"evt_{secrets.token_hex(12)}"
        body = json.dumps(
            {"id": event_id, "type": event_type, "created": int(self._clock()), "data": data},
            separators=(",", ":"),
        ).encode()
        self._state.events[event_id] = (event_type, body)
        return event_id, event_type, body

    def _send(self, event_id: str, event_type: str, body: bytes) -> dict[str, object]:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "payments-sandbox-simulator/1",
            SIGNATURE_HEADER: self.sign(int(self._clock()), body),
        }
        status = None
        if self._deliver is not None:
            status = self._deliver(self._webhook_path, dict(headers), body)
        with self._lock:
            self.deliveries.append(Delivery(self._webhook_path, headers, body, status))
        return {"event_id": event_id, "type": event_type, "delivered_status": status}

    def _payment(self, payment_id: str) -> SimulatedPayment:
        payment = self._state.payments.get(payment_id)
        if payment is None:
            raise NotFoundError(f"The sandbox has no payment {payment_id!r}.")
        return payment

    def _by_reference(self, reference: str) -> list[SimulatedPayment]:
        # Payments are kept in creation order: newest first is that order reversed.
        return [p for p in reversed(self._state.payments.values()) if p.reference == reference]

    # -- the API -------------------------------------------------------------------------------

    def wsgi_app(self) -> falcon.App[falcon.Request, falcon.Response]:
        """A Falcon WSGI app serving the wire format, to mount under any path prefix."""
        app: falcon.App[falcon.Request, falcon.Response] = falcon.App(
            middleware=[_RequireSecret(self._secret)]
        )
        app.add_route("/v1/banks", _BanksResource())
        app.add_route("/v1/payments", _PaymentsResource(self))
        app.add_route("/v1/payments/{payment_id}/cancel", _CancelResource(self))
        app.add_route("/v1/refunds", _RefundsResource(self))
        app.add_route("/checkout/{payment_id}", _CheckoutResource(self))
        return app

    def _idempotent(
        self,
        req: falcon.Request,
        resp: falcon.Response,
        operation: Callable[[Mapping[str, object]], tuple[int, dict[str, object]]],
    ) -> None:
        """Run a POST once per ``Idempotency-Key``; replay its stored answer afterwards.

        Answers that show the request ran (2xx, 402) are stored; validation errors and 5xx are
        not, so the request can be sent again. The same key with another path or body is 422.
        """
        try:
            body = _read_json(req)
            fingerprint = hashlib.sha256(
                f"{req.method} {req.path} ".encode()
                + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
            ).hexdigest()
            key = req.get_header("Idempotency-Key")
            with self._lock:
                stored = self._state.idempotency.get(key) if key else None
                if stored is not None:
                    if stored.fingerprint != fingerprint:
                        raise _ApiError(
                            422,
                            "idempotency_key_reused",
                            "This idempotency key was used with another request.",
                            kind="idempotency_error",
                        )
                    resp.set_header("Idempotent-Replayed", "true")
                    _write(resp, stored.status, stored.body)
                    return
                try:
                    status, payload = operation(body)
                except _ApiError as error:
                    if key and error.status == 402:
                        encoded = _encode(error.body)
                        self._state.idempotency[key] = _StoredResponse(fingerprint, 402, encoded)
                    raise
                encoded = _encode(payload)
                if key:
                    self._state.idempotency[key] = _StoredResponse(fingerprint, status, encoded)
            _write(resp, status, encoded)
        except _ApiError as error:
            _write(resp, error.status, _encode(error.body))

    def _create_payment(self, body: Mapping[str, object], prefix: str) -> dict[str, object]:
        reference = _required_text(body, "reference", limit=255)
        amount = _money(body.get("amount"), "amount")
        method = _optional_text(body, "payment_method") or "card"
        if method not in PAYMENT_METHODS:
            raise _ApiError(400, "unsupported_payment_method", f"Unknown method {method!r}.")
        country = _required_text(body, "country", limit=2)
        payer = body.get("payer") or {}
        if not isinstance(payer, Mapping):
            raise _ApiError(400, "invalid_payer", "'payer' must be an object.")
        bank = _optional_text(body, "bank")
        if method == "pse" and bank is not None and bank not in SANDBOX_BANKS.get(country, {}):
            raise _ApiError(400, "unknown_bank", f"No PSE bank {bank!r} in {country}.")
        metadata = body.get("metadata") or {}
        if not isinstance(metadata, Mapping) or not all(
            isinstance(v, str) for v in metadata.values()
        ):
            raise _ApiError(400, "invalid_metadata", "'metadata' must map names to strings.")
        payment_id = f"pay_{secrets.token_hex(12)}"
        payment = SimulatedPayment(
            id=payment_id,
            reference=reference,
            amount=amount,
            description=_optional_text(body, "description"),
            payment_method=method,
            country=country,
            return_url=_optional_text(body, "return_url"),
            payer_email=_optional_text(payer, "email"),
            payer_name=_optional_text(payer, "name"),
            metadata={str(k): str(v) for k, v in metadata.items()},
            client_secret=f"{payment_id}_secret_{secrets.token_hex(12)}",
            checkout_url=f"{self._checkout_base or prefix}/checkout/{payment_id}",
            created=int(self._clock()),
            bank=bank,
        )
        trigger, _, code = (payment.payer_email or "").partition("@")[0].partition("+")
        self._state.payments[payment_id] = payment
        if trigger == "approve":
            payment.status = "succeeded"
        elif trigger == "decline":
            payment.status = "failed"
            payment.decline_code = code or "card_declined"
            payment.failure_message = f"Declined by the sandbox ({payment.decline_code})."
            raise _ApiError(
                402,
                payment.decline_code,
                "The payment was declined.",
                kind="payment_declined",
                extra={"payment": payment.to_wire()},
            )
        return payment.to_wire()

    def _cancel_payment(self, payment_id: str) -> dict[str, object]:
        payment = self._state.payments.get(payment_id)
        if payment is None:
            raise _ApiError(404, "resource_missing", f"No payment {payment_id!r}.")
        if payment.status in _CANCELLABLE:
            payment.status = "cancelled"
        return payment.to_wire()

    def _create_refund(self, body: Mapping[str, object]) -> dict[str, object]:
        payment_id = _required_text(body, "payment", limit=255)
        payment = self._state.payments.get(payment_id)
        if payment is None:
            raise _ApiError(404, "resource_missing", f"No payment {payment_id!r}.")
        if payment.status != "succeeded":
            raise _ApiError(400, "payment_not_captured", "Only a captured payment is refunded.")
        refunded = payment.amount_refunded or Money.zero(payment.amount.currency)
        remaining = payment.amount - refunded
        amount = remaining if body.get("amount") is None else _money(body["amount"], "amount")
        if amount.currency != payment.amount.currency:
            raise _ApiError(400, "currency_mismatch", "The refund is in another currency.")
        if amount > remaining:
            raise _ApiError(400, "amount_too_large", f"At most {remaining} can be refunded.")
        metadata = body.get("metadata") or {}
        if not isinstance(metadata, Mapping):
            raise _ApiError(400, "invalid_metadata", "'metadata' must be an object.")
        refund = SimulatedRefund(
            id=f"re_{secrets.token_hex(12)}",
            payment_id=payment.id,
            amount=amount,
            reason=_optional_text(body, "reason"),
            metadata={str(k): str(v) for k, v in metadata.items()},
            created=int(self._clock()),
        )
        payment.amount_refunded = refunded + amount
        self._state.refunds[refund.id] = refund
        return refund.to_wire()

    def _list_payments(self, reference: str) -> dict[str, object]:
        with self._lock:
            data = [p.to_wire() for p in self._by_reference(reference)]
        return {"object": "list", "data": data}


# -- Falcon resources ----------------------------------------------------------------------------


class _RequireSecret:
    """The provider's authentication: ``Authorization: Bearer <secret>`` on every API route."""

    def __init__(self, secret: bytes) -> None:
        self._expected = b"Bearer " + secret

    def process_resource(
        self, req: falcon.Request, resp: falcon.Response, resource: object, params: object
    ) -> None:
        if isinstance(resource, _CheckoutResource):
            return  # the payer's browser carries no credentials
        given = (req.get_header("Authorization") or "").strip().encode("utf-8", "replace")
        if hmac.compare_digest(given, self._expected):
            return
        error = _ApiError(
            401,
            "unauthenticated",
            "Send the sandbox secret as 'Authorization: Bearer <secret>'.",
            kind="authentication_error",
        )
        resp.set_header("WWW-Authenticate", "Bearer")
        _write(resp, 401, _encode(error.body))
        resp.complete = True


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


class _BanksResource:
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        country = req.get_param("country") or ""
        banks = [
            {"code": code, "name": name} for code, name in SANDBOX_BANKS.get(country, {}).items()
        ]
        _write(resp, 200, _encode({"object": "list", "data": banks}))


class _PaymentsResource:
    def __init__(self, simulator: SandboxSimulator) -> None:
        self._simulator = simulator

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        reference = req.get_param("reference")
        if not reference:
            error = _ApiError(400, "parameter_missing", "Give the 'reference' to look up.")
            _write(resp, error.status, _encode(error.body))
            return
        _write(resp, 200, _encode(self._simulator._list_payments(reference)))

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        prefix = req.prefix
        self._simulator._idempotent(
            req, resp, lambda body: (201, self._simulator._create_payment(body, prefix))
        )


class _CancelResource:
    def __init__(self, simulator: SandboxSimulator) -> None:
        self._simulator = simulator

    def on_post(self, req: falcon.Request, resp: falcon.Response, payment_id: str) -> None:
        self._simulator._idempotent(
            req, resp, lambda _body: (200, self._simulator._cancel_payment(payment_id))
        )


class _RefundsResource:
    def __init__(self, simulator: SandboxSimulator) -> None:
        self._simulator = simulator

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._simulator._idempotent(
            req, resp, lambda body: (201, self._simulator._create_refund(body))
        )


class _CheckoutResource:
    """The page a redirect sends the payer to: it says how to settle the payment."""

    def __init__(self, simulator: SandboxSimulator) -> None:
        self._simulator = simulator

    def on_get(self, req: falcon.Request, resp: falcon.Response, payment_id: str) -> None:
        try:
            payment = self._simulator.payment(payment_id)
        except NotFoundError:
            raise falcon.HTTPNotFound() from None
        amount = payment["amount"]
        assert isinstance(amount, dict)
        resp.content_type = falcon.MEDIA_HTML
        resp.text = (
            "<!doctype html><title>Sandbox checkout</title>"
            f"<h1>Sandbox payment {html.escape(payment_id)}</h1>"
            f"<p>{html.escape(str(amount['amount']))} {html.escape(str(amount['currency']))}"
            f" &middot; status <strong>{html.escape(str(payment['status']))}</strong></p>"
            "<p>Nothing is charged here. Settle it with "
            "<code>POST /v1/sandbox/purchases/{purchase_id}/approve</code> (or decline, expire)"
            " on the payments API.</p>"
        )


# -- helpers -------------------------------------------------------------------------------------


def _read_json(req: falcon.Request) -> Mapping[str, object]:
    raw = req.bounded_stream.read()
    if not raw:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise _ApiError(400, "invalid_json", "The body is not JSON.") from None
    if not isinstance(body, dict):
        raise _ApiError(400, "invalid_json", "The body must be a JSON object.")
    return body


def _encode(payload: Mapping[str, object]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def _write(resp: falcon.Response, status: int, body: bytes) -> None:
    resp.status = status
    resp.content_type = falcon.MEDIA_JSON
    resp.data = body


def _required_text(data: Mapping[str, object], key: str, *, limit: int) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise _ApiError(400, "parameter_invalid", f"{key!r} must be a string of 1-{limit} chars.")
    return value


def _optional_text(data: Mapping[str, object], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise _ApiError(400, "parameter_invalid", f"{key!r} must be a string.")
    return value


def _money(value: object, key: str) -> Money:
    """Money from the wire: a string amount, positive and exact in its currency."""
    if not isinstance(value, Mapping) or not isinstance(value.get("amount"), str):
        raise _ApiError(400, "amount_invalid", f"{key!r} must be money with a string amount.")
    try:
        money = Money.from_dict(value)
    except ValidationError as error:
        raise _ApiError(400, "amount_invalid", error.message) from None
    if not money.is_positive or not money.is_exact:
        raise _ApiError(400, "amount_invalid", f"{key!r} must be positive and exact.")
    return money


def http_deliverer(base_url: str, session: requests.Session, *, timeout: float = 10.0) -> Deliver:
    """A ``deliver`` that POSTs the raw body with its headers to ``base_url + path``.

    Returns the HTTP status, or 0 when no answer came (connection failed or timed out).
    """
    base = base_url.rstrip("/")

    def deliver(path: str, headers: dict[str, str], body: bytes) -> int:
        try:
            response = session.post(base + path, data=body, headers=headers, timeout=timeout)
        except requests.RequestException as error:
            log.warning("sandbox notification to %s%s failed: %s", base, path, error)
            return 0
        return response.status_code

    return deliver
