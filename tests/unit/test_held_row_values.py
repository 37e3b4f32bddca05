"""Held rows are converted by position (``Converters.rows_values``) into exactly the values
the named parameters give (``Converters.values`` of ``named_rows``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import exc
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect

from payments.adapters.sql.binds import Converters
from payments.adapters.sql.statements import (
    AUDIT_COLUMNS,
    PURCHASE_MUTABLE,
    FixedStatement,
    inbox_updates,
    insert,
    named_rows,
    purchase_updates_with_audit,
)
from payments.adapters.sql.tables import ledger_entries

DIALECT = psycopg_dialect()  # type: ignore[no-untyped-call]
AT = datetime(2026, 12, 6, 19, 0, tzinfo=UTC)


def _ledger_row(i: int) -> dict[str, Any]:
    return {
        "id": f"led_{i}",
        "customer_id": "cus_1",
        "kind": "purchase_credits",
        "asset": "EUR",
        "amount": Decimal(f"{i}.50"),
        "source": f"src_{i}",
        "created_at": AT + timedelta(seconds=i),
        "purchase_id": None,
        "expires_at": AT.astimezone(timezone(timedelta(hours=-5))),
        "reference": None,
    }


def _same(statement: FixedStatement, rows: list[dict[str, Any]]) -> None:
    converters = Converters.of(statement, DIALECT)
    assert converters.rows_values(rows) == converters.values(named_rows(rows))
    assert converters.layout is not None
    assert converters.layout.take is not None  # by position, not the fallback by name


@pytest.mark.parametrize("count", [1, 2, 16])
def test_an_insert_of_held_rows(count: int) -> None:
    rows = [_ledger_row(i) for i in range(count)]
    _same(insert(ledger_entries, tuple(rows[0]), count, ("source",)), rows)


@pytest.mark.parametrize("count", [1, 3])
def test_held_updates_whose_markers_are_not_in_row_order(count: int) -> None:
    rows = [
        {
            **dict.fromkeys(PURCHASE_MUTABLE),
            "status": "completed",
            "amount": Decimal("10.00"),
            "updated_at": AT,
            "b_id": f"pur_{i}",
            "b_version": i,
            **{f"a_{name}": None for name in AUDIT_COLUMNS},
            "a_at": AT,
        }
        for i in range(count)
    ]
    _same(purchase_updates_with_audit(count), rows)
    inbox = [
        {"b_id": f"msg_{i}", "status": "processed", "attempts": 1, "next_attempt_at": None,
         "last_error": None, "processed_at": AT, "purchase_id": None, "event_type": "x"}
        for i in range(count)
    ]  # fmt: skip
    _same(inbox_updates(count), inbox)


def test_a_value_a_column_refuses_is_the_same_statement_error() -> None:
    rows = [_ledger_row(0), {**_ledger_row(1), "amount": Decimal("1.0000001")}]
    converters = Converters.of(insert(ledger_entries, tuple(rows[0]), 2, ("source",)), DIALECT)
    with pytest.raises(exc.StatementError) as by_position:
        converters.rows_values(rows)
    with pytest.raises(exc.StatementError) as by_name:
        converters.values(named_rows(rows))
    assert str(by_position.value) == str(by_name.value)
    assert by_position.value.params == by_name.value.params
