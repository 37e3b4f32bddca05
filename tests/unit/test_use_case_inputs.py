"""Use cases refuse bad input with the domain's errors, and the ledger edge cases hold."""

from __future__ import annotations

from decimal import Decimal

import pytest

from payments.domain.errors import (
    IdempotencyConflictError,
    InsufficientCreditsError,
    PaymentsError,
    ValidationError,
)
from payments.domain.money import Money
from tests.unit.conftest import MERCHANT, Payments, credits_of


def _completed(payments: Payments) -> str:
    purchase_id = payments.buy(payments.premium_package())
    reference = payments.purchases.get(purchase_id, MERCHANT).gateway_reference
    assert reference is not None
    payments.gateway.approve(reference)
    assert payments.deliver_all() == ["processed"]
    return purchase_id


@pytest.mark.parametrize("credits", [1, 1.5, "1", None, Decimal("NaN"), Decimal("0.001")])
def test_consuming_anything_but_a_decimal_of_credits_is_a_validation_error(
    payments: Payments, credits: object
) -> None:
    _completed(payments)
    with pytest.raises(ValidationError) as refused:
        payments.accounts.consume("cus_ana", credits, "session-1")  # type: ignore[arg-type]
    assert [e.field for e in refused.value.errors] == ["credits"]
    assert credits_of(payments) == Decimal("8")


@pytest.mark.parametrize("reference", ["", None, 42, "x" * 201])
def test_consuming_without_a_usable_reference_is_refused(
    payments: Payments, reference: object
) -> None:
    _completed(payments)
    with pytest.raises(ValidationError):
        payments.accounts.consume("cus_ana", Decimal("1"), reference)  # type: ignore[arg-type]


def test_consuming_more_than_the_balance_is_refused_and_changes_nothing(
    payments: Payments,
) -> None:
    _completed(payments)
    with pytest.raises(InsufficientCreditsError) as refused:
        payments.accounts.consume("cus_ana", Decimal("8.01"), "session-1")
    assert refused.value.details == {"available": "8.00"}
    assert credits_of(payments) == Decimal("8")


def test_a_consumption_reference_reused_for_another_amount_is_a_conflict(
    payments: Payments,
) -> None:
    _completed(payments)
    payments.accounts.consume("cus_ana", Decimal("1"), "session-1")
    with pytest.raises(IdempotencyConflictError):
        payments.accounts.consume("cus_ana", Decimal("2"), "session-1")
    assert credits_of(payments) == Decimal("7")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"validity_days": "60"}, "validity_days"),
        ({"validity_days": 60.5}, "validity_days"),
        ({"validity_days": True}, "validity_days"),
        ({"trial_days": 1.5}, "trial_days"),
        ({"price": Decimal("79.99")}, "price"),
        ({"price": Money("1000000000000", "EUR")}, "price"),
        ({"price": Money("0", "EUR")}, "price"),
        ({"credits": 8.0}, "credits"),
        ({"name": 42}, "name"),
    ],
)
def test_a_bad_product_field_is_named_in_a_validation_error(
    payments: Payments, changes: dict[str, object], field: str
) -> None:
    fields: dict[str, object] = {
        "name": "8 Hour Premium Package",
        "kind": "package",
        "price": Money("79.99", "EUR"),
        "credits": "8",
        "validity_days": 60,
    }
    fields.update(changes)
    with pytest.raises(ValidationError) as refused:
        payments.catalog.create(**fields)  # type: ignore[arg-type]
    assert field in [e.field for e in refused.value.errors]
    assert payments.catalog.list_products() == []


def test_the_largest_price_we_store_is_accepted(payments: Payments) -> None:
    product = payments.catalog.create(
        name="Campus licence",
        kind="package",
        price=Money("999999999999.99", "EUR") - Money("0.99", "EUR"),
        credits="1",
        validity_days=365,
    )
    assert product.price == Money("999999999999.00", "EUR")


@pytest.mark.parametrize("amount", [Decimal("10.00"), "10.00", 10])
def test_a_refund_amount_that_is_not_money_is_a_validation_error(
    payments: Payments, amount: object
) -> None:
    purchase_id = _completed(payments)
    with pytest.raises(ValidationError):
        payments.refunds.refund(purchase_id, amount, None, "admin")  # type: ignore[arg-type]
    assert credits_of(payments) == Decimal("8")


def test_credits_of_a_rejected_refund_expire_with_their_package(payments: Payments) -> None:
    purchase_id = _completed(payments)
    payments.gateway.decline_next("insufficient_balance")
    refund = payments.refunds.refund(purchase_id, Money("10.00", "EUR"), None, "admin")
    assert refund.status.value == "failed"
    assert credits_of(payments) == Decimal("8.00")
    payments.clock.advance(days=61)
    account = payments.accounts.get("cus_ana", MERCHANT)
    assert (account.credits, account.expired_credits) == (Decimal("0"), Decimal("8.00"))


def test_refunding_hours_already_used_leaves_the_customer_owing_them(
    payments: Payments,
) -> None:
    purchase_id = _completed(payments)
    payments.accounts.consume("cus_ana", Decimal("8"), "all-hours")
    payments.refunds.refund(purchase_id, Money("10.00", "EUR"), None, "admin")
    assert credits_of(payments) == Decimal("-1.00")
    _completed(payments)  # the next package pays the debt first
    assert credits_of(payments) == Decimal("7.00")


def test_every_use_case_error_is_a_payments_error(payments: Payments) -> None:
    _completed(payments)
    attempts = [
        lambda: payments.accounts.consume("cus_ana", "1", "s"),  # type: ignore[arg-type]
        lambda: payments.accounts.consume("cus_nobody", Decimal("1"), "s"),
        lambda: payments.refunds.refund("pur_nope", None, None, "admin"),
        lambda: payments.catalog.get("prd_nope"),
    ]
    for attempt in attempts:
        with pytest.raises(PaymentsError):
            attempt()
