"""stripe-python exceptions as domain errors, offline."""

from __future__ import annotations

import json
from typing import Any

import pytest
import stripe

from payments.adapters.gateways.stripe import (
    translate_stripe_error,
)
from payments.domain.errors import (
    GatewayConfigurationError,
    GatewayUnavailableError,
    IdempotencyConflictError,
    InvalidAmountError,
    InvalidTransitionError,
    PaymentDeclinedError,
    RefundExceedsCapturedError,
    UnsupportedByGatewayError,
)

# -- errors ----------------------------------------------------------------------------------------


def connection_error(message: str) -> stripe.StripeError:
    return stripe.APIConnectionError(message)  # type: ignore[no-untyped-call]


def _error(cls: type[stripe.StripeError], status: int, **error: Any) -> stripe.StripeError:
    body = {"error": {"type": "invalid_request_error", "message": "raw provider text", **error}}
    if cls is stripe.CardError:
        return stripe.CardError(  # type: ignore[no-untyped-call]
            "raw", None, error.get("code"), json.dumps(body), status, body
        )
    if cls is stripe.InvalidRequestError:
        return stripe.InvalidRequestError(  # type: ignore[no-untyped-call]
            "raw", error.get("param"), error.get("code"), json.dumps(body), status, body
        )
    return cls("raw", json.dumps(body), status, body)


def test_card_error_becomes_payment_declined_with_the_provider_code() -> None:
    error = _error(stripe.CardError, 402, code="card_declined", decline_code="stolen_card")
    translated = translate_stripe_error(error)
    assert isinstance(translated, PaymentDeclinedError)
    assert translated.provider_code == "card_declined"
    assert translated.details["decline_code"] == "stolen_card"
    assert "raw provider text" not in translated.message


@pytest.mark.parametrize(
    ("error", "kind", "charged_possible"),
    [
        (_error(stripe.RateLimitError, 429), GatewayUnavailableError, False),
        (_error(stripe.APIError, 500), GatewayUnavailableError, True),
        (_error(stripe.APIError, 409), GatewayUnavailableError, True),
        (connection_error("reset"), GatewayUnavailableError, True),
        (_error(stripe.AuthenticationError, 401), GatewayConfigurationError, None),
        (_error(stripe.PermissionError, 403), GatewayConfigurationError, None),
        (_error(stripe.IdempotencyError, 400), IdempotencyConflictError, None),
    ],
)
def test_stripe_errors_translate_by_what_the_caller_must_do(
    error: stripe.StripeError, kind: type[Exception], charged_possible: bool | None
) -> None:
    translated = translate_stripe_error(error)
    assert type(translated) is kind
    if charged_possible is not None:
        assert isinstance(translated, GatewayUnavailableError)
        assert translated.charged_possible is charged_possible


@pytest.mark.parametrize(
    ("error", "attempts", "charged_possible"),
    [
        (connection_error("refused"), [False], False),
        (connection_error("refused"), [False, False], False),
        (connection_error("refused"), [True, False], True),  # a 503 came first
        (connection_error("read timeout"), [True], True),
        (_error(stripe.RateLimitError, 429), [False], False),
        (_error(stripe.RateLimitError, 429), [True, False], True),
    ],
)
def test_charged_possible_follows_every_recorded_attempt(
    error: stripe.StripeError, attempts: list[bool], charged_possible: bool
) -> None:
    translated = translate_stripe_error(error, attempts=attempts)
    assert isinstance(translated, GatewayUnavailableError)
    assert translated.charged_possible is charged_possible


@pytest.mark.parametrize(
    ("code", "param", "operation", "kind"),
    [
        ("amount_too_small", "amount", "start_payment", InvalidAmountError),
        ("amount_too_large", "amount", "start_payment", InvalidAmountError),
        ("amount_too_large", "amount", "refund", RefundExceedsCapturedError),
        ("charge_already_refunded", None, "refund", RefundExceedsCapturedError),
        ("payment_intent_unexpected_state", None, "refund", InvalidTransitionError),
        (None, "currency", "start_payment", UnsupportedByGatewayError),
        ("parameter_unknown", "description", "start_payment", GatewayConfigurationError),
        ("resource_missing", "intent", "cancel", GatewayConfigurationError),
        (None, None, "start_payment", GatewayConfigurationError),
    ],
)
def test_invalid_requests_translate_by_code(
    code: str | None, param: str | None, operation: str, kind: type[Exception]
) -> None:
    error = _error(stripe.InvalidRequestError, 400, code=code, param=param)
    assert type(translate_stripe_error(error, operation=operation)) is kind
