"""One contract for every rate limiter: the in-memory one and the Redis one shared by workers."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from payments.adapters.memory import FixedClock, InMemoryRateLimiter
from payments.adapters.redis_rate_limiter import RedisRateLimiter, make_redis_client
from payments.config import Settings
from payments.containers import build_container
from payments.domain.ports import RateLimiter

REDIS_URL_VARIABLE = "PAYMENTS_TEST_REDIS_URL"
REQUIRE_REDIS_VARIABLE = "PAYMENTS_REQUIRE_REDIS"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"

MakeLimiter = Callable[[FixedClock], RateLimiter]


@pytest.fixture(scope="module")
def redis_client() -> Iterator[redis.Redis]:
    """A Redis server for these tests; skipped with the reason when none answers (CI requires
    one: ``PAYMENTS_REQUIRE_REDIS=1``)."""
    url = os.environ.get(REDIS_URL_VARIABLE, DEFAULT_REDIS_URL)
    client = make_redis_client(url)
    try:
        client.ping()
    except redis.RedisError as error:
        message = f"Redis at {url} is not reachable ({type(error).__name__})."
        if os.environ.get(REQUIRE_REDIS_VARIABLE) == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(f"{message} Set {REDIS_URL_VARIABLE} to run the Redis tests.")
    yield client
    client.close()


@pytest.fixture(params=["memory", "redis"])
def make_limiter(request: pytest.FixtureRequest) -> Iterator[MakeLimiter]:
    """Builds limiters of one kind; two built by one factory share their counts (two workers)."""
    if request.param == "memory":
        shared: dict[int, InMemoryRateLimiter] = {}

        def memory(clock: FixedClock) -> RateLimiter:
            return shared.setdefault(id(clock), InMemoryRateLimiter(clock))

        yield memory
        return
    client: redis.Redis = request.getfixturevalue("redis_client")
    prefix = f"payments:test:{secrets.token_hex(6)}:"

    def shared_redis(clock: FixedClock) -> RateLimiter:
        return RedisRateLimiter(client, clock, prefix=prefix)

    yield shared_redis
    for key in client.scan_iter(match=prefix + "*"):
        client.delete(key)


def test_hits_up_to_the_limit_are_allowed_then_refused(make_limiter: MakeLimiter) -> None:
    limiter = make_limiter(FixedClock())
    answers = [limiter.hit("ip:203.0.113.7", 3, 3600).allowed for _ in range(4)]
    assert answers == [True, True, True, False]


def test_a_refusal_says_when_the_oldest_hit_leaves_the_window(make_limiter: MakeLimiter) -> None:
    clock = FixedClock()
    limiter = make_limiter(clock)
    limiter.hit("k", 2, 60)
    clock.advance(seconds=20)
    limiter.hit("k", 2, 60)
    refused = limiter.hit("k", 2, 60)
    assert (refused.allowed, refused.retry_after) == (False, 40)


def test_the_window_slides(make_limiter: MakeLimiter) -> None:
    clock = FixedClock()
    limiter = make_limiter(clock)
    limiter.hit("k", 2, 60)
    clock.advance(seconds=30)
    limiter.hit("k", 2, 60)
    assert not limiter.hit("k", 2, 60).allowed
    clock.advance(seconds=31)  # the first hit left the window, the second has not
    assert limiter.hit("k", 2, 60).allowed
    assert not limiter.hit("k", 2, 60).allowed


def test_keys_are_counted_apart(make_limiter: MakeLimiter) -> None:
    limiter = make_limiter(FixedClock())
    assert limiter.hit("email:ana@example.com", 1, 3600).allowed
    assert limiter.hit("email:bea@example.com", 1, 3600).allowed
    assert not limiter.hit("email:ana@example.com", 1, 3600).allowed


def test_two_workers_share_one_quota(make_limiter: MakeLimiter) -> None:
    clock = FixedClock()
    first, second = make_limiter(clock), make_limiter(clock)
    assert [first.hit("k", 3, 60).allowed, second.hit("k", 3, 60).allowed] == [True, True]
    assert first.hit("k", 3, 60).allowed
    assert not second.hit("k", 3, 60).allowed


def test_a_refused_hit_does_not_count(make_limiter: MakeLimiter) -> None:
    clock = FixedClock()
    limiter = make_limiter(clock)
    limiter.hit("k", 1, 60)
    for _ in range(5):
        assert not limiter.hit("k", 1, 60).allowed
    clock.advance(seconds=61)
    assert limiter.hit("k", 1, 60).allowed


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_redis_lets_requests_through_rather_than_stopping_checkout() -> None:
    client = make_redis_client(f"redis://127.0.0.1:{_closed_port()}/0")
    limiter = RedisRateLimiter(client, FixedClock())
    assert all(limiter.hit("k", 1, 60).allowed for _ in range(3))


def test_the_container_shares_limits_through_redis_when_a_url_is_set(
    redis_client: redis.Redis, tmp_path: Path
) -> None:
    settings = Settings.from_env(
        {
            "PAYMENTS_DATABASE_URL": f"sqlite:///{tmp_path / 'payments.db'}",
            "PAYMENTS_REDIS_URL": os.environ.get(REDIS_URL_VARIABLE, DEFAULT_REDIS_URL),
        }
    )
    assert isinstance(build_container(settings).rate_limiter(), RedisRateLimiter)
    embedded = Settings.from_env({"PAYMENTS_DATABASE_URL": f"sqlite:///{tmp_path / 'p2.db'}"})
    assert isinstance(build_container(embedded).rate_limiter(), InMemoryRateLimiter)


def test_the_in_memory_limiter_forgets_keys_whose_window_has_passed() -> None:
    clock = FixedClock()
    limiter = InMemoryRateLimiter(clock)
    for n in range(InMemoryRateLimiter.SWEEP_EVERY - 1):
        limiter.hit(f"ip:198.51.100.{n}", 10, 60)
    assert len(limiter) == InMemoryRateLimiter.SWEEP_EVERY - 1
    clock.advance(seconds=61)
    limiter.hit("ip:203.0.113.7", 10, 60)  # the sweep runs on this hit
    assert len(limiter) == 1
    assert limiter.hit("ip:198.51.100.1", 1, 60).allowed  # a forgotten key starts afresh
