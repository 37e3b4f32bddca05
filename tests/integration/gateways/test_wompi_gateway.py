"""WompiGateway over loopback HTTP against the Wompi simulator: the wire requests it sends,
the sandbox's documented outcomes, checksummed events, refusals and transport faults."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import requests

from payments.adapters.gateways.wompi import WompiGateway
from payments.domain.errors import (
    GatewayConfigurationError,
    GatewayUnavailableError,
    IdempotencyConflictError,
    InvalidSignatureError,
    UnsupportedByGatewayError,
    ValidationError,
)
from payments.domain.gateway import Bank, Payer, PaymentRequest, RefundRequest
from payments.domain.money import Money
from payments.domain.next_action import RedirectAction
from payments.domain.purchase import ObservationSource, PaymentOutcome, Purchase, RoutingDecision
from payments.domain.refund import RefundStatus
from payments.sandbox.controller import SimulatorSandbox
from payments.sandbox.wompi_simulator import WEBHOOK_PATH, WompiSimulator
from tests.contract.loopback import serving

PUBLIC_KEY = "pub_test_integration_not_real"
PRIVATE_KEY = "prv_test_integration_not_real"
INTEGRITY = "test_integrity_integration_not_real"
EVENTS = "test_events_integration_not_real"
PRICE = Money("50000.00", "COP")
PAYER = Payer(
    "cus_1",
    "ana@example.com",
    "Ana Pérez",
    phone="3991111111",
    document_type="CC",
    document_number="1020304050",
    person_type="natural",
)


class Recorder:
    """Wraps a WSGI app: keeps each request's method, path, headers and body."""

    def __init__(self, app: Any, *, hang_on: str | None = None, hang: float = 0.0) -> None:
        self._app = app
        self._hang_on = hang_on
        self._hang = hang
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
        self.requests.append((method, path, headers, body))
        if self._hang_on is not None and f"{method} {path}".endswith(self._hang_on):
            time.sleep(self._hang)
        environ["wsgi.input"] = _Replay(body)
        return self._app(environ, start_response)

    def sent(self, method: str, suffix: str) -> list[tuple[dict[str, str], bytes]]:
        return [(h, b) for m, p, h, b in self.requests if m == method and p.endswith(suffix)]


class _Replay:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def read(self, size: int = -1) -> bytes:
        body, self._body = self._body, b""
        return body


@dataclass
class Wompi:
    gateway: WompiGateway
    simulator: WompiSimulator
    recorder: Recorder
    base_url: str
    session: requests.Session
    received: list[tuple[str, dict[str, str], bytes]]

    def token(self, number: str = "4242424242424242") -> str:
        answer = self.session.post(
            f"{self.base_url}/tokens/cards",
            json={"number": number, "cvc": "123", "exp_month": "08", "exp_year": "30"},
            headers={"Authorization": f"Bearer {PUBLIC_KEY}"},
            timeout=5,
        )
        assert answer.status_code == 201
        token: str = answer.json()["data"]["id"]
        return token

    def request(self, reference: str = "ref_001", **fields: Any) -> PaymentRequest:
        base = PaymentRequest(
            purchase_id=f"pur_{reference}",
            reference=reference,
            amount=PRICE,
            description="8 Hour Premium Package",
            payer=PAYER,
            country="CO",
            payment_method="card",
            idempotency_key=f"pur_{reference}:start:0",
            return_url="https://shop.example/done",
            bank_code="1",
        )
        if fields.get("payment_method", "card") == "card" and "payment_token" not in fields:
            fields["payment_token"] = self.token()
        return replace(base, **fields)


def gateway_at(session: requests.Session, base_url: str, **options: Any) -> WompiGateway:
    keys = {
        "public_key": PUBLIC_KEY,
        "private_key": PRIVATE_KEY,
        "integrity_secret": INTEGRITY,
        "events_secret": EVENTS,
    }
    keys.update(options.pop("keys", {}))
    return WompiGateway(session, base_url, **keys, sleep=lambda _: None, **options)


@pytest.fixture
def wompi() -> Iterator[Wompi]:
    received: list[tuple[str, dict[str, str], bytes]] = []

    def deliver(path: str, headers: dict[str, str], body: bytes) -> int:
        received.append((path, headers, body))
        return 200

    simulator = WompiSimulator(
        public_key=PUBLIC_KEY,
        private_key=PRIVATE_KEY,
        integrity_secret=INTEGRITY,
        events_secret=EVENTS,
        deliver=deliver,
    )
    recorder = Recorder(simulator.wsgi_app())
    with serving(recorder) as served, requests.Session() as session:
        base_url = f"{served}/v1"
        yield Wompi(gateway_at(session, base_url), simulator, recorder, base_url, session, received)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


