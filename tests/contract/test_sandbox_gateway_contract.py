"""The sandbox gateway passes the gateway contract over real loopback HTTP to its simulator."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from payments.adapters.gateways.sandbox import SandboxGateway
from payments.domain.errors import UnsupportedByGatewayError
from payments.domain.gateway import SaveMethodRequest
from payments.domain.money import Money
from payments.domain.purchase import ClientSecretAction, RedirectAction
from payments.sandbox.gateway_simulator import SandboxSimulator
from payments.testing.contracts.gateway import (
    Delivery,
    GatewayContract,
    GatewayUnderTest,
    ProviderDriver,
)
from tests.contract.loopback import CountingApp, serving

SECRET = "sandbox_contract_secret_not_real"


class SandboxProvider(ProviderDriver):
    """The simulator, acted on in-process; what reaches its HTTP API is counted."""

    def __init__(
        self,
        simulator: SandboxSimulator,
        api: CountingApp,
        received: list[tuple[str, dict[str, str], bytes]],
    ) -> None:
        self.simulator = simulator
        self.api = api
        self.received = received

    def _last_delivery(self) -> Delivery:
        _path, headers, body = self.received[-1]
        return {name.lower(): value for name, value in headers.items()}, body

    def approve(self, gateway_reference: str) -> Delivery:
        self.simulator.approve(gateway_reference)
        return self._last_delivery()

    def decline(self, gateway_reference: str) -> Delivery:
        self.simulator.decline(gateway_reference, code="insufficient_funds")
        return self._last_delivery()

    def signed(self, body: bytes) -> dict[str, str]:
        return {"sandbox-signature": self.simulator.sign(int(time.time()), body)}

    def requests_seen(self) -> int:
        return self.api.requests

    def payments_under(self, reference: str) -> int:
        return sum(p.reference == reference for p in self.simulator.payments.values())

    def refunded(self, gateway_reference: str) -> Money:
        payment = self.simulator.payments[gateway_reference]
        return payment.amount_refunded or Money.zero(payment.amount.currency)


@pytest.fixture
def subject() -> Iterator[GatewayUnderTest]:
    received: list[tuple[str, dict[str, str], bytes]] = []

    def deliver(path: str, headers: dict[str, str], body: bytes) -> int:
        received.append((path, headers, body))
        return 200

    simulator = SandboxSimulator(SECRET, deliver)
    api = CountingApp(simulator.wsgi_app())
    with serving(api) as base_url, requests.Session() as session:
        gateway = SandboxGateway(session, base_url, SECRET, timeout=5.0, sleep=lambda _: None)
        yield GatewayUnderTest(
            gateway,
            SandboxProvider(simulator, api, received),
            {
                "card": ClientSecretAction,
                "nequi": ClientSecretAction,
                "cash": ClientSecretAction,
                "pse": RedirectAction,
                "bank_transfer": RedirectAction,
            },
        )


class TestSandboxGatewayContract(GatewayContract):
    """The built-in sandbox provider keeps every promise of the port."""


def test_the_sandbox_gateway_cannot_keep_payment_methods(subject: GatewayUnderTest) -> None:
    assert not subject.gateway.capabilities.saved_methods
    with pytest.raises(UnsupportedByGatewayError):
        subject.gateway.save_payment_method(
            SaveMethodRequest("cus_contract", None, "pm_card_visa", "k_save")
        )
