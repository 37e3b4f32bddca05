"""The in-flight lease of an Idempotency-Key outlasts the slowest outbound call we make."""

from __future__ import annotations

import inspect

import stripe

from payments.adapters.gateways.stripe import make_stripe_client
from payments.domain.idempotency import IN_FLIGHT_LEASE


def _default(function: object, name: str) -> object:
    return inspect.signature(function).parameters[name].default  # type: ignore[arg-type]


def slowest_stripe_call() -> float:
    """Seconds one Stripe call can take with our client's defaults: every attempt (the first and
    each SDK retry) waiting out its connect and read timeouts, plus the SDK's longest backoff
    between attempts."""
    retries = _default(make_stripe_client, "max_network_retries")
    connect, read = _default(make_stripe_client, "timeout")  # type: ignore[misc]
    assert isinstance(retries, int)
    backoff = stripe.HTTPClient.MAX_DELAY
    return float((retries + 1) * (connect + read) + retries * backoff)


def connect_failures_of_one_stripe_call() -> float:
    """Seconds a Stripe call takes to prove it never reached Stripe (every attempt failing to
    connect): what a checkout spends before failing over to its next gateway."""
    retries = _default(make_stripe_client, "max_network_retries")
    connect, _read = _default(make_stripe_client, "timeout")  # type: ignore[misc]
    assert isinstance(retries, int)
    return float((retries + 1) * connect + retries * stripe.HTTPClient.MAX_DELAY)


def test_in_flight_lease_is_twice_the_slowest_stripe_call_at_least() -> None:
    assert slowest_stripe_call() >= 105  # 3 attempts of 5 s connect + 30 s read
    assert IN_FLIGHT_LEASE.total_seconds() >= 2 * slowest_stripe_call()


def test_in_flight_lease_outlasts_a_checkout_that_fails_over_to_a_second_slow_gateway() -> None:
    worst_checkout = connect_failures_of_one_stripe_call() + slowest_stripe_call()

    assert IN_FLIGHT_LEASE.total_seconds() > worst_checkout
