"""An answer's unknown outcome is kept in its own column on SQLite and PostgreSQL, moved there
from the headers of answers stored before migration 0003, and never replayed as a header."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select

from payments.adapters.memory import FixedClock
from payments.adapters.sql.engine import make_engine
from payments.adapters.sql.migrate import upgrade
from payments.adapters.sql.tables import idempotency_keys
from payments.adapters.sql.unit_of_work import SqlUnitOfWork
from payments.domain.idempotency import IdempotencyRecord, OutcomeKind, UnknownOutcome
from payments.domain.services.idempotency import IdempotencyService, StoredAnswer
from tests.integration.unmigrated import empty_postgres_url

__all__ = ["empty_postgres_url"]  # the fixture, used by name

PROBLEM_503 = StoredAnswer(503, b'{"code":"gateway_unavailable"}', {"Retry-After": "10"})
LEGACY_ENTRY = "Payments-Unknown-Outcome"


def _stored(engine: Engine, scope: str, key: str) -> IdempotencyRecord | None:
    """The record of a finished key, as the repository reads it back."""
    now = FixedClock().now()
    with SqlUnitOfWork(engine) as uow:
        return uow.idempotency.claim(IdempotencyRecord(scope, key, "?", now, now))


def test_an_unknown_outcome_round_trips_and_is_never_a_replayed_header(database: Engine) -> None:
    service = IdempotencyService(lambda: SqlUnitOfWork(database), FixedClock())
    outcome = UnknownOutcome(OutcomeKind.REFUND, "rfd_" + "9" * 60)  # the longest id
    assert service.begin("key:k1", "idem-1", "print") is None
    service.finish(
        "key:k1", "idem-1", fingerprint="print", answer=PROBLEM_503, unknown_outcome=outcome
    )

    replay = service.begin("key:k1", "idem-1", "print")

    assert replay is not None
    assert replay.answer == PROBLEM_503  # no such refund yet: the stored answer, as stored
    record = _stored(database, "key:k1", "idem-1")
    assert record is not None
    assert record.unknown_outcome == outcome
    assert record.response_headers == {"Retry-After": "10"}
    with database.connect() as connection:
        row = connection.execute(select(idempotency_keys)).mappings().one()
    assert row["unknown_outcome"] == f"refund:{outcome.id}"
    assert LEGACY_ENTRY not in row["response_headers"]


def _migrate_a_legacy_answer(url: str) -> IdempotencyRecord | None:
    """Store an answer as release 0002 did, with its outcome among its headers, then upgrade."""
    upgrade(url, "0002")
    now = FixedClock().now()
    headers = {"Retry-After": "10", LEGACY_ENTRY: "purchase:pur_1"}
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(idempotency_keys),
                {
                    "scope": "key:k1",
                    "key": "idem-1",
                    "fingerprint": "print",
                    "created_at": now,
                    "expires_at": now + timedelta(hours=24),
                    "response_status": 503,
                    "response_body": b"{}",
                    "response_headers": json.dumps(headers),
                },
            )
        upgrade(url)
        return _stored(engine, "key:k1", "idem-1")
    finally:
        engine.dispose()


def _expect_moved(record: IdempotencyRecord | None) -> None:
    assert record is not None
    assert record.unknown_outcome == UnknownOutcome(OutcomeKind.PURCHASE, "pur_1")
    assert record.response_headers == {"Retry-After": "10"}


def test_migration_0003_moves_a_stored_outcome_out_of_the_headers_on_sqlite(
    tmp_path: Path,
) -> None:
    _expect_moved(_migrate_a_legacy_answer(f"sqlite:///{tmp_path / 'legacy.db'}"))


@pytest.mark.postgres
def test_migration_0003_moves_a_stored_outcome_out_of_the_headers_on_postgresql(
    empty_postgres_url: str,
) -> None:
    _expect_moved(_migrate_a_legacy_answer(empty_postgres_url))
