"""Wompi's ``amount_in_cents``, offline: COP 50,000.00 is exactly 5000000 (§3.3, §5)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments.adapters.gateways.wompi import (
    from_amount_in_cents,
    to_amount_in_cents,
    wompi_amount_steps,
)
from payments.domain.errors import InvalidAmountError, UnsupportedByGatewayError
from payments.domain.gateway import GatewayCapabilities
from payments.domain.money import Money


@pytest.mark.parametrize(
    ("amount", "cents"),
    [
        ("50000.00", 5000000),  # issue 10: a COP price of 50,000.00 is exactly 5000000
        ("95000", 9500000),  # "$95.000 COP -> 9500000" (§5)
        ("10000.00", 1000000),  # §5 table: COP 10.000,00
        ("24900", 2490000),  # the integrity vector's amount (§3.4)
        ("44900", 4490000),  # the events page's amount (§3.5)
    ],
)
def test_cop_becomes_amount_in_cents(amount: str, cents: int) -> None:
    assert to_amount_in_cents(Money(amount, "COP")) == cents


def test_amount_in_cents_is_never_formatted_with_grouping() -> None:
    assert str(to_amount_in_cents(Money("44900", "COP"))) == "4490000"


def test_only_cop_is_taken() -> None:
    with pytest.raises(UnsupportedByGatewayError):
        to_amount_in_cents(Money("10.00", "USD"))


@pytest.mark.parametrize("amount", ["50000.50", "0", "-100", "1.001"])
def test_amount_wompi_cannot_be_sent_is_refused(amount: str) -> None:
    # Non-zero centavos are UNCONFIRMED at Wompi (§5, §7): refused rather than risked.
    with pytest.raises(InvalidAmountError):
        to_amount_in_cents(Money(amount, "COP"))


def test_capabilities_refuse_cop_centavos_before_any_io() -> None:
    capabilities = GatewayCapabilities(
        currencies=frozenset({"COP"}),
        countries=frozenset({"CO"}),
        payment_methods=frozenset({"card", "nequi", "pse"}),
        amount_steps=wompi_amount_steps(),
    )
    assert capabilities.refusal("CO", Money("50000.50", "COP"), "card") is not None
    assert capabilities.refusal("CO", Money("50000.00", "COP"), "card") is None


def test_notified_amount_becomes_money() -> None:
    assert from_amount_in_cents(4490000, "COP") == Money("44900.00", "COP")
    assert from_amount_in_cents(4490050, "cop") == Money("44900.50", "COP")


@pytest.mark.parametrize("cents", [True, 4490000.0, "4490000"])
def test_notified_amount_that_is_not_an_int_is_refused(cents: object) -> None:
    with pytest.raises(TypeError):
        from_amount_in_cents(cents, "COP")  # type: ignore[arg-type]


@given(st.integers(min_value=1, max_value=10**12))
def test_amount_in_cents_round_trips(pesos: int) -> None:
    money = Money(pesos, "COP")
    cents = to_amount_in_cents(money)
    assert cents == pesos * 100
    assert from_amount_in_cents(cents, "COP") == money
