"""The SQL schema (SQLAlchemy Core): every table, on the one MetaData and the column groups of
``columns.py``."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from payments.adapters.sql.columns import (
    amount_column,
    at_gateway,
    entity,
    id_column,
    metadata,
    money_columns,
    serial,
    time_column,
    timestamps,
)
from payments.domain.inbox import InboxStatus
from payments.domain.purchase import OPEN_STATUSES

__all__ = ["metadata"]  # and every table below

INBOX_RECEIVED = f"status = '{InboxStatus.RECEIVED.value}'"
"""The inbox messages stored to be applied (ingest mode, decision 0042)."""
INBOX_FAILED = f"status = '{InboxStatus.FAILED.value}'"
"""The inbox messages that failed and are retried when due."""
PURCHASE_OPEN = "status IN ({})".format(", ".join(f"'{s.value}'" for s in sorted(OPEN_STATUSES)))
"""The purchases not settled yet, which reconciliation looks up at their provider."""


def _queue_index(name: str, *columns: str, where: str) -> Index:
    """A partial index (PostgreSQL and SQLite alike) of the rows ``where`` holds for: a work
    queue's index stays the size of the queue however large the table grows, and a row that
    leaves the queue is not written to it again (migrations 0009 to 0011)."""
    return Index(name, *columns, postgresql_where=text(where), sqlite_where=text(where))


_INVOICE_TEXTS = (("number", 32), ("series", 12), ("country", 2), ("status", 16), ("currency", 3))
"""The text columns of an invoice and their sizes; ``number`` is unique once given."""


products = entity(
    "products",
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    *money_columns("price"),
    amount_column("credits"),
    Column("validity_days", Integer, nullable=True),
    Column("billing_cycle", String(16), nullable=True),
    Column("trial_days", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    time_column("created_at"),
    CheckConstraint("price > 0", name="price_positive"),
    CheckConstraint("credits >= 0", name="credits_not_negative"),
)

customers = entity(
    "customers",
    Column("email", String(254), nullable=True),
    Column("name", String(150), nullable=True),
    time_column("created_at"),
    UniqueConstraint("email"),
)

purchases = entity(
    "purchases",
    Column("reference", String(64), nullable=False),
    id_column("customer_id", ForeignKey("customers.id"), nullable=False),
    id_column("product_id", ForeignKey("products.id"), nullable=False),
    *money_columns(),
    amount_column("credits"),
    Column("validity_days", Integer, nullable=True),
    Column("country", String(2), nullable=False),
    Column("payment_method", String(32), nullable=True),
    Column("routing_chain", Text, nullable=False),  # JSON list of gateway names
    Column("routing_reason", Text, nullable=False),
    Column("status", String(32), nullable=False),
    *at_gateway(nullable=True),
    Column("next_action", Text, nullable=True),  # JSON object
    Column("return_url", Text, nullable=True),
    amount_column("refunded_amount", nullable=True),
    Column("needs_review", Boolean, nullable=False),
    Column("review_reason", Text, nullable=True),
    Column("failure_code", String(255), nullable=True),
    Column("failure_message", Text, nullable=True),
    *timestamps(),
    time_column("completed_at", nullable=True),
    Column("version", Integer, nullable=False),
    id_column("invoice_id", nullable=True),  # the invoice issued when it completed (0007)
    UniqueConstraint("reference"),
    UniqueConstraint("gateway", "gateway_reference"),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint(
        "refunded_amount >= 0 AND refunded_amount <= amount", name="refunded_within_amount"
    ),
    Index(None, "customer_id", "created_at", "id"),
    _queue_index("ix_purchases_open", "updated_at", "id", where=PURCHASE_OPEN),
    Index(None, "created_at", "id"),
    Index(None, "currency", "completed_at"),  # revenue statistics
)

purchase_audit = Table(
    "purchase_audit",
    metadata,
    serial(),
    id_column("purchase_id", ForeignKey("purchases.id"), nullable=False),
    Column("from_status", String(32), nullable=True),
    Column("to_status", String(32), nullable=False),
    Column("cause", Text, nullable=False),
    Column("actor", String(255), nullable=False),
    Column("event_id", String(255), nullable=True),
    time_column("at"),
    Index(None, "purchase_id", "id"),
)

refunds = entity(
    "refunds",
    id_column("purchase_id", ForeignKey("purchases.id"), nullable=False),
    id_column("customer_id", ForeignKey("customers.id"), nullable=False),
    *money_columns(),
    Column("reason", Text, nullable=True),
    Column("status", String(32), nullable=False),
    *at_gateway(nullable=False),
    Column("failure_message", Text, nullable=True),
    *timestamps(),
    UniqueConstraint("gateway", "gateway_reference"),
    CheckConstraint("amount > 0", name="amount_positive"),
    Index(None, "purchase_id", "created_at", "id"),
    Index(None, "status", "created_at"),  # the worker's sweep of unanswered refunds
    Index(None, "currency", "created_at"),  # revenue statistics
)

ledger_entries = entity(
    "ledger_entries",
    id_column("customer_id", ForeignKey("customers.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("asset", String(16), nullable=False),  # "credits" or a currency code
    amount_column(),
    Column("source", String(255), nullable=False),
    time_column("created_at"),
    id_column("purchase_id", ForeignKey("purchases.id"), nullable=True),
    time_column("expires_at", nullable=True),
    Column("reference", String(255), nullable=True),
    UniqueConstraint("source"),
    Index(None, "customer_id", "created_at", "id"),
    Index(None, "purchase_id", "created_at", "id"),
)

webhook_inbox = entity(
    "webhook_inbox",
    Column("provider", String(32), nullable=False),
    Column("event_id", String(255), nullable=False),
    Column("event_type", String(255), nullable=False),
    Column("headers", Text, nullable=False),  # JSON object of lower-case names
    Column("body", LargeBinary, nullable=False),
    time_column("received_at"),
    Column("status", String(32), nullable=False),
    Column("attempts", Integer, nullable=False),
    time_column("next_attempt_at", nullable=True),
    Column("last_error", Text, nullable=True),
    time_column("processed_at", nullable=True),
    id_column("purchase_id", nullable=True),
    UniqueConstraint("provider", "event_id"),
    Index(None, "received_at", "id"),
    # what the worker applies next, oldest first (decision 0042), and retries when due
    _queue_index("ix_webhook_inbox_received", "received_at", "id", where=INBOX_RECEIVED),
    _queue_index("ix_webhook_inbox_failed", "next_attempt_at", "id", where=INBOX_FAILED),
)

efecty_vouchers = Table(
    "efecty_vouchers",
    metadata,
    # one voucher a purchase
    id_column("purchase_id", ForeignKey("purchases.id"), primary_key=True),
    Column("code", String(32), nullable=False),
    Column("purchase_reference", String(64), nullable=False),
    Column("barcode", String(64), nullable=False),
    *money_columns(),
    time_column("created_at"),
    time_column("expires_at"),
    Column("status", String(16), nullable=False),
    Column("receipt_number", String(64), nullable=True),
    time_column("paid_at", nullable=True),
    time_column("closed_at", nullable=True),
    CheckConstraint("amount > 0", name="amount_positive"),
    Index(None, "code", unique=True),  # codes are unique: a collision is drawn again
    Index(None, "purchase_reference"),
    Index(None, "status", "expires_at"),  # the expiry job's sweep
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("scope", String(255), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("fingerprint", String(255), nullable=False),
    time_column("created_at"),
    time_column("expires_at"),
    Column("response_status", Integer, nullable=True),
    Column("response_body", LargeBinary, nullable=True),
    Column("response_headers", Text, nullable=True),  # JSON object
    Column("unknown_outcome", String(80), nullable=True),  # "purchase:<id>" or "refund:<id>"
    Index(None, "expires_at"),
)

api_keys = entity(
    "api_keys",
    Column("role", String(16), nullable=False),
    id_column("customer_id", ForeignKey("customers.id"), nullable=True),
    Column("prefix", String(32), nullable=False),
    Column("secret_hash", String(128), nullable=False),
    time_column("created_at"),
    time_column("revoked_at", nullable=True),
    UniqueConstraint("secret_hash"),
)

outbox = Table(
    "outbox",
    metadata,
    serial(),
    Column("name", String(100), nullable=False),
    Column("payload", Text, nullable=False),  # JSON object
    time_column("occurred_at"),
    time_column("published_at", nullable=True),
    id_column("event_id", nullable=True),  # stable: a re-publish carries it (NULL only before 0004)
    id_column("aggregate_id", nullable=True),  # its events are published in order
    time_column("webhooks_fanned_out_at", nullable=True),  # merchant webhook deliveries made (0008)
    Index(None, "event_id", unique=True),
    Index(None, "aggregate_id", "id"),
    # what the broker relay and the merchant webhooks take next
    _queue_index("ix_outbox_unpublished", "id", where="published_at IS NULL"),
    _queue_index("ix_outbox_not_fanned_out", "id", where="webhooks_fanned_out_at IS NULL"),
)

webhook_endpoints = entity(
    "webhook_endpoints",
    Column("url", String(2000), nullable=False),
    Column("events", Text, nullable=False),  # JSON array of event types, or ["*"]
    Column("sealed_secret", Text, nullable=False),  # the signing secret, encrypted (SecretBox)
    Column("status", String(16), nullable=False),
    time_column("created_at"),
    time_column("disabled_at", nullable=True),
    Column("disabled_reason", Text, nullable=True),
)

webhook_deliveries = entity(
    "webhook_deliveries",
    id_column("endpoint_id", ForeignKey("webhook_endpoints.id"), nullable=False),
    Column("outbox_id", BigInteger().with_variant(Integer(), "sqlite"), nullable=False),
    id_column("event_id", nullable=False),
    Column("event_type", String(100), nullable=False),
    id_column("aggregate_id", nullable=False),
    time_column("occurred_at"),
    Column("data", Text, nullable=False),  # JSON object: the event's payload
    Column("status", String(16), nullable=False),
    time_column("created_at"),
    Column("attempts", Integer, nullable=False),
    time_column("next_attempt_at"),
    Column("answer_code", Integer, nullable=True),  # of the last answer; NULL: none came
    time_column("last_attempt_at", nullable=True),
    Column("error", Text, nullable=True),
    time_column("delivered_at", nullable=True),
    UniqueConstraint("endpoint_id", "event_id"),
    Index(None, "status", "next_attempt_at"),
    Index(None, "endpoint_id", "created_at"),
)

invoices = entity(
    "invoices",
    id_column("purchase_id", ForeignKey("purchases.id"), unique=True, nullable=False),  # one each
    id_column("customer_id", ForeignKey("customers.id"), nullable=False),
    # number and sequence: NULL from the issue to the numbering, just after (0009)
    *(Column(n, String(size), nullable=n == "number") for n, size in _INVOICE_TEXTS),
    Column("year", Integer, nullable=False),
    Column("sequence", Integer, nullable=True),
    *(amount_column(name) for name in ("subtotal", "tax", "total", "tax_rate")),
    *(time_column(name) for name in ("issued_at", "updated_at")),
    UniqueConstraint("number"),
    UniqueConstraint("series", "year", "sequence"),
    CheckConstraint("sequence > 0", name="sequence_positive"),
    Index(None, "customer_id", "issued_at", "id"),
    _queue_index("ix_invoices_unnumbered", "issued_at", "id", where="number IS NULL"),
)

invoice_lines = Table(
    "invoice_lines",
    metadata,
    id_column("invoice_id", ForeignKey("invoices.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("description", String(200), nullable=False),
    Column(
        "quantity",
        Integer,
        CheckConstraint("quantity > 0", name="quantity_positive"),
        nullable=False,
    ),
    amount_column("unit_price"),
    amount_column("total"),
)

# The last number given in each series and year: the row the issuing transaction locks.
invoice_counters = Table(
    "invoice_counters",
    metadata,
    Column("series", String(12), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column(
        "last_number",
        Integer,
        CheckConstraint("last_number >= 0", name="last_number_not_negative"),
        nullable=False,
    ),
)

subscriptions = entity(
    "subscriptions",
    Column("status", String(16), nullable=False),
    Column("country", String(2), nullable=False),
    Column("payment_method", String(32), nullable=False),
    id_column("customer_id", ForeignKey("customers.id"), nullable=False),
    id_column("plan_id", ForeignKey("products.id"), nullable=False),
    Column("gateway", String(32), nullable=False),
    Column("gateway_customer", String(255), nullable=False),
    Column("gateway_method", String(255), nullable=False),
    *money_columns("price"),
    amount_column("credits"),
    Column("billing_cycle", String(16), nullable=False),
    time_column("anchor"),
    time_column("current_period_start"),
    time_column("current_period_end"),
    time_column("trial_end", nullable=True),
    Column("charging_period", Integer, nullable=False),
    Column("failed_attempts", Integer, nullable=False),
    time_column("first_failure_at", nullable=True),
    time_column("next_charge_at", nullable=True),
    time_column("claimed_until", nullable=True),  # a worker's lease on a due subscription
    id_column("open_charge_purchase_id", nullable=True),
    id_column("latest_purchase_id", nullable=True),
    Column("cancel_at_period_end", Boolean, nullable=False),
    time_column("cancelled_at", nullable=True),
    id_column("scheduled_plan_id", nullable=True),
    *timestamps(),
    Column("version", Integer, nullable=False),
    CheckConstraint("price > 0", name="price_positive"),
    Index(None, "customer_id", "created_at", "id"),
    Index(None, "next_charge_at"),
    Index(None, "status", "cancelled_at"),
)

subscription_charges = Table(
    "subscription_charges",
    metadata,
    id_column("subscription_id", ForeignKey("subscriptions.id"), primary_key=True),
    Column("period", Integer, primary_key=True),
    Column("attempt", Integer, primary_key=True),
    id_column("purchase_id", ForeignKey("purchases.id"), nullable=False),
)

usage_records = entity(
    "usage_records",
    id_column("subscription_id", ForeignKey("subscriptions.id"), nullable=False),
    Column("metric", String(64), nullable=False),
    amount_column("quantity"),
    Column("reference", String(128), nullable=False),
    time_column("period_start"),
    time_column("recorded_at"),
    UniqueConstraint("subscription_id", "reference"),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    Index(None, "subscription_id", "period_start", "metric"),
)

sandbox_clock = Table(
    "sandbox_clock",
    metadata,
    Column("id", Integer, primary_key=True),  # one row, id 1
    Column("offset_seconds", BigInteger, nullable=False),
    time_column("updated_at"),
)
