"""An in-memory store and unit of work: serializable (one writer at a time), truly rolled back."""

from __future__ import annotations

import builtins
from dataclasses import replace
from datetime import datetime

from payments.adapters.cursors import decode_cursor, encode_cursor
from payments.adapters.memory.cash_vouchers import InMemoryCashVouchers
from payments.adapters.memory.invoices import InMemoryInvoices, InMemoryRevenue
from payments.adapters.memory.outbox import InMemoryOutbox
from payments.adapters.memory.store import Bound, InMemoryStore, Tables, deep_copy
from payments.adapters.memory.subscriptions import (
    InMemorySubscriptions,
    InMemoryUsage,
)
from payments.adapters.memory.webhooks import InMemoryWebhookDeliveries, InMemoryWebhookEndpoints
from payments.domain.access import ApiKey
from payments.domain.catalog import Product
from payments.domain.customer import Customer
from payments.domain.errors import ConflictError
from payments.domain.idempotency import IdempotencyRecord, UnknownOutcome
from payments.domain.inbox import CLAIM_LEASE, InboxMessage, InboxStatus
from payments.domain.inbox_ports import InboxRepository
from payments.domain.ledger import LedgerEntry
from payments.domain.ports import (
    ApiKeyRepository,
    CustomerRepository,
    IdempotencyRepository,
    LedgerRepository,
    ProductRepository,
    PurchasePage,
    PurchaseQuery,
    PurchaseRepository,
    RefundRepository,
    UnitOfWork,
)
from payments.domain.purchase import OPEN_STATUSES, AuditRecord, Purchase
from payments.domain.refund import Refund
from payments.domain.seen import SeenAggregates

_Rebindable = (
    Bound
    | InMemoryOutbox
    | InMemoryInvoices
    | InMemoryRevenue
    | InMemoryWebhookEndpoints
    | InMemoryWebhookDeliveries
    | InMemoryCashVouchers
    | InMemorySubscriptions
    | InMemoryUsage
)


class _Products(Bound, ProductRepository):
    def add(self, product: Product) -> None:
        if product.id in self._t.products:
            raise ConflictError(f"Product {product.id!r} already exists.")
        self._t.products[product.id] = product

    def get(self, product_id: str) -> Product | None:
        return self._t.products.get(product_id)

    def list(self, *, active_only: bool = True) -> builtins.list[Product]:
        items = sorted(self._t.products.values(), key=lambda p: (p.created_at, p.id))
        return [p for p in items if p.active or not active_only]


class _Customers(Bound, CustomerRepository):
    def add(self, customer: Customer) -> None:
        if customer.id in self._t.customers or (
            customer.email is not None and self.get_by_email(customer.email) is not None
        ):
            raise ConflictError(f"Customer {customer.id!r} or its e-mail already exists.")
        self._t.customers[customer.id] = customer

    def get(self, customer_id: str, *, for_update: bool = False) -> Customer | None:
        return self._t.customers.get(customer_id)

    def get_by_email(self, email: str) -> Customer | None:
        return next((c for c in self._t.customers.values() if c.email == email), None)


