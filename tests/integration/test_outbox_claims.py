"""The SQL outbox's claims: whole prefixes of aggregates, in order; on PostgreSQL a claimed
aggregate is skipped by every other relay until the claim ends."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from payments.adapters.sql.unit_of_work import SqlUnitOfWork
from payments.domain.events import CreditsConsumed, PurchaseStatusChanged
from payments.testing.contracts.repositories.builders import T0


def _record(engine: Engine, *aggregates: str) -> None:
    """One event per aggregate named, in that order (a ``cus_`` one is about a customer)."""
    uow = SqlUnitOfWork(engine)
    with uow:
        for n, aggregate in enumerate(aggregates):
            at = T0 + timedelta(seconds=n)
            if aggregate.startswith("cus_"):
                uow.outbox.add([CreditsConsumed(at, aggregate, Decimal(1), f"ref_{n}")])
            else:
                uow.outbox.add([PurchaseStatusChanged(at, aggregate, "cus_1", "a", "b", "test")])
        uow.commit()


def _claimed(uow: SqlUnitOfWork, limit: int) -> list[tuple[int, str]]:
    return [(e.position, e.aggregate_id) for e in uow.outbox.claim_unpublished(limit)]


def test_a_claim_takes_each_aggregate_from_its_oldest_unpublished_event(database: Engine) -> None:
    _record(database, "pur_a", "pur_b", "pur_a", "cus_c", "pur_b", "pur_a")
    with SqlUnitOfWork(database) as uow:
        uow.outbox.mark_published([1], T0)  # pur_a's first went out
        assert _claimed(uow, 3) == [(2, "pur_b"), (3, "pur_a"), (4, "cus_c")]
        assert _claimed(uow, 10) == [
            (2, "pur_b"),
            (3, "pur_a"),
            (4, "cus_c"),
            (5, "pur_b"),
            (6, "pur_a"),
        ]
        assert uow.outbox.count_unpublished() == 5
        assert len({e.event_id for e in uow.outbox.unpublished(10)}) == 5


@pytest.mark.postgres
def test_a_second_relay_skips_the_aggregates_the_first_holds(postgres_engine: Engine) -> None:
    _record(postgres_engine, "pur_a", "pur_b", "pur_a", "pur_c", "pur_b")
    first, second = SqlUnitOfWork(postgres_engine), SqlUnitOfWork(postgres_engine)
    with first:
        assert _claimed(first, 2) == [(1, "pur_a"), (2, "pur_b")]  # and holds pur_a, pur_b whole
        with second:
            assert _claimed(second, 10) == [(4, "pur_c")]
        first.outbox.mark_published([1, 2], T0)
        first.commit()
    with second:
        assert _claimed(second, 10) == [(3, "pur_a"), (4, "pur_c"), (5, "pur_b")]
