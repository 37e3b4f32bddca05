"""Every statement of the hot paths (webhooks, checkouts, key checks) is answered through an
index on PostgreSQL, whatever the size of the tables: ``EXPLAIN`` with sequential scans
disabled still shows an index scan only if an index exists and applies, and an ``INSERT ...
ON CONFLICT`` names the unique index that arbitrates it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, bindparam, event, text
from sqlalchemy.types import TypeEngine

from payments.adapters.sql.columns import ExactDecimal, UtcDateTime
from payments.adapters.sql.statements import (
    PURCHASE_UPDATE,
    PURCHASE_UPDATE_WITH_AUDIT,
    RECEIVED_CLAIM,
    FixedStatement,
    inbox_updates,
    insert,
    locked_by_gateway_references,
    lookup,
    purchase_updates_with_audit,
)
from payments.adapters.sql.tables import (
    api_keys,
    customers,
    idempotency_keys,
    ledger_entries,
    purchases,
    refunds,
    webhook_inbox,
)
from payments.adapters.sql.unit_of_work import SqlUnitOfWork
from payments.domain.ports import UnitOfWork

pytestmark = pytest.mark.postgres
T0 = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)
INDEX_SCANS = {"Index Scan", "Index Only Scan", "Bitmap Index Scan", "Bitmap Heap Scan"}

LOOKUPS = {
    "purchase by the provider's id, locked": lookup(
        purchases, ("gateway", "gateway_reference"), True
    ),
    "purchase by our reference, locked": lookup(purchases, ("reference",), True),
    "purchase by id": lookup(purchases, ("id",), True),
    "customer by id": lookup(customers, ("id",), True),
    "customer by e-mail": lookup(customers, ("email",)),
    "api key by secret hash": lookup(api_keys, ("secret_hash",)),
    "idempotency record": lookup(idempotency_keys, ("scope", "key")),
    "inbox message by id": lookup(webhook_inbox, ("id",)),
    "ledger entry by source": lookup(ledger_entries, ("source",)),
    "a batch's purchases by the provider's ids, locked": locked_by_gateway_references(8),
    "refund by id": lookup(refunds, ("id",)),
    "refund by the provider's id": lookup(refunds, ("gateway", "gateway_reference")),
}
UPDATES = {
    "purchase update": PURCHASE_UPDATE,
    "purchase update with its audit record": PURCHASE_UPDATE_WITH_AUDIT,
    "purchase updates of a batch of 8, with their audit records": purchase_updates_with_audit(8),
}
INSERTS = {
    "inbox message, once per event": insert(
        webhook_inbox, ("id", "provider", "event_id"), 1, ("provider", "event_id")
    ),
    "ledger entries, once per source": insert(ledger_entries, ("id", "source"), 2, ("source",)),
}


def _sample(type_: TypeEngine[Any]) -> object:
    """A value of the parameter's type (the planner needs one; nothing is run)."""
    if isinstance(type_, UtcDateTime):
        return T0
    if isinstance(type_, ExactDecimal):
        return Decimal(1)
    samples: dict[type, object] = {
        str: "x",
        int: 1,
        bool: False,
        Decimal: Decimal(1),
        datetime: T0,
        bytes: b"",
    }
    return samples[type_.python_type]


def _plan(connection: Connection, statement: FixedStatement) -> dict[str, Any]:
    explain = text(f"EXPLAIN (FORMAT JSON) {statement.sql}").bindparams(
        *(bindparam(name, type_=type_) for name, type_ in statement.parameters.items())
    )
    parameters = {name: _sample(type_) for name, type_ in statement.parameters.items()}
    value = connection.execute(explain, parameters).scalar_one()
    found = value if isinstance(value, list) else json.loads(value)
    plan: dict[str, Any] = found[0]["Plan"]
    return plan


