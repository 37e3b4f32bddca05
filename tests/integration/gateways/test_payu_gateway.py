"""PayUGateway over loopback HTTP against the PayU simulator: the commands it sends, the amount
text it signs, refusals before any I/O, PayU's refusals and transport faults."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
import requests
from msgspec import structs

from payments.adapters.gateways.payu import Merchant, PayUGateway, SignatureAlgorithm
from payments.adapters.gateways.payu.settings import (
    SANDBOX_API_KEY,
    SANDBOX_API_LOGIN,
    SANDBOX_MERCHANT_ID,
)
from payments.domain.errors import (
    GatewayConfigurationError,
    GatewayUnavailableError,
    InvalidTransitionError,
    PaymentDeclinedError,
    UnsupportedByGatewayError,
    ValidationError,
)
from payments.domain.gateway import Bank, Payer, PaymentRequest, RefundRequest
from payments.domain.money import Money
from payments.domain.next_action import RedirectAction
from payments.domain.purchase import PaymentOutcome
from payments.sandbox.payu_simulator import PayUSimulator
from tests.contract.loopback import serving

MERCHANT = Merchant(
    SANDBOX_API_KEY, SANDBOX_API_LOGIN, SANDBOX_MERCHANT_ID, {"CO": "512321", "MX": "512324"}
)
PAYER = Payer(
    "cus_1",
    "ana@example.com",
    "Ana Pérez",
    document_type="CC",
    document_number="1020304050",
    person_type="natural",
    ip_address="203.0.113.7",
)
PRICE = Money("50000.00", "COP")


class Commands:
    """Wraps the simulator's app: keeps each command's path and JSON body; may stall one."""

    def __init__(self, app: Any, *, stall: str | None = None, seconds: float = 0.0) -> None:
        self._app = app
        self._stall = stall
        self._seconds = seconds
        self.seen: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        body = json.loads(raw) if raw.startswith(b"{") else {}
        self.seen.append((environ["PATH_INFO"], body))
        if body.get("command") == self._stall:
            time.sleep(self._seconds)
        environ["wsgi.input"] = _Body(raw)
        return self._app(environ, start_response)

    def named(self, command: str) -> list[dict[str, Any]]:
        return [body for _, body in self.seen if body.get("command") == command]


class _Body:
    def __init__(self, raw: bytes) -> None:
        self._raw = raw

    def read(self, size: int = -1) -> bytes:
        raw, self._raw = self._raw, b""
        return raw


@dataclass
class PayU:
    gateway: PayUGateway
    simulator: PayUSimulator
    commands: Commands
    session: requests.Session
    base_url: str


def charge(reference: str, method: str = "pse", **changes: Any) -> PaymentRequest:
    request = PaymentRequest(
        purchase_id=f"pur_{reference}",
        reference=reference,
        amount=PRICE,
        description="8 Hour Premium Package",
        payer=PAYER,
        country="CO",
        payment_method=method,
        idempotency_key=f"pur_{reference}:start:0",
        return_url="https://shop.example/done",
        bank_code="1007",
    )
    return replace(request, **changes)


@pytest.fixture
def payu() -> Iterator[PayU]:
    simulator = PayUSimulator(MERCHANT)
    commands = Commands(simulator.wsgi_app())
    with serving(commands) as served, requests.Session() as session:
        gateway = PayUGateway(
            session,
            served,
            merchant=MERCHANT,
            notify_url="https://pay.example/v1/webhooks/payu",
            sleep=lambda _: None,
        )
        yield PayU(gateway, simulator, commands, session, served)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_pse_is_sent_as_documented_and_redirects_to_the_bank(payu: PayU) -> None:
    start = payu.gateway.start_payment(charge("ref_pse"))

    [sent] = payu.commands.named("SUBMIT_TRANSACTION")
    transaction = sent["transaction"]
    assert sent["merchant"] == {"apiKey": SANDBOX_API_KEY, "apiLogin": SANDBOX_API_LOGIN}
    assert sent["test"] is True
    assert transaction["type"] == "AUTHORIZATION_AND_CAPTURE"
    assert transaction["paymentMethod"] == "PSE"
    assert transaction["order"]["accountId"] == "512321"
    assert transaction["order"]["additionalValues"]["TX_VALUE"] == {
        "value": 50000,
        "currency": "COP",
    }
    assert transaction["order"]["notifyUrl"] == "https://pay.example/v1/webhooks/payu"
    assert transaction["extraParameters"] == {
        "FINANCIAL_INSTITUTION_CODE": "1007",
        "USER_TYPE": "N",
        "PSE_REFERENCE1": "203.0.113.7",
        "PSE_REFERENCE2": "CC",
        "PSE_REFERENCE3": "1020304050",
        "RESPONSE_URL": "https://shop.example/done",
    }
    assert isinstance(start.next_action, RedirectAction)
    assert start.next_action.url == f"{payu.base_url}/pse/{start.gateway_reference}"
    assert payu.session.get(start.next_action.url, timeout=5).status_code == 200


@pytest.mark.parametrize(
    "request_change",
    [
        {"bank_code": None},
        {"payer": replace(PAYER, document_number=None)},
        {"payer": replace(PAYER, person_type=None)},
        {"payer": replace(PAYER, email=None)},
        {"payment_method": "card", "payment_token": None},
        {"payment_method": "pse", "country": "MX", "amount": Money("100.00", "MXN")},
        {"payment_method": "cash", "amount": Money("19999", "COP")},
        {"amount": Money("50000.50", "COP")},
    ],
    ids=["bank", "document", "person", "email", "card-token", "pse-mx", "efecty-min", "centavos"],
)
def test_what_payu_cannot_be_sent_is_refused_before_any_io(
    payu: PayU, request_change: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        payu.gateway.start_payment(charge("ref_refused", **request_change))
    assert payu.commands.seen == []


def test_a_card_holder_named_rejected_is_declined_with_its_code(payu: PayU) -> None:
    token = _token(payu, "REJECTED")
    with pytest.raises(PaymentDeclinedError) as declined:
        payu.gateway.start_payment(charge("ref_rejected", "card", payment_token=token))
    assert declined.value.provider_code == "ENTITY_DECLINED"


def _token(payu: PayU, holder: str) -> str:
    answer = payu.session.post(
        payu.base_url + "/payments-api/4.0/service.cgi",
        json={
            "command": "CREATE_TOKEN",
            "merchant": {"apiKey": SANDBOX_API_KEY, "apiLogin": SANDBOX_API_LOGIN},
            "creditCardToken": {"name": holder, "number": "4097440000000004"},
        },
        timeout=5,
    )
    token: str = answer.json()["creditCardToken"]["creditCardTokenId"]
    return token


def test_an_approved_card_is_settled_at_once_and_refunded_whole_once(payu: PayU) -> None:
    token = _token(payu, "APPROVED")
    start = payu.gateway.start_payment(charge("ref_card", "card", payment_token=token))
    assert start.observation is not None
    assert start.observation.outcome is PaymentOutcome.SUCCEEDED
    assert start.next_action is None
    refund = RefundRequest("rfd_1", "ref_card", start.gateway_reference, PRICE, True, None, "k")

    with pytest.raises(UnsupportedByGatewayError):
        payu.gateway.refund(replace(refund, amount=Money("100.00", "COP"), full=False))
    first = payu.gateway.refund(refund)
    again = payu.gateway.refund(refund)

    assert again == first
    assert len(payu.commands.named("SUBMIT_TRANSACTION")) == 2  # the charge and one REFUND
    assert payu.simulator.refunded(start.gateway_reference) == PRICE


def test_pse_and_cash_are_neither_refunded_nor_voided(payu: PayU) -> None:
    pse = payu.gateway.start_payment(charge("ref_pse_pending"))
    with pytest.raises(UnsupportedByGatewayError):
        payu.gateway.cancel(pse.gateway_reference, "k")
    cash = payu.gateway.start_payment(charge("ref_cash", "cash"))
    assert isinstance(cash.next_action, RedirectAction)
    payu.simulator.approve(cash.gateway_reference)
    refund = RefundRequest("rfd_2", "ref_cash", cash.gateway_reference, PRICE, True, None, "k")
    with pytest.raises(UnsupportedByGatewayError):
        payu.gateway.refund(refund)
    with pytest.raises(InvalidTransitionError):
        payu.gateway.refund(replace(refund, gateway_reference=pse.gateway_reference))
    assert len(payu.commands.named("SUBMIT_TRANSACTION")) == 2  # the two charges only


def test_banks_come_from_get_banks_list_without_its_prompt(payu: PayU) -> None:
    assert payu.gateway.banks("CO") == [
        Bank("1001", "BANCO DE BOGOTA"),
        Bank("1007", "BANCOLOMBIA"),
        Bank("1051", "BANCO DAVIVIENDA"),
    ]
    assert payu.gateway.banks("MX") == []
    [sent] = payu.commands.named("GET_BANKS_LIST")
    assert sent["bankListInformation"] == {"paymentMethod": "PSE", "paymentCountry": "CO"}


def test_a_wrong_api_key_is_a_configuration_error(payu: PayU) -> None:
    wrong = structs.replace(MERCHANT, api_key="notTheKey")
    gateway = PayUGateway(payu.session, payu.base_url, merchant=wrong, sleep=lambda _: None)
    with pytest.raises(GatewayConfigurationError) as refused:
        gateway.start_payment(charge("ref_wrong_key"))
    assert refused.value.details["payu_code"] == "ERROR"
    assert payu.simulator.orders == {}


def test_a_sha256_merchant_signs_with_sha256_and_its_confirmations_verify(payu: PayU) -> None:
    merchant = structs.replace(MERCHANT, algorithm=SignatureAlgorithm.SHA256)
    simulator = PayUSimulator(merchant, deliver=lambda path, headers, body: 200)
    with serving(simulator.wsgi_app()) as served, requests.Session() as session:
        gateway = PayUGateway(session, served, merchant=merchant, sleep=lambda _: None)
        start = gateway.start_payment(charge("ref_sha"))
        simulator.approve(start.gateway_reference)
    body = simulator.deliveries[-1].body
    fields = dict(parse_qsl(body.decode("ascii")))
    assert len(fields["sign"]) == 64
    upper = urlencode({**fields, "sign": fields["sign"].upper()}).encode("ascii")
    notification = gateway.verify_notification({}, upper)
    assert notification.payment is not None
    assert notification.payment.outcome is PaymentOutcome.SUCCEEDED
    assert notification.event_id == f"{fields['transaction_id']}:4"


def test_a_refused_connection_proves_no_charge() -> None:
    with requests.Session() as session:
        gateway = PayUGateway(
            session, f"http://127.0.0.1:{free_port()}", merchant=MERCHANT, sleep=lambda _: None
        )
        with pytest.raises(GatewayUnavailableError) as failed:
            gateway.start_payment(charge("ref_refused"))
    assert failed.value.charged_possible is False


def test_a_timeout_after_the_charge_left_may_have_charged_and_is_not_resent() -> None:
    simulator = PayUSimulator(MERCHANT)
    commands = Commands(simulator.wsgi_app(), stall="SUBMIT_TRANSACTION", seconds=1.0)
    with serving(commands) as served, requests.Session() as session:
        gateway = PayUGateway(session, served, merchant=MERCHANT, timeout=0.3, sleep=lambda _: None)
        with pytest.raises(GatewayUnavailableError) as failed:
            gateway.start_payment(charge("ref_slow"))
        time.sleep(1.0)
    assert failed.value.charged_possible is True
    assert len(commands.named("SUBMIT_TRANSACTION")) == 1
    assert [order.asked.reference for order in simulator.orders.values()] == ["ref_slow"]
