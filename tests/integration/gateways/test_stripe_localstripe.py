"""StripeGateway against localstripe, a third-party fake Stripe run as a separate process."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
import stripe
from sqlalchemy import Engine, select

from payments.adapters.gateways.stripe import StripeGateway, make_stripe_client
from payments.adapters.sql.tables import webhook_inbox
from payments.domain.gateway import Notification, Payer, PaymentRequest, RefundRequest
from payments.domain.money import Money
from payments.domain.next_action import ClientSecretAction
from payments.domain.purchase import PaymentOutcome
from payments.domain.refund import RefundStatus
from tests.integration.gateways.localstripe_process import KEY, SECRET, pay, wait_until
from tests.integration.service import RunningService, running_service

pytestmark = pytest.mark.localstripe


@pytest.fixture(autouse=True)
def fresh_localstripe(localstripe: str) -> None:
    requests.delete(localstripe + "/_config/data", timeout=5).raise_for_status()


@pytest.fixture
def client(localstripe: str) -> stripe.StripeClient:
    """The client the test uses as the payer's browser would use Stripe.js."""
    return stripe.StripeClient(KEY, base_addresses={"api": localstripe})


@pytest.fixture
def gateway(localstripe: str) -> StripeGateway:
    # localstripe predates 2026-09-30 and knows only payment_method_types.
    return StripeGateway(
        make_stripe_client(KEY, api_base=localstripe, max_network_retries=0),
        [SECRET],
        payment_methods_param="payment_method_types",
    )


def payment(reference: str, amount: str = "19.99") -> PaymentRequest:
    return PaymentRequest(
        purchase_id=f"pur_{reference}",
        reference=reference,
        amount=Money(amount, "EUR"),
        description="8 Hour Premium Package",
        payer=Payer("cus_1", "ana@example.com", "Ana"),
        country="ES",
        payment_method="card",
        idempotency_key=f"pur_{reference}:start",
    )


def refund(intent_id: str, amount: str, *, full: bool = False, n: int = 1) -> RefundRequest:
    return RefundRequest(
        refund_id=f"rfd_{n}",
        purchase_reference="PUR-1",
        gateway_reference=intent_id,
        amount=Money(amount, "EUR"),
        full=full,
        reason=None,  # localstripe refuses `reason`
        idempotency_key=f"rfd_{n}:refund",
    )


def test_confirmed_card_payment_is_succeeded_on_lookup(
    gateway: StripeGateway, client: stripe.StripeClient
) -> None:
    start = gateway.start_payment(payment("PUR-1"))
    assert start.gateway_reference.startswith("pi_")
    assert isinstance(start.next_action, ClientSecretAction)
    assert start.observation is not None
    assert start.observation.outcome is PaymentOutcome.PROCESSING
    pay(client, start.gateway_reference)
    observation = gateway.lookup("PUR-1", start.gateway_reference)
    assert observation is not None
    assert observation.outcome is PaymentOutcome.SUCCEEDED
    assert observation.reference == "PUR-1"
    assert observation.amount == Money("19.99", "EUR")


def test_declined_card_is_a_failed_observation_with_card_declined(
    gateway: StripeGateway, client: stripe.StripeClient
) -> None:
    start = gateway.start_payment(payment("PUR-1"))
    with pytest.raises(stripe.CardError) as declined:  # what the browser sees
        pay(client, start.gateway_reference, "pm_card_chargeCustomerFail")
    assert declined.value.code == "card_declined"
    observation = gateway.lookup("PUR-1", start.gateway_reference)
    assert observation is not None
    assert observation.outcome is PaymentOutcome.FAILED
    assert observation.provider_code == "card_declined"


def test_card_4000000000000341_is_declined_at_charge(
    gateway: StripeGateway, client: stripe.StripeClient
) -> None:
    card = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4000000000000341", "exp_month": 12, "exp_year": 2030, "cvc": "123"},
        }
    )
    start = gateway.start_payment(payment("PUR-1"))
    with pytest.raises(stripe.CardError):
        pay(client, start.gateway_reference, card.id)
    observation = gateway.lookup("PUR-1", start.gateway_reference)
    assert observation is not None
    assert (observation.outcome, observation.provider_code) == (
        PaymentOutcome.FAILED,
        "card_declined",
    )


