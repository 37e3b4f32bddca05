"""A checkout records its gateway's start on the purchase it made in one statement, and on the
purchase as stored when something changed it while the gateway was asked."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from payments.adapters.memory import FakeGateway, FixedClock, SequentialIds
from payments.adapters.sql.engine import single_statement_engine
from payments.adapters.sql.unit_of_work import SqlUnitOfWork
from payments.domain.access import Principal, Role
from payments.domain.gateway import PaymentRequest, PaymentStart
from payments.domain.money import Money
from payments.domain.purchase import (
    GatewayObservation,
    ObservationSource,
    PaymentOutcome,
    PurchaseStatus,
)
from payments.domain.routing import RoutingTable
from payments.domain.services.catalog import CatalogService
from payments.domain.services.checkout import Checkout, CreatePurchase
from payments.domain.services.gateways import GatewayRegistry
from payments.domain.services.use_case import GatewayWiring

MERCHANT = Principal(Role.MERCHANT, "key_merchant", None)


class NotifiedWhileStarting(FakeGateway):
    """Runs ``meanwhile`` with the start's answer before giving it: as if the provider's
    notification were applied before the checkout records that answer."""

    meanwhile: Callable[[PaymentRequest, PaymentStart], None] | None = None

    def start_payment(self, request: PaymentRequest) -> PaymentStart:
        start = super().start_payment(request)
        if self.meanwhile is not None:
            self.meanwhile(request, start)
        return start


def _checkout(database: Engine, gateway: FakeGateway) -> tuple[Checkout, str]:
    clock, ids = FixedClock(), SequentialIds()
    single = single_statement_engine(database)
    wiring = GatewayWiring(lambda: SqlUnitOfWork(database), GatewayRegistry([gateway]), clock, ids)
    product = CatalogService(lambda: SqlUnitOfWork(database), clock, ids).create(
        name="8 Hour Premium Package",
        kind="package",
        price=Money("79.99", "EUR"),
        credits="8",
        validity_days=60,
    )
    checkout = Checkout(
        wiring,
        RoutingTable.parse(f"*: {gateway.name}"),
        single_statements=lambda: SqlUnitOfWork(single),
    )
    return checkout, product.id


def _stored(database: Engine, purchase_id: str) -> tuple[PurchaseStatus, str | None, int]:
    with SqlUnitOfWork(database) as uow:
        purchase = uow.purchases.get(purchase_id)
    assert purchase is not None
    return purchase.status, purchase.gateway_reference, purchase.version


def test_a_start_is_recorded_on_the_purchase_the_checkout_made(database: Engine) -> None:
    checkout, product_id = _checkout(database, FakeGateway("fake"))

    purchase = checkout.create(CreatePurchase(product_id, "PT", customer_id="cus_ana"), MERCHANT)

    assert purchase.gateway == "fake"
    assert purchase.gateway_reference is not None
    assert _stored(database, purchase.id) == (
        PurchaseStatus.PENDING,
        purchase.gateway_reference,
        purchase.version,
    )


def test_a_start_after_a_notification_is_recorded_on_the_purchase_as_stored(
    database: Engine,
) -> None:
    gateway = NotifiedWhileStarting("fake")
    checkout, product_id = _checkout(database, gateway)

    def notified(request: PaymentRequest, start: PaymentStart) -> None:
        observation = GatewayObservation(
            "fake",
            PaymentOutcome.PROCESSING,
            ObservationSource.NOTIFICATION,
            start.gateway_reference,
            request.reference,
        )
        checkout.observe(request.purchase_id, observation)

    gateway.meanwhile = notified

    purchase = checkout.create(CreatePurchase(product_id, "PT", customer_id="cus_ana"), MERCHANT)

    assert purchase.status is PurchaseStatus.PROCESSING  # the notification's, kept
    assert purchase.gateway_reference is not None
    assert _stored(database, purchase.id) == (
        PurchaseStatus.PROCESSING,
        purchase.gateway_reference,
        purchase.version,
    )
