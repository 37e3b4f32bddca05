"""The fake gateway passes the gateway contract, and its faults behave as a provider's would."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from payments.adapters.memory import FakeGateway
from payments.adapters.memory.gateway import SIGNATURE_HEADER
from payments.domain.errors import (
    GatewayUnavailableError,
    InvalidSignatureError,
    UnsupportedByGatewayError,
)
from payments.domain.gateway import GatewayCapabilities
from payments.domain.money import Money
from payments.domain.next_action import ClientSecretAction
from payments.domain.purchase import ApplyResult, PaymentOutcome, PurchaseStatus
from payments.testing.contracts.gateway import (
    Delivery,
    GatewayContract,
    GatewayUnderTest,
    ProviderDriver,
    payment_request,
)
from payments.testing.contracts.saved_methods import SavedMethodsContract
from tests.unit.conftest import MERCHANT, Payments, bootstrap, credits_of

# Narrower than the default so that the contract's refusals cover currency, country, amount step
# and minimum as well as method.
CAPABILITIES = GatewayCapabilities(
    currencies=frozenset({"EUR", "USD", "JPY", "KWD", "COP"}),
    countries=frozenset({"ES", "PT", "CO"}),
    payment_methods=frozenset({"card", "pse", "cash"}),
    minimum_amount=Money("0.50", "EUR"),
    amount_steps={"KWD": 10},
    saved_methods=True,
)


class FakeProvider(ProviderDriver):
    """The fake gateway's own provider side; its port calls are the provider's requests."""

    def __init__(self, gateway: FakeGateway) -> None:
        self.gateway = gateway

    def approve(self, gateway_reference: str) -> Delivery:
        self.gateway.approve(gateway_reference)
        return self.gateway.drain()[-1]

    def decline(self, gateway_reference: str) -> Delivery:
        self.gateway.decline(gateway_reference)
        return self.gateway.drain()[-1]

    def signed(self, body: bytes) -> dict[str, str]:
        return {SIGNATURE_HEADER.lower(): self.gateway.sign(body)}

    def requests_seen(self) -> int:
        return len(self.gateway.calls)

    def payments_under(self, reference: str) -> int:
        return sum(p.reference == reference for p in self.gateway.payments.values())

    def refunded(self, gateway_reference: str) -> Money:
        return self.gateway.payments[gateway_reference].refunded


@pytest.fixture
def subject() -> GatewayUnderTest:
    gateway = FakeGateway("fake", capabilities=CAPABILITIES)
    return GatewayUnderTest(
        gateway,
        FakeProvider(gateway),
        dict.fromkeys(CAPABILITIES.payment_methods, ClientSecretAction),
    )


class TestFakeGatewayContract(GatewayContract):
    """The in-memory fake integrators test against keeps every promise of the port."""


def test_stale_fake_signature_is_refused_but_a_stored_body_still_parses() -> None:
    now = [1_790_000_000.0]
    gateway = FakeGateway("fake", clock=lambda: now[0])
    start = gateway.start_payment(payment_request("ref_stale"))
    gateway.approve(start.gateway_reference)
    headers, body = gateway.drain()[-1]
    now[0] += 301
    with pytest.raises(InvalidSignatureError, match="tolerance"):
        gateway.verify_notification(headers, body)
    assert gateway.parse_stored_notification(headers, body).payment is not None


# -- fault injection: a timeout after charging is a capture that reconciliation recovers ---------


def _charged_then_timed_out(payments: Payments) -> str:
    payments.gateway.fail_next(charged=True)
    with pytest.raises(GatewayUnavailableError) as timed_out:
        payments.buy(payments.premium_package())
    assert timed_out.value.charged_possible is True
    purchase_id = timed_out.value.details["purchase_id"]
    assert isinstance(purchase_id, str)
    return purchase_id


def test_timeout_after_charging_leaves_a_capture_that_sync_completes() -> None:
    payments = bootstrap()
    purchase_id = _charged_then_timed_out(payments)
    purchase = payments.purchases.get(purchase_id, MERCHANT)
    assert purchase.status is PurchaseStatus.PENDING
    assert payments.gateway.deliveries == []  # the notification is lost with the answer

    seen = payments.gateway.lookup(purchase.reference, None)
    assert seen is not None
    assert seen.outcome is PaymentOutcome.SUCCEEDED
    assert seen.amount == Money("79.99", "EUR")

    synced, result = payments.purchases.sync(purchase_id)
    assert result is ApplyResult.APPLIED
    assert synced.status is PurchaseStatus.COMPLETED
    assert synced.gateway_reference == seen.gateway_reference
    assert credits_of(payments) == Decimal("8.00")


def test_timeout_after_charging_is_completed_not_expired_by_the_stale_sweep() -> None:
    payments = bootstrap()
    purchase_id = _charged_then_timed_out(payments)
    payments.clock.advance(hours=25)

    assert payments.purchases.expire_stale(max_age=timedelta(hours=24)) == []

    assert payments.purchases.get(purchase_id, MERCHANT).status is PurchaseStatus.COMPLETED
    assert credits_of(payments) == Decimal("8.00")
    assert payments.purchases.expire_stale(max_age=timedelta(hours=24)) == []
    assert credits_of(payments) == Decimal("8.00")


def test_outage_before_charging_leaves_nothing_to_recover_and_the_purchase_expires() -> None:
    payments = bootstrap()
    payments.gateway.fail_next(charged=False)
    with pytest.raises(GatewayUnavailableError) as outage:
        payments.buy(payments.premium_package())
    assert outage.value.charged_possible is False
    purchase_id = outage.value.details["purchase_id"]
    assert payments.gateway.payments == {}
    payments.clock.advance(hours=25)

    assert payments.purchases.expire_stale(max_age=timedelta(hours=24)) == [purchase_id]
    assert credits_of(payments) == Decimal("0")


def test_retry_with_the_same_key_after_a_charged_timeout_replays_the_capture() -> None:
    gateway = FakeGateway()
    request = payment_request("ref_retry")
    gateway.fail_next(charged=True)
    with pytest.raises(GatewayUnavailableError):
        gateway.start_payment(request)

    again = gateway.start_payment(request)

    assert len(gateway.payments) == 1
    assert again.next_action is None
    assert again.observation is not None
    assert again.observation.outcome is PaymentOutcome.SUCCEEDED


def test_refused_request_is_not_recorded_as_a_call() -> None:
    gateway = FakeGateway(capabilities=CAPABILITIES)
    with pytest.raises(UnsupportedByGatewayError, match="does not support GBP"):
        gateway.start_payment(payment_request("ref_gbp", amount=Money("10.00", "GBP")))
    assert gateway.calls == []
    assert gateway.payments == {}


class TestFakeSavedMethods(SavedMethodsContract):
    """The fake gateway keeps and charges saved cards as the port promises."""
