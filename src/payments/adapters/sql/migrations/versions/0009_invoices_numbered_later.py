"""Invoices numbered after the completing commit: ``number`` and ``sequence`` nullable.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

An invoice is issued without a number in the transaction that completes its purchase and
numbered in a batch soon after (decision 0032, amended). The unique constraints stay: both
PostgreSQL and SQLite allow several NULLs under them. A partial index finds the unnumbered
invoices oldest first, so checking for them costs one indexed query.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UNNUMBERED = sa.text("number IS NULL")


def _nullable(nullable: bool) -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.alter_column("number", existing_type=sa.String(32), nullable=nullable)
        batch.alter_column("sequence", existing_type=sa.Integer(), nullable=nullable)


def upgrade() -> None:
    _nullable(True)
    op.create_index(
        "ix_invoices_unnumbered",
        "invoices",
        ["issued_at", "id"],
        postgresql_where=_UNNUMBERED,
        sqlite_where=_UNNUMBERED,
    )


def downgrade() -> None:
    """Refused by the database while an invoice waits for its number: run the worker first."""
    op.drop_index("ix_invoices_unnumbered", table_name="invoices")
    _nullable(False)
