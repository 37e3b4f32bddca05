"""A built-in Stripe API simulator (PaymentIntents, Refunds, signed webhooks) served by Falcon."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qsl

import falcon

from payments.domain.currency import get_currency
from payments.domain.errors import (
    ConfigurationError,
    InvalidTransitionError,
    NotFoundError,
    UnknownCurrencyError,
)

__all__ = [
    "API_VERSION",
    "WEBHOOK_PATH",
    "Deliver",
    "Delivery",
    "SimulatedIntent",
    "SimulatedRefund",
    "StripeSimulatorApp",
    "StripeSimulatorState",
    "make_stripe_simulator",
]

log = logging.getLogger(__name__)

Deliver = Callable[[str, bytes, dict[str, str]], object]
"""Hands a signed event ``(url_path, body, headers)`` to its receiver; what it returns is kept."""

WEBHOOK_PATH: Final = "/v1/webhooks/stripe"
# The API version stripe-python 16.1 pins; our objects carry the subset of it the adapter reads.
API_VERSION: Final = "2026-10-28.endive"

_MAX_AMOUNT: Final = 99_999_999
_CANCELABLE: Final = frozenset(
    {
        "requires_payment_method",
        "requires_capture",
        "requires_confirmation",
        "requires_action",
        "processing",
    }
)
_SETTLEABLE: Final = _CANCELABLE - {"requires_capture"}
_CANCELLATION_REASONS: Final = frozenset(
    {"duplicate", "fraudulent", "requested_by_customer", "abandoned"}
)
_REFUND_REASONS: Final = frozenset({"duplicate", "fraudulent", "requested_by_customer"})
_REFUND_EVENTS: Final = frozenset({"refund.created", "refund.updated", "charge.refunded"})
# The first API version that refuses payment_method_types on PaymentIntent create.
_NO_PAYMENT_METHOD_TYPES: Final = "2026-09-30"
_INTEGER: Final = re.compile(r"-?[0-9]{1,18}")
_FORM_KEY: Final = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_DOCS: Final = "https://docs.stripe.com/error-codes/"


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(18).replace('-', 'A').replace('_', 'B')}"


@dataclass
class SimulatedIntent:
    """A PaymentIntent as the simulator keeps it."""

    id: str
    amount: int
    currency: str
    metadata: dict[str, str]
    payment_method_types: list[str]
    description: str | None
    client_secret: str
    created: int
    status: str = "requires_payment_method"
    last_payment_error: dict[str, object] | None = None
    latest_charge: str | None = None
    payment_method: str | None = None
    canceled_at: int | None = None
    cancellation_reason: str | None = None
    amount_refunded: int = 0

    def to_wire(self) -> dict[str, object]:
        """The PaymentIntent object of Stripe's API."""
        return {
            "id": self.id,
            "object": "payment_intent",
            "amount": self.amount,
            "amount_capturable": 0,
            "amount_received": self.amount if self.status == "succeeded" else 0,
            "canceled_at": self.canceled_at,
            "cancellation_reason": self.cancellation_reason,
            "capture_method": "automatic_async",
            "client_secret": self.client_secret,
            "confirmation_method": "automatic",
            "created": self.created,
            "currency": self.currency,
            "customer": None,
            "description": self.description,
            "last_payment_error": copy.deepcopy(self.last_payment_error),
            "latest_charge": self.latest_charge,
            "livemode": False,
            "metadata": dict(self.metadata),
            "next_action": None,
            "payment_method": self.payment_method,
            "payment_method_types": list(self.payment_method_types),
            "status": self.status,
        }


@dataclass
class SimulatedRefund:
    """A Refund as the simulator keeps it."""

    id: str
    amount: int
    currency: str
    payment_intent: str
    charge: str
    metadata: dict[str, str]
    reason: str | None
    created: int
    status: str = "succeeded"
    failure_reason: str | None = None

    def to_wire(self) -> dict[str, object]:
        """The Refund object of Stripe's API."""
        wire: dict[str, object] = {
            "id": self.id,
            "object": "refund",
            "amount": self.amount,
            "balance_transaction": None,
            "charge": self.charge,
            "created": self.created,
            "currency": self.currency,
            "metadata": dict(self.metadata),
            "payment_intent": self.payment_intent,
            "reason": self.reason,
            "receipt_number": None,
            "status": self.status,
        }
        if self.failure_reason is not None:
            wire["failure_reason"] = self.failure_reason
        return wire


