"""Wompi's events and transactions in our terms: ``transaction.updated`` as an observation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from payments.adapters.gateways.wompi.amounts import from_amount_in_cents
from payments.adapters.gateways.wompi.settings import GATEWAY_NAME, TRANSACTION_UPDATED
from payments.adapters.gateways.wompi.signatures import verify_event_checksum
from payments.adapters.wire.notification_fields import required_int, required_text
from payments.adapters.wire.notification_json import parse_notification
from payments.domain.errors import MalformedNotificationError, ValidationError
from payments.domain.gateway import Notification
from payments.domain.purchase import GatewayObservation, ObservationSource, PaymentOutcome

__all__ = [
    "event_from_body",
    "notification_from_body",
    "notification_from_event",
    "observation_from_transaction",
    "outcome_from_status",
    "verified_notification",
]

_STATUSES: Final[Mapping[str, PaymentOutcome]] = {
    "PENDING": PaymentOutcome.PROCESSING,
    "APPROVED": PaymentOutcome.SUCCEEDED,
    "DECLINED": PaymentOutcome.FAILED,
    "ERROR": PaymentOutcome.FAILED,
    # VOIDED is for cards only: a void of the card payment (reference §3.3).
    "VOIDED": PaymentOutcome.CANCELLED,
}
_UNSUCCESSFUL: Final = frozenset({PaymentOutcome.FAILED, PaymentOutcome.CANCELLED})


def outcome_from_status(status: object) -> PaymentOutcome:
    """What a transaction ``status`` means (reference §3.3): PENDING -> still processing,
    APPROVED -> succeeded, DECLINED and ERROR -> failed, VOIDED -> cancelled. Any other value
    raises ``MalformedNotificationError``."""
    outcome = _STATUSES.get(status) if isinstance(status, str) else None
    if outcome is None:
        raise MalformedNotificationError(f"Unknown Wompi transaction status {status!r}.")
    return outcome


def event_from_body(body: bytes) -> Mapping[str, object]:
    """The JSON object of an event body; numbers with a fraction are read as Decimal, never
    float. ``MalformedNotificationError`` for anything that is not a JSON object."""
    event = parse_notification(body, "Wompi")
    if not isinstance(event, dict):
        raise MalformedNotificationError("A Wompi event is a JSON object.")
    return event


def _text(transaction: Mapping[str, object], key: str) -> str:
    return required_text(transaction, key, what="The Wompi transaction")


def _provider_code(transaction: Mapping[str, object], status: str) -> str:
    """The processor's response code of a card decline (``"51"``), else the status."""
    method = transaction.get("payment_method")
    extra = method.get("extra") if isinstance(method, Mapping) else None
    code = extra.get("processor_response_code") if isinstance(extra, Mapping) else None
    return code if isinstance(code, str) and code else status


def observation_from_transaction(
    transaction: Mapping[str, object],
    *,
    source: ObservationSource,
    event_id: str | None = None,
    gateway: str = GATEWAY_NAME,
) -> GatewayObservation:
    """What a Wompi transaction object says about our purchase (reference §3.3, §3.5): the
    outcome of its ``status``, its ``id`` as the gateway reference, our ``reference``, the
    Money of ``amount_in_cents`` and ``currency``; a decline, error or void carries the
    processor's response code (or the status) and ``status_message``. Raises
    ``MalformedNotificationError`` for a missing or invalid field."""
    status = _text(transaction, "status")
    outcome = outcome_from_status(status)
    cents = required_int(transaction, "amount_in_cents", what="The Wompi transaction")
    try:
        amount = from_amount_in_cents(cents, _text(transaction, "currency"))
    except ValidationError as error:
        raise MalformedNotificationError("The Wompi transaction's amount is invalid.") from error
    unsuccessful = outcome in _UNSUCCESSFUL
    message = transaction.get("status_message")
    return GatewayObservation(
        gateway=gateway,
        outcome=outcome,
        source=source,
        gateway_reference=_text(transaction, "id"),
        reference=_text(transaction, "reference"),
        amount=amount,
        event_id=event_id,
        provider_code=_provider_code(transaction, status) if unsuccessful else None,
        message=message if unsuccessful and isinstance(message, str) and message else None,
    )


def _ignored_event_id(event: Mapping[str, object], event_type: str) -> str:
    """An inbox id for an event we do not act on: its type, timestamp and checksum."""
    signature = event.get("signature")
    checksum = signature.get("checksum") if isinstance(signature, Mapping) else None
    return f"{event_type}:{event.get('timestamp')}:{checksum if isinstance(checksum, str) else ''}"


def notification_from_event(
    event: Mapping[str, object], *, gateway: str = GATEWAY_NAME
) -> Notification:
    """Translate a decoded event (verified, or verified when stored).

    ``transaction.updated`` becomes a payment observation with the event id
    ``<transaction id>:<status>`` (Wompi sends no event id; a redelivery repeats the pair).
    Every other type (``nequi_token.updated``, ``bancolombia_transfer_token.updated``, and the
    ones to come: "Esta lista puede crecer") is a genuine notification we do not act on, to be
    answered 200 (reference §3.5). Raises ``MalformedNotificationError`` for an event without a
    type or a transaction that cannot be read.
    """
    event_type = event.get("event")
    if not isinstance(event_type, str) or not event_type:
        raise MalformedNotificationError("The Wompi event has no type.")
    if event_type != TRANSACTION_UPDATED:
        return Notification(gateway, _ignored_event_id(event, event_type), event_type)
    data = event.get("data")
    transaction = data.get("transaction") if isinstance(data, Mapping) else None
    if not isinstance(transaction, Mapping):
        raise MalformedNotificationError("A transaction.updated event has no data.transaction.")
    event_id = f"{_text(transaction, 'id')}:{_text(transaction, 'status')}"
    observation = observation_from_transaction(
        transaction, source=ObservationSource.NOTIFICATION, event_id=event_id, gateway=gateway
    )
    return Notification(gateway, event_id, event_type, payment=observation)


def notification_from_body(body: bytes, *, gateway: str = GATEWAY_NAME) -> Notification:
    """Translate a raw event body that was verified when it was stored."""
    return notification_from_event(event_from_body(body), gateway=gateway)


def verified_notification(
    body: bytes,
    *,
    events_secret: str,
    header_checksum: str | None = None,
    gateway: str = GATEWAY_NAME,
) -> Notification:
    """Decode a raw event body, check its checksum (``verify_event_checksum``, with the
    ``X-Event-Checksum`` header's value when there is one) and translate it. Raises
    ``InvalidSignatureError`` or ``MalformedNotificationError`` otherwise."""
    event = event_from_body(body)
    verify_event_checksum(event, events_secret=events_secret, header_checksum=header_checksum)
    return notification_from_event(event, gateway=gateway)
