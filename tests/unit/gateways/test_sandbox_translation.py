"""The sandbox gateway's pure translations and signatures, checked offline against the doc."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping

import pytest
import requests

from payments.adapters.gateways.sandbox import SandboxGateway, signature_header, verify_signature
from payments.adapters.gateways.sandbox.amounts import money_from_wire, money_to_wire
from payments.adapters.gateways.sandbox.errors import WireFormatError, error_for_status
from payments.adapters.gateways.sandbox.events import (
    choose_payment,
    next_action_for,
    observation_from_payment,
    outcome_from_status,
    refund_result_from_refund,
    refund_status_from_wire,
)
from payments.adapters.gateways.sandbox.params import (
    encode_body,
    payment_request_body,
    refund_request_body,
)
from payments.adapters.sandbox_simulator import SandboxSimulator
from payments.domain.errors import (
    ConfigurationError,
    GatewayConfigurationError,
    GatewayUnavailableError,
    IdempotencyConflictError,
    IdempotencyInFlightError,
    InvalidAmountError,
    InvalidSignatureError,
    MalformedNotificationError,
    NotFoundError,
    PaymentDeclinedError,
    UnsupportedByGatewayError,
)
from payments.domain.gateway import Payer, PaymentRequest, RefundRequest
from payments.domain.money import Money
from payments.domain.purchase import (
    ClientSecretAction,
    ObservationSource,
    PaymentOutcome,
    RedirectAction,
)
from payments.domain.refund import RefundStatus

SECRET = "sandbox_test_secret"
NOW = 1_767_225_600  # 2026-01-01T00:00:00Z


def hmac_header(body: bytes, *, secret: str = SECRET, timestamp: int = NOW) -> str:
    """The header computed by the documented algorithm, independently of the adapter."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


class UnusableSession(requests.Session):
    """A session that fails the test if the adapter does any I/O."""

    def request(self, *args: object, **kwargs: object) -> requests.Response:
        raise AssertionError("no I/O was expected")


def gateway(*, now: float = NOW) -> SandboxGateway:
    return SandboxGateway(UnusableSession(), "http://sandbox.invalid", SECRET, clock=lambda: now)


def payment_wire(**overrides: object) -> dict[str, object]:
    payment: dict[str, object] = {
        "id": "pay_1",
        "object": "payment",
        "reference": "ref_1",
        "status": "pending",
        "amount": {"amount": "79.99", "currency": "EUR"},
        "amount_refunded": {"amount": "0.00", "currency": "EUR"},
        "payment_method": "card",
        "checkout_url": "http://sandbox.invalid/checkout/pay_1",
        "client_secret": "pay_1_secret_abc",
        "decline_code": None,
        "failure_message": None,
        "metadata": {},
        "created": NOW,
    }
    payment.update(overrides)
    return payment


def event_body(event_type: str, data: Mapping[str, object], event_id: str = "evt_1") -> bytes:
    return json.dumps({"id": event_id, "type": event_type, "created": NOW, "data": data}).encode()


def succeeded_body() -> bytes:
    return event_body("payment.succeeded", payment_wire(status="succeeded"))


def request(**overrides: object) -> PaymentRequest:
    fields: dict[str, object] = {
        "purchase_id": "pur_1",
        "reference": "ref_1",
        "amount": Money("79.99", "EUR"),
        "description": "8 Hour Premium Package",
        "payer": Payer("cus_1", "ana@example.com", "Ana"),
        "country": "ES",
        "payment_method": "card",
        "idempotency_key": "pur_1:start:0",
        "return_url": "https://shop.example/done",
        "metadata": {"purchase_id": "pur_1"},
    }
    fields.update(overrides)
    return PaymentRequest(**fields)  # type: ignore[arg-type]


def walk(value: object) -> Iterator[object]:
    yield value
    if isinstance(value, dict):
        for item in value.values():
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


# -- signatures ----------------------------------------------------------------------------------


def test_valid_sandbox_signature_is_accepted() -> None:
    body = succeeded_body()
    notification = gateway().verify_notification({"sandbox-signature": hmac_header(body)}, body)
    assert notification.event_id == "evt_1"


def test_adapter_signs_by_the_documented_algorithm() -> None:
    body = succeeded_body()
    assert signature_header(SECRET, NOW, body) == hmac_header(body)


