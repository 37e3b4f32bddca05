"""The real sandbox gateway over loopback HTTP against the simulator, as sandbox mode runs it."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import requests
import responses

from payments.adapters.gateways.sandbox import SandboxGateway
from payments.domain.errors import (
    GatewayConfigurationError,
    GatewayUnavailableError,
    IdempotencyConflictError,
    InvalidTransitionError,
    NotFoundError,
    PaymentDeclinedError,
    RefundExceedsCapturedError,
    ValidationError,
)
from payments.domain.gateway import Notification, Payer, PaymentRequest, RefundRequest
from payments.domain.money import Money
from payments.domain.purchase import (
    ClientSecretAction,
    ObservationSource,
    PaymentOutcome,
    Purchase,
    RedirectAction,
    RoutingDecision,
)
from payments.domain.refund import RefundStatus
from payments.entrypoints.wsgi_dispatch import PathDispatcher
from payments.sandbox.controller import SimulatorSandbox
from payments.sandbox.gateway_simulator import SandboxSimulator, http_deliverer
from tests.contract.loopback import serving

SECRET = "sandbox_test_secret"
PREFIX = "/sandbox/gateway"
AUTH = {"Authorization": f"Bearer {SECRET}"}


def not_found(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("404 Not Found", [("Content-Type", "text/plain")])
    return [b"not found"]


class RecordingReceiver:
    """Stands in for our webhook endpoint: records each delivery and answers 200."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str], bytes]] = []

    def __call__(self, path: str, headers: dict[str, str], body: bytes) -> int:
        self.received.append((path, headers, body))
        return 200


@dataclass
class Sandbox:
    simulator: SandboxSimulator
    receiver: RecordingReceiver
    gateway: SandboxGateway
    base_url: str
    session: requests.Session

    def last_notification(self) -> Notification:
        """What our webhook endpoint would make of the last delivery (names lower-cased)."""
        path, headers, body = self.receiver.received[-1]
        assert path == "/v1/webhooks/sandbox"
        lowered = {name.lower(): value for name, value in headers.items()}
        return self.gateway.verify_notification(lowered, body)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    receiver = RecordingReceiver()
    simulator = SandboxSimulator(SECRET, receiver)
    app = PathDispatcher(not_found, {PREFIX: simulator.wsgi_app()})
    with serving(app) as root, requests.Session() as session:
        base_url = root + PREFIX
        gateway = SandboxGateway(session, base_url, SECRET, timeout=5.0, sleep=lambda _: None)
        yield Sandbox(simulator, receiver, gateway, base_url, session)


def payment_request(
    reference: str = "ref_001",
    *,
    method: str | None = "card",
    amount: Money | None = None,
    key: str | None = None,
    email: str = "ana@example.com",
) -> PaymentRequest:
    return PaymentRequest(
        purchase_id=f"pur_{reference}",
        reference=reference,
        amount=amount or Money("79.99", "EUR"),
        description="8 Hour Premium Package",
        payer=Payer("cus_1", email, "Ana"),
        country="CO",
        payment_method=method,
        idempotency_key=key or f"pur_{reference}:start:0",
        return_url="https://shop.example/done",
        metadata={"purchase_id": f"pur_{reference}"},
    )


