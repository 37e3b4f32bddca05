"""The fake provider's notification bodies: written as JSON, and read back as a Notification."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from payments.adapters.wire.notification_json import parse_notification
from payments.domain.errors import MalformedNotificationError, PaymentsError
from payments.domain.gateway import Notification
from payments.domain.money import Money
from payments.domain.purchase import GatewayObservation, ObservationSource, PaymentOutcome
from payments.domain.refund import RefundObservation, RefundStatus

__all__ = ["notification_from_body", "payment_event_body", "refund_event_body"]


def payment_event_body(
    event_id: str,
    outcome: PaymentOutcome,
    *,
    gateway_reference: str,
    reference: str,
    amount: Money,
    code: str | None,
) -> bytes:
    """A ``payment.<outcome>`` event about one payment, as the fake provider sends it."""
    payment = {"id": gateway_reference, "reference": reference, "amount": amount.to_dict()}
    event = {
        "id": event_id,
        "type": f"payment.{outcome.value}",
        "payment": {**payment, "code": code},
    }
    return json.dumps(event, sort_keys=True).encode()


def refund_event_body(
    event_id: str,
    status: RefundStatus,
    *,
    gateway_reference: str,
    refund_reference: str,
    amount: Money,
    refund_id: str | None,
) -> bytes:
    """A ``refund.<status>`` event about one refund; ``refund_id`` is echoed from metadata."""
    refund: dict[str, object] = {
        "id": refund_reference,
        "payment": gateway_reference,
        "amount": amount.to_dict(),
        "status": status.value,
    }
    if refund_id is not None:
        refund["refund_id"] = refund_id
    event = {"id": event_id, "type": f"refund.{status.value}", "refund": refund}
    return json.dumps(event, sort_keys=True).encode()


def notification_from_body(gateway: str, body: bytes) -> Notification:
    """The notification a fake provider's body stands for; ``MalformedNotificationError`` if it
    is not one."""
    parsed = parse_notification(body, "fake gateway")
    try:
        return _translate(gateway, parsed)
    except (ValueError, KeyError, TypeError, PaymentsError) as error:
        raise MalformedNotificationError("Not a fake-gateway notification.") from error


def _translate(gateway: str, data: object) -> Notification:
    event = _object(data, "a notification")
    event_id = _text(event, "id")
    event_type = _text(event, "type")
    payment = refund = None
    if "payment" in event:
        p = _object(event["payment"], "the payment")
        payment = GatewayObservation(
            gateway=gateway,
            outcome=PaymentOutcome(event_type.removeprefix("payment.")),
            source=ObservationSource.NOTIFICATION,
            gateway_reference=_text(p, "id"),
            reference=_text(p, "reference"),
            amount=Money.from_dict(p["amount"]),
            event_id=event_id,
            provider_code=_optional(p, "code"),
        )
    elif "refund" in event:
        r = _object(event["refund"], "the refund")
        refund = RefundObservation(
            gateway=gateway,
            gateway_refund_reference=_text(r, "id"),
            gateway_payment_reference=_text(r, "payment"),
            amount=Money.from_dict(r["amount"]),
            status=RefundStatus(r["status"]),
            event_id=event_id,
            refund_id=_optional(r, "refund_id"),
        )
    return Notification(gateway, event_id, event_type, payment=payment, refund=refund)


def _object(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"{what} is a JSON object")
    return value


def _text(data: Mapping[str, object], key: str) -> str:
    value = data[key]
    if not isinstance(value, str) or not value:
        raise TypeError(f"{key!r} is a non-empty string")
    return value


def _optional(data: Mapping[str, object], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None