def test_cancel_before_payment(gateway: StripeGateway) -> None:
    start = gateway.start_payment(payment("PUR-1"))
    observation = gateway.cancel(start.gateway_reference, "pur_PUR-1:cancel")
    assert observation.outcome is PaymentOutcome.CANCELLED
    looked_up = gateway.lookup("PUR-1", start.gateway_reference)
    assert looked_up is not None
    assert looked_up.outcome is PaymentOutcome.CANCELLED


def test_cancel_after_payment_reports_the_capture(
    gateway: StripeGateway, client: stripe.StripeClient
) -> None:
    start = gateway.start_payment(payment("PUR-1"))
    pay(client, start.gateway_reference)
    observation = gateway.cancel(start.gateway_reference, "pur_PUR-1:cancel")
    assert observation.outcome is PaymentOutcome.SUCCEEDED


def test_partial_and_full_refunds(gateway: StripeGateway, client: stripe.StripeClient) -> None:
    first = gateway.start_payment(payment("PUR-1"))
    pay(client, first.gateway_reference)
    partial = gateway.refund(refund(first.gateway_reference, "5.00"))
    assert partial.status is RefundStatus.SUCCEEDED
    stored = client.v1.refunds.retrieve(partial.gateway_refund_reference)
    assert (stored.amount, stored.to_dict()["metadata"]["refund_id"]) == (500, "rfd_1")

    second = gateway.start_payment(payment("PUR-2", "30.00"))
    pay(client, second.gateway_reference)
    full = gateway.refund(refund(second.gateway_reference, "30.00", full=True, n=2))
    assert full.status is RefundStatus.SUCCEEDED
    assert client.v1.refunds.retrieve(full.gateway_refund_reference).amount == 3000


def test_unknown_intent_lookup_is_none(gateway: StripeGateway) -> None:
    assert gateway.lookup("PUR-1", "pi_never_created") is None


# -- webhooks --------------------------------------------------------------------------------------


