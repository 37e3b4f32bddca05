"""Ports: what the domain needs from the outside world, in domain types only."""

from __future__ import annotations

import abc
import builtins
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import Generic, TypeVar

from payments.domain.access import ApiKey
from payments.domain.catalog import Product
from payments.domain.customer import Customer, found_or_added
from payments.domain.events import DomainEvent, StoredEvent
from payments.domain.gateway_port import PaymentGateway as PaymentGateway  # noqa: PLC0414 - re-export
from payments.domain.idempotency import IdempotencyRecord, UnknownOutcome
from payments.domain.inbox_ports import InboxRepository
from payments.domain.invoice import Invoice, InvoiceStatus
from payments.domain.ledger import LedgerEntry
from payments.domain.purchase import AuditRecord, Purchase, PurchaseStatus
from payments.domain.refund import Refund
from payments.domain.revenue import RevenueQuery, RevenueRow
from payments.domain.subscription_ports import (
    SubscriptionRepository,
    UsageRepository,
)
from payments.domain.voucher_ports import CashVoucherRepository
from payments.domain.webhook_ports import WebhookDeliveryRepository, WebhookEndpointRepository

# -- repositories ----------------------------------------------------------------------------------


class ProductRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, product: Product) -> None:
        """Store a new product; ``ConflictError`` if its id is taken."""

    @abc.abstractmethod
    def get(self, product_id: str) -> Product | None:
        """The product, or None."""

    @abc.abstractmethod
    def list(self, *, active_only: bool = True) -> builtins.list[Product]:
        """Products ordered by creation time."""


class CustomerRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, customer: Customer) -> None:
        """Store a new customer; ``ConflictError`` if its id or e-mail (when set) is taken."""

    @abc.abstractmethod
    def get(self, customer_id: str, *, for_update: bool = False) -> Customer | None:
        """The customer, or None; ``for_update`` locks it (serializing its credit consumption)."""

    @abc.abstractmethod
    def get_by_email(self, email: str) -> Customer | None:
        """The customer with this normalised e-mail, or None."""

    def stored_or_added(self, customer: Customer) -> Customer:
        """The stored customer with ``customer``'s id, else ``customer``, stored now (a race
        with another first purchase gets the winner's); an adapter may do it in one statement."""
        return found_or_added(lambda: self.get(customer.id), lambda: customer, self.add)


@dataclass(frozen=True, slots=True)
class PurchaseQuery:
    """One page of purchases to read, newest first: optionally one customer's, in one status.

    ``cursor`` is the opaque ``next_cursor`` of the previous page."""

    customer_id: str | None = None
    status: PurchaseStatus | None = None
    limit: int = 50
    cursor: str | None = None


T = TypeVar("T")


@dataclass(frozen=True)  # no slots: a subscripted generic call sets __orig_class__ (refused)
class Page(Generic[T]):
    """Records newest first, and the cursor of the next page (None on the last one)."""

    items: list[T]
    next_cursor: str | None


PurchasePage = Page[Purchase]


class PurchaseRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, purchase: Purchase) -> None:
        """Store a new purchase with its pending audit records.

        ``ConflictError`` if its id, reference or (gateway, gateway reference) is taken.
        """

    @abc.abstractmethod
    def get(self, purchase_id: str, *, for_update: bool = False) -> Purchase | None:
        """The purchase; ``for_update`` locks it until the unit of work ends."""

    @abc.abstractmethod
    def get_by_reference(self, reference: str, *, for_update: bool = False) -> Purchase | None:
        """The purchase with our reference."""

    @abc.abstractmethod
    def get_by_gateway_reference(
        self, gateway: str, gateway_reference: str, *, for_update: bool = False
    ) -> Purchase | None:
        """The purchase a provider knows by ``gateway_reference``."""

    def lock_by_gateway_references(  # noqa: B027 - a hint: doing nothing is a valid answer
        self, gateway: str, gateway_references: Sequence[str]
    ) -> None:
        """Lock, all at once, the purchases ``gateway`` knows by these references, so that
        ``get_by_gateway_reference(..., for_update=True)`` then finds them without asking the
        store again: what a batch of notifications does first. Only a way to save round trips
        and to take the locks in one order; a store without either may do nothing."""

    @abc.abstractmethod
    def save(self, purchase: Purchase) -> None:
        """Persist the purchase's changes and append its pending audit records.

        ``purchase.version`` must be the stored version it was read at; the repository bumps both.
        Raises ``ConflictError`` if the stored version moved since it was read (a lost update).
        """

    @abc.abstractmethod
    def page(self, query: PurchaseQuery) -> PurchasePage:
        """The page of purchases ``query`` asks for, newest first by (created_at, id)."""

    @abc.abstractmethod
    def list_open(self, *, updated_before: datetime, limit: int = 100) -> builtins.list[Purchase]:
        """Pending or processing purchases not touched since ``updated_before``, oldest first."""

    @abc.abstractmethod
    def claim_open(
        self, *, updated_before: datetime, now: datetime, limit: int = 100
    ) -> builtins.list[Purchase]:
        """``list_open``, claimed by one reconciliation sweep: no other unit of work takes these
        purchases meanwhile (row locks skipped by the others), and their ``updated_at`` becomes
        ``now``, so that once this unit of work commits no sweep takes them again until they
        are as stale again (two workers never look one purchase up at once)."""

    @abc.abstractmethod
    def audit_trail(self, purchase_id: str) -> builtins.list[AuditRecord]:
        """Every status change of the purchase, oldest first."""


class RefundRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, refund: Refund) -> None:
        """Store a new refund; ``ConflictError`` if its id or gateway reference is taken."""

    @abc.abstractmethod
    def get(self, refund_id: str) -> Refund | None:
        """The refund, or None."""

    @abc.abstractmethod
    def get_by_gateway_reference(self, gateway: str, reference: str) -> Refund | None:
        """The refund a provider knows by ``reference``."""

    @abc.abstractmethod
    def for_purchase(self, purchase_id: str) -> list[Refund]:
        """The purchase's refunds, oldest first."""

    @abc.abstractmethod
    def save(self, refund: Refund) -> None:
        """Persist the refund's changes."""

    @abc.abstractmethod
    def list_unanswered(
        self, *, created_after: datetime, created_before: datetime, limit: int = 100
    ) -> list[Refund]:
        """Pending refunds without the provider's id (its answer never came), created after
        ``created_after`` and before ``created_before``, oldest first, at most ``limit``."""

    @abc.abstractmethod
    def claim_unanswered(
        self, *, created_after: datetime, created_before: datetime, now: datetime, limit: int = 100
    ) -> list[Refund]:
        """``list_unanswered`` less those updated since ``created_before``, claimed by one
        resend sweep as ``PurchaseRepository.claim_open`` claims purchases: their ``updated_at``
        becomes ``now`` (two workers never send one refund again at once)."""


InvoicePage = Page[Invoice]


class InvoiceRepository(abc.ABC):
    @abc.abstractmethod
    def next_sequence(self, series: str, year: int, count: int = 1) -> int:
        """The first of the next ``count`` numbers of ``series`` in ``year``, all reserved in
        this unit of work's transaction.

        The counter stays locked until the transaction ends, so concurrent numberers get
        consecutive numbers, and a transaction that rolls back gives its numbers back: no gap,
        no repeat.
        """

    @abc.abstractmethod
    def unnumbered(self, limit: int) -> builtins.list[Invoice]:
        """At most ``limit`` of the invoices not numbered yet, oldest first by (issued_at, id),
        locked until this transaction ends (a concurrent numberer waits for them, then finds
        them numbered)."""

    @abc.abstractmethod
    def save_numbers(self, numbered: builtins.list[Invoice]) -> None:
        """Record the number and sequence the invoices of ``numbered`` were given."""

    @abc.abstractmethod
    def add(self, invoice: Invoice) -> None:
        """Store a new invoice with its lines; ``ConflictError`` if its id, number or purchase
        already has one. A repository may send the write with its next statement or with the
        commit, and raise there (before anything is committed)."""

    @abc.abstractmethod
    def get(self, invoice_id: str) -> Invoice | None:
        """The invoice, or None."""

    @abc.abstractmethod
    def set_status(self, invoice_id: str, status: InvoiceStatus, at: datetime) -> None:
        """Record the invoice's new status, changed at ``at``."""

    @abc.abstractmethod
    def page(self, customer_id: str, *, limit: int, cursor: str | None) -> InvoicePage:
        """A page of at most ``limit`` of the customer's invoices, newest first by
        (issued_at, id), after ``cursor`` (a previous page's ``next_cursor``)."""


