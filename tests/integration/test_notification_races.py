"""Concurrent deliveries through the notification use case on SQLite and PostgreSQL.

The use cases run on the real unit of work and the package's fake gateway (which signs its
notifications); each delivery comes from its own thread, all released at once. Whatever the
interleaving: one delivery does the work, the others answer duplicate, nothing is booked twice
and no delivery is left failed for the worker.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import ColumnElement, Engine, Table, func, select

from payments.adapters.memory import FakeGateway, FixedClock, SequentialIds
from payments.adapters.sql.tables import ledger_entries, refunds
from payments.adapters.sql.unit_of_work import SqlUnitOfWork
from payments.domain.access import Principal, Role
from payments.domain.money import Money
from payments.domain.purchase import PurchaseStatus
from payments.domain.refund import RefundStatus
from payments.domain.services.accounts import AccountService
from payments.domain.services.catalog import CatalogService
from payments.domain.services.checkout import CreatePurchase
from payments.domain.services.gateways import GatewayRegistry
from payments.domain.services.notifications import NotificationService
from payments.domain.services.purchases import PurchaseService
from payments.domain.services.refunds import RefundService
from payments.domain.services.use_case import GatewayWiring
from tests.integration.deliveries import inbox_by_status
from tests.integration.service import together, use_cases_on

MERCHANT = Principal(Role.MERCHANT, "key_merchant")
Delivery = tuple[dict[str, str], bytes]


@dataclass
class Service:
    """The use cases on one real database, with a fake gateway."""

    engine: Engine
    gateway: FakeGateway
    purchases: PurchaseService
    notifications: NotificationService
    refunds: RefundService
    accounts: AccountService
    clock: FixedClock

    def receive(self, delivery: Delivery) -> str:
        headers, body = delivery
        return self.notifications.receive(self.gateway.name, headers, body).status

    def completed_purchase(self, catalog: CatalogService) -> tuple[str, str]:
        product = catalog.create(
            name="8 Hour Premium Package",
            kind="package",
            price=Money("79.99", "EUR"),
            credits="8",
            validity_days=60,
        )
        purchase = self.purchases.create(
            CreatePurchase(product_id=product.id, country="PT", customer_id="cus_ana"), MERCHANT
        )
        assert purchase.gateway_reference is not None
        self.gateway.approve(purchase.gateway_reference)
        assert [self.receive(d) for d in self.gateway.drain()] == ["processed"]
        return purchase.id, purchase.gateway_reference

    def inbox(self) -> dict[str, int]:
        return inbox_by_status(self.engine)

    def count(self, table: Table, *conditions: ColumnElement[bool]) -> int:
        with self.engine.connect() as connection:
            query = select(func.count()).select_from(table).where(*conditions)
            return int(connection.execute(query).scalar_one())


@pytest.fixture
def service(database: Engine) -> tuple[Service, CatalogService]:
    clock, gateway = FixedClock(), FakeGateway("fake")
    use_cases = use_cases_on(database, gateway, clock)
    wired = Service(
        engine=database,
        gateway=gateway,
        purchases=use_cases.purchases,
        notifications=use_cases.notifications,
        refunds=use_cases.refunds,
        accounts=use_cases.accounts,
        clock=clock,
    )
    return wired, use_cases.catalog


def test_an_event_about_no_purchase_of_ours_delivered_ten_times_at_once_is_kept_once(
    service: tuple[Service, CatalogService],
) -> None:
    wired, _ = service
    stranger = wired.gateway.refund_notification(
        "fake_pay_unknown", "fake_re_unknown", Money("5.00", "EUR"), RefundStatus.SUCCEEDED
    )

    answers = together([lambda: wired.receive(stranger)] * 10)

    assert sorted(answers) == ["duplicate"] * 9 + ["ignored"], answers
    assert wired.inbox() == {"ignored": 1}


def test_a_refund_made_at_the_provider_told_by_several_events_at_once_is_booked_once(
    service: tuple[Service, CatalogService],
) -> None:
    wired, catalog = service
    purchase_id, payment = wired.completed_purchase(catalog)
    provider_refund = wired.gateway.refund_at_provider(payment, Money("20.00", "EUR"))
    (told,) = wired.gateway.drain()
    others = [
        wired.gateway.refund_notification(
            payment, provider_refund, Money("20.00", "EUR"), RefundStatus.SUCCEEDED
        )
        for _ in range(4)
    ]

    answers = together([functools.partial(wired.receive, d) for d in [told] * 4 + others])

    assert sorted(answers) == ["duplicate"] * 7 + ["processed"], answers
    assert wired.inbox() == {"processed": 2 + len(others)}  # the payment's and the five events
    assert wired.count(refunds, refunds.c.purchase_id == purchase_id) == 1
    purchase = wired.purchases.get(purchase_id, MERCHANT)
    assert purchase.refunded == Money("20.00", "EUR")
    assert purchase.status is PurchaseStatus.PARTIALLY_REFUNDED
    account = wired.accounts.get("cus_ana", MERCHANT)
    assert account.credits == Decimal("6.00")
    assert account.total_paid == (Money("59.99", "EUR"),)
    assert wired.count(ledger_entries, ledger_entries.c.purchase_id == purchase_id) == 4


def test_a_refund_rejection_told_by_several_events_at_once_is_reversed_once(
    service: tuple[Service, CatalogService],
) -> None:
    wired, catalog = service
    purchase_id, payment = wired.completed_purchase(catalog)
    refund = wired.refunds.refund(purchase_id, Money("10.00", "EUR"), None, "admin")
    assert refund.gateway_reference is not None
    wired.gateway.fail_refund(refund.gateway_reference)
    (told,) = wired.gateway.drain()
    others = [
        wired.gateway.refund_notification(
            payment, refund.gateway_reference, Money("10.00", "EUR"), RefundStatus.FAILED
        )
        for _ in range(4)
    ]

    answers = together([functools.partial(wired.receive, d) for d in [told] * 4 + others])

    assert sorted(answers) == ["duplicate"] * 7 + ["processed"], answers
    assert "failed" not in wired.inbox()
    purchase = wired.purchases.get(purchase_id, MERCHANT)
    assert purchase.refunded == Money("0.00", "EUR")
    assert purchase.status is PurchaseStatus.COMPLETED
    account = wired.accounts.get("cus_ana", MERCHANT)
    assert account.credits == Decimal("8.00")
    assert account.total_paid == (Money("79.99", "EUR"),)
    # payment + credits, the refund's two debits, and their two reversals: once each
    assert wired.count(ledger_entries, ledger_entries.c.purchase_id == purchase_id) == 6


class _LookupFails(SqlUnitOfWork):
    """A unit of work whose purchase lookup fails like a database that went away."""

    def __enter__(self) -> SqlUnitOfWork:
        uow = super().__enter__()

        def gone(*args: object, **kwargs: object) -> None:
            raise ConnectionError("server closed the connection unexpectedly")

        self.purchases.get_by_gateway_reference = gone  # type: ignore[method-assign]
        return uow


def test_a_redelivery_racing_the_worker_retry_of_its_failed_message_books_once(
    service: tuple[Service, CatalogService],
) -> None:
    wired, catalog = service
    product = catalog.create(
        name="8 Hour Premium Package",
        kind="package",
        price=Money("79.99", "EUR"),
        credits="8",
        validity_days=60,
    )
    purchase = wired.purchases.create(
        CreatePurchase(product_id=product.id, country="PT", customer_id="cus_ana"), MERCHANT
    )
    assert purchase.gateway_reference is not None
    wired.gateway.approve(purchase.gateway_reference)
    (approval,) = wired.gateway.drain()
    failing = NotificationService(
        GatewayWiring(
            lambda: _LookupFails(wired.engine),
            GatewayRegistry([wired.gateway]),
            wired.clock,
            SequentialIds(),
        )
    )
    assert failing.receive(wired.gateway.name, *approval).status == "queued"
    assert wired.inbox() == {"failed": 1}
    wired.clock.advance(seconds=30)

    answers = together(
        [lambda: wired.receive(approval), lambda: str(wired.notifications.retry_due())]
    )

    assert answers[0] == "duplicate", answers
    assert answers[1] == "{'processed': 1}", answers
    assert wired.inbox() == {"processed": 1}
    assert wired.purchases.get(purchase.id, MERCHANT).status is PurchaseStatus.COMPLETED
    account = wired.accounts.get("cus_ana", MERCHANT)
    assert account.credits == Decimal("8.00")
    assert wired.count(ledger_entries, ledger_entries.c.purchase_id == purchase.id) == 2
