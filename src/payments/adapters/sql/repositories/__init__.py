"""SQL repositories on one Connection, one module per aggregate (SQLAlchemy Core only)."""

from __future__ import annotations

from payments.adapters.sql.repositories.cash_vouchers import SqlCashVoucherRepository
from payments.adapters.sql.repositories.catalog import (
    SqlApiKeyRepository,
    SqlCustomerRepository,
    SqlProductRepository,
)
from payments.adapters.sql.repositories.idempotency import SqlIdempotencyRepository
from payments.adapters.sql.repositories.inbox import SqlInboxRepository
from payments.adapters.sql.repositories.invoices import SqlInvoiceRepository
from payments.adapters.sql.repositories.ledger import SqlLedgerRepository
from payments.adapters.sql.repositories.outbox import SqlOutbox
from payments.adapters.sql.repositories.purchases import SqlPurchaseRepository
from payments.adapters.sql.repositories.refunds import SqlRefundRepository
from payments.adapters.sql.repositories.revenue import SqlRevenueStatistics
from payments.adapters.sql.repositories.subscriptions import (
    SqlSubscriptionRepository,
    SqlUsageRepository,
)
from payments.adapters.sql.repositories.webhooks import (
    SqlWebhookDeliveryRepository,
    SqlWebhookEndpointRepository,
)

__all__ = [
    "SqlApiKeyRepository",
    "SqlCashVoucherRepository",
    "SqlCustomerRepository",
    "SqlIdempotencyRepository",
    "SqlInboxRepository",
    "SqlInvoiceRepository",
    "SqlLedgerRepository",
    "SqlOutbox",
    "SqlProductRepository",
    "SqlPurchaseRepository",
    "SqlRefundRepository",
    "SqlRevenueStatistics",
    "SqlSubscriptionRepository",
    "SqlUsageRepository",
    "SqlWebhookDeliveryRepository",
    "SqlWebhookEndpointRepository",
]