def refund_request(payment_id: str, amount: Money, refund_id: str) -> RefundRequest:
    return RefundRequest(
        refund_id=refund_id,
        purchase_reference="ref_001",
        gateway_reference=payment_id,
        amount=amount,
        full=False,
        reason="requested_by_customer",
        idempotency_key=f"{refund_id}:refund",
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# -- starting a payment --------------------------------------------------------------------------


def test_card_payment_starts_with_the_simulators_client_secret(sandbox: Sandbox) -> None:
    start = sandbox.gateway.start_payment(payment_request())
    payment = sandbox.simulator.payments[start.gateway_reference]
    assert start.next_action == ClientSecretAction(payment.client_secret)
    assert start.observation is not None
    assert start.observation.outcome is PaymentOutcome.PROCESSING
    assert start.observation.reference == "ref_001"
    assert start.observation.amount == Money("79.99", "EUR")
    assert payment.amount == Money("79.99", "EUR")


@pytest.mark.parametrize("method", ["pse", "bank_transfer"])
def test_bank_payment_redirects_to_the_simulators_checkout_page(
    sandbox: Sandbox, method: str
) -> None:
    start = sandbox.gateway.start_payment(payment_request(method=method))
    assert isinstance(start.next_action, RedirectAction)
    url = start.next_action.url
    assert url == f"{sandbox.base_url}/checkout/{start.gateway_reference}"
    page = requests.get(url, timeout=5)
    assert page.status_code == 200
    assert "79.99 EUR" in page.text


def test_repeated_start_with_the_same_key_returns_the_same_payment(sandbox: Sandbox) -> None:
    first = sandbox.gateway.start_payment(payment_request())
    again = sandbox.gateway.start_payment(payment_request())
    assert again.gateway_reference == first.gateway_reference
    assert again.next_action == first.next_action
    assert len(sandbox.simulator.payments) == 1


def test_replayed_answer_is_marked_replayed(sandbox: Sandbox) -> None:
    body = {
        "reference": "ref_raw",
        "amount": {"amount": "10.00", "currency": "USD"},
        "country": "US",
    }
    headers = {"Idempotency-Key": "raw-key-1", **AUTH}
    url = f"{sandbox.base_url}/v1/payments"
    first = requests.post(url, json=body, headers=headers, timeout=5)
    second = requests.post(url, json=body, headers=headers, timeout=5)
    assert first.status_code == second.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json() == first.json()


def test_same_key_with_another_body_is_an_idempotency_conflict(sandbox: Sandbox) -> None:
    sandbox.gateway.start_payment(payment_request(key="shared-key"))
    with pytest.raises(IdempotencyConflictError):
        sandbox.gateway.start_payment(
            payment_request(key="shared-key", amount=Money("80.00", "EUR"))
        )


def test_float_amount_is_refused_by_the_simulator(sandbox: Sandbox) -> None:
    body = {"reference": "ref_float", "amount": {"amount": 79.99, "currency": "EUR"}}
    answer = requests.post(f"{sandbox.base_url}/v1/payments", json=body, headers=AUTH, timeout=5)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "amount_invalid"


# -- authentication ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization", [None, "Bearer not-the-secret", f"Basic {SECRET}", f"Bearer {SECRET}x", SECRET]
)
def test_simulator_refuses_callers_without_the_secret(
    sandbox: Sandbox, authorization: str | None
) -> None:
    payment = sandbox.gateway.start_payment(payment_request())
    sandbox.simulator.approve(payment.gateway_reference)
    headers = {"Idempotency-Key": "refund-1"}
    if authorization is not None:
        headers["Authorization"] = authorization
    calls = [
        ("POST", "/v1/refunds", {"payment": payment.gateway_reference}),
        ("POST", f"/v1/payments/{payment.gateway_reference}/cancel", {}),
        ("POST", "/v1/payments", {"reference": "ref_x", "country": "CO"}),
        ("GET", "/v1/payments?reference=ref_001", None),
    ]

    for method, path, body in calls:
        answer = requests.request(
            method, sandbox.base_url + path, json=body, headers=headers, timeout=5
        )
        assert answer.status_code == 401, (path, answer.text)
        assert answer.json()["error"]["type"] == "authentication_error"
        assert answer.headers["WWW-Authenticate"] == "Bearer"

    assert sandbox.simulator.refunds == {}
    assert sandbox.simulator.payments[payment.gateway_reference].status == "succeeded"
    assert len(sandbox.simulator.payments) == 1


def test_gateway_with_another_secret_is_refused_as_misconfigured(sandbox: Sandbox) -> None:
    intruder = SandboxGateway(
        sandbox.session, sandbox.base_url, "someone_elses_secret", sleep=lambda _: None
    )

    with pytest.raises(GatewayConfigurationError):
        intruder.start_payment(payment_request())
    assert sandbox.simulator.payments == {}


def test_checkout_page_needs_no_credentials(sandbox: Sandbox) -> None:
    start = sandbox.gateway.start_payment(payment_request(method="pse"))
    assert isinstance(start.next_action, RedirectAction)

    page = requests.get(start.next_action.url, timeout=5)

    assert page.status_code == 200
    assert start.gateway_reference in page.text