def test_simulator_signs_by_the_documented_algorithm() -> None:
    body = succeeded_body()
    assert SandboxSimulator(SECRET).sign(NOW, body) == hmac_header(body)


def test_signature_made_with_another_secret_is_rejected() -> None:
    body = succeeded_body()
    header = hmac_header(body, secret="another_test_secret")
    with pytest.raises(InvalidSignatureError):
        gateway().verify_notification({"sandbox-signature": header}, body)


def test_tampered_body_is_rejected() -> None:
    body = succeeded_body()
    header = hmac_header(body)
    tampered = body.replace(b'"79.99"', b'"7.99"')
    assert tampered != body
    with pytest.raises(InvalidSignatureError):
        gateway().verify_notification({"sandbox-signature": header}, tampered)


def test_stale_sandbox_signature_is_rejected() -> None:
    body = succeeded_body()
    header = hmac_header(body, timestamp=NOW - 301)
    with pytest.raises(InvalidSignatureError, match="tolerance"):
        gateway().verify_notification({"sandbox-signature": header}, body)


def test_future_sandbox_signature_is_rejected() -> None:
    body = succeeded_body()
    header = hmac_header(body, timestamp=NOW + 301)
    with pytest.raises(InvalidSignatureError, match="tolerance"):
        gateway().verify_notification({"sandbox-signature": header}, body)


@pytest.mark.parametrize("offset", [-300, 300])
def test_signature_at_the_edge_of_the_tolerance_is_accepted(offset: int) -> None:
    body = succeeded_body()
    header = hmac_header(body, timestamp=NOW + offset)
    assert verify_signature(header, body, SECRET, now=NOW) == NOW + offset


def test_missing_signature_header_is_rejected() -> None:
    with pytest.raises(InvalidSignatureError, match="missing"):
        gateway().verify_notification({"content-type": "application/json"}, succeeded_body())


@pytest.mark.parametrize(
    "header",
    ["v1=abc", "t=,v1=abc", "t=12a,v1=abc", f"t={NOW}", f"t={NOW},v1=", "garbage"],
)
def test_malformed_signature_header_is_rejected(header: str) -> None:
    with pytest.raises(InvalidSignatureError):
        verify_signature(header, succeeded_body(), SECRET, now=NOW)


def test_one_matching_v1_among_two_is_accepted() -> None:
    body = succeeded_body()
    good = hmac_header(body).split(",v1=")[1]
    header = f"t={NOW},v1={'0' * 64},v1={good}"
    assert verify_signature(header, body, SECRET, now=NOW) == NOW


def test_two_wrong_v1_values_are_rejected() -> None:
    body = succeeded_body()
    header = f"t={NOW},v1={'0' * 64},v1={'f' * 64}"
    with pytest.raises(InvalidSignatureError):
        verify_signature(header, body, SECRET, now=NOW)


def test_a_valid_signature_under_another_scheme_does_not_count() -> None:
    body = succeeded_body()
    good = hmac_header(body).split(",v1=")[1]
    with pytest.raises(InvalidSignatureError):
        verify_signature(f"t={NOW},v0={good}", body, SECRET, now=NOW)


def test_signature_header_name_is_matched_whatever_its_case() -> None:
    body = succeeded_body()
    notification = gateway().verify_notification({"Sandbox-Signature": hmac_header(body)}, body)
    assert notification.payment is not None


def test_stored_notification_is_parsed_without_verifying_again() -> None:
    notification = gateway().parse_stored_notification({}, succeeded_body())
    assert notification.payment is not None


@pytest.mark.parametrize("extra", [",t=1", ",garbage"])
def test_second_timestamp_or_item_without_equals_is_malformed_even_beside_a_good_v1(
    extra: str,
) -> None:
    # The shared verifier is strict; the sandbox's own used to skip such items.
    body = succeeded_body()
    with pytest.raises(InvalidSignatureError, match=r"timestamp|malformed"):
        verify_signature(hmac_header(body) + extra, body, SECRET, now=NOW)


def test_gateway_without_a_secret_does_not_start() -> None:
    with pytest.raises(ConfigurationError):
        SandboxGateway(requests.Session(), "http://sandbox.invalid", "")
    with pytest.raises(ConfigurationError):
        SandboxGateway(requests.Session(), "http://sandbox.invalid", SECRET, tolerance=0)


