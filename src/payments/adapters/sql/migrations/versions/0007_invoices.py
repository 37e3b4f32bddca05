"""Invoices: numbered per series and year, their lines, the counters, and each purchase's invoice.

Revision ID: 0007
Revises: 0004
Create Date: 2026-12-06

Adds only: the tables ``invoice_counters``, ``invoices`` and ``invoice_lines``, the nullable
``purchases.invoice_id`` column, and the (currency, time) indexes the revenue statistics read.
Purchases completed before have no invoice (none is issued after the fact).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _amount(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.Numeric(20, 6), nullable=False)


def upgrade() -> None:
    op.create_table(
        "invoice_counters",
        sa.Column("series", sa.String(12), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("series", "year", name="pk_invoice_counters"),
        sa.CheckConstraint(
            "last_number >= 0", name=op.f("ck_invoice_counters_last_number_not_negative")
        ),
    )
    op.create_table(
        "invoices",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("series", sa.String(12), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("purchase_id", sa.String(64), nullable=False),
        sa.Column("customer_id", sa.String(64), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        _amount("subtotal"),
        _amount("tax"),
        _amount("total"),
        _amount("tax_rate"),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_invoices"),
        sa.ForeignKeyConstraint(
            ["purchase_id"], ["purchases.id"], name="fk_invoices_purchase_id_purchases"
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name="fk_invoices_customer_id_customers"
        ),
        sa.UniqueConstraint("number", name="uq_invoices_number"),
        sa.UniqueConstraint("series", "year", "sequence", name="uq_invoices_series_year_sequence"),
        sa.UniqueConstraint("purchase_id", name="uq_invoices_purchase_id"),
        sa.CheckConstraint("sequence > 0", name=op.f("ck_invoices_sequence_positive")),
    )
    op.create_index(
        "ix_invoices_customer_id_issued_at_id", "invoices", ["customer_id", "issued_at", "id"]
    )
    op.create_table(
        "invoice_lines",
        sa.Column("invoice_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        _amount("unit_price"),
        _amount("total"),
        sa.PrimaryKeyConstraint("invoice_id", "position", name="pk_invoice_lines"),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name="fk_invoice_lines_invoice_id_invoices"
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_invoice_lines_quantity_positive")),
    )
    with op.batch_alter_table("purchases") as batch:
        batch.add_column(sa.Column("invoice_id", sa.String(64), nullable=True))
    op.create_index("ix_purchases_currency_completed_at", "purchases", ["currency", "completed_at"])
    op.create_index("ix_refunds_currency_created_at", "refunds", ["currency", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_refunds_currency_created_at", table_name="refunds")
    op.drop_index("ix_purchases_currency_completed_at", table_name="purchases")
    with op.batch_alter_table("purchases") as batch:
        batch.drop_column("invoice_id")
    op.drop_table("invoice_lines")
    op.drop_index("ix_invoices_customer_id_issued_at_id", table_name="invoices")
    op.drop_table("invoices")
    op.drop_table("invoice_counters")
