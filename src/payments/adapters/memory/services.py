"""Fakes of the small ports: a clock you move, predictable ids, a rate limiter, an event log."""

from __future__ import annotations

import math
import threading
from collections import defaultdict, deque
from datetime import UTC, datetime, timedelta

from payments.domain.errors import PublishFailedError
from payments.domain.events import StoredEvent
from payments.domain.ports import (
    AdjustableClock,
    Clock,
    EventPublisher,
    IdGenerator,
    PublishAck,
    RateDecision,
    RateLimiter,
)


class FixedClock(AdjustableClock):
    """A clock that stands still until told to ``advance``."""

    def __init__(self, now: datetime | None = None) -> None:
        self.current = now or datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
        if self.current.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware time")

    def now(self) -> datetime:
        return self.current

    def advance(self, by: timedelta | None = None, **delta: float) -> datetime:
        """Move forward by ``by`` or ``timedelta(**delta)`` and return the new time."""
        self.current += (by or timedelta(0)) + timedelta(**delta)
        return self.current


class SequentialIds(IdGenerator):
    """``pur_000001``, ``pur_000002``, ...: readable, sortable and thread-safe."""

    def __init__(self) -> None:
        self._counters: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    def new(self, prefix: str) -> str:
        with self._lock:
            self._counters[prefix] += 1
            return f"{prefix}_{self._counters[prefix]:06d}"


class InMemoryRateLimiter(RateLimiter):
    """A sliding-window limiter on a clock, for one process.

    Keys whose hits have all left their window are forgotten every ``SWEEP_EVERY`` hits, so a
    public endpoint seeing many addresses does not grow the process without bound.
    """

    SWEEP_EVERY = 1024

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._hits: dict[str, deque[datetime]] = defaultdict(deque)
        self._windows: dict[str, timedelta] = {}
        self._since_sweep = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many keys are remembered now."""
        return len(self._hits)

    def _sweep(self, now: datetime) -> None:
        spent = [
            key
            for key, hits in self._hits.items()
            if not hits or hits[-1] <= now - self._windows[key]
        ]
        for key in spent:
            del self._hits[key]
            del self._windows[key]

    def hit(self, key: str, limit: int, window_seconds: int) -> RateDecision:
        now = self._clock.now()
        window = timedelta(seconds=window_seconds)
        with self._lock:
            self._since_sweep += 1
            if self._since_sweep >= self.SWEEP_EVERY:
                self._since_sweep = 0
                self._sweep(now)
            self._windows[key] = window
            hits = self._hits[key]
            while hits and hits[0] <= now - window:
                hits.popleft()
            if len(hits) >= limit:
                retry = math.ceil((hits[0] + window - now).total_seconds())
                return RateDecision(False, max(retry, 1))
            hits.append(now)
            return RateDecision(True, 0)


class RecordingEventPublisher(EventPublisher):
    """A broker that keeps every event it stored in ``published`` (a re-publish of a known event
    id is acknowledged as a duplicate and stored once, as JetStream does).

    Fault injection: ``fail_next(n, after=k)`` makes ``n`` publishes raise ``PublishFailedError``
    once ``k`` more have gone through;
    ``down = True`` makes every publish raise until it is set back to False. ``attempts`` lists
    the event id of every publish tried, failed ones too.
    """

    def __init__(self) -> None:
        self.published: list[StoredEvent] = []
        self.attempts: list[str] = []
        self.down = False
        self.closed = False
        self._failures = 0
        self._failures_after = 0
        self._ids: set[str] = set()
        self._lock = threading.Lock()

    def fail_next(self, count: int = 1, *, after: int = 0) -> None:
        """``count`` publishes fail, as a broker that stopped answering would, once ``after``
        more publishes have gone through."""
        with self._lock:
            self._failures += count
            self._failures_after = after

    def publish(self, event: StoredEvent) -> PublishAck:
        with self._lock:
            self.attempts.append(event.event_id)
            if self._failures and self._failures_after:
                self._failures_after -= 1
            elif self._failures:
                self._failures -= 1
                raise PublishFailedError("The event broker is unreachable (injected fault).")
            if self.down:
                raise PublishFailedError("The event broker is unreachable (injected fault).")
            if event.event_id in self._ids:
                return PublishAck(len(self.published), duplicate=True)
            self._ids.add(event.event_id)
            self.published.append(event)
            return PublishAck(len(self.published))

    def close(self) -> None:
        self.closed = True
