"""The PostgreSQL pool without a per-checkout ping: dead connections are replaced, not reused."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from payments.adapters.sql import engine as engine_module
from payments.adapters.sql.engine import make_engine

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
