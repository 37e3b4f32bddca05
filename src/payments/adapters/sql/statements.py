"""The fixed statements of the hot paths, written once as SQL text with named parameters."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Integer, Table, TextClause, bindparam, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeEngine

from payments.adapters.sql.tables import (
    INBOX_RECEIVED,
    purchase_audit,
    purchases,
    refunds,
    webhook_inbox,
)

_PARAMETER = re.compile(r"(?<![:\w]):(\w+)")


@dataclass(frozen=True, eq=False)
class FixedStatement:
    """One statement as SQL text with ``:name`` parameters, the column type of each parameter,
    and for a SELECT the columns it returns (whose types convert the values read back).

    The text is the one source: ``clause`` runs it through SQLAlchemy, ``numbered`` is the same
    text with PostgreSQL's ``$n`` parameters for psycopg (``direct.py``). Written with plain SQL
    only (no ``%``, no ``::`` casts), so that the two never differ but for the parameter markers.
    """

    sql: str
    parameters: Mapping[str, TypeEngine[Any]]
    columns: tuple[Column[Any], ...] = ()

    @functools.cached_property
    def clause(self) -> TextClause:
        """The statement for ``Connection.execute``, its parameters typed by their columns."""
        clause = text(self.sql).bindparams(
            *(bindparam(name, type_=type_) for name, type_ in self.parameters.items())
        )
        if self.columns:
            return clause.columns(*self.columns).execution_options(preserve_rowcount=True)  # type: ignore[return-value]
        return clause.execution_options(preserve_rowcount=True)

    @functools.cached_property
    def numbered(self) -> tuple[str, tuple[str, ...]]:
        """The text with PostgreSQL's own ``$1, $2, ...`` markers, and the parameter each number
        stands for (a name used twice keeps its number): what psycopg's ``RawCursor`` sends as
        it is, with no parsing of the text on every call."""
        order: dict[str, int] = {}

        def number(match: re.Match[str]) -> str:
            return f"${order.setdefault(match[1], len(order) + 1)}"

        return _PARAMETER.sub(number, self.sql), tuple(order)


def _typed(table: Table, columns: tuple[str, ...], suffix: str = "") -> dict[str, TypeEngine[Any]]:
    return {f"{name}{suffix}": table.c[name].type for name in columns}


@functools.cache
def lookup(table: Table, keys: tuple[str, ...], locked: bool = False) -> FixedStatement:
    """``SELECT`` every column ``WHERE key = :key AND ...``; ``locked`` adds ``FOR UPDATE``.
    Built once per table, keys and lock (pass them by position: one cache entry each)."""
    where = " AND ".join(f"{name} = :{name}" for name in keys)
    listed = ", ".join(column.name for column in table.c)
    # Names of our own tables and columns only (table.c[name] refuses any other).
    sql = f"SELECT {listed} FROM {table.name} WHERE {where}"  # noqa: S608
    if locked:
        sql += " FOR UPDATE"
    return FixedStatement(sql, _typed(table, keys), tuple(table.c))


@functools.cache
def insert(
    table: Table, columns: tuple[str, ...], rows: int = 1, conflict: tuple[str, ...] | None = None
) -> FixedStatement:
    """``INSERT INTO table (columns) VALUES (...)``: one row's parameters are named as the columns;
    with ``rows`` > 1 they are ``<column>_<row>``. ``conflict``: ``ON CONFLICT [(columns)] DO
    NOTHING`` (a duplicate writes nothing and raises nothing; ``()`` for any constraint)."""
    suffixes = [""] if rows == 1 else [f"_{row}" for row in range(rows)]
    values = ", ".join(
        "(" + ", ".join(f":{name}{suffix}" for name in columns) + ")" for suffix in suffixes
    )
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES {values}"  # noqa: S608
    if conflict is not None:
        target = f" ({', '.join(conflict)})" if conflict else ""
        sql += f" ON CONFLICT{target} DO NOTHING"
    parameters: dict[str, TypeEngine[Any]] = {}
    for suffix in suffixes:
        parameters.update(_typed(table, columns, suffix))
    return FixedStatement(sql, parameters)


@functools.cache
def locked_by_gateway_references(count: int) -> FixedStatement:
    """PostgreSQL: every column of the purchases of ``:gateway`` whose gateway reference is
    one of ``:r_0`` ... ``:r_<count - 1>``, ``ORDER BY id FOR UPDATE`` (locked in id order).
    Built once per ``count`` (pass a power of two, the references repeated to fill it)."""
    listed = ", ".join(column.name for column in purchases.c)
    marks = ", ".join(f":r_{i}" for i in range(count))
    sql = (
        f"SELECT {listed} FROM {purchases.name} "  # noqa: S608 - our own names
        f"WHERE gateway = :gateway AND gateway_reference IN ({marks}) ORDER BY id FOR UPDATE"
    )
    reference = purchases.c.gateway_reference.type
    parameters = {"gateway": purchases.c.gateway.type}
    parameters.update({f"r_{i}": reference for i in range(count)})
    return FixedStatement(sql, parameters, tuple(purchases.c))


def _received_claim() -> FixedStatement:
    listed = ", ".join(column.name for column in webhook_inbox.c)
    sql = (
        f"SELECT {listed} FROM {webhook_inbox.name} WHERE {INBOX_RECEIVED} "  # noqa: S608
        "ORDER BY received_at, id LIMIT :limit FOR UPDATE SKIP LOCKED"
    )  # the predicate as the partial index says it, so that a prepared plan can use it
    types = {"limit": Integer()}
    return FixedStatement(sql, types, tuple(webhook_inbox.c))


RECEIVED_CLAIM = _received_claim()
"""PostgreSQL: the oldest ``:limit`` received inbox messages, taken ``FOR UPDATE SKIP LOCKED``
(concurrent workers take disjoint messages)."""


MAX_ROWS_PER_INSERT = 16
"""Rows written by one multi-row INSERT; more are split, so a handful of shapes is ever cached."""


Build = Callable[[int], FixedStatement]
"""The statement that writes ``n`` rows at once; its parameters are named as the row's keys
for one row, ``<key>_<i>`` for row ``i`` of several (as ``insert`` names them)."""


def chunked(
    build: Build, rows: Sequence[Mapping[str, Any]]
) -> Iterator[tuple[FixedStatement, dict[str, Any], Sequence[Mapping[str, Any]]]]:
    """The statements (at most ``MAX_ROWS_PER_INSERT`` rows each) that write ``rows`` (same
    keys each): each with its parameters and the rows it writes."""
    for chunk in row_chunks(rows):
        yield build(len(chunk)), named_rows(chunk), chunk


def row_chunks(rows: Sequence[Mapping[str, Any]]) -> Iterator[Sequence[Mapping[str, Any]]]:
    """``rows`` in order, at most ``MAX_ROWS_PER_INSERT`` at a time: one statement's rows each."""
    for start in range(0, len(rows), MAX_ROWS_PER_INSERT):
        yield rows[start : start + MAX_ROWS_PER_INSERT]