def test_concurrent_starts_with_one_key_create_one_payment(sandbox: Sandbox) -> None:
    ids: list[str] = []

    def start() -> None:
        ids.append(sandbox.gateway.start_payment(payment_request()).gateway_reference)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 1
    assert len(sandbox.simulator.payments) == 1


def test_instant_decline_raises_with_the_decline_code(sandbox: Sandbox) -> None:
    with pytest.raises(PaymentDeclinedError) as declined:
        sandbox.gateway.start_payment(payment_request(email="decline+insufficient_funds@x.test"))
    assert declined.value.provider_code == "insufficient_funds"
    assert declined.value.details["gateway_reference"] in sandbox.simulator.payments
    with pytest.raises(PaymentDeclinedError):  # the decline is replayed, not re-run
        sandbox.gateway.start_payment(payment_request(email="decline+insufficient_funds@x.test"))
    assert len(sandbox.simulator.payments) == 1


def test_instant_approval_is_reported_in_the_answer(sandbox: Sandbox) -> None:
    start = sandbox.gateway.start_payment(payment_request(email="approve@x.test"))
    assert start.observation is not None
    assert start.observation.outcome is PaymentOutcome.SUCCEEDED
    assert start.next_action is None


# -- simulator actions and their notifications ---------------------------------------------------


def test_approval_notification_completes_our_reference_with_our_amount(sandbox: Sandbox) -> None:
    start = sandbox.gateway.start_payment(payment_request())
    summary = sandbox.simulator.approve(start.gateway_reference)
    assert summary["type"] == "payment.succeeded"
    assert summary["delivered_status"] == 200
    notification = sandbox.last_notification()
    assert notification.event_id == summary["event_id"]
    observation = notification.payment
    assert observation is not None
    assert observation.outcome is PaymentOutcome.SUCCEEDED
    assert observation.source is ObservationSource.NOTIFICATION
    assert observation.reference == "ref_001"
    assert observation.gateway_reference == start.gateway_reference
    assert observation.amount == Money("79.99", "EUR")


def test_decline_notification_fails_with_the_decline_code(sandbox: Sandbox) -> None:
    start = sandbox.gateway.start_payment(payment_request())
    sandbox.simulator.decline(start.gateway_reference, code="insufficient_funds")
    observation = sandbox.last_notification().payment
    assert observation is not None
    assert observation.outcome is PaymentOutcome.FAILED
    assert observation.provider_code == "insufficient_funds"


def test_expiry_notification_expires_the_payment(sandbox: Sandbox) -> None:
    start = sandbox.gateway.start_payment(payment_request(method="pse"))
    sandbox.simulator.expire(start.gateway_reference)
    observation = sandbox.last_notification().payment
    assert observation is not None
    assert observation.outcome is PaymentOutcome.EXPIRED


def test_captured_payment_cannot_be_declined(sandbox: Sandbox) -> None:
    start = sandbox.gateway.start_payment(payment_request())
    sandbox.simulator.approve(start.gateway_reference)
    with pytest.raises(InvalidTransitionError):
        sandbox.simulator.decline(start.gateway_reference)
    with pytest.raises(NotFoundError):
        sandbox.simulator.approve("pay_unknown")


def test_redelivered_event_is_a_true_duplicate(sandbox: Sandbox) -> None:
    start = sandbox.gateway.start_payment(payment_request())
    first = sandbox.simulator.approve(start.gateway_reference)
    again = sandbox.simulator.redeliver(str(first["event_id"]))
    assert again["event_id"] == first["event_id"]
    assert sandbox.receiver.received[-1][2] == sandbox.receiver.received[-2][2]
    assert sandbox.last_notification().event_id == first["event_id"]


# -- cancel, refunds, lookup ---------------------------------------------------------------------


