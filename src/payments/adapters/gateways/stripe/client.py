"""The Stripe client we build: timeouts, the SDK's retries, and a record of each HTTP attempt."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import stripe

from payments.adapters.wire.transport import never_sent

__all__ = ["AttemptRecordingHttpClient", "make_stripe_client", "recorded_attempts"]

# The attempts of the SDK call running in this context (each thread has its own context), or
# None outside ``recorded_attempts``. A context variable rather than a thread-local: a scope is
# opened and closed around one call, so a record never outlives it or leaks into a nested call.
_ATTEMPTS: ContextVar[list[bool] | None] = ContextVar("stripe_attempts", default=None)


@contextmanager
def recorded_attempts() -> Iterator[list[bool]]:
    """Record, for the SDK call made inside the block, whether each HTTP attempt (the first and
    every SDK retry) may have reached Stripe; the yielded list fills as the attempts are made."""
    attempts: list[bool] = []
    token = _ATTEMPTS.set(attempts)
    try:
        yield attempts
    finally:
        _ATTEMPTS.reset(token)


def _record(reached: bool) -> None:
    attempts = _ATTEMPTS.get()
    if attempts is not None:
        attempts.append(reached)


class AttemptRecordingHttpClient(stripe.RequestsClient):
    """stripe's ``requests`` HTTP client that records (see ``recorded_attempts``) whether each
    attempt may have reached Stripe, so ``StripeGateway`` can tell whether a failed call could
    have acted at all (``charged_possible``)."""

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[Any, int, Mapping[str, str]]:
        """One HTTP attempt, recorded."""
        try:
            content, status, response_headers = super().request(method, url, headers, post_data)
        except stripe.APIConnectionError as error:
            _record(not never_sent(error))
            raise
        # A 429 is refused before any work is done; every other answer may follow work.
        _record(status != 429)
        return content, status, response_headers


def make_stripe_client(
    secret_key: str,
    *,
    api_base: str | None = None,
    max_network_retries: int = 2,
    timeout: float | tuple[float, float] = (5.0, 30.0),
    api_version: str | None = None,
) -> stripe.StripeClient:
    """A ``StripeClient`` for ``StripeGateway``: explicit timeouts (connect, read), the SDK's own
    retries of connection errors, 409 and 5xx (each retry re-sends the same ``Idempotency-Key``:
    stripe-python builds the headers once per call, outside its retry loop), and attempt
    recording so a failure reports ``charged_possible`` exactly. ``api_base`` points it at a
    simulator or localstripe; ``api_version`` overrides the version the SDK pins (pass the
    gateway ``payment_methods_param_for(api_version)`` with it)."""
    return stripe.StripeClient(
        secret_key,
        stripe_version=api_version,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=max_network_retries,
        http_client=AttemptRecordingHttpClient(timeout=timeout),
    )
