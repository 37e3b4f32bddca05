"""Sandbox payments, refunds and events in our terms: observations, answers and notifications."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from payments.adapters.gateways.sandbox.amounts import money_from_wire
from payments.adapters.gateways.sandbox.errors import WireFormatError
from payments.adapters.gateways.sandbox.settings import REDIRECT_METHODS
from payments.adapters.wire.notification_json import parse_notification
from payments.domain.errors import MalformedNotificationError
from payments.domain.gateway import Bank, Notification, PaymentStart, RefundResult
from payments.domain.purchase import (
    ClientSecretAction,
    GatewayObservation,
    NextAction,
    ObservationSource,
    PaymentOutcome,
    RedirectAction,
)
from payments.domain.refund import RefundObservation, RefundStatus

__all__ = [
    "banks_from_list",
    "choose_payment",
    "next_action_for",
    "notification_from_event",
    "observation_from_payment",
    "outcome_from_status",
    "refund_observation_from_refund",
    "refund_result_from_refund",
    "refund_status_from_wire",
    "start_from_payment",
]

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


def banks_from_list(listing: Mapping[str, object]) -> list[Bank]:
    """The institutions of a ``GET /v1/banks`` answer."""
    data = listing.get("data")
    if not isinstance(data, list):
        raise WireFormatError("The bank list has no 'data' list.")
    items = [_object(item, "a bank") for item in data]
    return [Bank(_text(item, "code"), _text(item, "name")) for item in items]


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


def notification_from_event(body: bytes, *, gateway: str) -> Notification:
    """Translate a raw notification body (already verified, parsed with limits by
    ``parse_notification``); ``MalformedNotificationError`` if it does not follow the wire
    format."""
    parsed = parse_notification(body, "sandbox gateway")
    try:
        event = _object(parsed, "A notification")
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