# -- the wire request ----------------------------------------------------------------------------


def test_cop_50000_is_sent_as_exactly_5000000_cents_with_the_documented_integrity_signature(
    wompi: Wompi,
) -> None:
    wompi.gateway.start_payment(wompi.request("ref_cop"))

    [(headers, raw)] = wompi.recorder.sent("POST", "/v1/transactions")
    body = json.loads(raw)
    assert body["amount_in_cents"] == 5000000
    assert b'"amount_in_cents":5000000,' in raw  # an integer on the wire, never 5000000.0
    assert body["currency"] == "COP"
    assert body["reference"] == "ref_cop"
    expected = hashlib.sha256(f"ref_cop5000000COP{INTEGRITY}".encode()).hexdigest()
    assert body["signature"] == expected
    assert body["acceptance_token"] == wompi.simulator.acceptance_token
    assert body["accept_personal_auth"] == wompi.simulator.personal_data_token
    assert body["customer_email"] == "ana@example.com"
    assert body["payment_method"]["type"] == "CARD"
    assert body["payment_method"]["token"].startswith("tok_test_")
    assert headers["authorization"] == f"Bearer {PRIVATE_KEY}"


def test_acceptance_token_is_fetched_once_for_many_transactions(wompi: Wompi) -> None:
    wompi.gateway.start_payment(wompi.request("ref_a"))
    wompi.gateway.start_payment(wompi.request("ref_b"))
    assert len(wompi.recorder.sent("GET", f"/v1/merchants/{PUBLIC_KEY}")) == 1


def test_a_refused_acceptance_token_is_fetched_again_and_the_start_sent_once_more(
    wompi: Wompi,
) -> None:
    wompi.gateway.start_payment(wompi.request("ref_terms_a"))
    wompi.simulator.acceptance_token = "eyJ.new-terms"  # the merchant's terms changed

    start = wompi.gateway.start_payment(wompi.request("ref_terms_b"))

    assert wompi.simulator.transactions[start.gateway_reference].reference == "ref_terms_b"
    assert len(wompi.recorder.sent("GET", f"/v1/merchants/{PUBLIC_KEY}")) == 2
    [_, refused, accepted] = wompi.recorder.sent("POST", "/v1/transactions")
    assert json.loads(accepted[1])["acceptance_token"] == "eyJ.new-terms"
    assert json.loads(refused[1])["acceptance_token"] != "eyJ.new-terms"


def test_pse_sends_the_payer_details_and_redirects_to_the_async_payment_url(
    wompi: Wompi,
) -> None:
    start = wompi.gateway.start_payment(wompi.request("ref_pse", payment_method="pse"))

    [(_headers, raw)] = wompi.recorder.sent("POST", "/v1/transactions")
    method = json.loads(raw)["payment_method"]
    assert method == {
        "type": "PSE",
        "user_type": 0,
        "user_legal_id_type": "CC",
        "user_legal_id": "1020304050",
        "financial_institution_code": "1",
        "payment_description": "8 Hour Premium Package",
    }
    assert isinstance(start.next_action, RedirectAction)
    assert start.next_action.url.endswith(f"/pay/{start.gateway_reference}")
    # Wompi makes the URL a moment later: the gateway read the transaction again to find it.
    assert wompi.recorder.sent("GET", f"/v1/transactions/{start.gateway_reference}")
    page = wompi.session.get(start.next_action.url, timeout=5)
    assert page.status_code == 200
    assert "ref_pse" in page.text


def test_a_pse_bank_wompi_does_not_list_is_refused_naming_our_bank_code(wompi: Wompi) -> None:
    request = wompi.request("ref_pse_bad", payment_method="pse", bank_code="9999")
    with pytest.raises(ValidationError) as refused:
        wompi.gateway.start_payment(request)
    assert [error.field for error in refused.value.errors] == ["bank_code"]
    assert not [t for t in wompi.simulator.transactions.values() if t.reference == "ref_pse_bad"]


def test_nequi_and_bancolombia_transfer_are_sent_as_documented(wompi: Wompi) -> None:
    nequi = wompi.gateway.start_payment(wompi.request("ref_nequi", payment_method="nequi"))
    transfer = wompi.gateway.start_payment(
        wompi.request("ref_transfer", payment_method="bank_transfer", description="It's paid")
    )

    methods = [
        json.loads(raw)["payment_method"]
        for _, raw in wompi.recorder.sent("POST", "/v1/transactions")
    ]
    assert methods[0] == {"type": "NEQUI", "phone_number": "3991111111"}
    assert methods[1] == {"type": "BANCOLOMBIA_TRANSFER", "payment_description": "Its paid"}
    assert nequi.next_action is None
    assert isinstance(transfer.next_action, RedirectAction)


