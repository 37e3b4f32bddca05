"""The one seam that runs a fixed statement: straight on psycopg on PostgreSQL, else SQLAlchemy.

On psycopg the statement's text is sent as written (``FixedStatement.numbered``); the columns'
own types convert the parameters and the values read back (exact decimals, UTC times), with
SQLAlchemy's public type API (``bind_processor``, ``result_processor``). A failure comes out as
the SQLAlchemy exception ``Connection.execute`` would raise, with a lost connection
invalidated. What is skipped is SQLAlchemy's per-call work (cache key, execution context,
result metadata): about 0.1 ms of CPU per statement, a fifth of a webhook's. SQLAlchemy's engine
events do not see these statements. Any other driver runs the same text through SQLAlchemy.

Writes whose answer nobody waits for (``execute_later``) are queued in psycopg's pipeline mode
and sent with the statement that next needs an answer (``execute``, ``fetch_one``) or with the
``COMMIT`` (``commit``): one round trip for several statements. Their checks (the row count a
repository expects, the ``ConflictError`` for a broken constraint) run when the answers come,
before anything is committed. Any SQLAlchemy statement on the connection first settles them.

Rows inserted without waiting (``insert_later``) are held a little longer: until the next
statement that needs an answer, the next ``execute_later`` or the commit. Then the rows held
under each key (a table's INSERT, the purchases' UPDATE) are written together, as few
multi-row statements as the rows allow, the keys in the order their first rows came: when a
batch of webhooks is applied in one transaction (group commit), the ledger entries of all its
purchases are one statement, and their UPDATEs another, not one per purchase. So rows held
under one key go ahead of rows held later under another key: hold only writes that do not
depend on each other in that way (new rows that reference stored ones, updates of locked
rows).
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Hashable, Mapping, Sequence
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, Table, event, exc

from payments.adapters.sql.binds import Converters
from payments.adapters.sql.engine import connection_lost
from payments.adapters.sql.mappers import Row
from payments.adapters.sql.statements import (
    Build,
    FixedStatement,
    chunked,
    insert,
    row_chunks,
)

Convert = Callable[[Any], Any]
Parameters = Mapping[str, Any]
CountCheck = Callable[[int], None]
"""Called with the rows a queued statement wrote; raises if that is not what was expected."""
Refusal = Callable[[exc.IntegrityError], Exception]
"""The error to raise instead when a queued statement breaks a constraint."""


@dataclass(frozen=True, slots=True)
class Expectation:
    """What the caller of ``execute_later`` expects: ``count`` gets the rows written (and
    raises if wrong), ``refused`` makes the error for a broken constraint."""

    count: CountCheck | None = None
    refused: Refusal | None = None

    @property
    def anything(self) -> bool:
        """Whether the answer must be seen before the transaction may commit."""
        return self.count is not None or self.refused is not None


NOTHING_EXPECTED = Expectation()


def supports(connection: Connection) -> bool:
    """Whether statements run straight on this connection's driver (psycopg, named parameters)."""
    dialect = connection.dialect
    return dialect.driver == "psycopg" and dialect.paramstyle == "pyformat"


def execute(connection: Connection, statement: FixedStatement, parameters: Parameters) -> int:
    """Run ``statement`` in the connection's transaction; the rows it wrote (or matched).

    Raises what ``Connection.execute`` raises: ``StatementError`` for a value a column's type
    refuses, ``IntegrityError`` for a broken constraint, ``DBAPIError`` with
    ``connection_invalidated`` when the server went away.
    """
    if not supports(connection):
        return connection.execute(statement.clause, parameters).rowcount
    converters = Converters.of(statement, connection.dialect)
    cursor = _run(connection, converters, converters.values(parameters))
    settle(connection)
    count: int = cursor.rowcount
    return count


