"""The sandbox provider's error answers as domain errors, and what is refused before any I/O."""

from __future__ import annotations

import pytest

from payments.adapters.gateways.sandbox.errors import error_for_status
from payments.domain.errors import (
    GatewayConfigurationError,
    GatewayUnavailableError,
    IdempotencyConflictError,
    IdempotencyInFlightError,
    InvalidAmountError,
    NotFoundError,
    PaymentDeclinedError,
    UnsupportedByGatewayError,
)
from payments.domain.money import Money
from tests.unit.gateways.sandbox_wire import (
    gateway,
    request,
)

# -- errors --------------------------------------------------------------------------------------


def test_402_is_a_decline_with_the_provider_code() -> None:
    provider_text = "Bank 0042 said: card blocked"
    payload = {"error": {"code": "insufficient_funds", "message": provider_text}}
    error = error_for_status(402, payload)
    assert isinstance(error, PaymentDeclinedError)
    assert error.provider_code == "insufficient_funds"
    assert provider_text not in error.message


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, GatewayConfigurationError),
        (403, GatewayConfigurationError),
        (400, GatewayConfigurationError),
        (404, NotFoundError),
        (409, IdempotencyInFlightError),
        (422, IdempotencyConflictError),
    ],
)
def test_client_errors_translate_to_what_the_caller_must_do(status: int, kind: type) -> None:
    assert type(error_for_status(status, None)) is kind


@pytest.mark.parametrize(("status", "charged"), [(500, True), (503, True), (429, False)])
def test_server_errors_are_unavailable(status: int, charged: bool) -> None:
    error = error_for_status(status, b"<html>")
    assert isinstance(error, GatewayUnavailableError)
    assert error.charged_possible is charged


# -- refused before any I/O ----------------------------------------------------------------------


def test_unsupported_method_is_refused_before_any_io() -> None:
    with pytest.raises(UnsupportedByGatewayError):
        gateway().start_payment(request(payment_method="crypto"))


def test_inexact_amount_is_refused_before_any_io() -> None:
    with pytest.raises(InvalidAmountError):
        gateway().start_payment(request(amount=Money("10.001", "EUR")))


def test_sandbox_gateway_serves_any_currency_and_country() -> None:
    capabilities = gateway().capabilities
    assert capabilities.refusal("JP", Money("5000", "JPY"), "nequi") is None
    assert capabilities.payment_methods == {"card", "pse", "nequi", "bank_transfer", "cash"}
    assert capabilities.partial_refunds and capabilities.cancel
    assert capabilities.authoritative_lookup
