"""HTTP transport faults: was a request provably never sent, its domain error, and safe retries."""

from __future__ import annotations

import logging
import random
import socket
import time
from collections.abc import Callable
from typing import Final, TypeVar

import requests
import urllib3.exceptions

from payments.domain.errors import (
    GatewayConfigurationError,
    GatewayUnavailableError,
    PaymentsError,
)

__all__ = [
    "backoff_delay",
    "error_for_transport",
    "never_sent",
    "retry_unsent",
]

log = logging.getLogger(__name__)

_T = TypeVar("_T")

Jitter = Callable[[float, float], float]
"""Draws a delay between its two bounds (``random.uniform``; a test passes a fixed choice)."""

# Each of these is raised before a byte of the request left us: the connection was never made
# (refused, timed out while connecting, a name that does not resolve, a closed pool) or its TLS
# handshake failed. A read timeout or a connection dropped after sending proves nothing.
_NEVER_SENT: Final = (
    requests.exceptions.ConnectTimeout,
    requests.exceptions.SSLError,
    urllib3.exceptions.ConnectTimeoutError,
    urllib3.exceptions.NewConnectionError,
    urllib3.exceptions.ClosedPoolError,
    ConnectionRefusedError,
    socket.gaierror,
)

_BAD_URL: Final = (
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    requests.exceptions.InvalidSchema,
    requests.exceptions.URLRequired,
)


def never_sent(error: BaseException) -> bool:
    """True when ``error`` proves the request never left: the connection was not made.

    Walks everything the error links to (its cause and context, urllib3's ``reason``, and the
    exceptions among its arguments), so it sees through ``requests`` wrapping urllib3 wrapping
    the socket error, and through an SDK raising its own error ``from`` the transport's.
    """
    pending: list[BaseException] = [error]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, _NEVER_SENT):
            return True
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        linked.extend(current.args)
        pending.extend(item for item in linked if isinstance(item, BaseException))
    return False


def error_for_transport(provider_name: str, error: requests.RequestException) -> PaymentsError:
    """The domain error for a ``requests`` call that got no HTTP answer from ``provider_name``.

    A malformed URL is our configuration; a request that provably never left is an outage that
    cannot have charged; a timeout or a connection dropped after sending may have charged.
    """
    if isinstance(error, _BAD_URL):
        return GatewayConfigurationError(f"The {provider_name} gateway URL is invalid.")
    if never_sent(error):
        return GatewayUnavailableError(
            f"The {provider_name} gateway could not be reached.", charged_possible=False
        )
    if isinstance(error, requests.Timeout):
        return GatewayUnavailableError(
            f"The {provider_name} gateway did not answer in time.", charged_possible=True
        )
    return GatewayUnavailableError(
        f"The connection to the {provider_name} gateway failed.", charged_possible=True
    )


def backoff_delay(attempt: int, backoff: float, jitter: Jitter = random.uniform) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (from 1): the ceiling doubles from
    ``backoff`` with each attempt, and the wait is half of it plus a random part of the other
    half, so that many workers retrying at once spread out (a load measure, not a secret)."""
    ceiling = backoff * 2.0 ** (attempt - 1)
    return ceiling / 2 + jitter(0, ceiling / 2)


def retry_unsent(
    call: Callable[[], _T],
    *,
    attempts: int,
    backoff: float,
    sleep: Callable[[float], None] = time.sleep,
    jitter: Jitter = random.uniform,
    also: Callable[[Exception], bool] | None = None,
    what: str = "request",
) -> _T:
    """``call()``, tried up to ``attempts`` times while it fails with an error that proves the
    request never left (``never_sent``), with ``backoff_delay`` between tries: safe for any call,
    since nothing can have been charged. ``also`` may accept more errors, for a call that is
    safe to repeat anyway (a GET, or a POST under an idempotency key). Any other error, and the
    last one, leaves unchanged.
    """
    if attempts < 1 or backoff < 0:
        raise ValueError("A retry needs at least one attempt and a backoff of 0 or more.")
    for attempt in range(1, attempts):
        try:
            return call()
        except Exception as error:
            if not (never_sent(error) or (also is not None and also(error))):
                raise
            delay = backoff_delay(attempt, backoff, jitter)
            log.info("%s failed (%s); retrying in %.2fs", what, type(error).__name__, delay)
            sleep(delay)
    return call()
