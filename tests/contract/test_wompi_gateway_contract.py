"""The Wompi gateway passes the gateway contract over real loopback HTTP to its simulator."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from payments.adapters.gateways.wompi import WompiGateway
from payments.domain.gateway import Payer
from payments.domain.money import Money
from payments.domain.next_action import RedirectAction
from payments.sandbox.wompi_simulator import WompiSimulator, body_checksum
from payments.testing.contracts.gateway import (
    Delivery,
    GatewayContract,
    GatewayUnderTest,
    ProviderDriver,
)
from tests.contract.loopback import CountingApp, SimulatedProvider, serving

PUBLIC_KEY = "pub_test_contract_not_real"
PRIVATE_KEY = "prv_test_contract_not_real"
INTEGRITY = "test_integrity_contract_not_real"
EVENTS = "test_events_contract_not_real"
PAYER = Payer(
    "cus_contract",
    "ana@example.com",
    "Ana",
    phone="3991111111",
    document_type="CC",
    document_number="1020304050",
    person_type="natural",
)


class WompiProvider(SimulatedProvider, ProviderDriver):
    """The simulated Wompi sandbox, acted on in-process; what reaches its API is counted."""

    def __init__(
        self,
        simulator: WompiSimulator,
        api: CountingApp,
        received: list[tuple[str, dict[str, str], bytes]],
    ) -> None:
        super().__init__(api, received)
        self.simulator = simulator

    def approve(self, gateway_reference: str) -> Delivery:
        self.simulator.approve(gateway_reference)
        return self.last_delivery()

    def decline(self, gateway_reference: str) -> Delivery:
        self.simulator.decline(gateway_reference, code="51")
        return self.last_delivery()

    def signed(self, body: bytes) -> dict[str, str]:
        return {"x-event-checksum": body_checksum(body, EVENTS)}

    def payments_under(self, reference: str) -> int:
        return sum(t.reference == reference for t in self.simulator.transactions.values())

    def refunded(self, gateway_reference: str) -> Money:
        return self.simulator.refunded(gateway_reference)

    def tampered(self, body: bytes) -> bytes:
        """The signed amount raised by one peso: Wompi signs only ``signature.properties``."""
        event = json.loads(body)
        event["data"]["transaction"]["amount_in_cents"] += 100
        return json.dumps(event).encode()

    def unsigned(self, body: bytes) -> bytes:
        """Wompi's checksum travels in the body: an unsigned event has none."""
        event = json.loads(body)
        del event["signature"]["checksum"]
        return json.dumps(event).encode()


def card_token(session: requests.Session, base_url: str, number: str = "4242424242424242") -> str:
    """A card token made as the payer's browser makes it: with the public key."""
    answer = session.post(
        f"{base_url}/tokens/cards",
        json={
            "number": number,
            "cvc": "123",
            "exp_month": "08",
            "exp_year": "30",
            "card_holder": "Ana",
        },
        headers={"Authorization": f"Bearer {PUBLIC_KEY}"},
        timeout=5,
    )
    answer.raise_for_status()
    token = answer.json()["data"]["id"]
    assert isinstance(token, str)
    return token


@pytest.fixture
def subject() -> Iterator[GatewayUnderTest]:
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
    api = CountingApp(simulator.wsgi_app())
    with serving(api) as served, requests.Session() as session:
        base_url = f"{served}/v1"
        gateway = WompiGateway(
            session,
            base_url,
            public_key=PUBLIC_KEY,
            private_key=PRIVATE_KEY,
            integrity_secret=INTEGRITY,
            events_secret=EVENTS,
            sleep=lambda _: None,
        )
        yield GatewayUnderTest(
            gateway,
            WompiProvider(simulator, api, received),
            {
                "card": type(None),
                "nequi": type(None),
                "pse": RedirectAction,
                "bank_transfer": RedirectAction,
            },
            price=Money("50000.00", "COP"),
            request_fields={
                "country": "CO",
                "payer": PAYER,
                "bank_code": "1",
                "payment_token": card_token(session, base_url),
            },
        )


class TestWompiGatewayContract(GatewayContract):
    """Wompi, over requests and loopback HTTP to its simulator, keeps every promise of the port."""
