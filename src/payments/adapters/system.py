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


class SystemClock(Clock):
    """Wall-clock time in UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class UlidGenerator(IdGenerator):
    """``pur_01JD...``: a prefix and a ULID (48-bit ms + 80 random bits, Crockford base32).

    Ids made in the same millisecond by one process increase monotonically, so ids sort by
    creation time, which keeps cursor pagination and index locality cheap.

    The text is spelled in parts: the millisecond and the random part's upper 40 bits (18
    characters) once per millisecond (or carry), the lower 40 bits (8 characters) per id.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = 0
        self._last_random = 0
        self._head_key = (-1, -1)
        self._head = ""

    def new(self, prefix: str) -> str:
        with self._lock:
            ms = time.time_ns() // 1_000_000
            if ms <= self._last_ms:
                ms = self._last_ms
                self._last_random += 1
            else:
                self._last_random = int.from_bytes(os.urandom(10), "big") >> 1
                self._last_ms = ms
            random = self._last_random & _RANDOM_MASK
            high = random >> 40
            if self._head_key != (ms, high):
                self._head_key = (ms, high)
                self._head = _spelled(ms, 5) + _spelled(high, 4)
            low = random & _LOW_MASK
            head = self._head
        pairs = _PAIRS
        return (
            f"{prefix}_{head}{pairs[low >> 30]}{pairs[(low >> 20) & 1023]}"
            f"{pairs[(low >> 10) & 1023]}{pairs[low & 1023]}"
        )


_RANDOM_MASK = (1 << 80) - 1
_LOW_MASK = (1 << 40) - 1


def _spelled(value: int, pairs: int) -> str:
    """The lowest ``pairs`` * 10 bits of ``value`` in Crockford base32, most significant first."""
    return "".join([_PAIRS[(value >> shift) & 1023] for shift in range(10 * (pairs - 1), -1, -10)])
