"""The unit-of-work contract for events: commit writes what the aggregates it saw recorded."""

from __future__ import annotations

from payments.domain.ports import UnitOfWork
from payments.domain.purchase import PaymentOutcome
from payments.testing.contracts.repositories.base import UnitOfWorkFixtures
from payments.testing.contracts.repositories.builders import (
    T0,
    CommittedEvents,
    a_purchase,
    observation,
    seed,
)
from payments.testing.expect import expect_equal, present

CREATED = "purchase.created"
CHANGED = "purchase.status_changed"
COMPLETED = "purchase.completed"


class EventsContract(UnitOfWorkFixtures):
    """``commit()`` writes to the outbox, in its transaction, the new events of every aggregate
    the unit of work loaded or was given, once each; work not committed writes none. Subclasses
    also provide ``committed_events``."""

    def test_commit_writes_the_events_of_a_purchase_it_was_given(
        self, uow: UnitOfWork, committed_events: CommittedEvents
    ) -> None:
        purchase = a_purchase()
        seed(uow, purchase)
        expect_equal(committed_events(), [CREATED])
        expect_equal(purchase.events, [], "the events were taken off the purchase")

    def test_commit_writes_the_events_of_a_purchase_it_loaded_once(
        self, uow: UnitOfWork, committed_events: CommittedEvents
    ) -> None:
        seed(uow, a_purchase(), a_purchase("pur_2"))
        with uow:
            second = present(uow.purchases.get("pur_2", for_update=True))
            first = present(uow.purchases.get_by_reference("ref_pur_1", for_update=True))
            first.apply(observation(PaymentOutcome.SUCCEEDED, "evt_1"), T0, "stripe")
            second.cancel(T0, "customer")
            uow.purchases.save(first)
            uow.purchases.save(second)
            uow.commit()
            uow.commit()  # nothing new to write
        expect_equal(committed_events(), [CREATED, CREATED, CHANGED, CHANGED, COMPLETED])

    def test_work_not_committed_writes_no_events(
        self, uow: UnitOfWork, committed_events: CommittedEvents
    ) -> None:
        seed(uow, a_purchase())
        with uow:
            purchase = present(uow.purchases.get("pur_1", for_update=True))
            purchase.cancel(T0, "customer")
            uow.purchases.save(purchase)
        with uow:
            uow.purchases.add(a_purchase("pur_2"))
            uow.rollback()
            uow.commit()
        expect_equal(committed_events(), [CREATED])
