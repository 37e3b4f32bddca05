"""The operator's view of the webhook inbox: list stored notifications, replay one."""

from __future__ import annotations

from collections.abc import Callable

from payments.domain.inbox import InboxMessage, InboxStatus
from payments.domain.ports import UnitOfWork
from payments.domain.services.notifications import NotificationService


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
