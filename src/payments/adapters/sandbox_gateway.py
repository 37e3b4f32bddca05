"""The sandbox gateway: our own small JSON payments API over real HTTP (see docs/sandbox.md).

Wire format, version 1. Every API call carries ``Authorization: Bearer <sandbox secret>``
(a missing or wrong one is 401). Every amount is Money JSON with a string amount, never a number:
``{"amount": "79.99", "currency": "EUR"}``. ``{base}`` is where the simulator is mounted.

``POST {base}/v1/payments`` with ``Idempotency-Key``, body ``{"reference", "amount",
"description", "payment_method", "country", "return_url", "payer": {"email", "name"},
"metadata"}`` -> 201 payment (402 error when declined at once).
``GET {base}/v1/payments?reference=R`` -> 200 ``{"object": "list", "data": [payment, ...]}``,
newest first. ``POST {base}/v1/payments/{id}/cancel`` with ``Idempotency-Key`` -> 200 payment
(a settled payment is returned unchanged). ``POST {base}/v1/refunds`` with ``Idempotency-Key``,
body ``{"payment", "amount", "reason", "metadata"}`` -> 201 refund.

A payment is ``{"id", "object": "payment", "reference", "status", "amount", "amount_refunded",
"description", "payment_method", "country", "return_url", "payer", "metadata", "checkout_url",
"client_secret", "decline_code", "failure_message", "created"}`` with status ``pending``,
``processing``, ``succeeded``, ``failed``, ``cancelled`` or ``expired``. A refund is ``{"id",
"object": "refund", "payment", "amount", "status", "reason", "metadata", "created"}`` with
status ``pending``, ``succeeded`` or ``failed``. Errors are ``{"error": {"type", "code",
"message"}}``: 400 invalid request, 402 declined (``code`` is the decline code), 401/403
credentials, 404 unknown object, 409 same key still in flight, 422 same key with another body,
429 slow down, 5xx provider failure. A replayed answer carries ``Idempotent-Replayed: true``.

Notifications are POSTed as ``{"id": "evt_...", "type", "created": <unix>, "data": payment or
refund}`` with type ``payment.succeeded``, ``payment.failed``, ``payment.expired``,
``payment.cancelled``, ``refund.succeeded`` or ``refund.failed`` (others are acknowledged and
ignored), signed ``Sandbox-Signature: t=<unix>,v1=<hex>`` where the hex is
HMAC-SHA256(secret, ``"<t>." + raw body``): Stripe's scheme. Only ``v1`` values count, any one may
match, and ``t`` must be within the tolerance (300 s) of now in both directions.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Final, ParamSpec, TypeVar
from urllib.parse import quote

import requests
from urllib3.exceptions import ClosedPoolError, MaxRetryError, NewConnectionError

from payments.domain.errors import (
    ConfigurationError,
    CurrencyMismatchError,
    FieldError,
    GatewayConfigurationError,
    GatewayUnavailableError,
    IdempotencyConflictError,
    IdempotencyInFlightError,
    InvalidAmountError,
    InvalidSignatureError,
    InvalidTransitionError,
    MalformedNotificationError,
    NotFoundError,
    PaymentDeclinedError,
    PaymentsError,
    RefundExceedsCapturedError,
    UnsupportedByGatewayError,
    ValidationError,
)
from payments.domain.money import Money
from payments.domain.ports import (
    Bank,
    GatewayCapabilities,
    Notification,
    Payer,
    PaymentGateway,
    PaymentRequest,
    PaymentStart,
    RefundRequest,
    RefundResult,
)
from payments.domain.purchase import (
    ClientSecretAction,
    GatewayObservation,
    NextAction,
    ObservationSource,
    PaymentOutcome,
    RedirectAction,
)
from payments.domain.refund import RefundObservation, RefundStatus

log = logging.getLogger(__name__)

_P = ParamSpec("_P")
_T = TypeVar("_T")

GATEWAY_NAME: Final = "sandbox"
SIGNATURE_HEADER: Final = "Sandbox-Signature"
DEFAULT_TOLERANCE: Final = 300
PAYMENT_METHODS: Final = frozenset({"card", "pse", "nequi", "bank_transfer", "cash"})
REDIRECT_METHODS: Final = frozenset({"pse", "bank_transfer"})

_PAYMENT_STATUSES: Final[Mapping[str, PaymentOutcome]] = {
    "pending": PaymentOutcome.PROCESSING,
    "processing": PaymentOutcome.PROCESSING,
    "succeeded": PaymentOutcome.SUCCEEDED,
    "failed": PaymentOutcome.FAILED,
    "cancelled": PaymentOutcome.CANCELLED,
    "expired": PaymentOutcome.EXPIRED,
}
_REFUND_STATUSES: Final[Mapping[str, RefundStatus]] = {
    "pending": RefundStatus.PENDING,
    "succeeded": RefundStatus.SUCCEEDED,
    "failed": RefundStatus.FAILED,
}
_PAYMENT_EVENTS: Final[Mapping[str, PaymentOutcome]] = {
    "payment.succeeded": PaymentOutcome.SUCCEEDED,
    "payment.failed": PaymentOutcome.FAILED,
    "payment.expired": PaymentOutcome.EXPIRED,
    "payment.cancelled": PaymentOutcome.CANCELLED,
}
_REFUND_EVENTS: Final[Mapping[str, RefundStatus]] = {
    "refund.succeeded": RefundStatus.SUCCEEDED,
    "refund.failed": RefundStatus.FAILED,
}


class WireFormatError(ValueError):
    """A sandbox message does not follow the documented wire format (never crosses the port)."""


# -- amounts and statuses ------------------------------------------------------------------------


def money_to_wire(money: Money) -> dict[str, str]:
    """Money as the wire writes it: ``{"amount": "79.99", "currency": "EUR"}``."""
    return money.to_dict()


def money_from_wire(value: object) -> Money:
    """Money from its wire form; the amount must be a decimal string (a JSON number is refused)."""
    if not isinstance(value, Mapping):
        raise WireFormatError("Money must be an object with an amount and a currency.")
    amount = value.get("amount")
    currency = value.get("currency")
    if not isinstance(amount, str):
        raise WireFormatError(f"A money amount must be a decimal string, not {amount!r}.")
    if not isinstance(currency, str):
        raise WireFormatError(f"A currency must be an ISO 4217 code, not {currency!r}.")
    try:
        return Money(amount, currency)
    except ValidationError as error:
        raise WireFormatError(error.message) from error


def outcome_from_status(status: object) -> PaymentOutcome:
    """What a payment's wire status means for the purchase (``pending`` is still processing)."""
    if not isinstance(status, str) or status not in _PAYMENT_STATUSES:
        raise WireFormatError(f"Unknown payment status {status!r}.")
    return _PAYMENT_STATUSES[status]


