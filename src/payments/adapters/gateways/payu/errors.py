"""PayU's refusals in our terms: a Payments API answer that refuses, as the domain error."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from payments.domain.errors import (
    GatewayConfigurationError,
    GatewayUnavailableError,
    PaymentDeclinedError,
    PaymentsError,
)

__all__ = [
    "DECLINE_RESPONSE_CODES",
    "NETWORK_FAILURE_RESPONSE_CODES",
    "error_for_answer",
    "error_for_status",
]

DECLINE_RESPONSE_CODES: Final = frozenset(
    {
        "PAYMENT_NETWORK_REJECTED", "ENTITY_DECLINED", "INSUFFICIENT_FUNDS", "INVALID_CARD",
        "CONTACT_THE_ENTITY", "EXPIRED_CARD", "RESTRICTED_CARD",
        "INVALID_EXPIRATION_DATE_OR_SECURITY_CODE", "REPEAT_TRANSACTION", "INVALID_TRANSACTION",
        "EXCEEDED_AMOUNT", "ABANDONED_TRANSACTION",
        "CREDIT_CARD_NOT_AUTHORIZED_FOR_INTERNET_TRANSACTIONS", "ANTIFRAUD_REJECTED",
        "BANK_FRAUD_REJECTED", "DIGITAL_CERTIFICATE_NOT_FOUND", "NOT_ACCEPTED_TRANSACTION",
    }
)  # fmt: skip
"""``responseCode`` values of a declined transaction: the payer must try another way
(reference §2.4, and the ``state_pol`` 6 table of §2.6)."""

NETWORK_FAILURE_RESPONSE_CODES: Final = frozenset(
    {
        "BANK_UNREACHABLE", "PAYMENT_NETWORK_NO_CONNECTION", "PAYMENT_NETWORK_NO_RESPONSE",
        "ENTITY_MESSAGING_ERROR", "ERROR",
    }
)  # fmt: skip
"""``responseCode`` values of a transaction PayU ended because the bank or network could not be
reached or failed (``response_code_pol`` 9996 and 9997 in reference §2.6, and ``ERROR`` of
§2.4): final and not approved, so nothing was charged and another gateway may be tried. The
name of the 9999 "internal errors" code is not in the reference, so it is not listed."""


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def error_for_answer(answer: Mapping[str, object]) -> PaymentsError | None:
    """The domain error a Payments API answer (reference §2.4) means, or None when it does not
    refuse (the transaction state then says approved, pending or expired).

    - ``code`` other than ``SUCCESS``: the request itself was refused (bad credentials,
      signature or field); nothing was charged and retrying cannot help ->
      ``GatewayConfigurationError`` with PayU's ``error`` text in the details.
    - ``transactionResponse.state`` ``DECLINED`` with a network-failure ``responseCode`` ->
      ``GatewayUnavailableError(charged_possible=False)``; any other decline ->
      ``PaymentDeclinedError`` with the ``responseCode`` as provider code.
    - ``state`` ``ERROR``: PayU could not process it, final and not approved ->
      ``GatewayUnavailableError(charged_possible=False)``.
    """
    code = answer.get("code")
    if code != "SUCCESS":
        details: dict[str, object] = {"payu_code": str(code)}
        message = _text(answer.get("error"))
        if message:
            details["payu_error"] = message
        return GatewayConfigurationError("PayU refused our request.", details=details)
    response = answer.get("transactionResponse")
    if not isinstance(response, Mapping):
        return None
    state = response.get("state")
    response_code = _text(response.get("responseCode"))
    details = {"payu_state": str(state)}
    if response_code:
        details["payu_response_code"] = response_code
    if state == "ERROR" or (
        state == "DECLINED" and response_code in NETWORK_FAILURE_RESPONSE_CODES
    ):
        return GatewayUnavailableError(
            "PayU could not reach the payment network.", charged_possible=False, details=details
        )
    if state == "DECLINED":
        return PaymentDeclinedError(
            "PayU declined the payment.", provider_code=response_code, details=details
        )
    return None


def error_for_status(status: int, payload: object) -> PaymentsError:
    """The domain error for an HTTP answer that is not 2xx. PayU answers its commands with 200
    and says no in ``code`` (``error_for_answer``), so another status is its edge failing: 5xx
    and 429 may come after the command was taken (``charged_possible``); anything else is our
    URL or credentials (``GatewayConfigurationError``: an operator must look)."""
    details: dict[str, object] = {"status": status}
    if status >= 500 or status == 429:
        return GatewayUnavailableError("PayU failed.", charged_possible=True, details=details)
    return GatewayConfigurationError(f"PayU refused the request ({status}).", details=details)
