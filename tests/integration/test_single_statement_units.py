"""The per-request steps that need no transaction (the API key lookup, the Idempotency-Key
claim and answer) on units of work whose statements each stand alone: the same answers,
committed at once, and no BEGIN, COMMIT or ROLLBACK sent on PostgreSQL."""

from __future__ import annotations

import tempfile
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, func, select

from payments.adapters.memory import FixedClock, SequentialIds
from payments.adapters.sql.engine import single_statement_engine
from payments.adapters.sql.tables import idempotency_keys
from payments.adapters.sql.unit_of_work import SqlUnitOfWork
from payments.domain.errors import (
    AuthenticationRequiredError,
    IdempotencyConflictError,
    IdempotencyInFlightError,
)
from payments.domain.services.access import AccessService
from payments.domain.services.idempotency import IdempotencyService, StoredAnswer

CREATED = StoredAnswer(201, b'{"id":"pur_1"}', {"Location": "/v1/purchases/pur_1"})


def _sent(engine: Engine, step: Callable[[], object]) -> list[str]:
    """The messages libpq sent on the pooled connections while ``step`` ran."""
    pooled = list(engine.pool._pool.queue)  # type: ignore[attr-defined]
    with tempfile.TemporaryFile("w+") as trace:
        for record in pooled:
            record.dbapi_connection.pgconn.trace(trace.fileno())
        step()
        for record in pooled:
            record.dbapi_connection.pgconn.untrace()
        trace.seek(0)
        return [line for line in trace if "\tF\t" in line]


@pytest.mark.postgres
def test_a_key_lookup_a_claim_and_its_answer_send_no_transaction_statements(
    postgres_engine: Engine,
) -> None:
    single = single_statement_engine(postgres_engine)
    access = AccessService(
        lambda: SqlUnitOfWork(postgres_engine),
        FixedClock(),
        SequentialIds(),
        lookups=lambda: SqlUnitOfWork(single),
    )
    service = IdempotencyService(
        lambda: SqlUnitOfWork(postgres_engine),
        FixedClock(),
        single_statements=lambda: SqlUnitOfWork(single),
    )
    _, secret = access.create_key("merchant")
    access.authenticate(secret)  # a pooled connection to trace

    def one_request() -> None:
        access.authenticate(secret)
        service.begin("key:k1", "idem-1", "print")
        service.finish("key:k1", "idem-1", fingerprint="print", answer=CREATED)

    sent = _sent(postgres_engine, one_request)

    words = " ".join(sent)
    assert "api_keys" in words
    assert "idempotency_keys" in words
    for statement in ("BEGIN", "COMMIT", "ROLLBACK"):
        assert statement not in words


def test_a_claim_on_single_statements_answers_as_in_a_transaction(database: Engine) -> None:
    single = single_statement_engine(database)
    service = IdempotencyService(
        lambda: SqlUnitOfWork(database),
        FixedClock(),
        single_statements=lambda: SqlUnitOfWork(single),
    )

    assert service.begin("key:k1", "idem-1", "print") is None
    with database.connect() as connection:  # committed: another connection sees the claim
        claims = connection.execute(select(func.count()).select_from(idempotency_keys))
        assert claims.scalar_one() == 1
    with pytest.raises(IdempotencyInFlightError):
        service.begin("key:k1", "idem-1", "print")
    with pytest.raises(IdempotencyConflictError):
        service.begin("key:k1", "idem-1", "another print")
    service.finish("key:k1", "idem-1", fingerprint="print", answer=CREATED)
    replay = service.begin("key:k1", "idem-1", "print")
    assert replay is not None
    assert replay.answer == CREATED


def test_a_revoked_key_is_refused_on_single_statements(database: Engine) -> None:
    single = single_statement_engine(database)
    access = AccessService(
        lambda: SqlUnitOfWork(database),
        FixedClock(),
        SequentialIds(),
        lookups=lambda: SqlUnitOfWork(single),
    )
    key, secret = access.create_key("merchant")
    assert access.authenticate(secret).key_id == key.id

    access.revoke_key(key.id)

    with pytest.raises(AuthenticationRequiredError):
        access.authenticate(secret)
