"""Routing through the gateway registry refuses Stripe amounts off its step before any I/O."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses

from payments.adapters.gateways.stripe import StripeGateway, make_stripe_client
from payments.adapters.memory import FakeGateway
from payments.domain.errors import UnsupportedByGatewayError
from payments.domain.money import Money
from payments.domain.routing import RoutingTable
from payments.domain.services.gateways import GatewayRegistry


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    # Nothing is registered: any request to Stripe would fail the test and be recorded.
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def stripe_gateway() -> StripeGateway:
    client = make_stripe_client("sk_test_fake_routing_key", max_network_retries=0)
    return StripeGateway(client, ["whsec_test_fake"])


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("5.125", "KWD"), ("1.001", "BHD"), ("9.995", "JOD"), ("0.005", "OMR"), ("2.345", "TND")],
)
def test_three_decimal_amount_off_stripes_step_is_refused_before_any_request(
    http: responses.RequestsMock, stripe_gateway: StripeGateway, amount: str, currency: str
) -> None:
    registry = GatewayRegistry([stripe_gateway])
    with pytest.raises(UnsupportedByGatewayError):
        RoutingTable.parse("*: stripe").route(
            country="KW",
            amount=Money(amount, currency),
            payment_method="card",
            capabilities=registry.capabilities(),
        )
    assert len(http.calls) == 0


def test_stripe_is_skipped_for_the_next_gateway_in_the_chain(
    http: responses.RequestsMock, stripe_gateway: StripeGateway
) -> None:
    other = FakeGateway(name="payu")
    registry = GatewayRegistry([stripe_gateway, other])
    decision = RoutingTable.parse("KW: stripe, payu").route(
        country="KW",
        amount=Money("5.125", "KWD"),
        payment_method=None,
        capabilities=registry.capabilities(),
    )
    assert decision.chain == ("payu",)
    assert "stripe skipped: charges KWD only in multiples of 10" in decision.reason
    assert len(http.calls) == 0


def test_amount_on_the_step_still_routes_to_stripe(stripe_gateway: StripeGateway) -> None:
    registry = GatewayRegistry([stripe_gateway])
    decision = RoutingTable.parse("*: stripe").route(
        country="KW",
        amount=Money("5.120", "KWD"),
        payment_method=None,
        capabilities=registry.capabilities(),
    )
    assert decision.chain == ("stripe",)
