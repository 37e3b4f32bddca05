"""Wompi's events in our terms, offline: ``transaction.updated`` -> verified Notification (§3.5)."""

from __future__ import annotations

import json

import pytest

from payments.adapters.gateways.wompi import (
    event_from_body,
    notification_from_body,
    notification_from_event,
    observation_from_transaction,
    outcome_from_status,
    verified_notification,
)
from payments.domain.errors import InvalidSignatureError, MalformedNotificationError
from payments.domain.money import Money
from payments.domain.purchase import ObservationSource, PaymentOutcome
from tests.unit.gateways.wompi.wompi_vectors import (
    DOCS_CHECKSUM,
    EVENTS_SECRET,
    PRINTED_CHECKSUM,
    body,
    docs_event,
    signed_event,
)


def test_docs_event_becomes_a_succeeded_observation() -> None:
    notification = verified_notification(body(docs_event()), events_secret=EVENTS_SECRET)
    payment = notification.payment
    assert payment is not None
    assert notification.provider == "wompi"
    assert notification.event_type == "transaction.updated"
    assert notification.event_id == "1234-1610641025-49201:APPROVED"
    assert notification.refund is None
    assert payment.outcome is PaymentOutcome.SUCCEEDED
    assert payment.source is ObservationSource.NOTIFICATION
    assert payment.amount == Money("44900.00", "COP")
    assert payment.reference == "MZQ3X2DE2SMX"
    assert payment.gateway_reference == "1234-1610641025-49201"
    assert payment.event_id == notification.event_id
    assert payment.provider_code is None


def test_x_event_checksum_header_is_accepted() -> None:
    event = docs_event()
    del event["signature"]["checksum"]
    notification = verified_notification(
        body(event), events_secret=EVENTS_SECRET, header_checksum=DOCS_CHECKSUM.upper()
    )
    assert notification.payment is not None


def test_event_with_the_printed_docs_digest_is_rejected() -> None:
    event = docs_event()
    event["signature"]["checksum"] = PRINTED_CHECKSUM
    with pytest.raises(InvalidSignatureError):
        verified_notification(body(event), events_secret=EVENTS_SECRET)


def test_tampered_event_body_is_rejected() -> None:
    event = docs_event()
    event["data"]["transaction"]["amount_in_cents"] = 449000
    with pytest.raises(InvalidSignatureError):
        verified_notification(body(event), events_secret=EVENTS_SECRET)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("APPROVED", PaymentOutcome.SUCCEEDED),
        ("DECLINED", PaymentOutcome.FAILED),
        ("VOIDED", PaymentOutcome.CANCELLED),
        ("ERROR", PaymentOutcome.FAILED),
        ("PENDING", PaymentOutcome.PROCESSING),
    ],
)
def test_every_transaction_status_is_mapped(status: str, outcome: PaymentOutcome) -> None:
    assert outcome_from_status(status) is outcome
    notification = verified_notification(
        body(signed_event(status=status)), events_secret=EVENTS_SECRET
    )
    assert notification.payment is not None
    assert notification.payment.outcome is outcome
    assert notification.event_id == f"1234-1610641025-49201:{status}"


def test_card_decline_carries_the_processor_code_and_message() -> None:
    event = signed_event(
        status="DECLINED",
        status_message="Fondos Insuficientes",
        payment_method={"type": "CARD", "extra": {"processor_response_code": "51"}},
    )
    payment = verified_notification(body(event), events_secret=EVENTS_SECRET).payment
    assert payment is not None
    assert payment.provider_code == "51"
    assert payment.message == "Fondos Insuficientes"


def test_error_without_a_processor_code_carries_the_status() -> None:
    payment = verified_notification(
        body(signed_event(status="ERROR")), events_secret=EVENTS_SECRET
    ).payment
    assert payment is not None
    assert payment.provider_code == "ERROR"


@pytest.mark.parametrize(
    "event_type",
    ["nequi_token.updated", "bancolombia_transfer_token.updated", "something_new.created"],
)
def test_other_event_types_are_recognised_and_ignored(event_type: str) -> None:
    event = docs_event()
    event["event"] = event_type
    notification = verified_notification(body(event), events_secret=EVENTS_SECRET)
    assert notification.event_type == event_type
    assert notification.payment is None
    assert notification.refund is None
    assert notification.event_id == f"{event_type}:1530291411:{DOCS_CHECKSUM}"


def test_stored_body_is_translated_without_the_secret() -> None:
    raw = body(docs_event())
    assert notification_from_body(raw) == verified_notification(raw, events_secret=EVENTS_SECRET)


def test_amounts_are_never_read_as_floats() -> None:
    event = event_from_body(b'{"event": "transaction.updated", "x": 1.5}')
    assert repr(event["x"]) == "Decimal('1.5')"


@pytest.mark.parametrize("raw", [b"[]", b"not json", b'{"a": NaN}', b"\xff"])
def test_body_that_is_not_a_json_object_is_malformed(raw: bytes) -> None:
    with pytest.raises(MalformedNotificationError):
        event_from_body(raw)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("amount_in_cents", 4490000.0),
        ("amount_in_cents", "4490000"),
        ("amount_in_cents", None),
        ("currency", "XYZ"),
        ("status", "REFUNDED"),
        ("reference", None),
        ("id", ""),
    ],
)
def test_transaction_that_cannot_be_read_is_malformed(field: str, value: object) -> None:
    event = docs_event()
    event["data"]["transaction"][field] = value
    with pytest.raises(MalformedNotificationError):
        notification_from_event(json.loads(json.dumps(event)))


def test_transaction_updated_without_a_transaction_is_malformed() -> None:
    event = docs_event()
    event["data"] = {}
    with pytest.raises(MalformedNotificationError):
        notification_from_event(event)


def test_event_without_a_type_is_malformed() -> None:
    event = docs_event()
    del event["event"]
    with pytest.raises(MalformedNotificationError):
        notification_from_event(event)


def test_transaction_answer_becomes_a_response_observation() -> None:
    transaction = dict(docs_event()["data"]["transaction"], status="PENDING")
    observation = observation_from_transaction(transaction, source=ObservationSource.RESPONSE)
    assert observation.outcome is PaymentOutcome.PROCESSING
    assert observation.source is ObservationSource.RESPONSE
    assert observation.event_id is None
