"""Engines for SQLite (embedded) and PostgreSQL (scale-out), configured for safe transactions."""

from __future__ import annotations

import contextlib
import threading
import time
import weakref
from typing import Any

from psycopg import pq
from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import ConnectionPoolEntry, Pool, StaticPool

SQLITE_BUSY_TIMEOUT_SECONDS = 30
IDLE_PING_SECONDS = 5.0
"""A pooled PostgreSQL connection idle for longer than this is pinged before it is lent again."""


READS_ONLY = "payments_reads_only"
"""An execution option: this connection only reads, so on SQLite it need not take the write
lock (``connection.execution_options(**{READS_ONLY: True})``)."""


def make_engine(url: str) -> Engine:
    """An engine for ``url``: ``sqlite:///path``, ``sqlite://`` (in memory) or PostgreSQL.

    SQLite: every transaction starts with ``BEGIN IMMEDIATE`` (writers queue up instead of
    failing with "database is locked" half-way), WAL for file databases, a 30 s busy timeout and
    enforced foreign keys. An in-memory database lives on one connection (``StaticPool``), which
    threads take in turn. PostgreSQL (``postgresql://`` means psycopg 3): a pool in which a
    connection that sat idle for more than ``IDLE_PING_SECONDS`` is pinged before it is lent
    again, and a dead one replaced.

    Why not ``pool_pre_ping`` on PostgreSQL: it costs a round trip on every checkout, about 6 %
    of a webhook's CPU under load, to guard against a server that went away while the
    connection was in use a moment ago, which is rare. When that happens, the first statement on
    the dead connection fails (a notification is then stored as failed from a fresh connection
    and retried by the worker, or answered 503 ``storage_unavailable`` if even that fails, and
    the provider delivers it again); the disconnect invalidates the whole pool, so the requests
    after it get new connections.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "postgresql":
        engine = create_engine(
            parsed,
            pool_size=10,
            max_overflow=20,
            pool_recycle=1800,
            pool_use_lifo=True,
            connect_args={"connect_timeout": 10, "application_name": "payments"},
        )
        _ping_after_idle(engine, IDLE_PING_SECONDS)
        return engine
    return create_engine(parsed, pool_pre_ping=True)


def single_statement_engine(engine: Engine) -> Engine:
    """``engine``'s pool, whose connections run each statement in a transaction of its own
    (autocommit) on PostgreSQL: a unit of work on it sends no ``BEGIN`` and no ``ROLLBACK`` or
    ``COMMIT``, two round trips fewer, for steps whose every statement stands alone (a lookup;
    a write whose effect no later statement of the step depends on being undone). SQLite's
    engine is returned as it is (its ``BEGIN`` hook is what keeps writers in turn)."""
    if engine.dialect.name != "postgresql":
        return engine
    single = engine.execution_options(isolation_level="AUTOCOMMIT")
    _SINGLE_BASES[single] = engine
    return single


_SINGLE_BASES: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()
"""The engine each of ``single_statement_engine``'s engines was made from."""


def single_statement_base(engine: Engine) -> Engine | None:
    """The engine ``engine`` was made from by ``single_statement_engine``, else None."""
    return _SINGLE_BASES.get(engine)


_LOST: weakref.WeakKeyDictionary[Pool, float] = weakref.WeakKeyDictionary()
"""When a statement run outside SQLAlchemy last found the server gone, per pool."""


def lost_at(pool: Pool) -> float | None:
    """When a lost connection of ``pool`` was last reported (``connection_lost``), if ever."""
    return _LOST.get(pool)


def connection_lost(connection: Connection, error: BaseException) -> None:
    """A statement run outside SQLAlchemy (``direct.py``) found the server gone: invalidate
    this connection and, on their next checkout, every pooled one opened before now, as
    SQLAlchemy does when its own statements meet a disconnect."""
    _LOST[connection.engine.pool] = time.monotonic()
    connection.invalidate(error)


