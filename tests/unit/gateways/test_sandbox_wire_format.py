"""The sandbox wire format, offline: statuses, money, request bodies and answers."""

from __future__ import annotations

import pytest

from payments.adapters.gateways.sandbox.amounts import money_from_wire, money_to_wire
from payments.adapters.gateways.sandbox.errors import WireFormatError
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
from payments.domain.gateway import RefundRequest
from payments.domain.money import Money
from payments.domain.purchase import (
    ClientSecretAction,
    ObservationSource,
    PaymentOutcome,
    RedirectAction,
)
from payments.domain.refund import RefundStatus
from tests.unit.gateways.sandbox_wire import (
    payment_wire,
    request,
    walk,
)

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
