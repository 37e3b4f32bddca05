"""Notifications stored to be applied later: a partial index finds them oldest first.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06

With ``PAYMENTS_NOTIFICATION_MODE=ingest`` a delivery is stored as ``received`` and answered;
the worker applies the received messages in batches, oldest first (decision 0042). The index
holds only those rows, so finding them stays one indexed query however large the inbox grows.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_RECEIVED = sa.text("status = 'received'")


def upgrade() -> None:
    op.create_index(
        "ix_webhook_inbox_received",
        "webhook_inbox",
        ["received_at", "id"],
        postgresql_where=_RECEIVED,
        sqlite_where=_RECEIVED,
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_inbox_received", table_name="webhook_inbox")
