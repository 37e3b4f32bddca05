"""PSE banks from the gateways: cached for an hour, the last good list when a gateway is down."""

from __future__ import annotations

import pytest

from payments.adapters.memory import FakeGateway, FixedClock
from payments.domain.errors import GatewayUnavailableError, ValidationError
from payments.domain.gateway import Bank, GatewayCapabilities
from payments.domain.routing import RoutingTable
from payments.domain.services.banks import BankDirectory
from payments.domain.services.gateways import GatewayRegistry


def _directory(*gateways: FakeGateway) -> tuple[BankDirectory, FixedClock]:
    clock = FixedClock()
    return BankDirectory(GatewayRegistry(list(gateways)), clock), clock


def test_banks_come_from_a_gateway_that_takes_pse_in_the_country() -> None:
    cards_only = FakeGateway(
        "cards",
        capabilities=GatewayCapabilities(None, None, payment_methods=frozenset({"card"})),
    )
    pse = FakeGateway("pse")
    directory, clock = _directory(cards_only, pse)
    listing = directory.banks("CO")
    assert (listing.gateway, listing.stale) == ("pse", False)
    assert listing.banks == (Bank("1", "Banco que aprueba"), Bank("2", "Banco que rechaza"))
    assert listing.fetched_at == clock.now()
    assert ("banks", "CO") not in cards_only.calls


def test_a_list_is_asked_for_once_an_hour() -> None:
    gateway = FakeGateway("pse")
    directory, clock = _directory(gateway)
    directory.banks("CO")
    clock.advance(minutes=59)
    directory.banks("CO")
    assert gateway.calls.count(("banks", "CO")) == 1
    gateway.bank_list = [Bank("1007", "Bancolombia")]
    clock.advance(minutes=2)
    assert directory.banks("CO").banks == (Bank("1007", "Bancolombia"),)
    assert gateway.calls.count(("banks", "CO")) == 2


def test_a_gateway_outage_serves_the_last_good_list_marked_stale() -> None:
    gateway = FakeGateway("pse")
    directory, clock = _directory(gateway)
    first = directory.banks("CO")
    gateway.banks_unavailable = True
    clock.advance(hours=2)
    fallback = directory.banks("CO")
    assert fallback.stale
    assert (fallback.banks, fallback.fetched_at) == (first.banks, first.fetched_at)
    gateway.banks_unavailable = False
    assert not directory.banks("CO").stale


def test_no_list_at_all_is_gateway_unavailable() -> None:
    gateway = FakeGateway("pse")
    gateway.banks_unavailable = True
    directory, _ = _directory(gateway)
    with pytest.raises(GatewayUnavailableError):
        directory.banks("CO")


def test_the_next_gateway_answers_when_the_first_cannot() -> None:
    down, up = FakeGateway("down"), FakeGateway("up")
    down.banks_unavailable = True
    directory, _ = _directory(down, up)
    assert directory.banks("CO").gateway == "up"


def test_a_country_no_gateway_takes_pse_in_has_no_banks() -> None:
    colombia_only = FakeGateway(
        "wompi_like",
        capabilities=GatewayCapabilities(
            frozenset({"COP"}), frozenset({"CO"}), payment_methods=frozenset({"card", "pse"})
        ),
    )
    directory, _ = _directory(colombia_only)
    listing = directory.banks("MX")
    assert (listing.country, listing.gateway, listing.banks, listing.stale) == (
        "MX",
        None,
        (),
        False,
    )
    assert ("banks", "MX") not in colombia_only.calls


def test_an_empty_list_is_kept_like_any_other() -> None:
    gateway = FakeGateway("pse")
    gateway.bank_list = []
    directory, clock = _directory(gateway)
    for _ in range(3):
        listing = directory.banks("PE")
        assert (listing.gateway, listing.banks, listing.stale) == ("pse", (), False)
    assert gateway.calls.count(("banks", "PE")) == 1
    clock.advance(hours=2)
    gateway.bank_list = [Bank("1007", "Bancolombia")]
    assert directory.banks("PE").banks == (Bank("1007", "Bancolombia"),)


@pytest.mark.parametrize("country", ["", "C", "col", "c0", None, "CO\n", "C\u0000"])
def test_a_malformed_country_is_a_validation_error(country: object) -> None:
    directory, _ = _directory(FakeGateway("pse"))
    with pytest.raises(ValidationError):
        directory.banks(country)  # type: ignore[arg-type]


def test_the_gateways_routing_sends_pse_to_are_asked_first() -> None:
    first, routed = FakeGateway("first"), FakeGateway("routed")
    routing = RoutingTable.parse("CO+pse: routed, first; *: first")
    directory = BankDirectory(GatewayRegistry([first, routed]), FixedClock(), routing=routing)
    assert directory.banks("CO").gateway == "routed"
    assert ("banks", "CO") not in first.calls
    assert BankDirectory(GatewayRegistry([first, routed]), FixedClock()).banks("CO").gateway == (
        "first"
    )
