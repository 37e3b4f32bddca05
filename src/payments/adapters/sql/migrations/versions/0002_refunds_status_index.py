"""Refunds by status and creation time: the worker's sweep of refunds left unanswered.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_refunds_status_created_at", "refunds", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_refunds_status_created_at", table_name="refunds")
