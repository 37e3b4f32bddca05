"""The repository contract, queries: purchase pages, open purchases, inbox claims, idempotency."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from payments.domain.errors import ValidationError
from payments.domain.idempotency import IdempotencyRecord
from payments.domain.inbox import InboxStatus
from payments.domain.ports import UnitOfWork
from payments.domain.purchase import PaymentOutcome, PurchaseStatus
from payments.testing.contracts.repositories.base import UnitOfWorkFixtures
from payments.testing.contracts.repositories.builders import (
    T0,
    a_customer,
    a_message,
    a_product,
    a_purchase,
    is_utc,
    observation,
    seed,
)
from payments.testing.expect import expect, expect_equal, present


class QueryContract(UnitOfWorkFixtures):
    """Listings page and order as promised; claims and idempotency keys behave under reuse."""

    def test_cursor_pages_return_every_purchase_once_newest_first(self, uow: UnitOfWork) -> None:
        ids = ["pur_g", "pur_c", "pur_e", "pur_a", "pur_f", "pur_b", "pur_d"]
        # Pairs share a creation time, so the id must break the tie.
        mine = [a_purchase(pid, now=T0 + timedelta(minutes=i // 2)) for i, pid in enumerate(ids)]
        with uow:
            uow.customers.add(a_customer())
            uow.customers.add(a_customer("cus_bob", "bob@example.com"))
            uow.products.add(a_product())
            for purchase in mine:
                uow.purchases.add(purchase)
            uow.purchases.add(a_purchase("pur_z", customer_id="cus_bob", now=T0))
            uow.commit()
        expected = [p.id for p in sorted(mine, key=lambda p: (p.created_at, p.id), reverse=True)]
        pages: list[list[str]] = []
        cursor: str | None = None
        with uow:
            while True:
                page = uow.purchases.list(customer_id="cus_ana", limit=3, cursor=cursor)
                pages.append([p.id for p in page.items])
                cursor = page.next_cursor
                if cursor is None:
                    break
                expect(len(pages) < 5, "the cursor does not advance")
            everyone = uow.purchases.list(limit=50)
            pending = uow.purchases.list(status=PurchaseStatus.PENDING, limit=50)
            completed = uow.purchases.list(status=PurchaseStatus.COMPLETED)
        expect_equal([len(p) for p in pages], [3, 3, 1])
        expect_equal([pid for page_ids in pages for pid in page_ids], expected)
        expect(everyone.next_cursor is None and len(everyone.items) == 8)
        expect_equal(len(pending.items), 8)
        expect(completed.items == [] and completed.next_cursor is None)

    def test_a_cursor_we_never_gave_out_is_a_validation_error(self, uow: UnitOfWork) -> None:
        with uow, pytest.raises(ValidationError):
            uow.purchases.list(cursor="not-a-cursor!")

    def test_list_open_returns_stale_pending_and_processing_purchases_oldest_first(
        self,
        uow: UnitOfWork,
    ) -> None:
        old = a_purchase("pur_old", now=T0)
        processing = a_purchase("pur_processing", now=T0 + timedelta(minutes=1))
        processing.apply(
            observation(PaymentOutcome.PROCESSING, "evt_1"), processing.updated_at, "x"
        )
        completed = a_purchase("pur_done", now=T0)
        completed.apply(observation(PaymentOutcome.SUCCEEDED, "evt_2", "pi_2"), T0, "x")
        recent = a_purchase("pur_recent", now=T0 + timedelta(minutes=30))
        seed(uow, recent, completed, processing, old)
        with uow:
            found = uow.purchases.list_open(updated_before=T0 + timedelta(minutes=10))
            one = uow.purchases.list_open(updated_before=T0 + timedelta(minutes=10), limit=1)
            none = uow.purchases.list_open(updated_before=T0)
        expect_equal([p.id for p in found], ["pur_old", "pur_processing"])
        expect_equal([p.id for p in one], ["pur_old"])
        expect_equal(none, [])

    def test_claim_due_leases_failed_messages_so_nobody_claims_them_twice(
        self, uow: UnitOfWork
    ) -> None:
        now = T0 + timedelta(hours=1)
        with uow:
            uow.inbox.add(a_message("msg_late", status=InboxStatus.FAILED, next_attempt_at=now))
            uow.inbox.add(
                a_message(
                    "msg_early",
                    status=InboxStatus.FAILED,
                    next_attempt_at=now - timedelta(minutes=2),
                )
            )
            uow.inbox.add(
                a_message(
                    "msg_future",
                    status=InboxStatus.FAILED,
                    next_attempt_at=now + timedelta(minutes=1),
                )
            )
            uow.inbox.add(a_message("msg_dead", status=InboxStatus.DEAD))
            uow.inbox.add(a_message("msg_new"))
            uow.commit()
        with uow:
            first = uow.inbox.claim_due(now, 1)
            uow.commit()
        with uow:
            second = uow.inbox.claim_due(now, 10)
            uow.commit()
        with uow:
            third = uow.inbox.claim_due(now, 10)
            stored = uow.inbox.get("msg_early")
            after_lease = uow.inbox.claim_due(now + timedelta(minutes=6), 10)
        lease = now + timedelta(minutes=5)
        expect_equal([m.id for m in first], ["msg_early"])
        expect_equal([m.id for m in second], ["msg_late"])
        expect(all(m.next_attempt_at == lease for m in first + second))
        expect_equal(third, [])
        expect_equal({m.id for m in after_lease}, {"msg_early", "msg_late", "msg_future"})
        stored = present(stored)
        expect(stored.next_attempt_at == lease and is_utc(stored.next_attempt_at))
        expect(stored.status is InboxStatus.FAILED)

    def test_idempotency_key_is_claimed_finished_replayed_and_expires(
        self, uow: UnitOfWork
    ) -> None:
        lifetime = timedelta(hours=24)
        claim = IdempotencyRecord("key_1", "idem-1", "sha256:aaa", T0, T0 + lifetime)
        with uow:
            expect(uow.idempotency.claim(claim) is None)
            uow.commit()
        with uow:
            in_flight = uow.idempotency.claim(replace(claim, fingerprint="sha256:bbb"))
        in_flight = present(in_flight)
        expect(in_flight.fingerprint == "sha256:aaa" and not in_flight.finished)
        done = replace(
            claim,
            response_status=201,
            response_body=b'{"id": "pur_1"}',
            response_headers={"content-type": "application/json", "location": "/v1/purchases/1"},
        )
        with uow:
            uow.idempotency.finish(done)
            uow.idempotency.release("key_1", "idem-1")  # a finished key is never released
            uow.commit()
        with uow:
            replay = uow.idempotency.claim(replace(claim, created_at=T0 + timedelta(hours=1)))
        expect_equal(replay, done)
        later = T0 + lifetime
        with uow:
            renewed = IdempotencyRecord("key_1", "idem-1", "sha256:ccc", later, later + lifetime)
            expect(uow.idempotency.claim(renewed) is None)
            uow.commit()
        with uow:
            current = uow.idempotency.claim(replace(renewed, fingerprint="sha256:ddd"))
            expect_equal(current, renewed)
            uow.idempotency.release("key_1", "idem-1")
            expect(uow.idempotency.claim(replace(renewed, fingerprint="sha256:eee")) is None)
            uow.commit()

    def test_expired_idempotency_keys_are_purged(self, uow: UnitOfWork) -> None:
        with uow:
            for n in range(3):
                start = T0 + timedelta(hours=n)
                record = IdempotencyRecord(
                    "key_1", f"idem-{n}", "f", start, start + timedelta(hours=1)
                )
                uow.idempotency.claim(record)
            uow.commit()
        with uow:
            expect_equal(uow.idempotency.purge_expired(T0 + timedelta(hours=2)), 2)
            uow.commit()
        with uow:
            survivor = IdempotencyRecord("key_1", "idem-2", "other", T0, T0 + timedelta(hours=1))
            expect(uow.idempotency.claim(survivor) is not None)
            gone = IdempotencyRecord("key_1", "idem-0", "other", T0, T0 + timedelta(hours=1))
            expect(uow.idempotency.claim(gone) is None)
