"""The fixed-statement seam (``direct.py``): one SQL text, the same answers on every driver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, StatementError

from payments.adapters.sql import direct
from payments.adapters.sql.statements import FixedStatement, insert, lookup, update_by_id
from payments.adapters.sql.tables import customers, ledger_entries

T0 = datetime(2026, 3, 14, 15, 9, 26, 535897, tzinfo=timezone(timedelta(hours=-5)))


def _customer(customer_id: str = "cus_ana", email: str = "ana@example.com") -> dict[str, Any]:
    return {"id": customer_id, "email": email, "name": "Ana", "created_at": T0}


def _entry(amount: Decimal, source: str = "consumption:cus_ana:x") -> dict[str, Any]:
    return {
        "id": f"led_{source}",
        "customer_id": "cus_ana",
        "kind": "consumption",
        "asset": "credits",
        "amount": amount,
        "source": source,
        "created_at": T0,
    }


def test_the_text_is_sent_to_psycopg_with_its_own_parameter_markers() -> None:
    statement = lookup(customers, ("id", "email"), True)
    assert statement.sql.endswith("WHERE id = :id AND email = :email FOR UPDATE")
    numbered, names = statement.numbered
    assert numbered.endswith("WHERE id = $1 AND email = $2 FOR UPDATE")
    assert names == ("id", "email")
    assert set(statement.parameters) == {"id", "email"}
    rows = insert(customers, ("id", "email"), 2, ("email",))
    assert rows.numbered == (
        rows.sql.split(" VALUES ")[0] + " VALUES ($1, $2), ($3, $4) ON CONFLICT (email) DO NOTHING",
        ("id_0", "email_0", "id_1", "email_1"),
    )
    again = FixedStatement(
        "SELECT :a, :b, :a", {"a": customers.c.id.type, "b": customers.c.id.type}
    )
    assert again.numbered == ("SELECT $1, $2, $1", ("a", "b"))  # a name used twice: one number
    assert lookup(customers, ("id",)) is lookup(customers, ("id",))  # built once, then reused


def test_a_statement_names_every_parameter_its_text_uses() -> None:
    with pytest.raises(Exception, match="nope"):
        _ = FixedStatement("SELECT 1", {"nope": customers.c.id.type}).clause


def test_only_psycopg_runs_straight_on_the_driver(database: Engine) -> None:
    with database.connect() as connection:
        assert direct.supports(connection) is (database.dialect.name == "postgresql")


def test_rows_come_back_typed_by_their_columns_on_every_driver(database: Engine) -> None:
    with database.begin() as connection:
        new = insert(customers, tuple(_customer()), 1, ())
        assert direct.execute(connection, new, _customer()) == 1
        assert direct.execute(connection, new, _customer()) == 0  # ON CONFLICT DO NOTHING
        entry = _entry(Decimal("-1.250000"))
        assert direct.execute(connection, insert(ledger_entries, tuple(entry)), entry) == 1
        row = direct.fetch_one(
            connection, lookup(customers, ("email",)), {"email": "ana@example.com"}
        )
        missing = direct.fetch_one(connection, lookup(customers, ("id",)), {"id": "cus_nope"})
        led = direct.fetch_one(
            connection, lookup(ledger_entries, ("source",)), {"source": "consumption:cus_ana:x"}
        )
        through_sqlalchemy = (
            connection.execute(lookup(customers, ("id",)).clause, {"id": "cus_ana"})
            .mappings()
            .one()
        )
    assert row is not None and led is not None
    assert dict(row) == {**_customer(), "created_at": T0.astimezone(UTC)}
    assert row["created_at"].tzinfo is UTC or row["created_at"].utcoffset() == timedelta(0)
    assert dict(through_sqlalchemy) == dict(row)
    assert missing is None
    assert led["amount"] == Decimal("-1.25") and isinstance(led["amount"], Decimal)


def test_updates_count_the_rows_they_matched(database: Engine) -> None:
    rename = update_by_id(customers, ("name",))
    with database.begin() as connection:
        direct.execute(connection, insert(customers, tuple(_customer())), _customer())
        assert direct.execute(connection, rename, {"name": "Ana B", "b_id": "cus_ana"}) == 1
        assert direct.execute(connection, rename, {"name": "X", "b_id": "cus_nope"}) == 0
        row = direct.fetch_one(
            connection,
            lookup(customers, ("id",), database.dialect.name == "postgresql"),
            {"id": "cus_ana"},
        )
    assert row is not None and row["name"] == "Ana B"


def test_failures_are_the_errors_sqlalchemy_would_raise(database: Engine) -> None:
    with database.connect() as connection:
        too_precise = _entry(Decimal("-0.0000001"))
        with pytest.raises(StatementError):
            direct.execute(connection, insert(ledger_entries, tuple(too_precise)), too_precise)
        naive = {**_customer(), "created_at": T0.replace(tzinfo=None)}
        with pytest.raises(StatementError):
            direct.execute(connection, insert(customers, tuple(naive)), naive)
        connection.rollback()
        direct.execute(connection, insert(customers, tuple(_customer())), _customer())
        with pytest.raises(IntegrityError):  # the same e-mail, and no ON CONFLICT clause
            direct.execute(
                connection, insert(customers, tuple(_customer())), _customer("cus_other")
            )
        connection.rollback()