class _Purchases(Bound, PurchaseRepository):
    """Purchases; every one handed out or given is ``seen``, for the unit of work to collect
    its events on commit."""

    def __init__(self, t: Tables, seen: SeenAggregates) -> None:
        super().__init__(t)
        self._seen = seen

    def _out(self, found: Purchase | None) -> Purchase | None:
        """A private copy of a stored purchase, seen by the unit of work."""
        return self._seen.seen(deep_copy(found)) if found is not None else None

    def add(self, purchase: Purchase) -> None:
        if purchase.id in self._t.purchases:
            raise ConflictError(f"Purchase {purchase.id!r} already exists.")
        for other in self._t.purchases.values():
            if other.reference == purchase.reference:
                raise ConflictError(f"Reference {purchase.reference!r} already exists.")
        self._store(purchase)

    def _store(self, purchase: Purchase) -> None:
        if purchase.gateway_reference is not None:
            for other in self._t.purchases.values():
                if (
                    other.id != purchase.id
                    and other.gateway == purchase.gateway
                    and other.gateway_reference == purchase.gateway_reference
                ):
                    raise ConflictError("That gateway reference belongs to another purchase.")
        self._t.audit.extend(purchase.pending_audit)
        purchase.pending_audit.clear()
        self._t.purchases[purchase.id] = deep_copy(replace(purchase, events=[]))
        self._seen.seen(purchase)

    def get(self, purchase_id: str, *, for_update: bool = False) -> Purchase | None:
        return self._out(self._t.purchases.get(purchase_id))

    def get_by_reference(self, reference: str, *, for_update: bool = False) -> Purchase | None:
        return self._out(
            next((p for p in self._t.purchases.values() if p.reference == reference), None)
        )

    def get_by_gateway_reference(
        self, gateway: str, gateway_reference: str, *, for_update: bool = False
    ) -> Purchase | None:
        return self._out(
            next(
                (
                    p
                    for p in self._t.purchases.values()
                    if p.gateway == gateway and p.gateway_reference == gateway_reference
                ),
                None,
            )
        )

    def save(self, purchase: Purchase) -> None:
        stored = self._t.purchases.get(purchase.id)
        if stored is None:
            raise ConflictError(f"Purchase {purchase.id!r} was never added.")
        if stored.version != purchase.version:
            raise ConflictError(f"Purchase {purchase.id!r} changed since it was read.")
        purchase.version += 1
        self._store(purchase)

    def page(self, query: PurchaseQuery) -> PurchasePage:
        customer_id, status, limit = query.customer_id, query.status, query.limit
        items = sorted(
            (
                p
                for p in self._t.purchases.values()
                if (customer_id is None or p.customer_id == customer_id)
                and (status is None or p.status is status)
            ),
            key=lambda p: (p.created_at, p.id),
            reverse=True,
        )
        if query.cursor:
            after = decode_cursor(query.cursor)
            items = [p for p in items if (p.created_at, p.id) < after]
        page = items[:limit]
        more = len(items) > limit
        next_cursor = encode_cursor(page[-1].created_at, page[-1].id) if more and page else None
        return PurchasePage([self._seen.seen(deep_copy(p)) for p in page], next_cursor)

    def list_open(self, *, updated_before: datetime, limit: int = 100) -> builtins.list[Purchase]:
        items = sorted(
            (
                p
                for p in self._t.purchases.values()
                if p.status in OPEN_STATUSES and p.updated_at < updated_before
            ),
            key=lambda p: (p.updated_at, p.id),
        )
        return [self._seen.seen(deep_copy(p)) for p in items[:limit]]

    def claim_open(
        self, *, updated_before: datetime, now: datetime, limit: int = 100
    ) -> builtins.list[Purchase]:
        claimed = self.list_open(updated_before=updated_before, limit=limit)
        for purchase in claimed:
            purchase.updated_at = now
            self._t.purchases[purchase.id].updated_at = now
        return claimed

    def audit_trail(self, purchase_id: str) -> builtins.list[AuditRecord]:
        return [a for a in self._t.audit if a.purchase_id == purchase_id]


class _Refunds(Bound, RefundRepository):
    def add(self, refund: Refund) -> None:
        if refund.id in self._t.refunds:
            raise ConflictError(f"Refund {refund.id!r} already exists.")
        self.save(refund)

    def get(self, refund_id: str) -> Refund | None:
        found = self._t.refunds.get(refund_id)
        return deep_copy(found) if found is not None else None

    def get_by_gateway_reference(self, gateway: str, reference: str) -> Refund | None:
        found = next(
            (
                r
                for r in self._t.refunds.values()
                if r.gateway == gateway and r.gateway_reference == reference
            ),
            None,
        )
        return deep_copy(found) if found is not None else None

    def for_purchase(self, purchase_id: str) -> list[Refund]:
        items = [r for r in self._t.refunds.values() if r.purchase_id == purchase_id]
        return [deep_copy(r) for r in sorted(items, key=lambda r: (r.created_at, r.id))]

    def save(self, refund: Refund) -> None:
        if refund.gateway_reference is not None and any(
            other.id != refund.id
            and other.gateway == refund.gateway
            and other.gateway_reference == refund.gateway_reference
            for other in self._t.refunds.values()
        ):
            raise ConflictError(f"Refund reference {refund.gateway_reference!r} is taken.")
        self._t.refunds[refund.id] = deep_copy(refund)

    def list_unanswered(
        self, *, created_after: datetime, created_before: datetime, limit: int = 100
    ) -> list[Refund]:
        items = sorted(
            (
                r
                for r in self._t.refunds.values()
                if r.awaiting_answer and created_after < r.created_at < created_before
            ),
            key=lambda r: (r.created_at, r.id),
        )
        return [deep_copy(r) for r in items[:limit]]

    def claim_unanswered(
        self, *, created_after: datetime, created_before: datetime, now: datetime, limit: int = 100
    ) -> list[Refund]:
        listed = self.list_unanswered(
            created_after=created_after, created_before=created_before, limit=len(self._t.refunds)
        )
        claimed = [r for r in listed if r.updated_at < created_before][:limit]
        for refund in claimed:
            refund.updated_at = now
            self._t.refunds[refund.id].updated_at = now
        return claimed