def named_rows(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The parameters of the statement that writes ``rows`` (same keys each), named as ``Build``
    says: as the keys for one row, ``<key>_<i>`` for row ``i`` of several."""
    if len(rows) == 1:
        return dict(rows[0])
    return {f"{name}_{i}": value for i, row in enumerate(rows) for name, value in row.items()}


def insert_chunks(
    table: Table, rows: Sequence[Mapping[str, Any]], conflict: tuple[str, ...] | None
) -> Iterator[tuple[FixedStatement, dict[str, Any]]]:
    """The multi-row INSERTs (and their parameters) that write ``rows`` (same keys each)."""
    columns = tuple(rows[0]) if rows else ()
    for statement, parameters, _ in chunked(lambda n: insert(table, columns, n, conflict), rows):
        yield statement, parameters


@functools.cache
def upsert(table: Table, columns: tuple[str, ...], key: tuple[str, ...]) -> FixedStatement:
    """``INSERT INTO table (columns) VALUES (...) ON CONFLICT (key) DO UPDATE SET`` every other
    column to the value sent (PostgreSQL and SQLite alike). Built once per table and columns."""
    row = insert(table, columns)
    assignments = ", ".join(f"{name} = excluded.{name}" for name in columns if name not in key)
    sql = f"{row.sql} ON CONFLICT ({', '.join(key)}) DO UPDATE SET {assignments}"
    return FixedStatement(sql, row.parameters)


@functools.cache
def insert_returning(
    table: Table,
    columns: tuple[str, ...],
    rows: int,
    conflict: tuple[str, ...] | None,
    returned: tuple[str, ...],
) -> FixedStatement:
    """``insert`` that returns the ``returned`` columns of the rows it wrote (with ``conflict``,
    the rows it skipped return nothing): which rows were new, in one statement."""
    plain = insert(table, columns, rows, conflict)
    sql = f"{plain.sql} RETURNING {', '.join(returned)}"
    return FixedStatement(sql, plain.parameters, tuple(table.c[name] for name in returned))


def update_by_id(table: Table, columns: tuple[str, ...], condition: str = "") -> FixedStatement:
    """``UPDATE table SET column = :column, ... WHERE id = :b_id``, and ``condition`` if given."""
    assignments = ", ".join(f"{name} = :{name}" for name in columns)
    sql = f"UPDATE {table.name} SET {assignments} WHERE id = :b_id{condition}"  # noqa: S608
    return FixedStatement(sql, {**_typed(table, columns), "b_id": table.c.id.type})


PURCHASE_FIXED = frozenset({"id", "reference", "customer_id", "created_at", "version"})
PURCHASE_MUTABLE = tuple(c.name for c in purchases.c if c.name not in PURCHASE_FIXED)
AUDIT_COLUMNS = ("from_status", "to_status", "cause", "actor", "event_id", "at")


def _purchase_update() -> FixedStatement:
    plain = update_by_id(purchases, PURCHASE_MUTABLE, " AND version = :b_version")
    sql = plain.sql.replace(" WHERE ", ", version = version + 1 WHERE ", 1)
    return FixedStatement(sql, {**plain.parameters, "b_version": purchases.c.version.type})


PURCHASE_UPDATE = _purchase_update()
"""The purchase's changes if its stored version is still ``:b_version``; the version is bumped."""


def _purchase_update_with_audit() -> FixedStatement:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    # In a SELECT list a parameter's type cannot be inferred: cast it to its column's.
    selected = ", ".join(
        f"CAST(:a_{name} AS {purchase_audit.c[name].type.compile(dialect=dialect)})"
        for name in AUDIT_COLUMNS
    )
    sql = (
        f"WITH updated AS ({PURCHASE_UPDATE.sql} RETURNING id) "  # noqa: S608
        f"INSERT INTO {purchase_audit.name} (purchase_id, {', '.join(AUDIT_COLUMNS)}) "
        f"SELECT updated.id, {selected} FROM updated"
    )
    audit = {f"a_{name}": purchase_audit.c[name].type for name in AUDIT_COLUMNS}
    return FixedStatement(sql, {**PURCHASE_UPDATE.parameters, **audit})


PURCHASE_UPDATE_WITH_AUDIT = _purchase_update_with_audit()
"""PostgreSQL: the purchase UPDATE and its one audit record in one statement (a data-modifying
CTE); it inserts the audit row, and counts 1, only when the UPDATE matched the version."""


@functools.cache
def purchase_updates_with_audit(rows: int) -> FixedStatement:
    """PostgreSQL: ``PURCHASE_UPDATE_WITH_AUDIT`` for ``rows`` purchases (distinct) in one
    statement: their values as a typed ``VALUES`` list, the UPDATE joined to it, and an audit
    record for each purchase whose version matched; it counts the purchases updated. One row:
    ``PURCHASE_UPDATE_WITH_AUDIT`` itself (parameters named as for ``insert``: see ``Build``)."""
    if rows == 1:
        return PURCHASE_UPDATE_WITH_AUDIT
    names = ("b_id", "b_version", *PURCHASE_MUTABLE, *(f"a_{name}" for name in AUDIT_COLUMNS))
    values, parameters = _typed_values(PURCHASE_UPDATE_WITH_AUDIT.parameters, names, rows)
    assignments = ", ".join(f"{name} = v.{name}" for name in PURCHASE_MUTABLE)
    audit = ", ".join(f"v.a_{name}" for name in AUDIT_COLUMNS)
    sql = (
        f"WITH v ({', '.join(names)}) AS (VALUES {values}), "  # noqa: S608 - our own names
        f"updated AS (UPDATE {purchases.name} SET {assignments}, "
        f"version = {purchases.name}.version + 1 FROM v "
        f"WHERE {purchases.name}.id = v.b_id AND {purchases.name}.version = v.b_version "
        f"RETURNING {purchases.name}.id) "
        f"INSERT INTO {purchase_audit.name} (purchase_id, {', '.join(AUDIT_COLUMNS)}) "
        f"SELECT v.b_id, {audit} FROM v JOIN updated ON updated.id = v.b_id"
    )
    return FixedStatement(sql, parameters)


REFUND_MUTABLE = ("status", "gateway_reference", "failure_message", "updated_at", "reason")
REFUND_UPDATE = update_by_id(refunds, REFUND_MUTABLE)
INBOX_MUTABLE = (
    "status",
    "attempts",
    "next_attempt_at",
    "last_error",
    "processed_at",
    "purchase_id",
    "event_type",
)
INBOX_UPDATE = update_by_id(webhook_inbox, INBOX_MUTABLE)


@functools.cache
def inbox_updates(rows: int) -> FixedStatement:
    """``INBOX_UPDATE`` for ``rows`` messages (distinct) in one statement: their values as a
    typed ``VALUES`` list joined to the UPDATE; it counts the messages updated. One row:
    ``INBOX_UPDATE`` itself (parameters named as for ``insert``: see ``Build``)."""
    if rows == 1:
        return INBOX_UPDATE
    return _updates_from_values(webhook_inbox, INBOX_UPDATE.parameters, INBOX_MUTABLE, rows)


def _typed_values(
    types: Mapping[str, TypeEngine[Any]], names: Sequence[str], rows: int
) -> tuple[str, dict[str, TypeEngine[Any]]]:
    """A PostgreSQL ``VALUES`` list of ``rows`` rows of ``names``, each value cast to its type
    (a parameter's type cannot be inferred there), and the parameters it names."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    compiled = {name: types[name].compile(dialect=dialect) for name in names}
    values = ", ".join(
        "(" + ", ".join(f"CAST(:{name}_{row} AS {compiled[name]})" for name in names) + ")"
        for row in range(rows)
    )
    return values, {f"{name}_{row}": types[name] for row in range(rows) for name in names}


def _updates_from_values(
    table: Table, types: Mapping[str, TypeEngine[Any]], columns: Sequence[str], rows: int
) -> FixedStatement:
    """``UPDATE table SET column = v.column, ... FROM (VALUES ...) v WHERE id = v.b_id``."""
    names = ("b_id", *columns)
    values, parameters = _typed_values(types, names, rows)
    assignments = ", ".join(f"{name} = v.{name}" for name in columns)
    sql = (
        f"UPDATE {table.name} SET {assignments} "  # noqa: S608 - our own names
        f"FROM (VALUES {values}) AS v ({', '.join(names)}) WHERE {table.name}.id = v.b_id"
    )
    return FixedStatement(sql, parameters)
