"""Guest checkout limits live in the purchase use case, counted on the rate-limit port."""

from __future__ import annotations

import pytest

from payments.adapters.memory import InMemoryRateLimiter, InMemoryUnitOfWork
from payments.domain.access import Principal, Role
from payments.domain.errors import RateLimitedError
from payments.domain.routing import RoutingTable
from payments.domain.services.checkout import Checkout, CreatePurchase
from payments.domain.services.gateways import GatewayRegistry
from payments.domain.services.guest_checkout import GuestCheckoutGate, GuestCheckoutLimits
from payments.domain.services.purchases import PurchaseService
from payments.domain.services.use_case import GatewayWiring
from tests.unit.conftest import MERCHANT, Payments, bootstrap

GUEST = Principal(Role.PUBLIC, "key_public")


def _limited(payments: Payments, limits: GuestCheckoutLimits) -> PurchaseService:
    """The purchase use case of ``payments`` with guest limits on an in-memory limiter."""

    def uow() -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(payments.store)

    gate = GuestCheckoutGate(InMemoryRateLimiter(payments.clock), limits)
    registry = GatewayRegistry([payments.gateway])
    routing = RoutingTable.parse("*: fake")
    wiring = GatewayWiring(uow, registry, payments.clock, payments.ids)
    checkout = Checkout(wiring, routing, guests=gate)
    return PurchaseService(checkout)


def _guest_checkout(product_id: str, email: str, address: str) -> CreatePurchase:
    return CreatePurchase(
        product_id=product_id, country="PT", customer_email=email, client_address=address
    )


def test_guest_over_its_address_limit_is_refused_before_anything_is_stored() -> None:
    payments = bootstrap()
    product = payments.premium_package()
    purchases = _limited(payments, GuestCheckoutLimits(per_ip=2, per_email=10))
    for n in range(2):
        purchases.create(_guest_checkout(product.id, f"g{n}@example.com", "203.0.113.7"), GUEST)

    with pytest.raises(RateLimitedError) as refused:
        purchases.create(_guest_checkout(product.id, "g9@example.com", "203.0.113.7"), GUEST)

    assert refused.value.retry_after > 0
    assert len(payments.store.tables.purchases) == 2
    purchases.create(_guest_checkout(product.id, "g9@example.com", "198.51.100.1"), GUEST)


def test_guest_email_counts_without_case_or_surrounding_spaces() -> None:
    payments = bootstrap()
    product = payments.premium_package()
    purchases = _limited(payments, GuestCheckoutLimits(per_ip=10, per_email=1))
    purchases.create(_guest_checkout(product.id, "Ana@Example.com", "192.0.2.1"), GUEST)

    with pytest.raises(RateLimitedError):
        purchases.create(_guest_checkout(product.id, " ana@example.com ", "192.0.2.2"), GUEST)


def test_guest_limits_reset_after_their_window() -> None:
    payments = bootstrap()
    product = payments.premium_package()
    limits = GuestCheckoutLimits(per_ip=1, per_ip_window=60, per_email=10)
    purchases = _limited(payments, limits)
    purchases.create(_guest_checkout(product.id, "a@example.com", "192.0.2.1"), GUEST)
    payments.clock.advance(seconds=61)

    purchases.create(_guest_checkout(product.id, "b@example.com", "192.0.2.1"), GUEST)

    assert len(payments.store.tables.purchases) == 2


def test_server_keys_are_never_counted_as_guests() -> None:
    payments = bootstrap()
    product = payments.premium_package()
    purchases = _limited(payments, GuestCheckoutLimits(per_ip=1, per_email=1))

    for _ in range(3):
        purchases.create(
            CreatePurchase(
                product_id=product.id,
                country="PT",
                customer_id="cus_ana",
                client_address="192.0.2.1",
            ),
            MERCHANT,
        )

    assert len(payments.store.tables.purchases) == 3