@dataclass
class Receiver:
    url: str
    deliveries: list[tuple[dict[str, str], bytes]]

    def notifications(self, gateway: StripeGateway) -> list[Notification]:
        return [gateway.verify_notification(h, b) for h, b in list(self.deliveries)]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A tiny webhook endpoint that records what localstripe POSTs to it."""
    deliveries: list[tuple[dict[str, str], bytes]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            deliveries.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield Receiver(f"http://127.0.0.1:{server.server_port}/v1/webhooks/stripe", deliveries)
    finally:
        server.shutdown()
        server.server_close()


def test_localstripe_webhooks_pass_verify_notification(
    localstripe: str, receiver: Receiver, gateway: StripeGateway, client: stripe.StripeClient
) -> None:
    requests.post(
        localstripe + "/_config/webhooks/payments-tests",
        json={
            "url": receiver.url,
            "secret": SECRET,
            "events": ["payment_intent.succeeded", "payment_intent.payment_failed"],
        },
        timeout=5,
    ).raise_for_status()
    paid = gateway.start_payment(payment("PUR-1"))
    declined = gateway.start_payment(payment("PUR-2"))
    pay(client, paid.gateway_reference)
    with pytest.raises(stripe.CardError):
        pay(client, declined.gateway_reference, "pm_card_chargeCustomerFail")

    def ours() -> dict[str, Notification]:
        mine = (paid.gateway_reference, declined.gateway_reference)
        found = {}
        for notification in receiver.notifications(gateway):
            if notification.payment and notification.payment.gateway_reference in mine:
                found[notification.payment.gateway_reference] = notification
        return found

    wait_until(lambda: len(ours()) == 2, 10, "localstripe to deliver both events")
    succeeded = ours()[paid.gateway_reference]
    assert succeeded.event_type == "payment_intent.succeeded"
    assert succeeded.event_id.startswith("evt_")
    assert succeeded.payment is not None
    assert succeeded.payment.outcome is PaymentOutcome.SUCCEEDED
    assert succeeded.payment.reference == "PUR-1"
    assert succeeded.payment.amount == Money("19.99", "EUR")
    failed = ours()[declined.gateway_reference]
    assert failed.payment is not None
    assert failed.payment.outcome is PaymentOutcome.FAILED
    assert failed.payment.provider_code == "card_declined"
    assert failed.payment.reference == "PUR-2"


# -- the whole service, configured for Stripe, against localstripe ------------------------------


PACKAGE = {
    "name": "8 Hour Premium Package",
    "kind": "package",
    "price": {"amount": "79.99", "currency": "EUR"},
    "credits": "8",
    "validity_days": 60,
}


@contextmanager
def _service_against(
    localstripe: str, sqlite_engine: Engine, *, localstripe_webhook: bool
) -> Iterator[RunningService]:
    env = {
        "PAYMENTS_DATABASE_URL": sqlite_engine.url.render_as_string(hide_password=False),
        "PAYMENTS_STRIPE_SECRET_KEY": KEY,
        "PAYMENTS_STRIPE_WEBHOOK_SECRET": SECRET,
        "PAYMENTS_STRIPE_API_BASE": localstripe,
        "PAYMENTS_STRIPE_API_VERSION": "2020-08-27",  # localstripe's; before allowed_* existed
    }
    with running_service(env) as service:
        if localstripe_webhook:
            requests.post(
                localstripe + "/_config/webhooks/payments-service",
                json={"url": service.base_url + "/v1/webhooks/stripe", "secret": SECRET},
                timeout=5,
            ).raise_for_status()
        yield service


@pytest.fixture
def stripe_service(localstripe: str, sqlite_engine: Engine) -> Iterator[RunningService]:
    """The real container routing every market to Stripe, with localstripe as Stripe, which
    delivers its own webhooks to the service."""
    with _service_against(localstripe, sqlite_engine, localstripe_webhook=True) as service:
        yield service


@pytest.fixture
def quiet_stripe_service(localstripe: str, sqlite_engine: Engine) -> Iterator[RunningService]:
    """The same, but localstripe delivers no webhooks: only our sandbox actions send events."""
    with _service_against(localstripe, sqlite_engine, localstripe_webhook=False) as service:
        yield service


def _purchase(service: RunningService, admin: str, customer: str) -> dict[str, Any]:
    product = service.call("POST", "/v1/products", admin, PACKAGE)
    assert product.status_code == 201, product.text
    created = service.call(
        "POST",
        "/v1/purchases",
        admin,
        {"product_id": product.json()["id"], "customer_id": customer, "country": "ES"},
    )
    assert created.status_code == 201, created.text
    purchase: dict[str, Any] = created.json()
    assert purchase["gateway"] == "stripe"
    assert purchase["gateway_reference"].startswith("pi_")
    assert purchase["next_action"]["type"] == "client_secret"
    return purchase


def _settled(service: RunningService, admin: str, purchase_id: str) -> dict[str, Any]:
    def current() -> dict[str, Any]:
        answer: dict[str, Any] = service.call("GET", f"/v1/purchases/{purchase_id}", admin).json()
        return answer

    wait_until(lambda: current()["status"] not in ("pending", "processing"), 15, "a webhook")
    return current()


def test_localstripe_webhook_completes_the_purchase_and_credits_once(
    stripe_service: RunningService, client: stripe.StripeClient
) -> None:
    admin = stripe_service.admin_key()
    purchase = _purchase(stripe_service, admin, "cus_ls")

    pay(client, purchase["gateway_reference"])

    settled = _settled(stripe_service, admin, purchase["id"])
    assert settled["status"] == "completed"
    account = stripe_service.call("GET", "/v1/accounts/cus_ls", admin).json()
    assert account["credits"] == "8.00"
    assert account["total_paid"] == [{"amount": "79.99", "currency": "EUR"}]
    intent = client.v1.payment_intents.retrieve(purchase["gateway_reference"])
    assert intent.amount == 7999
    assert intent.metadata["purchase_reference"] == purchase["reference"]


def test_localstripe_decline_leaves_the_purchase_failed_with_the_card_code(
    stripe_service: RunningService, client: stripe.StripeClient
) -> None:
    admin = stripe_service.admin_key()
    purchase = _purchase(stripe_service, admin, "cus_ls_declined")
    method = client.v1.payment_methods.create(
        params={
            "type": "card",
            "card": {"number": "4000000000000341", "exp_month": 12, "exp_year": 2034, "cvc": "123"},
        }
    )

    with pytest.raises(stripe.CardError):
        pay(client, purchase["gateway_reference"], method.id)

    settled = _settled(stripe_service, admin, purchase["id"])
    assert settled["status"] == "failed"
    assert settled["failure_code"] == "card_declined"
    account = stripe_service.call("GET", "/v1/accounts/cus_ls_declined", admin).json()
    assert account["credits"] == "0.00"


# -- sandbox actions against localstripe, through the service ----------------------------------


def _act(service: RunningService, admin: str, purchase_id: str, action: str) -> Any:
    return service.call("POST", f"/v1/sandbox/purchases/{purchase_id}/{action}", admin)


def _inbox(sqlite_engine: Engine) -> list[tuple[str, str]]:
    with sqlite_engine.connect() as connection:
        rows = connection.execute(
            select(webhook_inbox.c.event_id, webhook_inbox.c.status).order_by(
                webhook_inbox.c.received_at
            )
        ).all()
    return [(row.event_id, row.status) for row in rows]


def test_sandbox_approve_pays_at_localstripe_and_delivers_a_signed_event(
    quiet_stripe_service: RunningService, client: stripe.StripeClient, sqlite_engine: Engine
) -> None:
    service = quiet_stripe_service
    admin = service.admin_key()
    purchase = _purchase(service, admin, "cus_sandbox_ok")

    answer = _act(service, admin, purchase["id"], "approve")

    assert answer.status_code == 200, answer.text
    result = answer.json()["result"]
    assert (result["type"], result["delivered_status"]) == ("payment_intent.succeeded", 200)
    assert answer.json()["purchase"]["status"] == "completed"
    intent = client.v1.payment_intents.retrieve(purchase["gateway_reference"])
    assert intent.status == "succeeded"  # paid at localstripe, not in a simulator of ours
    account = service.call("GET", "/v1/accounts/cus_sandbox_ok", admin).json()
    assert account["credits"] == "8.00"
    assert account["total_paid"] == [{"amount": "79.99", "currency": "EUR"}]
    assert _inbox(sqlite_engine) == [(result["event_id"], "processed")]
    sent = service.container.sandbox().stripe_actions.sent
    assert [event.event_id for event in sent] == [result["event_id"]]
    # Stripe's own verification accepts what we delivered.
    stripe.Webhook.construct_event(
        sent[0].body.decode(), sent[0].headers["Stripe-Signature"], SECRET
    )


def test_sandbox_approve_with_localstripes_own_delivery_credits_once(
    stripe_service: RunningService, sqlite_engine: Engine
) -> None:
    admin = stripe_service.admin_key()
    purchase = _purchase(stripe_service, admin, "cus_sandbox_twice")

    answer = _act(stripe_service, admin, purchase["id"], "approve")

    assert answer.status_code == 200, answer.text
    ours = answer.json()["result"]["event_id"]
    wait_until(lambda: len(_inbox(sqlite_engine)) == 2, 10, "localstripe's own delivery")
    theirs = [entry for entry in _inbox(sqlite_engine) if entry[0] != ours]
    assert len(theirs) == 1 and theirs[0][0].startswith("evt_")
    account = stripe_service.call("GET", "/v1/accounts/cus_sandbox_twice", admin).json()
    assert account["credits"] == "8.00"
    assert account["total_paid"] == [{"amount": "79.99", "currency": "EUR"}]


def test_sandbox_decline_fails_the_purchase_with_the_card_code(
    quiet_stripe_service: RunningService, client: stripe.StripeClient
) -> None:
    service = quiet_stripe_service
    admin = service.admin_key()
    purchase = _purchase(service, admin, "cus_sandbox_declined")

    answer = _act(service, admin, purchase["id"], "decline")

    assert answer.status_code == 200, answer.text
    assert answer.json()["result"]["type"] == "payment_intent.payment_failed"
    settled = answer.json()["purchase"]
    assert (settled["status"], settled["failure_code"]) == ("failed", "card_declined")
    intent = client.v1.payment_intents.retrieve(purchase["gateway_reference"])
    assert intent.to_dict()["last_payment_error"]["code"] == "card_declined"
    account = service.call("GET", "/v1/accounts/cus_sandbox_declined", admin).json()
    assert account["credits"] == "0.00"


def test_sandbox_expire_cancels_the_intent_at_localstripe(
    quiet_stripe_service: RunningService, client: stripe.StripeClient
) -> None:
    service = quiet_stripe_service
    admin = service.admin_key()
    purchase = _purchase(service, admin, "cus_sandbox_expired")

    answer = _act(service, admin, purchase["id"], "expire")

    assert answer.status_code == 200, answer.text
    assert answer.json()["result"]["type"] == "payment_intent.canceled"
    assert answer.json()["purchase"]["status"] == "cancelled"
    assert client.v1.payment_intents.retrieve(purchase["gateway_reference"]).status == "canceled"

    again = _act(service, admin, purchase["id"], "approve")  # localstripe refuses: 409
    assert again.status_code == 409, again.text
    assert again.json()["code"] == "invalid_transition"


# -- cancel and refunds against localstripe, through the service's HTTP API ---------------------


def test_cancel_through_the_service_cancels_the_intent_at_localstripe(
    quiet_stripe_service: RunningService, client: stripe.StripeClient
) -> None:
    service = quiet_stripe_service
    admin = service.admin_key()
    purchase = _purchase(service, admin, "cus_cancels")

    answer = service.call("POST", f"/v1/purchases/{purchase['id']}/cancel", admin)

    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "cancelled"
    assert client.v1.payment_intents.retrieve(purchase["gateway_reference"]).status == "canceled"


def test_partial_then_full_refund_through_the_service_at_localstripe(
    quiet_stripe_service: RunningService, client: stripe.StripeClient
) -> None:
    service = quiet_stripe_service
    admin = service.admin_key()
    purchase = _purchase(service, admin, "cus_refunds")
    assert _act(service, admin, purchase["id"], "approve").json()["purchase"]["status"] == (
        "completed"
    )
    refunds_path = f"/v1/purchases/{purchase['id']}/refunds"

    partial = service.call(
        "POST", refunds_path, admin, {"amount": {"amount": "20.00", "currency": "EUR"}}
    )

    assert partial.status_code == 201, partial.text
    assert partial.json()["status"] == "succeeded"  # settled from localstripe's answer
    after_partial = service.call("GET", f"/v1/purchases/{purchase['id']}", admin).json()
    assert after_partial["status"] == "partially_refunded"

    rest = service.call("POST", refunds_path, admin)

    assert rest.status_code == 201, rest.text
    assert rest.json()["amount"] == {"amount": "59.99", "currency": "EUR"}
    assert rest.json()["status"] == "succeeded"
    after_full = service.call("GET", f"/v1/purchases/{purchase['id']}", admin).json()
    assert after_full["status"] == "refunded"
    account = service.call("GET", "/v1/accounts/cus_refunds", admin).json()
    assert account["credits"] == "0.00"
    at_stripe = [
        client.v1.refunds.retrieve(answer.json()["gateway_reference"]) for answer in (partial, rest)
    ]
    assert [(r.amount, r.payment_intent) for r in at_stripe] == [
        (2000, purchase["gateway_reference"]),
        (5999, purchase["gateway_reference"]),
    ]
