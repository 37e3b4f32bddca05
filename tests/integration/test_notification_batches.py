"""Group commit: deliveries that arrive together are applied in one transaction, on SQLite and
PostgreSQL, and any batch that cannot be is settled one delivery at a time, as if each had
come alone (decision 0041).

The batches are built here by hand (``NotificationService.verify``, then ``settle_all``), so
that what is in each is known; ``receive`` from many threads at once makes them in the
service (the last test).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from sqlalchemy import Engine, event, func, select

from payments.adapters.memory import FakeGateway, FixedClock
from payments.adapters.sql.tables import ledger_entries, outbox, purchases, webhook_inbox
from payments.domain.errors import StorageUnavailableError
from payments.domain.money import Money
from payments.domain.services.notifications import NotificationService, Receipt, Verified
from payments.testing import Wired
from tests.integration.deliveries import (
    MERCHANT,
    Delivery,
    OneLookupFails,
    StoreGone,
    approvals,
    wiring_of,
)
from tests.integration.service import together, use_cases_on


@pytest.fixture
def wired(database: Engine) -> tuple[Wired, FakeGateway, FixedClock]:
    clock, gateway = FixedClock(), FakeGateway("fake")
    return use_cases_on(database, gateway, clock), gateway, clock


def verified(wired: Wired, gateway: FakeGateway, deliveries: list[Delivery]) -> list[Verified]:
    return [wired.notifications.verify(gateway.name, *delivery) for delivery in deliveries]


def statuses(outcomes: list[Receipt | BaseException]) -> list[str]:
    return [
        outcome.status.value if isinstance(outcome, Receipt) else repr(outcome)
        for outcome in outcomes
    ]


@contextmanager
def commits(engine: Engine) -> Iterator[list[int]]:
    """Counts the transactions committed on ``engine`` inside the block (``counted[0]``)."""
    counted = [0]

    def committed(*_: object) -> None:
        counted[0] += 1

    event.listen(engine, "commit", committed)
    try:
        yield counted
    finally:
        event.remove(engine, "commit", committed)


def scalar(engine: Engine, query: object) -> int:
    with engine.connect() as connection:
        return int(connection.execute(query).scalar_one())  # type: ignore[call-overload]


def books(engine: Engine) -> dict[str, int]:
    """Rows that tell what was booked: completed purchases, ledger entries, inbox and outbox."""
    count = select(func.count())
    return {
        "completed": scalar(
            engine, count.select_from(purchases).where(purchases.c.status == "completed")
        ),
        "ledger": scalar(engine, count.select_from(ledger_entries)),
        "inbox processed": scalar(
            engine, count.select_from(webhook_inbox).where(webhook_inbox.c.status == "processed")
        ),
        "inbox": scalar(engine, count.select_from(webhook_inbox)),
        "outbox": scalar(engine, count.select_from(outbox)),
    }


def test_deliveries_that_arrive_together_are_booked_in_one_commit(
    database: Engine, wired: tuple[Wired, FakeGateway, FixedClock]
) -> None:
    use_cases, gateway, _ = wired
    batch = verified(use_cases, gateway, approvals(use_cases, gateway, 6))
    before = books(database)

    with commits(database) as counted:
        outcomes = use_cases.notifications.settle_all(batch)

    assert statuses(outcomes) == ["processed"] * 6
    assert counted[0] == 1
    after = books(database)
    assert after["completed"] - before["completed"] == 6
    assert after["ledger"] - before["ledger"] == 12  # credits and money, per purchase
    assert after["inbox processed"] - before["inbox processed"] == 6
    assert after["outbox"] > before["outbox"]
    for number in range(6):
        account = use_cases.accounts.get(f"cus_{number}", MERCHANT)
        assert account.credits == Decimal("8.00")
    receipts = [outcome for outcome in outcomes if isinstance(outcome, Receipt)]
    assert len({receipt.purchase_id for receipt in receipts}) == 6
    assert all(receipt.message_id for receipt in receipts)


def test_a_batch_holding_a_delivery_already_stored_is_settled_one_by_one(
    database: Engine, wired: tuple[Wired, FakeGateway, FixedClock]
) -> None:
    use_cases, gateway, _ = wired
    first, *others = approvals(use_cases, gateway, 3)
    assert statuses(use_cases.notifications.settle_all(verified(use_cases, gateway, [first]))) == [
        "processed"
    ]
    before = books(database)

    outcomes = use_cases.notifications.settle_all(
        verified(use_cases, gateway, [others[0], first, others[1]])
    )

    assert statuses(outcomes) == ["processed", "duplicate", "processed"]
    after = books(database)
    assert after["completed"] - before["completed"] == 2
    assert after["ledger"] - before["ledger"] == 4
    assert after["inbox"] - before["inbox"] == 2


def test_a_batch_of_redeliveries_only_is_all_duplicate_and_commits_nothing(
    database: Engine, wired: tuple[Wired, FakeGateway, FixedClock]
) -> None:
    use_cases, gateway, _ = wired
    deliveries = approvals(use_cases, gateway, 4)
    use_cases.notifications.settle_all(verified(use_cases, gateway, deliveries))
    before = books(database)

    with commits(database) as counted:
        outcomes = use_cases.notifications.settle_all(verified(use_cases, gateway, deliveries))

    assert statuses(outcomes) == ["duplicate"] * 4
    assert counted[0] == 0
    assert books(database) == before


def test_one_event_twice_in_a_batch_is_booked_once(
    database: Engine, wired: tuple[Wired, FakeGateway, FixedClock]
) -> None:
    use_cases, gateway, _ = wired
    (delivery,) = approvals(use_cases, gateway, 1)
    before = books(database)

    outcomes = use_cases.notifications.settle_all(
        verified(use_cases, gateway, [delivery, delivery])
    )

    assert statuses(outcomes) == ["processed", "duplicate"]
    after = books(database)
    assert after["ledger"] - before["ledger"] == 2
    assert after["inbox"] - before["inbox"] == 1


def test_a_failure_in_a_batch_keeps_the_others_and_stores_the_failed_delivery(
    database: Engine, wired: tuple[Wired, FakeGateway, FixedClock]
) -> None:
    use_cases, gateway, clock = wired
    deliveries = approvals(use_cases, gateway, 3)
    failing_reference = verified(use_cases, gateway, deliveries[1:2])[0].notification
    assert failing_reference.payment is not None
    OneLookupFails.failing = failing_reference.payment.gateway_reference or ""
    service = NotificationService(wiring_of(OneLookupFails, database, gateway, clock))
    before = books(database)

    outcomes = service.settle_all([service.verify(gateway.name, *d) for d in deliveries])

    assert statuses(outcomes) == ["processed", "queued", "processed"]
    after = books(database)
    assert after["completed"] - before["completed"] == 2
    assert after["ledger"] - before["ledger"] == 4
    failed = select(func.count()).select_from(webhook_inbox)
    assert scalar(database, failed.where(webhook_inbox.c.status == "failed")) == 1


def test_a_delivery_that_cannot_even_be_stored_fails_only_its_own_caller(
    database: Engine, wired: tuple[Wired, FakeGateway, FixedClock]
) -> None:
    use_cases, gateway, clock = wired
    deliveries = approvals(use_cases, gateway, 2)
    service = NotificationService(wiring_of(StoreGone, database, gateway, clock))

    outcomes = service.settle_all([service.verify(gateway.name, *d) for d in deliveries])

    assert all(isinstance(outcome, StorageUnavailableError) for outcome in outcomes), outcomes
    assert books(database)["inbox"] == 0


def test_many_threads_delivering_at_once_book_each_payment_once(
    database: Engine, wired: tuple[Wired, FakeGateway, FixedClock]
) -> None:
    use_cases, gateway, _ = wired
    deliveries = approvals(use_cases, gateway, 12)
    before = books(database)

    def receive(delivery: Delivery) -> str:
        return use_cases.notifications.receive(gateway.name, *delivery).status.value

    answers = together([functools.partial(receive, d) for d in deliveries * 2])

    assert sorted(answers) == ["duplicate"] * 12 + ["processed"] * 12, answers
    after = books(database)
    assert after["completed"] - before["completed"] == 12
    assert after["ledger"] - before["ledger"] == 24
    assert after["inbox"] - before["inbox"] == 12


def test_a_payment_and_its_refund_in_one_batch_are_booked_in_order(
    database: Engine, wired: tuple[Wired, FakeGateway, FixedClock]
) -> None:
    use_cases, gateway, _ = wired
    (approval,) = approvals(use_cases, gateway, 1)
    payment = verified(use_cases, gateway, [approval])[0].notification.payment
    assert payment is not None and payment.gateway_reference is not None
    gateway.refund_at_provider(payment.gateway_reference, Money("20.00", "EUR"))
    (refunded,) = gateway.drain()
    before = books(database)

    with commits(database) as counted:
        outcomes = use_cases.notifications.settle_all(
            verified(use_cases, gateway, [approval, refunded])
        )

    assert statuses(outcomes) == ["processed", "processed"]
    assert counted[0] == 1  # together: the purchase written twice in one transaction, in order
    after = books(database)
    assert after["ledger"] - before["ledger"] == 4  # the payment's two, the refund's two
    account = use_cases.accounts.get("cus_0", MERCHANT)
    assert account.credits < Decimal("8.00")
    with database.connect() as connection:
        refunded_amount = connection.execute(select(purchases.c.refunded_amount)).scalar_one()
    assert refunded_amount == Decimal("20.00")
