"""Subscriptions, their claimed charges, usage records and the sandbox test clock.

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-06

Plans already have their columns (``billing_cycle``, ``trial_days``, ``credits`` on products
since 0001); this adds only new tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from payments.adapters.sql.migrations._helpers import foreign_key

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Written by hand to match payments.adapters.sql.tables: ids are String(64), amounts
# Numeric(20, 6), times timezone-aware.
_ID = sa.String(64)
_AMOUNT = sa.Numeric(20, 6)
_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "subscriptions",
        sa.Column("id", _ID, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("payment_method", sa.String(32), nullable=False),
        sa.Column("customer_id", _ID, nullable=False),
        sa.Column("plan_id", _ID, nullable=False),
        sa.Column("gateway", sa.String(32), nullable=False),
        sa.Column("gateway_customer", sa.String(255), nullable=False),
        sa.Column("gateway_method", sa.String(255), nullable=False),
        sa.Column("price", _AMOUNT, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("credits", _AMOUNT, nullable=False),
        sa.Column("billing_cycle", sa.String(16), nullable=False),
        sa.Column("anchor", _TIME, nullable=False),
        sa.Column("current_period_start", _TIME, nullable=False),
        sa.Column("current_period_end", _TIME, nullable=False),
        sa.Column("trial_end", _TIME, nullable=True),
        sa.Column("charging_period", sa.Integer(), nullable=False),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("first_failure_at", _TIME, nullable=True),
        sa.Column("next_charge_at", _TIME, nullable=True),
        sa.Column("claimed_until", _TIME, nullable=True),
        sa.Column("open_charge_purchase_id", _ID, nullable=True),
        sa.Column("latest_purchase_id", _ID, nullable=True),
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False),
        sa.Column("cancelled_at", _TIME, nullable=True),
        sa.Column("scheduled_plan_id", _ID, nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_subscriptions"),
        foreign_key("subscriptions", "customer_id", "customers"),
        foreign_key("subscriptions", "plan_id", "products"),
        sa.CheckConstraint("price > 0", name=op.f("ck_subscriptions_price_positive")),
    )
    op.create_index(
        "ix_subscriptions_customer_id_created_at_id",
        "subscriptions",
        ["customer_id", "created_at", "id"],
    )
    op.create_index("ix_subscriptions_next_charge_at", "subscriptions", ["next_charge_at"])
    op.create_index(
        "ix_subscriptions_status_cancelled_at", "subscriptions", ["status", "cancelled_at"]
    )
    op.create_table(
        "subscription_charges",
        sa.Column("subscription_id", _ID, nullable=False),
        sa.Column("period", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("purchase_id", _ID, nullable=False),
        sa.PrimaryKeyConstraint(
            "subscription_id", "period", "attempt", name="pk_subscription_charges"
        ),
        foreign_key("subscription_charges", "subscription_id", "subscriptions"),
        foreign_key("subscription_charges", "purchase_id", "purchases"),
    )
    op.create_table(
        "usage_records",
        sa.Column("id", _ID, nullable=False),
        sa.Column(
            "subscription_id",
            _ID,
            sa.ForeignKey(
                "subscriptions.id", name="fk_usage_records_subscription_id_subscriptions"
            ),
            nullable=False,
        ),
        sa.Column("metric", sa.String(64), nullable=False),
        sa.Column("quantity", _AMOUNT, nullable=False),
        sa.Column("reference", sa.String(128), nullable=False),
        sa.Column("period_start", _TIME, nullable=False),
        sa.Column("recorded_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_usage_records"),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_usage_records_quantity_positive")),
        # a reference is recorded once per subscription
        sa.UniqueConstraint(
            "subscription_id", "reference", name="uq_usage_records_subscription_id_reference"
        ),
    )
    op.create_index(
        "ix_usage_records_subscription_id_period_start_metric",
        "usage_records",
        ["subscription_id", "period_start", "metric"],
    )
    op.create_table(
        "sandbox_clock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offset_seconds", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sandbox_clock"),
    )


def downgrade() -> None:
    op.drop_table("sandbox_clock")
    op.drop_index(
        "ix_usage_records_subscription_id_period_start_metric", table_name="usage_records"
    )
    op.drop_table("usage_records")
    op.drop_table("subscription_charges")
    op.drop_index("ix_subscriptions_status_cancelled_at", table_name="subscriptions")
    op.drop_index("ix_subscriptions_next_charge_at", table_name="subscriptions")
    op.drop_index("ix_subscriptions_customer_id_created_at_id", table_name="subscriptions")
    op.drop_table("subscriptions")
