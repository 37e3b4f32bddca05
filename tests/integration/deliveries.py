"""What the tests of batched notifications share: approved purchases at the fake gateway, and
units of work that fail the way a database that went away does."""

from __future__ import annotations

import functools

from sqlalchemy import Engine, func, select

from payments.adapters.memory import FakeGateway, FixedClock, SequentialIds
from payments.adapters.sql.tables import webhook_inbox
from payments.adapters.sql.unit_of_work import SqlUnitOfWork
from payments.domain.access import Principal, Role
from payments.domain.money import Money
from payments.domain.services.checkout import CreatePurchase
from payments.domain.services.gateways import GatewayRegistry
from payments.domain.services.use_case import GatewayWiring
from payments.testing import Wired

MERCHANT = Principal(Role.MERCHANT, "key_merchant")
Delivery = tuple[dict[str, str], bytes]


def approvals(wired: Wired, gateway: FakeGateway, count: int) -> list[Delivery]:
    """``count`` purchases of one product (customers ``cus_0`` ...), each approved at the
    gateway: the deliveries it sends about them."""
    product = wired.catalog.create(
        name="8 Hour Premium Package",
        kind="package",
        price=Money("79.99", "EUR"),
        credits="8",
        validity_days=60,
    )
    for number in range(count):
        purchase = wired.purchases.create(
            CreatePurchase(product_id=product.id, country="PT", customer_id=f"cus_{number}"),
            MERCHANT,
        )
        assert purchase.gateway_reference is not None
        gateway.approve(purchase.gateway_reference)
    return list(gateway.drain())


class OneLookupFails(SqlUnitOfWork):
    """A unit of work whose lookup of one purchase (``failing``, its gateway reference) fails
    like a database that went away."""

    failing: str = ""

    def __enter__(self) -> SqlUnitOfWork:
        uow = super().__enter__()
        lookup = self.purchases.get_by_gateway_reference

        def fails_for_one(gateway: str, reference: str, *, for_update: bool = False) -> object:
            if reference == self.failing:
                raise ConnectionError("server closed the connection unexpectedly")
            return lookup(gateway, reference, for_update=for_update)

        self.purchases.get_by_gateway_reference = fails_for_one  # type: ignore[method-assign,assignment]
        return uow


class StoreGone(SqlUnitOfWork):
    """A unit of work that cannot commit anything: the database is gone."""

    def commit(self) -> None:
        raise ConnectionError("server closed the connection unexpectedly")


def wiring_of(
    unit_of_work: type[SqlUnitOfWork], engine: Engine, gateway: FakeGateway, clock: FixedClock
) -> GatewayWiring:
    """Use cases' wiring on ``engine`` through units of work of the given class."""
    return GatewayWiring(
        functools.partial(unit_of_work, engine),
        GatewayRegistry([gateway]),
        clock,
        SequentialIds(),
    )


def inbox_by_status(engine: Engine) -> dict[str, int]:
    """How many inbox messages ``engine``'s database holds in each status."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(webhook_inbox.c.status, func.count()).group_by(webhook_inbox.c.status)
        ).all()
    return {status: int(count) for status, count in rows}