def execute_later(
    connection: Connection,
    statement: FixedStatement,
    parameters: Parameters,
    expect: Expectation = NOTHING_EXPECTED,
) -> None:
    """Run ``statement`` in the connection's transaction without waiting for its answer.

    On psycopg it is queued (pipeline mode) and sent with the next statement that needs an
    answer, or with the ``COMMIT``; ``expect`` checks the rows it wrote and makes the caller's
    error for a broken constraint, both before anything is committed. Elsewhere it runs at
    once, with the same checks.
    """
    if not supports(connection):
        try:
            count = connection.execute(statement.clause, parameters).rowcount
        except exc.IntegrityError as error:
            if expect.refused is None:
                raise
            raise expect.refused(error) from error
        if expect.count is not None:
            expect.count(count)
        return
    _open(connection)
    converters = Converters.of(statement, connection.dialect)
    _run(connection, converters, converters.values(parameters), expect)


RowsCheck = Callable[[int, Sequence[Mapping[str, Any]]], None]
"""Called with the rows a held statement wrote (or matched) and the rows it was given; raises
if that is not what was expected."""


def every_row(failure: Callable[[str], Exception], key: str = "b_id") -> RowsCheck:
    """The check that a held statement wrote every row it was given; else ``failure`` of the
    rows' ``key`` values, quoted and comma-separated."""

    def check(written: int, rows: Sequence[Mapping[str, Any]]) -> None:
        if written != len(rows):
            raise failure(", ".join(repr(row[key]) for row in rows))

    return check


def hold(
    connection: Connection,
    key: Hashable,
    rows: Sequence[Mapping[str, Any]],
    build: Build,
    *,
    refused: Refusal | None = None,
    check: RowsCheck | None = None,
    distinct: str | None = None,
) -> None:
    """Write ``rows`` (same keys each) in the connection's transaction without waiting.

    On psycopg they are held, with the other rows held under the same ``key``, until the next
    statement that needs an answer or the ``COMMIT``; then written by ``build``'s statements,
    as many rows in each as ``MAX_ROWS_PER_INSERT`` allows, and checked (``check``,
    ``refused``) before anything is committed. A row whose ``distinct`` value is held already
    first sends what is held (a second write to one row goes after the first). Elsewhere at
    once, a statement per chunk.
    """
    if not rows:
        return
    if not supports(connection):
        for statement, parameters, chunk in chunked(build, rows):
            execute_later(connection, statement, parameters, _expectation(refused, check, chunk))
        return
    batch = _open(connection)
    found = batch.held.get(key)
    if found is not None and distinct and any(row[distinct] in found.distinct for row in rows):
        _release_held(connection)
        found = None
    if found is None:
        found = batch.held[key] = _Held([], build, refused, check)
    found.rows.extend(rows)
    found.refused = found.refused or refused  # the rows go in one statement
    if distinct:
        found.distinct.update(row[distinct] for row in rows)


def insert_later(
    connection: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    conflict: tuple[str, ...] | None = None,
    refused: Refusal | None = None,
) -> None:
    """``hold`` rows to insert into ``table`` (``conflict``: ``ON CONFLICT ... DO NOTHING``):
    the rows held for one table and columns are written as multi-row INSERTs."""
    if rows:
        columns = tuple(rows[0])
        hold(
            connection,
            (table, columns, conflict),
            rows,
            lambda n: insert(table, columns, n, conflict),
            refused=refused,
        )


def _expectation(
    refused: Refusal | None, check: RowsCheck | None, chunk: Sequence[Mapping[str, Any]]
) -> Expectation:
    if check is None:
        return Expectation(refused=refused)
    return Expectation(lambda written: check(written, chunk), refused)


def settle(connection: Connection) -> None:
    """Send the statements queued on this connection, wait for their answers and run their
    checks; raises what the first failed statement raises (its ``refused`` error if any)."""
    if not _BATCHES:  # nothing queued on any connection: the usual case, decided at once
        return
    driver = _driver(connection)
    if driver is None or driver not in _BATCHES:
        return
    _release_held(connection)
    batch = _BATCHES.pop(driver)
    try:
        batch.pipeline.__exit__(None, None, None)  # a Sync; psycopg reads every answer
    except connection.dialect.loaded_dbapi.Error as error:
        raise _failure(connection, batch, error) from error
    for pending in batch.pending:
        if pending.expect.count is not None:
            pending.expect.count(pending.cursor.rowcount)


