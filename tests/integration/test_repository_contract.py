"""The repository and unit-of-work contract (``payments.testing.contracts.repositories``), run
on SQLite, PostgreSQL and the in-memory fake; and what only the SQL stores promise."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError, StatementError

from payments.adapters.memory import InMemoryStore, InMemoryUnitOfWork
from payments.adapters.sql.engine import make_engine
from payments.adapters.sql.migrate import alembic_config, upgrade_engine
from payments.adapters.sql.tables import customers, metadata, outbox, products, purchases
from payments.adapters.sql.unit_of_work import SqlUnitOfWork
from payments.domain.events import PurchaseCreated
from payments.domain.ledger import consumption_entry
from payments.domain.money import Money
from payments.testing.contracts.repositories import (
    CommittedEvents,
    RepositoryContract,
    UnitOfWorkFactory,
)
from payments.testing.contracts.repositories.builders import (
    T0,
    a_customer,
    a_product,
    a_purchase,
    is_utc,
    seed,
)

# -- the contract on each store: to add one, subclass RepositoryContract ---------------------------


class TestInMemoryRepositories(RepositoryContract):
    @pytest.fixture
    def store(self) -> InMemoryStore:
        return InMemoryStore()

    @pytest.fixture
    def make_uow(self, store: InMemoryStore) -> UnitOfWorkFactory:
        return lambda: InMemoryUnitOfWork(store)

    @pytest.fixture
    def committed_events(self, store: InMemoryStore) -> CommittedEvents:
        return lambda: [event.name for event in store.outbox]


def sql_committed_events(engine: Engine) -> CommittedEvents:
    """The names in the outbox table of ``engine``'s database, in the order they were written."""

    def names() -> list[str]:
        with engine.connect() as connection:
            return list(connection.execute(select(outbox.c.name).order_by(outbox.c.id)).scalars())

    return names


class TestSqliteRepositories(RepositoryContract):
    @pytest.fixture
    def make_uow(self, sqlite_engine: Engine) -> UnitOfWorkFactory:
        return lambda: SqlUnitOfWork(sqlite_engine)

    @pytest.fixture
    def committed_events(self, sqlite_engine: Engine) -> CommittedEvents:
        return sql_committed_events(sqlite_engine)


@pytest.mark.postgres
class TestPostgresRepositories(RepositoryContract):
    @pytest.fixture
    def make_uow(self, postgres_engine: Engine) -> UnitOfWorkFactory:
        return lambda: SqlUnitOfWork(postgres_engine)

    @pytest.fixture
    def committed_events(self, postgres_engine: Engine) -> CommittedEvents:
        return sql_committed_events(postgres_engine)


@pytest.fixture(
    params=[pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)]
)
def sql_engine(request: pytest.FixtureRequest) -> Engine:
    """A migrated engine of each SQL backend."""
    engine: Engine = request.getfixturevalue(f"{request.param}_engine")
    return engine


# -- SQL only: schema, outbox, precision, locking -------------------------------------------------


def test_upgrade_creates_the_check_constraints(sql_engine: Engine) -> None:
    purchase_row = {
        "id": "pur_0", "reference": "ref_0", "customer_id": "cus_ana", "product_id": "prd_hours",
        "amount": Decimal("0"), "currency": "EUR", "credits": Decimal("8"), "validity_days": 60,
        "country": "PT", "routing_chain": "[]", "routing_reason": "", "status": "pending",
        "needs_review": False, "created_at": T0, "updated_at": T0, "version": 0,
    }  # fmt: skip
    with SqlUnitOfWork(sql_engine) as uow:
        uow.customers.add(a_customer())
        uow.products.add(a_product())
        uow.commit()
    with sql_engine.connect() as connection, pytest.raises(IntegrityError) as raised:
        connection.execute(insert(purchases), purchase_row)
    assert "amount_positive" in str(raised.value)
    with sql_engine.connect() as connection, pytest.raises(IntegrityError):
        connection.execute(insert(products), {**_product_row(), "price": Decimal("-1.00")})
    with sql_engine.connect() as connection, pytest.raises(IntegrityError):
        connection.execute(
            insert(customers), {"id": "c2", "email": "ana@example.com", "created_at": T0}
        )


def _product_row() -> dict[str, object]:
    return {
        "id": "prd_x", "name": "x", "kind": "package", "price": Decimal("1.00"),
        "currency": "EUR", "credits": Decimal("0"), "trial_days": 0, "active": True,
        "created_at": T0,
    }  # fmt: skip


def test_migrations_build_exactly_the_declared_tables(sql_engine: Engine) -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    with sql_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
        current = context.get_current_revision()
    assert differences == []
    assert current == head == "0011"


def test_upgrade_twice_changes_nothing(sql_engine: Engine) -> None:
    upgrade_engine(sql_engine)
    with sql_engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == "0011"


