"""The outbox relay on the fakes: acknowledged events are marked, a failure leaves the rest."""

from __future__ import annotations

import functools

import pytest

from payments.adapters.memory import (
    FixedClock,
    InMemoryStore,
    InMemoryUnitOfWork,
    RecordingEventPublisher,
)
from payments.domain.money import Money
from payments.domain.purchase import PaymentOutcome
from payments.domain.services.outbox_relay import EventRelay, OutboxBacklog
from payments.testing.contracts.repositories.builders import T0, a_purchase, observation, seed


def _outbox_with_two_purchases() -> InMemoryStore:
    """pur_1 created and completed, pur_2 created: three events in the outbox."""
    store = InMemoryStore()
    uow = InMemoryUnitOfWork(store)
    seed(uow, a_purchase("pur_1"), a_purchase("pur_2"))
    with uow:
        purchase = uow.purchases.get("pur_1", for_update=True)
        assert purchase is not None
        purchase.apply(observation(PaymentOutcome.SUCCEEDED, "evt_1"), T0, "stripe")
        uow.purchases.save(purchase)
        uow.commit()
    return store


def _relay(
    store: InMemoryStore, publisher: RecordingEventPublisher, batch: int = 100
) -> EventRelay:
    unit_of_work = functools.partial(InMemoryUnitOfWork, store)
    return EventRelay(unit_of_work, publisher, FixedClock(), batch_size=batch)


def _backlog(store: InMemoryStore) -> int:
    waiting, _ = OutboxBacklog(functools.partial(InMemoryUnitOfWork, store)).unpublished()
    return waiting


def test_relay_publishes_every_event_once_in_outbox_order_and_marks_them() -> None:
    store = _outbox_with_two_purchases()
    publisher = RecordingEventPublisher()
    report = _relay(store, publisher, batch=2).publish_pending()
    names = [(e.aggregate_id, e.name) for e in publisher.published]
    assert names == [
        ("pur_1", "purchase.created"),
        ("pur_2", "purchase.created"),
        ("pur_1", "purchase.status_changed"),
        ("pur_1", "purchase.completed"),
    ]
    assert report.published == [e.event_id for e in publisher.published]
    assert len(set(report.published)) == 4
    assert _backlog(store) == 0
    assert _relay(store, publisher).publish_pending().published == []


def test_published_event_carries_its_data_with_money_as_strings() -> None:
    store = _outbox_with_two_purchases()
    publisher = RecordingEventPublisher()
    _relay(store, publisher).publish_pending()
    completed = publisher.published[-1]
    assert completed.name == "purchase.completed"
    assert completed.data["amount"] == Money("79.99", "EUR").to_dict()
    assert completed.data["amount"] == {"amount": "79.99", "currency": "EUR"}
    assert completed.occurred_at == T0


def test_a_failed_publish_leaves_it_and_later_events_for_the_next_round() -> None:
    store = _outbox_with_two_purchases()
    publisher = RecordingEventPublisher()
    relay = _relay(store, publisher)
    first = relay.publish_pending(max_batches=1)
    assert len(first.published) == 4
    uow = InMemoryUnitOfWork(store)
    seed_more = a_purchase("pur_3")
    with uow:
        uow.purchases.add(seed_more)
        uow.commit()
    publisher.down = True
    failed = relay.publish_pending()
    assert failed.failure is not None
    assert failed.published == []
    assert _backlog(store) == 1
    publisher.down = False
    assert len(relay.publish_pending().published) == 1
    assert _backlog(store) == 0


def test_a_failure_mid_batch_marks_only_the_acknowledged_events() -> None:
    store = _outbox_with_two_purchases()
    publisher = RecordingEventPublisher()
    relay = _relay(store, publisher)
    publisher.fail_next(after=2)  # the first two go out, the third fails
    report = relay.publish_pending()
    assert len(report.published) == 2
    assert report.failure is not None
    assert _backlog(store) == 2
    report = relay.publish_pending()
    assert [e.name for e in publisher.published][2:] == [
        "purchase.status_changed",
        "purchase.completed",
    ]
    assert _backlog(store) == 0


def test_a_republished_event_is_acknowledged_as_a_duplicate_and_stored_once() -> None:
    store = _outbox_with_two_purchases()
    publisher = RecordingEventPublisher()
    relay = _relay(store, publisher)
    store.fail_next_commit()  # the marks are lost after the broker acknowledged
    with pytest.raises(ConnectionError):
        relay.publish_pending()
    assert _backlog(store) == 4
    report = relay.publish_pending()
    assert report.duplicates == 4
    assert len(publisher.published) == 4
    assert _backlog(store) == 0


def test_backlog_lists_the_oldest_unpublished_events() -> None:
    store = _outbox_with_two_purchases()
    waiting, events = OutboxBacklog(functools.partial(InMemoryUnitOfWork, store)).unpublished(2)
    assert waiting == 4
    assert [(e.position, e.name) for e in events] == [
        (1, "purchase.created"),
        (2, "purchase.created"),
    ]
    assert events[0].event_id != events[1].event_id
