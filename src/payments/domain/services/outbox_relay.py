"""Publishing the outbox: claimed events go to the broker, and are marked only once acknowledged."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from payments.domain.errors import PublishFailedError
from payments.domain.events import StoredEvent
from payments.domain.ports import Clock, EventPublisher, UnitOfWork

log = logging.getLogger(__name__)

DEFAULT_BATCH = 100
"""Events claimed (and published) per transaction."""


@dataclass
class RelayReport:
    """What one ``publish_pending`` did: the event ids acknowledged (``duplicates`` of them the
    broker already had), and the failure that stopped it, if one did."""

    published: list[str] = field(default_factory=list)
    duplicates: int = 0
    failure: PublishFailedError | None = None


class EventRelay:
    """Sends the outbox's unpublished events to the broker, batch by batch.

    Each batch is claimed in one unit of work (another relay skips the claimed aggregates),
    published one event at a time in outbox order, and the acknowledged events are marked in the
    same unit of work. A publish that fails stops the round: the events after it, of any
    aggregate, wait for the next round, so an aggregate's events never overtake each other. An
    event published but not marked (the process died, the commit failed) is sent again under
    its event id, which the broker drops as a duplicate.
    """

    def __init__(
        self,
        unit_of_work: Callable[[], UnitOfWork],
        publisher: EventPublisher,
        clock: Clock,
        *,
        batch_size: int = DEFAULT_BATCH,
    ) -> None:
        self._uow = unit_of_work
        self._publisher = publisher
        self._clock = clock
        self._batch_size = batch_size

    def publish_pending(self, max_batches: int = 10) -> RelayReport:
        """Publish up to ``max_batches`` batches of unpublished events; stops early when the
        outbox is empty or a publish fails (``report.failure``)."""
        report = RelayReport()
        for _ in range(max_batches):
            claimed = self._publish_batch(report)
            if report.failure is not None or claimed < self._batch_size:
                break
        return report

    def _publish_batch(self, report: RelayReport) -> int:
        """Claim, publish and mark one batch; returns how many events were claimed."""
        with self._uow() as uow:
            batch = uow.outbox.claim_unpublished(self._batch_size)
            acknowledged: list[StoredEvent] = []
            for event in batch:
                try:
                    ack = self._publisher.publish(event)
                except PublishFailedError as error:
                    report.failure = error
                    log.warning(
                        "outbox: publishing %s (%s) failed, %s left for the next round: %s",
                        event.event_id,
                        event.name,
                        len(batch) - len(acknowledged),
                        error.message,
                    )
                    break
                acknowledged.append(event)
                report.duplicates += ack.duplicate
            if acknowledged:
                uow.outbox.mark_published([e.position for e in acknowledged], self._clock.now())
                uow.commit()
            report.published.extend(e.event_id for e in acknowledged)
            return len(batch)

    def close(self) -> None:
        """Let go of the broker connection."""
        self._publisher.close()


class OutboxBacklog:
    """What waits in the outbox, for operators (``payments events list --unpublished``)."""

    def __init__(self, unit_of_work: Callable[[], UnitOfWork]) -> None:
        self._uow = unit_of_work

    def unpublished(self, limit: int = 50) -> tuple[int, list[StoredEvent]]:
        """How many events wait, and the oldest ``limit`` of them in outbox order."""
        with self._uow() as uow:
            return uow.outbox.count_unpublished(), uow.outbox.unpublished(limit)
