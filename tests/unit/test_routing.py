"""Routing: per-market chains, capability filtering and explicit gateway requests."""

from __future__ import annotations

import pytest

from payments.domain.errors import ConfigurationError, UnsupportedByGatewayError
from payments.domain.gateway import GatewayCapabilities
from payments.domain.money import Money
from payments.domain.routing import RoutingTable

TABLE = RoutingTable.parse("CO: wompi, payu; CO+cash: efecty; MX: payu; *: stripe")
ANY = GatewayCapabilities(None, None, frozenset({"card", "pse", "cash", "nequi"}))
CAPS = {
    "wompi": GatewayCapabilities(
        frozenset({"COP"}), frozenset({"CO"}), frozenset({"card", "pse", "nequi"})
    ),
    "payu": GatewayCapabilities(
        frozenset({"COP", "MXN", "USD"}), None, frozenset({"card", "pse", "cash"})
    ),
    "efecty": GatewayCapabilities(frozenset({"COP"}), frozenset({"CO"}), frozenset({"cash"})),
    "stripe": GatewayCapabilities(None, None, frozenset({"card"})),
}
COP = Money("95000", "COP")


def test_country_rule_gives_its_chain_in_order() -> None:
    decision = TABLE.route(country="CO", amount=COP, payment_method="card", capabilities=CAPS)
    assert decision.chain == ("wompi", "payu")
    assert "rule CO" in decision.reason


def test_cash_in_colombia_goes_to_efecty() -> None:
    decision = TABLE.route(country="CO", amount=COP, payment_method="cash", capabilities=CAPS)
    assert decision.chain == ("efecty",)


def test_gateway_that_cannot_serve_is_skipped_with_the_reason() -> None:
    decision = TABLE.route(
        country="CO",
        amount=COP,
        payment_method="cash",
        capabilities={
            **CAPS,
            "efecty": GatewayCapabilities(frozenset({"USD"}), None, frozenset({"cash"})),
        },
    )
    # The CO+cash rule has nobody left, so the CO rule applies: only payu takes cash.
    assert decision.chain == ("payu",)
    assert "wompi skipped" in decision.reason


def test_unknown_country_falls_back_to_the_wildcard() -> None:
    decision = TABLE.route(
        country="PT", amount=Money("79.99", "EUR"), payment_method=None, capabilities=CAPS
    )
    assert decision.chain == ("stripe",)


def test_requested_gateway_overrides_when_it_serves_the_market() -> None:
    decision = TABLE.route(
        country="CO", amount=COP, payment_method="card", capabilities=CAPS, requested="payu"
    )
    assert decision.chain == ("payu",)
    with pytest.raises(UnsupportedByGatewayError):
        TABLE.route(
            country="CO", amount=COP, payment_method="cash", capabilities=CAPS, requested="stripe"
        )


def test_no_gateway_for_the_market_is_a_clear_error() -> None:
    table = RoutingTable.parse("CO: wompi")
    with pytest.raises(UnsupportedByGatewayError, match="No gateway serves PT in EUR"):
        table.route(country="PT", amount=Money("1", "EUR"), payment_method=None, capabilities=CAPS)


@pytest.mark.parametrize("text", ["", "CO wompi", "COL: wompi", "CO+crypto: x", "CO: a; CO: b"])
def test_malformed_routing_is_a_configuration_error(text: str) -> None:
    with pytest.raises(ConfigurationError):
        RoutingTable.parse(text)


def test_unconfigured_gateway_in_a_chain_is_skipped_as_not_configured() -> None:
    caps = {name: cap for name, cap in CAPS.items() if name != "wompi"}
    decision = TABLE.route(country="CO", amount=COP, payment_method="card", capabilities=caps)
    assert decision.chain == ("payu",)
    assert "wompi skipped: not configured" in decision.reason


def test_requesting_an_unconfigured_gateway_says_it_is_not_configured() -> None:
    with pytest.raises(UnsupportedByGatewayError, match="'adyen' cannot be used: it is not config"):
        TABLE.route(
            country="CO", amount=COP, payment_method="card", capabilities=CAPS, requested="adyen"
        )
