"""The conversions of a fixed statement's parameters and columns on one dialect (``direct.py``).

A statement's parameters are converted by their columns' types (SQLAlchemy's public
``bind_processor``) into the values of its ``$n`` markers, in their order: from named
parameters (``values``), or, for a statement that writes several rows of the same keys
(``statements.Build``), from the rows themselves (``rows_values``): each row's values taken in
column order at once and converted by position, without naming every value ``<key>_<i>`` first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from operator import itemgetter
from typing import Any, ClassVar

from sqlalchemy import Dialect, exc

from payments.adapters.sql.statements import FixedStatement, named_rows

Convert = Callable[[Any], Any]


class Converters:
    """The conversions of one statement's parameters and columns on one dialect."""

    __slots__ = ("dialect", "layout", "names", "ordered", "results", "sql", "statement")
    _cache: ClassVar[dict[tuple[int, int], Converters]] = {}

    def __init__(self, statement: FixedStatement, dialect: Dialect) -> None:
        self.statement = statement
        self.dialect = dialect
        self.names = tuple(column.name for column in statement.columns)
        # The parameters in the order of their $n markers, each with its conversion (or None).
        self.sql, order = statement.numbered
        self.ordered = tuple(
            (name, statement.parameters[name].dialect_impl(dialect).bind_processor(dialect))
            for name in order
        )
        # Known from the first result: a processor may depend on the type the server reports.
        self.results: tuple[Convert | None, ...] | None = None
        self.layout: _Layout | None = None

    @classmethod
    def of(cls, statement: FixedStatement, dialect: Dialect) -> Converters:
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

    def values(self, parameters: Mapping[str, Any]) -> list[Any]:
        """The values of the ``$n`` markers, converted; ``StatementError`` for a value a
        column refuses (an amount it would round), as ``Connection.execute`` raises."""
        try:
            return [
                parameters[name] if process is None else process(parameters[name])
                for name, process in self.ordered
            ]
        except Exception as error:
            raise self._refused(parameters, error) from error

    def rows_values(self, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        """``values`` of the parameters ``chunked`` names for ``rows`` (same keys each), this
        statement being the one built for ``len(rows)`` rows: taken from each row by position."""
        layout = self.layout
        if layout is None or layout.rows != len(rows):
            layout = self.layout = _Layout.of(self.statement, self.ordered, len(rows))
        if layout.take is None:  # not a row-major list of the same keys: by name
            return self.values(named_rows(rows))
        take, converted = layout.take, layout.converted
        values: list[Any] = []
        try:
            for row in rows:
                taken = list(take(row))
                for index, process in converted:
                    taken[index] = process(taken[index])
                values += taken
        except Exception as error:
            raise self._refused(named_rows(rows), error) from error
        return values

    def _refused(self, parameters: Mapping[str, Any], error: Exception) -> exc.StatementError:
        return exc.StatementError(
            f"({type(error).__module__}.{type(error).__name__}) {error}",
            self.statement.sql,
            dict(parameters),
            error,
        )


class _Layout:
    """How a statement written for ``rows`` rows takes its values: each row's keys in order
    (``take``, an ``itemgetter``) and the conversions by position; ``take`` is None when its
    markers are not rows of the same keys one after the other (then named, as ``chunked``
    names them)."""

    __slots__ = ("converted", "rows", "take")

    def __init__(
        self, rows: int, take: Callable[[Any], Any] | None, converted: tuple[Any, ...]
    ) -> None:
        self.rows = rows
        self.take = take
        self.converted = converted

    @classmethod
    def of(
        cls, statement: FixedStatement, ordered: Sequence[tuple[str, Convert | None]], rows: int
    ) -> _Layout:
        width = len(ordered) // rows if rows else 0
        if width < 2 or width * rows != len(ordered):
            return cls(rows, None, ())
        first = ordered[:width]
        keys = [name.removesuffix("_0") if rows > 1 else name for name, _ in first]
        for row in range(rows):
            names = [f"{key}_{row}" if rows > 1 else key for key in keys]
            group = ordered[row * width : (row + 1) * width]
            types = statement.parameters
            if [name for name, _ in group] != names or any(
                types[name] is not types[named]
                for name, (named, _) in zip(names, first, strict=True)
            ):
                return cls(rows, None, ())
        converted = tuple((i, process) for i, (_, process) in enumerate(first) if process)
        return cls(rows, itemgetter(*keys), converted)
