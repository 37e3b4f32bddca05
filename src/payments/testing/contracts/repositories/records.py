"""The repository contract, round trips: what is stored comes back field for field."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from payments.domain.access import ApiKey, Role
from payments.domain.catalog import Product
from payments.domain.errors import ConflictError
from payments.domain.money import Money
from payments.domain.next_action import CashVoucherAction, ClientSecretAction, RedirectAction
from payments.domain.ports import UnitOfWork
from payments.domain.purchase import PaymentOutcome, PurchaseStatus, RoutingDecision
from payments.domain.refund import RefundStatus
from payments.testing.contracts.repositories.base import UnitOfWorkFixtures
from payments.testing.contracts.repositories.builders import (
    T0,
    a_customer,
    a_product,
    a_purchase,
    a_refund,
    as_stored,
    is_utc,
    observation,
    seed,
)
from payments.testing.expect import expect, expect_equal, present


class RoundTripContract(UnitOfWorkFixtures):
    """Every repository gives back what it was given: exact amounts, UTC times, every field."""

    def test_product_comes_back_with_its_exact_price(self, uow: UnitOfWork) -> None:
        plan = Product.create(
            id="prd_plan",
            name="Monthly plan",
            kind="plan",
            price=Money("5.120", "KWD"),
            credits="2.5",
            billing_cycle="monthly",
            trial_days=14,
            active=False,
            created_at=T0 + timedelta(seconds=1),
        )
        with uow:
            uow.products.add(a_product())
            uow.products.add(plan)
            uow.commit()
        with uow:
            package = uow.products.get("prd_hours")
            stored_plan = uow.products.get("prd_plan")
            active = uow.products.list()
            every = uow.products.list(active_only=False)
            missing = uow.products.get("prd_nope")
        expect_equal(package, a_product())
        expect(package is not None and str(package.price) == "79.99 EUR")
        expect_equal(stored_plan, plan)
        expect(stored_plan is not None and is_utc(stored_plan.created_at))
        expect_equal([p.id for p in active], ["prd_hours"])
        expect_equal([p.id for p in every], ["prd_hours", "prd_plan"])
        expect(missing is None)

    def test_customer_is_found_by_id_and_by_email(self, uow: UnitOfWork) -> None:
        with uow:
            uow.customers.add(a_customer())
            uow.customers.add(a_customer("cus_guest", None))
            uow.commit()
        with uow:
            expect_equal(uow.customers.get("cus_ana"), a_customer())
            expect_equal(uow.customers.get("cus_ana", for_update=True), a_customer())
            expect_equal(uow.customers.get_by_email("ana@example.com"), a_customer())
            expect_equal(uow.customers.get("cus_guest"), a_customer("cus_guest", None))
            expect(uow.customers.get_by_email("bob@example.com") is None)
            expect(uow.customers.get("cus_nope") is None)

    def test_a_customer_is_stored_on_first_use_and_found_after(self, uow: UnitOfWork) -> None:
        later = replace(a_customer("cus_new", None), name="Other", created_at=T0 + timedelta(1))
        with uow:
            first = uow.customers.stored_or_added(a_customer("cus_new", None))
            uow.commit()
        with uow:
            again = uow.customers.stored_or_added(later)  # the stored one, unchanged
            stored = uow.customers.get("cus_new")
        expect_equal(first, a_customer("cus_new", None))
        expect_equal(again, a_customer("cus_new", None))
        expect_equal(stored, a_customer("cus_new", None))

    def test_two_customers_cannot_share_an_email(self, uow: UnitOfWork) -> None:
        with uow:
            uow.customers.add(a_customer())
            uow.commit()
        with uow, pytest.raises(ConflictError):
            uow.customers.add(a_customer("cus_other"))

    @pytest.mark.parametrize(
        ("amount", "shown"),
        [
            (Money("79.99", "EUR"), "79.99 EUR"),
            (Money("5.120", "KWD"), "5.120 KWD"),
            (Money("10000", "COP"), "10000.00 COP"),
            (Money("12345678.91", "COP"), "12345678.91 COP"),
        ],
    )
    def test_purchase_comes_back_field_for_field(
        self, uow: UnitOfWork, amount: Money, shown: str
    ) -> None:
        purchase = a_purchase(amount=amount, credits=Decimal("2.5"))
        seed(uow, purchase)
        with uow:
            stored = uow.purchases.get(purchase.id)
        expect_equal(stored, as_stored(purchase))
        stored = present(stored)
        expect_equal(str(stored.amount), shown)
        expect_equal(stored.amount.amount, amount.amount)
        expect_equal(stored.refunded, Money.zero(amount.currency))
        expect_equal(stored.credits, Decimal("2.5"))
        expect_equal(stored.routing, RoutingDecision(("stripe", "payu"), "*: stripe, payu"))
        expect(is_utc(stored.created_at) and is_utc(stored.updated_at))
        expect_equal(stored.created_at, T0)

    @pytest.mark.parametrize(
        "action",
        [
            ClientSecretAction("pi_1_secret_2", "pk_test_1"),
            ClientSecretAction("pi_1_secret_2"),
            RedirectAction("https://checkout.example/pse?id=1&x=é"),
            CashVoucherAction(
                code="EFC-123456",
                barcode="4157709998001234",
                amount=Money("10000", "COP"),
                expires_at=T0 + timedelta(hours=72, microseconds=7),
                instructions="Paga en cualquier punto Efecty antes de la fecha límite.",
            ),
        ],
    )
    def test_every_change_of_a_purchase_is_saved(
        self, uow: UnitOfWork, action: ClientSecretAction | RedirectAction | CashVoucherAction
    ) -> None:
        purchase = a_purchase()
        seed(uow, purchase)
        later = T0 + timedelta(minutes=3)
        with uow:
            stored = uow.purchases.get(purchase.id, for_update=True)
            stored = present(stored)
            stored.start_at_gateway("stripe", "pi_1", action, later)
            stored.apply(observation(PaymentOutcome.FAILED, "evt_1"), later, "stripe:evt")
            stored.needs_review = True
            stored.review_reason = "checked by hand"
            uow.purchases.save(stored)
            uow.commit()
        with uow:
            again = uow.purchases.get(purchase.id)
        expect_equal(again, as_stored(stored))
        again = present(again)
        expect_equal(again.next_action, action)
        expect(again.status is PurchaseStatus.FAILED)
        expect_equal(again.version, 1)

    def test_purchase_is_found_by_reference_and_by_gateway_reference(self, uow: UnitOfWork) -> None:
        purchase = a_purchase()
        purchase.start_at_gateway("stripe", "pi_1", None, T0)
        seed(uow, purchase)
        with uow:
            by_reference = uow.purchases.get_by_reference("ref_pur_1", for_update=True)
            by_gateway = uow.purchases.get_by_gateway_reference("stripe", "pi_1", for_update=True)
            other_gateway = uow.purchases.get_by_gateway_reference("payu", "pi_1")
            unknown = uow.purchases.get_by_reference("ref_nope")
        expect(by_reference == by_gateway == as_stored(purchase))
        expect(other_gateway is None and unknown is None)

    def test_audit_trail_records_every_status_change_in_order(self, uow: UnitOfWork) -> None:
        purchase = a_purchase()
        seed(uow, purchase)
        expect_equal(purchase.pending_audit, [])
        with uow:
            stored = uow.purchases.get(purchase.id, for_update=True)
            stored = present(stored)
            stored.apply(observation(PaymentOutcome.PROCESSING, "evt_1"), T0, "stripe:a")
            stored.apply(observation(PaymentOutcome.SUCCEEDED, "evt_2"), T0, "stripe:b")
            uow.purchases.save(stored)
            expect_equal(stored.pending_audit, [])
            uow.commit()
        with uow:
            trail = uow.purchases.audit_trail(purchase.id)
            none = uow.purchases.audit_trail("pur_other")
        expect_equal(
            [(a.from_status, a.to_status, a.event_id) for a in trail],
            [
                (None, PurchaseStatus.PENDING, None),
                (PurchaseStatus.PENDING, PurchaseStatus.PROCESSING, "evt_1"),
                (PurchaseStatus.PROCESSING, PurchaseStatus.COMPLETED, "evt_2"),
            ],
        )
        expect_equal(trail[1].cause, "notification:processing")
        expect_equal(trail[2].actor, "stripe:b")
        expect(all(is_utc(a.at) for a in trail))
        expect_equal(none, [])

    def test_refund_comes_back_and_is_found_by_gateway_reference(self, uow: UnitOfWork) -> None:
        seed(uow, a_purchase())
        first = a_refund()
        second = replace(first, id="rfd_2", amount=Money("0.01", "EUR"), created_at=T0, reason=None)
        with uow:
            uow.refunds.add(second)
            uow.refunds.add(first)
            uow.commit()
        with uow:
            stored = uow.refunds.get("rfd_1")
            expect_equal(stored, first)
            stored = present(stored)
            stored.status = RefundStatus.SUCCEEDED
            stored.gateway_reference = "re_1"
            stored.updated_at = T0 + timedelta(minutes=1)
            uow.refunds.save(stored)
            uow.commit()
        with uow:
            expect_equal(uow.refunds.get_by_gateway_reference("stripe", "re_1"), stored)
            expect(uow.refunds.get_by_gateway_reference("payu", "re_1") is None)
            expect_equal([r.id for r in uow.refunds.for_purchase("pur_1")], ["rfd_1", "rfd_2"])
            expect(uow.refunds.get("rfd_nope") is None)

    def test_api_key_is_found_by_the_hash_of_its_secret(self, uow: UnitOfWork) -> None:
        customer_key = ApiKey("key_1", "pk_cust_abc", "a" * 64, Role.CUSTOMER, "cus_ana", T0)
        revoked = ApiKey("key_2", "pk_admi_def", "b" * 64, Role.ADMIN, None, T0, T0)
        with uow:
            uow.customers.add(a_customer())
            uow.api_keys.add(customer_key)
            uow.api_keys.add(revoked)
            uow.commit()
        with uow:
            expect_equal(uow.api_keys.get_by_hash("a" * 64), customer_key)
            expect_equal(uow.api_keys.get_by_hash("b" * 64), revoked)
            expect(uow.api_keys.get_by_hash("c" * 64) is None)
