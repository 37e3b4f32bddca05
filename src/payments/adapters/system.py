"""The real clock and time-ordered ids."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime

from payments.domain.ports import Clock, IdGenerator

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Two characters (10 bits) per lookup: 13 lookups spell the 26 characters of a 128-bit value
# (the first pair's 2 leading bits are always zero), half the work of one per character.
_PAIRS = tuple(first + second for first in _CROCKFORD for second in _CROCKFORD)
_PAIR_SHIFTS = tuple(range(120, -1, -10))


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
        return f"{prefix}_{''.join([_PAIRS[(value >> shift) & 1023] for shift in _PAIR_SHIFTS])}"
