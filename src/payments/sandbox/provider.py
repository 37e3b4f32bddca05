"""What every provider simulator shares: its lock, clock, saved answers and signed events."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from payments.domain.errors import InvalidTransitionError
from payments.sandbox.delivery import Deliver, Delivery, EventStyle, SignedEvents
from payments.sandbox.idempotency import SavedAnswers

__all__ = ["SimulatedProvider", "require_status"]


def require_status(status: str, allowed: frozenset[str], refusal: str) -> None:
    """Refuse a change from ``status`` unless it is ``allowed``: ``InvalidTransitionError``
    with the ``refusal`` message and the status in its details."""
    if status not in allowed:
        raise InvalidTransitionError(refusal, details={"status": status})


class SimulatedProvider:
    """The base of a provider simulator: state guarded by one re-entrant lock, answers saved
    by ``Idempotency-Key``, and events signed with the provider's secret and delivered to our
    webhook endpoint (``deliveries`` lists them, ``redeliver`` sends one again)."""

    def __init__(
        self,
        style: EventStyle,
        secret: str,
        deliver: Deliver | None,
        *,
        webhook_path: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self._answers = SavedAnswers()
        self._events = SignedEvents(
            style, [secret], deliver, webhook_path=webhook_path, clock=clock
        )

    @property
    def deliveries(self) -> list[Delivery]:
        """Every event handed to ``deliver``, in order."""
        return self._events.deliveries

    def redeliver(self, event_id: str) -> dict[str, object]:
        """Send an event again, same id and body, freshly signed: a duplicate delivery."""
        return self._events.redeliver(event_id)

    def sign(self, timestamp: int, body: bytes) -> str:
        """The signature header value the provider would send with ``body`` at ``timestamp``."""
        return self._events.sign(timestamp, body)

    def _now(self) -> int:
        return int(self._clock())
