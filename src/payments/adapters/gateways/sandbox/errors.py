"""The sandbox provider's refusals in our terms: wire-format faults and each HTTP error status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from payments.domain.errors import (
    CurrencyMismatchError,
    FieldError,
    GatewayConfigurationError,
    GatewayUnavailableError,
    IdempotencyConflictError,
    IdempotencyInFlightError,
    InvalidTransitionError,
    NotFoundError,
    PaymentDeclinedError,
    PaymentsError,
    RefundExceedsCapturedError,
    ValidationError,
)

__all__ = ["WireFormatError", "error_for_status", "retryable_status"]


class WireFormatError(ValueError):
    """A sandbox message does not follow the documented wire format (never crosses the port)."""


def _error_object(payload: object) -> Mapping[str, object]:
    """The ``error`` object of a wire error body, or an empty one."""
    if isinstance(payload, Mapping):
        error = payload.get("error")
        if isinstance(error, Mapping):
            return error
    return {}


# The refund refusals that say what the caller must do, rather than that we are misconfigured.
_REFUND_REFUSALS: Final[Mapping[str, tuple[type[PaymentsError], str]]] = {
    "amount_too_large": (
        RefundExceedsCapturedError,
        "The sandbox gateway refused a refund beyond what remains captured.",
    ),
    "payment_not_captured": (
        InvalidTransitionError,
        "The sandbox gateway has no captured payment to refund.",
    ),
    "currency_mismatch": (
        CurrencyMismatchError,
        "The sandbox gateway refused a refund in another currency.",
    ),
}


def error_for_status(status: int, payload: object) -> PaymentsError:
    """The domain error for a non-2xx answer; the provider's message is kept out of it."""
    error = _error_object(payload)
    code = error.get("code") if isinstance(error.get("code"), str) else None
    details: dict[str, object] = {"status": status, "provider_code": code}
    if status == 402:
        payment = error.get("payment")
        if isinstance(payment, Mapping) and isinstance(payment.get("id"), str):
            details["gateway_reference"] = payment["id"]
        return PaymentDeclinedError(
            "The sandbox gateway declined the payment.",
            provider_code=str(code or "declined"),
            details=details,
        )
    if status in (401, 403):
        return GatewayConfigurationError(
            "The sandbox gateway refused our credentials.", details=details
        )
    if status == 409:
        return IdempotencyInFlightError(
            "The sandbox gateway is still processing a request with this key.", details=details
        )
    if status == 422:
        return IdempotencyConflictError(
            "The sandbox gateway saw this idempotency key with another request.", details=details
        )
    if status == 404:
        return NotFoundError("The sandbox gateway does not know this object.", details=details)
    if status == 429:
        return GatewayUnavailableError(
            "The sandbox gateway is rate limiting us.", charged_possible=False, details=details
        )
    if status == 400 and code == "unknown_bank":
        return ValidationError(
            "The provider does not know this PSE bank.",
            errors=[FieldError("bank_code", "must be a code from GET /v1/pse/banks")],
            details=details,
        )
    refusal = _REFUND_REFUSALS.get(code) if isinstance(code, str) else None
    if status == 400 and refusal is not None:
        kind, message = refusal
        return kind(message, details=details)
    if status >= 500:
        return GatewayUnavailableError(
            "The sandbox gateway failed.", charged_possible=True, details=details
        )
    return GatewayConfigurationError(
        f"The sandbox gateway refused the request ({status}).", details=details
    )


def retryable_status(status: int) -> bool:
    """Whether an answer with ``status`` is worth asking again under the same idempotency key:
    the same key still in flight (409), slow down (429), or a provider failure (5xx)."""
    return status >= 500 or status in (409, 429)
