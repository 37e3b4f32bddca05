"""The SQL outbox: events written with the change that caused them, claimed by relays in order."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select

from payments.adapters.sql.mappers import event_to_row, stored_event_from_row
from payments.adapters.sql.repositories.base import SqlRepository
from payments.adapters.sql.tables import outbox
from payments.adapters.system import UlidGenerator
from payments.domain.events import DomainEvent, StoredEvent
from payments.domain.ports import Outbox

_EVENT_IDS = UlidGenerator()
_earlier = outbox.alias("earlier")


def _same_aggregate(one: Any, other: Any) -> ColumnElement[bool]:
    """Both rows are about one aggregate; rows written before migration 0004 (no aggregate id)
    count as one aggregate, so they keep their order among themselves."""
    return or_(
        one.c.aggregate_id == other.c.aggregate_id,
        and_(one.c.aggregate_id.is_(None), other.c.aggregate_id.is_(None)),
    )


_UNPUBLISHED = outbox.c.published_at.is_(None)
_NOT_FANNED_OUT = outbox.c.webhooks_fanned_out_at.is_(None)
_FIRST_OF_ITS_AGGREGATE = ~exists().where(
    _same_aggregate(_earlier, outbox),
    _earlier.c.published_at.is_(None),
    _earlier.c.id < outbox.c.id,
)


class SqlOutbox(SqlRepository, Outbox):
    def add(self, events: Sequence[DomainEvent]) -> None:
        """Store the events in this transaction, in order, unpublished, each with a new id
        (on PostgreSQL sent with the next statement or the commit)."""
        if events:
            rows = [event_to_row(e, _EVENT_IDS.new("evt")) for e in events]
            self._insert_all_later(outbox, rows)

    def claim_unpublished(self, limit: int) -> builtins.list[StoredEvent]:
        """Up to ``limit`` unpublished events in outbox order, whole aggregates' prefixes.

        First the oldest unpublished event of each aggregate is locked ``FOR UPDATE SKIP
        LOCKED`` (on PostgreSQL: an aggregate another relay holds is skipped), then every
        unpublished event of those aggregates. An event that is not its aggregate's first is
        only ever locked with that first one, so two relays never hold one aggregate. On SQLite
        the transaction (``BEGIN IMMEDIATE``) already holds the only write lock.
        """
        firsts = (
            select(outbox.c.id, outbox.c.aggregate_id)
            .where(_UNPUBLISHED, _FIRST_OF_ITS_AGGREGATE)
            .order_by(outbox.c.id)
            .limit(limit)
        )
        if self._row_locks:
            firsts = firsts.with_for_update(skip_locked=True, of=outbox)
        heads = self._connection.execute(firsts).all()
        if not heads:
            return []
        aggregates = {aggregate for _, aggregate in heads if aggregate is not None}
        legacy = len(aggregates) < len(heads)
        held = [outbox.c.aggregate_id.in_(aggregates)] if aggregates else []
        if legacy:
            held.append(outbox.c.aggregate_id.is_(None))
        query = select(outbox).where(_UNPUBLISHED, or_(*held)).order_by(outbox.c.id).limit(limit)
        if self._row_locks:
            query = query.with_for_update(of=outbox)
        return [stored_event_from_row(row) for row in self._all(query)]

    def mark_published(self, positions: Sequence[int], at: datetime) -> None:
        """Record the events at ``positions`` as published at ``at`` (a second mark keeps the
        first time)."""
        if positions:
            self._connection.execute(
                outbox.update()
                .where(outbox.c.id.in_(list(positions)), _UNPUBLISHED)
                .values(published_at=at)
            )

    def unpublished(self, limit: int) -> builtins.list[StoredEvent]:
        """The oldest unpublished events, in outbox order, without locking them."""
        query = select(outbox).where(_UNPUBLISHED).order_by(outbox.c.id).limit(limit)
        return [stored_event_from_row(row) for row in self._all(query)]

    def count_unpublished(self) -> int:
        """How many events wait to be published."""
        count = self._connection.execute(select(func.count()).where(_UNPUBLISHED)).scalar_one()
        return int(count)

    def claim_for_webhooks(self, limit: int) -> builtins.list[StoredEvent]:
        """Up to ``limit`` events not fanned out to merchant webhooks yet, in outbox order; on
        PostgreSQL ``FOR UPDATE SKIP LOCKED``: rows another worker (or the broker relay) holds
        are left for a later round."""
        return [stored_event_from_row(row) for row in self._all(self._not_fanned_out(limit))]

    def pass_over_for_webhooks(self, limit: int, at: datetime) -> int:
        """One ``UPDATE`` of the ``limit`` oldest events not fanned out (on PostgreSQL those
        another unit of work holds are skipped): no row is sent back or decoded."""
        oldest = self._not_fanned_out(limit, outbox.c.id)
        marked = self._connection.execute(
            outbox.update().where(outbox.c.id.in_(oldest)).values(webhooks_fanned_out_at=at)
        )
        return int(marked.rowcount)

    def _not_fanned_out(self, limit: int, *columns: Any) -> Select[Any]:
        """The ``limit`` oldest events not fanned out (``columns``, else whole rows), on
        PostgreSQL locked ``FOR UPDATE SKIP LOCKED``."""
        query = select(*(columns or (outbox,))).where(_NOT_FANNED_OUT)
        query = query.order_by(outbox.c.id).limit(limit)
        return query.with_for_update(skip_locked=True) if self._row_locks else query

    def mark_fanned_out(self, positions: Sequence[int], at: datetime) -> None:
        """Record that the events at ``positions`` have their webhook deliveries."""
        if positions:
            self._connection.execute(
                outbox.update()
                .where(outbox.c.id.in_(list(positions)))
                .values(webhooks_fanned_out_at=at)
            )