class RevenueStatistics(abc.ABC):
    @abc.abstractmethod
    def revenue_rows(self, query: RevenueQuery) -> builtins.list[RevenueRow]:
        """Sums per (period, gateway) in the query's currency and window: the amounts of paid
        purchases by the time they completed, and of refunds not failed by the time they were
        booked, in minor units. Summed by the store, never row by row in Python."""


class InvoiceDocuments(abc.ABC):
    @abc.abstractmethod
    def pdf(self, invoice: Invoice) -> bytes:
        """The invoice as a PDF document."""


class LedgerRepository(abc.ABC):
    @abc.abstractmethod
    def append(self, entry: LedgerEntry) -> bool:
        """Append an entry; False (and nothing written) when its source is already in the ledger."""

    def append_all(self, entries: Sequence[LedgerEntry]) -> int:
        """Append several entries at once, each as ``append`` would; returns how many were new.

        Repositories that can write them in one statement override this.
        """
        return sum(self.append(entry) for entry in entries)

    def book(self, entries: Sequence[LedgerEntry]) -> None:
        """Append the entries as ``append_all`` does, without waiting to learn how many were
        new: a repository may send the write with its next statement or with the commit, and
        raise its errors there (before anything is committed)."""
        self.append_all(entries)

    @abc.abstractmethod
    def for_customer(self, customer_id: str) -> list[LedgerEntry]:
        """The customer's entries, oldest first."""

    @abc.abstractmethod
    def by_source(self, source: str) -> LedgerEntry | None:
        """The entry with this unique source, or None."""

    @abc.abstractmethod
    def for_purchase(self, purchase_id: str) -> list[LedgerEntry]:
        """Entries about one purchase (its credits, payment and refunds), oldest first."""


class IdempotencyRepository(abc.ABC):
    @abc.abstractmethod
    def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        """Claim ``(scope, key)``: None when claimed now; the existing live record otherwise."""

    @abc.abstractmethod
    def finish(self, record: IdempotencyRecord) -> None:
        """Store the response of a claimed key."""

    @abc.abstractmethod
    def name_outcome(
        self, scope: str, key: str, outcome: UnknownOutcome, held_until: datetime
    ) -> None:
        """Name in an unfinished claim the record its request made, and hold the key until
        ``held_until`` (a finished or missing claim is left alone)."""

    @abc.abstractmethod
    def release(self, scope: str, key: str) -> None:
        """Drop an unfinished claim (the request failed before producing a response)."""

    @abc.abstractmethod
    def purge_expired(self, now: datetime) -> int:
        """Forget keys past their lifetime; returns how many."""


class ApiKeyRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, key: ApiKey) -> None:
        """Store a new key; ``ConflictError`` if its id or hash is taken."""

    @abc.abstractmethod
    def get_by_hash(self, secret_hash: str) -> ApiKey | None:
        """The key whose secret hashes to ``secret_hash``, or None."""

    @abc.abstractmethod
    def get(self, key_id: str) -> ApiKey | None:
        """The key with this id, or None."""

    @abc.abstractmethod
    def list(self) -> builtins.list[ApiKey]:
        """Every key, revoked ones too, oldest first."""

    @abc.abstractmethod
    def revoke(self, key_id: str, at: datetime) -> None:
        """Mark the key revoked at ``at``; one already revoked keeps its first time."""


