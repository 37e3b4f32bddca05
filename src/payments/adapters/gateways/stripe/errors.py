"""Stripe's refusals in our terms: each stripe-python exception as the domain error it means."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import stripe

from payments.domain.errors import (
    GatewayConfigurationError,
    GatewayUnavailableError,
    IdempotencyConflictError,
    InvalidAmountError,
    InvalidTransitionError,
    PaymentDeclinedError,
    PaymentsError,
    RefundExceedsCapturedError,
    UnsupportedByGatewayError,
)

__all__ = ["translate_stripe_error"]

_AMOUNT_CODES: Final = frozenset(
    {"amount_too_small", "amount_too_large", "invalid_charge_amount", "parameter_invalid_integer"}
)
_REFUND_EXCEEDS_CODES: Final = frozenset({"charge_already_refunded"})
_STATE_CODES: Final = frozenset(
    {
        "payment_intent_unexpected_state",
        "charge_not_refundable",
        "charge_disputed",
        "charge_expired_for_capture",
        "charge_already_captured",
    }
)
_CURRENCY_CODES: Final = frozenset({"currency_not_supported", "invalid_currency"})


def _json_error(error: stripe.StripeError) -> Mapping[str, Any]:
    body = error.json_body
    if isinstance(body, Mapping):
        inner = body.get("error")
        if isinstance(inner, Mapping):
            return inner
    return {}


def translate_stripe_error(
    error: stripe.StripeError,
    *,
    operation: str = "request",
    attempts: Sequence[bool] | None = None,
) -> PaymentsError:
    """The domain error for a stripe-python exception (to be raised ``from`` it).

    ``attempts`` is what ``recorded_attempts`` saw for this call (None when the client
    does not record): whether each attempt may have reached Stripe. ``charged_possible`` is then
    exact; without it a connection error is assumed to have possibly acted. Messages are ours;
    Stripe's code and request id go to ``details``.
    """
    info = _json_error(error)
    code = error.code or _optional_str(info.get("code"))
    details: dict[str, object] = {"operation": operation}
    if code:
        details["stripe_code"] = code
    if error.request_id:
        details["stripe_request_id"] = error.request_id
    if isinstance(error, stripe.CardError):
        decline_code = _optional_str(info.get("decline_code"))
        if decline_code:
            details["decline_code"] = decline_code
        return PaymentDeclinedError(
            "Stripe declined the card.", provider_code=code or decline_code, details=details
        )
    if isinstance(error, stripe.RateLimitError):
        earlier = list(attempts[:-1]) if attempts else []
        return GatewayUnavailableError(
            "Stripe is rate limiting our requests.", charged_possible=any(earlier), details=details
        )
    if isinstance(error, stripe.APIConnectionError):
        possible = any(attempts) if attempts else True
        return GatewayUnavailableError(
            "Stripe could not be reached.", charged_possible=possible, details=details
        )
    if isinstance(error, stripe.AuthenticationError):
        return GatewayConfigurationError("Stripe rejected our API key.", details=details)
    if isinstance(error, stripe.PermissionError):
        return GatewayConfigurationError(
            "Our Stripe key is not allowed to do this.", details=details
        )
    if isinstance(error, stripe.IdempotencyError):
        return IdempotencyConflictError(
            "Stripe saw this idempotency key with different parameters.", details=details
        )
    if isinstance(error, stripe.InvalidRequestError):
        return _invalid_request(error, code, operation, details)
    return GatewayUnavailableError(
        "Stripe failed to answer.", charged_possible=True, details=details
    )


def _invalid_request(
    error: stripe.InvalidRequestError, code: str | None, operation: str, details: dict[str, object]
) -> PaymentsError:
    param = error.param or ""
    if param:
        details["stripe_param"] = param
    if code in _REFUND_EXCEEDS_CODES or (operation == "refund" and code == "amount_too_large"):
        return RefundExceedsCapturedError("Stripe refuses to refund that much.", details=details)
    if code in _AMOUNT_CODES:
        return InvalidAmountError("Stripe refuses this amount.", details=details)
    if code in _STATE_CODES:
        return InvalidTransitionError(
            "Stripe refuses this in the payment's current state.", details=details
        )
    if code in _CURRENCY_CODES or param == "currency":
        return UnsupportedByGatewayError("Stripe does not take this currency.", details=details)
    # Anything else means we sent something Stripe does not accept, or an id this account does
    # not know (a test id with a live key): an operator must look, and retrying cannot help.
    return GatewayConfigurationError("Stripe refused our request as invalid.", details=details)


def _optional_str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
