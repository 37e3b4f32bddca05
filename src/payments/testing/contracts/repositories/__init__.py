"""The repository and unit-of-work contract: every store of the domain's aggregates must pass it.

Subclass ``RepositoryContract`` in your tests and provide two fixtures: ``make_uow``, a factory
of units of work on one fresh, empty store (``UnitOfWorkFactory``), and ``committed_events``,
the names of the events committed to that store's outbox (``CommittedEvents``). The builders
of its cases (``builders``: ``a_purchase``, ``seed`` ...) serve your own tests too.
"""

from __future__ import annotations

from payments.testing.contracts.repositories.batches import BatchContract
from payments.testing.contracts.repositories.builders import CommittedEvents, UnitOfWorkFactory
from payments.testing.contracts.repositories.events import EventsContract
from payments.testing.contracts.repositories.invoices import InvoicesContract
from payments.testing.contracts.repositories.records import RoundTripContract
from payments.testing.contracts.repositories.transactions import (
    QueryContract,
    TransactionContract,
)
from payments.testing.contracts.repositories.vouchers import VoucherContract
from payments.testing.contracts.repositories.webhooks import WebhooksContract


class RepositoryContract(
    RoundTripContract,
    TransactionContract,
    QueryContract,
    EventsContract,
    InvoicesContract,
    WebhooksContract,
    VoucherContract,
    BatchContract,
):
    """The whole contract: round trips, transactions, queries, events, invoices and revenue,
    merchant webhooks, cash vouchers and batches."""


__all__ = [
    "BatchContract",
    "CommittedEvents",
    "EventsContract",
    "InvoicesContract",
    "QueryContract",
    "RepositoryContract",
    "RoundTripContract",
    "TransactionContract",
    "UnitOfWorkFactory",
    "VoucherContract",
    "WebhooksContract",
]