def _nodes(plan: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


@pytest.fixture
def without_seq_scans(postgres_engine: Engine) -> Iterator[Connection]:
    """A transaction in which the planner avoids sequential scans wherever an index can do."""
    with postgres_engine.connect() as connection:
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        yield connection
        connection.rollback()


@pytest.mark.parametrize("name", sorted(LOOKUPS))
def test_every_hot_lookup_is_an_index_scan(without_seq_scans: Connection, name: str) -> None:
    plan = _plan(without_seq_scans, LOOKUPS[name])
    scans = [node for node in _nodes(plan) if "Scan" in node["Node Type"]]
    assert scans, plan
    assert all(node["Node Type"] in INDEX_SCANS for node in scans), (name, plan)


@pytest.mark.parametrize("name", sorted(UPDATES))
def test_the_purchase_update_finds_its_row_by_index(
    without_seq_scans: Connection, name: str
) -> None:
    plan = _plan(without_seq_scans, UPDATES[name])
    scanned = [node for node in _nodes(plan) if node.get("Relation Name") == "purchases"]
    assert any(node["Node Type"] in INDEX_SCANS for node in scanned), plan
    assert not any(node["Node Type"] == "Seq Scan" for node in _nodes(plan)), plan


@pytest.mark.parametrize("name", sorted(INSERTS))
def test_once_only_inserts_are_arbitrated_by_a_unique_index(
    without_seq_scans: Connection, name: str
) -> None:
    plan = _plan(without_seq_scans, INSERTS[name])
    assert plan["Node Type"] == "ModifyTable" and plan["Operation"] == "Insert", plan
    assert plan.get("Conflict Arbiter Indexes"), plan


def test_a_batch_of_inbox_outcomes_finds_its_rows_by_index(without_seq_scans: Connection) -> None:
    plan = _plan(without_seq_scans, inbox_updates(8))
    scanned = [node for node in _nodes(plan) if node.get("Relation Name") == "webhook_inbox"]
    assert any(node["Node Type"] in INDEX_SCANS for node in scanned), plan
    assert not any(node["Node Type"] == "Seq Scan" for node in _nodes(plan)), plan


QUEUES: dict[str, tuple[Callable[[UnitOfWork], object], str]] = {
    "failed messages, retried when due": (
        lambda uow: uow.inbox.claim_due(T0, 10),
        "ix_webhook_inbox_failed",
    ),
    "events to publish": (lambda uow: uow.outbox.claim_unpublished(10), "ix_outbox_unpublished"),
    "events to fan out": (
        lambda uow: uow.outbox.claim_for_webhooks(10),
        "ix_outbox_not_fanned_out",
    ),
    "events passed over": (
        lambda uow: uow.outbox.pass_over_for_webhooks(10, T0),
        "ix_outbox_not_fanned_out",
    ),
    "invoices to number": (lambda uow: uow.invoices.unnumbered(10), "ix_invoices_unnumbered"),
    "open purchases to reconcile": (
        lambda uow: uow.purchases.claim_open(updated_before=T0, now=T0),
        "ix_purchases_open",
    ),
}


def test_the_received_messages_are_claimed_through_their_partial_index(
    without_seq_scans: Connection,
) -> None:
    nodes = list(_nodes(_plan(without_seq_scans, RECEIVED_CLAIM)))
    assert "ix_webhook_inbox_received" in [node.get("Index Name") for node in nodes], nodes
    assert not any(node["Node Type"] == "Seq Scan" for node in nodes), nodes


@pytest.mark.parametrize("name", sorted(QUEUES))
def test_each_queue_is_taken_through_its_partial_index(
    postgres_engine: Engine, without_seq_scans: Connection, name: str
) -> None:
    """The statements the repository really sends (captured on their way to the driver), with
    their parameters, as the planner sees them."""
    take, index = QUEUES[name]
    sent: list[tuple[str, Any]] = []

    def capture(*args: Any) -> None:
        sent.append((args[2], args[3]))  # (connection, cursor, statement, parameters, ...)

    event.listen(postgres_engine, "before_cursor_execute", capture)
    try:
        with SqlUnitOfWork(postgres_engine) as uow:
            take(uow)
    finally:
        event.remove(postgres_engine, "before_cursor_execute", capture)
    assert sent, name
    statement, parameters = sent[0]
    explain = without_seq_scans.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters)
    value = explain.scalar_one()
    found = value if isinstance(value, list) else json.loads(value)
    nodes = list(_nodes(found[0]["Plan"]))
    assert index in [node.get("Index Name") for node in nodes], (name, found)
    assert not any(node["Node Type"] == "Seq Scan" for node in nodes), (name, found)


def test_the_inbox_bodies_are_compressed_with_lz4_where_the_server_has_it(
    postgres_engine: Engine,
) -> None:
    with postgres_engine.connect() as connection:
        has_lz4 = connection.execute(
            text(
                "SELECT 'lz4' = ANY(enumvals) FROM pg_settings"
                " WHERE name = 'default_toast_compression'"
            )
        ).scalar_one()
        method = connection.execute(
            text(
                "SELECT attcompression FROM pg_attribute"
                " WHERE attrelid = 'webhook_inbox'::regclass AND attname = 'body'"
            )
        ).scalar_one()
    assert method == "l" if has_lz4 else method in ("", "\x00"), method  # "" or NUL: the default
