"""What we send Wompi: the body of ``POST /transactions`` and its payment method, byte-stable."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Final

from payments.adapters.gateways.wompi.amounts import to_amount_in_cents
from payments.adapters.gateways.wompi.signatures import integrity_signature
from payments.domain.errors import FieldError, ValidationError
from payments.domain.gateway import Payer, PaymentRequest

__all__ = [
    "METHOD_TYPES",
    "encode_body",
    "payment_method_body",
    "transaction_body",
]

METHOD_TYPES: Final[Mapping[str, str]] = {
    "card": "CARD",
    "nequi": "NEQUI",
    "pse": "PSE",
    "bank_transfer": "BANCOLOMBIA_TRANSFER",
}
"""Our payment method -> Wompi's ``payment_method.type`` (reference §3.3)."""

_PSE_USER_TYPES: Final[Mapping[str, int]] = {"natural": 0, "juridical": 1}
"""``Payer.person_type`` -> PSE ``user_type``: 0 a person, 1 a company (reference §3.3)."""

_PSE_DESCRIPTION_LIMIT: Final = 30  # the docs say 30 or 64: the shorter fits both
_TRANSFER_DESCRIPTION_LIMIT: Final = 64
_NEQUI_PHONE: Final = re.compile(r"[0-9]{10}")


def _missing(field: str, message: str) -> ValidationError:
    return ValidationError(
        f"A Wompi payment needs {message}.", errors=[FieldError(field, f"is required: {message}")]
    )


def _nequi_phone(payer: Payer) -> str:
    """The payer's 10-digit Nequi number; spaces and a leading +57 are dropped."""
    phone = (payer.phone or "").replace(" ", "").removeprefix("+57")
    if _NEQUI_PHONE.fullmatch(phone) is None:
        raise _missing("payer.phone", "the payer's 10-digit Nequi phone number")
    return phone


def _pse(request: PaymentRequest) -> dict[str, object]:
    payer = request.payer
    if not request.bank_code:
        raise _missing("bank_code", "a PSE bank from GET /v1/pse/banks")
    if not payer.document_type or not payer.document_number:
        raise _missing("payer.document_number", "the payer's document type and number")
    user_type = _PSE_USER_TYPES.get(payer.person_type or "")
    if user_type is None:
        raise _missing("payer.person_type", "whether the payer is natural or juridical")
    return {
        "type": "PSE",
        "user_type": user_type,
        "user_legal_id_type": payer.document_type,
        "user_legal_id": payer.document_number,
        "financial_institution_code": request.bank_code,
        "payment_description": request.description[:_PSE_DESCRIPTION_LIMIT],
    }


def payment_method_body(request: PaymentRequest) -> dict[str, object]:
    """The ``payment_method`` object of a transaction (reference §3.3).

    ``card``: ``{"type": "CARD", "token", "installments": 1}`` with the card token the payer's
    browser made (``PaymentRequest.payment_token``); ``nequi``: the payer's phone; ``pse``: bank
    code, user type (0 natural, 1 juridical) and legal id from the Payer; ``bank_transfer``:
    ``BANCOLOMBIA_TRANSFER`` with a description (no single quotes). Raises ``ValidationError``
    for a missing detail and ``KeyError`` for a method Wompi does not serve (the capabilities
    refuse those first).
    """
    method_type = METHOD_TYPES[request.payment_method or "card"]
    if method_type == "CARD":
        if not request.payment_token:
            raise _missing("payment_token", "the card token made with Wompi's public key")
        return {"type": "CARD", "token": request.payment_token, "installments": 1}
    if method_type == "NEQUI":
        return {"type": "NEQUI", "phone_number": _nequi_phone(request.payer)}
    if method_type == "PSE":
        return _pse(request)
    description = request.description.replace("'", "")[:_TRANSFER_DESCRIPTION_LIMIT]
    return {"type": "BANCOLOMBIA_TRANSFER", "payment_description": description}


def transaction_body(
    request: PaymentRequest,
    *,
    integrity_secret: str,
    acceptance_token: str = "",
    personal_auth_token: str | None = None,
) -> dict[str, object]:
    """The JSON body of ``POST /transactions`` (reference §3.3, §3.4): ``amount_in_cents``
    (COP 50,000.00 -> ``5000000``), our reference, currency, the payer's e-mail, the integrity
    signature of exactly those reference, cents and currency, the acceptance tokens, the
    payment method, and the payer's way back (``redirect_url``). Raises ``ValidationError``
    (or ``InvalidAmountError``) for a request Wompi cannot be sent, so a caller can check a
    request before fetching the acceptance tokens."""
    if not request.payer.email:
        raise _missing("customer.email", "the payer's e-mail (customer.email)")
    cents = to_amount_in_cents(request.amount)
    currency = request.amount.currency.code
    body: dict[str, object] = {
        "acceptance_token": acceptance_token,
        "amount_in_cents": cents,
        "currency": currency,
        "customer_email": request.payer.email,
        "reference": request.reference,
        "signature": integrity_signature(
            reference=request.reference,
            amount_in_cents=cents,
            currency=currency,
            integrity_secret=integrity_secret,
        ),
        "payment_method": payment_method_body(request),
    }
    if personal_auth_token:
        body["accept_personal_auth"] = personal_auth_token
    if request.return_url:
        body["redirect_url"] = request.return_url
    customer: dict[str, str] = {}
    if request.payer.name:
        customer["full_name"] = request.payer.name
    if request.payer.phone:
        customer["phone_number"] = request.payer.phone
    if customer:
        body["customer_data"] = customer
    return body


def encode_body(body: Mapping[str, object]) -> bytes:
    """Compact, key-sorted JSON: a retried request sends exactly the same bytes."""
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
