"""What sandbox mode adds around a provider simulator, shown with the Stripe simulator over real
loopback HTTP: notifications delivered to a webhook endpoint, one payment per idempotency key
under concurrent starts, and the controller behind ``POST /v1/sandbox/purchases/{id}/{action}``.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import requests
import responses

from payments.adapters.gateways.stripe import StripeGateway, make_stripe_client
from payments.domain.errors import InvalidTransitionError, NotFoundError, ValidationError
from payments.domain.gateway import Notification, Payer, PaymentRequest
from payments.domain.money import Money
from payments.domain.purchase import PaymentOutcome, Purchase, RoutingDecision
from payments.sandbox.controller import SimulatorSandbox
from payments.sandbox.delivery import Deliver, http_deliverer
from payments.sandbox.stripe_simulator import StripeSimulatorState, make_stripe_simulator
from tests.contract.loopback import serving

SECRET = "whsec_test_delivery_fake"
KEY = "sk_test_fake_delivery_key"


def _ignore(_path: str, _headers: dict[str, str], _body: bytes) -> int:
    return 200


@dataclass
class Stripe:
    """The Stripe simulator served over loopback, and our adapter pointed at it."""

    state: StripeSimulatorState
    gateway: StripeGateway


@contextmanager
def stripe_at_loopback(deliver: Deliver) -> Iterator[Stripe]:
    app = make_stripe_simulator(webhook_secret=SECRET, deliver=deliver)
    with serving(app) as base_url:
        client = make_stripe_client(KEY, api_base=base_url, max_network_retries=0)
        yield Stripe(app.state, StripeGateway(client, [SECRET]))


@pytest.fixture
def stripe() -> Iterator[Stripe]:
    with stripe_at_loopback(_ignore) as running:
        yield running


def payment_request(reference: str = "ref_001") -> PaymentRequest:
    return PaymentRequest(
        purchase_id=f"pur_{reference}",
        reference=reference,
        amount=Money("79.99", "EUR"),
        description="8 Hour Premium Package",
        payer=Payer("cus_1", "ana@example.com", "Ana"),
        country="PT",
        payment_method="card",
        idempotency_key=f"pur_{reference}:start:0",
        return_url="https://shop.example/done",
        metadata={"purchase_id": f"pur_{reference}"},
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# -- delivering notifications over HTTP ----------------------------------------------------------


@responses.activate
def test_http_deliverer_posts_the_raw_signed_body() -> None:
    responses.add(responses.POST, "http://api.test/v1/webhooks/stripe", status=200)
    deliver = http_deliverer("http://api.test/", requests.Session())
    status = deliver("/v1/webhooks/stripe", {"Stripe-Signature": "t=1,v1=ab"}, b'{"id":"e"}')
    assert status == 200
    sent = responses.calls[0].request
    assert sent.body == b'{"id":"e"}'
    assert sent.headers["Stripe-Signature"] == "t=1,v1=ab"


def test_http_deliverer_reports_an_unreachable_receiver_as_status_0() -> None:
    deliver = http_deliverer(f"http://127.0.0.1:{free_port()}", requests.Session(), timeout=2)
    assert deliver("/v1/webhooks/stripe", {}, b"{}") == 0


def test_simulator_delivers_to_a_real_webhook_endpoint_over_http() -> None:
    received: list[Notification] = []
    verifier = StripeGateway(make_stripe_client(KEY), [SECRET])

    def webhook(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        received.append(verifier.verify_notification(headers, body))
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"status": "processed"}']

    with requests.Session() as session, serving(webhook) as api_url:
        deliver = http_deliverer(api_url, session)
        with stripe_at_loopback(deliver) as stripe:
            start = stripe.gateway.start_payment(payment_request())
            summary = stripe.state.approve(start.gateway_reference)
    assert summary["delivered_status"] == 200
    assert len(received) == 1
    assert received[0].payment is not None
    assert received[0].payment.outcome is PaymentOutcome.SUCCEEDED


def test_concurrent_starts_with_one_key_create_one_payment(stripe: Stripe) -> None:
    ids: list[str] = []

    def start() -> None:
        ids.append(stripe.gateway.start_payment(payment_request()).gateway_reference)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == 8
    assert len(set(ids)) == 1
    assert len(stripe.state.intents) == 1


# -- the sandbox controller ----------------------------------------------------------------------


def started_purchase(gateway: str, gateway_reference: str | None) -> Purchase:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    purchase = Purchase.create(
        id="pur_1",
        reference="ref_001",
        customer_id="cus_1",
        product_id="prd_1",
        amount=Money("79.99", "EUR"),
        credits=Decimal(8),
        validity_days=60,
        country="PT",
        payment_method="card",
        routing=RoutingDecision((gateway,), "test"),
        now=now,
    )
    if gateway_reference is not None:
        purchase.start_at_gateway(gateway, gateway_reference, None, now)
    return purchase


def controller_for(state: StripeSimulatorState) -> SimulatorSandbox:
    controller = SimulatorSandbox()
    controller.register_simulator("stripe", state)
    return controller


def test_controller_approves_the_purchases_payment_at_its_simulator(stripe: Stripe) -> None:
    start = stripe.gateway.start_payment(payment_request())
    controller = controller_for(stripe.state)
    result = controller.act(started_purchase("stripe", start.gateway_reference), "approve")
    assert result["purchase_id"] == "pur_1"
    assert result["action"] == "approve"
    assert result["type"] == "payment_intent.succeeded"
    assert result["delivered_status"] == 200
    assert stripe.state.intents[start.gateway_reference].status == "succeeded"


def test_controller_refuses_an_unknown_action(stripe: Stripe) -> None:
    controller = controller_for(stripe.state)
    with pytest.raises(ValidationError):
        controller.act(started_purchase("stripe", "pi_1"), "refund")


def test_controller_refuses_a_purchase_without_a_gateway_reference(stripe: Stripe) -> None:
    controller = controller_for(stripe.state)
    with pytest.raises(ValidationError):
        controller.act(started_purchase("stripe", None), "approve")


def test_controller_has_no_simulator_for_an_unregistered_gateway(stripe: Stripe) -> None:
    controller = controller_for(stripe.state)
    with pytest.raises(NotFoundError):
        controller.act(started_purchase("payu", "4000"), "approve")


def test_controller_passes_on_a_forbidden_transition(stripe: Stripe) -> None:
    start = stripe.gateway.start_payment(payment_request())
    controller = controller_for(stripe.state)
    purchase = started_purchase("stripe", start.gateway_reference)
    controller.act(purchase, "approve")
    with pytest.raises(InvalidTransitionError):
        controller.act(purchase, "expire")
