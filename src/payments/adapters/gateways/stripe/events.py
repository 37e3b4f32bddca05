"""Stripe objects and events in our terms: PaymentIntents, Refunds and Events as observations."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any, Final

from payments.adapters.gateways.stripe.amounts import from_stripe_amount
from payments.adapters.gateways.stripe.settings import GATEWAY_NAME
from payments.adapters.wire.notification_json import parse_notification
from payments.domain.errors import (
    MalformedNotificationError,
    UnknownCurrencyError,
    ValidationError,
)
from payments.domain.gateway import Notification, RefundResult
from payments.domain.money import Money
from payments.domain.purchase import GatewayObservation, ObservationSource, PaymentOutcome
from payments.domain.refund import RefundObservation, RefundStatus

__all__ = [
    "ShapeError",
    "intent_outcome",
    "notification_from_body",
    "observation_from_intent",
    "refund_result",
    "refund_status",
    "translate_event",
]

log = logging.getLogger(__name__)


class ShapeError(ValueError):
    """A Stripe object is not shaped as documented."""


class _ForeignCurrencyError(ShapeError):
    """A Stripe object in a currency our ISO 4217 table does not know (ANG, STD: codes Stripe
    still lists). We never charge in such a currency, so the object cannot be one of ours."""


_CURRENCY_CODE: Final = re.compile(r"[A-Za-z]{3}")


def _stripe_money(units: int, currency: object) -> Money:
    """``from_stripe_amount`` with its refusals as shape errors (foreign currencies apart)."""
    if not isinstance(currency, str):
        raise ShapeError("currency is not a string")
    try:
        return from_stripe_amount(units, currency)
    except UnknownCurrencyError as error:
        if _CURRENCY_CODE.fullmatch(currency):
            raise _ForeignCurrencyError(f"{currency} is not a currency we charge in") from error
        raise ShapeError(f"unusable currency: {error.message}") from error
    except ValidationError as error:
        raise ShapeError(f"unusable amount or currency: {error.message}") from error


def _mapping(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise ShapeError(f"{key} is not an object")
    return value


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise ShapeError(f"{key} is not a string")
    return value


def _optional_text(data: Mapping[str, Any] | None, key: str) -> str | None:
    if data is None:
        return None
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ShapeError(f"{key} is not a string")
    return value or None


def _integer(data: Mapping[str, Any], key: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ShapeError(f"{key} is not an integer")
    return value


def _metadata(data: Mapping[str, Any]) -> Mapping[str, Any]:
    value = data.get("metadata")
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ShapeError("metadata is not an object")
    return value


def _object_amount(data: Mapping[str, Any]) -> Money:
    return _stripe_money(_integer(data, "amount"), _text(data, "currency"))


def intent_outcome(status: str, *, has_payment_error: bool) -> PaymentOutcome:
    """What a PaymentIntent ``status`` means for the purchase.

    ``requires_payment_method`` is FAILED only after a failed attempt (``last_payment_error``
    set); before any attempt it is PROCESSING, like ``requires_confirmation``,
    ``requires_action``, ``processing`` and ``requires_capture``. ``succeeded`` is SUCCEEDED and
    ``canceled`` CANCELLED. A status we do not know is PROCESSING: it never settles a purchase.
    """
    if status == "succeeded":
        return PaymentOutcome.SUCCEEDED
    if status == "canceled":
        return PaymentOutcome.CANCELLED
    if status == "requires_payment_method" and has_payment_error:
        return PaymentOutcome.FAILED
    return PaymentOutcome.PROCESSING


def observation_from_intent(
    intent: Mapping[str, Any],
    source: ObservationSource,
    *,
    outcome: PaymentOutcome | None = None,
    event_id: str | None = None,
) -> GatewayObservation:
    """A PaymentIntent (as plain JSON data) as a domain observation.

    ``outcome`` defaults to ``intent_outcome`` of its status. The amount is the intent's own
    ``amount`` and ``currency`` so the domain can detect a mismatch; the reference is
    ``metadata.purchase_reference`` (None for an intent we did not create). A FAILED outcome
    carries ``last_payment_error.code`` (or its ``decline_code`` when there is no code).
    Raises ``ValueError`` when the data is not shaped like a PaymentIntent.
    """
    status = _text(intent, "status")
    error = intent.get("last_payment_error")
    if error is not None and not isinstance(error, Mapping):
        raise ShapeError("last_payment_error is not an object")
    if outcome is None:
        outcome = intent_outcome(status, has_payment_error=error is not None)
    provider_code = message = None
    if outcome is PaymentOutcome.FAILED:
        provider_code = _optional_text(error, "code") or _optional_text(error, "decline_code")
        message = _optional_text(error, "message")
    return GatewayObservation(
        gateway=GATEWAY_NAME,
        outcome=outcome,
        source=source,
        gateway_reference=_text(intent, "id"),
        reference=_optional_text(_metadata(intent), "purchase_reference"),
        amount=_object_amount(intent),
        event_id=event_id,
        provider_code=provider_code,
        message=message,
    )


def refund_status(status: str) -> RefundStatus:
    """A Stripe Refund ``status`` in our terms: ``succeeded``; ``failed`` and ``canceled`` are
    FAILED; ``pending``, ``requires_action`` and anything new are PENDING."""
    if status == "succeeded":
        return RefundStatus.SUCCEEDED
    if status in ("failed", "canceled"):
        return RefundStatus.FAILED
    return RefundStatus.PENDING


def refund_result(refund: Mapping[str, Any]) -> RefundResult:
    """Stripe's answer to ``POST /v1/refunds`` as the port's ``RefundResult``; a failed refund
    carries its ``failure_reason`` (or "refused by Stripe"). ``ShapeError`` without an id or a
    status."""
    refund_id = refund.get("id")
    status = refund.get("status")
    if not isinstance(refund_id, str) or not isinstance(status, str):
        raise ShapeError("a refund without an id or status")
    result_status = refund_status(status)
    failure = None
    if result_status is RefundStatus.FAILED:
        reason = refund.get("failure_reason")
        failure = reason if isinstance(reason, str) and reason else "refused by Stripe"
    return RefundResult(refund_id, result_status, failure)


def _refund_observation(
    refund: Mapping[str, Any], event_id: str, charge: Mapping[str, Any] | None = None
) -> RefundObservation:
    """A Refund object (optionally read from inside its Charge) as a domain observation."""
    payment_reference = _optional_text(refund, "payment_intent")
    currency = refund.get("currency")
    if charge is not None:
        payment_reference = payment_reference or _optional_text(charge, "payment_intent")
        currency = currency or charge.get("currency")
    amount = _stripe_money(_integer(refund, "amount"), currency)
    return RefundObservation(
        gateway=GATEWAY_NAME,
        gateway_refund_reference=_text(refund, "id"),
        gateway_payment_reference=payment_reference,
        amount=amount,
        status=refund_status(_text(refund, "status")),
        event_id=event_id,
        refund_id=_optional_text(_metadata(refund), "refund_id"),
    )


def _latest_refund_of_charge(charge: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The most recently created refund a Charge carries in ``refunds.data``, if any."""
    refunds = charge.get("refunds")
    if refunds is None:
        return None
    if not isinstance(refunds, Mapping):
        raise ShapeError("refunds is not a list object")
    data = refunds.get("data")
    if not isinstance(data, list):
        raise ShapeError("refunds.data is not a list")
    latest: Mapping[str, Any] | None = None
    for item in data:
        if not isinstance(item, Mapping):
            raise ShapeError("a refund is not an object")
        created = item.get("created")
        if not isinstance(created, int):
            raise ShapeError("a refund has no creation time")
        if latest is None or created >= latest["created"]:
            latest = item
    return latest


