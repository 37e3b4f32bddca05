"""One pooled connection for a request's units of work (``lending``): shared between units,
never by nested ones, given back to the pool as it was lent, and replaced when its server went
away, as the pool replaces one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from payments.adapters.sql import engine as engine_module
from payments.adapters.sql.engine import make_engine, single_statement_engine
from payments.adapters.sql.lending import lending
from payments.adapters.sql.unit_of_work import SqlUnitOfWork

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine(postgres_database_url: str) -> Iterator[Engine]:
    engine = make_engine(postgres_database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def _pid(uow: SqlUnitOfWork) -> int:
    connection = uow._connection
    assert connection is not None
    return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _autocommit(uow: SqlUnitOfWork) -> bool:
    connection = uow._connection
    assert connection is not None
    return bool(connection.connection.driver_connection.autocommit)  # type: ignore[union-attr]


def _terminate(admin: Engine, pid: int) -> None:
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
        connection.commit()


def test_the_units_of_a_block_share_one_connection_and_nested_ones_take_their_own(
    engine: Engine,
) -> None:
    single = single_statement_engine(engine)
    with lending():
        with SqlUnitOfWork(single) as uow:
            first = _pid(uow)
            assert _autocommit(uow)
            with SqlUnitOfWork(engine) as nested:
                assert _pid(nested) != first
                assert not _autocommit(nested)
        with SqlUnitOfWork(engine) as uow:
            assert _pid(uow) == first
            assert not _autocommit(uow)
        with SqlUnitOfWork(single) as uow:
            assert _pid(uow) == first
            assert _autocommit(uow)
        assert engine.pool.checkedout() == 1  # type: ignore[attr-defined]
    assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    with engine.connect() as connection:  # the pool's most recent one: autocommit off again
        assert not connection.connection.driver_connection.autocommit  # type: ignore[union-attr]


def test_a_unit_that_committed_leaves_its_work_and_one_that_did_not_leaves_nothing(
    engine: Engine,
) -> None:
    with lending():
        with SqlUnitOfWork(engine) as uow:
            assert uow._connection is not None
            uow._connection.execute(
                text("INSERT INTO customers (id, created_at) VALUES ('cus_kept', now())")
            )
            uow.commit()
        with SqlUnitOfWork(engine) as uow:
            assert uow._connection is not None
            uow._connection.execute(
                text("INSERT INTO customers (id, created_at) VALUES ('cus_dropped', now())")
            )
        with SqlUnitOfWork(single_statement_engine(engine)) as uow:
            assert uow._connection is not None
            uow._connection.execute(
                text("INSERT INTO customers (id, created_at) VALUES ('cus_alone', now())")
            )
            uow.commit()
        with SqlUnitOfWork(engine) as uow:
            assert uow.customers.get("cus_kept") is not None
            assert uow.customers.get("cus_alone") is not None
            assert uow.customers.get("cus_dropped") is None


def test_a_connection_lost_between_units_fails_one_unit_and_the_next_gets_a_new_one(
    engine: Engine, postgres_engine: Engine
) -> None:
    with lending():
        with SqlUnitOfWork(engine) as uow:
            killed = _pid(uow)
        _terminate(postgres_engine, killed)
        with pytest.raises(DBAPIError), SqlUnitOfWork(engine) as uow:
            uow.products.get("prd_none")
        with SqlUnitOfWork(engine) as uow:
            assert _pid(uow) != killed
            assert uow.products.get("prd_none") is None


def test_a_connection_idle_between_units_is_pinged_and_replaced_if_dead(
    engine: Engine, postgres_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "IDLE_PING_SECONDS", 0.0)
    with lending():
        with SqlUnitOfWork(engine) as uow:
            killed = _pid(uow)
        _terminate(postgres_engine, killed)
        with SqlUnitOfWork(engine) as uow:  # no error: pinged, replaced
            assert _pid(uow) != killed
            assert uow.products.get("prd_none") is None
