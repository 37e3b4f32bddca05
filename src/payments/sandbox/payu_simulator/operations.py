"""The PayU simulator's checks of a command: credentials, order fields, signature, test data."""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from payments.adapters.gateways.payu.params import CASH_METHOD, PSE_METHOD, Merchant
from payments.adapters.gateways.payu.settings import ACCEPTED_CURRENCIES
from payments.adapters.wire.digests import same_hex_digest
from payments.sandbox.payu_simulator.objects import CardToken, CommandError, OrderRequest

__all__ = [
    "NewCharge",
    "card_outcome",
    "check_charge",
    "check_credentials",
    "mapping",
    "same_text",
    "text",
]

CARD_OUTCOMES: Final = (
    ("APPROVED", "APPROVED", "APPROVED"),
    ("REJECTED", "DECLINED", "ENTITY_DECLINED"),
    ("PENDING", "PENDING", "PENDING_TRANSACTION_REVIEW"),
)
"""Cardholder name contains -> (state, responseCode) of the charge at once (reference §2.2);
any other name waits as ``PENDING`` for the sandbox actions."""
_ASYNC_PENDING: Final = ("PENDING", "PENDING_TRANSACTION_CONFIRMATION")
"""PSE and cash answer pending, awaiting notification (reference §2.4)."""


def mapping(body: Mapping[str, object], key: str) -> Mapping[str, object]:
    value = body.get(key)
    if not isinstance(value, Mapping):
        raise CommandError(f"Falta el campo {key}")
    return value


def text(body: Mapping[str, object], key: str, *, limit: int = 255) -> str:
    value = body.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise CommandError(f"El campo {key} es inválido")
    return value


def check_credentials(body: Mapping[str, object], api_key: str, api_login: str) -> None:
    """The ``merchant`` of every command must carry our apiKey and apiLogin."""
    merchant = body.get("merchant")
    given = merchant if isinstance(merchant, Mapping) else {}
    key, login = given.get("apiKey"), given.get("apiLogin")
    if not (
        isinstance(key, str)
        and isinstance(login, str)
        and same_text(key, api_key)
        and same_text(login, api_login)
    ):
        raise CommandError("Credenciales inválidas")


def same_text(given: str, expected: str) -> bool:
    """Constant-time equality of a credential."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode())


@dataclass(frozen=True, slots=True)
class NewCharge:
    """A checked ``SUBMIT_TRANSACTION``: the order asked for, the method, its first state."""

    asked: OrderRequest
    payment_method: str
    state: str
    response_code: str


def _value(order: Mapping[str, object]) -> tuple[Decimal, str, str]:
    """``TX_VALUE``: the number as sent, its text (what the signature signs) and currency."""
    tx_value = mapping(mapping(order, "additionalValues"), "TX_VALUE")
    number, currency = tx_value.get("value"), tx_value.get("currency")
    if isinstance(number, bool) or not isinstance(number, int | Decimal) or number <= 0:
        raise CommandError("TX_VALUE debe ser un número positivo")
    if not isinstance(currency, str) or currency not in ACCEPTED_CURRENCIES:
        raise CommandError("Moneda no soportada")
    if currency == "COP" and number != int(number):
        raise CommandError("El valor en COP no puede incluir decimales")
    return Decimal(number), str(number), currency


def card_outcome(token: CardToken) -> tuple[str, str]:
    """The charge's state and responseCode for a card by its holder's name (reference §2.2)."""
    name = token.name.upper()
    for word, state, code in CARD_OUTCOMES:
        if word in name:
            return state, code
    return "PENDING", "PENDING_TRANSACTION_REVIEW"


def _method(
    transaction: Mapping[str, object], tokens: Mapping[str, CardToken]
) -> tuple[str, str, str]:
    """``paymentMethod``, and the charge's first state and responseCode."""
    token_id = transaction.get("creditCardTokenId")
    if token_id is not None:
        token = tokens.get(str(token_id))
        if token is None:
            raise CommandError("El token de la tarjeta no existe")
        return (token.payment_method, *card_outcome(token))
    method = text(transaction, "paymentMethod", limit=32)
    if method == PSE_METHOD:
        extra = mapping(transaction, "extraParameters")
        text(extra, "FINANCIAL_INSTITUTION_CODE", limit=8)
        if extra.get("USER_TYPE") not in ("N", "J"):
            raise CommandError("USER_TYPE debe ser N o J")
        text(extra, "PSE_REFERENCE2", limit=4)
        text(extra, "PSE_REFERENCE3", limit=32)
        return (method, *_ASYNC_PENDING)
    if method == CASH_METHOD:
        return (method, *_ASYNC_PENDING)
    raise CommandError(f"Medio de pago {method} no soportado en el sandbox")


def check_charge(
    body: Mapping[str, object], merchant: Merchant, tokens: Mapping[str, CardToken]
) -> NewCharge:
    """A ``SUBMIT_TRANSACTION`` of ``AUTHORIZATION_AND_CAPTURE`` (reference §2.3), its
    signature checked over the amount exactly as sent; ``CommandError`` otherwise."""
    transaction = mapping(body, "transaction")
    if transaction.get("type") != "AUTHORIZATION_AND_CAPTURE":
        raise CommandError("El tipo de transacción es inválido")
    order = mapping(transaction, "order")
    reference = text(order, "referenceCode")
    value, value_text, currency = _value(order)
    expected = merchant.request_signature(reference, value_text, currency)
    if not same_hex_digest(expected, _signature(order)):
        raise CommandError("La firma es inválida")
    email = text(mapping(order, "buyer"), "emailAddress")
    account, description = text(order, "accountId", limit=16), text(order, "description")
    asked = OrderRequest(reference, account, description, value, currency, email)
    return NewCharge(asked, *_method(transaction, tokens))


def _signature(order: Mapping[str, object]) -> str | None:
    signature = order.get("signature")
    return signature if isinstance(signature, str) else None
