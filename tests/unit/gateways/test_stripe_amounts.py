"""Stripe's amount codec, offline: every currency, no rounding, the exact inverse."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments.adapters.gateways.stripe import (
    from_stripe_amount,
    to_stripe_amount,
)
from payments.adapters.gateways.stripe.amounts import (
    THREE_DECIMAL_CURRENCIES,
    ZERO_DECIMAL_CURRENCIES,
)
from payments.domain.currency import all_currencies
from payments.domain.errors import (
    InvalidAmountError,
)
from payments.domain.money import Money
from tests.unit.gateways.stripe_objects import (
    gateway,
)

# -- amounts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "units"),
    [
        ("19.99", "EUR", 1999),
        ("0.01", "USD", 1),
        ("500", "JPY", 500),
        ("1500", "CLP", 1500),
        ("500", "MGA", 500),
        ("5.120", "KWD", 5120),
        ("5.12", "KWD", 5120),
        ("12.340", "BHD", 12340),
        ("10000.00", "COP", 1000000),
        ("10000", "COP", 1000000),
        ("500", "ISK", 50000),
    ],
)
def test_stripe_amount_vectors(amount: str, currency: str, units: int) -> None:
    money = Money(amount, currency)
    assert to_stripe_amount(money) == units
    assert from_stripe_amount(units, currency.lower()) == money


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("5.124", "KWD"),  # Stripe needs the third decimal to be 0: never rounded silently
        ("0.001", "OMR"),
        ("19.999", "EUR"),  # more precision than EUR has
        ("500.50", "MGA"),  # two ISO decimals, but zero-decimal at Stripe
        ("500.5", "ISK"),
        ("0.5", "JPY"),
    ],
)
def test_amounts_stripe_cannot_take_exactly_are_refused(amount: str, currency: str) -> None:
    with pytest.raises(InvalidAmountError):
        to_stripe_amount(Money(amount, currency))


def test_nineteen_ninety_nine_is_never_1998_cents() -> None:
    assert to_stripe_amount(Money(Decimal("19.99"), "EUR")) == 1999
    assert to_stripe_amount(Money("0.29", "EUR")) == 29
    assert to_stripe_amount(Money("1.15", "USD")) == 115


def test_from_stripe_amount_accepts_either_case_and_refuses_non_integers() -> None:
    assert (
        from_stripe_amount(1999, "eur") == from_stripe_amount(1999, "EUR") == Money("19.99", "EUR")
    )
    with pytest.raises(TypeError):
        from_stripe_amount(True, "eur")


def test_capabilities_declare_the_steps_stripe_charges_in() -> None:
    steps = gateway().capabilities.amount_steps
    assert {code: steps[code] for code in THREE_DECIMAL_CURRENCIES} == {
        "BHD": 10,
        "JOD": 10,
        "KWD": 10,
        "OMR": 10,
        "TND": 10,
    }
    assert steps["MGA"] == 100  # zero-decimal at Stripe, two decimals in ISO 4217
    assert "EUR" not in steps and "JPY" not in steps
    caps = gateway().capabilities
    assert caps.refusal("KW", Money("5.125", "KWD"), "card") is not None
    assert caps.refusal("KW", Money("5.120", "KWD"), "card") is None
    assert caps.refusal("MG", Money("500.50", "MGA"), "card") is not None


@given(st.sampled_from(all_currencies()), st.integers(min_value=1, max_value=10**9))
def test_capabilities_refuse_exactly_what_to_stripe_amount_refuses(
    currency: Any, minor: int
) -> None:
    money = Money.from_minor_units(minor, currency.code)
    refused_by_routing = gateway().capabilities.refusal("ES", money, "card") is not None
    try:
        to_stripe_amount(money)
    except InvalidAmountError:
        refused_by_codec = True
    else:
        refused_by_codec = False
    assert refused_by_routing == refused_by_codec


def _wire_step(code: str) -> int:
    return 100 if code == "ISK" else 10 if code in THREE_DECIMAL_CURRENCIES else 1


@given(
    currency=st.sampled_from(all_currencies()),
    units=st.integers(min_value=-(10**12), max_value=10**12),
)
def test_every_stripe_amount_round_trips_through_money(currency: Any, units: int) -> None:
    units -= units % _wire_step(currency.code)
    money = from_stripe_amount(units, currency.code.lower())
    assert money.currency == currency
    assert to_stripe_amount(money) == units


@given(
    currency=st.sampled_from(all_currencies()),
    minor=st.integers(min_value=0, max_value=10**12),
)
def test_exact_money_round_trips_or_is_refused(currency: Any, minor: int) -> None:
    money = Money.from_minor_units(minor, currency)
    try:
        units = to_stripe_amount(money)
    except InvalidAmountError:
        assert currency.code in THREE_DECIMAL_CURRENCIES | ZERO_DECIMAL_CURRENCIES
        return
    assert from_stripe_amount(units, currency.code) == money
