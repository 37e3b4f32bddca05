"""The one error tree of the payments core: each leaf names what the caller must do."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, TypeVar


@dataclass(frozen=True, slots=True)
class FieldError:
    """One invalid input field, named by a dotted path (``customer.email``)."""

    field: str
    message: str


class PaymentsError(Exception):
    """Root of every error the payments core raises across a port or a use case.

    Each leaf declares, in its class line, its stable machine-readable ``code`` (the problem
    document's) and whether a retry of the same request may succeed (``retryable``); a leaf that
    declares neither has its parent's.
    """

    code: ClassVar[str] = "payments_error"
    retryable: ClassVar[bool] = False

    def __init_subclass__(cls, *, code: str = "", retryable: bool | None = None) -> None:
        super().__init_subclass__()
        if code:
            cls.code = code
        if retryable is not None:
            cls.retryable = retryable

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


class ValidationError(PaymentsError, code="validation_error"):
    """The input is invalid: fix the request and send it again."""

    def __init__(
        self,
        message: str = "",
        *,
        errors: Sequence[FieldError] = (),
        details: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message, details=details)
        self.errors: tuple[FieldError, ...] = tuple(errors)


class MalformedRequestError(ValidationError, code="malformed_request"):
    """The request cannot be read: not JSON, not a JSON object, or a bad header."""


class InvalidAmountError(ValidationError, code="invalid_amount"):
    """The amount is not a valid, finite decimal for its currency."""


class UnknownCurrencyError(ValidationError, code="unknown_currency"):
    """The currency is not an active ISO 4217 currency."""


class CurrencyMismatchError(ValidationError, code="currency_mismatch"):
    """Money of two different currencies was combined."""


class RefundExceedsCapturedError(ValidationError, code="refund_exceeds_captured"):
    """The refund would take back more than what remains captured."""


class InsufficientCreditsError(ValidationError, code="insufficient_credits"):
    """The account does not hold enough unexpired credits for this consumption."""


class UnsupportedByGatewayError(ValidationError, code="unsupported_by_gateway"):
    """No configured gateway can serve this currency, country or payment method."""


class NotFoundError(PaymentsError, code="not_found"):
    """The thing asked for does not exist (or is not visible to the caller)."""


class InvalidTransitionError(PaymentsError, code="invalid_transition"):
    """The purchase cannot move to that state from where it is."""


class ConflictError(PaymentsError, code="conflict"):
    """The request conflicts with the current state of a resource."""


class AmountMismatchError(ConflictError, code="amount_mismatch"):
    """A reported payment's amount is not exactly what is owed (a cash voucher's)."""


class IdempotencyConflictError(PaymentsError, code="idempotency_conflict"):
    """The idempotency key was already used with a different request body."""


class IdempotencyInFlightError(PaymentsError, code="idempotency_in_flight", retryable=True):
    """A request with this idempotency key is still being processed; retry later."""


class PaymentDeclinedError(PaymentsError, code="payment_declined"):
    """The provider declined the payment; ask the payer for another method."""

    def __init__(
        self,
        message: str = "",
        *,
        provider_code: str | None = None,
        details: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message, details=details)
        self.provider_code = provider_code


class GatewayUnavailableError(PaymentsError, code="gateway_unavailable", retryable=True):
    """The provider could not be reached or failed; retrying later is safe.

    ``charged_possible`` tells whether the provider may have acted on the request
    (a timeout after sending): failover to another gateway is only safe when it is False.
    """

    def __init__(
        self,
        message: str = "",
        *,
        charged_possible: bool = True,
        details: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message, details=details)
        self.charged_possible = charged_possible


class GatewayConfigurationError(PaymentsError, code="gateway_misconfigured"):
    """The gateway rejected our credentials or configuration: alert an operator, never retry."""


class InvalidSignatureError(PaymentsError, code="invalid_signature"):
    """A notification's signature is missing, malformed, stale or does not match."""


class MalformedNotificationError(PaymentsError, code="malformed_notification"):
    """A notification could not be parsed into something we understand."""


class RateLimitedError(PaymentsError, code="rate_limited", retryable=True):
    """Too many requests: wait ``retry_after`` seconds and try again."""

    def __init__(self, message: str = "", *, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuthenticationRequiredError(PaymentsError, code="unauthenticated"):
    """No valid credentials were presented."""


class ForbiddenError(PaymentsError, code="forbidden"):
    """The caller is authenticated but not allowed to do this."""


class ConfigurationError(PaymentsError, code="configuration_error"):
    """The service settings are invalid; the service must not start."""


class StorageUnavailableError(PaymentsError, code="storage_unavailable", retryable=True):
    """The notification could not be stored; the provider must deliver it again."""


class NotReadyError(PaymentsError, code="not_ready", retryable=True):
    """The service cannot serve requests now (its database is unreachable)."""


class PublishFailedError(PaymentsError, code="publish_failed", retryable=True):
    """The event broker could not be reached or did not acknowledge an event: the event stays
    unpublished and is sent again, under the same event id, on a later round."""
