"""Efecty's cash vouchers: one per purchase, found by a unique code.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06

Adds only the ``efecty_vouchers`` table (decision record 0027); written by hand to match
payments.adapters.sql.tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from payments.adapters.sql.migrations._helpers import foreign_key

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "efecty_vouchers",
        sa.Column("purchase_id", sa.String(64), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("purchase_reference", sa.String(64), nullable=False),
        sa.Column("barcode", sa.String(64), nullable=False),
        sa.Column("amount", sa.Numeric(20, 6), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("receipt_number", sa.String(64), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount > 0", name="ck_efecty_vouchers_amount_positive"),
        foreign_key("efecty_vouchers", "purchase_id", "purchases"),
        sa.PrimaryKeyConstraint("purchase_id", name="pk_efecty_vouchers"),
    )
    op.create_index("ix_efecty_vouchers_code", "efecty_vouchers", ["code"], unique=True)
    op.create_index(
        "ix_efecty_vouchers_purchase_reference", "efecty_vouchers", ["purchase_reference"]
    )
    op.create_index(
        "ix_efecty_vouchers_status_expires_at", "efecty_vouchers", ["status", "expires_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_efecty_vouchers_status_expires_at", table_name="efecty_vouchers")
    op.drop_index("ix_efecty_vouchers_purchase_reference", table_name="efecty_vouchers")
    op.drop_index("ix_efecty_vouchers_code", table_name="efecty_vouchers")
    op.drop_table("efecty_vouchers")
