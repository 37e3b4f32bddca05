"""PayU's amount text, offline: COP in whole pesos, the text signed is the text sent (§2.3, §5)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments.adapters.gateways.payu import from_payu_value, payu_amount_steps, to_payu_amount
from payments.domain.errors import (
    InvalidAmountError,
    UnknownCurrencyError,
    UnsupportedByGatewayError,
)
from payments.domain.gateway import GatewayCapabilities
from payments.domain.money import Money


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        ("65000.00", "COP", "65000"),  # the docs' API example signs 65000 (§2.5a, §6)
        ("10000.00", "COP", "10000"),  # §5: PayU API TX_VALUE for COP 10.000,00
        ("20000", "COP", "20000"),  # [PAYU-FORM] vector
        ("3", "USD", "3"),  # [PAYU-INT] vector
        ("150.25", "USD", "150.25"),
        ("150.20", "USD", "150.20"),
        ("1500", "CLP", "1500"),
        ("99.90", "MXN", "99.90"),
    ],
)
def test_money_becomes_the_text_payu_is_sent(amount: str, currency: str, text: str) -> None:
    assert to_payu_amount(Money(amount, currency)) == text


def test_cop_with_centavos_is_refused() -> None:
    # "This amount cannot include decimals" for Colombia (§2.3).
    with pytest.raises(InvalidAmountError):
        to_payu_amount(Money("50000.50", "COP"))


def test_currency_payu_does_not_take_is_refused() -> None:
    with pytest.raises(UnsupportedByGatewayError):
        to_payu_amount(Money("10.00", "EUR"))


@pytest.mark.parametrize("amount", ["0", "-5.00"])
def test_amount_that_is_not_positive_is_refused(amount: str) -> None:
    with pytest.raises(InvalidAmountError):
        to_payu_amount(Money(amount, "USD"))


def test_amount_beyond_the_currency_decimals_is_refused_not_rounded() -> None:
    with pytest.raises(InvalidAmountError):
        to_payu_amount(Money("10.005", "USD"))


def test_capabilities_refuse_cop_centavos_before_any_io() -> None:
    capabilities = GatewayCapabilities(
        currencies=frozenset({"COP"}),
        countries=None,
        payment_methods=frozenset({"card"}),
        amount_steps=payu_amount_steps(),
    )
    assert capabilities.refusal("CO", Money("50000.50", "COP"), "card") is not None
    assert capabilities.refusal("CO", Money("50000.00", "COP"), "card") is None


@given(st.integers(min_value=1, max_value=10**12))
def test_cop_amount_text_is_the_exact_amount(pesos: int) -> None:
    money = Money(Decimal(pesos), "COP")
    text = to_payu_amount(money)
    assert "." not in text
    assert Money(text, "COP") == money


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999999999.99"), places=2))
def test_usd_amount_text_is_the_exact_amount(amount: Decimal) -> None:
    assert Decimal(to_payu_amount(Money(amount, "USD"))) == amount


# -- the confirmation page's value (§2.6) --------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "currency", "money"),
    [
        ("10000.00", "COP", Money("10000", "COP")),  # §5: the webhook's COP value
        ("100.00", "USD", Money("100", "USD")),
        ("150.26", "USD", Money("150.26", "USD")),
        ("150", "usd", Money("150", "USD")),
    ],
)
def test_confirmation_value_becomes_money(value: str, currency: str, money: Money) -> None:
    assert from_payu_value(value, currency) == money


@pytest.mark.parametrize("value", ["", "1.000,00", "1,000.00", "-1.00", "1e3", "1.005", "NaN"])
def test_value_that_is_not_payu_text_is_refused(value: str) -> None:
    with pytest.raises(InvalidAmountError):
        from_payu_value(value, "COP")


def test_value_in_an_unknown_currency_is_refused() -> None:
    with pytest.raises(UnknownCurrencyError):
        from_payu_value("10.00", "XYZ")
