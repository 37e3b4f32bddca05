"""The PayU gateway passes the gateway contract over real loopback HTTP to its simulator."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode

import pytest
import requests

from payments.adapters.gateways.payu import (
    Merchant,
    PayUGateway,
    SignatureAlgorithm,
    confirmation_signature,
)
from payments.adapters.gateways.payu.gateway import PAYMENTS_PATH
from payments.domain.gateway import Payer
from payments.domain.money import Money
from payments.domain.next_action import RedirectAction
from payments.sandbox.payu_simulator import PayUSimulator
from payments.testing.contracts.gateway import (
    Delivery,
    GatewayContract,
    GatewayUnderTest,
    ProviderDriver,
)
from tests.contract.loopback import CountingApp, SimulatedProvider, serving

MERCHANT_ID = "500001"
API_KEY = "contractNotARealPayUApiKey"
API_LOGIN = "contractLogin"
PAYER = Payer(
    "cus_contract",
    "ana@example.com",
    "Ana",
    document_type="CC",
    document_number="1020304050",
    person_type="natural",
    ip_address="127.0.0.1",
)


def _form(body: bytes) -> dict[str, str]:
    return dict(parse_qsl(body.decode("ascii"), keep_blank_values=True))


class PayUProvider(SimulatedProvider, ProviderDriver):
    """The simulated PayU sandbox, acted on in-process; what reaches its APIs is counted."""

    def __init__(
        self,
        simulator: PayUSimulator,
        api: CountingApp,
        received: list[tuple[str, dict[str, str], bytes]],
    ) -> None:
        super().__init__(api, received)
        self.simulator = simulator

    def approve(self, gateway_reference: str) -> Delivery:
        self.simulator.approve(gateway_reference)
        return self.last_delivery()

    def decline(self, gateway_reference: str) -> Delivery:
        self.simulator.decline(gateway_reference)
        return self.last_delivery()

    def signed(self, body: bytes) -> dict[str, str]:
        """PayU signs inside the form (``sign``): its headers carry nothing to check."""
        return {"content-type": "application/x-www-form-urlencoded"}

    def payments_under(self, reference: str) -> int:
        return sum(order.asked.reference == reference for order in self.simulator.orders.values())

    def refunded(self, gateway_reference: str) -> Money:
        return self.simulator.refunded(gateway_reference)

    def _with(self, body: bytes, **changes: str) -> bytes:
        return urlencode({**_form(body), **changes}).encode("ascii")

    def tampered(self, body: bytes) -> bytes:
        """The signed value raised by one peso."""
        return self._with(body, value="50001.00")

    def unsigned(self, body: bytes) -> bytes:
        fields = _form(body)
        del fields["sign"]
        return urlencode(fields).encode("ascii")

    def garbled(self, headers: dict[str, str], body: bytes) -> Delivery:
        return headers, self._with(body, sign="t=1,v1=\u00e9\u00e9")

    def signed_by_another(self, body: bytes) -> Delivery:
        fields = _form(body)
        other = confirmation_signature(
            api_key=API_KEY,
            merchant_id=MERCHANT_ID,
            reference_sale="ref_someone_else",
            value=fields["value"],
            currency=fields["currency"],
            state_pol=fields["state_pol"],
        )
        return self.signed(body), self._with(body, sign=other)


def card_token(session: requests.Session, base_url: str, holder: str = "PENDING") -> str:
    """A card stored with PayU's ``CREATE_TOKEN``: its holder's name picks the outcome."""
    answer = session.post(
        base_url + PAYMENTS_PATH,
        json={
            "language": "es",
            "command": "CREATE_TOKEN",
            "merchant": {"apiKey": API_KEY, "apiLogin": API_LOGIN},
            "creditCardToken": {
                "payerId": "cus_contract",
                "name": holder,
                "identificationNumber": "1020304050",
                "paymentMethod": "VISA",
                "number": "4097440000000004",
                "expirationDate": "2030/05",
            },
        },
        timeout=5,
    )
    answer.raise_for_status()
    token = answer.json()["creditCardToken"]["creditCardTokenId"]
    assert isinstance(token, str)
    return token


@pytest.fixture(params=[SignatureAlgorithm.MD5, SignatureAlgorithm.SHA256], ids=str)
def subject(request: pytest.FixtureRequest) -> Iterator[GatewayUnderTest]:
    algorithm: SignatureAlgorithm = request.param
    received: list[tuple[str, dict[str, str], bytes]] = []

    def deliver(path: str, headers: dict[str, str], body: bytes) -> int:
        received.append((path, headers, body))
        return 200

    merchant = Merchant(
        api_key=API_KEY,
        api_login=API_LOGIN,
        merchant_id=MERCHANT_ID,
        accounts={"CO": "512321"},
        algorithm=algorithm,
    )
    simulator = PayUSimulator(merchant, deliver=deliver)
    api = CountingApp(simulator.wsgi_app())
    with serving(api) as served, requests.Session() as session:
        gateway = PayUGateway(session, served, merchant=merchant, sleep=lambda _: None)
        yield GatewayUnderTest(
            gateway,
            PayUProvider(simulator, api, received),
            {"card": type(None), "pse": RedirectAction, "cash": RedirectAction},
            price=Money("50000.00", "COP"),
            request_fields={
                "country": "CO",
                "payer": PAYER,
                "bank_code": "1007",
                "payment_token": card_token(session, served),
            },
        )


class TestPayUGatewayContract(GatewayContract):
    """PayU, over requests and loopback HTTP to its simulator, keeps every promise of the port."""