def _ping_after_idle(engine: Engine, idle_seconds: float) -> None:
    """Ping a pooled connection on checkout only when it was idle for ``idle_seconds``, and
    replace one opened before a lost connection was reported (``connection_lost``).

    Under load connections come back within milliseconds and are never pinged; after a quiet
    spell (when a restarted server or a firewall may have dropped them) they are.
    """

    @event.listens_for(engine, "connect")
    def _opened(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["opened_at"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _returned(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _lent(dbapi_connection: Any, record: ConnectionPoolEntry, proxy: Any) -> None:
        lost = _LOST.get(engine.pool)
        if lost is not None and record.info.get("opened_at", lost) < lost:
            raise exc.DisconnectionError("opened before the server was lost")  # replaced
        returned = record.info.get("returned_at")
        if returned is None or time.monotonic() - returned < idle_seconds:
            return  # fresh from connect(), or used a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool replaces this connection and every one opened before now, and retries.
            raise exc.InvalidatePoolError(str(error)) from error


def rollback(connection: Connection) -> None:
    """Roll back ``connection``'s transaction, keeping psycopg's prepared statements.

    psycopg answers every ``rollback()`` with ``DEALLOCATE ALL`` (in case the transaction
    changed the schema a statement was planned on): one more round trip, and every statement
    after it is parsed and planned again until it is prepared anew, five executions later. Our
    transactions never change the schema, and PostgreSQL keeps prepared statements across a
    rollback, so on psycopg the ROLLBACK is sent through libpq, and psycopg's own rollback then
    finds nothing left to do. A failed transaction goes psycopg's way: a statement psycopg
    prepared in a pipeline that failed before it may never have been prepared by the server.
    Anything unexpected falls back to psycopg's way too.
    """
    if connection.dialect.driver == "psycopg" and not connection.invalidated:
        with contextlib.suppress(Exception):
            pgconn = connection.connection.driver_connection.pgconn  # type: ignore[union-attr]
            if (
                pgconn.transaction_status == pq.TransactionStatus.INTRANS
                and pgconn.pipeline_status == pq.PipelineStatus.OFF
            ):
                pgconn.exec_(b"ROLLBACK")
    connection.rollback()


def _is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:") or url.query.get("mode") == "memory"


def _sqlite_engine(url: URL) -> Engine:
    in_memory = _is_memory(url)
    connect_args: dict[str, Any] = {
        "check_same_thread": False,
        "timeout": SQLITE_BUSY_TIMEOUT_SECONDS,
    }
    if in_memory:
        engine = create_engine(url, connect_args=connect_args, poolclass=_TurnTakingStaticPool)
    else:
        engine = create_engine(url, connect_args=connect_args)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, connection_record: Any) -> None:
        # Take BEGIN away from pysqlite (it defers it and skips it for SELECT and DDL) so that
        # the "begin" hook below starts every transaction itself.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
            cursor.execute("PRAGMA foreign_keys = ON")
            if not in_memory:
                cursor.execute("PRAGMA journal_mode = WAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # Take the write lock up front: a transaction that read and then writes can never be
        # refused half-way because another writer got there first. A connection that only
        # reads (READS_ONLY) begins deferred: in WAL it reads a snapshot and never waits for the
        # writer, which may be the same thread (the sandbox clock read inside a unit of work).
        if connection.get_execution_options().get(READS_ONLY):
            connection.exec_driver_sql("BEGIN DEFERRED")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class _TurnTakingStaticPool(StaticPool):
    """The one connection of an in-memory database, lent to one thread at a time.

    A plain ``StaticPool`` hands the same connection to every thread at once, so one thread's
    statements would land in another's transaction.
    """

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._turn = threading.RLock()

    def _do_get(self) -> ConnectionPoolEntry:
        self._turn.acquire()
        try:
            return super()._do_get()
        except BaseException:
            self._turn.release()
            raise

    def _do_return_conn(self, record: ConnectionPoolEntry) -> None:
        try:
            super()._do_return_conn(record)
        finally:
            # RuntimeError: returned by another thread (garbage collection), nothing to release.
            with contextlib.suppress(RuntimeError):
                self._turn.release()
