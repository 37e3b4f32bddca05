"""What every SQL repository shares: its connection, key lookups, inserts of new rows and
updates of stored ones."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Column, Connection, RowMapping, Select, Table
from sqlalchemy.exc import IntegrityError

from payments.adapters.cursors import decode_cursor, encode_cursor
from payments.adapters.sql import direct
from payments.adapters.sql.mappers import Row
from payments.adapters.sql.statements import insert, insert_chunks, lookup
from payments.domain.errors import ConflictError

SUPPORTED_DIALECTS = frozenset({"postgresql", "sqlite"})

T = TypeVar("T")


class SqlRepository:
    """A repository bound to one connection (one unit of work's transaction)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._dialect = connection.dialect.name
        if self._dialect not in SUPPORTED_DIALECTS:
            raise ValueError(f"Unsupported database dialect {self._dialect!r}.")
        # FOR UPDATE only means something on PostgreSQL; on SQLite BEGIN IMMEDIATE already
        # serializes writers.
        self._row_locks = self._dialect == "postgresql"

    def _one(self, table: Table, keys: dict[str, Any], for_update: bool = False) -> Row | None:
        """The row of ``table`` whose columns equal ``keys``; ``for_update`` locks it."""
        statement = lookup(table, tuple(keys), for_update and self._row_locks)
        return direct.fetch_one(self._connection, statement, keys)

    def _found(
        self,
        table: Table,
        keys: dict[str, Any],
        translate: Callable[[Row], T],
        for_update: bool = False,
    ) -> T | None:
        """``_one`` translated to a domain object, or None."""
        row = self._one(table, keys, for_update)
        return translate(row) if row is not None else None

    def _all(self, statement: Select[Any]) -> Sequence[RowMapping]:
        return self._connection.execute(statement).mappings().all()

    def _claim(self, query: Select[Any], table: Table, lease: dict[str, Any]) -> list[Row]:
        """The rows ``query`` selects, claimed for this worker: on PostgreSQL taken ``FOR UPDATE
        SKIP LOCKED`` (concurrent workers claim disjoint rows; on SQLite the one writer at a time
        does that), then leased by writing ``lease`` to them, which ``query`` must exclude, so
        that nobody claims them again once this transaction commits. Returned as leased."""
        if self._row_locks:
            query = query.with_for_update(skip_locked=True, of=table)
        rows = self._all(query)
        if not rows:
            return []
        ids = [row["id"] for row in rows]
        self._connection.execute(table.update().where(table.c.id.in_(ids)).values(**lease))
        return [{**row, **lease} for row in rows]

    def _newest_first(
        self, statement: Select[Any], moment: Column[Any], cursor: str | None, limit: int
    ) -> tuple[Sequence[RowMapping], str | None]:
        """One page of ``statement``'s rows, newest first by (``moment``, id), after ``cursor``;
        and the cursor of the next page (None on the last page)."""
        table_id = moment.table.c.id
        if cursor:
            after, last_id = decode_cursor(cursor)
            statement = statement.where(
                (moment < after) | ((moment == after) & (table_id < last_id))
            )
        limit = max(limit, 0)
        statement = statement.order_by(moment.desc(), table_id.desc()).limit(limit + 1)
        rows = self._all(statement)
        if len(rows) <= limit or not limit:
            return rows[:limit], None
        last = rows[limit - 1]
        return rows[:limit], encode_cursor(last[moment.name], last["id"])

    def _insert_new(self, table: Table, row: dict[str, Any], what: str) -> None:
        """Insert a row that must be new: ``ConflictError`` (transaction intact) if it is not."""
        try:
            written = direct.execute(self._connection, insert(table, tuple(row), 1, ()), row)
        except IntegrityError as error:
            raise ConflictError(f"{what} breaks a database constraint.") from error
        if written != 1:
            raise ConflictError(f"{what} already exists.")

    def _update_stored(
        self,
        table: Table,
        row: dict[str, Any],
        columns: Sequence[str],
        what: str,
        key: str = "id",
    ) -> None:
        """Write ``row``'s ``columns`` to the stored row of the same ``key``: ``ConflictError``
        (``what`` and the key, "was never added") when there is none."""
        written = self._connection.execute(
            table.update()
            .where(table.c[key] == row[key])
            .values({name: row[name] for name in columns})
        ).rowcount
        if written != 1:
            raise ConflictError(f"{what} {row[key]!r} was never added.")

    def _insert_all(
        self, table: Table, rows: Sequence[dict[str, Any]], conflict: tuple[str, ...] | None = None
    ) -> int:
        """Insert ``rows`` (same keys each) in as few statements as ``MAX_ROWS_PER_INSERT``
        allows; returns how many were written (rows meeting a ``conflict`` are skipped)."""
        return sum(
            direct.execute(self._connection, statement, parameters)
            for statement, parameters in insert_chunks(table, rows, conflict)
        )

    def _insert_all_later(
        self,
        table: Table,
        rows: Sequence[dict[str, Any]],
        conflict: tuple[str, ...] | None = None,
        refused: direct.Refusal | None = None,
    ) -> None:
        """``_insert_all`` without waiting for the answer (``direct.insert_later``): written
        before the next statement that needs an answer, or with the commit, together with the
        other rows held for the same table; ``refused`` makes the error of a broken constraint."""
        direct.insert_later(self._connection, table, rows, conflict, refused)