def test_cancel_returns_the_cancelled_payment(sandbox: Sandbox) -> None:
    start = sandbox.gateway.start_payment(payment_request())
    observation = sandbox.gateway.cancel(start.gateway_reference, "pur_ref_001:cancel")
    assert observation.outcome is PaymentOutcome.CANCELLED
    assert observation.gateway_reference == start.gateway_reference
    sandbox.simulator.notify_payment(start.gateway_reference)
    notification = sandbox.last_notification()
    assert notification.event_type == "payment.cancelled"
    assert notification.payment is not None
    assert notification.payment.outcome is PaymentOutcome.CANCELLED


def test_cancel_of_a_captured_payment_reports_the_capture(sandbox: Sandbox) -> None:
    start = sandbox.gateway.start_payment(payment_request())
    sandbox.simulator.approve(start.gateway_reference)
    observation = sandbox.gateway.cancel(start.gateway_reference, "pur_ref_001:cancel")
    assert observation.outcome is PaymentOutcome.SUCCEEDED


def test_cancel_of_an_unknown_payment_is_not_found(sandbox: Sandbox) -> None:
    with pytest.raises(NotFoundError):
        sandbox.gateway.cancel("pay_unknown", "k")


def test_partial_then_full_refund_and_its_notification(sandbox: Sandbox) -> None:
    start = sandbox.gateway.start_payment(payment_request())
    sandbox.simulator.approve(start.gateway_reference)
    partial = sandbox.gateway.refund(
        refund_request(start.gateway_reference, Money("30.00", "EUR"), "rfd_1")
    )
    assert partial.status is RefundStatus.SUCCEEDED
    repeated = sandbox.gateway.refund(
        refund_request(start.gateway_reference, Money("30.00", "EUR"), "rfd_1")
    )
    assert repeated.gateway_refund_reference == partial.gateway_refund_reference
    rest = sandbox.gateway.refund(
        refund_request(start.gateway_reference, Money("49.99", "EUR"), "rfd_2")
    )
    assert rest.status is RefundStatus.SUCCEEDED
    payment = sandbox.simulator.payments[start.gateway_reference]
    assert payment.amount_refunded == Money("79.99", "EUR")
    with pytest.raises(RefundExceedsCapturedError):  # nothing is left: the provider refuses
        sandbox.gateway.refund(
            refund_request(start.gateway_reference, Money("0.01", "EUR"), "rfd_3")
        )

    sandbox.simulator.notify_refund(rest.gateway_refund_reference)
    notification = sandbox.last_notification()
    assert notification.event_type == "refund.succeeded"
    refund = notification.refund
    assert refund is not None
    assert refund.gateway_refund_reference == rest.gateway_refund_reference
    assert refund.gateway_payment_reference == start.gateway_reference
    assert refund.refund_id == "rfd_2"
    assert refund.amount == Money("49.99", "EUR")
    assert refund.status is RefundStatus.SUCCEEDED


def test_refund_of_an_uncaptured_payment_is_refused(sandbox: Sandbox) -> None:
    start = sandbox.gateway.start_payment(payment_request())
    with pytest.raises(InvalidTransitionError):
        sandbox.gateway.refund(
            refund_request(start.gateway_reference, Money("1.00", "EUR"), "rfd_1")
        )


def test_lookup_by_reference_sees_the_capture(sandbox: Sandbox) -> None:
    start = sandbox.gateway.start_payment(payment_request())
    pending = sandbox.gateway.lookup("ref_001", start.gateway_reference)
    assert pending is not None
    assert pending.outcome is PaymentOutcome.PROCESSING
    sandbox.simulator.approve(start.gateway_reference)
    captured = sandbox.gateway.lookup("ref_001", None)
    assert captured is not None
    assert captured.outcome is PaymentOutcome.SUCCEEDED
    assert captured.source is ObservationSource.LOOKUP
    assert captured.gateway_reference == start.gateway_reference
    assert captured.amount == Money("79.99", "EUR")
    assert sandbox.simulator.find_by_reference("ref_001") is not None


def test_lookup_of_an_unknown_reference_is_none(sandbox: Sandbox) -> None:
    assert sandbox.gateway.lookup("ref_never_sent", None) is None
    assert sandbox.simulator.find_by_reference("ref_never_sent") is None


# -- failures and retries ------------------------------------------------------------------------


