"""Sandbox notifications as domain notifications, offline."""

from __future__ import annotations

import json

import pytest

from payments.domain.errors import (
    MalformedNotificationError,
)
from payments.domain.money import Money
from payments.domain.purchase import (
    ObservationSource,
    PaymentOutcome,
)
from payments.domain.refund import RefundStatus
from tests.unit.gateways.sandbox_wire import (
    event_body,
    gateway,
    payment_wire,
    succeeded_body,
)

# -- notifications -------------------------------------------------------------------------------


def test_payment_notification_translates_to_an_observation() -> None:
    notification = gateway().parse_stored_notification({}, succeeded_body())
    assert (notification.provider, notification.event_type) == ("sandbox", "payment.succeeded")
    observation = notification.payment
    assert observation is not None
    assert observation.outcome is PaymentOutcome.SUCCEEDED
    assert observation.source is ObservationSource.NOTIFICATION
    assert observation.event_id == "evt_1"
    assert observation.amount == Money("79.99", "EUR")


def test_refund_notification_translates_with_our_refund_id() -> None:
    refund: dict[str, object] = {
        "id": "re_1",
        "object": "refund",
        "payment": "pay_1",
        "amount": {"amount": "30.00", "currency": "EUR"},
        "status": "succeeded",
        "metadata": {"refund_id": "rfd_1"},
    }
    notification = gateway().parse_stored_notification({}, event_body("refund.succeeded", refund))
    assert notification.payment is None
    observed = notification.refund
    assert observed is not None
    assert observed.gateway_refund_reference == "re_1"
    assert observed.gateway_payment_reference == "pay_1"
    assert observed.refund_id == "rfd_1"
    assert observed.amount == Money("30", "EUR")
    assert observed.status is RefundStatus.SUCCEEDED


def test_unknown_event_type_is_genuine_but_carries_nothing() -> None:
    notification = gateway().parse_stored_notification(
        {}, event_body("payment.created", payment_wire())
    )
    assert (notification.payment, notification.refund) == (None, None)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"type": "payment.succeeded"}',
        event_body("payment.succeeded", payment_wire(status="pending")),
        event_body(
            "payment.succeeded",
            payment_wire(status="succeeded", amount={"amount": 79.99, "currency": "EUR"}),
        ),
        json.dumps({"id": "evt_1", "type": "payment.failed", "data": "x"}).encode(),
    ],
)
def test_malformed_notification_is_rejected(body: bytes) -> None:
    with pytest.raises(MalformedNotificationError):
        gateway().parse_stored_notification({}, body)