def test_simulator_without_a_secret_does_not_start() -> None:
    with pytest.raises(ConfigurationError):
        SandboxSimulator("")


# -- statuses and amounts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        ("pending", PaymentOutcome.PROCESSING),
        ("processing", PaymentOutcome.PROCESSING),
        ("succeeded", PaymentOutcome.SUCCEEDED),
        ("failed", PaymentOutcome.FAILED),
        ("cancelled", PaymentOutcome.CANCELLED),
        ("expired", PaymentOutcome.EXPIRED),
    ],
)
def test_payment_status_translates_to_an_outcome(status: str, outcome: PaymentOutcome) -> None:
    assert outcome_from_status(status) is outcome


@pytest.mark.parametrize("status", ["canceled", "SUCCEEDED", "", None, 1])
def test_unknown_payment_status_is_a_wire_format_error(status: object) -> None:
    with pytest.raises(WireFormatError):
        outcome_from_status(status)


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("pending", RefundStatus.PENDING),
        ("succeeded", RefundStatus.SUCCEEDED),
        ("failed", RefundStatus.FAILED),
    ],
)
def test_refund_status_translates(status: str, expected: RefundStatus) -> None:
    assert refund_status_from_wire(status) is expected


@pytest.mark.parametrize(
    ("money", "wire"),
    [
        (Money("79.99", "EUR"), {"amount": "79.99", "currency": "EUR"}),
        (Money("19.9", "USD"), {"amount": "19.90", "currency": "USD"}),
        (Money("5000", "JPY"), {"amount": "5000", "currency": "JPY"}),
        (Money("1.5", "KWD"), {"amount": "1.500", "currency": "KWD"}),
        (Money("150000", "COP"), {"amount": "150000.00", "currency": "COP"}),
    ],
)
def test_money_travels_as_a_string_amount_with_the_currency_decimals(
    money: Money, wire: dict[str, str]
) -> None:
    assert money_to_wire(money) == wire
    assert money_from_wire(wire) == money


@pytest.mark.parametrize(
    "wire",
    [
        {"amount": 79.99, "currency": "EUR"},
        {"amount": 79, "currency": "EUR"},
        {"amount": "79.99"},
        {"amount": "79.99", "currency": "XXQ"},
        {"amount": "seventy", "currency": "EUR"},
        {"amount": "NaN", "currency": "EUR"},
        "79.99 EUR",
    ],
)
def test_money_that_is_not_a_string_amount_is_a_wire_format_error(wire: object) -> None:
    with pytest.raises(WireFormatError):
        money_from_wire(wire)


def test_19_99_is_never_a_float_on_the_wire() -> None:
    body = payment_request_body(request(amount=Money("19.99", "EUR")))
    assert not any(isinstance(value, float) for value in walk(body))
    assert body["amount"] == {"amount": "19.99", "currency": "EUR"}
    assert b'"amount":"19.99"' in encode_body(body)


def test_payment_request_body_carries_what_the_doc_lists() -> None:
    body = payment_request_body(request())
    assert body == {
        "reference": "ref_1",
        "amount": {"amount": "79.99", "currency": "EUR"},
        "description": "8 Hour Premium Package",
        "payment_method": "card",
        "country": "ES",
        "return_url": "https://shop.example/done",
        "payer": {"email": "ana@example.com", "name": "Ana"},
        "metadata": {"purchase_id": "pur_1"},
    }


def test_encoded_body_is_the_same_bytes_every_time() -> None:
    assert encode_body({"b": 1, "a": {"d": 2, "c": 3}}) == b'{"a":{"c":3,"d":2},"b":1}'


def test_refund_request_body_carries_our_refund_id() -> None:
    refund = RefundRequest("rfd_1", "ref_1", "pay_1", Money("30", "EUR"), False, None, "rfd_1:r")
    assert refund_request_body(refund) == {
        "payment": "pay_1",
        "amount": {"amount": "30.00", "currency": "EUR"},
        "reason": None,
        "metadata": {"refund_id": "rfd_1", "reference": "ref_1"},
    }


# -- responses -----------------------------------------------------------------------------------


