"""A provider's API answer carrying an id we cannot store leaves the purchase pending, never
half-written, and reconciliation still ends it."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from payments.adapters.memory import FakeGateway, FixedClock
from payments.domain import gateway
from payments.domain.access import Principal, Role
from payments.domain.errors import GatewayUnavailableError
from payments.domain.money import Money
from payments.domain.provider_strings import (
    MAX_IDENTITY_LENGTH,
    admit_observation,
    admit_refund_result,
    admit_start,
)
from payments.domain.purchase import GatewayObservation, ObservationSource, PaymentOutcome
from payments.domain.refund import RefundStatus
from payments.domain.services.checkout import CreatePurchase
from payments.testing import bootstrap

MERCHANT = Principal(Role.MERCHANT, "key_merchant")
TOO_LONG = "pi_" + "x" * MAX_IDENTITY_LENGTH


class LongIdGateway(FakeGateway):
    """The fake, answering every start with a payment id longer than we store."""

    def start_payment(self, request: gateway.PaymentRequest) -> gateway.PaymentStart:
        return dataclasses.replace(super().start_payment(request), gateway_reference=TOO_LONG)


def test_a_start_answered_with_an_unstorable_id_stays_pending_and_expires() -> None:
    fake, clock = LongIdGateway("fake"), FixedClock()
    payments = bootstrap(gateways=[fake], clock=clock)
    product = payments.catalog.create(
        name="Pack", kind="package", price=Money("10.00", "EUR"), credits="1", validity_days=30
    )

    with pytest.raises(GatewayUnavailableError) as caught:
        payments.purchases.create(
            CreatePurchase(product_id=product.id, country="PT", customer_id="cus_ana"), MERCHANT
        )

    assert caught.value.charged_possible
    (purchase,) = payments.purchases.list_purchases(MERCHANT).items
    assert purchase.status.value == "pending"
    assert purchase.gateway_reference is None
    clock.advance(hours=25)
    report = payments.purchases.reconcile(expire_after=timedelta(hours=24))
    assert report.expired == [purchase.id]


@pytest.mark.parametrize("value", ["ok_id", None])
def test_storable_answers_pass_unchanged(value: str | None) -> None:
    observation = GatewayObservation(
        gateway="fake",
        outcome=PaymentOutcome.SUCCEEDED,
        source=ObservationSource.LOOKUP,
        gateway_reference=value,
    )
    assert admit_observation("fake", observation) is observation
    start = gateway.PaymentStart("pay_1", None, observation)
    assert admit_start("fake", start) is start


@pytest.mark.parametrize("bad", [TOO_LONG, "pay\x00"])
def test_unstorable_answer_ids_are_an_outage_that_may_have_acted(bad: str) -> None:
    with pytest.raises(GatewayUnavailableError) as caught:
        admit_refund_result("fake", gateway.RefundResult(bad, RefundStatus.PENDING))
    assert caught.value.charged_possible
    with pytest.raises(GatewayUnavailableError):
        admit_start("fake", gateway.PaymentStart(bad, None))
