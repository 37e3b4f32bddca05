"""Outbox events carry a stable event id and the id of the aggregate they are about.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06

Adds only: the nullable ``event_id`` (unique) and ``aggregate_id`` columns and their indexes.
Rows written before get ``outbox_<id>`` as their event id (what the code reads for a row without
one) and the ``purchase_id`` (else ``customer_id``) of their payload as their aggregate id.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from payments.adapters.sql.migrations._helpers import add_columns, drop_columns

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FILL = {
    "postgresql": (
        "UPDATE outbox SET event_id = 'outbox_' || id,"
        " aggregate_id = COALESCE(payload::jsonb ->> 'purchase_id',"
        " payload::jsonb ->> 'customer_id')"
        " WHERE event_id IS NULL"
    ),
    "sqlite": (
        "UPDATE outbox SET event_id = 'outbox_' || id,"
        " aggregate_id = COALESCE(json_extract(payload, '$.purchase_id'),"
        " json_extract(payload, '$.customer_id'))"
        " WHERE event_id IS NULL"
    ),
}


def upgrade() -> None:
    add_columns(
        "outbox",
        sa.Column("event_id", sa.String(64), nullable=True),
        sa.Column("aggregate_id", sa.String(64), nullable=True),
    )
    fill = _FILL.get(op.get_context().dialect.name)
    if fill is not None:
        op.execute(sa.text(fill))
    op.create_index("ix_outbox_event_id", "outbox", ["event_id"], unique=True)
    op.create_index("ix_outbox_aggregate_id_id", "outbox", ["aggregate_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_aggregate_id_id", table_name="outbox")
    op.drop_index("ix_outbox_event_id", table_name="outbox")
    drop_columns("outbox", "aggregate_id", "event_id")