def test_a_request_missing_what_its_method_needs_is_refused_before_any_io(wompi: Wompi) -> None:
    cases = [
        wompi.request("ref_no_token", payment_token=None),
        wompi.request("ref_no_phone", payment_method="nequi", payer=replace(PAYER, phone=None)),
        wompi.request("ref_no_bank", payment_method="pse", bank_code=None),
        wompi.request(
            "ref_no_document", payment_method="pse", payer=replace(PAYER, document_number=None)
        ),
        wompi.request("ref_centavos", amount=Money("50000.50", "COP")),
    ]
    before = len(wompi.recorder.requests)
    for request in cases:
        with pytest.raises(ValidationError):
            wompi.gateway.start_payment(request)
    assert len(wompi.recorder.requests) == before
    assert wompi.simulator.transactions == {}


# -- the sandbox's documented outcomes -----------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "status"),
    [
        ({"payment_method": "card", "card": "4242424242424242"}, "APPROVED"),
        ({"payment_method": "card", "card": "4111111111111111"}, "DECLINED"),
        ({"payment_method": "card", "card": "5555555555554444"}, "ERROR"),
        ({"payment_method": "nequi", "phone": "3991111111"}, "APPROVED"),
        ({"payment_method": "nequi", "phone": "3992222222"}, "DECLINED"),
        ({"payment_method": "nequi", "phone": "3001234567"}, "ERROR"),
        ({"payment_method": "pse", "bank_code": "1"}, "APPROVED"),
        ({"payment_method": "pse", "bank_code": "2"}, "DECLINED"),
    ],
)
def test_sandbox_test_data_leads_to_its_documented_status(
    wompi: Wompi, fields: dict[str, str], status: str
) -> None:
    extra: dict[str, Any] = {"payment_method": fields["payment_method"]}
    if "card" in fields:
        extra["payment_token"] = wompi.token(fields["card"])
    if "phone" in fields:
        extra["payer"] = replace(PAYER, phone=fields["phone"])
    if "bank_code" in fields:
        extra["bank_code"] = fields["bank_code"]
    start = wompi.gateway.start_payment(wompi.request("ref_outcome", **extra))
    assert start.observation is not None
    assert start.observation.outcome is PaymentOutcome.PROCESSING

    wompi.simulator.complete(start.gateway_reference)

    seen = wompi.gateway.lookup("ref_outcome", None)
    assert seen is not None
    assert wompi.simulator.transactions[start.gateway_reference].status == status
    expected = PaymentOutcome.SUCCEEDED if status == "APPROVED" else PaymentOutcome.FAILED
    assert seen.outcome is expected
    assert seen.source is ObservationSource.LOOKUP
    assert seen.amount == PRICE


def test_banks_are_the_sandbox_pse_institutions_and_none_outside_colombia(wompi: Wompi) -> None:
    assert wompi.gateway.banks("CO")[:2] == [
        Bank("1", "Banco que aprueba"),
        Bank("2", "Banco que declina"),
    ]
    before = len(wompi.recorder.requests)
    assert wompi.gateway.banks("MX") == []
    assert len(wompi.recorder.requests) == before


# -- starting again ------------------------------------------------------------------------------


def test_a_start_sent_again_finds_the_transaction_under_our_reference(wompi: Wompi) -> None:
    request = wompi.request("ref_twice")
    first = wompi.gateway.start_payment(request)
    again = wompi.gateway.start_payment(request)
    assert again.gateway_reference == first.gateway_reference
    assert len(wompi.simulator.transactions) == 1


def test_another_amount_under_a_used_reference_is_an_idempotency_conflict(wompi: Wompi) -> None:
    wompi.gateway.start_payment(wompi.request("ref_used"))
    with pytest.raises(IdempotencyConflictError):
        wompi.gateway.start_payment(wompi.request("ref_used", amount=Money("60000", "COP")))


# -- keys and signatures -------------------------------------------------------------------------


def test_a_wrong_integrity_secret_is_refused_by_wompi(wompi: Wompi) -> None:
    gateway = gateway_at(
        wompi.session, wompi.base_url, keys={"integrity_secret": "test_integrity_other"}
    )
    with pytest.raises(ValidationError) as refused:
        gateway.start_payment(wompi.request("ref_bad_signature"))
    assert [error.field for error in refused.value.errors] == ["signature"]
    assert wompi.simulator.transactions == {}