def test_outbox_keeps_events_of_committed_work_only(sql_engine: Engine) -> None:
    created = PurchaseCreated(T0, "pur_1", "cus_ana", "prd_hours", Money("5.120", "KWD"), "stripe")
    uow = SqlUnitOfWork(sql_engine)
    with uow:
        uow.outbox.add([created, replace(created, purchase_id="pur_2")])
        uow.outbox.add([])
        uow.commit()
    with uow:
        uow.outbox.add([replace(created, purchase_id="pur_rolled_back")])
    with sql_engine.connect() as connection:
        rows = connection.execute(select(outbox).order_by(outbox.c.id)).mappings().all()
    assert [json.loads(r["payload"])["purchase_id"] for r in rows] == ["pur_1", "pur_2"]
    assert rows[0]["name"] == "purchase.created"
    assert json.loads(rows[0]["payload"]) == created.payload()
    assert rows[0]["occurred_at"] == T0 and is_utc(rows[0]["occurred_at"])
    assert rows[0]["published_at"] is None


def test_outbox_keeps_the_order_of_many_events_stored_at_once(sql_engine: Engine) -> None:
    created = PurchaseCreated(T0, "pur_0", "cus_ana", "prd_hours", Money("5.120", "KWD"), "stripe")
    many = [replace(created, purchase_id=f"pur_{n}") for n in range(40)]
    uow = SqlUnitOfWork(sql_engine)
    with uow:
        uow.outbox.add(many)
        uow.commit()
    with sql_engine.connect() as connection:
        rows = connection.execute(select(outbox).order_by(outbox.c.id)).mappings().all()
    assert [json.loads(r["payload"])["purchase_id"] for r in rows] == [
        f"pur_{n}" for n in range(40)
    ]


def test_an_amount_the_column_would_round_is_refused(sql_engine: Engine) -> None:
    too_precise = consumption_entry(
        id="led_1", customer_id="cus_ana", credits=Decimal("0.0000001"), reference="x", now=T0
    )
    with SqlUnitOfWork(sql_engine) as uow:
        uow.customers.add(a_customer())
        with pytest.raises(StatementError):
            uow.ledger.append(too_precise)


def test_concurrent_locked_updates_never_lose_one(sql_engine: Engine) -> None:
    seed(SqlUnitOfWork(sql_engine), a_purchase())
    errors: list[BaseException] = []

    def bump(times: int) -> None:
        uow = SqlUnitOfWork(sql_engine)
        try:
            for _ in range(times):
                with uow:
                    purchase = uow.purchases.get("pur_1", for_update=True)
                    assert purchase is not None
                    purchase.updated_at += timedelta(microseconds=1)
                    uow.purchases.save(purchase)
                    uow.commit()
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    workers = [threading.Thread(target=bump, args=(10,)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    with SqlUnitOfWork(sql_engine) as uow:
        stored = uow.purchases.get("pur_1")
    assert stored is not None and stored.version == 40


@pytest.mark.postgres
def test_for_update_makes_a_second_locker_wait_until_the_first_commits(
    postgres_engine: Engine,
) -> None:
    seed(SqlUnitOfWork(postgres_engine), a_purchase())
    first_holds_lock = threading.Event()
    events: list[object] = []

    def first() -> None:
        with SqlUnitOfWork(postgres_engine) as uow:
            purchase = uow.purchases.get("pur_1", for_update=True)
            assert purchase is not None
            first_holds_lock.set()
            time.sleep(0.5)
            purchase.failure_message = "first"
            uow.purchases.save(purchase)
            events.append("first commits")
            uow.commit()

    def second() -> None:
        assert first_holds_lock.wait(10)
        with SqlUnitOfWork(postgres_engine) as uow:
            events.append("second asks")
            purchase = uow.purchases.get("pur_1", for_update=True)
            assert purchase is not None
            events.append(("second reads", purchase.version, purchase.failure_message))
            uow.purchases.save(purchase)
            uow.commit()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert events == ["second asks", "first commits", ("second reads", 1, "first")]


def test_in_memory_sqlite_serves_threads_one_transaction_at_a_time() -> None:
    engine = make_engine("sqlite://")
    try:
        upgrade_engine(engine)
        seed(SqlUnitOfWork(engine))
        customers_made: list[str] = []

        def add(n: int) -> None:
            with SqlUnitOfWork(engine) as uow:
                uow.customers.add(a_customer(f"cus_{n}", f"c{n}@example.com"))
                time.sleep(0.01)
                uow.commit()
                customers_made.append(f"cus_{n}")

        workers = [threading.Thread(target=add, args=(n,)) for n in range(8)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        with SqlUnitOfWork(engine) as uow:
            stored = [uow.customers.get(c) for c in sorted(customers_made)]
        assert len(customers_made) == 8 and all(stored)
    finally:
        engine.dispose()
