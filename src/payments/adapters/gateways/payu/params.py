"""What we send PayU: the JSON command bodies of its Payments and Queries APIs, byte-stable."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Final

import msgspec

from payments.adapters.gateways.payu.amounts import to_payu_amount
from payments.adapters.gateways.payu.settings import SignatureAlgorithm
from payments.adapters.gateways.payu.signatures import fields_signature, request_signature
from payments.domain.errors import FieldError, ValidationError
from payments.domain.gateway import PaymentRequest

__all__ = [
    "CASH_METHOD",
    "METHOD_NAMES",
    "PSE_METHOD",
    "Merchant",
    "bank_list_command",
    "encode_command",
    "order_detail_command",
    "orders_by_reference_command",
    "parent_transaction_command",
    "submit_transaction_command",
]

PSE_METHOD: Final = "PSE"
CASH_METHOD: Final = "EFECTY"
METHOD_NAMES: Final[Mapping[str, str]] = {"pse": PSE_METHOD, "cash": CASH_METHOD}
"""Our payment method -> PayU's ``paymentMethod`` where it is fixed; a card's comes from its
token (reference §2.3)."""

_PSE_USER_TYPES: Final[Mapping[str, str]] = {"natural": "N", "juridical": "J"}
"""``Payer.person_type`` -> PSE ``USER_TYPE``: N a person, J a company (reference §2.7)."""
_PSE_DOCUMENT_TYPES: Final = frozenset({"CC", "CE", "NIT", "TI", "PP", "RC", "DE"})
_DESCRIPTION_LIMIT: Final = 255
_ENCODER: Final = msgspec.json.Encoder(decimal_format="number")


class Merchant(msgspec.Struct, frozen=True):
    """Who we are at PayU: the credentials every command carries, and the account per country."""

    api_key: str
    api_login: str
    merchant_id: str
    accounts: Mapping[str, str] = msgspec.field(default_factory=dict)
    algorithm: SignatureAlgorithm = SignatureAlgorithm.MD5
    test: bool = True

    def request_signature(self, reference: str, amount: str, currency: str) -> str:
        """The signature of a payment request of ``amount`` (the text as sent) in ``currency``
        under our ``reference`` (``signatures.request_signature``)."""
        parts = {"reference_code": reference, "amount": amount, "currency": currency}
        return request_signature(
            api_key=self.api_key, merchant_id=self.merchant_id, algorithm=self.algorithm, **parts
        )

    def confirmation_sign(self, fields: Mapping[str, str]) -> str:
        """The ``sign`` of a confirmation form (``signatures.fields_signature``)."""
        return fields_signature(fields, self.api_key, self.merchant_id, self.algorithm)

    def envelope(self, command: str) -> dict[str, object]:
        """The fields every command starts with (reference §2.3)."""
        return {
            "language": "es",
            "command": command,
            "merchant": {"apiKey": self.api_key, "apiLogin": self.api_login},
            "test": self.test,
        }


def encode_command(body: Mapping[str, object]) -> bytes:
    """Compact JSON in the order built; a ``Decimal`` is written as the number it holds, so
    ``TX_VALUE.value`` carries exactly the text the signature signed (``65000``, ``150.25``)."""
    return _ENCODER.encode(body)


def _missing(field: str, message: str) -> ValidationError:
    return ValidationError(
        f"A PayU payment needs {message}.", errors=[FieldError(field, f"is required: {message}")]
    )


def _person(request: PaymentRequest) -> dict[str, object]:
    """The buyer or payer object: what the Payer tells (reference §2.3)."""
    payer = request.payer
    person: dict[str, object] = {"merchantBuyerId": payer.customer_id}
    if payer.name:
        person["fullName"] = payer.name
    if payer.email:
        person["emailAddress"] = payer.email
    if payer.phone:
        person["contactPhone"] = payer.phone
    if payer.document_number:
        person["dniNumber"] = payer.document_number
    return person


def _pse_parameters(request: PaymentRequest) -> dict[str, object]:
    """The PSE ``extraParameters`` (reference §2.7): bank, person type, document, IP."""
    payer = request.payer
    if not request.bank_code:
        raise _missing("bank_code", "a PSE bank from GET /v1/pse/banks")
    user_type = _PSE_USER_TYPES.get(payer.person_type or "")
    if user_type is None:
        raise _missing("payer.person_type", "whether the payer is natural or juridical")
    if payer.document_type not in _PSE_DOCUMENT_TYPES or not payer.document_number:
        raise _missing("payer.document_number", "the payer's document type and number")
    parameters: dict[str, object] = {
        "FINANCIAL_INSTITUTION_CODE": request.bank_code,
        "USER_TYPE": user_type,
        "PSE_REFERENCE1": payer.ip_address or "127.0.0.1",
        "PSE_REFERENCE2": payer.document_type,
        "PSE_REFERENCE3": payer.document_number,
    }
    if request.return_url:
        parameters["RESPONSE_URL"] = request.return_url
    return parameters


def _method_fields(request: PaymentRequest) -> dict[str, object]:
    """``paymentMethod`` and what goes with it: a card's token, PSE's parameters."""
    method = request.payment_method or "card"
    if method == "card":
        if not request.payment_token:
            raise _missing("payment_token", "the PayU credit card token (creditCardTokenId)")
        return {
            "creditCardTokenId": request.payment_token,
            "extraParameters": {"INSTALLMENTS_NUMBER": 1},
        }
    if method == "pse":
        return {"paymentMethod": PSE_METHOD, "extraParameters": _pse_parameters(request)}
    return {"paymentMethod": METHOD_NAMES[method]}


def submit_transaction_command(
    request: PaymentRequest, merchant: Merchant, *, notify_url: str | None
) -> dict[str, object]:
    """``SUBMIT_TRANSACTION`` with ``AUTHORIZATION_AND_CAPTURE`` (reference §2.3): our reference
    as ``referenceCode``, ``TX_VALUE`` as ``to_payu_amount`` writes it (COP in whole pesos), the
    request signature of that very text, and the method's fields. Raises ``ValidationError``
    for a missing detail (a card token, the PSE bank or document) and ``InvalidAmountError``
    for an amount PayU cannot take, before anything is sent."""
    amount = to_payu_amount(request.amount)
    currency = request.amount.currency.code
    account = merchant.accounts.get(request.country)
    if account is None:
        raise _missing("country", f"a PayU account for {request.country}")
    if not request.payer.email:
        raise _missing("customer.email", "the payer's e-mail (customer.email)")
    order: dict[str, object] = {
        "accountId": account,
        "referenceCode": request.reference,
        "description": request.description[:_DESCRIPTION_LIMIT],
        "language": "es",
        "signature": merchant.request_signature(request.reference, amount, currency),
        "additionalValues": {"TX_VALUE": {"value": Decimal(amount), "currency": currency}},
        "buyer": _person(request),
    }
    if notify_url:
        order["notifyUrl"] = notify_url
    transaction: dict[str, object] = {
        "order": order,
        "payer": {**_person(request), "merchantPayerId": request.payer.customer_id},
        "type": "AUTHORIZATION_AND_CAPTURE",
        "paymentCountry": request.country,
        **_method_fields(request),
    }
    if request.payer.ip_address:
        transaction["ipAddress"] = request.payer.ip_address
    return {**merchant.envelope("SUBMIT_TRANSACTION"), "transaction": transaction}


def parent_transaction_command(
    merchant: Merchant, kind: str, *, order_id: str, transaction_id: str, reason: str
) -> dict[str, object]:
    """A ``VOID`` or ``REFUND`` of the transaction ``transaction_id`` of order ``order_id``
    (reference §2.3): ``{"order": {"id"}, "type", "reason", "parentTransactionId"}``."""
    transaction = {
        "order": {"id": int(order_id)},
        "type": kind,
        "reason": reason,
        "parentTransactionId": transaction_id,
    }
    return {**merchant.envelope("SUBMIT_TRANSACTION"), "transaction": transaction}


def bank_list_command(merchant: Merchant, country: str) -> dict[str, object]:
    """``GET_BANKS_LIST`` of PSE in ``country`` (reference §2.7)."""
    information = {"paymentMethod": PSE_METHOD, "paymentCountry": country}
    return {**merchant.envelope("GET_BANKS_LIST"), "bankListInformation": information}


def orders_by_reference_command(merchant: Merchant, reference: str) -> dict[str, object]:
    """The Queries API's ``ORDER_DETAIL_BY_REFERENCE_CODE`` (reference §2.1)."""
    return {
        **merchant.envelope("ORDER_DETAIL_BY_REFERENCE_CODE"),
        "details": {"referenceCode": reference},
    }


def order_detail_command(merchant: Merchant, order_id: str) -> dict[str, object]:
    """The Queries API's ``ORDER_DETAIL`` of one order by PayU's id (reference §2.1)."""
    return {**merchant.envelope("ORDER_DETAIL"), "details": {"orderId": int(order_id)}}
