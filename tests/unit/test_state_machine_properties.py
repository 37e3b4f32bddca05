"""Property tests: no sequence of notifications regresses a capture or credits twice."""

from __future__ import annotations

import random
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from payments.domain.money import Money
from payments.domain.purchase import (
    CAPTURED_STATUSES,
    ApplyResult,
    GatewayObservation,
    ObservationSource,
    PaymentOutcome,
    PurchaseStatus,
)
from tests.unit.conftest import MERCHANT, bootstrap

outcomes = st.sampled_from(list(PaymentOutcome))
amounts = st.sampled_from(["79.99", "79.99", "79.99", "1.00"])


@settings(max_examples=150, deadline=None)
@given(
    events=st.lists(st.tuples(outcomes, amounts, st.integers(0, 5)), min_size=1, max_size=12),
    seed=st.integers(0, 1000),
)
def test_random_notifications_never_regress_a_capture_nor_credit_twice(
    events: list[tuple[PaymentOutcome, str, int]], seed: int
) -> None:
    payments = bootstrap()
    purchase_id = payments.buy(payments.premium_package())
    ref = payments.purchases.get(purchase_id, MERCHANT).gateway_reference
    assert ref is not None
    deliveries = []
    for outcome, amount, event_number in events:
        deliveries.append(
            payments.gateway.notification(
                ref, outcome, event_id=f"evt_{event_number}", amount=Money(amount, "EUR")
            )
        )
    deliveries = deliveries + deliveries[::2]
    random.Random(seed).shuffle(deliveries)
    captured = False
    for headers, body in deliveries:
        payments.notifications.receive("fake", headers, body)
        status = payments.purchases.get(purchase_id, MERCHANT).status
        if captured:
            assert status in CAPTURED_STATUSES
        captured = captured or status in CAPTURED_STATUSES
    credits = payments.accounts.get("cus_ana", MERCHANT).credits
    assert credits == (Decimal("8") if captured else Decimal("0"))


observations = st.tuples(outcomes, st.booleans(), st.sampled_from(["own", "own", "other", None]))


@settings(max_examples=200, deadline=None)
@given(sequence=st.lists(observations, max_size=10))
def test_apply_never_leaves_a_captured_state(
    sequence: list[tuple[PaymentOutcome, bool, str | None]],
) -> None:
    payments = bootstrap()
    purchase_id = payments.buy(payments.premium_package())
    purchase = payments.purchases.get(purchase_id, MERCHANT)
    own = purchase.gateway_reference
    now = payments.clock.now()
    checked_capture = False
    for outcome, with_amount, which in sequence:
        before, captured_reference = purchase.status, purchase.gateway_reference
        reference = {"own": own, "other": "pay_someone_else", None: None}[which]
        result = purchase.apply(
            GatewayObservation(
                "fake",
                outcome,
                ObservationSource.NOTIFICATION,
                gateway_reference=reference,
                amount=purchase.amount if with_amount else None,
            ),
            now,
            "test",
        )
        if before in CAPTURED_STATUSES:
            assert purchase.status is before
        if result is not ApplyResult.APPLIED:
            assert purchase.status is before
        if outcome is PaymentOutcome.SUCCEEDED and not with_amount:
            assert result is ApplyResult.CONFLICTING
        second_capture = reference is not None and reference != captured_reference
        if (
            outcome is PaymentOutcome.SUCCEEDED
            and with_amount
            and second_capture
            and (before in CAPTURED_STATUSES)
        ):
            assert result is ApplyResult.CONFLICTING
            assert purchase.needs_review
        checked_capture = checked_capture or (
            outcome is PaymentOutcome.SUCCEEDED and with_amount and which != "other"
        )
    completions = [e for e in purchase.events if e.name == "purchase.completed"]
    assert len(completions) <= 1
    if checked_capture:
        assert purchase.status is PurchaseStatus.COMPLETED
