"""The system clock is UTC-aware and ids sort by creation time."""

from __future__ import annotations

import re

from payments.adapters.system import SystemClock, UlidGenerator


def test_clock_is_timezone_aware_utc() -> None:
    now = SystemClock().now()
    assert now.utcoffset() is not None
    assert now.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


def test_ids_are_unique_prefixed_and_sort_by_creation() -> None:
    ids = UlidGenerator()
    made = [ids.new("pur") for _ in range(2000)]
    assert len(set(made)) == len(made)
    assert made == sorted(made)
    assert all(re.fullmatch(r"pur_[0-9A-HJKMNP-TV-Z]{26}", i) for i in made)
