"""The repository and unit-of-work contract, run on SQLite, PostgreSQL and the in-memory fake."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError, StatementError

from payments.adapters.sql.engine import make_engine
from payments.adapters.sql.migrate import alembic_config, upgrade_engine
from payments.adapters.sql.tables import customers, metadata, outbox, products, purchases
from payments.adapters.sql.unit_of_work import SqlUnitOfWork
from payments.domain.access import ApiKey, Role
from payments.domain.catalog import Product
from payments.domain.customer import Customer
from payments.domain.errors import ConflictError, ValidationError
from payments.domain.events import PurchaseCreated
from payments.domain.idempotency import IdempotencyRecord
from payments.domain.inbox import InboxMessage, InboxStatus
from payments.domain.ledger import CREDITS, EntryKind, LedgerEntry
from payments.domain.money import Money
from payments.domain.ports import UnitOfWork
from payments.domain.purchase import (
    CashVoucherAction,
    ClientSecretAction,
    GatewayObservation,
    ObservationSource,
    PaymentOutcome,
    Purchase,
    PurchaseStatus,
    RedirectAction,
    RoutingDecision,
)
from payments.domain.refund import Refund, RefundStatus

# A time with microseconds and a zone that is not UTC: it must come back as the same instant.
T0 = datetime(2026, 3, 14, 15, 9, 26, 535897, tzinfo=UTC)

# -- backends: to add one, add a ``<name>_uow`` fixture and its name here -------------------------

BACKENDS = [
    pytest.param("sqlite"),
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("memory"),
]


@pytest.fixture
def sqlite_uow(sqlite_engine: Engine) -> UnitOfWork:
    return SqlUnitOfWork(sqlite_engine)


@pytest.fixture
def postgres_uow(postgres_engine: Engine) -> UnitOfWork:
    return SqlUnitOfWork(postgres_engine)


@pytest.fixture
def memory_uow() -> UnitOfWork:
    memory = pytest.importorskip("payments.adapters.memory")
    uow: UnitOfWork = memory.InMemoryUnitOfWork()
    return uow


@pytest.fixture(params=BACKENDS)
def uow(request: pytest.FixtureRequest) -> UnitOfWork:
    """One unit of work of each backend, reused for block after block."""
    backend: UnitOfWork = request.getfixturevalue(f"{request.param}_uow")
    return backend


@pytest.fixture(
    params=[pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)]
)
def sql_engine(request: pytest.FixtureRequest) -> Engine:
    """A migrated engine of each SQL backend."""
    engine: Engine = request.getfixturevalue(f"{request.param}_engine")
    return engine


# -- builders ------------------------------------------------------------------------------------


def a_customer(customer_id: str = "cus_ana", email: str | None = "ana@example.com") -> Customer:
    return Customer(customer_id, email, "Ana", T0)


def a_product(
    product_id: str = "prd_hours", price: Money | None = None, *, created_at: datetime = T0
) -> Product:
    return Product.create(
        id=product_id,
        name="8 Hour Premium Package",
        kind="package",
        price=price or Money("79.99", "EUR"),
        credits="8",
        validity_days=60,
        created_at=created_at,
    )


def a_purchase(
    purchase_id: str = "pur_1",
    *,
    amount: Money | None = None,
    customer_id: str = "cus_ana",
    product_id: str = "prd_hours",
    reference: str | None = None,
    now: datetime = T0,
    credits: Decimal = Decimal("8"),
) -> Purchase:
    return Purchase.create(
        id=purchase_id,
        reference=reference or f"ref_{purchase_id}",
        customer_id=customer_id,
        product_id=product_id,
        amount=amount or Money("79.99", "EUR"),
        credits=credits,
        validity_days=60,
        country="PT",
        payment_method="card",
        routing=RoutingDecision(("stripe", "payu"), "*: stripe, payu"),
        now=now,
        return_url="https://shop.example/return",
    )


def seed(uow: UnitOfWork, *purchase_list: Purchase) -> None:
    """Commit the customer and product the purchases refer to, and the purchases."""
    with uow:
        uow.customers.add(a_customer())
        uow.products.add(a_product())
        for purchase in purchase_list:
            uow.purchases.add(purchase)
        uow.commit()


def as_stored(purchase: Purchase) -> Purchase:
    """What a repository gives back: no pending audit, no events."""
    return replace(purchase, pending_audit=[], events=[])


def observation(
    outcome: PaymentOutcome, event_id: str, reference: str = "pi_1"
) -> GatewayObservation:
    """What Stripe reports about the payment of ``a_purchase()`` (its amount, 79.99 EUR)."""
    return GatewayObservation(
        gateway="stripe",
        outcome=outcome,
        source=ObservationSource.NOTIFICATION,
        gateway_reference=reference,
        amount=Money("79.99", "EUR"),
        event_id=event_id,
    )


def a_message(
    message_id: str,
    *,
    provider: str = "stripe",
    event_id: str | None = None,
    status: InboxStatus = InboxStatus.RECEIVED,
    next_attempt_at: datetime | None = None,
    received_at: datetime = T0,
) -> InboxMessage:
    return InboxMessage(
        id=message_id,
        provider=provider,
        event_id=event_id or f"evt_{message_id}",
        event_type="payment_intent.succeeded",
        headers={"stripe-signature": "t=1,v1=abc", "content-type": "application/json"},
        body=b'{"id": "evt", "amount": 7999, "raw": "\xc3\xa9"}\x00\xff',
        received_at=received_at,
        status=status,
        attempts=1 if status is InboxStatus.FAILED else 0,
        next_attempt_at=next_attempt_at,
        last_error="GatewayUnavailableError: timeout" if status is InboxStatus.FAILED else None,
    )


def is_utc(moment: datetime | None) -> bool:
    return moment is not None and moment.utcoffset() == timedelta(0)


# -- round trips ---------------------------------------------------------------------------------


def test_product_comes_back_with_its_exact_price(uow: UnitOfWork) -> None:
    plan = Product.create(
        id="prd_plan",
        name="Monthly plan",
        kind="plan",
        price=Money("5.120", "KWD"),
        credits="2.5",
        billing_cycle="monthly",
        trial_days=14,
        active=False,
        created_at=T0 + timedelta(seconds=1),
    )
    with uow:
        uow.products.add(a_product())
        uow.products.add(plan)
        uow.commit()
    with uow:
        package = uow.products.get("prd_hours")
        stored_plan = uow.products.get("prd_plan")
        active = uow.products.list()
        every = uow.products.list(active_only=False)
        missing = uow.products.get("prd_nope")
    assert package == a_product()
    assert package is not None and str(package.price) == "79.99 EUR"
    assert stored_plan == plan
    assert stored_plan is not None and is_utc(stored_plan.created_at)
    assert [p.id for p in active] == ["prd_hours"]
    assert [p.id for p in every] == ["prd_hours", "prd_plan"]
    assert missing is None


def test_customer_is_found_by_id_and_by_email(uow: UnitOfWork) -> None:
    with uow:
        uow.customers.add(a_customer())
        uow.customers.add(a_customer("cus_guest", None))
        uow.commit()
    with uow:
        assert uow.customers.get("cus_ana") == a_customer()
        assert uow.customers.get("cus_ana", for_update=True) == a_customer()
        assert uow.customers.get_by_email("ana@example.com") == a_customer()
        assert uow.customers.get("cus_guest") == a_customer("cus_guest", None)
        assert uow.customers.get_by_email("bob@example.com") is None
        assert uow.customers.get("cus_nope") is None


def test_two_customers_cannot_share_an_email(uow: UnitOfWork) -> None:
    with uow:
        uow.customers.add(a_customer())
        uow.commit()
    with uow, pytest.raises(ConflictError):
        uow.customers.add(a_customer("cus_other"))


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (Money("79.99", "EUR"), "79.99 EUR"),
        (Money("5.120", "KWD"), "5.120 KWD"),
        (Money("10000", "COP"), "10000.00 COP"),
        (Money("12345678.91", "COP"), "12345678.91 COP"),
    ],
)
def test_purchase_comes_back_field_for_field(uow: UnitOfWork, amount: Money, shown: str) -> None:
    purchase = a_purchase(amount=amount, credits=Decimal("2.5"))
    seed(uow, purchase)
    with uow:
        stored = uow.purchases.get(purchase.id)
    assert stored == as_stored(purchase)
    assert stored is not None
    assert str(stored.amount) == shown
    assert stored.amount.amount == amount.amount
    assert stored.refunded == Money.zero(amount.currency)
    assert stored.credits == Decimal("2.5")
    assert stored.routing == RoutingDecision(("stripe", "payu"), "*: stripe, payu")
    assert is_utc(stored.created_at) and is_utc(stored.updated_at)
    assert stored.created_at == T0


@pytest.mark.parametrize(
    "action",
    [
        ClientSecretAction("pi_1_secret_2", "pk_test_1"),
        ClientSecretAction("pi_1_secret_2"),
        RedirectAction("https://checkout.example/pse?id=1&x=é"),
        CashVoucherAction(
            code="EFC-123456",
            barcode="4157709998001234",
            amount=Money("10000", "COP"),
            expires_at=T0 + timedelta(hours=72, microseconds=7),
            instructions="Paga en cualquier punto Efecty antes de la fecha límite.",
        ),
    ],
)
def test_every_change_of_a_purchase_is_saved(
    uow: UnitOfWork, action: ClientSecretAction | RedirectAction | CashVoucherAction
) -> None:
    purchase = a_purchase()
    seed(uow, purchase)
    later = T0 + timedelta(minutes=3)
    with uow:
        stored = uow.purchases.get(purchase.id, for_update=True)
        assert stored is not None
        stored.start_at_gateway("stripe", "pi_1", action, later)
        stored.apply(observation(PaymentOutcome.FAILED, "evt_1"), later, "stripe:evt")
        stored.needs_review = True
        stored.review_reason = "checked by hand"
        uow.purchases.save(stored)
        uow.commit()
    with uow:
        again = uow.purchases.get(purchase.id)
    assert again == as_stored(stored)
    assert again is not None
    assert again.next_action == action
    assert again.status is PurchaseStatus.FAILED
    assert again.version == 1


def test_purchase_is_found_by_reference_and_by_gateway_reference(uow: UnitOfWork) -> None:
    purchase = a_purchase()
    purchase.start_at_gateway("stripe", "pi_1", None, T0)
    seed(uow, purchase)
    with uow:
        by_reference = uow.purchases.get_by_reference("ref_pur_1", for_update=True)
        by_gateway = uow.purchases.get_by_gateway_reference("stripe", "pi_1", for_update=True)
        other_gateway = uow.purchases.get_by_gateway_reference("payu", "pi_1")
        unknown = uow.purchases.get_by_reference("ref_nope")
    assert by_reference == by_gateway == as_stored(purchase)
    assert other_gateway is None and unknown is None


def test_audit_trail_records_every_status_change_in_order(uow: UnitOfWork) -> None:
    purchase = a_purchase()
    seed(uow, purchase)
    assert purchase.pending_audit == []
    with uow:
        stored = uow.purchases.get(purchase.id, for_update=True)
        assert stored is not None
        stored.apply(observation(PaymentOutcome.PROCESSING, "evt_1"), T0, "stripe:a")
        stored.apply(observation(PaymentOutcome.SUCCEEDED, "evt_2"), T0, "stripe:b")
        uow.purchases.save(stored)
        assert stored.pending_audit == []
        uow.commit()
    with uow:
        trail = uow.purchases.audit_trail(purchase.id)
        none = uow.purchases.audit_trail("pur_other")
    assert [(a.from_status, a.to_status, a.event_id) for a in trail] == [
        (None, PurchaseStatus.PENDING, None),
        (PurchaseStatus.PENDING, PurchaseStatus.PROCESSING, "evt_1"),
        (PurchaseStatus.PROCESSING, PurchaseStatus.COMPLETED, "evt_2"),
    ]
    assert trail[1].cause == "notification:processing"
    assert trail[2].actor == "stripe:b"
    assert all(is_utc(a.at) for a in trail)
    assert none == []


def test_refund_comes_back_and_is_found_by_gateway_reference(uow: UnitOfWork) -> None:
    seed(uow, a_purchase())
    first = Refund(
        id="rfd_1",
        purchase_id="pur_1",
        customer_id="cus_ana",
        amount=Money("20.00", "EUR"),
        reason="requested_by_customer",
        status=RefundStatus.PENDING,
        gateway="stripe",
        created_at=T0,
        updated_at=T0,
    )
    second = replace(first, id="rfd_2", amount=Money("0.01", "EUR"), created_at=T0, reason=None)
    with uow:
        uow.refunds.add(second)
        uow.refunds.add(first)
        uow.commit()
    with uow:
        stored = uow.refunds.get("rfd_1")
        assert stored == first
        assert stored is not None
        stored.status = RefundStatus.SUCCEEDED
        stored.gateway_reference = "re_1"
        stored.updated_at = T0 + timedelta(minutes=1)
        uow.refunds.save(stored)
        uow.commit()
    with uow:
        assert uow.refunds.get_by_gateway_reference("stripe", "re_1") == stored
        assert uow.refunds.get_by_gateway_reference("payu", "re_1") is None
        assert [r.id for r in uow.refunds.for_purchase("pur_1")] == ["rfd_1", "rfd_2"]
        assert uow.refunds.get("rfd_nope") is None


def test_api_key_is_found_by_the_hash_of_its_secret(uow: UnitOfWork) -> None:
    customer_key = ApiKey("key_1", "pk_cust_abc", "a" * 64, Role.CUSTOMER, "cus_ana", T0)
    revoked = ApiKey("key_2", "pk_admi_def", "b" * 64, Role.ADMIN, None, T0, T0)
    with uow:
        uow.customers.add(a_customer())
        uow.api_keys.add(customer_key)
        uow.api_keys.add(revoked)
        uow.commit()
    with uow:
        assert uow.api_keys.get_by_hash("a" * 64) == customer_key
        assert uow.api_keys.get_by_hash("b" * 64) == revoked
        assert uow.api_keys.get_by_hash("c" * 64) is None


# -- transactions --------------------------------------------------------------------------------


def test_changes_not_committed_are_rolled_back(uow: UnitOfWork) -> None:
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
        assert uow.customers.get("cus_ana") is None
        assert uow.customers.get("cus_bob") is None
        assert uow.customers.get("cus_eve") is not None
        assert uow.customers.get("cus_late") is None


def test_duplicate_purchase_reference_is_a_conflict_that_leaves_the_transaction_usable(
    uow: UnitOfWork,
) -> None:
    seed(uow, a_purchase())
    with uow:
        with pytest.raises(ConflictError):
            uow.purchases.add(a_purchase("pur_2", reference="ref_pur_1"))
        uow.purchases.add(a_purchase("pur_3"))
        uow.commit()
    with uow:
        assert uow.purchases.get("pur_2") is None
        assert uow.purchases.get("pur_3") is not None


def test_gateway_reference_belongs_to_one_purchase(uow: UnitOfWork) -> None:
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
        assert stored is not None
        stored.gateway = "stripe"
        with pytest.raises(ConflictError):
            uow.purchases.save(stored)


def test_ledger_source_is_entered_once_and_the_transaction_goes_on(uow: UnitOfWork) -> None:
    seed(uow, a_purchase())
    payment = LedgerEntry(
        "led_1", "cus_ana", EntryKind.PURCHASE_PAYMENT, "EUR", Decimal("79.99"),
        "purchase:pur_1:payment", T0, "pur_1",
    )  # fmt: skip
    credits = LedgerEntry(
        "led_2", "cus_ana", EntryKind.PURCHASE_CREDITS, CREDITS, Decimal("8"),
        "purchase:pur_1:credits", T0, "pur_1", T0 + timedelta(days=60),
    )  # fmt: skip
    again = replace(payment, id="led_3", amount=Decimal("1.00"))
    refund = LedgerEntry(
        "led_4", "cus_ana", EntryKind.REFUND_PAYMENT, "KWD", Decimal("-5.125"),
        "refund:rfd_1:payment", T0 + timedelta(seconds=1), "pur_1",
    )  # fmt: skip
    consumption = LedgerEntry(
        "led_5", "cus_ana", EntryKind.CONSUMPTION, CREDITS, Decimal("-1.25"),
        "consumption:cus_ana:lesson-1", T0 + timedelta(seconds=2), reference="lesson-1",
    )  # fmt: skip
    with uow:
        assert uow.ledger.append(payment) is True
        assert uow.ledger.append(credits) is True
        assert uow.ledger.append(again) is False
        assert uow.ledger.append(refund) is True
        assert uow.ledger.append(consumption) is True
        uow.commit()
    with uow:
        assert uow.ledger.append(again) is False
        entries = uow.ledger.for_customer("cus_ana")
        about_purchase = uow.ledger.for_purchase("pur_1")
        by_source = uow.ledger.by_source("purchase:pur_1:payment")
        unknown = uow.ledger.by_source("purchase:pur_9:payment")
    assert entries == [payment, credits, refund, consumption]
    assert about_purchase == [payment, credits, refund]
    assert by_source == payment
    assert by_source is not None and str(by_source.amount) == "79.99"
    assert str(entries[2].amount) == "-5.125"
    assert is_utc(entries[1].expires_at)
    assert unknown is None


def test_ledger_entries_appended_together_skip_known_sources(uow: UnitOfWork) -> None:
    seed(uow, a_purchase())
    payment = LedgerEntry(
        "led_1", "cus_ana", EntryKind.PURCHASE_PAYMENT, "EUR", Decimal("79.99"),
        "purchase:pur_1:payment", T0, "pur_1",
    )  # fmt: skip
    credits = LedgerEntry(
        "led_2", "cus_ana", EntryKind.PURCHASE_CREDITS, CREDITS, Decimal("8"),
        "purchase:pur_1:credits", T0, "pur_1", T0 + timedelta(days=60),
    )  # fmt: skip
    refund = LedgerEntry(
        "led_3", "cus_ana", EntryKind.REFUND_PAYMENT, "EUR", Decimal("-10.00"),
        "refund:rfd_1:payment", T0 + timedelta(seconds=1), "pur_1",
    )  # fmt: skip
    with uow:
        assert uow.ledger.append_all([]) == 0
        assert uow.ledger.append_all([payment, credits, replace(payment, id="led_9")]) == 2
        uow.commit()
    with uow:
        assert uow.ledger.append_all([replace(credits, id="led_8"), refund]) == 1
        uow.commit()
    with uow:
        entries = uow.ledger.for_purchase("pur_1")
    assert entries == [payment, credits, refund]
    assert str(entries[0].amount) == "79.99"
    assert str(entries[2].amount) == "-10.00"
    assert is_utc(entries[1].expires_at)


def test_duplicate_inbox_event_is_refused_and_the_transaction_goes_on(uow: UnitOfWork) -> None:
    first = a_message("msg_1", event_id="evt_1")
    with uow:
        assert uow.inbox.add(first) is True
        assert uow.inbox.add(a_message("msg_2", event_id="evt_1")) is False
        assert uow.inbox.add(a_message("msg_3", provider="wompi", event_id="evt_1")) is True
        uow.commit()
    with uow:
        assert uow.inbox.add(a_message("msg_4", event_id="evt_1")) is False
        stored = uow.inbox.get("msg_1")
        assert uow.inbox.get("msg_2") is None
    assert stored == first
    assert stored is not None and stored.body == first.body and is_utc(stored.received_at)


def test_inbox_message_outcome_is_saved_and_listed_newest_first(uow: UnitOfWork) -> None:
    with uow:
        uow.inbox.add(a_message("msg_1"))
        uow.inbox.add(a_message("msg_2", received_at=T0 + timedelta(seconds=1)))
        uow.inbox.add(a_message("msg_3", received_at=T0 + timedelta(seconds=2)))
        uow.commit()
    with uow:
        message = uow.inbox.get("msg_2")
        assert message is not None
        message.fail("GatewayUnavailableError: down", T0)
        uow.inbox.save(message)
        settled = uow.inbox.get("msg_3")
        assert settled is not None
        settled.settle(InboxStatus.PROCESSED, T0 + timedelta(seconds=3), None)
        uow.inbox.save(settled)
        uow.commit()
    with uow:
        assert uow.inbox.get("msg_2") == message
        assert [m.id for m in uow.inbox.list()] == ["msg_3", "msg_2", "msg_1"]
        assert [m.id for m in uow.inbox.list(limit=2)] == ["msg_3", "msg_2"]
        assert [m.id for m in uow.inbox.list(status="failed")] == ["msg_2"]
        assert uow.inbox.get("msg_3") == settled


def test_stale_copy_of_a_purchase_cannot_overwrite_a_newer_one(uow: UnitOfWork) -> None:
    seed(uow, a_purchase())
    with uow:
        stale = uow.purchases.get("pur_1")
    with uow:
        fresh = uow.purchases.get("pur_1")
        assert fresh is not None
        fresh.cancel(T0, "customer")
        uow.purchases.save(fresh)
        uow.commit()
    assert stale is not None and fresh.version == 1
    with uow:
        trail = uow.purchases.audit_trail("pur_1")
        stale.apply(observation(PaymentOutcome.SUCCEEDED, "evt_1"), T0, "stripe")
        with pytest.raises(ConflictError):
            uow.purchases.save(stale)
        trail_after = uow.purchases.audit_trail("pur_1")  # in the same transaction
    with uow:
        stored = uow.purchases.get("pur_1")
    assert stored is not None and stored.status is PurchaseStatus.CANCELLED
    assert stored.version == 1
    assert trail_after == trail  # the refused change recorded no transition


def test_purchase_never_added_cannot_be_saved(uow: UnitOfWork) -> None:
    seed(uow)
    with uow, pytest.raises(ConflictError):
        uow.purchases.save(a_purchase("pur_ghost"))


# -- queries -------------------------------------------------------------------------------------


def test_cursor_pages_return_every_purchase_once_newest_first(uow: UnitOfWork) -> None:
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
            assert len(pages) < 5, "the cursor does not advance"
        everyone = uow.purchases.list(limit=50)
        pending = uow.purchases.list(status=PurchaseStatus.PENDING, limit=50)
        completed = uow.purchases.list(status=PurchaseStatus.COMPLETED)
    assert [len(p) for p in pages] == [3, 3, 1]
    assert [pid for page_ids in pages for pid in page_ids] == expected
    assert everyone.next_cursor is None and len(everyone.items) == 8
    assert len(pending.items) == 8
    assert completed.items == [] and completed.next_cursor is None


def test_a_cursor_we_never_gave_out_is_a_validation_error(uow: UnitOfWork) -> None:
    with uow, pytest.raises(ValidationError):
        uow.purchases.list(cursor="not-a-cursor!")


def test_list_open_returns_stale_pending_and_processing_purchases_oldest_first(
    uow: UnitOfWork,
) -> None:
    old = a_purchase("pur_old", now=T0)
    processing = a_purchase("pur_processing", now=T0 + timedelta(minutes=1))
    processing.apply(observation(PaymentOutcome.PROCESSING, "evt_1"), processing.updated_at, "x")
    completed = a_purchase("pur_done", now=T0)
    completed.apply(observation(PaymentOutcome.SUCCEEDED, "evt_2", "pi_2"), T0, "x")
    recent = a_purchase("pur_recent", now=T0 + timedelta(minutes=30))
    seed(uow, recent, completed, processing, old)
    with uow:
        found = uow.purchases.list_open(updated_before=T0 + timedelta(minutes=10))
        one = uow.purchases.list_open(updated_before=T0 + timedelta(minutes=10), limit=1)
        none = uow.purchases.list_open(updated_before=T0)
    assert [p.id for p in found] == ["pur_old", "pur_processing"]
    assert [p.id for p in one] == ["pur_old"]
    assert none == []


def test_claim_due_leases_failed_messages_so_nobody_claims_them_twice(uow: UnitOfWork) -> None:
    now = T0 + timedelta(hours=1)
    with uow:
        uow.inbox.add(a_message("msg_late", status=InboxStatus.FAILED, next_attempt_at=now))
        uow.inbox.add(
            a_message(
                "msg_early", status=InboxStatus.FAILED, next_attempt_at=now - timedelta(minutes=2)
            )
        )
        uow.inbox.add(
            a_message(
                "msg_future", status=InboxStatus.FAILED, next_attempt_at=now + timedelta(minutes=1)
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
    assert [m.id for m in first] == ["msg_early"]
    assert [m.id for m in second] == ["msg_late"]
    assert all(m.next_attempt_at == lease for m in first + second)
    assert third == []
    assert {m.id for m in after_lease} == {"msg_early", "msg_late", "msg_future"}
    assert stored is not None and stored.next_attempt_at == lease and is_utc(stored.next_attempt_at)
    assert stored.status is InboxStatus.FAILED


def test_idempotency_key_is_claimed_finished_replayed_and_expires(uow: UnitOfWork) -> None:
    lifetime = timedelta(hours=24)
    claim = IdempotencyRecord("key_1", "idem-1", "sha256:aaa", T0, T0 + lifetime)
    with uow:
        assert uow.idempotency.claim(claim) is None
        uow.commit()
    with uow:
        in_flight = uow.idempotency.claim(replace(claim, fingerprint="sha256:bbb"))
    assert in_flight is not None
    assert in_flight.fingerprint == "sha256:aaa" and not in_flight.finished
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
    assert replay == done
    later = T0 + lifetime
    with uow:
        renewed = IdempotencyRecord("key_1", "idem-1", "sha256:ccc", later, later + lifetime)
        assert uow.idempotency.claim(renewed) is None
        uow.commit()
    with uow:
        current = uow.idempotency.claim(replace(renewed, fingerprint="sha256:ddd"))
        assert current == renewed
        uow.idempotency.release("key_1", "idem-1")
        assert uow.idempotency.claim(replace(renewed, fingerprint="sha256:eee")) is None
        uow.commit()


def test_expired_idempotency_keys_are_purged(uow: UnitOfWork) -> None:
    with uow:
        for n in range(3):
            start = T0 + timedelta(hours=n)
            record = IdempotencyRecord("key_1", f"idem-{n}", "f", start, start + timedelta(hours=1))
            uow.idempotency.claim(record)
        uow.commit()
    with uow:
        assert uow.idempotency.purge_expired(T0 + timedelta(hours=2)) == 2
        uow.commit()
    with uow:
        survivor = IdempotencyRecord("key_1", "idem-2", "other", T0, T0 + timedelta(hours=1))
        assert uow.idempotency.claim(survivor) is not None
        gone = IdempotencyRecord("key_1", "idem-0", "other", T0, T0 + timedelta(hours=1))
        assert uow.idempotency.claim(gone) is None


# -- SQL only: schema, outbox, precision, locking -------------------------------------------------


def test_upgrade_creates_the_check_constraints(sql_engine: Engine) -> None:
    purchase_row = {
        "id": "pur_0", "reference": "ref_0", "customer_id": "cus_ana", "product_id": "prd_hours",
        "amount": Decimal("0"), "currency": "EUR", "credits": Decimal("8"), "validity_days": 60,
        "country": "PT", "routing_chain": "[]", "routing_reason": "", "status": "pending",
        "needs_review": False, "created_at": T0, "updated_at": T0, "version": 0,
    }  # fmt: skip
    with SqlUnitOfWork(sql_engine) as uow:
        uow.customers.add(a_customer())
        uow.products.add(a_product())
        uow.commit()
    with sql_engine.connect() as connection, pytest.raises(IntegrityError) as raised:
        connection.execute(insert(purchases), purchase_row)
    assert "amount_positive" in str(raised.value)
    with sql_engine.connect() as connection, pytest.raises(IntegrityError):
        connection.execute(insert(products), {**_product_row(), "price": Decimal("-1.00")})
    with sql_engine.connect() as connection, pytest.raises(IntegrityError):
        connection.execute(
            insert(customers), {"id": "c2", "email": "ana@example.com", "created_at": T0}
        )


def _product_row() -> dict[str, object]:
    return {
        "id": "prd_x", "name": "x", "kind": "package", "price": Decimal("1.00"),
        "currency": "EUR", "credits": Decimal("0"), "trial_days": 0, "active": True,
        "created_at": T0,
    }  # fmt: skip


def test_migrations_build_exactly_the_declared_tables(sql_engine: Engine) -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with sql_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
        current = context.get_current_revision()
    assert differences == []
    assert current == head == "0002"


def test_upgrade_twice_changes_nothing(sql_engine: Engine) -> None:
    upgrade_engine(sql_engine)
    with sql_engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == "0002"


def test_outbox_keeps_events_of_committed_work_only(sql_engine: Engine) -> None:
    created = PurchaseCreated(T0, "pur_1", "cus_ana", "prd_hours", Money("5.120", "KWD"), "stripe")
    uow = SqlUnitOfWork(sql_engine)
    with uow:
        uow.outbox.add([created, replace(created, purchase_id="pur_2")])
        uow.outbox.add([])
        uow.commit()
    with uow:
        uow.outbox.add([replace(created, purchase_id="pur_rolled_back")])
    with sql_engine.connect() as connection:
        rows = connection.execute(select(outbox).order_by(outbox.c.id)).mappings().all()
    assert [json.loads(r["payload"])["purchase_id"] for r in rows] == ["pur_1", "pur_2"]
    assert rows[0]["name"] == "purchase.created"
    assert json.loads(rows[0]["payload"]) == created.payload()
    assert rows[0]["occurred_at"] == T0 and is_utc(rows[0]["occurred_at"])
    assert rows[0]["published_at"] is None


def test_outbox_keeps_the_order_of_many_events_stored_at_once(sql_engine: Engine) -> None:
    created = PurchaseCreated(T0, "pur_0", "cus_ana", "prd_hours", Money("5.120", "KWD"), "stripe")
    many = [replace(created, purchase_id=f"pur_{n}") for n in range(40)]
    uow = SqlUnitOfWork(sql_engine)
    with uow:
        uow.outbox.add(many)
        uow.commit()
    with sql_engine.connect() as connection:
        rows = connection.execute(select(outbox).order_by(outbox.c.id)).mappings().all()
    assert [json.loads(r["payload"])["purchase_id"] for r in rows] == [
        f"pur_{n}" for n in range(40)
    ]


def test_an_amount_the_column_would_round_is_refused(sql_engine: Engine) -> None:
    too_precise = LedgerEntry(
        "led_1", "cus_ana", EntryKind.CONSUMPTION, CREDITS, Decimal("-0.0000001"),
        "consumption:cus_ana:x", T0,
    )  # fmt: skip
    with SqlUnitOfWork(sql_engine) as uow:
        uow.customers.add(a_customer())
        with pytest.raises(StatementError):
            uow.ledger.append(too_precise)


def test_concurrent_locked_updates_never_lose_one(sql_engine: Engine) -> None:
    seed(SqlUnitOfWork(sql_engine), a_purchase())
    errors: list[BaseException] = []

    def bump(times: int) -> None:
        uow = SqlUnitOfWork(sql_engine)
        try:
            for _ in range(times):
                with uow:
                    purchase = uow.purchases.get("pur_1", for_update=True)
                    assert purchase is not None
                    purchase.updated_at += timedelta(microseconds=1)
                    uow.purchases.save(purchase)
                    uow.commit()
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    workers = [threading.Thread(target=bump, args=(10,)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    with SqlUnitOfWork(sql_engine) as uow:
        stored = uow.purchases.get("pur_1")
    assert stored is not None and stored.version == 40


@pytest.mark.postgres
def test_for_update_makes_a_second_locker_wait_until_the_first_commits(
    postgres_engine: Engine,
) -> None:
    seed(SqlUnitOfWork(postgres_engine), a_purchase())
    first_holds_lock = threading.Event()
    events: list[object] = []

    def first() -> None:
        with SqlUnitOfWork(postgres_engine) as uow:
            purchase = uow.purchases.get("pur_1", for_update=True)
            assert purchase is not None
            first_holds_lock.set()
            time.sleep(0.5)
            purchase.failure_message = "first"
            uow.purchases.save(purchase)
            events.append("first commits")
            uow.commit()

    def second() -> None:
        assert first_holds_lock.wait(10)
        with SqlUnitOfWork(postgres_engine) as uow:
            events.append("second asks")
            purchase = uow.purchases.get("pur_1", for_update=True)
            assert purchase is not None
            events.append(("second reads", purchase.version, purchase.failure_message))
            uow.purchases.save(purchase)
            uow.commit()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert events == ["second asks", "first commits", ("second reads", 1, "first")]


def test_in_memory_sqlite_serves_threads_one_transaction_at_a_time() -> None:
    engine = make_engine("sqlite://")
    try:
        upgrade_engine(engine)
        seed(SqlUnitOfWork(engine))
        customers_made: list[str] = []

        def add(n: int) -> None:
            with SqlUnitOfWork(engine) as uow:
                uow.customers.add(a_customer(f"cus_{n}", f"c{n}@example.com"))
                time.sleep(0.01)
                uow.commit()
                customers_made.append(f"cus_{n}")

        workers = [threading.Thread(target=add, args=(n,)) for n in range(8)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        with SqlUnitOfWork(engine) as uow:
            stored = [uow.customers.get(c) for c in sorted(customers_made)]
        assert len(customers_made) == 8 and all(stored)
    finally:
        engine.dispose()


def test_adding_what_exists_is_a_conflict_on_every_backend(uow: UnitOfWork) -> None:
    seed(uow, a_purchase())
    refund = Refund(
        id="rfd_1",
        purchase_id="pur_1",
        customer_id="cus_ana",
        amount=Money("20.00", "EUR"),
        reason=None,
        status=RefundStatus.SUCCEEDED,
        gateway="stripe",
        created_at=T0,
        updated_at=T0,
        gateway_reference="re_1",
    )
    key = ApiKey("key_1", "pk_admi_abc", "a" * 64, Role.ADMIN, None, T0)
    with uow:
        uow.refunds.add(refund)
        uow.api_keys.add(key)
        uow.commit()

    duplicates = [
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
        assert uow.refunds.get("rfd_1") == refund
        assert uow.refunds.get("rfd_2") is None
        assert uow.customers.get("cus_other") is None
        assert uow.api_keys.get_by_hash("b" * 64) is None
