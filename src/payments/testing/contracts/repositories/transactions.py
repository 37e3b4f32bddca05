"""The repository contract at work: transactions and conflicts, pages, inbox claims, idempotency."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest

from payments.domain.access import ApiKey, Role
from payments.domain.errors import ConflictError, ValidationError
from payments.domain.idempotency import IdempotencyRecord, OutcomeKind, UnknownOutcome
from payments.domain.inbox import InboxStatus
from payments.domain.ledger import consumption_entry
from payments.domain.money import Money
from payments.domain.ports import PurchaseQuery, UnitOfWork
from payments.domain.purchase import PaymentOutcome, PurchaseStatus
from payments.domain.refund import RefundStatus
from payments.testing.contracts.repositories.base import UnitOfWorkFixtures
from payments.testing.contracts.repositories.builders import (
    T0,
    a_customer,
    a_message,
    a_product,
    a_purchase,
    a_refund,
    credits_entry,
    is_utc,
    observation,
    payment_entry,
    refund_entry,
    seed,
)
from payments.testing.expect import expect, expect_equal, present


class TransactionContract(UnitOfWorkFixtures):
    """Uncommitted work vanishes; a refused write leaves the transaction usable."""

    def test_changes_not_committed_are_rolled_back(self, uow: UnitOfWork) -> None:
        with uow:
            uow.customers.add(a_customer())
        with uow:
            uow.customers.add(a_customer("cus_bob", "bob@example.com"))
            uow.rollback()
            uow.commit()
        with contextlib.suppress(LookupError), uow:
            uow.customers.add(a_customer("cus_eve", "eve@example.com"))
            uow.commit()
            uow.customers.add(a_customer("cus_late", "late@example.com"))
            raise LookupError("the block failed after its commit")
        with uow:
            expect(uow.customers.get("cus_ana") is None)
            expect(uow.customers.get("cus_bob") is None)
            expect(uow.customers.get("cus_eve") is not None)
            expect(uow.customers.get("cus_late") is None)

    def test_duplicate_purchase_reference_is_a_conflict_that_leaves_the_transaction_usable(
        self,
        uow: UnitOfWork,
    ) -> None:
        seed(uow, a_purchase())
        with uow:
            with pytest.raises(ConflictError):
                uow.purchases.add(a_purchase("pur_2", reference="ref_pur_1"))
            uow.purchases.add(a_purchase("pur_3"))
            uow.commit()
        with uow:
            expect(uow.purchases.get("pur_2") is None)
            expect(uow.purchases.get("pur_3") is not None)

    def test_gateway_reference_belongs_to_one_purchase(self, uow: UnitOfWork) -> None:
        first = a_purchase()
        first.start_at_gateway("stripe", "pi_1", None, T0)
        seed(uow, first)
        second = a_purchase("pur_2")
        second.start_at_gateway("stripe", "pi_1", None, T0)
        with uow, pytest.raises(ConflictError):
            uow.purchases.add(second)
        with uow:
            third = a_purchase("pur_3")
            third.start_at_gateway("payu", "pi_1", None, T0)  # another gateway may use the same id
            uow.purchases.add(third)
            uow.commit()
        with uow:
            stored = uow.purchases.get("pur_3")
            stored = present(stored)
            stored.gateway = "stripe"
            with pytest.raises(ConflictError):
                uow.purchases.save(stored)

    def test_ledger_source_is_entered_once_and_the_transaction_goes_on(
        self, uow: UnitOfWork
    ) -> None:
        seed(uow, a_purchase())
        payment, credits = payment_entry(), credits_entry()
        again = replace(payment, id="led_3", amount=Decimal("1.00"))
        refund = refund_entry("led_4", Decimal("-5.125"), asset="KWD")
        consumption = consumption_entry(
            id="led_5",
            customer_id="cus_ana",
            credits=Decimal("1.25"),
            reference="lesson-1",
            now=T0 + timedelta(seconds=2),
        )
        with uow:
            expect(uow.ledger.append(payment) is True)
            expect(uow.ledger.append(credits) is True)
            expect(uow.ledger.append(again) is False)
            expect(uow.ledger.append(refund) is True)
            expect(uow.ledger.append(consumption) is True)
            uow.commit()
        with uow:
            expect(uow.ledger.append(again) is False)
            entries = uow.ledger.for_customer("cus_ana")
            about_purchase = uow.ledger.for_purchase("pur_1")
            by_source = uow.ledger.by_source("purchase:pur_1:payment")
            unknown = uow.ledger.by_source("purchase:pur_9:payment")
        expect_equal(entries, [payment, credits, refund, consumption])
        expect_equal(about_purchase, [payment, credits, refund])
        expect_equal(by_source, payment)
        expect(by_source is not None and str(by_source.amount) == "79.99")
        expect_equal(str(entries[2].amount), "-5.125")
        expect(is_utc(entries[1].expires_at))
        expect(unknown is None)

    def test_ledger_entries_appended_together_skip_known_sources(self, uow: UnitOfWork) -> None:
        seed(uow, a_purchase())
        payment, credits = payment_entry(), credits_entry()
        refund = refund_entry("led_3", Decimal("-10.00"))
        with uow:
            expect_equal(uow.ledger.append_all([]), 0)
            expect_equal(uow.ledger.append_all([payment, credits, replace(payment, id="led_9")]), 2)
            uow.commit()
        with uow:
            expect_equal(uow.ledger.append_all([replace(credits, id="led_8"), refund]), 1)
            uow.commit()
        with uow:
            entries = uow.ledger.for_purchase("pur_1")
        expect_equal(entries, [payment, credits, refund])
        expect_equal(str(entries[0].amount), "79.99")
        expect_equal(str(entries[2].amount), "-10.00")
        expect(is_utc(entries[1].expires_at))

    def test_duplicate_inbox_event_is_refused_and_the_transaction_goes_on(
        self, uow: UnitOfWork
    ) -> None:
        first = a_message("msg_1", event_id="evt_1")
        with uow:
            expect(uow.inbox.add(first) is True)
            expect(uow.inbox.add(a_message("msg_2", event_id="evt_1")) is False)
            expect(uow.inbox.add(a_message("msg_3", provider="wompi", event_id="evt_1")) is True)
            uow.commit()
        with uow:
            expect(uow.inbox.add(a_message("msg_4", event_id="evt_1")) is False)
            stored = uow.inbox.get("msg_1")
            expect(uow.inbox.get("msg_2") is None)
        expect_equal(stored, first)
        expect(stored is not None and stored.body == first.body and is_utc(stored.received_at))

    def test_inbox_message_outcome_is_saved_and_listed_newest_first(self, uow: UnitOfWork) -> None:
        with uow:
            uow.inbox.add(a_message("msg_1"))
            uow.inbox.add(a_message("msg_2", received_at=T0 + timedelta(seconds=1)))
            uow.inbox.add(a_message("msg_3", received_at=T0 + timedelta(seconds=2)))
            uow.commit()
        with uow:
            message = uow.inbox.get("msg_2")
            message = present(message)
            message.fail("GatewayUnavailableError: down", T0)
            uow.inbox.save(message)
            settled = uow.inbox.get("msg_3")
            settled = present(settled)
            settled.settle(InboxStatus.PROCESSED, T0 + timedelta(seconds=3), "pur_1")
            uow.inbox.save(settled)
            uow.commit()
        with uow:
            expect_equal(uow.inbox.get("msg_2"), message)
            expect_equal([m.id for m in uow.inbox.list()], ["msg_3", "msg_2", "msg_1"])
            expect_equal([m.id for m in uow.inbox.list(limit=2)], ["msg_3", "msg_2"])
            expect_equal([m.id for m in uow.inbox.list(status="failed")], ["msg_2"])
            expect_equal(uow.inbox.get("msg_3"), settled)
            expect_equal(uow.inbox.for_purchase("pur_1"), [settled])
            expect_equal(uow.inbox.for_purchase("pur_2"), [])
            counts = uow.inbox.count_by_status()
            expect_equal(counts, {"received": 1, "failed": 1, "processed": 1})

    def test_stale_copy_of_a_purchase_cannot_overwrite_a_newer_one(self, uow: UnitOfWork) -> None:
        seed(uow, a_purchase())
        with uow:
            stale = uow.purchases.get("pur_1")
        with uow:
            fresh = uow.purchases.get("pur_1")
            fresh = present(fresh)
            fresh.cancel(T0, "customer")
            uow.purchases.save(fresh)
            uow.commit()
        stale = present(stale)
        expect_equal(fresh.version, 1)
        with uow:
            trail = uow.purchases.audit_trail("pur_1")
            stale.apply(observation(PaymentOutcome.SUCCEEDED, "evt_1"), T0, "stripe")
            with pytest.raises(ConflictError):
                uow.purchases.save(stale)
            trail_after = uow.purchases.audit_trail("pur_1")  # in the same transaction
        with uow:
            stored = uow.purchases.get("pur_1")
        stored = present(stored)
        expect(stored.status is PurchaseStatus.CANCELLED)
        expect_equal(stored.version, 1)
        expect_equal(trail_after, trail, "the refused change recorded no transition")

    def test_purchase_never_added_cannot_be_saved(self, uow: UnitOfWork) -> None:
        seed(uow)
        with uow, pytest.raises(ConflictError):
            uow.purchases.save(a_purchase("pur_ghost"))

    def test_adding_what_exists_is_a_conflict_on_every_backend(self, uow: UnitOfWork) -> None:
        seed(uow, a_purchase())
        refund = a_refund(RefundStatus.SUCCEEDED, reason=None, gateway_reference="re_1")
        key = ApiKey("key_1", "pk_admi_abc", "a" * 64, Role.ADMIN, None, T0)
        with uow:
            uow.refunds.add(refund)
            uow.api_keys.add(key)
            uow.commit()

        duplicates: list[Callable[[], None]] = [
            lambda: uow.products.add(a_product()),
            lambda: uow.customers.add(a_customer()),
            lambda: uow.customers.add(a_customer("cus_other")),  # same e-mail
            lambda: uow.purchases.add(a_purchase()),
            lambda: uow.refunds.add(replace(refund, amount=Money("1.00", "EUR"))),
            lambda: uow.refunds.add(replace(refund, id="rfd_2")),  # same gateway reference
            lambda: uow.api_keys.add(replace(key, id="key_2")),  # same hash
            lambda: uow.api_keys.add(replace(key, secret_hash="b" * 64)),  # same id
        ]
        for add_again in duplicates:
            with uow:
                with pytest.raises(ConflictError):
                    add_again()
                uow.commit()

        with uow:
            expect_equal(uow.refunds.get("rfd_1"), refund)
            expect(uow.refunds.get("rfd_2") is None)
            expect(uow.customers.get("cus_other") is None)
            expect(uow.api_keys.get_by_hash("b" * 64) is None)


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
                page = uow.purchases.page(
                    PurchaseQuery(customer_id="cus_ana", limit=3, cursor=cursor)
                )
                pages.append([p.id for p in page.items])
                cursor = page.next_cursor
                if cursor is None:
                    break
                expect(len(pages) < 5, "the cursor does not advance")
            everyone = uow.purchases.page(PurchaseQuery(limit=50))
            pending = uow.purchases.page(PurchaseQuery(status=PurchaseStatus.PENDING, limit=50))
            completed = uow.purchases.page(PurchaseQuery(status=PurchaseStatus.COMPLETED))
        expect_equal([len(p) for p in pages], [3, 3, 1])
        expect_equal([pid for page_ids in pages for pid in page_ids], expected)
        expect(everyone.next_cursor is None and len(everyone.items) == 8)
        expect_equal(len(pending.items), 8)
        expect(completed.items == [] and completed.next_cursor is None)

    def test_a_cursor_we_never_gave_out_is_a_validation_error(self, uow: UnitOfWork) -> None:
        with uow, pytest.raises(ValidationError):
            uow.purchases.page(PurchaseQuery(cursor="not-a-cursor!"))

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

    def test_claim_open_leases_purchases_until_they_are_as_stale_again(
        self, uow: UnitOfWork
    ) -> None:
        seed(uow, a_purchase("pur_a", now=T0), a_purchase("pur_b", now=T0 + timedelta(minutes=1)))
        stale, at = T0 + timedelta(minutes=5), T0 + timedelta(minutes=20)
        claims = []
        for limit in (1, 10, 10):  # a sweep after another takes what the first left
            with uow:
                claims.append(uow.purchases.claim_open(updated_before=stale, now=at, limit=limit))
                uow.commit()
        with uow:
            leased = uow.purchases.claim_open(updated_before=at, now=at)
            due = uow.purchases.claim_open(updated_before=at + timedelta(seconds=1), now=at)
            stored = present(uow.purchases.get("pur_a"))
        expect_equal([[p.id for p in claim] for claim in claims], [["pur_a"], ["pur_b"], []])
        expect(all(p.updated_at == at for claim in claims for p in claim))
        expect_equal(leased, [])
        expect_equal(sorted(p.id for p in due), ["pur_a", "pur_b"])
        expect(stored.updated_at == at and is_utc(stored.updated_at))

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

    def test_an_unfinished_claim_names_its_purchase_and_holds_the_key_that_long(
        self, uow: UnitOfWork
    ) -> None:
        claim = IdempotencyRecord("key_1", "idem-1", "sha256:aaa", T0, T0 + timedelta(minutes=5))
        named = UnknownOutcome(OutcomeKind.PURCHASE, "pur_1")
        with uow:
            uow.idempotency.claim(claim)
            uow.idempotency.name_outcome("key_1", "idem-1", named, T0 + timedelta(hours=24))
            uow.idempotency.name_outcome("key_1", "never-claimed", named, T0)  # nothing to name
            uow.commit()
        with uow:  # past the lease: still held, naming the purchase
            held = uow.idempotency.claim(replace(claim, created_at=T0 + timedelta(hours=1)))
        held = present(held)
        expect(not held.finished and held.unknown_outcome == named)
        expect_equal(held.expires_at, T0 + timedelta(hours=24))
        done = replace(claim, response_status=201, response_body=b"{}", response_headers={})
        with uow:
            uow.idempotency.finish(done)
            uow.idempotency.name_outcome("key_1", "idem-1", named, T0)  # a finished one stays
            expect(
                uow.idempotency.claim(IdempotencyRecord("key_1", "never-claimed", "f", T0, T0))
                is None
            )
            uow.commit()
        with uow:
            expect_equal(uow.idempotency.claim(replace(claim, fingerprint="other")), done)

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
