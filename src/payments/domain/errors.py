"""The one error tree of the payments core: each leaf names what the caller must do."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar


@dataclass(frozen=True, slots=True)
class FieldError:
    """One invalid input field, named by a dotted path (``customer.email``)."""

    field: str
    message: str


class PaymentsError(Exception):
    """Root of every error the payments core raises across a port or a use case."""

    code: str = "payments_error"
    retryable: bool = False

    def __init__(self, message: str = "", *, details: Mapping[str, object] | None = None) -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.message = message or (self.__class__.__doc__ or self.code)
        self.details: Mapping[str, object] = dict(details or {})


AnyError = TypeVar("AnyError", bound=PaymentsError)


def with_details(error: AnyError, **details: object) -> AnyError:
    """A copy of ``error`` carrying more ``details`` (say the ``purchase_id`` a failure left
    behind); the caught error stays as it was. Raise the copy ``from`` the original."""
    extended = copy.copy(error)
    extended.details = {**error.details, **details}
    return extended


class ValidationError(PaymentsError):
    """The input is invalid: fix the request and send it again."""

    code = "validation_error"

    def __init__(
        self,
        message: str = "",
        *,
        errors: Sequence[FieldError] = (),
        details: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message, details=details)
        self.errors: tuple[FieldError, ...] = tuple(errors)


class MalformedRequestError(ValidationError):
    """The request cannot be read: not JSON, not a JSON object, or a bad header."""

    code = "malformed_request"


class InvalidAmountError(ValidationError):
    """The amount is not a valid, finite decimal for its currency."""

    code = "invalid_amount"


class UnknownCurrencyError(ValidationError):
    """The currency is not an active ISO 4217 currency."""

    code = "unknown_currency"


class CurrencyMismatchError(ValidationError):
    """Money of two different currencies was combined."""

    code = "currency_mismatch"


class RefundExceedsCapturedError(ValidationError):
    """The refund would take back more than what remains captured."""

    code = "refund_exceeds_captured"


class InsufficientCreditsError(ValidationError):
    """The account does not hold enough unexpired credits for this consumption."""

    code = "insufficient_credits"


class UnsupportedByGatewayError(ValidationError):
    """No configured gateway can serve this currency, country or payment method."""

    code = "unsupported_by_gateway"


class NotFoundError(PaymentsError):
    """The thing asked for does not exist (or is not visible to the caller)."""

    code = "not_found"


class InvalidTransitionError(PaymentsError):
    """The purchase cannot move to that state from where it is."""

    code = "invalid_transition"


class ConflictError(PaymentsError):
    """The request conflicts with the current state of a resource."""

    code = "conflict"


class AmountMismatchError(ConflictError):
    """A reported payment's amount is not exactly what is owed (a cash voucher's)."""

    code = "amount_mismatch"


class IdempotencyConflictError(PaymentsError):
    """The idempotency key was already used with a different request body."""

    code = "idempotency_conflict"


class IdempotencyInFlightError(PaymentsError):
    """A request with this idempotency key is still being processed; retry later."""

    code = "idempotency_in_flight"
    retryable = True


class PaymentDeclinedError(PaymentsError):
    """The provider declined the payment; ask the payer for another method."""

    code = "payment_declined"

    def __init__(
        self,
        message: str = "",
        *,
        provider_code: str | None = None,
        details: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message, details=details)
        self.provider_code = provider_code


class GatewayUnavailableError(PaymentsError):
    """The provider could not be reached or failed; retrying later is safe.

    ``charged_possible`` tells whether the provider may have acted on the request
    (a timeout after sending): failover to another gateway is only safe when it is False.
    """

    code = "gateway_unavailable"
    retryable = True

    def __init__(
        self,
        message: str = "",
        *,
        charged_possible: bool = True,
        details: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message, details=details)
        self.charged_possible = charged_possible


class GatewayConfigurationError(PaymentsError):
    """The gateway rejected our credentials or configuration: alert an operator, never retry."""

    code = "gateway_misconfigured"


class InvalidSignatureError(PaymentsError):
    """A notification's signature is missing, malformed, stale or does not match."""

    code = "invalid_signature"


class MalformedNotificationError(PaymentsError):
    """A notification could not be parsed into something we understand."""

    code = "malformed_notification"


class RateLimitedError(PaymentsError):
    """Too many requests: wait ``retry_after`` seconds and try again."""

    code = "rate_limited"
    retryable = True

    def __init__(self, message: str = "", *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuthenticationRequiredError(PaymentsError):
    """No valid credentials were presented."""

    code = "unauthenticated"


class ForbiddenError(PaymentsError):
    """The caller is authenticated but not allowed to do this."""

    code = "forbidden"


class ConfigurationError(PaymentsError):
    """The service settings are invalid; the service must not start."""

    code = "configuration_error"


class StorageUnavailableError(PaymentsError):
    """The notification could not be stored; the provider must deliver it again."""

    code = "storage_unavailable"
    retryable = True


class NotReadyError(PaymentsError):
    """The service cannot serve requests now (its database is unreachable)."""

    code = "not_ready"
    retryable = True


class PublishFailedError(PaymentsError):
    """The event broker could not be reached or did not acknowledge an event: the event stays
    unpublished and is sent again, under the same event id, on a later round."""

    code = "publish_failed"
    retryable = True
