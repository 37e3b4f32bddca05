"""Invoice numbers, tax rates and the tax included in a price, to the minor unit, half-even."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from payments.config import Settings
from payments.domain.errors import ConfigurationError
from payments.domain.invoice import (
    Invoice,
    InvoicePolicy,
    InvoiceStatus,
    included_tax,
    invoice_number,
    parse_tax_rates,
)
from payments.domain.money import Money


def test_numbers_carry_the_series_the_year_and_six_digits() -> None:
    assert invoice_number("INV", 2026, 1) == "INV-2026-000001"
    assert invoice_number("B2B", 2027, 123456) == "B2B-2027-123456"


@pytest.mark.parametrize(
    ("total", "rate", "tax"),
    [
        (Money("79.99", "EUR"), "19", Money("12.77", "EUR")),  # 12.7715...
        (Money("1000", "JPY"), "10", Money("91", "JPY")),  # 90.909... to the yen
        (Money("3", "JPY"), "20", Money("0", "JPY")),  # 0.5 -> 0: half to even
        (Money("9", "JPY"), "20", Money("2", "JPY")),  # 1.5 -> 2: half to even
        (Money("0.03", "EUR"), "20", Money("0.00", "EUR")),  # 0.005 -> 0.00
        (Money("10.000", "KWD"), "5", Money("0.476", "KWD")),  # three decimals
        (Money("50.00", "EUR"), "0", Money("0.00", "EUR")),
    ],
)
def test_the_tax_included_in_a_total_is_rounded_half_even_to_the_minor_unit(
    total: Money, rate: str, tax: Money
) -> None:
    figures = included_tax(total, Decimal(rate))

    assert figures.tax == tax
    assert figures.subtotal + figures.tax == figures.total == total
    assert figures.tax.is_exact and figures.subtotal.is_exact


@given(
    units=st.integers(min_value=1, max_value=10**12),
    currency=st.sampled_from(["EUR", "JPY", "KWD", "COP"]),
    rate=st.decimals(min_value=0, max_value=Decimal("99.9999"), places=4),
)
def test_subtotal_and_tax_always_add_up_to_the_total_exactly(
    units: int, currency: str, rate: Decimal
) -> None:
    total = Money.from_minor_units(units, currency)

    figures = included_tax(total, rate)

    assert figures.subtotal + figures.tax == total
    assert figures.tax.is_exact
    assert not figures.tax.is_negative and figures.tax <= total


def test_an_issued_invoice_is_paid_with_one_line_and_its_country_rate() -> None:
    policy = InvoicePolicy("INV", {"CO": Decimal(19)})
    now = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)

    invoice = Invoice.issue(
        id="inv_1",
        sequence=42,
        policy=policy,
        purchase_id="pur_1",
        customer_id="cus_ana",
        country="co",
        description="8 Hour Premium Package",
        paid=Money("119.00", "COP"),
        now=now,
    )

    assert invoice.number == "INV-2026-000042"
    assert invoice.status is InvoiceStatus.PAID
    assert invoice.figures.tax == Money("19.00", "COP")
    assert [(line.quantity, line.total) for line in invoice.lines] == [(1, Money("119", "COP"))]
    assert invoice.follow_refunds(True, now) and invoice.status is InvoiceStatus.VOID
    assert not invoice.follow_refunds(True, now)
    assert invoice.follow_refunds(False, now) and invoice.status is InvoiceStatus.PAID


def test_tax_rates_are_read_from_settings() -> None:
    settings = Settings.from_env(
        {"PAYMENTS_TAX_RATES": "CO:19, mx:16, PE:18.5", "PAYMENTS_INVOICE_SERIES": "b2b"}
    )

    assert settings.invoicing.series == "B2B"
    assert settings.invoicing.tax_rate("CO") == Decimal(19)
    assert settings.invoicing.tax_rate("MX") == Decimal(16)
    assert settings.invoicing.tax_rate("PE") == Decimal("18.5")
    assert settings.invoicing.tax_rate("PT") == 0
    assert Settings.from_env({}).invoicing == InvoicePolicy("INV", {})


@pytest.mark.parametrize(
    "variables",
    [
        {"PAYMENTS_TAX_RATES": "CO"},
        {"PAYMENTS_TAX_RATES": "CO:100"},
        {"PAYMENTS_TAX_RATES": "CO:-1"},
        {"PAYMENTS_TAX_RATES": "CO:19,CO:16"},
        {"PAYMENTS_TAX_RATES": "COL:19"},
        {"PAYMENTS_TAX_RATES": "CO:19.12345"},
        {"PAYMENTS_INVOICE_SERIES": "INV-2026"},
        {"PAYMENTS_INVOICE_SERIES": "ABCDEFGHIJKLM"},
    ],
)
def test_malformed_invoicing_settings_stop_the_start_naming_the_variables(
    variables: dict[str, str],
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        Settings.from_env(variables)

    assert "PAYMENTS_INVOICE_SERIES or PAYMENTS_TAX_RATES" in str(refused.value)
    for value in variables.values():
        assert value not in str(refused.value)


def test_parse_tax_rates_ignores_empty_parts() -> None:
    assert parse_tax_rates(" , CO:19 ,") == {"CO": Decimal(19)}
