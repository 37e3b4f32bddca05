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
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_TEXTS = (("number", 32), ("series", 12), ("country", 2), ("status", 16), ("currency", 3))
_AMOUNTS = ("subtotal", "tax", "total", "tax_rate")


def _reference(name: str, target: str, table: str) -> sa.Column[str]:
    """A required id column with its foreign key, named as the tables' naming convention does."""
    key = sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{name}_{target}")
    return sa.Column(name, sa.String(64), key, nullable=False)


def upgrade() -> None:
    op.create_table(
        "invoices",
        sa.Column("id", sa.String(64), nullable=False),
        _reference("purchase_id", "purchases", "invoices"),
        _reference("customer_id", "customers", "invoices"),
        *(sa.Column(name, sa.String(size), nullable=False) for name, size in _TEXTS),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in ("year", "sequence")),
        *(sa.Column(name, sa.Numeric(20, 6), nullable=False) for name in _AMOUNTS),
        *(
            sa.Column(n, sa.DateTime(timezone=True), nullable=False)
            for n in ("issued_at", "updated_at")
        ),
        sa.PrimaryKeyConstraint("id", name="pk_invoices"),
        sa.UniqueConstraint("number", name="uq_invoices_number"),
        sa.UniqueConstraint("purchase_id", name="uq_invoices_purchase_id"),
        sa.UniqueConstraint("series", "year", "sequence", name="uq_invoices_series_year_sequence"),
        sa.CheckConstraint("sequence > 0", name=op.f("ck_invoices_sequence_positive")),
    )
    op.create_index(
        "ix_invoices_customer_id_issued_at_id", "invoices", ["customer_id", "issued_at", "id"]
    )
    op.create_table(
        "invoice_lines",
        _reference("invoice_id", "invoices", "invoice_lines"),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Numeric(20, 6), nullable=False) for name in ("unit_price", "total")),
        sa.PrimaryKeyConstraint("invoice_id", "position", name="pk_invoice_lines"),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_invoice_lines_quantity_positive")),
    )
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
    with op.batch_alter_table("purchases") as batch:
        batch.add_column(sa.Column("invoice_id", sa.String(64), nullable=True))
    for table, time in _STATISTICS_INDEXES:
        op.create_index(f"ix_{table}_currency_{time}", table, ["currency", time])


_STATISTICS_INDEXES = (("purchases", "completed_at"), ("refunds", "created_at"))
"""The (currency, time) indexes the revenue statistics read."""


def downgrade() -> None:
    for table, time in _STATISTICS_INDEXES:
        op.drop_index(f"ix_{table}_currency_{time}", table_name=table)
    with op.batch_alter_table("purchases") as batch:
        batch.drop_column("invoice_id")
    for table in ("invoice_counters", "invoice_lines"):
        op.drop_table(table)
    op.drop_index("ix_invoices_customer_id_issued_at_id", table_name="invoices")
    op.drop_table("invoices")
