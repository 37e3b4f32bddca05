"""Use cases wired on the in-memory fakes by one helper, as an integrator's tests would do."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest

from payments.adapters.memory import FakeGateway, FixedClock, InMemoryStore, SequentialIds
from payments.domain.access import Principal, Role
from payments.domain.catalog import Product
from payments.domain.money import Money
from payments.domain.services.accounts import AccountService
from payments.domain.services.catalog import CatalogService
from payments.domain.services.checkout import CreatePurchase
from payments.domain.services.notifications import NotificationService
from payments.domain.services.purchases import PurchaseService
from payments.domain.services.refunds import RefundService
from payments.testing import bootstrap as wire_use_cases

MERCHANT = Principal(Role.MERCHANT, "key_merchant")


@dataclass
class Payments:
    """Everything a use-case test needs, on fakes."""

    store: InMemoryStore
    clock: FixedClock
    ids: SequentialIds
    gateway: FakeGateway
    catalog: CatalogService
    purchases: PurchaseService
    notifications: NotificationService
    refunds: RefundService
    accounts: AccountService

    def premium_package(self) -> Product:
        return self.catalog.create(
            name="8 Hour Premium Package",
            kind="package",
            price=Money("79.99", "EUR"),
            credits="8",
            validity_days=60,
        )

    def buy(self, product: Product, customer_id: str = "cus_ana") -> str:
        purchase = self.purchases.create(
            CreatePurchase(product_id=product.id, country="PT", customer_id=customer_id),
            MERCHANT,
        )
        return purchase.id

    def deliver_all(self, **drain: int) -> list[str]:
        return [
            self.notifications.receive(self.gateway.name, headers, body).status
            for headers, body in self.gateway.drain(**drain)
        ]


def bootstrap(gateways: list[FakeGateway] | None = None, routing: str = "*: fake") -> Payments:
    """The use cases on the fakes, wired by the package's own ``payments.testing.bootstrap``."""
    store, clock, ids = InMemoryStore(), FixedClock(), SequentialIds()
    fakes = gateways or [FakeGateway("fake")]
    wired = wire_use_cases(gateways=fakes, routing=routing, store=store, clock=clock, ids=ids)
    return Payments(
        store=store,
        clock=clock,
        ids=ids,
        gateway=fakes[0],
        catalog=wired.catalog,
        purchases=wired.purchases,
        notifications=wired.notifications,
        refunds=wired.refunds,
        accounts=wired.accounts,
    )


@pytest.fixture
def payments() -> Payments:
    return bootstrap()


def credits_of(payments: Payments, customer_id: str = "cus_ana") -> Decimal:
    return payments.accounts.get(customer_id, MERCHANT).credits
