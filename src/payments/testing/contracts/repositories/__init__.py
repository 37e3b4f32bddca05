"""The repository and unit-of-work contract: every store of the domain's aggregates must pass it.

Subclass ``RepositoryContract`` in your tests and provide two fixtures: ``make_uow``, a factory
of units of work on one fresh, empty store (``UnitOfWorkFactory``), and ``committed_events``,
the names of the events committed to that store's outbox (``CommittedEvents``).
"""

from __future__ import annotations

from payments.testing.contracts.repositories.builders import (
    T0,
    CommittedEvents,
    UnitOfWorkFactory,
    a_customer,
    a_message,
    a_product,
    a_purchase,
    as_stored,
    is_utc,
    observation,
    seed,
)
from payments.testing.contracts.repositories.events import EventsContract
from payments.testing.contracts.repositories.queries import QueryContract
from payments.testing.contracts.repositories.records import RoundTripContract
from payments.testing.contracts.repositories.transactions import TransactionContract


class RepositoryContract(RoundTripContract, TransactionContract, QueryContract, EventsContract):
    """The whole contract: round trips, transactions, queries and events."""


__all__ = [
    "T0",
    "CommittedEvents",
    "EventsContract",
    "QueryContract",
    "RepositoryContract",
    "RoundTripContract",
    "TransactionContract",
    "UnitOfWorkFactory",
    "a_customer",
    "a_message",
    "a_product",
    "a_purchase",
    "as_stored",
    "is_utc",
    "observation",
    "seed",
]
