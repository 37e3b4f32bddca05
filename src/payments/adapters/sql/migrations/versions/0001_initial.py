"""Initial schema: catalog, customers, purchases and audit, refunds, ledger, inbox, keys, outbox.

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from payments.adapters.sql.migrations._helpers import foreign_key

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written by hand to match payments.adapters.sql.tables; test_migrations checks they agree.


def _id(name: str = "id", *, nullable: bool) -> sa.Column[str]:
    return sa.Column(name, sa.String(64), nullable=nullable)


def _time(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _amount(name: str = "amount", nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.Numeric(20, 6), nullable=nullable)


def _money(amount: str = "amount") -> tuple[sa.Column[object], sa.Column[str]]:
    return _amount(amount), sa.Column("currency", sa.String(3), nullable=False)


def _at_gateway(*, nullable: bool) -> tuple[sa.Column[str], sa.Column[str]]:
    return (
        sa.Column("gateway", sa.String(32), nullable=nullable),
        sa.Column("gateway_reference", sa.String(255), nullable=True),
    )


def _timestamps() -> tuple[sa.Column[object], sa.Column[object]]:
    return _time("created_at"), _time("updated_at")


def _create_entity(name: str, *items: sa.schema.SchemaItem) -> None:
    """The table of an entity that our string id keys (``tables._entity``)."""
    op.create_table(
        name, _id(nullable=False), *items, sa.PrimaryKeyConstraint("id", name=f"pk_{name}")
    )


def _serial() -> sa.Column[int]:
    return sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    )


def upgrade() -> None:
    _create_entity(
        "products",
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        *_money("price"),
        _amount("credits"),
        sa.Column("validity_days", sa.Integer(), nullable=True),
        sa.Column("billing_cycle", sa.String(16), nullable=True),
        sa.Column("trial_days", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        _time("created_at"),
        sa.CheckConstraint("price > 0", name=op.f("ck_products_price_positive")),
        sa.CheckConstraint("credits >= 0", name=op.f("ck_products_credits_not_negative")),
    )
    _create_entity(
        "customers",
        sa.Column("email", sa.String(254), nullable=True),
        sa.Column("name", sa.String(150), nullable=True),
        _time("created_at"),
        sa.UniqueConstraint("email", name="uq_customers_email"),
    )
    _create_entity(
        "purchases",
        sa.Column("reference", sa.String(64), nullable=False),
        _id("customer_id", nullable=False),
        _id("product_id", nullable=False),
        *_money(),
        _amount("credits"),
        sa.Column("validity_days", sa.Integer(), nullable=True),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("payment_method", sa.String(32), nullable=True),
        sa.Column("routing_chain", sa.Text(), nullable=False),
        sa.Column("routing_reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        *_at_gateway(nullable=True),
        sa.Column("next_action", sa.Text(), nullable=True),
        sa.Column("return_url", sa.Text(), nullable=True),
        _amount("refunded_amount", nullable=True),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.Column("review_reason", sa.Text(), nullable=True),
        sa.Column("failure_code", sa.String(255), nullable=True),
        sa.Column("failure_message", sa.Text(), nullable=True),
        *_timestamps(),
        _time("completed_at", nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        foreign_key("purchases", "customer_id", "customers"),
        foreign_key("purchases", "product_id", "products"),
        sa.UniqueConstraint("reference", name="uq_purchases_reference"),
        sa.UniqueConstraint(
            "gateway", "gateway_reference", name="uq_purchases_gateway_gateway_reference"
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_purchases_amount_positive")),
        sa.CheckConstraint(
            "refunded_amount >= 0 AND refunded_amount <= amount",
            name=op.f("ck_purchases_refunded_within_amount"),
        ),
    )
    op.create_index(
        "ix_purchases_customer_id_created_at_id",
        "purchases",
        ["customer_id", "created_at", "id"],
    )
    op.create_index("ix_purchases_status_updated_at", "purchases", ["status", "updated_at"])
    op.create_index("ix_purchases_created_at_id", "purchases", ["created_at", "id"])

    op.create_table(
        "purchase_audit",
        _serial(),
        _id("purchase_id", nullable=False),
        sa.Column("from_status", sa.String(32), nullable=True),
        sa.Column("to_status", sa.String(32), nullable=False),
        sa.Column("cause", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=True),
        _time("at"),
        sa.PrimaryKeyConstraint("id", name="pk_purchase_audit"),
        foreign_key("purchase_audit", "purchase_id", "purchases"),
    )
    op.create_index("ix_purchase_audit_purchase_id_id", "purchase_audit", ["purchase_id", "id"])

    _create_entity(
        "refunds",
        _id("purchase_id", nullable=False),
        _id("customer_id", nullable=False),
        *_money(),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        *_at_gateway(nullable=False),
        sa.Column("failure_message", sa.Text(), nullable=True),
        *_timestamps(),
        foreign_key("refunds", "purchase_id", "purchases"),
        foreign_key("refunds", "customer_id", "customers"),
        sa.UniqueConstraint(
            "gateway", "gateway_reference", name="uq_refunds_gateway_gateway_reference"
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_refunds_amount_positive")),
    )
    op.create_index(
        "ix_refunds_purchase_id_created_at_id", "refunds", ["purchase_id", "created_at", "id"]
    )

    _create_entity(
        "ledger_entries",
        _id("customer_id", nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("asset", sa.String(16), nullable=False),
        _amount(),
        sa.Column("source", sa.String(255), nullable=False),
        _time("created_at"),
        _id("purchase_id", nullable=True),
        _time("expires_at", nullable=True),
        sa.Column("reference", sa.String(255), nullable=True),
        foreign_key("ledger_entries", "customer_id", "customers"),
        foreign_key("ledger_entries", "purchase_id", "purchases"),
        sa.UniqueConstraint("source", name="uq_ledger_entries_source"),
    )
    op.create_index(
        "ix_ledger_entries_customer_id_created_at_id",
        "ledger_entries",
        ["customer_id", "created_at", "id"],
    )
    op.create_index(
        "ix_ledger_entries_purchase_id_created_at_id",
        "ledger_entries",
        ["purchase_id", "created_at", "id"],
    )

    _create_entity(
        "webhook_inbox",
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("event_type", sa.String(255), nullable=False),
        sa.Column("headers", sa.Text(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        _time("received_at"),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _time("next_attempt_at", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        _time("processed_at", nullable=True),
        _id("purchase_id", nullable=True),
        sa.UniqueConstraint("provider", "event_id", name="uq_webhook_inbox_provider_event_id"),
    )
    op.create_index(
        "ix_webhook_inbox_status_next_attempt_at", "webhook_inbox", ["status", "next_attempt_at"]
    )
    op.create_index("ix_webhook_inbox_received_at_id", "webhook_inbox", ["received_at", "id"])

    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(255), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(255), nullable=False),
        _time("created_at"),
        _time("expires_at"),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("response_headers", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("scope", "key", name="pk_idempotency_keys"),
    )
    op.create_index("ix_idempotency_keys_expires_at", "idempotency_keys", ["expires_at"])

    _create_entity(
        "api_keys",
        sa.Column("prefix", sa.String(32), nullable=False),
        sa.Column("secret_hash", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        _id("customer_id", nullable=True),
        _time("created_at"),
        _time("revoked_at", nullable=True),
        foreign_key("api_keys", "customer_id", "customers"),
        sa.UniqueConstraint("secret_hash", name="uq_api_keys_secret_hash"),
    )

    op.create_table(
        "outbox",
        _serial(),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        _time("occurred_at"),
        _time("published_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )
    op.create_index("ix_outbox_published_at_id", "outbox", ["published_at", "id"])


def downgrade() -> None:
    for table in (
        "outbox",
        "api_keys",
        "idempotency_keys",
        "webhook_inbox",
        "ledger_entries",
        "refunds",
        "purchase_audit",
        "purchases",
        "customers",
        "products",
    ):
        op.drop_table(table)
