"""One pooled connection for every unit of work of a request (``lending``), on PostgreSQL.

A checkout runs five units of work one after the other on one thread (the key lookup, the
Idempotency-Key claim, the purchase, its start, the stored answer). Each took a connection from
the pool and gave it back: SQLAlchemy's ``Connection``, the pool's checkout and checkin, their
events and the reset on return cost about a fifth of the request's CPU. Inside ``lending()``
the first unit of work of a thread borrows a connection from the pool as before and keeps it
for the others until the block ends, when it goes back to the pool as any connection does.

Only between units: a unit of work nested in another (on the same thread) takes its own from
the pool, as before. A unit whose statements each stand alone (``single_statement_engine``)
runs on the same connection in autocommit mode, switched on psycopg's connection (no round
trip) and switched back before the connection returns to the pool.

What the pool checks when it lends a connection is checked again before each unit: a
connection invalidated (its server went away) or opened before a lost connection was reported
(``engine.connection_lost``) is given back and another borrowed; one idle for more than
``engine.IDLE_PING_SECONDS`` (a slow provider call between two units) is pinged first, and
replaced, with every pooled one opened before, if the ping fails. Outside ``lending()``, on
SQLite and on any other engine, units of work connect as they always did.
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from typing import Any

from sqlalchemy import Connection, Engine

from payments.adapters.sql import engine as engines

log = logging.getLogger(__name__)

_LOCAL = threading.local()
"""``loans``: this thread's loans by pool while it lends, else absent or None."""

_TARGETS: weakref.WeakKeyDictionary[Engine, tuple[Engine, bool] | None] = (
    weakref.WeakKeyDictionary()
)
"""Per engine a unit of work was given: the engine to borrow from and whether in autocommit
(``single_statement_engine``'s), or None when its units do not borrow."""


class Lending:
    """``with lending():`` the units of work this thread runs in the block share a connection
    per pool; nested blocks are the outer one's."""

    __slots__ = ("_outer",)

    def __init__(self) -> None:
        self._outer = True

    def __enter__(self) -> None:
        self._outer = getattr(_LOCAL, "loans", None) is None
        if self._outer:
            _LOCAL.loans = {}

    def __exit__(self, *exc_info: object) -> None:
        if not self._outer:
            return
        loans: dict[Any, Loan] = _LOCAL.loans
        _LOCAL.loans = None
        for loan in loans.values():
            loan.end()


def lending() -> Lending:
    """A block in which this thread's units of work share one pooled connection (see above)."""
    return Lending()


class Loan:
    """A connection lent to this thread until its ``lending()`` block ends."""

    __slots__ = ("autocommit", "busy", "connection", "engine", "lent_at", "pool", "returned_at")

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.pool = engine.pool
        self.connection: Connection = engine.connect()
        self.lent_at = self.returned_at = time.monotonic()
        self.autocommit = False
        self.busy = False

    def give_back(self, healthy: bool) -> None:
        """The unit of work is over; ``healthy``: its connection was left as it found it."""
        self.busy = False
        self.returned_at = time.monotonic()
        if not healthy or self.connection.invalidated:
            loans = getattr(_LOCAL, "loans", None)
            if loans is not None and loans.get(self.pool) is self:
                del loans[self.pool]
            self.end()

    def usable(self) -> bool:
        """Whether the connection may serve another unit of work (see the module's text)."""
        connection = self.connection
        if connection.invalidated or connection.closed:
            return False
        lost = engines.lost_at(self.pool)
        if lost is not None and lost >= self.lent_at:
            return False
        if time.monotonic() - self.returned_at < engines.IDLE_PING_SECONDS:
            return True
        try:
            self.engine.dialect.do_ping(connection.connection.dbapi_connection)  # type: ignore[arg-type]
        except Exception as error:
            engines.connection_lost(connection, error)
            return False
        return True

    def switch(self, autocommit: bool) -> None:
        """Statements in a transaction, or each its own (psycopg's connection is idle here)."""
        if autocommit is not self.autocommit:
            self.connection.connection.driver_connection.autocommit = autocommit  # type: ignore[union-attr]
            self.autocommit = autocommit

    def end(self) -> None:
        """Give the connection back to the pool as it was lent (autocommit off)."""
        connection = self.connection
        try:
            if self.autocommit and not (connection.invalidated or connection.closed):
                self.switch(False)
        except Exception:
            log.warning("a lent connection could not leave autocommit", exc_info=True)
            connection.invalidate()
        finally:
            try:
                connection.close()
            except Exception:
                log.warning("a lent connection could not be given back", exc_info=True)


def borrow(engine: Engine) -> Loan | None:
    """This thread's connection for a unit of work on ``engine``, switched to what ``engine``
    runs (a transaction, or autocommit), marked busy until ``Loan.give_back``; None outside
    ``lending()``, while the connection serves another unit, and for engines that do not lend."""
    loans: dict[Any, Loan] | None = getattr(_LOCAL, "loans", None)
    if loans is None:
        return None
    try:
        target = _TARGETS[engine]
    except KeyError:
        target = _TARGETS[engine] = _target(engine)
    if target is None:
        return None
    lender, autocommit = target
    loan = loans.get(lender.pool)
    if loan is not None:
        if loan.busy:
            return None
        if not loan.usable():
            del loans[loan.pool]
            loan.end()
            loan = None
    if loan is None:
        loan = Loan(lender)
        loans[loan.pool] = loan
    try:
        loan.switch(autocommit)
    except Exception:
        del loans[loan.pool]
        loan.end()
        raise
    loan.busy = True
    return loan


def _target(engine: Engine) -> tuple[Engine, bool] | None:
    """Where ``engine``'s units borrow from: psycopg engines without execution options, and
    ``single_statement_engine``'s (their base engine's connection, in autocommit)."""
    if engine.dialect.name != "postgresql" or engine.dialect.driver != "psycopg":
        return None
    base = engines.single_statement_base(engine)
    if base is not None:
        return base, True
    if engine.get_execution_options():
        return None
    return engine, False
