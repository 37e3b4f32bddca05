"""The repository contract for batches: what a batch of notifications stores, claims and locks
in one unit of work (group commit and ingest mode, decisions 0041 and 0042)."""

from __future__ import annotations

from datetime import timedelta

from payments.domain.inbox import InboxStatus
from payments.domain.ports import UnitOfWork
from payments.testing.contracts.repositories.base import UnitOfWorkFixtures
from payments.testing.contracts.repositories.builders import T0, a_message, a_purchase, seed
from payments.testing.expect import expect, expect_equal, present


class BatchContract(UnitOfWorkFixtures):
    """Inbox messages stored and saved together, received ones claimed oldest first, purchases
    locked ahead and then found."""

    def test_messages_stored_together_skip_the_events_stored_already(self, uow: UnitOfWork) -> None:
        with uow:
            expect(uow.inbox.add(a_message("msg_1", event_id="evt_1")) is True)
            uow.commit()
        with uow:
            batch = [a_message(f"msg_{n}", event_id=f"evt_{n}") for n in (1, 2, 3)]
            batch[0].id = "msg_1_again"
            expect_equal(uow.inbox.store_new(batch), {"msg_2", "msg_3"})
            uow.commit()
        with uow:
            expect(uow.inbox.get("msg_1_again") is None)
            expect_equal(present(uow.inbox.get("msg_3")).event_id, "evt_3")

    def test_received_messages_are_claimed_oldest_first_up_to_the_limit(
        self, uow: UnitOfWork
    ) -> None:
        with uow:
            uow.inbox.store_new(
                [
                    a_message("msg_late", received_at=T0 + timedelta(seconds=2)),
                    a_message("msg_early", received_at=T0),
                    a_message("msg_middle", received_at=T0 + timedelta(seconds=1)),
                    a_message("msg_done", received_at=T0 - timedelta(seconds=1)),
                ]
            )
            done = present(uow.inbox.get("msg_done"))
            done.settle(InboxStatus.PROCESSED, T0, None)
            uow.inbox.save(done)
            uow.commit()
        with uow:
            claimed = uow.inbox.claim_received(2)
            expect_equal([m.id for m in claimed], ["msg_early", "msg_middle"])
            for message in claimed:
                message.settle(InboxStatus.PROCESSED, T0 + timedelta(seconds=5), "pur_1")
            uow.inbox.save_all(claimed)
            uow.commit()
        with uow:
            expect_equal([m.id for m in uow.inbox.claim_received(10)], ["msg_late"])
            saved = present(uow.inbox.get("msg_middle"))
            expect_equal(saved.status, InboxStatus.PROCESSED)
            expect_equal(saved.purchase_id, "pur_1")

    def test_purchases_locked_ahead_are_found_as_they_are_stored(self, uow: UnitOfWork) -> None:
        purchases = [a_purchase(f"pur_{n}") for n in (1, 2)]
        for number, purchase in enumerate(purchases, 1):
            purchase.start_at_gateway("stripe", f"pi_{number}", None, T0)
        seed(uow, *purchases)
        with uow:
            uow.purchases.lock_by_gateway_references("stripe", ["pi_2", "pi_1", "pi_unknown"])
            second = present(uow.purchases.get_by_gateway_reference("stripe", "pi_2"))
            expect_equal(second.id, "pur_2")
            expect(uow.purchases.get_by_gateway_reference("stripe", "pi_unknown") is None)
            first = present(
                uow.purchases.get_by_gateway_reference("stripe", "pi_1", for_update=True)
            )
            first.flag_for_review("checked", T0)
            uow.purchases.save(first)
            uow.commit()
        with uow:
            expect(present(uow.purchases.get("pur_1")).needs_review)
