"""Writes sent without waiting for their answer (``direct.execute_later``): on psycopg they go
in pipeline mode with the next statement or the COMMIT; their checks and errors come before
anything is committed, on every driver."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, func, select
from sqlalchemy.exc import IntegrityError

from payments.adapters.sql import direct
from payments.adapters.sql.engine import rollback
from payments.adapters.sql.statements import insert, lookup, update_by_id
from payments.adapters.sql.tables import customers, ledger_entries

T0 = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)
NEW_CUSTOMER = insert(customers, ("id", "email", "name", "created_at"))
RENAME = update_by_id(customers, ("name",))
BY_ID = lookup(customers, ("id",))


class Refused(Exception):
    """The caller's own error for a broken constraint."""


def _customer(customer_id: str, email: str | None = None) -> dict[str, Any]:
    return {"id": customer_id, "email": email, "name": "Ana", "created_at": T0}


def _count(database: Engine) -> int:
    with database.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(customers)).scalar_one())


def _both(queue: Callable[[], None], then: Callable[[], object]) -> None:
    """Queue a write, then the statement that answers it (a driver without a pipeline raises
    in the first already)."""
    queue()
    then()


def _end(connection: Connection) -> None:
    direct.discard(connection)
    rollback(connection)


def test_queued_writes_are_answered_by_the_next_statement_and_committed(database: Engine) -> None:
    with database.connect() as connection:
        connection.begin()
        direct.execute_later(connection, NEW_CUSTOMER, _customer("cus_ana"))
        direct.execute_later(connection, RENAME, {"name": "Ana B", "b_id": "cus_ana"})
        row = direct.fetch_one(connection, BY_ID, {"id": "cus_ana"})
        assert row is not None and row["name"] == "Ana B"
        direct.execute_later(connection, NEW_CUSTOMER, _customer("cus_bea"))
        direct.commit(connection)
    assert _count(database) == 2


def test_a_broken_constraint_raises_the_callers_error_and_commits_nothing(
    database: Engine,
) -> None:
    with database.begin() as connection:
        direct.execute(connection, NEW_CUSTOMER, _customer("cus_ana", "ana@example.com"))
    with database.connect() as connection:
        connection.begin()
        direct.execute_later(connection, NEW_CUSTOMER, _customer("cus_bea"))
        with pytest.raises(Refused):
            _both(
                lambda: direct.execute_later(
                    connection,
                    NEW_CUSTOMER,
                    _customer("cus_eva", "ana@example.com"),  # the e-mail is taken
                    direct.Expectation(refused=lambda error: Refused(str(error.orig))),
                ),
                lambda: direct.execute(connection, RENAME, {"name": "X", "b_id": "cus_ana"}),
            )
        _end(connection)
    assert _count(database) == 1


def test_a_failed_count_check_stops_the_commit(database: Engine) -> None:
    def exactly_one(written: int) -> None:
        if written != 1:
            raise Refused(f"{written} rows")

    with database.connect() as connection:
        connection.begin()
        direct.execute_later(connection, NEW_CUSTOMER, _customer("cus_ana"))
        with pytest.raises(Refused, match="0 rows"):
            _both(
                lambda: direct.execute_later(
                    connection,
                    RENAME,
                    {"name": "X", "b_id": "cus_nope"},
                    direct.Expectation(exactly_one),
                ),
                lambda: direct.commit(connection),
            )
        _end(connection)
    assert _count(database) == 0


def test_a_write_sent_with_the_commit_that_fails_commits_nothing(database: Engine) -> None:
    orphan = {  # its customer does not exist: a foreign key refuses it
        "id": "led_1",
        "customer_id": "cus_nobody",
        "kind": "consumption",
        "asset": "credits",
        "amount": Decimal(1),
        "source": "consumption:cus_nobody:1",
        "created_at": T0,
    }
    with database.connect() as connection:
        connection.begin()
        direct.execute_later(connection, NEW_CUSTOMER, _customer("cus_ana"))
        with pytest.raises(IntegrityError):
            _both(
                lambda: direct.execute_later(
                    connection, insert(ledger_entries, tuple(orphan)), orphan
                ),
                lambda: direct.commit(connection),
            )
        _end(connection)
    assert _count(database) == 0


def test_sqlalchemys_own_statements_see_the_queued_writes(database: Engine) -> None:
    with database.connect() as connection:
        connection.begin()
        direct.execute_later(connection, NEW_CUSTOMER, _customer("cus_ana"))
        seen = connection.execute(select(func.count()).select_from(customers)).scalar_one()
        assert seen == 1
        _end(connection)
    assert _count(database) == 0


def test_rows_held_are_written_before_the_next_statement_that_needs_an_answer(
    database: Engine,
) -> None:
    with database.connect() as connection:
        connection.begin()
        for number in range(5):
            direct.insert_later(connection, customers, [_customer(f"cus_{number}")])
        # A statement that needs an answer sees every row held before it.
        assert direct.fetch_one(connection, BY_ID, {"id": "cus_4"}) is not None
        direct.insert_later(connection, customers, [_customer("cus_5"), _customer("cus_6")])
        direct.commit(connection)
    assert _count(database) == 7


def test_a_held_row_that_breaks_a_constraint_raises_the_callers_error_and_commits_nothing(
    database: Engine,
) -> None:
    with database.begin() as connection:
        direct.execute(connection, NEW_CUSTOMER, _customer("cus_ana", "ana@example.com"))
    with database.connect() as connection:
        connection.begin()
        direct.insert_later(connection, customers, [_customer("cus_bea")])
        with pytest.raises(Refused):
            _both(
                lambda: direct.insert_later(
                    connection,
                    customers,
                    [_customer("cus_eva", "ana@example.com")],  # the e-mail is taken
                    refused=lambda error: Refused(str(error.orig)),
                ),
                lambda: direct.commit(connection),
            )
        _end(connection)
    assert _count(database) == 1


def test_held_rows_are_forgotten_by_a_rollback(database: Engine) -> None:
    with database.connect() as connection:
        connection.begin()
        direct.insert_later(connection, customers, [_customer("cus_ana")])
        _end(connection)
        connection.begin()
        direct.commit(connection)
    assert _count(database) == 0
