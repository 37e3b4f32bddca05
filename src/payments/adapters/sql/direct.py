"""Fixed statements run straight on psycopg's cursor, for the hot paths on PostgreSQL.

SQLAlchemy compiles each statement once; the columns' own types convert the parameters and
the selected values (exact decimals, UTC times), and a failure comes out as the SQLAlchemy
exception ``Connection.execute`` would raise, with a lost connection invalidated. What is
skipped is SQLAlchemy's per-call work (cache key, execution context, result metadata): about
0.1 ms of CPU per statement, a fifth of a webhook's. SQLAlchemy's engine events do not see
these statements. Only for statements built once (module constants or cached builders).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect, Executable, exc
from sqlalchemy.sql.compiler import SQLCompiler

from payments.adapters.sql.engine import connection_lost

Convert = Callable[[Any], Any]


def supports(connection: Connection) -> bool:
    """Whether ``execute`` can run statements on this connection (psycopg, named parameters)."""
    dialect = connection.dialect
    return dialect.driver == "psycopg" and dialect.paramstyle == "pyformat"


class _Compiled:
    """One statement compiled for one dialect, with what converts its parameters and columns
    (the dialect's own processors, as ``Connection.execute`` uses them)."""

    __slots__ = ("binds", "columns", "compiled", "dialect", "results", "sql", "statement")

    def __init__(self, statement: Executable, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        if not isinstance(compiled, SQLCompiler) or compiled.escaped_bind_names:
            raise ValueError(f"Not a statement to run directly: {compiled}")
        if compiled.post_compile_params or compiled.literal_execute_params:
            raise ValueError(f"Its parameters are rendered per call: {compiled}")
        self.statement = statement
        self.dialect = dialect
        self.compiled = compiled
        self.sql = compiled.string
        self.binds = tuple(
            (name, process)
            for name, bind in compiled.binds.items()
            if (process := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        )
        self.columns = tuple(column.key for column in getattr(statement, "selected_columns", ()))
        # Known from the first result: a processor may depend on the type the server reports.
        self.results: tuple[Convert | None, ...] | None = None

    def result_processors(self, description: Sequence[Any]) -> tuple[Convert | None, ...]:
        if self.results is None:
            selected = self.statement.selected_columns  # type: ignore[attr-defined]
            self.results = tuple(
                column.type.dialect_impl(self.dialect).result_processor(
                    self.dialect, described.type_code
                )
                for column, described in zip(selected, description, strict=True)
            )
        return self.results


# Keyed by identity: the statements live as long as the process, and are kept in the value, so
# an id is never reused for another statement.
_COMPILED: dict[tuple[int, int], _Compiled] = {}


def _compiled(statement: Executable, dialect: Dialect) -> _Compiled:
    found = _COMPILED.get((id(statement), id(dialect)))
    if found is None or found.statement is not statement or found.dialect is not dialect:
        found = _COMPILED[(id(statement), id(dialect))] = _Compiled(statement, dialect)
    return found


class Result:
    """What a statement did: its row count, and for a SELECT its rows as column mappings."""

    __slots__ = ("_compiled", "_cursor")

    def __init__(self, compiled: _Compiled, cursor: Any) -> None:
        self._compiled = compiled
        self._cursor = cursor

    @property
    def rowcount(self) -> int:
        """Rows the statement wrote (or matched, for an UPDATE)."""
        count: int = self._cursor.rowcount
        return count

    def first(self) -> dict[str, Any] | None:
        """The first row, converted by its columns' types, or None."""
        row = self._cursor.fetchone()
        if row is None:
            return None
        compiled = self._compiled
        results = compiled.results or compiled.result_processors(self._cursor.description)
        return {
            name: value if process is None else process(value)
            for name, process, value in zip(compiled.columns, results, row, strict=True)
        }


def execute(connection: Connection, statement: Executable, parameters: Mapping[str, Any]) -> Result:
    """Run a fixed ``statement`` in the connection's transaction (``supports`` must hold).

    Raises what ``Connection.execute`` raises: ``StatementError`` for a value a column's type
    refuses, ``IntegrityError`` for a broken constraint, ``DBAPIError`` with
    ``connection_invalidated`` when the server went away.
    """
    compiled = _compiled(statement, connection.dialect)
    values = compiled.compiled.construct_params(parameters)
    try:
        for name, process in compiled.binds:
            values[name] = process(values[name])
    except Exception as error:  # a value the column refuses (an amount it would round)
        raise exc.StatementError(
            f"({type(error).__module__}.{type(error).__name__}) {error}",
            compiled.sql,
            dict(parameters),
            error,
        ) from error
    dbapi_connection: Any = connection.connection.driver_connection
    cursor = dbapi_connection.cursor()
    dbapi = connection.dialect.loaded_dbapi
    try:
        cursor.execute(compiled.sql, values)
    except dbapi.Error as error:
        lost = connection.dialect.is_disconnect(error, dbapi_connection, cursor)
        if lost:
            connection_lost(connection, error)
        raise exc.DBAPIError.instance(
            compiled.sql,
            values,
            error,
            dbapi.Error,
            connection_invalidated=lost,
            dialect=connection.dialect,
        ) from error
    return Result(compiled, cursor)
