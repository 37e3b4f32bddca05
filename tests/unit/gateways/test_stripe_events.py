"""Stripe statuses and events as domain observations, offline."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from payments.adapters.gateways.stripe import (
    translate_event,
)
from payments.adapters.gateways.stripe.events import intent_outcome, refund_status
from payments.domain.errors import (
    MalformedNotificationError,
)
from payments.domain.money import Money
from payments.domain.purchase import ObservationSource, PaymentOutcome
from payments.domain.refund import RefundStatus
from tests.unit.gateways.stripe_objects import (
    DECLINE,
    NOW,
    event,
    gateway,
    intent,
    refund,
    sign,
)

# -- status map ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "has_error", "outcome"),
    [
        ("requires_payment_method", False, PaymentOutcome.PROCESSING),
        ("requires_payment_method", True, PaymentOutcome.FAILED),
        ("requires_confirmation", False, PaymentOutcome.PROCESSING),
        ("requires_action", False, PaymentOutcome.PROCESSING),
        ("processing", False, PaymentOutcome.PROCESSING),
        ("requires_capture", False, PaymentOutcome.PROCESSING),
        ("succeeded", False, PaymentOutcome.SUCCEEDED),
        ("canceled", False, PaymentOutcome.CANCELLED),
        ("canceled", True, PaymentOutcome.CANCELLED),
        ("requires_source", False, PaymentOutcome.PROCESSING),  # unknown: never settles
    ],
)
def test_payment_intent_status_map(status: str, has_error: bool, outcome: PaymentOutcome) -> None:
    assert intent_outcome(status, has_payment_error=has_error) is outcome


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("succeeded", RefundStatus.SUCCEEDED),
        ("pending", RefundStatus.PENDING),
        ("requires_action", RefundStatus.PENDING),
        ("failed", RefundStatus.FAILED),
        ("canceled", RefundStatus.FAILED),
    ],
)
def test_refund_status_map(status: str, expected: RefundStatus) -> None:
    assert refund_status(status) is expected


# -- events ----------------------------------------------------------------------------------------


def parse(body: bytes) -> Any:
    return gateway().verify_notification({"stripe-signature": sign(body)}, body)


def test_payment_intent_succeeded_becomes_a_succeeded_observation() -> None:
    notification = parse(event("payment_intent.succeeded", intent()))
    assert (notification.provider, notification.event_type) == (
        "stripe",
        "payment_intent.succeeded",
    )
    observation = notification.payment
    assert observation is not None
    assert notification.refund is None
    assert observation.outcome is PaymentOutcome.SUCCEEDED
    assert observation.source is ObservationSource.NOTIFICATION
    assert observation.gateway == "stripe"
    assert observation.reference == "PUR-2026-000042"
    assert observation.gateway_reference == "pi_3QxYZaLkdIwHu7ix0ABCDEFG"
    assert observation.amount == Money("79.99", "EUR")
    assert observation.event_id == "evt_1QxYZaLkdIwHu7ix"
    assert observation.provider_code is None


def test_payment_intent_amount_is_reported_as_stripe_says_so_mismatches_show() -> None:
    observation = parse(
        event("payment_intent.succeeded", intent(amount=100, currency="usd"))
    ).payment
    assert observation.amount == Money("1.00", "USD")


def test_payment_failed_carries_the_provider_code() -> None:
    failed = intent("requires_payment_method", last_payment_error=DECLINE, payment_method=None)
    observation = parse(event("payment_intent.payment_failed", failed)).payment
    assert observation.outcome is PaymentOutcome.FAILED
    assert observation.provider_code == "card_declined"
    assert observation.message == "Your card has insufficient funds."


def test_payment_failed_falls_back_to_the_decline_code() -> None:
    error = {k: v for k, v in DECLINE.items() if k != "code"}
    failed = intent("requires_payment_method", last_payment_error=error)
    observation = parse(event("payment_intent.payment_failed", failed)).payment
    assert observation.provider_code == "insufficient_funds"


@pytest.mark.parametrize(
    ("event_type", "status", "outcome"),
    [
        ("payment_intent.canceled", "canceled", PaymentOutcome.CANCELLED),
        ("payment_intent.processing", "processing", PaymentOutcome.PROCESSING),
        ("payment_intent.requires_action", "requires_action", PaymentOutcome.PROCESSING),
    ],
)
def test_other_payment_intent_events(event_type: str, status: str, outcome: PaymentOutcome) -> None:
    extra = {"cancellation_reason": "abandoned", "canceled_at": NOW} if status == "canceled" else {}
    observation = parse(event(event_type, intent(status, **extra))).payment
    assert observation.outcome is outcome
    assert observation.reference == "PUR-2026-000042"


def test_intent_we_did_not_create_has_no_reference() -> None:
    observation = parse(event("payment_intent.succeeded", intent(metadata={}))).payment
    assert observation.reference is None


def test_refund_updated_becomes_a_refund_observation_with_our_refund_id() -> None:
    notification = parse(event("refund.updated", refund("failed", failure_reason="declined")))
    assert notification.payment is None
    observation = notification.refund
    assert observation is not None
    assert observation.gateway == "stripe"
    assert observation.gateway_refund_reference == "re_3QxYZaLkdIwHu7ix0REFUND1"
    assert observation.gateway_payment_reference == "pi_3QxYZaLkdIwHu7ix0ABCDEFG"
    assert observation.amount == Money("20.00", "EUR")
    assert observation.status is RefundStatus.FAILED
    assert observation.event_id == "evt_1QxYZaLkdIwHu7ix"
    assert observation.refund_id == "rfd_01JREF"


def test_refund_made_in_the_dashboard_has_no_refund_id() -> None:
    observation = parse(event("refund.updated", refund(metadata={}))).refund
    assert observation.refund_id is None
    assert observation.status is RefundStatus.SUCCEEDED


def charge(*refunds: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "ch_3QxYZaLkdIwHu7ix0HIJKLMN",
        "object": "charge",
        "amount": 7999,
        "amount_captured": 7999,
        "amount_refunded": sum(r["amount"] for r in refunds),
        "captured": True,
        "currency": "eur",
        "paid": True,
        "payment_intent": "pi_3QxYZaLkdIwHu7ix0ABCDEFG",
        "refunded": False,
        "refunds": {
            "object": "list",
            "data": list(refunds),
            "has_more": False,
            "total_count": len(refunds),
            "url": "/v1/charges/ch_3QxYZaLkdIwHu7ix0HIJKLMN/refunds",
        },
        "status": "succeeded",
    }


def test_charge_refunded_takes_the_newest_refund_the_charge_carries() -> None:
    older = refund(id="re_older", amount=1000, created=NOW - 600, metadata={"refund_id": "rfd_1"})
    newer = refund(id="re_newer", amount=2000, created=NOW - 5, metadata={"refund_id": "rfd_2"})
    observation = parse(event("charge.refunded", charge(newer, older))).refund
    assert observation is not None
    assert observation.gateway_refund_reference == "re_newer"
    assert observation.refund_id == "rfd_2"
    assert observation.amount == Money("20.00", "EUR")
    assert observation.gateway_payment_reference == "pi_3QxYZaLkdIwHu7ix0ABCDEFG"


def test_charge_refunded_without_embedded_refunds_is_recognised_but_not_acted_on() -> None:
    bare = charge()
    del bare["refunds"]
    notification = parse(event("charge.refunded", bare))
    assert (notification.payment, notification.refund) == (None, None)
    assert notification.event_type == "charge.refunded"


def test_refund_embedded_in_a_charge_may_leave_out_currency_and_intent() -> None:
    embedded = refund(payment_intent=None)
    del embedded["currency"]
    observation = parse(event("charge.refunded", charge(embedded))).refund
    assert observation.amount == Money("20.00", "EUR")
    assert observation.gateway_payment_reference == "pi_3QxYZaLkdIwHu7ix0ABCDEFG"


@pytest.mark.parametrize(
    "event_type", ["customer.created", "payment_intent.created", "charge.succeeded", "x.y"]
)
def test_unknown_event_types_carry_no_observation(event_type: str) -> None:
    notification = parse(event(event_type, {"id": "cus_1", "object": "customer"}))
    assert notification.event_type == event_type
    assert (notification.payment, notification.refund) == (None, None)


@pytest.mark.parametrize("currency", ["ang", "std", "ANG"])
@pytest.mark.parametrize(
    ("event_type", "obj"),
    [
        ("payment_intent.succeeded", intent()),
        ("payment_intent.payment_failed", intent("requires_payment_method")),
        ("refund.updated", refund()),
    ],
)
def test_event_in_a_currency_we_do_not_know_is_not_ours_and_carries_no_observation(
    currency: str, event_type: str, obj: dict[str, Any]
) -> None:
    # ANG and STD are still on Stripe's list but not in our ISO 4217 table: we never charge
    # in them, so the event is genuine but not ours (200 ignored), never malformed (400).
    body = event(event_type, {**obj, "currency": currency})
    notification = gateway().verify_notification({"stripe-signature": sign(body)}, body)
    assert (notification.event_type, notification.payment, notification.refund) == (
        event_type,
        None,
        None,
    )


def test_charge_refunded_in_a_currency_we_do_not_know_carries_no_observation() -> None:
    foreign = {**charge(refund(currency=None)), "currency": "std"}
    body = event("charge.refunded", foreign)
    notification = gateway().verify_notification({"stripe-signature": sign(body)}, body)
    assert notification.refund is None


@pytest.mark.parametrize(
    "broken",
    [
        {"data": {}},
        {"data": {"object": "pi_123"}},
        {"data": {"object": {**intent(), "amount": "7999"}}},
        {"data": {"object": {**intent(), "amount": 79.99}}},
        {"data": {"object": {**intent(), "currency": "eu"}}},
        {"data": {"object": {**intent(), "currency": 978}}},
        {"data": {"object": {**intent(), "status": None}}},
        {"data": {"object": {**intent(), "metadata": ["x"]}}},
        {"data": {"object": {**intent(), "last_payment_error": "declined"}}},
        {"id": 123},
    ],
)
def test_wrong_shaped_payment_intent_events_are_malformed(broken: dict[str, Any]) -> None:
    data = json.loads(event("payment_intent.succeeded", intent()))
    data.update(copy.deepcopy(broken))
    with pytest.raises(MalformedNotificationError):
        translate_event(data)


def test_wrong_shaped_charge_refunds_are_malformed() -> None:
    bad = charge()
    bad["refunds"] = {"data": [{"id": "re_1", "amount": 10}]}
    with pytest.raises(MalformedNotificationError):
        translate_event(json.loads(event("charge.refunded", bad)))