@responses.activate
def test_server_error_is_retried_with_the_same_idempotency_key() -> None:
    url = "http://sandbox.test/v1/payments"
    created = {
        "id": "pay_1",
        "reference": "ref_001",
        "status": "pending",
        "amount": {"amount": "79.99", "currency": "EUR"},
        "payment_method": "card",
        "client_secret": "pay_1_secret_x",
        "checkout_url": "http://sandbox.test/checkout/pay_1",
        "decline_code": None,
    }
    responses.add(responses.POST, url, status=503, json={"error": {"code": "unavailable"}})
    responses.add(responses.POST, url, status=201, json=created)
    pauses: list[float] = []
    gateway = SandboxGateway(requests.Session(), "http://sandbox.test", SECRET, sleep=pauses.append)
    start = gateway.start_payment(payment_request())
    assert start.gateway_reference == "pay_1"
    assert len(responses.calls) == 2
    keys = {call.request.headers["Idempotency-Key"] for call in responses.calls}
    assert keys == {"pur_ref_001:start:0"}
    assert responses.calls[0].request.body == responses.calls[1].request.body
    assert {call.request.headers["Authorization"] for call in responses.calls} == {
        f"Bearer {SECRET}"
    }
    assert len(pauses) == 1
    assert 0 < pauses[0] <= 0.2


@responses.activate
def test_read_timeout_after_every_attempt_may_have_charged() -> None:
    url = "http://sandbox.test/v1/payments"
    responses.add(responses.POST, url, body=requests.exceptions.ReadTimeout())
    gateway = SandboxGateway(
        requests.Session(), "http://sandbox.test", SECRET, sleep=lambda _: None
    )
    with pytest.raises(GatewayUnavailableError) as unavailable:
        gateway.start_payment(payment_request())
    assert unavailable.value.charged_possible is True
    assert isinstance(unavailable.value.__cause__, requests.exceptions.ReadTimeout)
    assert len(responses.calls) == 3


@responses.activate
def test_rejected_credentials_are_not_retried() -> None:
    url = "http://sandbox.test/v1/payments"
    responses.add(responses.POST, url, status=401, json={"error": {"code": "unauthorized"}})
    gateway = SandboxGateway(
        requests.Session(), "http://sandbox.test", SECRET, sleep=lambda _: None
    )
    with pytest.raises(GatewayConfigurationError):
        gateway.start_payment(payment_request())
    assert len(responses.calls) == 1


def test_unreachable_gateway_is_unavailable_and_proves_no_charge() -> None:
    base_url = f"http://127.0.0.1:{free_port()}{PREFIX}"
    gateway = SandboxGateway(requests.Session(), base_url, SECRET, timeout=2, sleep=lambda _: None)
    with pytest.raises(GatewayUnavailableError) as unavailable:
        gateway.start_payment(payment_request())
    assert unavailable.value.charged_possible is False
    assert isinstance(unavailable.value.__cause__, requests.ConnectionError)


# -- delivering notifications over HTTP ----------------------------------------------------------


@responses.activate
def test_http_deliverer_posts_the_raw_signed_body() -> None:
    responses.add(responses.POST, "http://api.test/v1/webhooks/sandbox", status=200)
    deliver = http_deliverer("http://api.test/", requests.Session())
    status = deliver("/v1/webhooks/sandbox", {"Sandbox-Signature": "t=1,v1=ab"}, b'{"id":"e"}')
    assert status == 200
    sent = responses.calls[0].request
    assert sent.body == b'{"id":"e"}'
    assert sent.headers["Sandbox-Signature"] == "t=1,v1=ab"


def test_http_deliverer_reports_an_unreachable_receiver_as_status_0() -> None:
    deliver = http_deliverer(f"http://127.0.0.1:{free_port()}", requests.Session(), timeout=2)
    assert deliver("/v1/webhooks/sandbox", {}, b"{}") == 0


