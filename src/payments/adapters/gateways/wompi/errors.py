"""Wompi's error answers in our terms: each documented status as the domain error it means."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from payments.domain.errors import (
    FieldError,
    GatewayConfigurationError,
    GatewayUnavailableError,
    NotFoundError,
    PaymentsError,
    ValidationError,
)

__all__ = ["error_for_status"]


_OUR_FIELDS: Final[Mapping[str, str]] = {
    "payment_method.financial_institution_code": "bank_code",
}
"""Wompi's field names that are a field of our own request, as our clients spell them."""


def _field_errors(messages: object) -> list[FieldError]:
    """``{"<field>": ["...", ...]}`` of an ``INPUT_VALIDATION_ERROR`` as field errors; a field
    the payer chose in our request (the PSE bank) is named as our API names it."""
    if not isinstance(messages, Mapping):
        return []
    errors: list[FieldError] = []
    for field, texts in messages.items():
        items = texts if isinstance(texts, list) else [texts]
        name = _OUR_FIELDS.get(str(field), str(field))
        errors.extend(FieldError(name, str(text)) for text in items)
    return errors


def error_for_status(status: int, payload: object) -> PaymentsError:
    """The domain error for a non-2xx Wompi answer (reference §3.8); Wompi's ``type`` and
    ``reason`` go to the details, never into our message.

    401 ``INVALID_ACCESS_TOKEN`` (a key of the other environment) -> ``GatewayConfigurationError``;
    404 ``NOT_FOUND_ERROR`` -> ``NotFoundError``; 422 ``INPUT_VALIDATION_ERROR`` ->
    ``ValidationError`` with one ``FieldError`` per message (a reused ``reference`` is one such
    case; its text is UNCONFIRMED); 5xx -> ``GatewayUnavailableError`` that may have charged;
    anything else -> ``GatewayConfigurationError`` (an operator must look).
    """
    inner = payload.get("error") if isinstance(payload, Mapping) else None
    error: Mapping[str, object] = inner if isinstance(inner, Mapping) else {}
    details: dict[str, object] = {"status": status}
    for key in ("type", "reason"):
        value = error.get(key)
        if isinstance(value, str):
            details[f"wompi_{key}"] = value
    if status == 401:
        return GatewayConfigurationError("Wompi refused our key.", details=details)
    if status == 404:
        return NotFoundError("Wompi does not know this object.", details=details)
    if status == 422:
        return ValidationError(
            "Wompi refused the request's fields.",
            errors=_field_errors(error.get("messages")),
            details=details,
        )
    if status >= 500:
        return GatewayUnavailableError("Wompi failed.", charged_possible=True, details=details)
    return GatewayConfigurationError(f"Wompi refused the request ({status}).", details=details)
