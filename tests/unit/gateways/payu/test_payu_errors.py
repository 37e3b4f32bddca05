"""PayU's refusals in our terms, offline: request errors, declines, network faults (§2.4)."""

from __future__ import annotations

import pytest

from payments.adapters.gateways.payu import error_for_answer
from payments.domain.errors import (
    GatewayConfigurationError,
    GatewayUnavailableError,
    PaymentDeclinedError,
)


def _answer(state: str, response_code: str) -> dict[str, object]:
    return {
        "code": "SUCCESS",
        "error": None,
        "transactionResponse": {
            "orderId": 1400449660,
            "transactionId": "7ab8e3a3-d2e4-4e56-9c9b-0f6a1d3e7b11",
            "state": state,
            "responseCode": response_code,
        },
    }


def test_refused_request_is_a_configuration_error() -> None:
    error = error_for_answer(
        {"code": "ERROR", "error": "Invalid signature", "transactionResponse": None}
    )
    assert isinstance(error, GatewayConfigurationError)
    assert error.details["payu_error"] == "Invalid signature"


@pytest.mark.parametrize(
    "response_code", ["INSUFFICIENT_FUNDS", "ENTITY_DECLINED", "ANTIFRAUD_REJECTED", "EXPIRED_CARD"]
)
def test_declined_transaction_is_a_decline_with_the_response_code(response_code: str) -> None:
    error = error_for_answer(_answer("DECLINED", response_code))
    assert isinstance(error, PaymentDeclinedError)
    assert error.provider_code == response_code


@pytest.mark.parametrize(
    "response_code",
    ["BANK_UNREACHABLE", "PAYMENT_NETWORK_NO_CONNECTION", "PAYMENT_NETWORK_NO_RESPONSE"],
)
def test_network_failure_decline_proves_no_charge(response_code: str) -> None:
    error = error_for_answer(_answer("DECLINED", response_code))
    assert isinstance(error, GatewayUnavailableError)
    assert error.charged_possible is False


def test_error_state_proves_no_charge() -> None:
    error = error_for_answer(_answer("ERROR", "ERROR"))
    assert isinstance(error, GatewayUnavailableError)
    assert error.charged_possible is False


@pytest.mark.parametrize(
    ("state", "response_code"),
    [
        ("APPROVED", "APPROVED"),
        ("PENDING", "PENDING_TRANSACTION_CONFIRMATION"),  # cash and PSE (§2.4)
        ("EXPIRED", "EXPIRED_TRANSACTION"),
    ],
)
def test_answer_that_does_not_refuse_is_no_error(state: str, response_code: str) -> None:
    assert error_for_answer(_answer(state, response_code)) is None
