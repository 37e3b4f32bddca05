"""The rate-limiter contract run on the in-memory limiter and on the Redis one shared by
workers, and what only one of them does."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from payments.adapters.memory import FixedClock, InMemoryRateLimiter
from payments.adapters.redis_rate_limiter import RedisRateLimiter, make_redis_client
from payments.config import Settings
from payments.containers import build_container
from payments.domain.ports import RateLimiter
from payments.testing.contracts.rate_limiter import MakeLimiter, RateLimiterContract

REDIS_URL_VARIABLE = "PAYMENTS_TEST_REDIS_URL"
REQUIRE_REDIS_VARIABLE = "PAYMENTS_REQUIRE_REDIS"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/15"


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


class TestInMemoryRateLimiter(RateLimiterContract):
    @pytest.fixture
    def make_limiter(self) -> MakeLimiter:
        shared: dict[int, InMemoryRateLimiter] = {}

        def memory(clock: FixedClock) -> RateLimiter:
            return shared.setdefault(id(clock), InMemoryRateLimiter(clock))

        return memory


class TestRedisRateLimiter(RateLimiterContract):
    @pytest.fixture
    def make_limiter(self, redis_client: redis.Redis) -> Iterator[MakeLimiter]:
        prefix = f"payments:test:{secrets.token_hex(6)}:"

        def shared_redis(clock: FixedClock) -> RateLimiter:
            return RedisRateLimiter(redis_client, clock, prefix=prefix)

        yield shared_redis
        for key in redis_client.scan_iter(match=prefix + "*"):
            redis_client.delete(key)


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