_INTENT_EVENTS: Final[Mapping[str, PaymentOutcome]] = {
    "payment_intent.succeeded": PaymentOutcome.SUCCEEDED,
    "payment_intent.payment_failed": PaymentOutcome.FAILED,
    "payment_intent.canceled": PaymentOutcome.CANCELLED,
    "payment_intent.processing": PaymentOutcome.PROCESSING,
    "payment_intent.requires_action": PaymentOutcome.PROCESSING,
}
_REFUND_EVENTS: Final = frozenset(
    {"refund.created", "refund.updated", "refund.failed", "charge.refund.updated"}
)


def notification_from_body(body: bytes) -> Notification:
    """A raw Stripe Event body (already verified) as a domain notification: ``translate_event``
    of its JSON, parsed with limits (``parse_notification``). Raises
    ``MalformedNotificationError`` when it is not a usable Stripe event."""
    return translate_event(parse_notification(body, "Stripe"))


def translate_event(event: object) -> Notification:
    """A parsed Stripe Event as a domain notification.

    - ``payment_intent.succeeded | payment_failed | canceled | processing | requires_action``:
      a payment observation of the intent in ``data.object`` (the event type decides the
      outcome; ``payment_failed`` carries ``last_payment_error.code``/``decline_code``).
    - ``refund.created | updated | failed`` and ``charge.refund.updated``: a refund observation
      of the Refund in ``data.object``, with ``refund_id`` from its ``metadata.refund_id``.
    - ``charge.refunded``: the Charge in ``data.object`` says only that *some* refund happened.
      We take the most recently created refund among ``refunds.data`` (by ``created``: the
      refund that caused this event). API versions since 2022-11-15 no longer expand
      ``refunds`` in a Charge, so on those (ours) the event carries no observation: the
      ``refund.*`` events carry every refund in full, so subscribe to those.
    - any other type: a notification without observations (recognised, genuine, not acted on).
    - an object in a currency our ISO 4217 table does not know (ANG, STD, which Stripe still
      lists): a notification without observations too. We never charge in such a currency, so
      it is not ours, and Stripe must not be told to retry it for three days.

    Raises ``MalformedNotificationError`` when the event or its object is not shaped as Stripe
    documents.
    """
    try:
        if not isinstance(event, Mapping):
            raise ShapeError("the event is not an object")
        event_id = _text(event, "id")
        event_type = _text(event, "type")
        try:
            return _translate_object(event, event_id, event_type)
        except _ForeignCurrencyError as foreign:
            log.info("stripe event %s ignored: %s", event_id, foreign)
            return Notification(GATEWAY_NAME, event_id, event_type)
    except (ShapeError, KeyError, TypeError) as error:
        raise MalformedNotificationError(f"Not a usable Stripe event: {error}.") from error


def _translate_object(event: Mapping[str, Any], event_id: str, event_type: str) -> Notification:
    """``translate_event`` once the event's id and type are known; raises ``ShapeError``."""
    if event_type in _INTENT_EVENTS:
        intent = _mapping(_mapping(event, "data"), "object")
        payment = observation_from_intent(
            intent,
            ObservationSource.NOTIFICATION,
            outcome=_INTENT_EVENTS[event_type],
            event_id=event_id,
        )
        return Notification(GATEWAY_NAME, event_id, event_type, payment=payment)
    if event_type in _REFUND_EVENTS:
        refund = _mapping(_mapping(event, "data"), "object")
        observation = _refund_observation(refund, event_id)
        return Notification(GATEWAY_NAME, event_id, event_type, refund=observation)
    if event_type == "charge.refunded":
        charge = _mapping(_mapping(event, "data"), "object")
        latest = _latest_refund_of_charge(charge)
        if latest is None:
            return Notification(GATEWAY_NAME, event_id, event_type)
        observation = _refund_observation(latest, event_id, charge)
        return Notification(GATEWAY_NAME, event_id, event_type, refund=observation)
    return Notification(GATEWAY_NAME, event_id, event_type)
