"""PostgreSQL connections: no ping on every checkout, yet dead ones are replaced; a rollback
keeps the prepared statements."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

from payments.adapters.sql import engine as engine_module
from payments.adapters.sql.engine import make_engine, rollback
from payments.adapters.sql.unit_of_work import SqlUnitOfWork

pytestmark = pytest.mark.postgres


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(admin: Engine, pid: int) -> None:
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
        connection.commit()


def test_a_connection_killed_while_idle_in_the_pool_is_replaced_before_use(
    postgres_database_url: str, postgres_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "IDLE_PING_SECONDS", 0.0)
    engine = make_engine(postgres_database_url)
    try:
        killed = _backend_pid(engine)
        _terminate(postgres_engine, killed)

        assert _backend_pid(engine) != killed  # pinged on checkout, replaced, no error
    finally:
        engine.dispose()


def test_a_connection_used_a_moment_ago_is_not_pinged_and_one_failure_renews_the_pool(
    postgres_database_url: str, postgres_engine: Engine
) -> None:
    engine = make_engine(postgres_database_url)
    try:
        with engine.connect() as first, engine.connect() as second:
            pids = {
                int(first.execute(text("SELECT pg_backend_pid()")).scalar_one()),
                int(second.execute(text("SELECT pg_backend_pid()")).scalar_one()),
            }
            first.rollback()
            second.rollback()
        for pid in pids:
            _terminate(postgres_engine, pid)

        with pytest.raises(DBAPIError) as failed, engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        assert failed.value.connection_invalidated

        # The disconnect invalidated every pooled connection: the next ones are new and work.
        with engine.connect() as first, engine.connect() as second:
            now = {
                int(first.execute(text("SELECT pg_backend_pid()")).scalar_one()),
                int(second.execute(text("SELECT pg_backend_pid()")).scalar_one()),
            }
        assert not now & pids
    finally:
        engine.dispose()


def _prepared(connection: Connection) -> set[str]:
    rows = connection.execute(text("SELECT statement FROM pg_prepared_statements"))
    return {statement for (statement,) in rows}


def test_a_rollback_undoes_the_transaction_and_keeps_the_prepared_statements(
    postgres_engine: Engine,
) -> None:
    with postgres_engine.connect() as connection:
        for _ in range(6):  # psycopg prepares a statement on its fifth execution
            connection.execute(text("SELECT count(*) FROM customers WHERE id = :id"), {"id": "x"})
            connection.commit()
        prepared = _prepared(connection)
        connection.commit()
        assert any("FROM customers" in statement for statement in prepared)
        connection.execute(
            text("INSERT INTO customers (id, created_at) VALUES ('cus_rolled_back', now())")
        )

        rollback(connection)

        assert not connection.execute(
            text("SELECT count(*) FROM customers WHERE id = 'cus_rolled_back'")
        ).scalar_one()
        assert prepared <= _prepared(connection)
        connection.rollback()


def test_a_lost_connection_met_by_a_repository_renews_the_pool(
    postgres_database_url: str, postgres_engine: Engine
) -> None:
    engine = make_engine(postgres_database_url)
    try:
        with engine.connect() as first, engine.connect() as second:
            pids = {
                int(first.execute(text("SELECT pg_backend_pid()")).scalar_one()),
                int(second.execute(text("SELECT pg_backend_pid()")).scalar_one()),
            }
            first.rollback()
            second.rollback()
        for pid in pids:
            _terminate(postgres_engine, pid)

        # Repositories run their fixed statements straight on psycopg (direct.py).
        with pytest.raises(DBAPIError) as failed, SqlUnitOfWork(engine) as uow:
            uow.products.get("prd_none")
        assert failed.value.connection_invalidated

        with SqlUnitOfWork(engine) as uow:
            assert uow.products.get("prd_none") is None
        with engine.connect() as first, engine.connect() as second:
            now = {
                int(first.execute(text("SELECT pg_backend_pid()")).scalar_one()),
                int(second.execute(text("SELECT pg_backend_pid()")).scalar_one()),
            }
        assert not now & pids  # the other pooled connection was replaced too, unused
    finally:
        engine.dispose()