@dataclass(frozen=True, slots=True)
class Delivery:
    """One signed event handed to ``deliver`` (``result`` is what it returned, or None)."""

    event_id: str
    event_type: str
    path: str
    body: bytes
    headers: dict[str, str]
    result: object = None


@dataclass(frozen=True, slots=True)
class _Saved:
    fingerprint: str
    status: int
    body: bytes


class _ApiError(Exception):
    """An error answer in Stripe's shape: ``{"error": {"type", "message", "code", "param"}}``.

    ``executed`` says the endpoint had begun its work, so an idempotency key keeps the answer.
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        kind: str = "invalid_request_error",
        executed: bool = False,
        extra: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.executed = executed
        error: dict[str, object] = {"type": kind, "message": message}
        if code:
            error["code"] = code
            error["doc_url"] = _DOCS + code.replace("_", "-")
        if param:
            error["param"] = param
        error.update(extra or {})
        self.body: dict[str, object] = {"error": error}


@dataclass
class _Store:
    intents: dict[str, SimulatedIntent] = field(default_factory=dict)
    refunds: dict[str, SimulatedRefund] = field(default_factory=dict)
    events: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    idempotency: dict[str, _Saved] = field(default_factory=dict)


class StripeSimulatorState:
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
        self._secret = webhook_secret.encode("utf-8")
        self._deliver = deliver
        self._clock = clock
        self._webhook_path = webhook_path
        self._lock = threading.RLock()
        self._store = _Store()
        self.deliveries: list[Delivery] = []
        self.api_calls: list[tuple[str, str, str | None]] = []

    @property
    def intents(self) -> dict[str, SimulatedIntent]:
        """Every PaymentIntent by id (the live objects: read them, do not change them)."""
        return self._store.intents

    @property
    def refunds(self) -> dict[str, SimulatedRefund]:
        """Every Refund by id."""
        return self._store.refunds

    # -- the payer's, the network's and Stripe's side ------------------------------------------

    def approve(self, intent_id: str) -> dict[str, object]:
        """The payer confirmed with a good card: the intent succeeds; sends
        ``payment_intent.succeeded``."""
        with self._lock:
            intent = self._settleable(intent_id, "succeed")
            intent.status = "succeeded"
            intent.payment_method = intent.payment_method or _new_id("pm")
            intent.latest_charge = _new_id("ch")
            intent.last_payment_error = None
            event = self._event("payment_intent.succeeded", intent.to_wire())
        return self._send(*event)

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
            charge = _new_id("ch")
            error: dict[str, object] = {
                "type": "card_error",
                "code": code,
                "message": message,
                "charge": charge,
                "doc_url": _DOCS + code.replace("_", "-"),
            }
            if decline_code:
                error["decline_code"] = decline_code
            intent.status = "requires_payment_method"
            intent.payment_method = None
            intent.latest_charge = charge
            intent.last_payment_error = error
            event = self._event("payment_intent.payment_failed", intent.to_wire())
        return self._send(*event)

    def expire(self, intent_id: str) -> dict[str, object]:
        """The payer never paid: the intent is canceled as ``abandoned``; sends
        ``payment_intent.canceled``."""
        with self._lock:
            intent = self._intent(intent_id)
            if intent.status not in _CANCELABLE:
                raise InvalidTransitionError(
                    f"A {intent.status} PaymentIntent cannot be canceled.",
                    details={"status": intent.status},
                )
            intent.status = "canceled"
            intent.canceled_at = int(self._clock())
            intent.cancellation_reason = "abandoned"
            event = self._event("payment_intent.canceled", intent.to_wire())
        return self._send(*event)

    def fail_refund(self, refund_id: str, reason: str = "declined") -> dict[str, object]:
        """The card network rejected a refund: it becomes ``failed`` with ``failure_reason``
        and no longer counts; sends ``refund.updated``."""
        with self._lock:
            refund = self._refund(refund_id)
            if refund.status not in ("pending", "succeeded"):
                raise InvalidTransitionError(f"A {refund.status} refund cannot fail.")
            refund.status = "failed"
            refund.failure_reason = reason
            self._store.intents[refund.payment_intent].amount_refunded -= refund.amount
            event = self._event("refund.updated", refund.to_wire())
        return self._send(*event)

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
                data = self._charge(self._store.intents[refund.payment_intent])
            else:
                data = refund.to_wire()
            event = self._event(event_type, data)
        return self._send(*event)

    def redeliver(self, event_id: str) -> dict[str, object]:
        """Send an event again, same id and body, freshly signed: a duplicate delivery."""
        with self._lock:
            if event_id not in self._store.events:
                raise NotFoundError(f"The Stripe simulator has no event {event_id!r}.")
            event_type, body = self._store.events[event_id]
        return self._send(event_id, event_type, body)

    def event(self, event_id: str) -> dict[str, Any]:
        """An event sent earlier, parsed."""
        with self._lock:
            if event_id not in self._store.events:
                raise NotFoundError(f"The Stripe simulator has no event {event_id!r}.")
            parsed: dict[str, Any] = json.loads(self._store.events[event_id][1])
            return parsed

    def sign(self, timestamp: int, body: bytes) -> str:
        """The ``Stripe-Signature`` value Stripe would send with ``body`` at ``timestamp``."""
        digest = hmac.new(self._secret, b"%d." % timestamp + body, hashlib.sha256).hexdigest()
        return f"t={timestamp},v1={digest}"

    def _settleable(self, intent_id: str, verb: str) -> SimulatedIntent:
        intent = self._intent(intent_id)
        if intent.status not in _SETTLEABLE:
            raise InvalidTransitionError(
                f"A {intent.status} PaymentIntent cannot {verb}.",
                details={"status": intent.status},
            )
        return intent

    def _intent(self, intent_id: str) -> SimulatedIntent:
        intent = self._store.intents.get(intent_id)
        if intent is None:
            raise NotFoundError(f"The Stripe simulator has no PaymentIntent {intent_id!r}.")
        return intent

    def _refund(self, refund_id: str) -> SimulatedRefund:
        refund = self._store.refunds.get(refund_id)
        if refund is None:
            raise NotFoundError(f"The Stripe simulator has no refund {refund_id!r}.")
        return refund

    def _charge(self, intent: SimulatedIntent) -> dict[str, object]:
        refunds = [r for r in self._store.refunds.values() if r.payment_intent == intent.id]
        refunds.sort(key=lambda r: r.created, reverse=True)
        return {
            "id": intent.latest_charge,
            "object": "charge",
            "amount": intent.amount,
            "amount_captured": intent.amount,
            "amount_refunded": intent.amount_refunded,
            "captured": True,
            "created": intent.created,
            "currency": intent.currency,
            "metadata": {},
            "paid": True,
            "payment_intent": intent.id,
            "refunded": intent.amount_refunded >= intent.amount,
            "refunds": {
                "object": "list",
                "data": [r.to_wire() for r in refunds],
                "has_more": False,
                "total_count": len(refunds),
                "url": f"/v1/charges/{intent.latest_charge}/refunds",
            },
            "status": "succeeded",
        }

    def _event(self, event_type: str, data: dict[str, object]) -> tuple[str, str, bytes]:
        event_id = _new_id("evt")
        event = {
            "id": event_id,
            "object": "event",
            "api_version": API_VERSION,
            "created": int(self._clock()),
            "data": {"object": data},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
        }
        body = json.dumps(event, indent=2).encode("utf-8")
        self._store.events[event_id] = (event_type, body)
        return event_id, event_type, body

    def _send(self, event_id: str, event_type: str, body: bytes) -> dict[str, object]:
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Stripe-Signature": self.sign(int(self._clock()), body),
        }
        result = None
        if self._deliver is not None:
            result = self._deliver(self._webhook_path, body, dict(headers))
        with self._lock:
            self.deliveries.append(
                Delivery(event_id, event_type, self._webhook_path, body, headers, result)
            )
        return {"event_id": event_id, "type": event_type, "delivered_status": result}

    # -- the HTTP API --------------------------------------------------------------------------

    def handle_post(
        self,
        path: str,
        raw: bytes,
        key: str | None,
        operation: Callable[[dict[str, Any]], dict[str, object]],
    ) -> tuple[int, bytes, dict[str, str]]:
        """Run one POST under Stripe's idempotency rules; (status, body, extra headers).

        The same ``Idempotency-Key`` with the same path and parameters replays the stored answer
        with ``Idempotent-Replayed: true``; with anything else it is a 400 ``idempotency_error``.
        Answers are stored once the endpoint began its work (successes and refusals of the
        request's substance), not for malformed requests, which may be sent again.
        """
        with self._lock:
            self.api_calls.append(("POST", path, key))
            try:
                pairs = _form_pairs(raw)
                fingerprint = hashlib.sha256(
                    json.dumps([path, sorted(pairs)], separators=(",", ":")).encode()
                ).hexdigest()
                headers = {"Idempotency-Key": key} if key else {}
                if key is not None and not 0 < len(key) <= 255:
                    raise _ApiError(400, "Idempotency keys are 1 to 255 characters long.")
                saved = self._store.idempotency.get(key) if key else None
                if saved is not None:
                    if saved.fingerprint != fingerprint:
                        raise _ApiError(
                            400,
                            "Keys for idempotent requests can only be used with the same "
                            "parameters they were first used with. Try using a key other than "
                            f"'{key}' if you meant to execute a different request.",
                            kind="idempotency_error",
                        )
                    return saved.status, saved.body, {**headers, "Idempotent-Replayed": "true"}
                try:
                    status, body = 200, _encode(operation(_unflatten(pairs)))
                except _ApiError as error:
                    if not error.executed:
                        raise
                    status, body = error.status, _encode(error.body)
                if key:
                    self._store.idempotency[key] = _Saved(fingerprint, status, body)
                return status, body, headers
            except _ApiError as error:
                return error.status, _encode(error.body), {}

    def handle_get(
        self, path: str, operation: Callable[[], dict[str, object]]
    ) -> tuple[int, bytes]:
        """Run one GET: (status, body)."""
        with self._lock:
            self.api_calls.append(("GET", path, None))
            try:
                return 200, _encode(operation())
            except _ApiError as error:
                return error.status, _encode(error.body)

    def create_payment_intent(
        self, params: dict[str, Any], api_version: str = API_VERSION
    ) -> dict[str, object]:
        """``POST /v1/payment_intents``: a new intent waiting for the payer's card.

        Cards are chosen with ``allowed_payment_method_types`` or, on API versions before
        2026-09-30 (the ``Stripe-Version`` header), ``payment_method_types``; later versions
        refuse the latter with 400 ``payment_method_types_no_longer_supported``, as Stripe does.
        """
        _only(
            params,
            {
                "amount",
                "currency",
                "metadata",
                "allowed_payment_method_types",
                "payment_method_types",
                "description",
            },
        )
        amount = _amount(params, required=True)
        assert amount is not None
        currency = params.get("currency")
        if currency is None:
            raise _ApiError(
                400, "Missing required param: currency.", code="parameter_missing", param="currency"
            )
        if not isinstance(currency, str) or not _known_currency(currency):
            raise _ApiError(400, f"Invalid currency: {str(currency)[:10]}.", param="currency")
        types = _payment_method_types(params, api_version)
        description = params.get("description")
        if description is not None and not isinstance(description, str):
            raise _ApiError(400, "Invalid string: description.", param="description")
        intent_id = _new_id("pi")
        intent = SimulatedIntent(
            id=intent_id,
            amount=amount,
            currency=currency,
            metadata=_metadata(params),
            payment_method_types=list(types),
            description=description or None,
            client_secret=f"{intent_id}_secret_{secrets.token_urlsafe(18)}",
            created=int(self._clock()),
        )
        self._store.intents[intent_id] = intent
        return intent.to_wire()

    def retrieve_payment_intent(self, intent_id: str) -> dict[str, object]:
        """``GET /v1/payment_intents/{id}``."""
        return self._api_intent(intent_id).to_wire()

    def cancel_payment_intent(self, intent_id: str, params: dict[str, Any]) -> dict[str, object]:
        """``POST /v1/payment_intents/{id}/cancel``: only before the payment settled."""
        _only(params, {"cancellation_reason"})
        reason = params.get("cancellation_reason")
        if reason is not None and reason not in _CANCELLATION_REASONS:
            raise _ApiError(
                400,
                "Invalid cancellation_reason: must be one of "
                + ", ".join(sorted(_CANCELLATION_REASONS)),
                code="parameter_invalid",
                param="cancellation_reason",
            )
        intent = self._api_intent(intent_id)
        if intent.status not in _CANCELABLE:
            raise _ApiError(
                400,
                f"You cannot cancel this PaymentIntent because it has a status of "
                f"{intent.status}. Only a PaymentIntent with one of the following statuses may "
                "be canceled: requires_payment_method, requires_capture, requires_confirmation, "
                "requires_action, processing.",
                code="payment_intent_unexpected_state",
                executed=True,
                extra={"payment_intent": intent.to_wire()},
            )
        intent.status = "canceled"
        intent.canceled_at = int(self._clock())
        intent.cancellation_reason = reason
        return intent.to_wire()

    def create_refund(self, params: dict[str, Any]) -> dict[str, object]:
        """``POST /v1/refunds`` on a PaymentIntent (or its charge); the whole remainder when no
        ``amount`` is given. Refunds succeed at once and send no event (see ``notify_refund``)."""
        _only(params, {"payment_intent", "charge", "amount", "reason", "metadata"})
        intent_id, charge_id = params.get("payment_intent"), params.get("charge")
        if intent_id is None and charge_id is None:
            raise _ApiError(
                400,
                "One of the following params should be provided for this request: "
                "payment_intent or charge.",
                code="parameter_missing",
            )
        if intent_id is not None:
            intent = self._api_intent(str(intent_id))
        else:
            found = [i for i in self._store.intents.values() if i.latest_charge == charge_id]
            if not found or found[0].status != "succeeded":
                raise _ApiError(
                    404,
                    f"No such charge: '{str(charge_id)[:40]}'",
                    code="resource_missing",
                    param="charge",
                )
            intent = found[0]
        amount = _amount(params, required=False)
        reason = params.get("reason")
        if reason is not None and reason not in _REFUND_REASONS:
            raise _ApiError(
                400,
                "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer",
                code="parameter_invalid",
                param="reason",
            )
        metadata = _metadata(params)
        if intent.status != "succeeded" or intent.latest_charge is None:
            raise _ApiError(
                400,
                "This PaymentIntent does not have a successful charge to refund.",
                code="payment_intent_unexpected_state",
                executed=True,
            )
        remaining = intent.amount - intent.amount_refunded
        if remaining <= 0:
            raise _ApiError(
                400,
                f"Charge {intent.latest_charge} has already been refunded.",
                code="charge_already_refunded",
                executed=True,
            )
        if amount is None:
            amount = remaining
        if amount > remaining:
            raise _ApiError(
                400,
                f"Refund amount ({amount}) is greater than unrefunded amount on charge "
                f"({remaining})",
                code="amount_too_large",
                param="amount",
                executed=True,
            )
        refund = SimulatedRefund(
            id=_new_id("re"),
            amount=amount,
            currency=intent.currency,
            payment_intent=intent.id,
            charge=intent.latest_charge,
            metadata=metadata,
            reason=reason,
            created=int(self._clock()),
        )
        intent.amount_refunded += amount
        self._store.refunds[refund.id] = refund
        return refund.to_wire()

    def _api_intent(self, intent_id: str) -> SimulatedIntent:
        intent = self._store.intents.get(intent_id)
        if intent is None:
            raise _ApiError(
                404,
                f"No such payment_intent: '{intent_id[:60]}'",
                code="resource_missing",
                param="intent",
            )
        return intent


# -- wire helpers ----------------------------------------------------------------------------------


def _form_pairs(raw: bytes) -> list[tuple[str, str]]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _ApiError(400, "The request body is not valid UTF-8.") from None
    return parse_qsl(text, keep_blank_values=True)


def _unflatten(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's bracket notation (``metadata[k]=v``, ``types[0]=card``) as nested objects."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _FORM_KEY.fullmatch(key)
        if match is None:
            raise _ApiError(400, f"Invalid parameter name: {key[:40]}.", code="parameter_unknown")
        path = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
        node = root
        for part in path[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise _ApiError(400, f"Invalid parameter: {key[:40]}.", param=path[0])
            node = child
        last = path[-1] or str(len(node))
        if isinstance(node.get(last), dict):
            raise _ApiError(400, f"Invalid parameter: {key[:40]}.", param=path[0])
        node[last] = value
    return _lists(root)


def _lists(node: dict[str, Any]) -> dict[str, Any]:
    for key, value in node.items():
        if isinstance(value, dict):
            inner = _lists(value)
            if inner and all(k.isdigit() for k in inner):
                node[key] = [inner[k] for k in sorted(inner, key=int)]
    return node


def _only(params: Mapping[str, Any], allowed: set[str]) -> None:
    for name in params:
        if name not in allowed and name != "expand":
            raise _ApiError(
                400,
                f"Received unknown parameter: {name[:40]}",
                code="parameter_unknown",
                param=name[:40],
            )


def _payment_method_types(params: Mapping[str, Any], api_version: str) -> list[str]:
    if "payment_method_types" in params and api_version >= _NO_PAYMENT_METHOD_TYPES:
        raise _ApiError(
            400,
            "payment_method_types is no longer supported on this API version; use "
            "allowed_payment_method_types.",
            code="payment_method_types_no_longer_supported",
            param="payment_method_types",
        )
    if "payment_method_types" in params and "allowed_payment_method_types" in params:
        raise _ApiError(
            400,
            "allowed_payment_method_types and payment_method_types are mutually exclusive.",
            code="parameters_exclusive",
            param="allowed_payment_method_types",
        )
    name = (
        "payment_method_types"
        if "payment_method_types" in params
        else ("allowed_payment_method_types")
    )
    types = params.get(name, ["card"])
    if not isinstance(types, list) or not types or any(t != "card" for t in types):
        raise _ApiError(
            400,
            f"The simulator takes cards only: {name}=['card'].",
            code="parameter_invalid",
            param=name,
        )
    return ["card"]


def _amount(params: Mapping[str, Any], *, required: bool) -> int | None:
    value = params.get("amount")
    if value is None:
        if required:
            raise _ApiError(
                400, "Missing required param: amount.", code="parameter_missing", param="amount"
            )
        return None
    if not isinstance(value, str) or _INTEGER.fullmatch(value) is None:
        raise _ApiError(
            400, "Invalid integer: amount.", code="parameter_invalid_integer", param="amount"
        )
    amount = int(value)
    if amount < 1:
        raise _ApiError(400, "Amount must be at least 1.", code="amount_too_small", param="amount")
    if amount > _MAX_AMOUNT:
        raise _ApiError(
            400, "Amount must be no more than 99999999.", code="amount_too_large", param="amount"
        )
    return amount


def _metadata(params: Mapping[str, Any]) -> dict[str, str]:
    value = params.get("metadata")
    if value is None or value == "":
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _ApiError(
            400, "Invalid object: metadata.", code="parameter_invalid", param="metadata"
        )
    if len(value) > 50 or any(len(k) > 40 or len(v) > 500 for k, v in value.items()):
        raise _ApiError(
            400,
            "Metadata has at most 50 keys of up to 40 characters, values up to 500.",
            code="parameter_invalid",
            param="metadata",
        )
    return {k: v for k, v in value.items() if v != ""}


def _known_currency(code: str) -> bool:
    if code != code.lower() or len(code) != 3:
        return False
    try:
        get_currency(code.upper())
    except UnknownCurrencyError:
        return False
    return True


def _encode(payload: Mapping[str, object]) -> bytes:
    return json.dumps(payload, indent=2).encode("utf-8")


# -- Falcon ----------------------------------------------------------------------------------------


def _write(resp: falcon.Response, status: int, body: bytes, headers: Mapping[str, str]) -> None:
    resp.status = status
    resp.content_type = "application/json"
    resp.set_header("Request-Id", _new_id("req"))
    resp.set_header("Stripe-Version", API_VERSION)
    for name, value in headers.items():
        resp.set_header(name, value)
    resp.data = body


class _RequireSecretKey:
    """Stripe's authentication: ``Authorization: Bearer sk_...`` (any secret or restricted key)."""

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        scheme, _, key = (req.get_header("Authorization") or "").partition(" ")
        if scheme != "Bearer" or not key.startswith(("sk_", "rk_")) or len(key) < 8:
            error = _ApiError(
                401,
                "You did not provide a valid API key. Send it as 'Authorization: Bearer sk_...'.",
            )
            _write(resp, 401, _encode(error.body), {})
            resp.complete = True


class _PaymentIntents:
    def __init__(self, state: StripeSimulatorState) -> None:
        self._state = state

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        raw = req.bounded_stream.read()
        key = req.get_header("Idempotency-Key")
        version = req.get_header("Stripe-Version") or API_VERSION
        _write(
            resp,
            *self._state.handle_post(
                req.path,
                raw,
                key,
                lambda params: self._state.create_payment_intent(params, version),
            ),
        )


class _PaymentIntent:
    def __init__(self, state: StripeSimulatorState) -> None:
        self._state = state

    def on_get(self, req: falcon.Request, resp: falcon.Response, intent_id: str) -> None:
        status, body = self._state.handle_get(
            req.path, lambda: self._state.retrieve_payment_intent(intent_id)
        )
        _write(resp, status, body, {})


class _PaymentIntentCancel:
    def __init__(self, state: StripeSimulatorState) -> None:
        self._state = state

    def on_post(self, req: falcon.Request, resp: falcon.Response, intent_id: str) -> None:
        raw = req.bounded_stream.read()
        key = req.get_header("Idempotency-Key")
        _write(
            resp,
            *self._state.handle_post(
                req.path,
                raw,
                key,
                lambda params: self._state.cancel_payment_intent(intent_id, params),
            ),
        )


class _Refunds:
    def __init__(self, state: StripeSimulatorState) -> None:
        self._state = state

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        raw = req.bounded_stream.read()
        key = req.get_header("Idempotency-Key")
        _write(resp, *self._state.handle_post(req.path, raw, key, self._state.create_refund))


def _serialize_error(req: falcon.Request, resp: falcon.Response, error: falcon.HTTPError) -> None:
    """Falcon's own errors (unknown URL, wrong method) in Stripe's error shape."""
    message = f"Unrecognized request URL ({req.method}: {req.path})."
    if error.status_code != 404:
        message = error.title or "Invalid request."
    resp.content_type = "application/json"
    resp.data = _encode({"error": {"type": "invalid_request_error", "message": message}})


class StripeSimulatorApp(falcon.App[falcon.Request, falcon.Response]):
    """The simulator's WSGI app; ``state`` is the account it serves (and acts on)."""

    def __init__(self, state: StripeSimulatorState) -> None:
        super().__init__(middleware=[_RequireSecretKey()])
        self.state = state
        self.add_route("/v1/payment_intents", _PaymentIntents(state))
        self.add_route("/v1/payment_intents/{intent_id}", _PaymentIntent(state))
        self.add_route("/v1/payment_intents/{intent_id}/cancel", _PaymentIntentCancel(state))
        self.add_route("/v1/refunds", _Refunds(state))
        self.set_error_serializer(_serialize_error)


def make_stripe_simulator(
    *,
    webhook_secret: str,
    deliver: Deliver | None = None,
    clock: Callable[[], float] = time.time,
    webhook_path: str = WEBHOOK_PATH,
) -> StripeSimulatorApp:
    """A Falcon WSGI app speaking Stripe's wire format for the calls ``StripeGateway`` makes.

    Routes (relative to wherever it is mounted; point ``StripeClient(key, base_addresses=
    {"api": base})`` at it): ``POST /v1/payment_intents``, ``GET /v1/payment_intents/{id}``,
    ``POST /v1/payment_intents/{id}/cancel``, ``POST /v1/refunds``. Bodies are form-encoded with
    bracket notation, answers are Stripe-shaped JSON, errors ``{"error": {...}}`` with Stripe's
    status codes (400, 401, 404), and ``Idempotency-Key`` is honoured. The returned app's
    ``state`` (a ``StripeSimulatorState``) approves, declines and expires payments and sends
    signed events to ``deliver(url_path, body, headers)``.
    """
    state = StripeSimulatorState(
        webhook_secret=webhook_secret, deliver=deliver, clock=clock, webhook_path=webhook_path
    )
    return StripeSimulatorApp(state)