def test_a_wrong_private_key_is_a_configuration_error(wompi: Wompi) -> None:
    gateway = gateway_at(wompi.session, wompi.base_url, keys={"private_key": "prv_test_other"})
    with pytest.raises(GatewayConfigurationError):
        gateway.start_payment(wompi.request("ref_bad_key"))
    assert wompi.simulator.transactions == {}


def test_delivered_event_is_checksummed_with_the_events_secret(wompi: Wompi) -> None:
    start = wompi.gateway.start_payment(wompi.request("ref_event"))
    wompi.simulator.approve(start.gateway_reference)

    [(path, headers, body)] = wompi.received
    assert path == WEBHOOK_PATH
    event = json.loads(body)
    transaction = event["data"]["transaction"]
    text = f"{transaction['id']}APPROVED5000000{event['timestamp']}{EVENTS}"
    assert event["signature"]["checksum"] == hashlib.sha256(text.encode()).hexdigest()
    assert headers["X-Event-Checksum"] == event["signature"]["checksum"]
    assert event["environment"] == "test"

    notification = wompi.gateway.verify_notification(
        {"x-event-checksum": headers["X-Event-Checksum"]}, body
    )
    assert notification.payment is not None
    assert notification.payment.outcome is PaymentOutcome.SUCCEEDED
    assert notification.payment.amount == PRICE
    assert notification.event_id == f"{start.gateway_reference}:APPROVED"

    other = gateway_at(wompi.session, wompi.base_url, keys={"events_secret": "test_events_other"})
    with pytest.raises(InvalidSignatureError):
        other.verify_notification({}, body)


def test_an_unknown_event_type_is_genuine_but_carries_no_payment(wompi: Wompi) -> None:
    timestamp = 1_790_000_000
    data = {"nequi_token": {"id": "nequi_1", "status": "APPROVED"}}
    checksum = hashlib.sha256(f"nequi_1APPROVED{timestamp}{EVENTS}".encode()).hexdigest()
    body = json.dumps(
        {
            "event": "nequi_token.updated",
            "data": data,
            "signature": {
                "properties": ["nequi_token.id", "nequi_token.status"],
                "checksum": checksum,
            },
            "timestamp": timestamp,
        }
    ).encode()
    notification = wompi.gateway.verify_notification({}, body)
    assert notification.payment is None
    assert notification.refund is None
    assert notification.event_type == "nequi_token.updated"


# -- voids ---------------------------------------------------------------------------------------


def refund(gateway_reference: str, *, full: bool = True, amount: Money = PRICE) -> RefundRequest:
    return RefundRequest(
        refund_id="rfd_1",
        purchase_reference="ref_001",
        gateway_reference=gateway_reference,
        amount=amount,
        full=full,
        reason=None,
        idempotency_key="rfd_1:refund",
    )


def test_an_approved_card_payment_is_voided_once(wompi: Wompi) -> None:
    start = wompi.gateway.start_payment(wompi.request("ref_void"))
    wompi.simulator.approve(start.gateway_reference)
    first = wompi.gateway.refund(refund(start.gateway_reference))
    again = wompi.gateway.refund(refund(start.gateway_reference))
    assert first.status is RefundStatus.SUCCEEDED
    assert again == first
    assert len(wompi.recorder.sent("POST", "/void")) == 1
    assert wompi.simulator.refunded(start.gateway_reference) == PRICE


def test_partial_or_non_card_refunds_are_refused_without_a_void(wompi: Wompi) -> None:
    card = wompi.gateway.start_payment(wompi.request("ref_part"))
    nequi = wompi.gateway.start_payment(wompi.request("ref_nequi_void", payment_method="nequi"))
    wompi.simulator.approve(card.gateway_reference)
    wompi.simulator.approve(nequi.gateway_reference)
    with pytest.raises(UnsupportedByGatewayError):
        wompi.gateway.refund(
            refund(card.gateway_reference, full=False, amount=Money("1000", "COP"))
        )
    with pytest.raises(UnsupportedByGatewayError):
        wompi.gateway.refund(refund(nequi.gateway_reference))
    assert wompi.recorder.sent("POST", "/void") == []
    capabilities = wompi.gateway.capabilities
    assert capabilities.refunds is True
    assert capabilities.partial_refunds is False
    assert capabilities.cancel is False


