"""The purchase state machine of DESIGN §2, cell by cell, and the rules around captures."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from payments.adapters.memory import FakeGateway
from payments.adapters.memory.gateway import FakePayment
from payments.domain.errors import (
    GatewayConfigurationError,
    InvalidTransitionError,
    ValidationError,
)
from payments.domain.gateway import PayerDetails, PaymentRequest, PaymentStart
from payments.domain.money import Money
from payments.domain.purchase import (
    ApplyResult,
    GatewayObservation,
    ObservationSource,
    PaymentOutcome,
    Purchase,
    PurchaseStatus,
    RoutingDecision,
)
from payments.domain.services.checkout import CreatePurchase
from tests.unit.conftest import MERCHANT, Payments, bootstrap, credits_of

S = PurchaseStatus
Out = PaymentOutcome
A = ApplyResult
PRICE = Money("79.99", "EUR")

# DESIGN §2, read row by row: (status, observed outcome) -> (answer, status after, flagged).
TABLE: dict[tuple[PurchaseStatus, PaymentOutcome], tuple[ApplyResult, PurchaseStatus, bool]] = {
    (S.PENDING, Out.PROCESSING): (A.APPLIED, S.PROCESSING, False),
    (S.PENDING, Out.SUCCEEDED): (A.APPLIED, S.COMPLETED, False),
    (S.PENDING, Out.FAILED): (A.APPLIED, S.FAILED, False),
    (S.PENDING, Out.CANCELLED): (A.APPLIED, S.CANCELLED, False),
    (S.PENDING, Out.EXPIRED): (A.APPLIED, S.EXPIRED, False),
    (S.PROCESSING, Out.PROCESSING): (A.ALREADY_APPLIED, S.PROCESSING, False),
    (S.PROCESSING, Out.SUCCEEDED): (A.APPLIED, S.COMPLETED, False),
    (S.PROCESSING, Out.FAILED): (A.APPLIED, S.FAILED, False),
    (S.PROCESSING, Out.CANCELLED): (A.APPLIED, S.CANCELLED, False),
    (S.PROCESSING, Out.EXPIRED): (A.APPLIED, S.EXPIRED, False),
    (S.FAILED, Out.PROCESSING): (A.APPLIED, S.PROCESSING, False),  # the payer tries again
    (S.FAILED, Out.SUCCEEDED): (A.APPLIED, S.COMPLETED, False),  # a late success
    (S.FAILED, Out.FAILED): (A.ALREADY_APPLIED, S.FAILED, False),
    (S.FAILED, Out.CANCELLED): (A.APPLIED, S.CANCELLED, False),
    (S.FAILED, Out.EXPIRED): (A.APPLIED, S.EXPIRED, False),
    (S.CANCELLED, Out.PROCESSING): (A.STALE, S.CANCELLED, False),
    (S.CANCELLED, Out.SUCCEEDED): (A.APPLIED, S.COMPLETED, True),  # money moved: never lost
    (S.CANCELLED, Out.FAILED): (A.STALE, S.CANCELLED, False),
    (S.CANCELLED, Out.CANCELLED): (A.ALREADY_APPLIED, S.CANCELLED, False),
    (S.CANCELLED, Out.EXPIRED): (A.ALREADY_APPLIED, S.CANCELLED, False),
    (S.EXPIRED, Out.PROCESSING): (A.STALE, S.EXPIRED, False),
    (S.EXPIRED, Out.SUCCEEDED): (A.APPLIED, S.COMPLETED, True),
    (S.EXPIRED, Out.FAILED): (A.STALE, S.EXPIRED, False),
    (S.EXPIRED, Out.CANCELLED): (A.ALREADY_APPLIED, S.EXPIRED, False),
    (S.EXPIRED, Out.EXPIRED): (A.ALREADY_APPLIED, S.EXPIRED, False),
    (S.COMPLETED, Out.PROCESSING): (A.STALE, S.COMPLETED, False),
    (S.COMPLETED, Out.SUCCEEDED): (A.ALREADY_APPLIED, S.COMPLETED, False),
    (S.COMPLETED, Out.FAILED): (A.STALE, S.COMPLETED, False),
    (S.COMPLETED, Out.CANCELLED): (A.STALE, S.COMPLETED, False),
    (S.COMPLETED, Out.EXPIRED): (A.STALE, S.COMPLETED, False),
    **{
        (status, outcome): (A.STALE, status, False)
        for status in (S.PARTIALLY_REFUNDED, S.REFUNDED)
        for outcome in PaymentOutcome
    },
}


def a_purchase(payments: Payments, status: PurchaseStatus) -> Purchase:
    """A purchase at ``stripe`` under ``pi_1``, put straight into ``status``."""
    now = payments.clock.now()
    purchase = Purchase.create(
        id="pur_1",
        reference="ref_1",
        customer_id="cus_ana",
        product_id="prd_1",
        amount=PRICE,
        credits=Decimal("8"),
        validity_days=60,
        country="PT",
        payment_method=None,
        routing=RoutingDecision(("stripe",), "test"),
        now=now,
    )
    purchase.start_at_gateway("stripe", "pi_1", None, now)
    purchase.status = status
    if status is S.PARTIALLY_REFUNDED:
        purchase.refunded_amount = Money("10.00", "EUR")
    if status is S.REFUNDED:
        purchase.refunded_amount = PRICE
    purchase.pending_audit.clear()
    purchase.events.clear()
    return purchase


def seen(outcome: PaymentOutcome, **changes: object) -> GatewayObservation:
    fields: dict[str, object] = {
        "gateway": "stripe",
        "outcome": outcome,
        "source": ObservationSource.NOTIFICATION,
        "gateway_reference": "pi_1",
        "amount": PRICE,
        "event_id": "evt_1",
    }
    fields.update(changes)
    return GatewayObservation(**fields)  # type: ignore[arg-type]


def test_the_table_covers_every_status_and_outcome() -> None:
    assert set(TABLE) == {(s, o) for s in PurchaseStatus for o in PaymentOutcome}


@pytest.mark.parametrize(("status", "outcome"), sorted(TABLE, key=str))
def test_each_observation_moves_a_purchase_as_design_says(
    payments: Payments, status: PurchaseStatus, outcome: PaymentOutcome
) -> None:
    answer, after, flagged = TABLE[status, outcome]
    purchase = a_purchase(payments, status)
    result = purchase.apply(seen(outcome), payments.clock.now(), "stripe:test")
    assert (result, purchase.status, purchase.needs_review) == (answer, after, flagged)
    moved = after is not status
    assert len(purchase.pending_audit) == (1 if moved else 0)
    if moved:
        record = purchase.pending_audit[0]
        assert (record.from_status, record.to_status, record.event_id) == (status, after, "evt_1")
    completions = [e for e in purchase.events if e.name == "purchase.completed"]
    assert len(completions) == (1 if after is S.COMPLETED and moved else 0)
    flags = [e for e in purchase.events if e.name == "purchase.flagged_for_review"]
    assert len(flags) == (1 if flagged else 0)


@pytest.mark.parametrize("status", list(PurchaseStatus))
def test_a_different_amount_or_gateway_is_a_conflict_in_every_status(
    payments: Payments, status: PurchaseStatus
) -> None:
    now = payments.clock.now()
    for wrong in (
        {"amount": Money("7.99", "EUR")},
        {"amount": Money("79.99", "USD")},
        {"gateway": "payu"},
    ):
        purchase = a_purchase(payments, status)
        assert purchase.apply(seen(Out.SUCCEEDED, **wrong), now, "x") is A.CONFLICTING
        assert purchase.status is status
        assert purchase.pending_audit == []


def test_a_capture_without_an_amount_never_completes(payments: Payments) -> None:
    purchase = a_purchase(payments, S.PROCESSING)
    result = purchase.apply(seen(Out.SUCCEEDED, amount=None), payments.clock.now(), "x")
    assert result is A.CONFLICTING
    assert purchase.status is S.PROCESSING


@pytest.mark.parametrize("status", [S.COMPLETED, S.PARTIALLY_REFUNDED, S.REFUNDED])
def test_a_second_capture_of_a_captured_purchase_is_flagged_for_review(
    payments: Payments, status: PurchaseStatus
) -> None:
    purchase = a_purchase(payments, status)
    result = purchase.apply(
        seen(Out.SUCCEEDED, gateway_reference="pi_2"), payments.clock.now(), "x"
    )
    assert result is A.CONFLICTING
    assert purchase.status is status
    assert purchase.needs_review
    assert purchase.review_reason is not None and "pi_2" in purchase.review_reason
    assert [e.name for e in purchase.events] == ["purchase.flagged_for_review"]


@pytest.mark.parametrize(
    ("status", "cancelled"),
    [
        (S.PENDING, True),
        (S.PROCESSING, True),
        (S.FAILED, True),
        (S.CANCELLED, False),
        (S.EXPIRED, False),
    ],
)
def test_cancel_stops_what_was_not_captured(
    payments: Payments, status: PurchaseStatus, cancelled: bool
) -> None:
    purchase = a_purchase(payments, status)
    assert purchase.cancel(payments.clock.now(), "key_admin") is cancelled
    assert purchase.status is (S.CANCELLED if cancelled else status)


@pytest.mark.parametrize("status", [S.COMPLETED, S.PARTIALLY_REFUNDED, S.REFUNDED])
def test_cancel_after_a_capture_is_refused(payments: Payments, status: PurchaseStatus) -> None:
    purchase = a_purchase(payments, status)
    with pytest.raises(InvalidTransitionError):
        purchase.cancel(payments.clock.now(), "key_admin")
    assert purchase.status is status


@pytest.mark.parametrize(
    ("status", "expired"),
    [(s, s in (S.PENDING, S.PROCESSING, S.FAILED)) for s in PurchaseStatus],
)
def test_only_an_uncaptured_open_or_failed_purchase_expires(
    payments: Payments, status: PurchaseStatus, expired: bool
) -> None:
    purchase = a_purchase(payments, status)
    assert purchase.expire(payments.clock.now()) is expired
    assert purchase.status is (S.EXPIRED if expired else status)


def test_releasing_more_than_was_refunded_is_refused(payments: Payments) -> None:
    purchase = a_purchase(payments, S.PARTIALLY_REFUNDED)  # 10.00 refunded
    now = payments.clock.now()
    for amount in (Money("10.01", "EUR"), Money("10.00", "USD"), Money("-1.00", "EUR")):
        with pytest.raises(ValidationError):
            purchase.release_refund(amount, "ref_x", now, "x")
    assert purchase.refunded == Money("10.00", "EUR")
    purchase.release_refund(Money("10.00", "EUR"), "ref_x", now, "x")
    assert (purchase.status, purchase.refunded) == (S.COMPLETED, Money("0.00", "EUR"))


# -- the same rules through the use cases, on the fakes -------------------------------------------


def test_a_second_payment_captured_for_a_completed_purchase_is_kept_for_an_operator(
    payments: Payments,
) -> None:
    purchase_id = payments.buy(payments.premium_package())
    purchase = payments.purchases.get(purchase_id, MERCHANT)
    assert purchase.gateway_reference is not None
    payments.gateway.approve(purchase.gateway_reference)
    payments.gateway.payments["pay_second"] = FakePayment("pay_second", purchase.reference, PRICE)
    payments.gateway.approve("pay_second")
    assert payments.deliver_all() == ["processed", "conflict"]
    purchase = payments.purchases.get(purchase_id, MERCHANT)
    assert purchase.status is S.COMPLETED
    assert purchase.needs_review
    assert credits_of(payments) == Decimal("8")
    conflicts = [m for m in payments.store.tables.inbox.values() if m.status.value == "conflict"]
    assert [m.purchase_id for m in conflicts] == [purchase_id]


def test_a_cancel_the_provider_answers_with_a_capture_completes_and_flags(
    payments: Payments,
) -> None:
    purchase_id = payments.buy(payments.premium_package())
    reference = payments.purchases.get(purchase_id, MERCHANT).gateway_reference
    assert reference is not None
    payments.gateway.payments[reference].outcome = Out.SUCCEEDED  # captured; no notification yet
    purchase = payments.purchases.cancel(purchase_id, MERCHANT)
    assert purchase.status is S.COMPLETED
    assert purchase.needs_review
    assert credits_of(payments) == Decimal("8")


def test_a_cancel_the_provider_confirms_leaves_the_purchase_cancelled(payments: Payments) -> None:
    purchase_id = payments.buy(payments.premium_package())
    purchase = payments.purchases.cancel(purchase_id, MERCHANT)
    assert purchase.status is S.CANCELLED
    assert ("cancel", purchase.gateway_reference) in payments.gateway.calls
    assert not purchase.needs_review


def test_reconciliation_settles_a_purchase_stuck_open_from_the_providers_answer(
    payments: Payments,
) -> None:
    purchase_id = payments.buy(payments.premium_package())
    reference = payments.purchases.get(purchase_id, MERCHANT).gateway_reference
    assert reference is not None
    payments.gateway.payments[reference].outcome = Out.SUCCEEDED  # its notification was lost
    payments.clock.advance(minutes=5)
    early = payments.purchases.reconcile(expire_after=timedelta(hours=24))
    assert (early.looked_up, early.settled) == (0, [])
    payments.clock.advance(minutes=15)
    report = payments.purchases.reconcile(expire_after=timedelta(hours=24))
    assert (report.looked_up, report.settled, report.expired) == (1, [purchase_id], [])
    assert payments.purchases.get(purchase_id, MERCHANT).status is S.COMPLETED
    assert credits_of(payments) == Decimal("8")


class RevokedKeyGateway(FakeGateway):
    """A provider whose lookups fail as a revoked key does: a configuration error."""

    def lookup(self, reference: str, gateway_reference: str | None) -> GatewayObservation | None:
        if reference == self.broken:
            raise GatewayConfigurationError("The provider refused our credentials.")
        return super().lookup(reference, gateway_reference)

    broken = ""


def test_one_failing_lookup_never_stops_the_sweep() -> None:
    gateway = RevokedKeyGateway("fake")
    payments = bootstrap([gateway])
    product = payments.premium_package()
    first, second = payments.buy(product), payments.buy(product, "cus_bea")
    gateway.broken = payments.purchases.get(first, MERCHANT).reference
    payments.clock.advance(hours=25)
    report = payments.purchases.reconcile(expire_after=timedelta(hours=24))
    assert report.errors == {first: "gateway_misconfigured"}
    assert report.expired == [second]
    assert payments.purchases.get(first, MERCHANT).is_open
    expired = payments.purchases.get(second, MERCHANT)
    assert expired.status is S.EXPIRED
    assert ("cancel", expired.gateway_reference) in gateway.calls  # the payer can't pay it now


def test_repeated_first_purchases_of_a_new_customer_share_one_customer(
    payments: Payments,
) -> None:
    product = payments.premium_package()
    ids = [
        payments.purchases.create(
            CreatePurchase(product_id=product.id, country="PT", customer_id="cus_new"), MERCHANT
        ).customer_id
        for _ in range(3)
    ]
    assert ids == ["cus_new"] * 3
    assert list(payments.store.tables.customers) == ["cus_new"]


class RecordingGateway(FakeGateway):
    """Keeps every payment request it was sent, to check what reached the provider."""

    def __init__(self) -> None:
        super().__init__("fake")
        self.sent: list[PaymentRequest] = []

    def start_payment(self, request: PaymentRequest) -> PaymentStart:
        self.sent.append(request)
        return super().start_payment(request)


def test_pse_payer_details_and_bank_reach_the_gateway() -> None:
    gateway = RecordingGateway()
    payments = bootstrap([gateway])
    product = payments.premium_package()
    details = PayerDetails(
        phone="3001234567",
        document_type="CC",
        document_number="1020304050",
        person_type="natural",
        ip_address="203.0.113.7",
    )
    payments.purchases.create(
        CreatePurchase(
            product_id=product.id,
            country="CO",
            customer_id="cus_ana",
            payment_method="pse",
            payer=details,
            bank_code="1007",
        ),
        MERCHANT,
    )
    [request] = gateway.sent
    assert request.bank_code == "1007"
    assert (request.payer.document_type, request.payer.document_number) == ("CC", "1020304050")
    assert (request.payer.person_type, request.payer.phone) == ("natural", "3001234567")
    assert request.payer.ip_address == "203.0.113.7"


@pytest.mark.parametrize(
    ("details", "bank_code", "field"),
    [
        (PayerDetails(person_type="company"), None, "payer.person_type"),
        (PayerDetails(document_number="1" * 65), None, "payer.document_number"),
        (PayerDetails(phone=3001234567), None, "payer.phone"),  # type: ignore[arg-type]
        (None, "", "bank_code"),
    ],
)
def test_bad_payer_details_are_refused_before_anything_is_created(
    payments: Payments, details: PayerDetails | None, bank_code: str | None, field: str
) -> None:
    product = payments.premium_package()
    with pytest.raises(ValidationError) as refused:
        payments.purchases.create(
            CreatePurchase(
                product_id=product.id,
                country="CO",
                customer_id="cus_ana",
                payer=details,
                bank_code=bank_code,
            ),
            MERCHANT,
        )
    assert field in [e.field for e in refused.value.errors]
    assert payments.store.tables.purchases == {}
