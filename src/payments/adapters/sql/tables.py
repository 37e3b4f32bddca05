"""The SQL schema (SQLAlchemy Core): one MetaData, column types that keep money and time exact."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.schema import SchemaItem
from sqlalchemy.types import TypeDecorator, TypeEngine, UserDefinedType

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# Numeric(20, 6): 14 integer digits and 6 decimals, enough for any ISO 4217 exponent (at most 4).
AMOUNT_PRECISION = 20
AMOUNT_SCALE = 6
# SQLite keeps a NUMERIC value as a REAL, which holds 15 significant digits exactly and no more.
SQLITE_EXACT_DIGITS = 15
_AMOUNT_LIMIT = Decimal(10) ** (AMOUNT_PRECISION - AMOUNT_SCALE)
_AMOUNT_QUANTUM = Decimal(1).scaleb(-AMOUNT_SCALE)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend; naive datetimes are refused.

    PostgreSQL stores ``timestamptz``; SQLite stores the UTC wall time as text, and the UTC zone
    is put back on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"Refusing to store a naive datetime: {value!r}.")
        moment = value.astimezone(UTC)
        return moment.replace(tzinfo=None) if dialect.name == "sqlite" else moment

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class _SqliteNumeric(UserDefinedType[Any]):
    """NUMERIC(20, 6) on SQLite without SQLAlchemy's float conversions (ExactDecimal does them)."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return f"NUMERIC({AMOUNT_PRECISION}, {AMOUNT_SCALE})"


