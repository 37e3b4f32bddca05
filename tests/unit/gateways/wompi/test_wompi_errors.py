"""Wompi's error answers in our terms, offline (§3.8)."""

from __future__ import annotations

from payments.adapters.gateways.wompi import error_for_status
from payments.domain.errors import (
    FieldError,
    GatewayConfigurationError,
    GatewayUnavailableError,
    NotFoundError,
    ValidationError,
)


def test_key_of_the_other_environment_is_a_configuration_error() -> None:
    error = error_for_status(
        401,
        {
            "error": {
                "type": "INVALID_ACCESS_TOKEN",
                "reason": "La llave proporcionada no corresponde a este ambiente.",
            }
        },
    )
    assert isinstance(error, GatewayConfigurationError)
    assert error.details["wompi_type"] == "INVALID_ACCESS_TOKEN"
    assert "llave" not in error.message


def test_unknown_object_is_not_found() -> None:
    error = error_for_status(
        404, {"error": {"type": "NOT_FOUND_ERROR", "reason": "La entidad solicitada no existe"}}
    )
    assert isinstance(error, NotFoundError)


def test_input_validation_error_names_each_field() -> None:
    error = error_for_status(
        422,
        {
            "error": {
                "type": "INPUT_VALIDATION_ERROR",
                "messages": {"reference": ["La referencia ya fue usada"], "currency": ["bad"]},
            }
        },
    )
    assert isinstance(error, ValidationError)
    assert error.errors == (
        FieldError("reference", "La referencia ya fue usada"),
        FieldError("currency", "bad"),
    )


def test_a_refused_pse_bank_is_named_as_our_bank_code() -> None:
    error = error_for_status(
        422,
        {
            "error": {
                "type": "INPUT_VALIDATION_ERROR",
                "messages": {"payment_method.financial_institution_code": ["Banco inválido"]},
            }
        },
    )
    assert isinstance(error, ValidationError)
    assert error.errors == (FieldError("bank_code", "Banco inválido"),)


def test_server_failure_may_have_charged() -> None:
    error = error_for_status(503, None)
    assert isinstance(error, GatewayUnavailableError)
    assert error.charged_possible is True


def test_other_refusal_is_a_configuration_error() -> None:
    assert isinstance(error_for_status(400, "not json"), GatewayConfigurationError)