def refund_status_from_wire(status: object) -> RefundStatus:
    """A refund's wire status as a domain refund status."""
    if not isinstance(status, str) or status not in _REFUND_STATUSES:
        raise WireFormatError(f"Unknown refund status {status!r}.")
    return _REFUND_STATUSES[status]


# -- requests ------------------------------------------------------------------------------------


def payment_request_body(request: PaymentRequest) -> dict[str, object]:
    """The JSON body of ``POST /v1/payments`` for a payment request."""
    body: dict[str, object] = {
        "reference": request.reference,
        "amount": money_to_wire(request.amount),
        "description": request.description,
        "payment_method": request.payment_method,
        "country": request.country,
        "return_url": request.return_url,
        "payer": payer_to_wire(request.payer),
        "metadata": dict(request.metadata),
    }
    if request.bank_code is not None:
        body["bank"] = request.bank_code
    return body


def payer_to_wire(payer: Payer) -> dict[str, object]:
    """The payer object: e-mail and name, and the details a PSE or Nequi payment needs."""
    wire: dict[str, object] = {"email": payer.email, "name": payer.name}
    for name in ("phone", "document_type", "document_number", "person_type", "ip_address"):
        value = getattr(payer, name)
        if value is not None:
            wire[name] = value
    return wire


def banks_from_list(listing: Mapping[str, object]) -> list[Bank]:
    """The institutions of a ``GET /v1/banks`` answer."""
    data = listing.get("data")
    if not isinstance(data, list):
        raise WireFormatError("The bank list has no 'data' list.")
    items = [_object(item, "a bank") for item in data]
    return [Bank(_text(item, "code"), _text(item, "name")) for item in items]


