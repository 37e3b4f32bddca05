"""The system clock is UTC-aware and ids sort by creation time."""

from __future__ import annotations

import re
import time

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


def test_an_id_spells_its_millisecond_and_a_random_part_in_crockford_base32() -> None:
    before = time.time_ns() // 1_000_000
    made = UlidGenerator().new("whk")
    after = time.time_ns() // 1_000_000
    value = 0
    for char in made.removeprefix("whk_"):
        value = value * 32 + "0123456789ABCDEFGHJKMNPQRSTVWXYZ".index(char)
    assert before <= value >> 80 <= after
    assert value < 2**128