# -- transport faults ----------------------------------------------------------------------------


def test_refused_connection_proves_no_charge() -> None:
    with requests.Session() as session:
        gateway = gateway_at(session, f"http://127.0.0.1:{free_port()}/v1", timeout=2)
        with pytest.raises(GatewayUnavailableError) as unavailable:
            gateway.start_payment(replace(_offline_request(), payment_token="tok_test_x"))
    assert unavailable.value.charged_possible is False


def test_a_transaction_refused_at_the_port_after_the_tokens_were_cached_proves_no_charge() -> None:
    simulator = WompiSimulator(
        public_key=PUBLIC_KEY,
        private_key=PRIVATE_KEY,
        integrity_secret=INTEGRITY,
        events_secret=EVENTS,
    )
    with requests.Session() as session:
        with serving(simulator.wsgi_app()) as served:
            gateway = gateway_at(session, f"{served}/v1", timeout=2)
            token = Wompi(gateway, simulator, Recorder(None), f"{served}/v1", session, []).token()
            gateway.start_payment(replace(_offline_request(), payment_token=token))
        # The simulator's port is closed now: the next transaction is refused at connect.
        with pytest.raises(GatewayUnavailableError) as unavailable:
            gateway.start_payment(
                replace(_offline_request(), reference="ref_second", payment_token=token)
            )
    assert unavailable.value.charged_possible is False
    assert isinstance(unavailable.value.__cause__, requests.ConnectionError)
    assert [t.reference for t in simulator.transactions.values()] == ["ref_offline"]


def _offline_request() -> PaymentRequest:
    return PaymentRequest(
        purchase_id="pur_offline",
        reference="ref_offline",
        amount=PRICE,
        description="8 Hour Premium Package",
        payer=PAYER,
        country="CO",
        payment_method="card",
        idempotency_key="pur_offline:start:0",
    )


def test_read_timeout_after_the_transaction_left_may_have_charged_and_is_not_resent() -> None:
    simulator = WompiSimulator(
        public_key=PUBLIC_KEY,
        private_key=PRIVATE_KEY,
        integrity_secret=INTEGRITY,
        events_secret=EVENTS,
    )
    recorder = Recorder(simulator.wsgi_app(), hang_on="POST /v1/transactions", hang=1.0)
    with serving(recorder) as served, requests.Session() as session:
        base_url = f"{served}/v1"
        token = Wompi(
            gateway_at(session, base_url), simulator, recorder, base_url, session, []
        ).token()
        gateway = gateway_at(session, base_url, timeout=0.3)
        with pytest.raises(GatewayUnavailableError) as unavailable:
            gateway.start_payment(replace(_offline_request(), payment_token=token))
        assert unavailable.value.charged_possible is True
        assert isinstance(unavailable.value.__cause__, requests.exceptions.ReadTimeout)
        assert len(recorder.sent("POST", "/v1/transactions")) == 1
        # The transaction was made all the same: reconciliation finds it by our reference.
        deadline = time.monotonic() + 5
        while not simulator.transactions and time.monotonic() < deadline:
            time.sleep(0.05)
        seen = gateway.lookup("ref_offline", None)
        assert seen is not None
        assert seen.outcome is PaymentOutcome.PROCESSING


# -- the sandbox controller ----------------------------------------------------------------------


def test_sandbox_controller_approves_through_the_registered_wompi_simulator(wompi: Wompi) -> None:
    start = wompi.gateway.start_payment(wompi.request("ref_controlled"))
    controller = SimulatorSandbox()
    controller.register_simulator("wompi", wompi.simulator)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    purchase = Purchase.create(
        id="pur_1",
        reference="ref_controlled",
        customer_id="cus_1",
        product_id="prd_1",
        amount=PRICE,
        credits=Decimal(8),
        validity_days=60,
        country="CO",
        payment_method="card",
        routing=RoutingDecision(("wompi",), "test"),
        now=now,
    )
    purchase.start_at_gateway("wompi", start.gateway_reference, None, now)

    result = controller.act(purchase, "expire")

    assert result["type"] == "transaction.updated"
    assert result["delivered_status"] == 200
    assert wompi.simulator.transactions[start.gateway_reference].status == "ERROR"
    assert "wompi" in controller.gateways


def test_simulator_threads_share_one_store(wompi: Wompi) -> None:
    requests_ = [wompi.request(f"ref_thread_{n}") for n in range(8)]
    threads = [threading.Thread(target=wompi.gateway.start_payment, args=(r,)) for r in requests_]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(wompi.simulator.transactions) == 8