class Outbox(abc.ABC):
    """The events committed with the changes that caused them, until a relay publishes them."""

    @abc.abstractmethod
    def add(self, events: Sequence[DomainEvent]) -> None:
        """Store events in the same transaction as the change that caused them, each with a new
        stable event id, unpublished."""

    @abc.abstractmethod
    def claim_unpublished(self, limit: int) -> builtins.list[StoredEvent]:
        """Up to ``limit`` unpublished events, locked until this unit of work ends, in outbox
        order. Every event of an aggregate that comes back comes with all the aggregate's
        earlier unpublished ones, and no other unit of work can claim any of that aggregate's
        events until this one ends: two relays never publish one aggregate's events at once,
        nor out of order."""

    @abc.abstractmethod
    def mark_published(self, positions: Sequence[int], at: datetime) -> None:
        """Record that the events at ``positions`` were acknowledged by the broker at ``at``."""

    @abc.abstractmethod
    def unpublished(self, limit: int) -> builtins.list[StoredEvent]:
        """The oldest unpublished events, in outbox order, without claiming them."""

    @abc.abstractmethod
    def count_unpublished(self) -> int:
        """How many events wait to be published (the backlog)."""

    @abc.abstractmethod
    def claim_for_webhooks(self, limit: int) -> builtins.list[StoredEvent]:
        """Up to ``limit`` events not yet fanned out to merchant webhooks, in outbox order,
        locked until this unit of work ends (another unit of work skips them). This progress
        is the webhooks' own: publishing to the broker neither needs nor changes it."""

    @abc.abstractmethod
    def mark_fanned_out(self, positions: Sequence[int], at: datetime) -> None:
        """Record that the events at ``positions`` have their webhook deliveries."""

    @abc.abstractmethod
    def pass_over_for_webhooks(self, limit: int, at: datetime) -> int:
        """Mark up to ``limit`` of the events not yet fanned out, oldest first, as fanned out
        at ``at`` without reading them (another unit of work's claimed ones are skipped):
        what a round does when no endpoint is enabled. Returns how many it marked."""


class UnitOfWork(abc.ABC):
    """One transaction over every repository. Leaving the block without ``commit()`` rolls back."""

    products: ProductRepository
    customers: CustomerRepository
    purchases: PurchaseRepository
    refunds: RefundRepository
    ledger: LedgerRepository
    invoices: InvoiceRepository
    revenue: RevenueStatistics
    inbox: InboxRepository
    idempotency: IdempotencyRepository
    api_keys: ApiKeyRepository
    outbox: Outbox
    webhook_endpoints: WebhookEndpointRepository
    webhook_deliveries: WebhookDeliveryRepository
    cash_vouchers: CashVoucherRepository
    subscriptions: SubscriptionRepository
    usage: UsageRepository

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()

    @abc.abstractmethod
    def commit(self) -> None:
        """Make every change of this unit durable at once."""

    @abc.abstractmethod
    def rollback(self) -> None:
        """Forget every uncommitted change; harmless after a commit."""


# -- small services ----------------------------------------------------------------------------


class Clock(abc.ABC):
    @abc.abstractmethod
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""


class AdjustableClock(Clock):
    """A clock that can be moved forward: the sandbox's test clock, which every process reads."""

    @abc.abstractmethod
    def advance(self, by: timedelta) -> datetime:
        """Move the clock ``by`` forward for every process reading it; returns the new now."""


class IdGenerator(abc.ABC):
    @abc.abstractmethod
    def new(self, prefix: str) -> str:
        """A new unique id such as ``pur_01J...``; ids of one prefix sort by creation time."""

    def many(self, prefix: str, count: int) -> list[str]:
        """``count`` new ids."""
        return [self.new(prefix) for _ in range(count)]


@dataclass(frozen=True, slots=True)
class RateDecision:
    allowed: bool
    retry_after: int = 0


class RateLimiter(abc.ABC):
    @abc.abstractmethod
    def hit(self, key: str, limit: int, window_seconds: int) -> RateDecision:
        """Count one hit on ``key``; refused once ``limit`` hits fall in the window."""


@dataclass(frozen=True, slots=True)
class PublishAck:
    """The broker's acknowledgement of one event: stored at ``sequence``, or recognised as a
    re-publish of an event it already had (``duplicate``: nothing new was stored)."""

    sequence: int
    duplicate: bool = False


class EventPublisher(abc.ABC):
    """Where committed events go (a message broker). Publishing one event twice must be harmless:
    the broker recognises it by its ``event_id``."""

    @abc.abstractmethod
    def publish(self, event: StoredEvent) -> PublishAck:
        """Deliver one event and return once the broker acknowledged storing it.

        Raise ``PublishFailedError`` when the broker cannot be reached or does not acknowledge
        in time: the caller then keeps the event unpublished and sends it again later.
        """

    @abc.abstractmethod
    def close(self) -> None:
        """Let go of the connection (harmless when there is none)."""
