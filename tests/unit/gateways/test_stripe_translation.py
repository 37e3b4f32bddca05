"""Stripe adapter translations, offline: amount codec, signatures, status map, events, errors."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from decimal import Decimal
from typing import Any

import pytest
import stripe
from hypothesis import given
from hypothesis import strategies as st

from payments.adapters.gateways.stripe import (
    StripeGateway,
    check_stripe_keys,
    from_stripe_amount,
    sign_payload,
    to_stripe_amount,
    translate_event,
    translate_stripe_error,
    verify_signature,
)
from payments.adapters.gateways.stripe.amounts import (
    THREE_DECIMAL_CURRENCIES,
    ZERO_DECIMAL_CURRENCIES,
)
from payments.adapters.gateways.stripe.events import intent_outcome, refund_status
from payments.domain.currency import all_currencies
from payments.domain.errors import (
    ConfigurationError,
    GatewayConfigurationError,
    GatewayUnavailableError,
    IdempotencyConflictError,
    InvalidAmountError,
    InvalidSignatureError,
    InvalidTransitionError,
    MalformedNotificationError,
    PaymentDeclinedError,
    RefundExceedsCapturedError,
    UnsupportedByGatewayError,
)
from payments.domain.money import Money
from payments.domain.purchase import ObservationSource, PaymentOutcome
from payments.domain.refund import RefundStatus

SECRET = "whsec_test_primary_secret"
OLD_SECRET = "whsec_test_previous_secret"
NOW = 1_790_000_000


def sign(body: bytes, secret: str = SECRET, timestamp: int = NOW) -> str:
    return str(
        stripe.WebhookSignature.generate_signature_header(
            body.decode("utf-8"), secret, timestamp=timestamp
        )
    )


def gateway(*secrets: str) -> StripeGateway:
    client = stripe.StripeClient("sk_test_fake_offline_never_called")
    return StripeGateway(client, list(secrets or (SECRET,)), clock=lambda: float(NOW))


# -- realistic Stripe objects (shape of API version 2026-10-28, trimmed to what matters) ----------


def intent(status: str = "succeeded", **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "pi_3QxYZaLkdIwHu7ix0ABCDEFG",
        "object": "payment_intent",
        "amount": 7999,
        "amount_capturable": 0,
        "amount_received": 7999 if status == "succeeded" else 0,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic_async",
        "client_secret": "pi_3QxYZaLkdIwHu7ix0ABCDEFG_secret_fake",
        "confirmation_method": "automatic",
        "created": NOW - 60,
        "currency": "eur",
        "customer": None,
        "description": None,
        "last_payment_error": None,
        "latest_charge": "ch_3QxYZaLkdIwHu7ix0HIJKLMN",
        "livemode": False,
        "metadata": {"purchase_reference": "PUR-2026-000042", "purchase_id": "pur_01JABC"},
        "next_action": None,
        "payment_method": "pm_1QxYZaLkdIwHu7ixCard",
        "payment_method_types": ["card"],
        "status": status,
    }
    data.update(overrides)
    return data


DECLINE = {
    "type": "card_error",
    "code": "card_declined",
    "decline_code": "insufficient_funds",
    "message": "Your card has insufficient funds.",
    "charge": "ch_3QxYZaLkdIwHu7ix0HIJKLMN",
    "doc_url": "https://docs.stripe.com/error-codes/card-declined",
}


def refund(status: str = "succeeded", **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": "re_3QxYZaLkdIwHu7ix0REFUND1",
        "object": "refund",
        "amount": 2000,
        "balance_transaction": "txn_3QxYZaLkdIwHu7ix0TXN",
        "charge": "ch_3QxYZaLkdIwHu7ix0HIJKLMN",
        "created": NOW - 30,
        "currency": "eur",
        "metadata": {"refund_id": "rfd_01JREF"},
        "payment_intent": "pi_3QxYZaLkdIwHu7ix0ABCDEFG",
        "reason": "requested_by_customer",
        "receipt_number": None,
        "status": status,
    }
    data.update(overrides)
    return data


def event(event_type: str, obj: dict[str, Any], event_id: str = "evt_1QxYZaLkdIwHu7ix") -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "api_version": "2026-10-28.endive",
            "created": NOW,
            "data": {"object": obj},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": "req_fake", "idempotency_key": "pur_01JABC:start"},
            "type": event_type,
        },
        indent=2,
    ).encode()


# -- amounts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "units"),
    [
        ("19.99", "EUR", 1999),
        ("0.01", "USD", 1),
        ("500", "JPY", 500),
        ("1500", "CLP", 1500),
        ("500", "MGA", 500),
        ("5.120", "KWD", 5120),
        ("5.12", "KWD", 5120),
        ("12.340", "BHD", 12340),
        ("10000.00", "COP", 1000000),
        ("10000", "COP", 1000000),
        ("500", "ISK", 50000),
    ],
)
def test_stripe_amount_vectors(amount: str, currency: str, units: int) -> None:
    money = Money(amount, currency)
    assert to_stripe_amount(money) == units
    assert from_stripe_amount(units, currency.lower()) == money


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("5.124", "KWD"),  # Stripe needs the third decimal to be 0: never rounded silently
        ("0.001", "OMR"),
        ("19.999", "EUR"),  # more precision than EUR has
        ("500.50", "MGA"),  # two ISO decimals, but zero-decimal at Stripe
        ("500.5", "ISK"),
        ("0.5", "JPY"),
    ],
)
def test_amounts_stripe_cannot_take_exactly_are_refused(amount: str, currency: str) -> None:
    with pytest.raises(InvalidAmountError):
        to_stripe_amount(Money(amount, currency))


def test_nineteen_ninety_nine_is_never_1998_cents() -> None:
    assert to_stripe_amount(Money(Decimal("19.99"), "EUR")) == 1999
    assert to_stripe_amount(Money("0.29", "EUR")) == 29
    assert to_stripe_amount(Money("1.15", "USD")) == 115


def test_from_stripe_amount_accepts_either_case_and_refuses_non_integers() -> None:
    assert (
        from_stripe_amount(1999, "eur") == from_stripe_amount(1999, "EUR") == Money("19.99", "EUR")
    )
    with pytest.raises(TypeError):
        from_stripe_amount(True, "eur")


def test_capabilities_declare_the_steps_stripe_charges_in() -> None:
    steps = gateway().capabilities.amount_steps
    assert {code: steps[code] for code in THREE_DECIMAL_CURRENCIES} == {
        "BHD": 10,
        "JOD": 10,
        "KWD": 10,
        "OMR": 10,
        "TND": 10,
    }
    assert steps["MGA"] == 100  # zero-decimal at Stripe, two decimals in ISO 4217
    assert "EUR" not in steps and "JPY" not in steps
    caps = gateway().capabilities
    assert caps.refusal("KW", Money("5.125", "KWD"), "card") is not None
    assert caps.refusal("KW", Money("5.120", "KWD"), "card") is None
    assert caps.refusal("MG", Money("500.50", "MGA"), "card") is not None


@given(st.sampled_from(all_currencies()), st.integers(min_value=1, max_value=10**9))
def test_capabilities_refuse_exactly_what_to_stripe_amount_refuses(
    currency: Any, minor: int
) -> None:
    money = Money.from_minor_units(minor, currency.code)
    refused_by_routing = gateway().capabilities.refusal("ES", money, "card") is not None
    try:
        to_stripe_amount(money)
    except InvalidAmountError:
        refused_by_codec = True
    else:
        refused_by_codec = False
    assert refused_by_routing == refused_by_codec


def _wire_step(code: str) -> int:
    return 100 if code == "ISK" else 10 if code in THREE_DECIMAL_CURRENCIES else 1


@given(
    currency=st.sampled_from(all_currencies()),
    units=st.integers(min_value=-(10**12), max_value=10**12),
)
def test_every_stripe_amount_round_trips_through_money(currency: Any, units: int) -> None:
    units -= units % _wire_step(currency.code)
    money = from_stripe_amount(units, currency.code.lower())
    assert money.currency == currency
    assert to_stripe_amount(money) == units


@given(
    currency=st.sampled_from(all_currencies()),
    minor=st.integers(min_value=0, max_value=10**12),
)
def test_exact_money_round_trips_or_is_refused(currency: Any, minor: int) -> None:
    money = Money.from_minor_units(minor, currency)
    try:
        units = to_stripe_amount(money)
    except InvalidAmountError:
        assert currency.code in THREE_DECIMAL_CURRENCIES | ZERO_DECIMAL_CURRENCIES
        return
    assert from_stripe_amount(units, currency.code) == money


# -- signatures ------------------------------------------------------------------------------------

BODY = event("payment_intent.succeeded", intent())


def test_documented_stripe_signature_vector_verifies() -> None:
    payload = (
        b'{\n  "id": "evt_test_webhook",\n  "object": "event",\n'
        b'  "data": { "object": { "id": "rdr_123", "object": "terminal.reader" } }\n}'
    )
    assert len(payload) == 125
    header = "t=1700000000,v1=3bfab77baf5f7b6991a46c9b53b6547d7afc56148b10468fcad9f35c1992ffbd"
    verify_signature(header, payload, ["whsec_test_secret"], 1_700_000_000, 300)
    assert sign(payload, "whsec_test_secret", 1_700_000_000) == header


def test_valid_stripe_signature_is_accepted() -> None:
    verify_signature(sign(BODY), BODY, [SECRET], NOW + 10, 300)


def test_stripe_signature_with_wrong_secret_is_rejected() -> None:
    with pytest.raises(InvalidSignatureError):
        verify_signature(sign(BODY, "whsec_test_someone_else"), BODY, [SECRET], NOW, 300)


def test_tampered_stripe_body_is_rejected() -> None:
    tampered = BODY.replace(b"7999", b"7998")
    with pytest.raises(InvalidSignatureError):
        verify_signature(sign(BODY), tampered, [SECRET], NOW, 300)


def test_stale_stripe_signature_is_rejected() -> None:
    verify_signature(sign(BODY, timestamp=NOW - 300), BODY, [SECRET], NOW, 300)
    with pytest.raises(InvalidSignatureError, match="tolerance"):
        verify_signature(sign(BODY, timestamp=NOW - 301), BODY, [SECRET], NOW, 300)


def test_future_stripe_signature_is_rejected() -> None:
    verify_signature(sign(BODY, timestamp=NOW + 300), BODY, [SECRET], NOW, 300)
    with pytest.raises(InvalidSignatureError, match="tolerance"):
        verify_signature(sign(BODY, timestamp=NOW + 301), BODY, [SECRET], NOW, 300)


@pytest.mark.parametrize("header", [None, "", "   ", "garbage", "t=,v1=abc", "t=abc,v1=abc"])
def test_missing_or_malformed_stripe_signature_is_rejected(header: str | None) -> None:
    with pytest.raises(InvalidSignatureError):
        verify_signature(header, BODY, [SECRET], NOW, 300)


def test_stripe_signature_without_v1_is_rejected() -> None:
    with pytest.raises(InvalidSignatureError, match="v1"):
        verify_signature(f"t={NOW}", BODY, [SECRET], NOW, 300)


def test_stripe_signature_with_only_v0_is_rejected_even_if_it_matches() -> None:
    v0 = sign(BODY).split("v1=")[1]  # a correct digest, but under the scheme we must ignore
    with pytest.raises(InvalidSignatureError, match="v1"):
        verify_signature(f"t={NOW},v0={v0}", BODY, [SECRET], NOW, 300)


def test_stripe_signature_with_two_timestamps_is_rejected() -> None:
    header = sign(BODY) + f",t={NOW}"
    with pytest.raises(InvalidSignatureError):
        verify_signature(header, BODY, [SECRET], NOW, 300)


def test_any_v1_matching_any_secret_passes_during_rotation() -> None:
    old = sign(BODY, OLD_SECRET).split("v1=")[1]
    new = sign(BODY, SECRET).split("v1=")[1]
    header = f"t={NOW},v1={old},v1={new},v0=6ffbb59b2300aae63f272406069a9788"
    # Only the second v1 matches a configured secret (ours is the new one).
    verify_signature(header, BODY, [SECRET], NOW, 300)
    verify_signature(header, BODY, ["whsec_test_unrelated", SECRET], NOW, 300)
    with pytest.raises(InvalidSignatureError):
        verify_signature(header, BODY, ["whsec_test_unrelated"], NOW, 300)


def test_signature_verification_never_passes_without_a_secret() -> None:
    with pytest.raises(InvalidSignatureError):
        verify_signature(sign(BODY, ""), BODY, [], NOW, 300)
    with pytest.raises(InvalidSignatureError):
        verify_signature(sign(BODY, ""), BODY, [""], NOW, 300)


def test_gateway_refuses_empty_or_missing_webhook_secrets() -> None:
    client = stripe.StripeClient("sk_test_fake_offline_never_called")
    for secrets in ([], [""], ["  "], [SECRET, ""]):
        with pytest.raises(ConfigurationError):
            StripeGateway(client, secrets)
    with pytest.raises(ConfigurationError):
        StripeGateway(client, SECRET)  # a bare string would be read as one secret per character
    with pytest.raises(ConfigurationError):
        StripeGateway(client, [SECRET], tolerance=0)


def test_parse_notification_checks_the_lowercase_stripe_signature_header() -> None:
    notification = gateway().verify_notification({"stripe-signature": sign(BODY)}, BODY)
    assert notification.event_id == "evt_1QxYZaLkdIwHu7ix"
    with pytest.raises(InvalidSignatureError):
        gateway().verify_notification({}, BODY)
    with pytest.raises(InvalidSignatureError):
        gateway().verify_notification({"stripe-signature": sign(BODY, OLD_SECRET)}, BODY)


def test_parse_notification_accepts_the_old_secret_while_rotating() -> None:
    rotating = gateway(SECRET, OLD_SECRET)
    assert rotating.verify_notification({"stripe-signature": sign(BODY, OLD_SECRET)}, BODY)


def test_parse_notification_skips_verification_of_stored_messages_only_when_asked() -> None:
    assert gateway().parse_stored_notification({}, BODY).payment is not None


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'"evt"', b"{}", b'{"id": "evt_1"}', b'{"type": "x"}', b"null"],
)
def test_signed_but_malformed_stripe_body_is_malformed(body: bytes) -> None:
    # Signed by stripe-python itself, so only the body, not the signature, can be at fault.
    header = sign(body)
    with pytest.raises(MalformedNotificationError):
        gateway().verify_notification({"stripe-signature": header}, body)


def test_signed_body_that_is_not_utf8_is_malformed() -> None:
    # generate_signature_header takes a str, and no str encodes to these bytes: sign by hand,
    # with the scheme the other tests check against stripe-python.
    body = b"\xff\xfe"
    digest = hmac.new(SECRET.encode(), b"%d." % NOW + body, hashlib.sha256).hexdigest()
    with pytest.raises(MalformedNotificationError):
        gateway().verify_notification({"stripe-signature": f"t={NOW},v1={digest}"}, body)


def test_sign_payload_is_stripes_header_with_one_v1_per_secret() -> None:
    assert sign_payload(BODY, [SECRET], NOW) == sign(BODY)
    rotating = sign_payload(BODY, [OLD_SECRET, SECRET], NOW)
    assert rotating == sign(BODY, OLD_SECRET) + "," + sign(BODY).split(",")[1]
    verify_signature(rotating, BODY, [SECRET], float(NOW), 300)
    verify_signature(rotating, BODY, [OLD_SECRET], float(NOW), 300)
    with pytest.raises(ConfigurationError):
        sign_payload(BODY, [], NOW)


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


# -- errors ----------------------------------------------------------------------------------------


def connection_error(message: str) -> stripe.StripeError:
    return stripe.APIConnectionError(message)  # type: ignore[no-untyped-call]


def _error(cls: type[stripe.StripeError], status: int, **error: Any) -> stripe.StripeError:
    body = {"error": {"type": "invalid_request_error", "message": "raw provider text", **error}}
    if cls is stripe.CardError:
        return stripe.CardError(  # type: ignore[no-untyped-call]
            "raw", None, error.get("code"), json.dumps(body), status, body
        )
    if cls is stripe.InvalidRequestError:
        return stripe.InvalidRequestError(  # type: ignore[no-untyped-call]
            "raw", error.get("param"), error.get("code"), json.dumps(body), status, body
        )
    return cls("raw", json.dumps(body), status, body)


def test_card_error_becomes_payment_declined_with_the_provider_code() -> None:
    error = _error(stripe.CardError, 402, code="card_declined", decline_code="stolen_card")
    translated = translate_stripe_error(error)
    assert isinstance(translated, PaymentDeclinedError)
    assert translated.provider_code == "card_declined"
    assert translated.details["decline_code"] == "stolen_card"
    assert "raw provider text" not in translated.message


@pytest.mark.parametrize(
    ("error", "kind", "charged_possible"),
    [
        (_error(stripe.RateLimitError, 429), GatewayUnavailableError, False),
        (_error(stripe.APIError, 500), GatewayUnavailableError, True),
        (_error(stripe.APIError, 409), GatewayUnavailableError, True),
        (connection_error("reset"), GatewayUnavailableError, True),
        (_error(stripe.AuthenticationError, 401), GatewayConfigurationError, None),
        (_error(stripe.PermissionError, 403), GatewayConfigurationError, None),
        (_error(stripe.IdempotencyError, 400), IdempotencyConflictError, None),
    ],
)
def test_stripe_errors_translate_by_what_the_caller_must_do(
    error: stripe.StripeError, kind: type[Exception], charged_possible: bool | None
) -> None:
    translated = translate_stripe_error(error)
    assert type(translated) is kind
    if charged_possible is not None:
        assert isinstance(translated, GatewayUnavailableError)
        assert translated.charged_possible is charged_possible


@pytest.mark.parametrize(
    ("error", "attempts", "charged_possible"),
    [
        (connection_error("refused"), [False], False),
        (connection_error("refused"), [False, False], False),
        (connection_error("refused"), [True, False], True),  # a 503 came first
        (connection_error("read timeout"), [True], True),
        (_error(stripe.RateLimitError, 429), [False], False),
        (_error(stripe.RateLimitError, 429), [True, False], True),
    ],
)
def test_charged_possible_follows_every_recorded_attempt(
    error: stripe.StripeError, attempts: list[bool], charged_possible: bool
) -> None:
    translated = translate_stripe_error(error, attempts=attempts)
    assert isinstance(translated, GatewayUnavailableError)
    assert translated.charged_possible is charged_possible


@pytest.mark.parametrize(
    ("code", "param", "operation", "kind"),
    [
        ("amount_too_small", "amount", "start_payment", InvalidAmountError),
        ("amount_too_large", "amount", "start_payment", InvalidAmountError),
        ("amount_too_large", "amount", "refund", RefundExceedsCapturedError),
        ("charge_already_refunded", None, "refund", RefundExceedsCapturedError),
        ("payment_intent_unexpected_state", None, "refund", InvalidTransitionError),
        (None, "currency", "start_payment", UnsupportedByGatewayError),
        ("parameter_unknown", "description", "start_payment", GatewayConfigurationError),
        ("resource_missing", "intent", "cancel", GatewayConfigurationError),
        (None, None, "start_payment", GatewayConfigurationError),
    ],
)
def test_invalid_requests_translate_by_code(
    code: str | None, param: str | None, operation: str, kind: type[Exception]
) -> None:
    error = _error(stripe.InvalidRequestError, 400, code=code, param=param)
    assert type(translate_stripe_error(error, operation=operation)) is kind


# -- configuration ---------------------------------------------------------------------------------


def test_live_mode_needs_a_live_key_and_a_webhook_secret() -> None:
    check_stripe_keys("live", "sk_live_fake_example", ("whsec_test_fake_example",))
    check_stripe_keys("live", "rk_live_fake_example", ("whsec_test_fake_example",))
    with pytest.raises(ConfigurationError, match="PAYMENTS_STRIPE_SECRET_KEY"):
        check_stripe_keys("live", None, ("whsec_test_fake_example",))
    with pytest.raises(ConfigurationError, match="PAYMENTS_STRIPE_WEBHOOK_SECRET"):
        check_stripe_keys("live", "sk_live_fake_example", ())
    with pytest.raises(ConfigurationError, match="PAYMENTS_STRIPE_WEBHOOK_SECRET"):
        check_stripe_keys("live", "sk_live_fake_example", ("   ",))
    with pytest.raises(ConfigurationError, match="whsec_"):
        check_stripe_keys("live", "sk_live_fake_example", ("sk_live_fake_example",))


def test_live_mode_checks_every_rotating_webhook_secret() -> None:
    check_stripe_keys("live", "sk_live_fake_example", ("whsec_test_old", "whsec_test_new"))
    with pytest.raises(ConfigurationError, match="whsec_") as caught:
        check_stripe_keys("live", "sk_live_fake_example", ("whsec_test_old", "oops_test_new"))
    assert "oops_test_new" not in str(caught.value)


def test_webhook_secrets_must_be_a_sequence_not_one_string() -> None:
    with pytest.raises(TypeError):
        check_stripe_keys("live", "sk_live_fake_example", "whsec_a,whsec_b")


def test_live_mode_refuses_a_test_key() -> None:
    with pytest.raises(ConfigurationError, match="test key"):
        check_stripe_keys("live", "sk_test_fake_example", ("whsec_test_fake_example",))


def test_sandbox_mode_refuses_a_live_key() -> None:
    with pytest.raises(ConfigurationError, match="live Stripe key"):
        check_stripe_keys("sandbox", "sk_live_fake_example", ("whsec_test_fake_example",))
    check_stripe_keys("sandbox", None, ())
    check_stripe_keys("sandbox", "sk_test_fake_example", ("localstripe_secret",))


def test_sandbox_mode_with_a_test_key_needs_a_webhook_secret() -> None:
    with pytest.raises(ConfigurationError, match="PAYMENTS_STRIPE_WEBHOOK_SECRET"):
        check_stripe_keys("sandbox", "sk_test_fake_example", ())


def test_a_publishable_key_is_not_a_secret_key() -> None:
    with pytest.raises(ConfigurationError, match="publishable"):
        check_stripe_keys("sandbox", "pk_test_fake_example", ())


def test_key_errors_never_echo_the_key() -> None:
    with pytest.raises(ConfigurationError) as caught:
        check_stripe_keys("live", "sk_test_fake_do_not_echo", ("whsec_test_fake_example",))
    assert "do_not_echo" not in str(caught.value)
    with pytest.raises(ConfigurationError) as mode:
        check_stripe_keys("production_do_not_echo", None, ())
    assert "do_not_echo" not in str(mode.value)