def test_simulator_delivers_to_a_real_webhook_endpoint_over_http(sandbox: Sandbox) -> None:
    received: list[Notification] = []

    def webhook(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        received.append(sandbox.gateway.verify_notification(headers, body))
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"status": "processed"}']

    with serving(webhook) as api_url:
        simulator = SandboxSimulator(SECRET, http_deliverer(api_url, sandbox.session))
        with serving(simulator.wsgi_app()) as simulator_url:
            gateway = SandboxGateway(sandbox.session, simulator_url, SECRET)
            start = gateway.start_payment(payment_request())
            summary = simulator.approve(start.gateway_reference)
    assert summary["delivered_status"] == 200
    assert len(received) == 1
    assert received[0].payment is not None
    assert received[0].payment.outcome is PaymentOutcome.SUCCEEDED


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
        country="CO",
        payment_method="card",
        routing=RoutingDecision((gateway,), "test"),
        now=now,
    )
    if gateway_reference is not None:
        purchase.start_at_gateway(gateway, gateway_reference, None, now)
    return purchase


def controller_for(simulator: SandboxSimulator) -> SimulatorSandbox:
    controller = SimulatorSandbox()
    controller.register(
        "sandbox",
        approve=lambda ref, _our: simulator.approve(ref),
        decline=lambda ref, _our: simulator.decline(ref),
        expire=lambda ref, _our: simulator.expire(ref),
    )
    return controller


def test_controller_approves_the_purchases_payment_at_its_simulator(sandbox: Sandbox) -> None:
    start = sandbox.gateway.start_payment(payment_request())
    controller = controller_for(sandbox.simulator)
    result = controller.act(started_purchase("sandbox", start.gateway_reference), "approve")
    assert result["purchase_id"] == "pur_1"
    assert result["action"] == "approve"
    assert result["type"] == "payment.succeeded"
    assert result["delivered_status"] == 200
    assert sandbox.simulator.payments[start.gateway_reference].status == "succeeded"


def test_controller_refuses_an_unknown_action(sandbox: Sandbox) -> None:
    controller = controller_for(sandbox.simulator)
    with pytest.raises(ValidationError):
        controller.act(started_purchase("sandbox", "pay_1"), "refund")


def test_controller_refuses_a_purchase_without_a_gateway_reference(sandbox: Sandbox) -> None:
    controller = controller_for(sandbox.simulator)
    with pytest.raises(ValidationError):
        controller.act(started_purchase("sandbox", None), "approve")


def test_controller_has_no_simulator_for_an_unregistered_gateway(sandbox: Sandbox) -> None:
    controller = controller_for(sandbox.simulator)
    with pytest.raises(NotFoundError):
        controller.act(started_purchase("payu", "4000"), "approve")


def test_controller_passes_on_a_forbidden_transition(sandbox: Sandbox) -> None:
    start = sandbox.gateway.start_payment(payment_request())
    controller = controller_for(sandbox.simulator)
    purchase = started_purchase("sandbox", start.gateway_reference)
    controller.act(purchase, "approve")
    with pytest.raises(InvalidTransitionError):
        controller.act(purchase, "expire")


def test_pse_banks_come_from_the_simulator_over_http(sandbox: Sandbox) -> None:
    banks = sandbox.gateway.banks("CO")
    assert [bank.code for bank in banks] == ["1", "2", "1007", "1051"]
    assert all(bank.name for bank in banks)
    assert sandbox.gateway.banks("MX") == []


def test_a_pse_payment_carries_the_chosen_bank_and_the_payers_document(sandbox: Sandbox) -> None:
    request = replace(
        payment_request("ref_pse", method="pse"),
        bank_code="1007",
        payer=Payer(
            "cus_1",
            "ana@example.com",
            "Ana",
            document_type="CC",
            document_number="1020304050",
            person_type="natural",
            ip_address="203.0.113.7",
        ),
    )
    start = sandbox.gateway.start_payment(request)
    assert sandbox.simulator.payments[start.gateway_reference].bank == "1007"


def test_a_pse_bank_the_provider_does_not_know_is_refused(sandbox: Sandbox) -> None:
    request = replace(payment_request("ref_pse_bad", method="pse"), bank_code="9999")
    with pytest.raises(ValidationError) as refused:
        sandbox.gateway.start_payment(request)
    assert [e.field for e in refused.value.errors] == ["bank_code"]
    assert not [p for p in sandbox.simulator.payments.values() if p.reference == "ref_pse_bad"]
