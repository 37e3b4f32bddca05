"""The aggregates a unit of work loaded or added, whose new events it writes on commit."""

from __future__ import annotations

from typing import Protocol, TypeVar

from payments.domain.events import DomainEvent


class RecordsEvents(Protocol):
    """An aggregate that keeps the events it caused until a unit of work collects them."""

    events: list[DomainEvent]


A = TypeVar("A", bound=RecordsEvents)


class SeenAggregates:
    """The aggregates one unit of work handed out or was given, in the order it first saw them.

    Repositories call ``seen`` on every aggregate they load or add; on commit the unit of work
    writes ``collect_new_events()`` to the outbox in the same transaction (cosmicpython's
    ``collect_new_events``), so a use case never moves events itself and cannot forget to.
    """

    __slots__ = ("_aggregates",)

    def __init__(self) -> None:
        # By identity: an aggregate is a mutable object, and two copies of one are two sources.
        self._aggregates: dict[int, RecordsEvents] = {}

    def seen(self, aggregate: A) -> A:
        """Remember ``aggregate`` (once) and give it back."""
        self._aggregates.setdefault(id(aggregate), aggregate)
        return aggregate

    def collect_new_events(self) -> list[DomainEvent]:
        """Every event the seen aggregates recorded since the last collection, taken off them:
        aggregate by aggregate in the order they were seen, each one's in the order it recorded
        them."""
        events: list[DomainEvent] = []
        for aggregate in self._aggregates.values():
            if aggregate.events:
                events.extend(aggregate.events)
                aggregate.events.clear()
        return events

    def with_new_events(self) -> list[RecordsEvents]:
        """The seen aggregates that recorded events not collected yet, in the order seen."""
        return [aggregate for aggregate in self._aggregates.values() if aggregate.events]

    def forget(self) -> None:
        """Stop watching every aggregate (the transaction ended, or was rolled back)."""
        self._aggregates.clear()