class ExactDecimal(TypeDecorator[Decimal]):
    """A Decimal stored as NUMERIC(20, 6), never through a Python float.

    A value that the column cannot hold exactly (more than 6 decimals, 14 integer digits, or on
    SQLite more than 15 significant digits) is refused instead of being rounded silently.
    """

    impl = Numeric(AMOUNT_PRECISION, AMOUNT_SCALE, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(_SqliteNumeric())
        return dialect.type_descriptor(Numeric(AMOUNT_PRECISION, AMOUNT_SCALE, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Decimal | str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal) or not value.is_finite():
            raise TypeError(f"An amount is stored from a finite Decimal, not {value!r}.")
        if abs(value) >= _AMOUNT_LIMIT or value != value.quantize(_AMOUNT_QUANTUM):
            raise ValueError(f"{value} does not fit NUMERIC(20, 6) exactly.")
        if dialect.name == "sqlite":
            plain = value.normalize() if value else Decimal(0)
            if len(plain.as_tuple().digits) > SQLITE_EXACT_DIGITS:
                raise ValueError(f"{value} has more digits than SQLite stores exactly.")
            # Text, so that SQLite parses the exact decimal itself (NUMERIC affinity).
            return format(plain, "f")
        return value

    def process_result_value(self, value: object, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, Decimal):
            return value
        if isinstance(value, float):
            # repr() is the shortest text that reads back as this double: the decimal we stored.
            return Decimal(repr(value))
        return Decimal(str(value))


def _id(name: str = "id", *args: Any, **kw: Any) -> Column[str]:
    return Column(name, String(64), *args, **kw)


def _time(name: str, nullable: bool = False) -> Column[datetime]:
    return Column(name, UtcDateTime(), nullable=nullable)


def _amount(name: str = "amount", nullable: bool = False) -> Column[Decimal]:
    return Column(name, ExactDecimal(), nullable=nullable)


def _money(amount: str = "amount") -> tuple[Column[Decimal], Column[str]]:
    """An amount and its ISO 4217 currency code, side by side."""
    return _amount(amount), Column("currency", String(3), nullable=False)


def _at_gateway(*, nullable: bool) -> tuple[Column[str], Column[str]]:
    """The gateway that holds a payment or refund, and its id there (unknown until it answers)."""
    return (
        Column("gateway", String(32), nullable=nullable),
        Column("gateway_reference", String(255), nullable=True),
    )


def _timestamps() -> tuple[Column[datetime], Column[datetime]]:
    """When a row was created and last changed."""
    return _time("created_at"), _time("updated_at")


def _entity(name: str, *items: SchemaItem) -> Table:
    """The table of an entity that our string id (``pur_...``, ``cus_...``) keys."""
    return Table(name, metadata, _id(primary_key=True), *items)


_INVOICE_TEXTS = (("number", 32), ("series", 12), ("country", 2), ("status", 16), ("currency", 3))
"""The text columns of an invoice and their sizes; ``number`` is unique once given."""


def _serial() -> Column[int]:
    # BIGINT identity on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY.
    return Column(
        "id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )


products = _entity(
    "products",
    Column("name", String(200), nullable=False),
    Column("kind", String(16), nullable=False),
    *_money("price"),
    _amount("credits"),
    Column("validity_days", Integer, nullable=True),
    Column("billing_cycle", String(16), nullable=True),
    Column("trial_days", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    _time("created_at"),
    CheckConstraint("price > 0", name="price_positive"),
    CheckConstraint("credits >= 0", name="credits_not_negative"),
)

customers = _entity(
    "customers",
    Column("email", String(254), nullable=True),
    Column("name", String(150), nullable=True),
    _time("created_at"),
    UniqueConstraint("email"),
)

purchases = _entity(
    "purchases",
    Column("reference", String(64), nullable=False),
    _id("customer_id", ForeignKey("customers.id"), nullable=False),
    _id("product_id", ForeignKey("products.id"), nullable=False),
    *_money(),
    _amount("credits"),
    Column("validity_days", Integer, nullable=True),
    Column("country", String(2), nullable=False),
    Column("payment_method", String(32), nullable=True),
    Column("routing_chain", Text, nullable=False),  # JSON list of gateway names
    Column("routing_reason", Text, nullable=False),
    Column("status", String(32), nullable=False),
    *_at_gateway(nullable=True),
    Column("next_action", Text, nullable=True),  # JSON object
    Column("return_url", Text, nullable=True),
    _amount("refunded_amount", nullable=True),
    Column("needs_review", Boolean, nullable=False),
    Column("review_reason", Text, nullable=True),
    Column("failure_code", String(255), nullable=True),
    Column("failure_message", Text, nullable=True),
    *_timestamps(),
    _time("completed_at", nullable=True),
    Column("version", Integer, nullable=False),
    _id("invoice_id", nullable=True),  # the invoice issued when it completed (0007)
    UniqueConstraint("reference"),
    UniqueConstraint("gateway", "gateway_reference"),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint(
        "refunded_amount >= 0 AND refunded_amount <= amount", name="refunded_within_amount"
    ),
    Index(None, "customer_id", "created_at", "id"),
    Index(None, "status", "updated_at"),
    Index(None, "created_at", "id"),
    Index(None, "currency", "completed_at"),  # revenue statistics
)

purchase_audit = Table(
    "purchase_audit",
    metadata,
    _serial(),
    _id("purchase_id", ForeignKey("purchases.id"), nullable=False),
    Column("from_status", String(32), nullable=True),
    Column("to_status", String(32), nullable=False),
    Column("cause", Text, nullable=False),
    Column("actor", String(255), nullable=False),
    Column("event_id", String(255), nullable=True),
    _time("at"),
    Index(None, "purchase_id", "id"),
)

refunds = _entity(
    "refunds",
    _id("purchase_id", ForeignKey("purchases.id"), nullable=False),
    _id("customer_id", ForeignKey("customers.id"), nullable=False),
    *_money(),
    Column("reason", Text, nullable=True),
    Column("status", String(32), nullable=False),
    *_at_gateway(nullable=False),
    Column("failure_message", Text, nullable=True),
    *_timestamps(),
    UniqueConstraint("gateway", "gateway_reference"),
    CheckConstraint("amount > 0", name="amount_positive"),
    Index(None, "purchase_id", "created_at", "id"),
    Index(None, "status", "created_at"),  # the worker's sweep of unanswered refunds
    Index(None, "currency", "created_at"),  # revenue statistics
)

ledger_entries = _entity(
    "ledger_entries",
    _id("customer_id", ForeignKey("customers.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("asset", String(16), nullable=False),  # "credits" or a currency code
    _amount(),
    Column("source", String(255), nullable=False),
    _time("created_at"),
    _id("purchase_id", ForeignKey("purchases.id"), nullable=True),
    _time("expires_at", nullable=True),
    Column("reference", String(255), nullable=True),
    UniqueConstraint("source"),
    Index(None, "customer_id", "created_at", "id"),
    Index(None, "purchase_id", "created_at", "id"),
)

webhook_inbox = _entity(
    "webhook_inbox",
    Column("provider", String(32), nullable=False),
    Column("event_id", String(255), nullable=False),
    Column("event_type", String(255), nullable=False),
    Column("headers", Text, nullable=False),  # JSON object of lower-case names
    Column("body", LargeBinary, nullable=False),
    _time("received_at"),
    Column("status", String(32), nullable=False),
    Column("attempts", Integer, nullable=False),
    _time("next_attempt_at", nullable=True),
    Column("last_error", Text, nullable=True),
    _time("processed_at", nullable=True),
    _id("purchase_id", nullable=True),
    UniqueConstraint("provider", "event_id"),
    Index(None, "status", "next_attempt_at"),
    Index(None, "received_at", "id"),
)

efecty_vouchers = Table(
    "efecty_vouchers",
    metadata,
    _id("purchase_id", ForeignKey("purchases.id"), primary_key=True),  # one voucher a purchase
    Column("code", String(32), nullable=False),
    Column("purchase_reference", String(64), nullable=False),
    Column("barcode", String(64), nullable=False),
    *_money(),
    _time("created_at"),
    _time("expires_at"),
    Column("status", String(16), nullable=False),
    Column("receipt_number", String(64), nullable=True),
    _time("paid_at", nullable=True),
    _time("closed_at", nullable=True),
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
    _time("created_at"),
    _time("expires_at"),
    Column("response_status", Integer, nullable=True),
    Column("response_body", LargeBinary, nullable=True),
    Column("response_headers", Text, nullable=True),  # JSON object
    Column("unknown_outcome", String(80), nullable=True),  # "purchase:<id>" or "refund:<id>"
    Index(None, "expires_at"),
)

api_keys = _entity(
    "api_keys",
    Column("prefix", String(32), nullable=False),
    Column("secret_hash", String(128), nullable=False),
    Column("role", String(16), nullable=False),
    _id("customer_id", ForeignKey("customers.id"), nullable=True),
    _time("created_at"),
    _time("revoked_at", nullable=True),
    UniqueConstraint("secret_hash"),
)

outbox = Table(
    "outbox",
    metadata,
    _serial(),
    Column("name", String(100), nullable=False),
    Column("payload", Text, nullable=False),  # JSON object
    _time("occurred_at"),
    _time("published_at", nullable=True),
    _id("event_id", nullable=True),  # stable: a re-publish carries it (NULL only before 0004)
    _id("aggregate_id", nullable=True),  # its events are published in order
    _time("webhooks_fanned_out_at", nullable=True),  # merchant webhook deliveries made (0008)
    Index(None, "published_at", "id"),
    Index(None, "event_id", unique=True),
    Index(None, "aggregate_id", "id"),
    Index(None, "webhooks_fanned_out_at", "id"),
)

webhook_endpoints = _entity(
    "webhook_endpoints",
    Column("url", String(2000), nullable=False),
    Column("events", Text, nullable=False),  # JSON array of event types, or ["*"]
    Column("sealed_secret", Text, nullable=False),  # the signing secret, encrypted (SecretBox)
    Column("status", String(16), nullable=False),
    _time("created_at"),
    _time("disabled_at", nullable=True),
    Column("disabled_reason", Text, nullable=True),
)

webhook_deliveries = _entity(
    "webhook_deliveries",
    _id("endpoint_id", ForeignKey("webhook_endpoints.id"), nullable=False),
    Column("outbox_id", BigInteger().with_variant(Integer(), "sqlite"), nullable=False),
    _id("event_id", nullable=False),
    Column("event_type", String(100), nullable=False),
    _id("aggregate_id", nullable=False),
    _time("occurred_at"),
    Column("data", Text, nullable=False),  # JSON object: the event's payload
    Column("status", String(16), nullable=False),
    _time("created_at"),
    Column("attempts", Integer, nullable=False),
    _time("next_attempt_at"),
    Column("answer_code", Integer, nullable=True),  # of the last answer; NULL: none came
    _time("last_attempt_at", nullable=True),
    Column("error", Text, nullable=True),
    _time("delivered_at", nullable=True),
    UniqueConstraint("endpoint_id", "event_id"),
    Index(None, "status", "next_attempt_at"),
    Index(None, "endpoint_id", "created_at"),
)

invoices = _entity(
    "invoices",
    _id("purchase_id", ForeignKey("purchases.id"), unique=True, nullable=False),  # one each
    _id("customer_id", ForeignKey("customers.id"), nullable=False),
    # number and sequence: NULL from the issue to the numbering, just after (0009)
    *(Column(n, String(size), nullable=n == "number") for n, size in _INVOICE_TEXTS),
    Column("year", Integer, nullable=False),
    Column("sequence", Integer, nullable=True),
    *(_amount(name) for name in ("subtotal", "tax", "total", "tax_rate")),
    *(_time(name) for name in ("issued_at", "updated_at")),
    UniqueConstraint("number"),
    UniqueConstraint("series", "year", "sequence"),
    CheckConstraint("sequence > 0", name="sequence_positive"),
    Index(None, "customer_id", "issued_at", "id"),
    Index(
        "ix_invoices_unnumbered",
        "issued_at",
        "id",
        postgresql_where=text("number IS NULL"),
        sqlite_where=text("number IS NULL"),
    ),
)

invoice_lines = Table(
    "invoice_lines",
    metadata,
    _id("invoice_id", ForeignKey("invoices.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("description", String(200), nullable=False),
    Column(
        "quantity",
        Integer,
        CheckConstraint("quantity > 0", name="quantity_positive"),
        nullable=False,
    ),
    _amount("unit_price"),
    _amount("total"),
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

subscriptions = _entity(
    "subscriptions",
    Column("status", String(16), nullable=False),
    Column("country", String(2), nullable=False),
    Column("payment_method", String(32), nullable=False),
    _id("customer_id", ForeignKey("customers.id"), nullable=False),
    _id("plan_id", ForeignKey("products.id"), nullable=False),
    Column("gateway", String(32), nullable=False),
    Column("gateway_customer", String(255), nullable=False),
    Column("gateway_method", String(255), nullable=False),
    *_money("price"),
    _amount("credits"),
    Column("billing_cycle", String(16), nullable=False),
    _time("anchor"),
    _time("current_period_start"),
    _time("current_period_end"),
    _time("trial_end", nullable=True),
    Column("charging_period", Integer, nullable=False),
    Column("failed_attempts", Integer, nullable=False),
    _time("first_failure_at", nullable=True),
    _time("next_charge_at", nullable=True),
    _time("claimed_until", nullable=True),  # a worker's lease on a due subscription
    _id("open_charge_purchase_id", nullable=True),
    _id("latest_purchase_id", nullable=True),
    Column("cancel_at_period_end", Boolean, nullable=False),
    _time("cancelled_at", nullable=True),
    _id("scheduled_plan_id", nullable=True),
    *_timestamps(),
    Column("version", Integer, nullable=False),
    CheckConstraint("price > 0", name="price_positive"),
    Index(None, "customer_id", "created_at", "id"),
    Index(None, "next_charge_at"),
    Index(None, "status", "cancelled_at"),
)

subscription_charges = Table(
    "subscription_charges",
    metadata,
    _id("subscription_id", ForeignKey("subscriptions.id"), primary_key=True),
    Column("period", Integer, primary_key=True),
    Column("attempt", Integer, primary_key=True),
    _id("purchase_id", ForeignKey("purchases.id"), nullable=False),
)

usage_records = _entity(
    "usage_records",
    _id("subscription_id", ForeignKey("subscriptions.id"), nullable=False),
    Column("metric", String(64), nullable=False),
    _amount("quantity"),
    Column("reference", String(128), nullable=False),
    _time("period_start"),
    _time("recorded_at"),
    UniqueConstraint("subscription_id", "reference"),
    CheckConstraint("quantity > 0", name="quantity_positive"),
    Index(None, "subscription_id", "period_start", "metric"),
)

sandbox_clock = Table(
    "sandbox_clock",
    metadata,
    Column("id", Integer, primary_key=True),  # one row, id 1
    Column("offset_seconds", BigInteger, nullable=False),
    _time("updated_at"),
)
