"""A rate limiter shared by every API worker and machine: a sliding window log in Redis."""

from __future__ import annotations

import logging
import math
import secrets

import redis

from payments.domain.ports import Clock, RateDecision, RateLimiter

log = logging.getLogger(__name__)

# One atomic step: drop hits older than the window, refuse when the window is full (answering
# when its oldest hit leaves), else record this hit. KEYS[1]: the key; ARGV: now in ms, window
# in ms, limit, a unique member for this hit.
_HIT = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
if redis.call('ZCARD', key) >= limit then
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return {0, tonumber(oldest[2]) + window - now}
end
redis.call('ZADD', key, now, ARGV[4])
redis.call('PEXPIRE', key, window)
return {1, 0}
"""

KEY_PREFIX = "payments:rate:"


class RedisRateLimiter(RateLimiter):
    """The same sliding window as the in-memory limiter, counted in Redis so that several API
    workers share one quota.

    Time comes from ``clock`` (every node's clock is UTC from NTP; a skew of a few ms moves a
    window's edge by as much). When Redis cannot be reached the hit is allowed and logged: a
    limiter outage must not take checkout down with it.
    """

    def __init__(self, client: redis.Redis, clock: Clock, *, prefix: str = KEY_PREFIX) -> None:
        self._client = client
        self._clock = clock
        self._prefix = prefix
        self._script = client.register_script(_HIT)

    def hit(self, key: str, limit: int, window_seconds: int) -> RateDecision:
        """Count one hit on ``key``; refused once ``limit`` hits fall in the window."""
        now_ms = int(self._clock.now().timestamp() * 1000)
        window_ms = window_seconds * 1000
        member = f"{now_ms}:{secrets.token_hex(8)}"
        try:
            allowed, retry_ms = self._script(
                keys=[self._prefix + key], args=[now_ms, window_ms, limit, member]
            )
        except redis.RedisError as error:
            log.warning("rate limiter unavailable, allowing %s: %s", key, error)
            return RateDecision(True, 0)
        if int(allowed):
            return RateDecision(True, 0)
        return RateDecision(False, max(math.ceil(int(retry_ms) / 1000), 1))


def make_redis_client(url: str) -> redis.Redis:
    """A client for ``url`` with short timeouts: a slow limiter must not slow every request."""
    return redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
