"""StripeGateway against the built-in Stripe simulator, served over real loopback HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import requests
import stripe

from payments.adapters.gateways.stripe import StripeGateway, make_stripe_client
from payments.domain.errors import (
    GatewayConfigurationError,
    IdempotencyConflictError,
    InvalidAmountError,
    InvalidTransitionError,
    NotFoundError,
    RefundExceedsCapturedError,
    UnsupportedByGatewayError,
)
from payments.domain.gateway import Payer, PaymentRequest, RefundRequest
from payments.domain.money import Money
from payments.domain.next_action import ClientSecretAction
from payments.domain.purchase import ObservationSource, PaymentOutcome
from payments.domain.refund import RefundStatus
from payments.sandbox.stripe_simulator import StripeSimulatorState, make_stripe_simulator

SECRET = "whsec_test_simulator_fake"
KEY = "sk_test_fake_simulator_key"
PUBLISHABLE = "pk_test_fake_simulator_key"


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class Sandbox:
    state: StripeSimulatorState
    base: str
    gateway: StripeGateway
    received: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)

    def notification(self, index: int = -1) -> Any:
        """What our webhook endpoint would make of a delivery (header names lower-cased)."""
        _path, headers, body = self.received[index]
        lowered = {name.lower(): value for name, value in headers.items()}
        return self.gateway.verify_notification(lowered, body)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    received: list[tuple[str, dict[str, str], bytes]] = []

    def deliver(path: str, headers: dict[str, str], body: bytes) -> int:
        received.append((path, headers, body))
        return 200

    app = make_stripe_simulator(webhook_secret=SECRET, deliver=deliver)
    server: WSGIServer = make_server("127.0.0.1", 0, app, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    client = make_stripe_client(KEY, api_base=base, max_network_retries=0)
    gateway = StripeGateway(client, [SECRET], publishable_key=PUBLISHABLE)
    try:
        yield Sandbox(app.state, base, gateway, received)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def payment(reference: str = "PUR-0001", amount: str = "19.99", **kw: Any) -> PaymentRequest:
    fields: dict[str, Any] = {
        "purchase_id": f"pur_{reference}",
        "reference": reference,
        "amount": Money(amount, "EUR"),
        "description": "8 Hour Premium Package",
        "payer": Payer("cus_1", "ana@example.com", "Ana"),
        "country": "ES",
        "payment_method": "card",
        "idempotency_key": f"pur_{reference}:start:1",
    }
    fields.update(kw)
    return PaymentRequest(**fields)


def refund(gateway_reference: str, amount: str, *, full: bool = False, **kw: Any) -> RefundRequest:
    fields: dict[str, Any] = {
        "refund_id": "rfd_0001",
        "purchase_reference": "PUR-0001",
        "gateway_reference": gateway_reference,
        "amount": Money(amount, "EUR"),
        "full": full,
        "reason": None,
        "idempotency_key": "rfd_0001:refund",
    }
    fields.update(kw)
    return RefundRequest(**fields)


# -- creating payments -----------------------------------------------------------------------------


def test_start_payment_creates_a_card_intent_with_our_reference(sandbox: Sandbox) -> None:
    start = sandbox.gateway.start_payment(payment())
    assert start.gateway_reference.startswith("pi_")
    assert isinstance(start.next_action, ClientSecretAction)
    assert start.next_action.client_secret.startswith(start.gateway_reference + "_secret_")
    assert start.next_action.publishable_key == PUBLISHABLE
    assert start.observation is not None
    assert start.observation.outcome is PaymentOutcome.PROCESSING
    assert start.observation.source is ObservationSource.RESPONSE
    intent = sandbox.state.intents[start.gateway_reference]
    assert (intent.amount, intent.currency, intent.payment_method_types) == (1999, "eur", ["card"])
    assert intent.metadata == {"purchase_reference": "PUR-0001", "purchase_id": "pur_PUR-0001"}
    assert sandbox.state.api_calls == [("POST", "/v1/payment_intents", "pur_PUR-0001:start:1")]


def test_repeating_start_payment_with_the_same_key_replays_the_same_intent(
    sandbox: Sandbox,
) -> None:
    first = sandbox.gateway.start_payment(payment())
    again = sandbox.gateway.start_payment(payment())
    assert again.gateway_reference == first.gateway_reference
    assert len(sandbox.state.intents) == 1


def test_simulator_marks_a_replayed_answer(sandbox: Sandbox) -> None:
    def post() -> requests.Response:
        return requests.post(
            sandbox.base + "/v1/payment_intents",
            data={"amount": "500", "currency": "jpy", "allowed_payment_method_types[0]": "card"},
            headers={"Authorization": f"Bearer {KEY}", "Idempotency-Key": "raw-key-1"},
            timeout=5,
        )

    first, second = post(), post()
    assert first.status_code == second.status_code == 200
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json()["id"] == first.json()["id"]


def test_same_key_with_other_parameters_is_an_idempotency_conflict(sandbox: Sandbox) -> None:
    sandbox.gateway.start_payment(payment())
    with pytest.raises(IdempotencyConflictError):
        sandbox.gateway.start_payment(payment(amount="29.99"))
    assert len(sandbox.state.intents) == 1


def test_amounts_are_checked_before_any_request(sandbox: Sandbox) -> None:
    with pytest.raises(InvalidAmountError):
        sandbox.gateway.start_payment(payment(amount="19.999"))
    with pytest.raises(UnsupportedByGatewayError):
        sandbox.gateway.start_payment(payment(payment_method="pse"))
    assert sandbox.state.api_calls == []


# -- the payer's side ------------------------------------------------------------------------------


def test_approve_delivers_a_signed_event_that_verify_notification_accepts(sandbox: Sandbox) -> None:
    start = sandbox.gateway.start_payment(payment())
    sent = sandbox.state.approve(start.gateway_reference)
    assert sent["delivered_status"] == 200
    path, headers, _body = sandbox.received[0]
    assert path == "/v1/webhooks/stripe"
    assert headers["Stripe-Signature"].startswith("t=")
    notification = sandbox.notification()
    assert notification.event_id == sent["event_id"]
    assert notification.event_type == "payment_intent.succeeded"
    observation = notification.payment
    assert observation.outcome is PaymentOutcome.SUCCEEDED
    assert observation.reference == "PUR-0001"
    assert observation.gateway_reference == start.gateway_reference
    assert observation.amount == Money("19.99", "EUR")
    looked_up = sandbox.gateway.lookup("PUR-0001", start.gateway_reference)
    assert looked_up is not None
    assert looked_up.outcome is PaymentOutcome.SUCCEEDED
    assert looked_up.source is ObservationSource.LOOKUP


def test_events_are_signed_exactly_like_stripe(sandbox: Sandbox) -> None:
    start = sandbox.gateway.start_payment(payment())
    sandbox.state.approve(start.gateway_reference)
    _path, headers, body = sandbox.received[0]
    event = stripe.Webhook.construct_event(body.decode(), headers["Stripe-Signature"], SECRET)
    assert event.type == "payment_intent.succeeded"
    assert event.data.object.id == start.gateway_reference


def test_a_redelivered_event_keeps_its_id(sandbox: Sandbox) -> None:
    start = sandbox.gateway.start_payment(payment())
    first = sandbox.state.approve(start.gateway_reference)
    sandbox.state.redeliver(str(first["event_id"]))
    assert sandbox.notification(0).event_id == sandbox.notification(1).event_id


def test_decline_is_a_failed_observation_with_the_card_code(sandbox: Sandbox) -> None:
    start = sandbox.gateway.start_payment(payment())
    sandbox.state.decline(start.gateway_reference, decline_code="insufficient_funds")
    notification = sandbox.notification()
    assert notification.event_type == "payment_intent.payment_failed"
    assert notification.payment.outcome is PaymentOutcome.FAILED
    assert notification.payment.provider_code == "card_declined"
    looked_up = sandbox.gateway.lookup("PUR-0001", start.gateway_reference)
    assert looked_up is not None
    assert (looked_up.outcome, looked_up.provider_code) == (PaymentOutcome.FAILED, "card_declined")


def test_a_declined_payer_may_pay_with_another_card(sandbox: Sandbox) -> None:
    start = sandbox.gateway.start_payment(payment())
    sandbox.state.decline(start.gateway_reference, "expired_card")
    assert sandbox.notification().payment.provider_code == "expired_card"
    sandbox.state.approve(start.gateway_reference)
    assert sandbox.notification().payment.outcome is PaymentOutcome.SUCCEEDED


def test_expire_cancels_the_intent_and_notifies(sandbox: Sandbox) -> None:
    start = sandbox.gateway.start_payment(payment())
    sandbox.state.expire(start.gateway_reference)
    notification = sandbox.notification()
    assert notification.event_type == "payment_intent.canceled"
    assert notification.payment.outcome is PaymentOutcome.CANCELLED
    with pytest.raises(InvalidTransitionError):
        sandbox.state.approve(start.gateway_reference)


def test_simulator_operations_on_unknown_ids_are_not_found(sandbox: Sandbox) -> None:
    with pytest.raises(NotFoundError):
        sandbox.state.approve("pi_missing")
    with pytest.raises(NotFoundError):
        sandbox.state.fail_refund("re_missing")


# -- cancel and lookup -----------------------------------------------------------------------------


def test_cancel_returns_a_cancelled_observation(sandbox: Sandbox) -> None:
    start = sandbox.gateway.start_payment(payment())
    observation = sandbox.gateway.cancel(start.gateway_reference, "pur_PUR-0001:cancel")
    assert observation.outcome is PaymentOutcome.CANCELLED
    assert sandbox.state.intents[start.gateway_reference].status == "canceled"
    again = sandbox.gateway.cancel(start.gateway_reference, "pur_PUR-0001:cancel:2")
    assert again.outcome is PaymentOutcome.CANCELLED


def test_cancel_after_capture_reports_the_capture(sandbox: Sandbox) -> None:
    start = sandbox.gateway.start_payment(payment())
    sandbox.state.approve(start.gateway_reference)
    observation = sandbox.gateway.cancel(start.gateway_reference, "pur_PUR-0001:cancel")
    assert observation.outcome is PaymentOutcome.SUCCEEDED


def test_lookup_answers_none_for_what_stripe_never_saw(sandbox: Sandbox) -> None:
    assert sandbox.gateway.lookup("PUR-0001", None) is None
    assert sandbox.gateway.lookup("PUR-0001", "pi_never_created") is None


def test_lookup_of_another_purchases_intent_is_a_configuration_error(sandbox: Sandbox) -> None:
    start = sandbox.gateway.start_payment(payment())
    with pytest.raises(GatewayConfigurationError):
        sandbox.gateway.lookup("PUR-9999", start.gateway_reference)


# -- refunds ---------------------------------------------------------------------------------------


def captured(sandbox: Sandbox, reference: str = "PUR-0001") -> str:
    start = sandbox.gateway.start_payment(payment(reference))
    sandbox.state.approve(start.gateway_reference)
    return start.gateway_reference


def test_partial_then_remaining_refunds(sandbox: Sandbox) -> None:
    intent_id = captured(sandbox)
    first = sandbox.gateway.refund(refund(intent_id, "5.00"))
    assert first.gateway_refund_reference.startswith("re_")
    assert first.status is RefundStatus.SUCCEEDED
    stored = sandbox.state.refunds[first.gateway_refund_reference]
    assert (stored.amount, stored.payment_intent) == (500, intent_id)
    assert stored.metadata == {"refund_id": "rfd_0001", "purchase_reference": "PUR-0001"}
    second = sandbox.gateway.refund(
        refund(intent_id, "14.99", refund_id="rfd_0002", idempotency_key="rfd_0002:refund")
    )
    assert sandbox.state.refunds[second.gateway_refund_reference].amount == 1499
    with pytest.raises(RefundExceedsCapturedError):
        sandbox.gateway.refund(
            refund(intent_id, "0.01", refund_id="rfd_0003", idempotency_key="rfd_0003:refund")
        )


def test_full_refund_leaves_the_amount_to_stripe(sandbox: Sandbox) -> None:
    intent_id = captured(sandbox)
    result = sandbox.gateway.refund(refund(intent_id, "19.99", full=True))
    assert sandbox.state.refunds[result.gateway_refund_reference].amount == 1999


def test_refund_over_the_remainder_is_refused(sandbox: Sandbox) -> None:
    intent_id = captured(sandbox)
    with pytest.raises(RefundExceedsCapturedError):
        sandbox.gateway.refund(refund(intent_id, "20.00"))
    assert sandbox.state.refunds == {}


def test_repeated_refund_with_the_same_key_refunds_once(sandbox: Sandbox) -> None:
    intent_id = captured(sandbox)
    first = sandbox.gateway.refund(refund(intent_id, "5.00"))
    again = sandbox.gateway.refund(refund(intent_id, "5.00"))
    assert again.gateway_refund_reference == first.gateway_refund_reference
    assert len(sandbox.state.refunds) == 1


def test_refund_reason_is_sent_only_when_stripe_knows_it(sandbox: Sandbox) -> None:
    intent_id = captured(sandbox)
    known = sandbox.gateway.refund(refund(intent_id, "1.00", reason="Requested by customer"))
    other = sandbox.gateway.refund(
        refund(intent_id, "1.00", reason="course moved", idempotency_key="rfd_0002:refund")
    )
    assert sandbox.state.refunds[known.gateway_refund_reference].reason == "requested_by_customer"
    assert sandbox.state.refunds[other.gateway_refund_reference].reason is None
    assert sandbox.state.refunds[other.gateway_refund_reference].metadata["reason"] == (
        "course moved"
    )


def test_refund_of_an_uncaptured_payment_is_an_invalid_transition(sandbox: Sandbox) -> None:
    start = sandbox.gateway.start_payment(payment())
    with pytest.raises(InvalidTransitionError):
        sandbox.gateway.refund(refund(start.gateway_reference, "5.00"))


def test_failed_refund_is_notified_with_our_refund_id(sandbox: Sandbox) -> None:
    intent_id = captured(sandbox)
    result = sandbox.gateway.refund(refund(intent_id, "5.00"))
    sandbox.state.fail_refund(result.gateway_refund_reference)
    notification = sandbox.notification()
    assert notification.event_type == "refund.updated"
    observation = notification.refund
    assert observation.status is RefundStatus.FAILED
    assert observation.refund_id == "rfd_0001"
    assert observation.gateway_payment_reference == intent_id
    assert observation.amount == Money("5.00", "EUR")


def test_charge_refunded_event_is_read_from_the_newest_refund(sandbox: Sandbox) -> None:
    intent_id = captured(sandbox)
    sandbox.gateway.refund(refund(intent_id, "5.00"))
    latest = sandbox.gateway.refund(
        refund(intent_id, "3.00", refund_id="rfd_0002", idempotency_key="rfd_0002:refund")
    )
    sandbox.state.notify_refund(latest.gateway_refund_reference, "charge.refunded")
    observation = sandbox.notification().refund
    assert observation.gateway_refund_reference == latest.gateway_refund_reference
    assert observation.refund_id == "rfd_0002"
    assert observation.amount == Money("3.00", "EUR")
    sandbox.state.notify_refund(latest.gateway_refund_reference, "refund.created")
    assert sandbox.notification().refund.status is RefundStatus.SUCCEEDED


# -- the wire --------------------------------------------------------------------------------------


def test_a_bad_api_key_is_a_configuration_error(sandbox: Sandbox) -> None:
    client = make_stripe_client("pk_test_fake_not_secret", api_base=sandbox.base)
    gateway = StripeGateway(client, [SECRET])
    with pytest.raises(GatewayConfigurationError):
        gateway.start_payment(payment())


def test_payment_method_types_is_refused_on_the_pinned_api_version(sandbox: Sandbox) -> None:
    client = make_stripe_client(KEY, api_base=sandbox.base, max_network_retries=0)
    legacy = StripeGateway(client, [SECRET], payment_methods_param="payment_method_types")
    with pytest.raises(GatewayConfigurationError):
        legacy.start_payment(payment())


def test_payment_method_types_works_on_older_api_versions(sandbox: Sandbox) -> None:
    client = stripe.StripeClient(
        KEY, base_addresses={"api": sandbox.base}, stripe_version="2026-08-26.dahlia"
    )
    legacy = StripeGateway(client, [SECRET], payment_methods_param="payment_method_types")
    start = legacy.start_payment(payment())
    assert sandbox.state.intents[start.gateway_reference].payment_method_types == ["card"]


def test_simulator_errors_have_stripes_shape(sandbox: Sandbox) -> None:
    auth = {"Authorization": f"Bearer {KEY}"}
    missing = requests.get(sandbox.base + "/v1/payment_intents/pi_nope", headers=auth, timeout=5)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "resource_missing"
    unknown = requests.get(sandbox.base + "/v1/no_such_resource", headers=auth, timeout=5)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["type"] == "invalid_request_error"
    anonymous = requests.post(sandbox.base + "/v1/refunds", timeout=5)
    assert anonymous.status_code == 401
    assert "error" in anonymous.json()
    extra = requests.post(
        sandbox.base + "/v1/payment_intents",
        data={"amount": "100", "currency": "eur", "no_such_parameter": "true"},
        headers=auth,
        timeout=5,
    )
    assert extra.status_code == 400
    assert extra.json()["error"]["code"] == "parameter_unknown"
    currency = requests.post(
        sandbox.base + "/v1/payment_intents",
        data={"amount": "100", "currency": "zzz"},
        headers=auth,
        timeout=5,
    )
    assert (currency.status_code, currency.json()["error"]["param"]) == (400, "currency")
