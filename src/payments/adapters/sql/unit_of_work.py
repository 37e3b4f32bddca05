"""The SQL unit of work: one connection and one transaction per ``with`` block."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine

from payments.adapters.metrics import ServiceMetrics
from payments.adapters.sql import direct
from payments.adapters.sql.engine import rollback
from payments.adapters.sql.lending import Loan, borrow
from payments.adapters.sql.repositories import (
    SqlApiKeyRepository,
    SqlCashVoucherRepository,
    SqlCustomerRepository,
    SqlIdempotencyRepository,
    SqlInboxRepository,
    SqlInvoiceRepository,
    SqlLedgerRepository,
    SqlOutbox,
    SqlProductRepository,
    SqlPurchaseRepository,
    SqlRefundRepository,
    SqlRevenueStatistics,
    SqlSubscriptionRepository,
    SqlUsageRepository,
    SqlWebhookDeliveryRepository,
    SqlWebhookEndpointRepository,
)
from payments.domain.ports import UnitOfWork
from payments.domain.seen import SeenAggregates

_REPOSITORIES: dict[str, Callable[[Connection, SeenAggregates], object]] = {
    "products": lambda connection, seen: SqlProductRepository(connection),
    "customers": lambda connection, seen: SqlCustomerRepository(connection),
    "purchases": SqlPurchaseRepository,
    "refunds": lambda connection, seen: SqlRefundRepository(connection),
    "ledger": lambda connection, seen: SqlLedgerRepository(connection),
    "invoices": lambda connection, seen: SqlInvoiceRepository(connection),
    "revenue": lambda connection, seen: SqlRevenueStatistics(connection),
    "inbox": lambda connection, seen: SqlInboxRepository(connection),
    "idempotency": lambda connection, seen: SqlIdempotencyRepository(connection),
    "api_keys": lambda connection, seen: SqlApiKeyRepository(connection),
    "outbox": lambda connection, seen: SqlOutbox(connection),
    "webhook_endpoints": lambda connection, seen: SqlWebhookEndpointRepository(connection),
    "webhook_deliveries": lambda connection, seen: SqlWebhookDeliveryRepository(connection),
    "cash_vouchers": lambda connection, seen: SqlCashVoucherRepository(connection),
    "subscriptions": SqlSubscriptionRepository,
    "usage": lambda connection, seen: SqlUsageRepository(connection),
}
"""How each repository of a block is made, on its first use in the block."""


class SqlUnitOfWork(UnitOfWork):
    """Every repository on one transaction of ``engine``; leaving the block rolls back anything
    not committed. The object can be used for one block after another, not for nested blocks.

    ``commit()`` first writes to the outbox the new events of every aggregate the block loaded
    or added, in the same transaction. With ``metrics``, the purchase transitions a commit made
    durable are counted. On PostgreSQL some writes are sent with the statement after them or
    with the ``COMMIT`` (``direct.execute_later``); their errors surface there.

    A repository is made on its first use in a block (most blocks use one or two of them).
    Inside ``lending.lending()`` the block runs on the connection lent to this thread for the
    request, otherwise on one of its own from the pool.
    """

    def __init__(self, engine: Engine, metrics: ServiceMetrics | None = None) -> None:
        self._engine = engine
        self._metrics = metrics
        self._connection: Connection | None = None
        self._loan: Loan | None = None
        self._made: list[str] = []
        self._seen = SeenAggregates()

    def __getattr__(self, name: str) -> Any:
        """A repository on its first use in the block, bound to the block's connection."""
        make = _REPOSITORIES.get(name)
        connection = self.__dict__.get("_connection")
        if make is None or connection is None:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        repository = make(connection, self._seen)
        self.__dict__[name] = repository
        self._made.append(name)
        return repository

    def __enter__(self) -> SqlUnitOfWork:
        """Check out (or borrow) a connection and begin a transaction on it."""
        if self._connection is not None:
            raise RuntimeError("This unit of work is already in a 'with' block.")
        loan = borrow(self._engine)
        if loan is not None:
            connection = loan.connection
            if not loan.autocommit:  # in autocommit SQLAlchemy's transaction would do nothing
                try:
                    connection.begin()
                except BaseException:
                    loan.give_back(healthy=False)
                    raise
        else:
            connection = self._engine.connect()
            try:
                connection.begin()
            except BaseException:
                connection.close()
                raise
        self._connection = connection
        self._loan = loan
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Roll back whatever was not committed and return the connection to the pool (or to
        this thread's loan)."""
        connection, self._connection = self._connection, None
        loan, self._loan = self._loan, None
        self._seen.forget()
        made, self._made = self._made, []
        for name in made:
            self.__dict__.pop(name, None)
        if connection is None:
            return
        healthy = False
        try:
            direct.discard(connection)
            rollback(connection)
            healthy = True
        except Exception:
            if all(part is None for part in exc_info):
                raise
            # The block already failed (often with the connection): keep that error, not this.
        finally:
            if loan is None:
                connection.close()
            else:
                loan.give_back(healthy)

    def _release_purchases(self) -> None:
        purchases = self.__dict__.get("purchases")
        if isinstance(purchases, SqlPurchaseRepository):
            purchases.release()

    def commit(self) -> None:
        """Write the new events of the aggregates seen to the outbox, then make every change of
        this block durable at once; later changes need another commit."""
        if self._connection is None:
            raise RuntimeError("commit() outside a 'with' block.")
        metrics = self._metrics
        moves = metrics.purchase_moves(self._seen.with_new_events()) if metrics else None
        events = self._seen.collect_new_events()
        if events:
            self.outbox.add(events)
        direct.commit(self._connection)
        self._release_purchases()
        if metrics is not None and moves:
            metrics.purchases_moved(moves)

    def rollback(self) -> None:
        """Forget every uncommitted change, and the aggregates seen; harmless after a commit or
        outside a block."""
        self._seen.forget()
        if self._connection is not None:
            self._release_purchases()
            direct.discard(self._connection)
            rollback(self._connection)