def test_failed_payment_is_observed_with_its_decline_code() -> None:
    wire = payment_wire(status="failed", decline_code="insufficient_funds", failure_message="no")
    observation = observation_from_payment(
        wire, gateway="sandbox", source=ObservationSource.RESPONSE
    )
    assert observation.outcome is PaymentOutcome.FAILED
    assert observation.provider_code == "insufficient_funds"
    assert observation.gateway_reference == "pay_1"
    assert observation.reference == "ref_1"
    assert observation.amount == Money("79.99", "EUR")


def test_payment_without_an_id_is_a_wire_format_error() -> None:
    with pytest.raises(WireFormatError):
        observation_from_payment(
            payment_wire(id=None), gateway="sandbox", source=ObservationSource.LOOKUP
        )


@pytest.mark.parametrize("method", ["pse", "bank_transfer"])
def test_redirect_methods_send_the_payer_to_the_checkout_url(method: str) -> None:
    action = next_action_for(payment_wire(payment_method=method))
    assert action == RedirectAction("http://sandbox.invalid/checkout/pay_1")


@pytest.mark.parametrize("method", ["card", "nequi", "cash"])
def test_other_methods_get_the_client_secret(method: str) -> None:
    action = next_action_for(payment_wire(payment_method=method))
    assert action == ClientSecretAction("pay_1_secret_abc")


def test_settled_payment_needs_no_next_action() -> None:
    assert next_action_for(payment_wire(status="succeeded")) is None


def test_lookup_prefers_our_payment_then_a_capture_then_the_newest() -> None:
    newest = payment_wire(id="pay_3", status="failed")
    captured = payment_wire(id="pay_2", status="succeeded")
    ours = payment_wire(id="pay_1", status="pending")
    listing = [newest, captured, ours]
    assert choose_payment(listing, "pay_1") is ours
    assert choose_payment(listing, None) is captured
    assert choose_payment(listing, "pay_unknown") is captured
    assert choose_payment([newest, ours], None) is newest
    assert choose_payment([], "pay_1") is None


def test_refund_result_translates() -> None:
    wire = {"id": "re_1", "payment": "pay_1", "status": "succeeded", "amount": {}}
    result = refund_result_from_refund(wire)
    assert (result.gateway_refund_reference, result.status) == ("re_1", RefundStatus.SUCCEEDED)


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


# -- errors --------------------------------------------------------------------------------------


def test_402_is_a_decline_with_the_provider_code() -> None:
    provider_text = "Bank 0042 said: card blocked"
    payload = {"error": {"code": "insufficient_funds", "message": provider_text}}
    error = error_for_status(402, payload)
    assert isinstance(error, PaymentDeclinedError)
    assert error.provider_code == "insufficient_funds"
    assert provider_text not in error.message


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, GatewayConfigurationError),
        (403, GatewayConfigurationError),
        (400, GatewayConfigurationError),
        (404, NotFoundError),
        (409, IdempotencyInFlightError),
        (422, IdempotencyConflictError),
    ],
)
def test_client_errors_translate_to_what_the_caller_must_do(status: int, kind: type) -> None:
    assert type(error_for_status(status, None)) is kind


@pytest.mark.parametrize(("status", "charged"), [(500, True), (503, True), (429, False)])
def test_server_errors_are_unavailable(status: int, charged: bool) -> None:
    error = error_for_status(status, b"<html>")
    assert isinstance(error, GatewayUnavailableError)
    assert error.charged_possible is charged


# -- refused before any I/O ----------------------------------------------------------------------


def test_unsupported_method_is_refused_before_any_io() -> None:
    with pytest.raises(UnsupportedByGatewayError):
        gateway().start_payment(request(payment_method="crypto"))


def test_inexact_amount_is_refused_before_any_io() -> None:
    with pytest.raises(InvalidAmountError):
        gateway().start_payment(request(amount=Money("10.001", "EUR")))


def test_sandbox_gateway_serves_any_currency_and_country() -> None:
    capabilities = gateway().capabilities
    assert capabilities.refusal("JP", Money("5000", "JPY"), "nequi") is None
    assert capabilities.payment_methods == {"card", "pse", "nequi", "bank_transfer", "cash"}
    assert capabilities.partial_refunds and capabilities.cancel
    assert capabilities.authoritative_lookup
