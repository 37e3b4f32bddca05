"""The Wompi simulator's checks of a new transaction: fields, integrity signature, test data."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from payments.adapters.gateways.wompi.settings import (
    CURRENCIES,
    SANDBOX_CARD_OUTCOMES,
    SANDBOX_NEQUI_OUTCOMES,
    SANDBOX_PSE_BANKS,
    SANDBOX_PSE_OUTCOMES,
)
from payments.adapters.gateways.wompi.signatures import integrity_signature
from payments.adapters.wire.digests import same_hex_digest
from payments.sandbox.wompi_simulator.objects import ApiError, CardToken, validation_error

__all__ = ["NewTransaction", "check_transaction"]

_PHONE: Final = re.compile(r"[0-9]{10}")
_METHOD_TYPES: Final = frozenset({"CARD", "NEQUI", "PSE", "BANCOLOMBIA_TRANSFER"})

NewTransaction = tuple[str, int, str, str, dict[str, object], str | None]
"""A checked request: reference, amount in cents, currency, e-mail, payment method, and the
final status its sandbox test data leads to (None: the payer chooses it)."""


def _text(body: Mapping[str, object], key: str, *, limit: int = 255) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise validation_error(key, "Debe ser un texto no vacío")
    return value


def _cents(body: Mapping[str, object]) -> int:
    value = body.get("amount_in_cents")
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise validation_error("amount_in_cents", "Debe ser un entero positivo")
    return value


def _card(method: Mapping[str, object], tokens: Mapping[str, CardToken]) -> str:
    token = tokens.get(str(method.get("token")))
    if token is None:
        raise validation_error("payment_method.token", "El token no existe")
    return SANDBOX_CARD_OUTCOMES.get(token.number, "ERROR")


def _pse(method: Mapping[str, object]) -> str:
    bank = method.get("financial_institution_code")
    if not isinstance(bank, str) or bank not in SANDBOX_PSE_BANKS:
        raise validation_error("payment_method.financial_institution_code", "Banco inválido")
    if method.get("user_type") not in (0, 1) or isinstance(method.get("user_type"), bool):
        raise validation_error("payment_method.user_type", "Debe ser 0 o 1")
    _text(method, "user_legal_id_type", limit=8)
    _text(method, "user_legal_id", limit=32)
    _text(method, "payment_description", limit=64)
    return SANDBOX_PSE_OUTCOMES[bank]


def _planned(method: Mapping[str, object], tokens: Mapping[str, CardToken]) -> str | None:
    """The final status the sandbox test data leads to (reference §3.7)."""
    kind = method.get("type")
    if kind == "CARD":
        return _card(method, tokens)
    if kind == "NEQUI":
        phone = method.get("phone_number")
        if not isinstance(phone, str) or _PHONE.fullmatch(phone) is None:
            raise validation_error("payment_method.phone_number", "Debe tener 10 dígitos")
        return SANDBOX_NEQUI_OUTCOMES.get(phone, "ERROR")
    if kind == "PSE":
        return _pse(method)
    description = method.get("payment_description")
    if not isinstance(description, str) or not description or "'" in description:
        raise validation_error("payment_method.payment_description", "Descripción inválida")
    return None  # Bancolombia transfer: chosen on the sandbox page


def check_transaction(
    body: Mapping[str, object],
    *,
    integrity_secret: str,
    acceptance_token: str,
    tokens: Mapping[str, CardToken],
) -> NewTransaction:
    """Check a ``POST /transactions`` body as Wompi would: the acceptance token, the fields,
    the payment method and its test data, and the integrity signature of reference, cents and
    currency (reference §3.3, §3.4). Raises ``ApiError`` 422 naming the field."""
    if body.get("acceptance_token") != acceptance_token:
        raise validation_error("acceptance_token", "El token de aceptación no es válido")
    reference = _text(body, "reference")
    cents = _cents(body)
    currency = body.get("currency")
    if not isinstance(currency, str) or currency not in CURRENCIES:
        raise validation_error("currency", "La única moneda disponible es COP")
    email = _text(body, "customer_email")
    method = body.get("payment_method")
    if not isinstance(method, Mapping) or method.get("type") not in _METHOD_TYPES:
        raise validation_error("payment_method.type", "Método de pago inválido")
    planned = _planned(method, tokens)
    expected = integrity_signature(
        reference=reference,
        amount_in_cents=cents,
        currency=currency,
        integrity_secret=integrity_secret,
    )
    signature = body.get("signature")
    if not isinstance(signature, str) or not same_hex_digest(expected, signature):
        raise validation_error("signature", "La firma de integridad no es válida")
    return reference, cents, currency, email, dict(method), planned


def unauthorized() -> ApiError:
    """401 ``INVALID_ACCESS_TOKEN`` (reference §3.8)."""
    return ApiError(
        401,
        {
            "type": "INVALID_ACCESS_TOKEN",
            "reason": "La llave proporcionada no corresponde a este ambiente.",
        },
    )


def not_found() -> ApiError:
    """404 ``NOT_FOUND_ERROR`` (reference §3.8)."""
    return ApiError(404, {"type": "NOT_FOUND_ERROR", "reason": "La entidad solicitada no existe"})
