"""Migration 0004 gives the outbox rows written before it a stable event id and their aggregate,
on SQLite and PostgreSQL, and a relay claims them in order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from payments.adapters.memory import FixedClock
from payments.adapters.sql.engine import make_engine
from payments.adapters.sql.migrate import upgrade
from payments.adapters.sql.unit_of_work import SqlUnitOfWork
from payments.domain.events import StoredEvent
from tests.integration.unmigrated import empty_postgres_url

__all__ = ["empty_postgres_url"]  # the fixture, used by name


def _claim_legacy_rows(url: str) -> list[StoredEvent]:
    """Store three events as release 0003 did (no ids), upgrade, and claim them."""
    upgrade(url, "0003")
    now = FixedClock().now()
    engine = make_engine(url)
    payloads = [
        ("purchase.created", {"purchase_id": "pur_1", "amount": {"amount": "1.00"}}),
        ("credits.consumed", {"customer_id": "cus_1", "credits": "2"}),
        ("purchase.completed", {"purchase_id": "pur_1"}),
    ]
    try:
        with engine.begin() as connection:
            for name, payload in payloads:
                connection.execute(
                    text(
                        "INSERT INTO outbox (name, payload, occurred_at) "
                        "VALUES (:name, :payload, :at)"
                    ),
                    {"name": name, "payload": json.dumps(payload), "at": now},
                )
        upgrade(url)
        with SqlUnitOfWork(engine) as uow:
            return uow.outbox.claim_unpublished(10)
    finally:
        engine.dispose()


def _expect_filled(events: list[StoredEvent]) -> None:
    assert [(e.event_id, e.aggregate_id, e.name) for e in events] == [
        ("outbox_1", "pur_1", "purchase.created"),
        ("outbox_2", "cus_1", "credits.consumed"),
        ("outbox_3", "pur_1", "purchase.completed"),
    ]
    assert events[0].data == {"purchase_id": "pur_1", "amount": {"amount": "1.00"}}


def test_migration_0004_gives_old_outbox_rows_ids_and_aggregates_on_sqlite(tmp_path: Path) -> None:
    _expect_filled(_claim_legacy_rows(f"sqlite:///{tmp_path / 'legacy.db'}"))


@pytest.mark.postgres
def test_migration_0004_gives_old_outbox_rows_ids_and_aggregates_on_postgresql(
    empty_postgres_url: str,
) -> None:
    _expect_filled(_claim_legacy_rows(empty_postgres_url))
