"""HTTP transport faults: was a request provably never sent, its domain error, and safe retries."""

from __future__ import annotations

import json
import logging
import random
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, ParamSpec, TypeVar

import requests
import urllib3.exceptions

from payments.domain.errors import (
    GatewayConfigurationError,
    GatewayUnavailableError,
    PaymentsError,
)

__all__ = [
    "HttpRetries",
    "ProviderHttp",
    "backoff_delay",
    "decode_json_answer",
    "error_for_transport",
    "never_sent",
    "retry_unsent",
    "translate_answer",
]

log = logging.getLogger(__name__)

_T = TypeVar("_T")
_P = ParamSpec("_P")

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
    asked_wait: Callable[[Exception], float] | None = None,
) -> _T:
    """``call()``, tried up to ``attempts`` times while it fails with an error that proves the
    request never left (``never_sent``), with ``backoff_delay`` between tries: safe for any call,
    since nothing can have been charged. ``also`` may accept more errors, for a call that is
    safe to repeat anyway (a GET, or a POST under an idempotency key). Any other error, and the
    last one, leaves unchanged. ``asked_wait(error)``: seconds the server asked to wait
    (Retry-After), waited when longer than the backoff.
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
            if asked_wait is not None:
                delay = max(delay, asked_wait(error))
            log.info("%s failed (%s); retrying in %.2fs", what, type(error).__name__, delay)
            sleep(delay)
    return call()


@dataclass(frozen=True, slots=True)
class HttpRetries:
    """How a provider's HTTP calls are retried: ``attempts`` in all, ``backoff`` seconds as the
    first ceiling of ``backoff_delay``, ``sleep`` to wait (a test passes one that records)."""

    attempts: int = 3
    backoff: float = 0.2
    sleep: Callable[[float], None] = time.sleep
    longest_retry_after: float = 0.0
    """A retried answer's ``Retry-After`` (in seconds) up to this is waited as asked; 0: the
    backoff alone decides."""


class _RetryableAnswer(Exception):
    """An HTTP answer worth asking again for, raised to be retried."""

    def __init__(self, response: requests.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _retry_after(longest: float) -> Callable[[Exception], float]:
    """The seconds a retried answer's ``Retry-After`` asks for, at most ``longest`` (0 when
    there is none, it is not a number of seconds, or the error is not an answer)."""

    def asked(error: Exception) -> float:
        if not isinstance(error, _RetryableAnswer):
            return 0.0
        text = error.response.headers.get("Retry-After", "")
        return min(float(text), longest) if text.isdigit() else 0.0

    return asked


def _worth_repeating(provider: str) -> Callable[[Exception], bool]:
    """For a request safe to repeat: a retryable answer, or any failure to get one except our
    own bad URL."""

    def worth(error: Exception) -> bool:
        if isinstance(error, _RetryableAnswer):
            return True
        if not isinstance(error, requests.RequestException):
            return False
        return isinstance(error_for_transport(provider, error), GatewayUnavailableError)

    return worth


class ProviderHttp:
    """One provider's HTTP API over a ``requests.Session``: its base URL, timeout and retries.

    ``send`` is repeated, with ``backoff_delay`` between tries, while the request provably never
    left; a request ``repeatable`` (a GET, or a POST under an idempotency key) also after any
    outage and after an answer whose status ``retry_status`` accepts. A failure to get any
    answer becomes ``error_for_transport(provider, ...)``, raised from it.
    """

    def __init__(
        self,
        session: requests.Session,
        base_url: str,
        *,
        provider: str,
        timeout: float | tuple[float, float],
        retries: HttpRetries,
        retry_status: Callable[[int], bool],
    ) -> None:
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._provider = provider
        self._timeout = timeout
        self._retries = retries
        self._retry_status = retry_status
        self._worth_repeating = _worth_repeating(provider)

    def send(
        self,
        method: str,
        path: str,
        *,
        repeatable: bool,
        headers: Mapping[str, str],
        params: Mapping[str, str] | None = None,
        data: bytes | None = None,
    ) -> requests.Response:
        """The last answer to ``method path``, whatever its status (the caller decodes it)."""
        url = self._base_url + path

        def attempt() -> requests.Response:
            response = self._session.request(
                method, url, params=params, data=data, headers=dict(headers), timeout=self._timeout
            )
            if repeatable and self._retry_status(response.status_code):
                raise _RetryableAnswer(response)
            return response

        try:
            return retry_unsent(
                attempt,
                attempts=self._retries.attempts,
                backoff=self._retries.backoff,
                sleep=self._retries.sleep,
                also=self._worth_repeating if repeatable else None,
                what=f"{self._provider} {method} {path}",
                asked_wait=_retry_after(self._retries.longest_retry_after),
            )
        except _RetryableAnswer as answer:  # the last attempt's answer: decoded as an error
            return answer.response
        except requests.RequestException as error:
            raise error_for_transport(self._provider, error) from error


def unreadable_answer(label: str) -> GatewayUnavailableError:
    """A 2xx answer we cannot read: the provider may still have acted, so it may have charged."""
    return GatewayUnavailableError(f"{label} answered something unreadable.", charged_possible=True)


def decode_json_answer(
    response: requests.Response,
    *,
    label: str,
    error_for_status: Callable[[int, object], PaymentsError],
    exact_numbers: bool = False,
) -> Mapping[str, object]:
    """The JSON object of a 2xx answer; for another status, ``error_for_status(status, body)``
    (the body decoded when it is JSON, else None); a 2xx that is not a JSON object is an
    ``unreadable_answer`` of ``label`` (the provider as messages name it). With
    ``exact_numbers`` a number with a fraction is a ``Decimal``, never a float (a provider that
    writes amounts in major units, as PayU does)."""
    parse_float = Decimal if exact_numbers else float
    try:
        content = response.content
        payload: object = json.loads(content, parse_float=parse_float) if content else None
    except ValueError:
        payload = None
    if not 200 <= response.status_code < 300:
        raise error_for_status(response.status_code, payload)
    if not isinstance(payload, Mapping):
        raise unreadable_answer(label)
    return payload


def translate_answer(
    label: str,
    malformed: tuple[type[Exception], ...],
    translation: Callable[_P, _T],
    *args: _P.args,
    **kwargs: _P.kwargs,
) -> _T:
    """Run a pure translation of a 2xx answer; a ``malformed`` one may still mean the provider
    acted, so it is an ``unreadable_answer`` of ``label``, raised from the translation error."""
    try:
        return translation(*args, **kwargs)
    except malformed as error:
        raise unreadable_answer(label) from error
