"""The in-memory store's committed tables, and the base of the repositories bound to a unit of
work's working copy of them."""

from __future__ import annotations

import copy
import threading
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, TypeVar

from payments.adapters.memory.subscriptions import BillingTables
from payments.domain.access import ApiKey
from payments.domain.cash_voucher import CashVoucher
from payments.domain.catalog import Product
from payments.domain.customer import Customer
from payments.domain.events import DomainEvent
from payments.domain.idempotency import IdempotencyRecord
from payments.domain.inbox import InboxMessage
from payments.domain.invoice import Invoice
from payments.domain.ledger import LedgerEntry
from payments.domain.purchase import AuditRecord, Purchase
from payments.domain.refund import Refund
from payments.domain.webhooks import WebhookDelivery, WebhookEndpoint

__all__ = ["Bound", "InMemoryStore", "Tables", "deep_copy"]


@dataclass
class Tables:
    products: dict[str, Product] = field(default_factory=dict)
    customers: dict[str, Customer] = field(default_factory=dict)
    purchases: dict[str, Purchase] = field(default_factory=dict)
    audit: list[AuditRecord] = field(default_factory=list)
    refunds: dict[str, Refund] = field(default_factory=dict)
    ledger: dict[str, LedgerEntry] = field(default_factory=dict)
    inbox: dict[str, InboxMessage] = field(default_factory=dict)
    idempotency: dict[tuple[str, str], IdempotencyRecord] = field(default_factory=dict)
    api_keys: dict[str, ApiKey] = field(default_factory=dict)
    outbox: list[DomainEvent] = field(default_factory=list)
    outbox_published: dict[int, datetime] = field(default_factory=dict)
    invoices: dict[str, Invoice] = field(default_factory=dict)
    invoice_counters: dict[tuple[str, int], int] = field(default_factory=dict)
    outbox_fanned_out: dict[int, datetime] = field(default_factory=dict)
    webhook_endpoints: dict[str, WebhookEndpoint] = field(default_factory=dict)
    webhook_deliveries: dict[str, WebhookDelivery] = field(default_factory=dict)
    cash_vouchers: dict[str, CashVoucher] = field(default_factory=dict)
    billing: BillingTables = field(default_factory=BillingTables)

    def copy(self) -> Tables:
        """A copy whose tables can change without changing these (the records are shared)."""
        return Tables(**{f.name: _table_copy(getattr(self, f.name)) for f in fields(self)})


def _table_copy(table: Any) -> Any:
    if isinstance(table, BillingTables):
        return table.copy()
    return type(table)(table)


class InMemoryStore:
    """Committed state shared by every unit of work made on it; ``lock`` serializes them.

    ``fail_next_commit()`` makes the next commit raise, as a database that went away would.
    """

    def __init__(self) -> None:
        self.tables = Tables()
        self.lock = threading.RLock()
        self.commits = 0
        self._commit_faults: list[Exception] = []

    def fail_next_commit(self, error: Exception | None = None) -> None:
        """The next commit on this store raises ``error`` (by default a ``ConnectionError``, a
        dropped database connection) and stores nothing; the one after works again."""
        self._commit_faults.append(error or ConnectionError("the database connection was lost"))

    def take_commit_fault(self) -> Exception | None:
        """The fault the next commit must raise, if one was asked for (used by the unit of work)."""
        with self.lock:
            return self._commit_faults.pop(0) if self._commit_faults else None

    @property
    def outbox(self) -> list[DomainEvent]:
        """Every event committed so far, in order."""
        return list(self.tables.outbox)


T = TypeVar("T")


def deep_copy(value: T) -> T:
    """A copy sharing nothing with ``value``."""
    return copy.deepcopy(value)


class Bound:
    """A repository bound to one unit of work's working tables."""

    def __init__(self, t: Tables) -> None:
        self._t = t
