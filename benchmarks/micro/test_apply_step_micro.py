"""The state machine's apply step: a processing purchase completed by a provider's
notification, and the same notification again (pytest-benchmark, run on demand)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from pytest_benchmark.fixture import BenchmarkFixture

from payments.domain.money import Money
from payments.domain.next_action import ClientSecretAction
from payments.domain.purchase import (
    ApplyResult,
    GatewayObservation,
    ObservationSource,
    PaymentOutcome,
    Purchase,
    RoutingDecision,
)

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
PRICE = Money("79.99", "EUR")


def _processing() -> Purchase:
    purchase = Purchase.create(
        id="pur_micro",
        reference="ref_micro",
        customer_id="cus_micro",
        product_id="prd_micro",
        amount=PRICE,
        credits=Decimal(8),
        validity_days=60,
        country="PT",
        payment_method="card",
        routing=RoutingDecision(("stripe",), "micro-benchmark"),
        now=NOW,
    )
    purchase.start_at_gateway("stripe", "pi_micro", ClientSecretAction("pi_micro_secret"), NOW)
    purchase.apply(_observation(PaymentOutcome.PROCESSING), NOW, "stripe")
    purchase.events.clear()
    purchase.pending_audit.clear()
    return purchase


def _observation(outcome: PaymentOutcome) -> GatewayObservation:
    return GatewayObservation(
        gateway="stripe",
        outcome=outcome,
        source=ObservationSource.NOTIFICATION,
        gateway_reference="pi_micro",
        reference="ref_micro",
        amount=PRICE,
    )


SUCCEEDED = _observation(PaymentOutcome.SUCCEEDED)


def test_a_success_completes_a_processing_purchase(benchmark: BenchmarkFixture) -> None:
    def apply(purchase: Purchase) -> ApplyResult:
        return purchase.apply(SUCCEEDED, NOW, "stripe:payment_intent.succeeded")

    result = benchmark.pedantic(
        apply, setup=lambda: ((_processing(),), {}), rounds=2000, warmup_rounds=10
    )
    assert result is ApplyResult.APPLIED


def test_the_same_success_again_changes_nothing(benchmark: BenchmarkFixture) -> None:
    purchase = _processing()
    purchase.apply(SUCCEEDED, NOW, "stripe")
    result = benchmark(purchase.apply, SUCCEEDED, NOW, "stripe")
    assert result is ApplyResult.ALREADY_APPLIED
