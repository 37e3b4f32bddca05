"""The operator's view of the webhook inbox: list stored notifications, replay one."""

from __future__ import annotations

from collections.abc import Callable

from payments.domain.errors import PaymentsError
from payments.domain.inbox import InboxMessage, InboxStatus
from payments.domain.ports import UnitOfWork
from payments.domain.services.notifications import NotificationService
from payments.domain.services.use_case import Progress, reporting


class InboxReview:
    """What ``payments inbox list`` and ``payments replay`` do, as use cases."""

    def __init__(self, uow: Callable[[], UnitOfWork], notifications: NotificationService) -> None:
        self._uow = uow
        self._notifications = notifications

    def recent(self, status: InboxStatus | None = None, limit: int = 50) -> list[InboxMessage]:
        """Stored notifications, newest first, optionally only those in ``status``."""
        with self._uow() as uow:
            return uow.inbox.list(status=status.value if status else None, limit=limit)

    def replay(self, message_id: str) -> str:
        """Process one stored notification again (its signature was checked when it arrived);
        returns its new status. ``NotFoundError`` for an unknown id."""
        return self._notifications.process_stored(message_id)

    def replay_all(
        self, status: InboxStatus, limit: int = 100, progress: Progress | None = None
    ) -> dict[str, int]:
        """Process again the ``limit`` most recent stored notifications in ``status``, oldest
        of them first; how many ended in each new status (``error``: the replay itself was
        refused). ``progress`` hears after each one."""
        outcomes: dict[str, int] = {}
        chosen = list(reversed(self.recent(status=status, limit=limit)))
        for message in reporting(chosen, progress):
            try:
                outcome = self.replay(message.id)
            except PaymentsError:
                outcome = "error"
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        return outcomes
