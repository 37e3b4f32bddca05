"""The real clock and time-ordered ids."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime

from payments.domain.ports import Clock, IdGenerator

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class SystemClock(Clock):
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class UlidGenerator(IdGenerator):
    """``pur_01JD...``: a prefix and a ULID (48-bit ms + 80 random bits, Crockford base32).

    Ids made in the same millisecond by one process increase monotonically, so ids sort by
    creation time, which keeps cursor pagination and index locality cheap.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = 0
        self._last_random = 0

    def new(self, prefix: str) -> str:
        with self._lock:
            ms = time.time_ns() // 1_000_000
            if ms <= self._last_ms:
                ms = self._last_ms
                self._last_random += 1
            else:
                self._last_random = int.from_bytes(os.urandom(10), "big") >> 1
            self._last_ms = ms
            value = (ms << 80) | (self._last_random & ((1 << 80) - 1))
        chars = []
        for _ in range(26):
            chars.append(_CROCKFORD[value & 31])
            value >>= 5
        return f"{prefix}_{''.join(reversed(chars))}"
