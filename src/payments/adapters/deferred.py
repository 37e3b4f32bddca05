"""Adapters on heavy libraries, imported when first built or used rather than when a process starts.

Every API worker imports what the composition root names. These libraries serve rare requests or
other processes, and each would cost every worker its memory from the start (RSS measured in
docs/benchmarks.md, issue 13): fpdf2 with fontTools and Pillow about 30 MiB (an invoice's PDF),
nats-py with its asyncio client about 10 MiB (the worker's event relay), redis-py about 7 MiB
(only with ``PAYMENTS_REDIS_URL``). Each function imports its library on its first call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fpdf import FPDF

    from payments.adapters.events.nats_publisher import NatsEventPublisher
    from payments.adapters.redis_rate_limiter import RedisRateLimiter
    from payments.domain.ports import Clock


def fpdf_document() -> type[FPDF]:
    """fpdf2's document class."""
    from fpdf import FPDF  # noqa: PLC0415 - about 30 MiB per process, for invoice PDFs only

    return FPDF


def nats_event_publisher(
    url: str, *, stream: str, subject_prefix: str, timeout: float = 5.0
) -> NatsEventPublisher:
    """The NATS JetStream publisher (``NatsEventPublisher``) on ``url``."""
    # nats-py and its asyncio client: about 10 MiB per process, for the worker's relay only.
    from payments.adapters.events.nats_publisher import NatsEventPublisher  # noqa: PLC0415

    return NatsEventPublisher(url, stream=stream, subject_prefix=subject_prefix, timeout=timeout)


def redis_rate_limiter(url: str, clock: Clock) -> RedisRateLimiter:
    """The Redis rate limiter (``RedisRateLimiter``) on a client for ``url``."""
    # redis-py: about 7 MiB per process, only when PAYMENTS_REDIS_URL is set.
    from payments.adapters.redis_rate_limiter import (  # noqa: PLC0415
        RedisRateLimiter,
        make_redis_client,
    )

    return RedisRateLimiter(make_redis_client(url), clock)


def parse_redis_url(url: str) -> None:
    """Parse ``url`` as redis-py does (nothing connects); raises ``ValueError`` if malformed."""
    from redis import ConnectionPool  # noqa: PLC0415 - about 7 MiB, only with a Redis URL

    ConnectionPool.from_url(url)
