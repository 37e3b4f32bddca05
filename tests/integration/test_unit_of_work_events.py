"""Use cases never move events: the unit of work writes them to the outbox on commit, or never."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, event, select

from payments.adapters.memory import (
    FakeGateway,
    FixedClock,
    InMemoryStore,
    InMemoryUnitOfWork,
    SequentialIds,
)
from payments.adapters.sql.tables import outbox
from payments.adapters.sql.unit_of_work import SqlUnitOfWork
from payments.domain.access import Principal, Role
from payments.domain.money import Money
from payments.domain.ports import UnitOfWork
from payments.domain.purchase import PurchaseStatus
from payments.domain.routing import RoutingTable
from payments.domain.services.catalog import CatalogService
from payments.domain.services.checkout import Checkout, CreatePurchase
from payments.domain.services.gateways import GatewayRegistry
from payments.domain.services.purchases import PurchaseService
from payments.domain.services.use_case import GatewayWiring

MERCHANT = Principal(Role.MERCHANT, "key_merchant")


@dataclass
class Store:
    """One store of each kind: its units of work, its committed events, a commit that fails."""

    make_uow: Callable[[], UnitOfWork]
    committed_events: Callable[[], list[str]]
    fail_next_commit: Callable[[], None]


def _memory() -> Store:
    store = InMemoryStore()
    return Store(
        lambda: InMemoryUnitOfWork(store),
        lambda: [e.name for e in store.outbox],
        store.fail_next_commit,
    )


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    if request.param == "memory":
        yield _memory()
        return
    engine: Engine = request.getfixturevalue(f"{request.param}_engine")
    armed: list[bool] = []

    def lost_at_commit(connection: Any) -> None:
        if armed:
            armed.clear()
            raise ConnectionError("the database went away at COMMIT")

    def committed() -> list[str]:
        with engine.connect() as connection:
            return list(connection.execute(select(outbox.c.name).order_by(outbox.c.id)).scalars())

    # SQLAlchemy's own hook before every COMMIT: the commit fails as a lost server's would.
    event.listen(engine, "commit", lost_at_commit)
    try:
        yield Store(lambda: SqlUnitOfWork(engine), committed, lambda: armed.append(True))
    finally:
        event.remove(engine, "commit", lost_at_commit)


def _services(store: Store) -> tuple[CatalogService, PurchaseService]:
    clock, ids = FixedClock(), SequentialIds()
    gateways = GatewayRegistry([FakeGateway("fake")])
    return (
        CatalogService(store.make_uow, clock, ids),
        PurchaseService(
            Checkout(
                GatewayWiring(store.make_uow, gateways, clock, ids), RoutingTable.parse("*: fake")
            )
        ),
    )


def _buy(store: Store) -> tuple[PurchaseService, str]:
    catalog, purchases = _services(store)
    product = catalog.create(
        name="8 Hours", kind="package", price=Money("79.99", "EUR"), credits="8", validity_days=60
    )
    purchase = purchases.create(
        CreatePurchase(product_id=product.id, country="PT", customer_id="cus_ana"), MERCHANT
    )
    return purchases, purchase.id


def test_a_use_case_that_never_names_the_outbox_gets_its_events_out(store: Store) -> None:
    purchases, purchase_id = _buy(store)
    created = store.committed_events()

    cancelled = purchases.cancel(purchase_id, MERCHANT)

    assert created[0] == "purchase.created"
    assert cancelled.status is PurchaseStatus.CANCELLED
    assert cancelled.events == []
    assert store.committed_events() == [*created, "purchase.status_changed"]


def test_a_unit_of_work_whose_commit_fails_writes_no_events(store: Store) -> None:
    purchases, purchase_id = _buy(store)
    before = store.committed_events()
    store.fail_next_commit()

    with pytest.raises(ConnectionError):
        purchases.cancel(purchase_id, MERCHANT)

    assert store.committed_events() == before
    assert purchases.get(purchase_id, MERCHANT).status is not PurchaseStatus.CANCELLED
