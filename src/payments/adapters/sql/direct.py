"""The one seam that runs a fixed statement: straight on psycopg on PostgreSQL, else SQLAlchemy.

On psycopg the statement's text is sent as written (``FixedStatement.pyformat``); the columns'
own types convert the parameters and the values read back (exact decimals, UTC times), with
SQLAlchemy's public type API (``bind_processor``, ``result_processor``). A failure comes out as
the SQLAlchemy exception ``Connection.execute`` would raise, with a lost connection
invalidated. What is skipped is SQLAlchemy's per-call work (cache key, execution context,
result metadata): about 0.1 ms of CPU per statement, a fifth of a webhook's. SQLAlchemy's engine
events do not see these statements. Any other driver runs the same text through SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar

from sqlalchemy import Connection, Dialect, exc

from payments.adapters.sql.engine import connection_lost
from payments.adapters.sql.mappers import Row
from payments.adapters.sql.statements import FixedStatement

Convert = Callable[[Any], Any]
Parameters = Mapping[str, Any]


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
    converters = _Converters.of(statement, connection.dialect)
    count: int = _run(connection, converters, parameters).rowcount
    return count


def fetch_one(
    connection: Connection, statement: FixedStatement, parameters: Parameters
) -> Row | None:
    """The first row ``statement`` selects, by column name and converted by the columns' types,
    or None; raises as ``execute`` does."""
    if not supports(connection):
        return connection.execute(statement.clause, parameters).mappings().first()
    converters = _Converters.of(statement, connection.dialect)
    cursor = _run(connection, converters, parameters)
    row = cursor.fetchone()
    if row is None:
        return None
    results = converters.results or converters.read(cursor.description)
    return {
        name: value if process is None else process(value)
        for name, process, value in zip(converters.names, results, row, strict=True)
    }


class _Converters:
    """The conversions of one statement's parameters and columns on one dialect."""

    __slots__ = ("binds", "dialect", "names", "results", "statement")
    _cache: ClassVar[dict[tuple[int, int], _Converters]] = {}

    def __init__(self, statement: FixedStatement, dialect: Dialect) -> None:
        self.statement = statement
        self.dialect = dialect
        self.binds = tuple(
            (name, process)
            for name, type_ in statement.parameters.items()
            if (process := type_.dialect_impl(dialect).bind_processor(dialect)) is not None
        )
        self.names = tuple(column.name for column in statement.columns)
        # Known from the first result: a processor may depend on the type the server reports.
        self.results: tuple[Convert | None, ...] | None = None

    @classmethod
    def of(cls, statement: FixedStatement, dialect: Dialect) -> _Converters:
        # Keyed by identity: the statements live as long as the process and are kept in the
        # value, so an id is never reused for another statement while it is cached.
        key = (id(statement), id(dialect))
        found = cls._cache.get(key)
        if found is None or found.statement is not statement or found.dialect is not dialect:
            found = cls._cache[key] = cls(statement, dialect)
        return found

    def read(self, description: Sequence[Any]) -> tuple[Convert | None, ...]:
        self.results = tuple(
            column.type.dialect_impl(self.dialect).result_processor(
                self.dialect, described.type_code
            )
            for column, described in zip(self.statement.columns, description, strict=True)
        )
        return self.results


def _run(connection: Connection, converters: _Converters, parameters: Parameters) -> Any:
    """Execute on psycopg's cursor, converting the parameters and translating its errors."""
    statement = converters.statement
    dialect = connection.dialect
    values = dict(parameters)
    try:
        for name, process in converters.binds:
            values[name] = process(values[name])
    except Exception as error:  # a value the column refuses (an amount it would round)
        raise exc.StatementError(
            f"({type(error).__module__}.{type(error).__name__}) {error}",
            statement.sql,
            dict(parameters),
            error,
        ) from error
    dbapi_connection: Any = connection.connection.driver_connection
    cursor = dbapi_connection.cursor()
    dbapi = dialect.loaded_dbapi
    try:
        cursor.execute(statement.pyformat, values)
    except dbapi.Error as error:
        lost = dialect.is_disconnect(error, dbapi_connection, cursor)
        if lost:
            connection_lost(connection, error)
        raise exc.DBAPIError.instance(
            statement.sql,
            values,
            error,
            dbapi.Error,
            connection_invalidated=lost,
            dialect=dialect,
        ) from error
    return cursor
