"""The purchase flow on the fakes: the must-have behaviours of the domain core."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from payments.adapters.memory import FakeGateway, InMemoryUnitOfWork
from payments.domain.errors import (
    GatewayUnavailableError,
    InvalidTransitionError,
    NotFoundError,
    RefundExceedsCapturedError,
)
from payments.domain.ledger import EntryKind
from payments.domain.money import Money
from payments.domain.purchase import PaymentOutcome, PurchaseStatus
from payments.domain.services.checkout import CreatePurchase
from tests.unit.conftest import MERCHANT, Payments, bootstrap, credits_of


def _status(payments: Payments, purchase_id: str) -> PurchaseStatus:
    return payments.purchases.get(purchase_id, MERCHANT).status


def _gateway_ref(payments: Payments, purchase_id: str) -> str:
    ref = payments.purchases.get(purchase_id, MERCHANT).gateway_reference
    assert ref is not None
    return ref


def test_success_notification_completes_and_credits_eight_hours(payments: Payments) -> None:
    product = payments.premium_package()
    purchase_id = payments.buy(product)
    assert _status(payments, purchase_id) is PurchaseStatus.PENDING

    payments.gateway.approve(_gateway_ref(payments, purchase_id))
    assert payments.deliver_all() == ["processed"]

    assert _status(payments, purchase_id) is PurchaseStatus.COMPLETED
    account = payments.accounts.get("cus_ana", MERCHANT)
    assert account.credits == Decimal("8.00")
    assert account.total_paid == (Money("79.99", "EUR"),)


def test_duplicate_webhook_credits_hours_once(payments: Payments) -> None:
    purchase_id = payments.buy(payments.premium_package())
    ref = _gateway_ref(payments, purchase_id)
    payments.gateway.approve(ref)
    assert payments.deliver_all(duplicates=3) == ["processed", "duplicate", "duplicate"]
    # A second, distinct success event for the same payment changes nothing either.
    headers, body = payments.gateway.notification(ref, PaymentOutcome.SUCCEEDED)
    assert payments.notifications.receive("fake", headers, body).status == "duplicate"

    account = payments.accounts.get("cus_ana", MERCHANT)
    assert account.credits == Decimal("8")
    assert account.total_paid == (Money("79.99", "EUR"),)
    assert [e.kind for e in account.entries].count(EntryKind.PURCHASE_CREDITS) == 1
    assert _status(payments, purchase_id) is PurchaseStatus.COMPLETED


def test_failure_then_success_on_same_payment_completes_once(payments: Payments) -> None:
    purchase_id = payments.buy(payments.premium_package())
    ref = _gateway_ref(payments, purchase_id)
    payments.gateway.decline(ref)
    payments.gateway.approve(ref)
    assert payments.deliver_all() == ["processed", "processed"]
    assert _status(payments, purchase_id) is PurchaseStatus.COMPLETED
    assert credits_of(payments) == Decimal("8")


def test_failure_after_completion_is_ignored(payments: Payments) -> None:
    purchase_id = payments.buy(payments.premium_package())
    ref = _gateway_ref(payments, purchase_id)
    payments.gateway.approve(ref)
    payments.gateway.decline(ref)
    assert payments.deliver_all() == ["processed", "ignored"]
    assert _status(payments, purchase_id) is PurchaseStatus.COMPLETED


def test_cancel_after_completion_is_refused(payments: Payments) -> None:
    purchase_id = payments.buy(payments.premium_package())
    payments.gateway.approve(_gateway_ref(payments, purchase_id))
    payments.deliver_all()
    with pytest.raises(InvalidTransitionError):
        payments.purchases.cancel(purchase_id, MERCHANT)
    assert _status(payments, purchase_id) is PurchaseStatus.COMPLETED


def test_success_after_local_expiry_completes_and_flags_for_review(payments: Payments) -> None:
    payments.gateway.pending_next()
    purchase_id = payments.buy(payments.premium_package())
    ref = _gateway_ref(payments, purchase_id)
    payments.clock.advance(hours=25)
    payments.gateway.payments[ref].outcome = PaymentOutcome.PROCESSING
    assert payments.purchases.expire_stale(max_age=timedelta(hours=24)) == [purchase_id]
    assert _status(payments, purchase_id) is PurchaseStatus.EXPIRED

    payments.gateway.approve(ref)
    assert payments.deliver_all() == ["processed"]
    purchase = payments.purchases.get(purchase_id, MERCHANT)
    assert purchase.status is PurchaseStatus.COMPLETED
    assert purchase.needs_review
    assert credits_of(payments) == Decimal("8")


def test_notification_with_another_amount_never_completes(payments: Payments) -> None:
    purchase_id = payments.buy(payments.premium_package())
    payments.gateway.approve(_gateway_ref(payments, purchase_id), amount=Money("7.99", "EUR"))
    assert payments.deliver_all() == ["conflict"]
    assert _status(payments, purchase_id) is PurchaseStatus.PENDING
    assert credits_of(payments) == Decimal("0")


def test_notification_with_another_currency_never_completes(payments: Payments) -> None:
    purchase_id = payments.buy(payments.premium_package())
    payments.gateway.approve(_gateway_ref(payments, purchase_id), amount=Money("79.99", "USD"))
    assert payments.deliver_all() == ["conflict"]
    assert _status(payments, purchase_id) is PurchaseStatus.PENDING


def _completed(payments: Payments) -> str:
    purchase_id = payments.buy(payments.premium_package())
    payments.gateway.approve(_gateway_ref(payments, purchase_id))
    payments.deliver_all()
    return purchase_id


def test_partial_refund_debits_credits_in_proportion(payments: Payments) -> None:
    purchase_id = _completed(payments)
    refund = payments.refunds.refund(purchase_id, Money("10.00", "EUR"), "asked", "admin")
    assert refund.status.value == "succeeded"
    assert _status(payments, purchase_id) is PurchaseStatus.PARTIALLY_REFUNDED
    account = payments.accounts.get("cus_ana", MERCHANT)
    assert account.credits == Decimal("7.00")
    assert account.total_paid == (Money("69.99", "EUR"),)


def test_refund_beyond_what_remains_is_refused_and_changes_nothing(payments: Payments) -> None:
    purchase_id = _completed(payments)
    payments.refunds.refund(purchase_id, Money("70.00", "EUR"), None, "admin")
    commits = payments.store.commits
    with pytest.raises(RefundExceedsCapturedError):
        payments.refunds.refund(purchase_id, Money("10.00", "EUR"), None, "admin")
    assert payments.store.commits == commits
    assert len(payments.refunds.for_purchase(purchase_id)) == 1
    assert payments.purchases.get(purchase_id, MERCHANT).refunded == Money("70.00", "EUR")


def test_full_refund_in_parts_takes_back_every_credit_exactly(payments: Payments) -> None:
    purchase_id = _completed(payments)
    for amount in ("33.33", "33.33", "13.33"):
        payments.refunds.refund(purchase_id, Money(amount, "EUR"), None, "admin")
    assert _status(payments, purchase_id) is PurchaseStatus.REFUNDED
    account = payments.accounts.get("cus_ana", MERCHANT)
    assert account.credits == Decimal("0")
    assert account.total_paid == (Money("0.00", "EUR"),)


def test_rejected_refund_is_reversed(payments: Payments) -> None:
    purchase_id = _completed(payments)
    payments.gateway.decline_next("insufficient_balance")
    refund = payments.refunds.refund(purchase_id, Money("10.00", "EUR"), None, "admin")
    assert refund.status.value == "failed"
    assert _status(payments, purchase_id) is PurchaseStatus.COMPLETED
    assert credits_of(payments) == Decimal("8.00")


def test_unknown_product_is_not_found(payments: Payments) -> None:
    with pytest.raises(NotFoundError):
        payments.purchases.create(
            CreatePurchase(product_id="prd_nope", country="PT", customer_id="c1"), MERCHANT
        )


def test_decline_at_start_leaves_purchase_failed_with_provider_code(payments: Payments) -> None:
    payments.gateway.decline_next("card_declined")
    purchase_id = payments.buy(payments.premium_package())
    purchase = payments.purchases.get(purchase_id, MERCHANT)
    assert purchase.status is PurchaseStatus.FAILED
    assert purchase.failure_code == "card_declined"


def test_failover_only_when_first_gateway_provably_did_not_charge() -> None:
    first, second = FakeGateway("first"), FakeGateway("second")
    payments = bootstrap([first, second], routing="*: first, second")
    product = payments.premium_package()
    first.fail_next(charged=False)
    purchase_id = payments.buy(product)
    purchase = payments.purchases.get(purchase_id, MERCHANT)
    assert purchase.gateway == "second"
    assert purchase.routing.chain == ("first", "second")

    first.fail_next(charged=True)
    with pytest.raises(GatewayUnavailableError):
        payments.buy(product, customer_id="cus_bob")
    assert len(second.payments) == 1


def test_consumption_is_idempotent_per_reference(payments: Payments) -> None:
    _completed(payments)
    payments.accounts.consume("cus_ana", Decimal("1.5"), "session-42")
    payments.accounts.consume("cus_ana", Decimal("1.5"), "session-42")
    assert credits_of(payments) == Decimal("6.50")


def test_credits_expire_after_the_package_validity(payments: Payments) -> None:
    _completed(payments)
    payments.accounts.consume("cus_ana", Decimal("2"), "s1")
    payments.clock.advance(days=61)
    account = payments.accounts.get("cus_ana", MERCHANT)
    assert account.credits == Decimal("0")
    assert account.expired_credits == Decimal("6")


def test_every_transition_leaves_an_audit_record(payments: Payments) -> None:
    purchase_id = _completed(payments)
    with InMemoryUnitOfWork(payments.store) as uow:
        trail = uow.purchases.audit_trail(purchase_id)
    assert [(a.from_status, a.to_status.value) for a in trail] == [
        (None, "pending"),
        (PurchaseStatus.PENDING, "completed"),
    ]
    assert trail[1].event_id is not None
