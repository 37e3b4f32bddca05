"""Idempotency keys keep an answer's unknown outcome in a column of its own, not in its headers.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06

Adds only: the nullable ``unknown_outcome`` column (``purchase:<id>`` or ``refund:<id>``). The
stored answers of release 0002 kept it as a fake ``Payments-Unknown-Outcome`` entry of their
``response_headers``: the upgrade moves each such entry into the column, so that none is ever
replayed as a header.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from payments.adapters.sql.migrations._helpers import add_columns, drop_columns

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LEGACY_ENTRY = "Payments-Unknown-Outcome"

_keys = sa.table(
    "idempotency_keys",
    sa.column("scope", sa.String()),
    sa.column("key", sa.String()),
    sa.column("response_headers", sa.Text()),
    sa.column("unknown_outcome", sa.String()),
)

_MOVE_ON_POSTGRESQL = sa.text(
    "UPDATE idempotency_keys"
    " SET unknown_outcome = response_headers::jsonb ->> 'Payments-Unknown-Outcome',"
    " response_headers = (response_headers::jsonb - 'Payments-Unknown-Outcome')::text"
    " WHERE strpos(response_headers, 'Payments-Unknown-Outcome') > 0"
)


def upgrade() -> None:
    add_columns("idempotency_keys", sa.Column("unknown_outcome", sa.String(80), nullable=True))
    if op.get_context().as_sql:  # an offline script (``alembic upgrade --sql``) reads no rows
        if op.get_context().dialect.name == "postgresql":
            op.execute(_MOVE_ON_POSTGRESQL)
        return
    connection = op.get_bind()
    legacy = connection.execute(
        sa.select(_keys.c.scope, _keys.c.key, _keys.c.response_headers).where(
            _keys.c.response_headers.contains(_LEGACY_ENTRY)
        )
    )
    for scope, key, text in legacy.all():
        headers = json.loads(text)
        outcome = headers.pop(_LEGACY_ENTRY, None)
        connection.execute(
            _keys.update()
            .where(_keys.c.scope == scope, _keys.c.key == key)
            .values(
                response_headers=json.dumps(headers, separators=(",", ":"), sort_keys=True),
                unknown_outcome=outcome,
            )
        )


def downgrade() -> None:
    drop_columns("idempotency_keys", "unknown_outcome")
