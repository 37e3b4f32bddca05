"""The SQL unit of work: one connection and one transaction per ``with`` block."""

from __future__ import annotations

from sqlalchemy import Connection, Engine

from payments.adapters.metrics import ServiceMetrics
from payments.adapters.sql import direct
from payments.adapters.sql.engine import rollback
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


class SqlUnitOfWork(UnitOfWork):
    """Every repository on one transaction of ``engine``; leaving the block rolls back anything
    not committed. The object can be used for one block after another, not for nested blocks.

    ``commit()`` first writes to the outbox the new events of every aggregate the block loaded
    or added, in the same transaction. With ``metrics``, the purchase transitions a commit made
    durable are counted. On PostgreSQL some writes are sent with the statement after them or
    with the ``COMMIT`` (``direct.execute_later``); their errors surface there.
    """

    def __init__(self, engine: Engine, metrics: ServiceMetrics | None = None) -> None:
        self._engine = engine
        self._metrics = metrics
        self._connection: Connection | None = None
        self._seen = SeenAggregates()

    def __enter__(self) -> SqlUnitOfWork:
        """Check out a connection, begin a transaction and bind the repositories to it."""
        if self._connection is not None:
            raise RuntimeError("This unit of work is already in a 'with' block.")
        connection = self._engine.connect()
        try:
            connection.begin()
        except BaseException:
            connection.close()
            raise
        self._connection = connection
        self.products = SqlProductRepository(connection)
        self.customers = SqlCustomerRepository(connection)
        self.purchases = self._purchases = SqlPurchaseRepository(connection, self._seen)
        self.refunds = SqlRefundRepository(connection)
        self.ledger = SqlLedgerRepository(connection)
        self.invoices = SqlInvoiceRepository(connection)
        self.revenue = SqlRevenueStatistics(connection)
        self.inbox = SqlInboxRepository(connection)
        self.idempotency = SqlIdempotencyRepository(connection)
        self.api_keys = SqlApiKeyRepository(connection)
        self.outbox = SqlOutbox(connection)
        self.webhook_endpoints = SqlWebhookEndpointRepository(connection)
        self.webhook_deliveries = SqlWebhookDeliveryRepository(connection)
        self.cash_vouchers = SqlCashVoucherRepository(connection)
        self.subscriptions = SqlSubscriptionRepository(connection, self._seen)
        self.usage = SqlUsageRepository(connection)
        return self

    def __exit__(self, *exc_info: object) -> None:
        """Roll back whatever was not committed and return the connection to the pool."""
        connection, self._connection = self._connection, None
        self._seen.forget()
        if connection is None:
            return
        try:
            direct.discard(connection)
            rollback(connection)
        except Exception:
            if all(part is None for part in exc_info):
                raise
            # The block already failed (often with the connection): keep that error, not this.
        finally:
            connection.close()

    def commit(self) -> None:
        """Write the new events of the aggregates seen to the outbox, then make every change of
        this block durable at once; later changes need another commit."""
        if self._connection is None:
            raise RuntimeError("commit() outside a 'with' block.")
        metrics = self._metrics
        moves = metrics.purchase_moves(self._seen.with_new_events()) if metrics else None
        self.outbox.add(self._seen.collect_new_events())
        direct.commit(self._connection)
        self._purchases.release()
        if metrics is not None and moves:
            metrics.purchases_moved(moves)

    def rollback(self) -> None:
        """Forget every uncommitted change, and the aggregates seen; harmless after a commit or
        outside a block."""
        self._seen.forget()
        if self._connection is not None:
            self._purchases.release()
            direct.discard(self._connection)
            rollback(self._connection)
