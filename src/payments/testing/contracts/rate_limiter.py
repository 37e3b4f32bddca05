"""The rate-limiter contract: what every ``RateLimiter``, in memory or shared, must do."""

from __future__ import annotations

from collections.abc import Callable

from payments.adapters.memory import FixedClock
from payments.domain.ports import RateLimiter
from payments.testing.expect import expect, expect_equal

MakeLimiter = Callable[[FixedClock], RateLimiter]
"""Builds a limiter reading ``clock``; two built by one factory share their counts (two
workers of one service)."""


class RateLimiterContract:
    """What every ``RateLimiter`` promises; subclasses provide the ``make_limiter`` fixture."""

    def test_hits_up_to_the_limit_are_allowed_then_refused(self, make_limiter: MakeLimiter) -> None:
        limiter = make_limiter(FixedClock())
        answers = [limiter.hit("ip:203.0.113.7", 3, 3600).allowed for _ in range(4)]
        expect_equal(answers, [True, True, True, False])

    def test_a_refusal_says_when_the_oldest_hit_leaves_the_window(
        self, make_limiter: MakeLimiter
    ) -> None:
        clock = FixedClock()
        limiter = make_limiter(clock)
        limiter.hit("k", 2, 60)
        clock.advance(seconds=20)
        limiter.hit("k", 2, 60)
        refused = limiter.hit("k", 2, 60)
        expect_equal((refused.allowed, refused.retry_after), (False, 40))

    def test_the_window_slides(self, make_limiter: MakeLimiter) -> None:
        clock = FixedClock()
        limiter = make_limiter(clock)
        limiter.hit("k", 2, 60)
        clock.advance(seconds=30)
        limiter.hit("k", 2, 60)
        expect(not limiter.hit("k", 2, 60).allowed, "the third hit in the window is refused")
        clock.advance(seconds=31)  # the first hit left the window, the second has not
        expect(limiter.hit("k", 2, 60).allowed, "a hit left the window: room for one more")
        expect(not limiter.hit("k", 2, 60).allowed, "and only one")

    def test_keys_are_counted_apart(self, make_limiter: MakeLimiter) -> None:
        limiter = make_limiter(FixedClock())
        expect(limiter.hit("email:ana@example.com", 1, 3600).allowed, "ana's first hit")
        expect(limiter.hit("email:bea@example.com", 1, 3600).allowed, "bea's first hit")
        expect(not limiter.hit("email:ana@example.com", 1, 3600).allowed, "ana's second hit")

    def test_two_workers_share_one_quota(self, make_limiter: MakeLimiter) -> None:
        clock = FixedClock()
        first, second = make_limiter(clock), make_limiter(clock)
        expect_equal([first.hit("k", 3, 60).allowed, second.hit("k", 3, 60).allowed], [True, True])
        expect(first.hit("k", 3, 60).allowed, "the third hit of three is allowed")
        expect(not second.hit("k", 3, 60).allowed, "the fourth, on the other worker, is refused")

    def test_a_refused_hit_does_not_count(self, make_limiter: MakeLimiter) -> None:
        clock = FixedClock()
        limiter = make_limiter(clock)
        limiter.hit("k", 1, 60)
        for _ in range(5):
            expect(not limiter.hit("k", 1, 60).allowed, "over the limit")
        clock.advance(seconds=61)
        expect(limiter.hit("k", 1, 60).allowed, "refused hits did not extend the window")
