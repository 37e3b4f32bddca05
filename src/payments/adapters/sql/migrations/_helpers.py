"""What the hand-written migrations share: foreign keys named by the schema's naming convention,
and columns added or dropped in batch mode (which SQLite needs for most table changes)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op


def foreign_key(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    """``table.column`` referring to ``target.id``, named as ``tables.NAMING_CONVENTION`` names
    it (``fk_<table>_<column>_<target>``)."""
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}")


def add_columns(table: str, *columns: sa.Column[Any]) -> None:
    """Add ``columns`` to ``table``, in this order."""
    with op.batch_alter_table(table) as batch:
        for column in columns:
            batch.add_column(column)


def drop_columns(table: str, *names: str) -> None:
    """Drop the columns ``names`` of ``table``, in this order."""
    with op.batch_alter_table(table) as batch:
        for name in names:
            batch.drop_column(name)
