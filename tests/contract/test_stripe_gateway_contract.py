"""The Stripe gateway passes the gateway contract against the built-in Stripe simulator."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from payments.adapters.gateways.stripe import StripeGateway, from_stripe_amount, make_stripe_client
from payments.domain.money import Money
from payments.domain.next_action import ClientSecretAction
from payments.sandbox.stripe_simulator import StripeSimulatorState, make_stripe_simulator
from payments.testing.contracts.gateway import (
    Delivery,
    GatewayContract,
    GatewayUnderTest,
    ProviderDriver,
)
from payments.testing.contracts.saved_methods import SavedMethodsContract
from tests.contract.loopback import CountingApp, SimulatedProvider, serving

WEBHOOK_SECRET = "whsec_contract_fake_secret"
API_KEY = "sk_test_contract_fake_key"


class StripeProvider(SimulatedProvider, ProviderDriver):
    """The simulated Stripe account, acted on in-process; what reaches its API is counted."""

    def __init__(
        self,
        state: StripeSimulatorState,
        api: CountingApp,
        received: list[tuple[str, dict[str, str], bytes]],
    ) -> None:
        super().__init__(api, received)
        self.state = state

    def approve(self, gateway_reference: str) -> Delivery:
        self.state.approve(gateway_reference)
        return self.last_delivery()

    def decline(self, gateway_reference: str) -> Delivery:
        self.state.decline(gateway_reference, code="card_declined")
        return self.last_delivery()

    def signed(self, body: bytes) -> dict[str, str]:
        return {"stripe-signature": self.state.sign(int(time.time()), body)}

    def payments_under(self, reference: str) -> int:
        return sum(
            i.metadata.get("purchase_reference") == reference for i in self.state.intents.values()
        )

    def refunded(self, gateway_reference: str) -> Money:
        intent = self.state.intents[gateway_reference]
        return from_stripe_amount(intent.amount_refunded, intent.currency)


@pytest.fixture
def subject() -> Iterator[GatewayUnderTest]:
    received: list[tuple[str, dict[str, str], bytes]] = []

    def deliver(path: str, headers: dict[str, str], body: bytes) -> int:
        received.append((path, headers, body))
        return 200

    app = make_stripe_simulator(webhook_secret=WEBHOOK_SECRET, deliver=deliver)
    api = CountingApp(app)
    with serving(api) as base_url:
        client = make_stripe_client(API_KEY, api_base=base_url, max_network_retries=0)
        gateway = StripeGateway(client, [WEBHOOK_SECRET], publishable_key="pk_test_contract")
        yield GatewayUnderTest(
            gateway, StripeProvider(app.state, api, received), {"card": ClientSecretAction}
        )


class TestStripeGatewayContract(GatewayContract):
    """Stripe, through the official SDK over loopback HTTP, keeps every promise of the port."""


class TestStripeSavedMethods(SavedMethodsContract):
    """Stripe keeps and charges saved cards as the port promises: a Customer, the card attached
    to it, a confirmed off-session PaymentIntent."""