def commit(connection: Connection) -> None:
    """Commit the connection's transaction; queued writes without checks go with the
    ``COMMIT`` in one round trip (a failure among them rolls everything back and is raised)."""
    if not _BATCHES:
        connection.commit()
        return
    driver = _driver(connection)
    batch = _BATCHES.get(driver) if driver is not None else None
    if batch is not None:
        _release_held(connection)
    if batch is not None and not any(p.expect.anything for p in batch.pending):
        # psycopg then finds the transaction over and sends nothing more.
        _send(connection, batch, _Pending(driver.cursor(), None), b"COMMIT", {})
    settle(connection)
    connection.commit()


def discard(connection: Connection) -> None:
    """Forget the queued statements (before a rollback): their answers are read and dropped."""
    if not _BATCHES:
        return
    driver = _driver(connection)
    batch = _BATCHES.pop(driver, None) if driver is not None else None
    if batch is not None:
        with suppress(Exception):
            batch.pipeline.__exit__(None, None, None)


@dataclass(slots=True)
class _Pending:
    cursor: Any
    statement: FixedStatement | None
    expect: Expectation = NOTHING_EXPECTED


@dataclass(slots=True)
class _Batch:
    """psycopg's pipeline on one connection, and the statements queued in it."""

    pipeline: AbstractContextManager[Any]
    pending: list[_Pending] = field(default_factory=list)
    held: dict[Hashable, _Held] = field(default_factory=dict)


@dataclass(slots=True)
class _Held:
    """Rows held under one key, not sent yet (``hold``)."""

    rows: list[Mapping[str, Any]]
    build: Build
    refused: Refusal | None
    check: RowsCheck | None
    distinct: set[Any] = field(default_factory=set)


def _release_held(connection: Connection) -> None:
    """Queue the rows held on this connection, key by key in the order their first rows came,
    as few statements as each key's rows allow (``hold``)."""
    if not _BATCHES:
        return
    batch = _BATCHES.get(connection.connection.driver_connection)
    if batch is None or not batch.held:
        return
    held, batch.held = batch.held, {}
    dialect = connection.dialect
    for rows in held.values():
        for chunk in row_chunks(rows.rows):
            converters = Converters.of(rows.build(len(chunk)), dialect)
            expect = _expectation(rows.refused, rows.check, chunk)
            _run(connection, converters, converters.rows_values(chunk), expect)


_BATCHES: weakref.WeakKeyDictionary[Any, _Batch] = weakref.WeakKeyDictionary()
_WATCHED: weakref.WeakSet[Engine] = weakref.WeakSet()


def _driver(connection: Connection) -> Any:
    """psycopg's connection under ``connection``, or None (another driver, closed, lost)."""
    if connection.closed or connection.invalidated or not supports(connection):
        return None
    return connection.connection.driver_connection


def _open(connection: Connection) -> _Batch:
    driver: Any = connection.connection.driver_connection
    batch = _BATCHES.get(driver)
    if batch is None:
        engine = connection.engine
        if engine not in _WATCHED:
            event.listen(engine, "before_cursor_execute", _settle_first)
            _WATCHED.add(engine)
        pipeline = driver.pipeline()
        pipeline.__enter__()
        batch = _BATCHES[driver] = _Batch(pipeline)
    return batch


def _failure(connection: Connection, batch: _Batch, error: Any) -> Exception:
    """The error to raise for a failed statement of ``batch``: the first one without an answer
    failed (psycopg gives no answer to those after it either); its ``refused`` error if any."""
    failed = next((p for p in batch.pending if p.cursor.pgresult is None), None)
    statement = failed.statement if failed is not None else None
    translated = _translated(connection, statement, {}, error, failed and failed.cursor)
    refused = failed.expect.refused if failed is not None else None
    if refused is not None and isinstance(translated, exc.IntegrityError):
        return refused(translated)
    return translated


def _settle_first(connection: Connection, *_: Any) -> None:
    """Before SQLAlchemy runs a statement of its own: the queued ones first, answered."""
    if _BATCHES:
        settle(connection)


def fetch_one(
    connection: Connection, statement: FixedStatement, parameters: Parameters
) -> Row | None:
    """The first row ``statement`` selects, by column name and converted by the columns' types,
    or None; raises as ``execute`` does."""
    if not supports(connection):
        return connection.execute(statement.clause, parameters).mappings().first()
    converters = Converters.of(statement, connection.dialect)
    cursor = _run(connection, converters, converters.values(parameters))
    settle(connection)
    row = cursor.fetchone()
    return None if row is None else _read(converters, cursor, [row])[0]


