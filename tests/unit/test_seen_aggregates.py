"""A unit of work's record of the aggregates it saw, and the events it collects from them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from payments.domain.events import DomainEvent
from payments.domain.seen import SeenAggregates

T0 = datetime(2026, 3, 14, tzinfo=UTC)


@dataclass(eq=False)
class Aggregate:
    events: list[DomainEvent] = field(default_factory=list)


def test_events_are_collected_once_in_the_order_the_aggregates_were_seen() -> None:
    seen = SeenAggregates()
    first, second = Aggregate(), Aggregate()
    one, two, three = DomainEvent(T0), DomainEvent(T0), DomainEvent(T0)
    assert seen.seen(second) is second
    seen.seen(first)
    seen.seen(second)  # seen again: still collected once
    first.events.append(one)
    second.events.extend([two, three])

    assert seen.collect_new_events() == [two, three, one]
    assert first.events == [] and second.events == []
    assert seen.collect_new_events() == []


def test_a_forgotten_aggregate_keeps_its_events() -> None:
    seen = SeenAggregates()
    aggregate = seen.seen(Aggregate([DomainEvent(T0)]))
    seen.forget()

    assert seen.collect_new_events() == []
    assert len(aggregate.events) == 1


def test_two_copies_of_one_aggregate_are_two_sources() -> None:
    seen = SeenAggregates()
    a, b = Aggregate([DomainEvent(T0)]), Aggregate([DomainEvent(T0)])
    seen.seen(a)
    seen.seen(b)

    assert len(seen.collect_new_events()) == 2
