"""The in-memory outbox: committed events, their ids, and which of them were published."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from payments.domain.events import DomainEvent, StoredEvent
from payments.domain.ports import Outbox


class OutboxTables(Protocol):
    """The part of a store's tables the outbox works on."""

    outbox: list[DomainEvent]
    outbox_published: dict[int, datetime]
    outbox_fanned_out: dict[int, datetime]


def event_id_at(position: int) -> str:
    """The event id of the event at ``position`` (1-based, in commit order): stable."""
    return f"evt_{position:06d}"


class InMemoryOutbox(Outbox):
    """The outbox on one unit of work's working tables; the store's lock makes every claim
    exclusive (one unit of work at a time)."""

    def __init__(self, t: OutboxTables) -> None:
        self._t = t

    def add(self, events: Sequence[DomainEvent]) -> None:
        self._t.outbox.extend(events)

    def _stored(self, position: int) -> StoredEvent:
        event = self._t.outbox[position - 1]
        return StoredEvent(
            position=position,
            event_id=event_id_at(position),
            name=event.name,
            aggregate_id=event.aggregate_id,
            occurred_at=event.occurred_at,
            data=event.payload(),
            published_at=self._t.outbox_published.get(position),
        )

    def _waiting(self) -> builtins.list[int]:
        published = self._t.outbox_published
        return [p for p in range(1, len(self._t.outbox) + 1) if p not in published]

    def claim_unpublished(self, limit: int) -> builtins.list[StoredEvent]:
        return [self._stored(p) for p in self._waiting()[:limit]]

    def mark_published(self, positions: Sequence[int], at: datetime) -> None:
        for position in positions:
            self._t.outbox_published.setdefault(position, at)

    def unpublished(self, limit: int) -> builtins.list[StoredEvent]:
        return self.claim_unpublished(limit)

    def count_unpublished(self) -> int:
        return len(self._waiting())

    def claim_for_webhooks(self, limit: int) -> builtins.list[StoredEvent]:
        done = self._t.outbox_fanned_out
        waiting = [p for p in range(1, len(self._t.outbox) + 1) if p not in done]
        return [self._stored(p) for p in waiting[:limit]]

    def mark_fanned_out(self, positions: Sequence[int], at: datetime) -> None:
        for position in positions:
            self._t.outbox_fanned_out.setdefault(position, at)

    def pass_over_for_webhooks(self, limit: int, at: datetime) -> int:
        passed = [event.position for event in self.claim_for_webhooks(limit)]
        self.mark_fanned_out(passed, at)
        return len(passed)