def fetch_all(
    connection: Connection, statement: FixedStatement, parameters: Parameters
) -> list[Row]:
    """Every row ``statement`` selects (or returns), by column name and converted by the
    columns' types; raises as ``execute`` does."""
    if not supports(connection):
        return [dict(row) for row in connection.execute(statement.clause, parameters).mappings()]
    converters = Converters.of(statement, connection.dialect)
    cursor = _run(connection, converters, converters.values(parameters))
    settle(connection)
    rows = cursor.fetchall()
    return _read(converters, cursor, rows) if rows else []


def _read(converters: Converters, cursor: Any, rows: Sequence[Sequence[Any]]) -> list[Row]:
    """``rows`` as read from ``cursor``, by column name and converted by the columns' types."""
    results = converters.results or converters.read(cursor.description)
    names = converters.names
    return [
        {
            name: value if process is None else process(value)
            for name, process, value in zip(names, results, row, strict=True)
        }
        for row in rows
    ]


def _run(
    connection: Connection,
    converters: Converters,
    values: Sequence[Any],
    expect: Expectation = NOTHING_EXPECTED,
) -> Any:
    """Execute on psycopg's cursor with the converted ``values`` of its ``$n`` markers
    (``Converters.values``), translating its errors; in a batch (pipeline mode) the statement
    is only queued, and its answer awaited by ``settle``. Rows held on the connection
    (``hold``) are sent first."""
    statement = converters.statement
    _release_held(connection)  # what was held for earlier goes first (none while releasing)
    dbapi_connection: Any = connection.connection.driver_connection
    batch = _BATCHES.get(dbapi_connection) if _BATCHES else None
    pending = _Pending(_raw_cursor()(dbapi_connection), statement, expect)
    _send(connection, batch, pending, converters.sql, values)
    return pending.cursor


@functools.cache
def _raw_cursor() -> Any:
    """psycopg's ``RawCursor``: it sends a statement's ``$n`` markers as written, where the
    default cursor parses every statement's text for its ``%(name)s`` markers on each call
    (cached only for short texts, so never for a multi-row INSERT)."""
    from psycopg import RawCursor  # noqa: PLC0415 - a process on SQLite only never loads psycopg

    return RawCursor


def _send(
    connection: Connection,
    batch: _Batch | None,
    pending: _Pending,
    sql: Any,
    values: Parameters | Sequence[Any],
) -> None:
    """Execute on the pending statement's cursor (queued when in ``batch``)."""
    if batch is not None:
        batch.pending.append(pending)
    try:
        pending.cursor.execute(sql, values)
    except connection.dialect.loaded_dbapi.Error as error:
        if batch is None:
            raise _translated(
                connection, pending.statement, values, error, pending.cursor
            ) from error
        # In pipeline mode psycopg may meet the error of a statement queued before this one
        # while sending it: the batch has failed; leave pipeline mode and say which failed.
        _BATCHES.pop(connection.connection.driver_connection, None)
        with suppress(Exception):
            batch.pipeline.__exit__(None, None, None)
        raise _failure(connection, batch, error) from error


def _translated(
    connection: Connection,
    statement: FixedStatement | None,
    values: Parameters | Sequence[Any],
    error: Any,
    cursor: Any,
) -> exc.StatementError:
    """The SQLAlchemy exception ``Connection.execute`` would raise for a driver's ``error``; a
    lost connection is invalidated."""
    if not isinstance(values, Mapping):  # by $n marker: named again for the message
        names = statement.numbered[1] if statement is not None else ()
        values = dict(zip(names, values, strict=False))
    dialect = connection.dialect
    lost = dialect.is_disconnect(error, connection.connection.driver_connection, cursor)
    if lost:
        connection_lost(connection, error)
    translated: exc.StatementError = exc.DBAPIError.instance(
        statement.sql if statement is not None else "COMMIT",
        dict(values),
        error,
        dialect.loaded_dbapi.Error,
        connection_invalidated=lost,
        dialect=dialect,
    )
    return translated