def refund_request_body(request: RefundRequest) -> dict[str, object]:
    """The JSON body of ``POST /v1/refunds``; our refund id travels in the metadata."""
    return {
        "payment": request.gateway_reference,
        "amount": money_to_wire(request.amount),
        "reason": request.reason,
        "metadata": {"refund_id": request.refund_id, "reference": request.purchase_reference},
    }


def encode_body(body: Mapping[str, object]) -> bytes:
    """Compact, key-sorted JSON: a retried request sends exactly the same bytes."""
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


# -- responses -----------------------------------------------------------------------------------


def _text(data: Mapping[str, object], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise WireFormatError(f"{key!r} must be a non-empty string, not {value!r}.")
    return value


def _optional_text(data: Mapping[str, object], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise WireFormatError(f"{key!r} must be a string or null, not {value!r}.")
    return value


def _object(value: object, what: str) -> Mapping[str, object]:
    if not isinstance(value, Mapping):
        raise WireFormatError(f"{what} must be a JSON object.")
    return value


def observation_from_payment(
    payment: Mapping[str, object],
    *,
    gateway: str,
    source: ObservationSource,
    event_id: str | None = None,
) -> GatewayObservation:
    """What a wire payment says about our purchase: outcome, ids, amount, decline code."""
    outcome = outcome_from_status(payment.get("status"))
    failed = outcome is PaymentOutcome.FAILED
    return GatewayObservation(
        gateway=gateway,
        outcome=outcome,
        source=source,
        gateway_reference=_text(payment, "id"),
        reference=_text(payment, "reference"),
        amount=money_from_wire(payment.get("amount")),
        event_id=event_id,
        provider_code=_optional_text(payment, "decline_code") if failed else None,
        message=_optional_text(payment, "failure_message") if failed else None,
    )


def next_action_for(payment: Mapping[str, object]) -> NextAction | None:
    """How the payer goes on: a redirect for PSE and bank transfers, a client secret otherwise.

    A payment that is already settled needs no action.
    """
    if outcome_from_status(payment.get("status")) is not PaymentOutcome.PROCESSING:
        return None
    if payment.get("payment_method") in REDIRECT_METHODS:
        return RedirectAction(_text(payment, "checkout_url"))
    return ClientSecretAction(_text(payment, "client_secret"))


def start_from_payment(payment: Mapping[str, object], *, gateway: str) -> PaymentStart:
    """The port's answer to a created payment: its id, the payer's next action, what we know."""
    observation = observation_from_payment(
        payment, gateway=gateway, source=ObservationSource.RESPONSE
    )
    return PaymentStart(
        gateway_reference=_text(payment, "id"),
        next_action=next_action_for(payment),
        observation=observation,
    )


def choose_payment(
    payments: Sequence[Mapping[str, object]], gateway_reference: str | None
) -> Mapping[str, object] | None:
    """The payment a lookup is about: the one we know, else one that captured, else the newest.

    A capture under our reference counts even if it is not the payment we started, because
    money moved.
    """
    if not payments:
        return None
    if gateway_reference is not None:
        for payment in payments:
            if payment.get("id") == gateway_reference:
                return payment
    for payment in payments:
        if payment.get("status") == "succeeded":
            return payment
    return payments[0]


def refund_result_from_refund(refund: Mapping[str, object]) -> RefundResult:
    """The port's answer to a created refund."""
    status = refund_status_from_wire(refund.get("status"))
    message = _optional_text(refund, "failure_message") if status is RefundStatus.FAILED else None
    return RefundResult(_text(refund, "id"), status, message)


def refund_observation_from_refund(
    refund: Mapping[str, object], *, gateway: str, event_id: str | None = None
) -> RefundObservation:
    """What a wire refund says, with our refund id when its metadata carries it."""
    metadata = refund.get("metadata")
    refund_id = None
    if isinstance(metadata, Mapping) and isinstance(metadata.get("refund_id"), str):
        refund_id = str(metadata["refund_id"])
    return RefundObservation(
        gateway=gateway,
        gateway_refund_reference=_text(refund, "id"),
        gateway_payment_reference=_text(refund, "payment"),
        amount=money_from_wire(refund.get("amount")),
        status=refund_status_from_wire(refund.get("status")),
        event_id=event_id,
        refund_id=refund_id,
    )


# -- errors --------------------------------------------------------------------------------------


def _error_object(payload: object) -> Mapping[str, object]:
    """The ``error`` object of a wire error body, or an empty one."""
    if isinstance(payload, Mapping):
        error = payload.get("error")
        if isinstance(error, Mapping):
            return error
    return {}


# The refund refusals that say what the caller must do, rather than that we are misconfigured.
_REFUND_REFUSALS: dict[str, tuple[type[PaymentsError], str]] = {
    "amount_too_large": (
        RefundExceedsCapturedError,
        "The sandbox gateway refused a refund beyond what remains captured.",
    ),
    "payment_not_captured": (
        InvalidTransitionError,
        "The sandbox gateway has no captured payment to refund.",
    ),
    "currency_mismatch": (
        CurrencyMismatchError,
        "The sandbox gateway refused a refund in another currency.",
    ),
}


def error_for_status(status: int, payload: object) -> PaymentsError:
    """The domain error for a non-2xx answer; the provider's message is kept out of it."""
    error = _error_object(payload)
    code = error.get("code") if isinstance(error.get("code"), str) else None
    details: dict[str, object] = {"status": status, "provider_code": code}
    if status == 402:
        payment = error.get("payment")
        if isinstance(payment, Mapping) and isinstance(payment.get("id"), str):
            details["gateway_reference"] = payment["id"]
        return PaymentDeclinedError(
            "The sandbox gateway declined the payment.",
            provider_code=str(code or "declined"),
            details=details,
        )
    if status in (401, 403):
        return GatewayConfigurationError(
            "The sandbox gateway refused our credentials.", details=details
        )
    if status == 409:
        return IdempotencyInFlightError(
            "The sandbox gateway is still processing a request with this key.", details=details
        )
    if status == 422:
        return IdempotencyConflictError(
            "The sandbox gateway saw this idempotency key with another request.", details=details
        )
    if status == 404:
        return NotFoundError("The sandbox gateway does not know this object.", details=details)
    if status == 429:
        return GatewayUnavailableError(
            "The sandbox gateway is rate limiting us.", charged_possible=False, details=details
        )
    if status == 400 and code == "unknown_bank":
        return ValidationError(
            "The provider does not know this PSE bank.",
            errors=[FieldError("bank_code", "must be a code from GET /v1/pse/banks")],
            details=details,
        )
    refusal = _REFUND_REFUSALS.get(code) if isinstance(code, str) else None
    if status == 400 and refusal is not None:
        kind, message = refusal
        return kind(message, details=details)
    if status >= 500:
        return GatewayUnavailableError(
            "The sandbox gateway failed.", charged_possible=True, details=details
        )
    return GatewayConfigurationError(
        f"The sandbox gateway refused the request ({status}).", details=details
    )


def _never_sent(error: requests.ConnectionError) -> bool:
    """True when the connection failed before any byte of the request left us."""
    if isinstance(error, requests.exceptions.SSLError | requests.exceptions.ConnectTimeout):
        return True
    reason = error.args[0] if error.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, NewConnectionError | ClosedPoolError)


def error_for_transport(error: requests.RequestException) -> PaymentsError:
    """The domain error for a request that got no HTTP answer.

    Only a failure to connect proves the provider never saw the request; a timeout or a dropped
    connection after sending may have charged.
    """
    if isinstance(
        error,
        requests.exceptions.InvalidURL
        | requests.exceptions.MissingSchema
        | requests.exceptions.InvalidSchema
        | requests.exceptions.URLRequired,
    ):
        return GatewayConfigurationError("The sandbox gateway URL is invalid.")
    if isinstance(error, requests.ConnectionError) and _never_sent(error):
        return GatewayUnavailableError(
            "The sandbox gateway could not be reached.", charged_possible=False
        )
    if isinstance(error, requests.Timeout):
        return GatewayUnavailableError(
            "The sandbox gateway did not answer in time.", charged_possible=True
        )
    return GatewayUnavailableError(
        "The connection to the sandbox gateway failed.", charged_possible=True
    )


def _retryable_status(status: int) -> bool:
    return status >= 500 or status in (409, 429)


# -- notification signatures ---------------------------------------------------------------------


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``"<timestamp>." + body`` keyed with the whole secret."""
    return hmac.new(secret.encode(), b"%d." % timestamp + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Sandbox-Signature`` value a sender puts on ``body``."""
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def parse_signature_header(header: str) -> tuple[int, list[str]]:
    """The timestamp and every ``v1`` signature of a header; other schemes are ignored."""
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if key == "t" and timestamp is None:
            if not value.isascii() or not value.isdigit():
                raise InvalidSignatureError("The signature timestamp is not a number.")
            timestamp = int(value)
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None:
        raise InvalidSignatureError("The signature header has no timestamp.")
    if not signatures:
        raise InvalidSignatureError("The signature header has no v1 signature.")
    return timestamp, signatures


def verify_signature(
    header: str | None,
    body: bytes,
    secret: str,
    *,
    now: float,
    tolerance: int = DEFAULT_TOLERANCE,
) -> int:
    """Check a ``Sandbox-Signature`` header against the raw body; returns its timestamp.

    Raises ``InvalidSignatureError`` when the header is missing or malformed, when no ``v1``
    value matches (compared in constant time) or when the timestamp is more than ``tolerance``
    seconds away from ``now``, in the past or in the future.
    """
    if not secret:
        raise InvalidSignatureError("No secret is configured: nothing can be verified.")
    if not header:
        raise InvalidSignatureError(f"The {SIGNATURE_HEADER} header is missing.")
    timestamp, signatures = parse_signature_header(header)
    expected = sign(secret, timestamp, body)
    matched = False
    for candidate in signatures:  # as bytes: a non-ASCII value is a mismatch, not a TypeError
        matched |= hmac.compare_digest(expected.encode(), candidate.encode("utf-8", "replace"))
    if not matched:
        raise InvalidSignatureError("No signature matches the body.")
    if abs(now - timestamp) > tolerance:
        raise InvalidSignatureError("The signature timestamp is outside the tolerance.")
    return timestamp


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name: the port passes lower-case names; others are matched as a fallback."""
    lowered = name.lower()
    value = headers.get(lowered)
    if value is not None:
        return value
    for key, candidate in headers.items():
        if key.lower() == lowered:
            return candidate
    return None


def notification_from_event(body: bytes, *, gateway: str) -> Notification:
    """Translate a raw notification body (already verified); ``MalformedNotificationError`` if
    it does not follow the wire format."""
    try:
        event = _object(json.loads(body), "A notification")
        event_id = _text(event, "id")
        event_type = _text(event, "type")
        if event_type in _PAYMENT_EVENTS:
            data = _object(event.get("data"), "The notification data")
            observation = observation_from_payment(
                data, gateway=gateway, source=ObservationSource.NOTIFICATION, event_id=event_id
            )
            if observation.outcome is not _PAYMENT_EVENTS[event_type]:
                raise WireFormatError(f"A {event_type} event about a {data.get('status')} payment.")
            return Notification(gateway, event_id, event_type, payment=observation)
        if event_type in _REFUND_EVENTS:
            data = _object(event.get("data"), "The notification data")
            refund = refund_observation_from_refund(data, gateway=gateway, event_id=event_id)
            if refund.status is not _REFUND_EVENTS[event_type]:
                raise WireFormatError(f"A {event_type} event about a {data.get('status')} refund.")
            return Notification(gateway, event_id, event_type, refund=refund)
        return Notification(gateway, event_id, event_type)
    except (WireFormatError, ValueError) as error:
        raise MalformedNotificationError("Not a sandbox gateway notification.") from error


# -- the adapter ---------------------------------------------------------------------------------


class SandboxGateway(PaymentGateway):
    """The built-in sandbox provider, reached over HTTP like any real one.

    Every call authenticates with ``Authorization: Bearer <secret>`` (the sandbox secret, which
    also signs the notifications) and has an explicit timeout. Requests that are safe to repeat
    (GETs, and POSTs that carry an ``Idempotency-Key``: all of ours) are tried up to
    ``attempts`` times on a failure to connect, a timeout, 409, 429 or 5xx, with exponential
    backoff and jitter. Errors leave as domain errors only.
    """

    name = GATEWAY_NAME

    def __init__(
        self,
        session: requests.Session,
        base_url: str,
        secret: str,
        *,
        timeout: float = 5.0,
        clock: Callable[[], float] = time.time,
        tolerance: int = DEFAULT_TOLERANCE,
        attempts: int = 3,
        backoff: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not secret:
            raise ConfigurationError("The sandbox gateway needs a webhook secret.")
        if tolerance <= 0:
            raise ConfigurationError("The signature tolerance must be positive (0 disables it).")
        if timeout <= 0 or attempts < 1 or backoff < 0:
            raise ConfigurationError("Timeouts, attempts and backoff must be positive.")
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._secret = secret
        self._timeout = timeout
        self._clock = clock
        self._tolerance = tolerance
        self._attempts = attempts
        self._backoff = backoff
        self._sleep = sleep
        self.capabilities = GatewayCapabilities(
            currencies=None,
            countries=None,
            payment_methods=PAYMENT_METHODS,
            refunds=True,
            partial_refunds=True,
            cancel=True,
            authoritative_lookup=True,
        )

    # -- the port ------------------------------------------------------------------------------

    def start_payment(self, request: PaymentRequest) -> PaymentStart:
        """Create the payment; repeating it with the same idempotency key returns the same one."""
        refusal = self.capabilities.refusal(request.country, request.amount, request.payment_method)
        if refusal is not None:
            raise UnsupportedByGatewayError(f"The sandbox gateway {refusal}.")
        if not request.amount.is_positive or not request.amount.is_exact:
            raise InvalidAmountError("A payment amount must be positive and exact in its currency.")
        payment = self._call(
            "POST",
            "/v1/payments",
            body=payment_request_body(request),
            idempotency_key=request.idempotency_key,
        )
        return self._translate(start_from_payment, payment, gateway=self.name)

    def lookup(self, reference: str, gateway_reference: str | None) -> GatewayObservation | None:
        """The payment under our reference as the sandbox provider sees it now, or None."""
        listing = self._call("GET", "/v1/payments", params={"reference": reference})
        data = listing.get("data")
        if not isinstance(data, list) or not all(isinstance(p, Mapping) for p in data):
            raise GatewayUnavailableError(
                "The sandbox gateway answered an unreadable list.", charged_possible=True
            )
        chosen = choose_payment(data, gateway_reference)
        if chosen is None:
            return None
        return self._translate(
            observation_from_payment, chosen, gateway=self.name, source=ObservationSource.LOOKUP
        )

    def banks(self, country: str) -> list[Bank]:
        """The PSE institutions the sandbox provider offers in ``country``."""
        listing = self._call("GET", "/v1/banks", params={"country": country})
        return self._translate(banks_from_list, listing)

    def cancel(self, gateway_reference: str, idempotency_key: str) -> GatewayObservation:
        """Cancel an unsettled payment; a settled one comes back as it is."""
        payment = self._call(
            "POST",
            f"/v1/payments/{quote(gateway_reference, safe='')}/cancel",
            body={},
            idempotency_key=idempotency_key,
        )
        return self._translate(
            observation_from_payment, payment, gateway=self.name, source=ObservationSource.RESPONSE
        )

    def refund(self, request: RefundRequest) -> RefundResult:
        """Refund part or all of a captured payment; safe to repeat with the same key."""
        refund = self._call(
            "POST",
            "/v1/refunds",
            body=refund_request_body(request),
            idempotency_key=request.idempotency_key,
        )
        return self._translate(refund_result_from_refund, refund)

    def parse_notification(
        self, headers: Mapping[str, str], body: bytes, *, verify: bool = True
    ) -> Notification:
        """Verify the ``Sandbox-Signature`` (unless ``verify`` is False) and translate the event."""
        if verify:
            verify_signature(
                header_value(headers, SIGNATURE_HEADER),
                body,
                self._secret,
                now=self._clock(),
                tolerance=self._tolerance,
            )
        return notification_from_event(body, gateway=self.name)

    # -- I/O -----------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, object] | None = None,
        params: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Mapping[str, object]:
        """One API call with safe retries; the decoded 2xx body, or a domain error."""
        headers = {
            "Accept": "application/json",
            "Authorization": f"Bearer {self._secret}",
            "User-Agent": "payments-sandbox-gateway/1",
        }
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = encode_body(body)
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        safe = method == "GET" or idempotency_key is not None
        attempts = self._attempts if safe else 1
        url = self._base_url + path
        for attempt in range(1, attempts + 1):
            last = attempt == attempts
            try:
                response = self._session.request(
                    method, url, params=params, data=data, headers=headers, timeout=self._timeout
                )
            except requests.RequestException as error:
                failure = error_for_transport(error)
                if last or not isinstance(failure, GatewayUnavailableError):
                    raise failure from error
                log.info("sandbox %s %s failed (%s); retrying", method, path, type(error).__name__)
                self._pause(attempt)
                continue
            if _retryable_status(response.status_code) and not last:
                log.info("sandbox %s %s answered %s; retrying", method, path, response.status_code)
                self._pause(attempt)
                continue
            return self._decode(response)
        raise AssertionError("the loop returns or raises on its last attempt")

    def _pause(self, attempt: int) -> None:
        ceiling = self._backoff * 2 ** (attempt - 1)
        # Jitter spreads retries of many workers; it is not a security measure.
        self._sleep(ceiling / 2 + random.uniform(0, ceiling / 2))  # noqa: S311

    def _decode(self, response: requests.Response) -> Mapping[str, object]:
        try:
            payload: object = json.loads(response.content) if response.content else None
        except ValueError:
            payload = None
        try:
            response.raise_for_status()
        except requests.HTTPError as error:
            raise error_for_status(response.status_code, payload) from error
        if not isinstance(payload, Mapping):
            raise GatewayUnavailableError(
                "The sandbox gateway answered something unreadable.", charged_possible=True
            )
        return payload

    @staticmethod
    def _translate(translation: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        """Run a pure translation of a 2xx answer; a malformed one may still mean the provider
        acted, so it is reported as an outage that may have charged."""
        try:
            return translation(*args, **kwargs)
        except WireFormatError as error:
            raise GatewayUnavailableError(
                "The sandbox gateway answered something unreadable.", charged_possible=True
            ) from error
