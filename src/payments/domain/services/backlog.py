"""What waits for the worker: notifications in the inbox by status, events in the outbox."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from payments.domain.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class Backlog:
    """The inbox's messages by status, how many outbox events wait to be published, and when
    the oldest of them happened (None: nothing waits)."""

    inbox: dict[str, int]
    outbox_waiting: int
    oldest_unpublished_at: datetime | None

    def publish_lag_seconds(self, now: datetime) -> float:
        """How long the oldest unpublished event has waited (0 when nothing waits)."""
        if self.oldest_unpublished_at is None:
            return 0.0
        return max((now - self.oldest_unpublished_at).total_seconds(), 0.0)


class BacklogReview:
    """Reads the backlog in one transaction (for the metrics scrape, and operators)."""

    def __init__(self, unit_of_work: Callable[[], UnitOfWork]) -> None:
        self._uow = unit_of_work

    def current(self) -> Backlog:
        """The backlog as it stands now."""
        with self._uow() as uow:
            inbox = uow.inbox.count_by_status()
            waiting = uow.outbox.count_unpublished()
            oldest = uow.outbox.unpublished(1) if waiting else []
        return Backlog(inbox, waiting, oldest[0].occurred_at if oldest else None)
