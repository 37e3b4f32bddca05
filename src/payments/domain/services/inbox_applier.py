"""The worker's side of ingest mode: apply the notifications stored as ``received``, in batches.

In ingest mode (decision 0042) the API stores each verified delivery and answers at once; this
use case then applies them, oldest first, through the same apply step as a delivery applied
on arrival: a batch of received messages is claimed, applied and settled in one transaction.
A batch that fails is applied again one message at a time (``process_stored``), so that one
bad message is stored as failed, for the retries, and the others are booked.
"""

from __future__ import annotations

import logging
from collections import Counter

from payments.domain.inbox import InboxMessage
from payments.domain.services.notifications import NotificationService, Verified, apply_all
from payments.domain.services.use_case import GatewayUseCase

log = logging.getLogger(__name__)

DEFAULT_CLAIM = 200
"""The most received messages one transaction applies."""


class InboxApplier(GatewayUseCase):
    """Applies stored ``received`` notifications (``apply_received``), as the worker does."""

    def __init__(self, notifications: NotificationService) -> None:
        super().__init__(notifications.wiring)
        self._notifications = notifications

    def apply_received(self, limit: int = DEFAULT_CLAIM) -> dict[str, int]:
        """Apply up to ``limit`` received messages, oldest first; how many ended in each status.

        Claimed ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers applying at once take
        disjoint messages; the claim, the apply step and the messages' new statuses commit
        together. Messages about one purchase are applied in the order they arrived.
        """
        now = self._clock.now()
        claimed: list[InboxMessage] = []
        try:
            with self._uow() as uow:
                claimed = uow.inbox.claim_received(limit)
                if not claimed:
                    return {}
                notifications = self._notifications
                batch = [Verified(m, notifications.parse_stored(m)) for m in claimed]
                apply_all(uow, batch, now=now, ids=self._ids, invoicing=self._invoicing)
                uow.inbox.save_all(claimed)
                uow.commit()
        except Exception:
            if not claimed:
                raise
            log.warning("a batch of %d received notifications failed; each alone", len(claimed))
            return self._one_by_one(claimed)
        return dict(Counter(message.status.value for message in claimed))

    def _one_by_one(self, claimed: list[InboxMessage]) -> dict[str, int]:
        return dict(Counter(self._notifications.process_stored(m.id) for m in claimed))