class _Ledger(Bound, LedgerRepository):
    def append(self, entry: LedgerEntry) -> bool:
        if entry.source in self._t.ledger:
            return False
        self._t.ledger[entry.source] = entry
        return True

    def for_customer(self, customer_id: str) -> list[LedgerEntry]:
        items = [e for e in self._t.ledger.values() if e.customer_id == customer_id]
        return sorted(items, key=lambda e: (e.created_at, e.id))

    def by_source(self, source: str) -> LedgerEntry | None:
        return self._t.ledger.get(source)

    def for_purchase(self, purchase_id: str) -> list[LedgerEntry]:
        items = [e for e in self._t.ledger.values() if e.purchase_id == purchase_id]
        return sorted(items, key=lambda e: (e.created_at, e.id))


class _Inbox(Bound, InboxRepository):
    def add(self, message: InboxMessage) -> bool:
        for other in self._t.inbox.values():
            if other.provider == message.provider and other.event_id == message.event_id:
                return False
        self._t.inbox[message.id] = deep_copy(message)
        return True

    def get(self, message_id: str) -> InboxMessage | None:
        found = self._t.inbox.get(message_id)
        return deep_copy(found) if found is not None else None

    def save(self, message: InboxMessage) -> None:
        self._t.inbox[message.id] = deep_copy(message)

    def claim_due(self, now: datetime, limit: int) -> builtins.list[InboxMessage]:
        due = sorted(
            (
                m
                for m in self._t.inbox.values()
                if m.status is InboxStatus.FAILED
                and m.next_attempt_at is not None
                and m.next_attempt_at <= now
            ),
            key=lambda m: (m.next_attempt_at or now, m.id),
        )[:limit]
        claimed = []
        for message in due:
            leased = replace(message, next_attempt_at=now + CLAIM_LEASE)
            self._t.inbox[message.id] = leased
            claimed.append(deep_copy(leased))
        return claimed

    def claim_received(self, limit: int) -> builtins.list[InboxMessage]:
        received = (m for m in self._t.inbox.values() if m.status is InboxStatus.RECEIVED)
        oldest = sorted(received, key=lambda m: (m.received_at, m.id))[:limit]
        return [deep_copy(message) for message in oldest]

    def list(self, *, status: str | None = None, limit: int = 50) -> builtins.list[InboxMessage]:
        items = sorted(self._t.inbox.values(), key=lambda m: (m.received_at, m.id), reverse=True)
        return [deep_copy(m) for m in items if status is None or m.status.value == status][:limit]

    def for_purchase(self, purchase_id: str) -> builtins.list[InboxMessage]:
        items = [m for m in self._t.inbox.values() if m.purchase_id == purchase_id]
        return [deep_copy(m) for m in sorted(items, key=lambda m: (m.received_at, m.id))]

    def count_by_status(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for message in self._t.inbox.values():
            counts[message.status.value] = counts.get(message.status.value, 0) + 1
        return counts


class _Idempotency(Bound, IdempotencyRepository):
    def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        existing = self._t.idempotency.get((record.scope, record.key))
        if existing is not None and existing.expires_at > record.created_at:
            return deep_copy(existing)
        self._t.idempotency[(record.scope, record.key)] = deep_copy(record)
        return None

    def finish(self, record: IdempotencyRecord) -> None:
        self._t.idempotency[(record.scope, record.key)] = deep_copy(record)

    def name_outcome(
        self, scope: str, key: str, outcome: UnknownOutcome, held_until: datetime
    ) -> None:
        existing = self._t.idempotency.get((scope, key))
        if existing is not None and not existing.finished:
            named = replace(existing, unknown_outcome=outcome, expires_at=held_until)
            self._t.idempotency[(scope, key)] = named

    def release(self, scope: str, key: str) -> None:
        existing = self._t.idempotency.get((scope, key))
        if existing is not None and not existing.finished:
            del self._t.idempotency[(scope, key)]

    def purge_expired(self, now: datetime) -> int:
        expired = [k for k, r in self._t.idempotency.items() if r.expires_at <= now]
        for k in expired:
            del self._t.idempotency[k]
        return len(expired)


class _ApiKeys(Bound, ApiKeyRepository):
    def add(self, key: ApiKey) -> None:
        if key.secret_hash in self._t.api_keys or any(
            k.id == key.id for k in self._t.api_keys.values()
        ):
            raise ConflictError(f"API key {key.id!r} already exists.")
        self._t.api_keys[key.secret_hash] = key

    def get_by_hash(self, secret_hash: str) -> ApiKey | None:
        return self._t.api_keys.get(secret_hash)

    def get(self, key_id: str) -> ApiKey | None:
        return next((k for k in self._t.api_keys.values() if k.id == key_id), None)

    def list(self) -> builtins.list[ApiKey]:
        return sorted(self._t.api_keys.values(), key=lambda k: (k.created_at, k.id))

    def revoke(self, key_id: str, at: datetime) -> None:
        key = self.get(key_id)
        if key is not None and key.revoked_at is None:
            self._t.api_keys[key.secret_hash] = replace(key, revoked_at=at)


class InMemoryUnitOfWork(UnitOfWork):
    """A unit of work on an ``InMemoryStore`` (a new one when not given).

    Each ``with`` block holds the store's lock, works on a copy, and publishes the copy on
    ``commit()``: uncommitted changes vanish, exactly like a database transaction.
    """

    def __init__(self, store: InMemoryStore | None = None) -> None:
        self.store = store or InMemoryStore()
        self._work: Tables | None = None
        self._seen = SeenAggregates()

    def __enter__(self) -> InMemoryUnitOfWork:
        self.store.lock.acquire()
        self._work = self.store.tables.copy()
        work = self._work
        self.products = products = _Products(work)
        self.customers = customers = _Customers(work)
        self.purchases = purchases = _Purchases(work, self._seen)
        self.refunds = refunds = _Refunds(work)
        self.ledger = ledger = _Ledger(work)
        self.inbox = inbox = _Inbox(work)
        self.idempotency = idempotency = _Idempotency(work)
        self.api_keys = api_keys = _ApiKeys(work)
        self.outbox = outbox = InMemoryOutbox(work)
        self.invoices = invoices = InMemoryInvoices(work)
        self.revenue = revenue = InMemoryRevenue(work)
        self.webhook_endpoints = endpoints = InMemoryWebhookEndpoints(work)
        self.webhook_deliveries = deliveries = InMemoryWebhookDeliveries(work)
        self.cash_vouchers = cash_vouchers = InMemoryCashVouchers(work)
        self.subscriptions = subscriptions = InMemorySubscriptions(work, self._seen)
        self.usage = usage = InMemoryUsage(work)
        self._bound: list[_Rebindable] = [
            endpoints,
            deliveries,
            products,
            customers,
            purchases,
            refunds,
            ledger,
            inbox,
            idempotency,
            api_keys,
            outbox,
            invoices,
            revenue,
            cash_vouchers,
            subscriptions,
            usage,
        ]
        return self

    def __exit__(self, *exc: object) -> None:
        self._work = None
        self._seen.forget()
        self.store.lock.release()

    def commit(self) -> None:
        """Write the new events of the purchases seen to the outbox, then publish the work."""
        if self._work is None:
            raise RuntimeError("commit() outside a 'with' block")
        self.outbox.add(self._seen.collect_new_events())
        fault = self.store.take_commit_fault()
        if fault is not None:
            raise fault
        self.store.tables = self._work
        self._work = self._work.copy()
        self._rebind(self._work)
        self.store.commits += 1

    def rollback(self) -> None:
        self._seen.forget()
        if self._work is not None:
            self._work = self.store.tables.copy()
            self._rebind(self._work)

    def _rebind(self, work: Tables) -> None:
        for repo in self._bound:
            repo._t = work
