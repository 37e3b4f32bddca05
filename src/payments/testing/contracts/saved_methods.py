"""The contract of off-session charges: what every gateway that keeps payment methods promises.

Subclass ``SavedMethodsContract`` beside a ``subject`` fixture (a ``GatewayUnderTest`` whose
gateway declares ``saved_methods``); the provider must know Stripe's test tokens
``pm_card_visa`` (charges) and ``pm_card_chargeCustomerFail`` (attaches, declines every charge).
"""

from __future__ import annotations

import pytest

from payments.domain.errors import PaymentDeclinedError
from payments.domain.gateway import (
    OffSessionCharge,
    SavedPaymentMethod,
    SaveMethodRequest,
)
from payments.domain.purchase import PaymentOutcome
from payments.testing.contracts.gateway_subject import GatewayUnderTest
from payments.testing.expect import expect, expect_equal, present

GOOD_CARD = "pm_card_visa"
FAILING_CARD = "pm_card_chargeCustomerFail"


def saved(subject: GatewayUnderTest, token: str, key: str) -> SavedPaymentMethod:
    """``token`` saved for the contract's customer under ``key``."""
    return subject.gateway.save_payment_method(
        SaveMethodRequest("cus_contract", "payer@example.com", token, key)
    )


def charge(
    subject: GatewayUnderTest, method: SavedPaymentMethod, reference: str, key: str
) -> OffSessionCharge:
    """An off-session charge of the contract's price on ``method``."""
    return OffSessionCharge(f"pur_{reference}", reference, subject.price, method, key)


class SavedMethodsContract:
    """What a gateway with ``saved_methods`` promises; subclasses provide ``subject``."""

    def test_it_declares_saved_methods(self, subject: GatewayUnderTest) -> None:
        expect(subject.gateway.capabilities.saved_methods)

    def test_a_saved_card_is_charged_off_session_at_once(self, subject: GatewayUnderTest) -> None:
        method = saved(subject, GOOD_CARD, "save_good")
        expect_equal(method.gateway, subject.gateway.name)
        start = subject.gateway.charge_saved_method(charge(subject, method, "ref_off", "k_off"))
        observation = present(start.observation, "the charge's observation")
        expect(observation.outcome is PaymentOutcome.SUCCEEDED)
        expect_equal(observation.amount, subject.price)
        expect_equal(observation.reference, "ref_off")
        expect_equal(observation.gateway_reference, start.gateway_reference)
        expect(start.next_action is None)

    def test_one_key_charges_once(self, subject: GatewayUnderTest) -> None:
        method = saved(subject, GOOD_CARD, "save_once")
        request = charge(subject, method, "ref_once", "k_once")
        first = subject.gateway.charge_saved_method(request)
        again = subject.gateway.charge_saved_method(request)
        expect_equal(again.gateway_reference, first.gateway_reference)
        expect_equal(subject.provider.payments_under("ref_once"), 1)

    def test_the_failing_test_card_attaches_and_declines_every_charge(
        self, subject: GatewayUnderTest
    ) -> None:
        method = saved(subject, FAILING_CARD, "save_failing")
        for attempt in range(2):
            request = charge(subject, method, f"ref_fail_{attempt}", f"k_fail_{attempt}")
            with pytest.raises(PaymentDeclinedError) as declined:
                subject.gateway.charge_saved_method(request)
            expect_equal(declined.value.provider_code, "card_declined")

    def test_another_card_for_the_same_customer_keeps_the_customer(
        self, subject: GatewayUnderTest
    ) -> None:
        first = saved(subject, FAILING_CARD, "save_first")
        second = subject.gateway.save_payment_method(
            SaveMethodRequest(
                "cus_contract", None, GOOD_CARD, "save_second", first.customer_reference
            )
        )
        expect_equal(second.customer_reference, first.customer_reference)
        expect(second.method_reference != first.method_reference)
        start = subject.gateway.charge_saved_method(charge(subject, second, "ref_new", "k_new"))
        expect(present(start.observation, "observation").outcome is PaymentOutcome.SUCCEEDED)
