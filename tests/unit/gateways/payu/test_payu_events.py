"""PayU's confirmation page, offline: form body -> verified Notification (§2.6, §4.1)."""

from __future__ import annotations

import pytest

from payments.adapters.gateways.payu import (
    SignatureAlgorithm,
    confirmation_fields,
    notification_from_body,
    notification_from_confirmation,
    outcome_from_state_pol,
    outcome_from_transaction_state,
    verified_notification,
)
from payments.domain.errors import InvalidSignatureError, MalformedNotificationError
from payments.domain.gateway import Notification
from payments.domain.money import Money
from payments.domain.purchase import GatewayObservation, ObservationSource, PaymentOutcome
from tests.unit.gateways.payu.payu_vectors import (
    API_KEY,
    MERCHANT_ID,
    TRANSACTION_ID,
    confirmation,
    form_body,
)


def _verified(body: bytes) -> Notification:
    return verified_notification(body, api_key=API_KEY, merchant_id=MERCHANT_ID)


def _payment(body: bytes) -> GatewayObservation:
    payment = _verified(body).payment
    assert payment is not None
    return payment


def test_approved_confirmation_becomes_a_succeeded_observation() -> None:
    body = form_body(confirmation(value="150.00", reference_sale="TestPayU04"))
    notification = verified_notification(body, api_key=API_KEY, merchant_id=MERCHANT_ID)
    payment = notification.payment
    assert payment is not None
    assert notification.provider == "payu"
    assert notification.event_id == f"{TRANSACTION_ID}:4"
    assert notification.event_type == "confirmation.approved"
    assert notification.refund is None
    assert payment.outcome is PaymentOutcome.SUCCEEDED
    assert payment.source is ObservationSource.NOTIFICATION
    assert payment.amount == Money("150.00", "USD")
    assert payment.reference == "TestPayU04"
    assert payment.gateway_reference == "1400449660"
    assert payment.event_id == notification.event_id
    assert payment.provider_code is None


def test_declined_confirmation_fails_with_response_message_pol() -> None:
    fields = confirmation(state_pol="6", value="100.00", response_message_pol="INSUFFICIENT_FUNDS")
    fields["response_code_pol"] = "6"
    payment = _payment(form_body(fields))
    assert payment.outcome is PaymentOutcome.FAILED
    assert payment.provider_code == "INSUFFICIENT_FUNDS"
    assert payment.message is not None
    assert "INSUFFICIENT_FUNDS" in payment.message
    assert payment.event_id == f"{TRANSACTION_ID}:6"


def test_expired_confirmation_expires() -> None:
    payment = _payment(form_body(confirmation(state_pol="5")))
    assert payment.outcome is PaymentOutcome.EXPIRED
    assert payment.provider_code == "EXPIRED_TRANSACTION"


def test_pending_state_7_is_tolerated_as_processing() -> None:
    assert _payment(form_body(confirmation(state_pol="7"))).outcome is PaymentOutcome.PROCESSING


def test_cop_confirmation_value_is_the_exact_money() -> None:
    # §5: the webhook sends COP 10.000,00 as value 10000.00, signed as 10000.0.
    body = form_body(confirmation(value="10000.00", currency="COP"))
    notification = verified_notification(body, api_key=API_KEY, merchant_id=MERCHANT_ID)
    assert notification.payment is not None
    assert notification.payment.amount == Money("10000", "COP")


def test_efecty_paid_and_expired_confirmations_are_read() -> None:
    # §4.1: paid state_pol 4 / response_code_pol 1 / payment_method_type 7 (CASH); not paid by
    # the deadline state_pol 5 / response_code_pol 20 / EXPIRED_TRANSACTION.
    paid = confirmation(value="50000.00", currency="COP", payment_method_type="7")
    expired = confirmation(state_pol="5", value="50000.00", currency="COP", payment_method_type="7")
    paid_note = verified_notification(form_body(paid), api_key=API_KEY, merchant_id=MERCHANT_ID)
    expired_note = verified_notification(
        form_body(expired), api_key=API_KEY, merchant_id=MERCHANT_ID
    )
    assert paid_note.payment is not None
    assert paid_note.payment.outcome is PaymentOutcome.SUCCEEDED
    assert expired_note.payment is not None
    assert expired_note.payment.outcome is PaymentOutcome.EXPIRED
    assert expired_note.payment.provider_code == "EXPIRED_TRANSACTION"
    assert paid_note.event_id != expired_note.event_id


def test_sha256_confirmation_verifies_with_the_sha256_setting() -> None:
    body = form_body(confirmation(algorithm=SignatureAlgorithm.SHA256))
    notification = verified_notification(
        body, api_key=API_KEY, merchant_id=MERCHANT_ID, algorithm=SignatureAlgorithm.SHA256
    )
    assert notification.payment is not None


def test_tampered_confirmation_body_is_rejected() -> None:
    fields = confirmation(value="150.00")
    fields["value"] = "15.00"
    with pytest.raises(InvalidSignatureError):
        _verified(form_body(fields))


def test_stored_body_is_translated_without_a_key() -> None:
    body = form_body(confirmation())
    assert notification_from_body(body) == _verified(body)


def test_form_body_is_decoded_with_escapes() -> None:
    fields = confirmation_fields(b"reference_sale=2015-05-27+13%3A04%3A37&cc_holder=Jos%C3%A9")
    assert fields == {"reference_sale": "2015-05-27 13:04:37", "cc_holder": "José"}


@pytest.mark.parametrize(
    "body",
    [
        b'{"state_pol": "4"}',
        b"state_pol=4&state_pol=6",
        b"\xff\xfe",
        b"value=1&&sign",
    ],
)
def test_body_that_is_not_a_single_form_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedNotificationError):
        confirmation_fields(body)


@pytest.mark.parametrize("missing", ["state_pol", "transaction_id", "value", "reference_sale"])
def test_confirmation_missing_a_field_is_malformed(missing: str) -> None:
    fields = confirmation()
    del fields[missing]
    with pytest.raises(MalformedNotificationError):
        notification_from_confirmation(fields)


def test_unknown_state_pol_is_malformed() -> None:
    with pytest.raises(MalformedNotificationError):
        notification_from_confirmation(confirmation(state_pol="104"))


def test_value_that_is_not_an_amount_is_malformed() -> None:
    with pytest.raises(MalformedNotificationError):
        notification_from_confirmation(confirmation(value="150.00", currency="XYZ"))


@pytest.mark.parametrize(
    ("state_pol", "outcome"),
    [
        ("4", PaymentOutcome.SUCCEEDED),
        ("6", PaymentOutcome.FAILED),
        ("5", PaymentOutcome.EXPIRED),
        ("7", PaymentOutcome.PROCESSING),
    ],
)
def test_state_pol_table(state_pol: str, outcome: PaymentOutcome) -> None:
    assert outcome_from_state_pol(state_pol) is outcome


@pytest.mark.parametrize(
    ("state", "outcome"),
    [
        ("APPROVED", PaymentOutcome.SUCCEEDED),
        ("DECLINED", PaymentOutcome.FAILED),
        ("ERROR", PaymentOutcome.FAILED),
        ("EXPIRED", PaymentOutcome.EXPIRED),
        ("PENDING", PaymentOutcome.PROCESSING),
        ("SUBMITTED", PaymentOutcome.PROCESSING),
    ],
)
def test_transaction_state_table(state: str, outcome: PaymentOutcome) -> None:
    assert outcome_from_transaction_state(state) is outcome


def test_unknown_transaction_state_is_malformed() -> None:
    with pytest.raises(MalformedNotificationError):
        outcome_from_transaction_state("CAPTURED")
