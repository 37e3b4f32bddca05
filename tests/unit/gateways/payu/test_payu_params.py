"""The commands sent to PayU: the request signature over the amount text exactly as sent."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from decimal import Decimal

import pytest

from payments.adapters.gateways.payu.params import (
    Merchant,
    encode_command,
    parent_transaction_command,
    submit_transaction_command,
)
from payments.adapters.gateways.payu.settings import (
    SANDBOX_API_KEY,
    SANDBOX_API_LOGIN,
    SANDBOX_MERCHANT_ID,
    SignatureAlgorithm,
)
from payments.domain.errors import ValidationError
from payments.domain.gateway import Payer, PaymentRequest
from payments.domain.money import Money

MERCHANT = Merchant(SANDBOX_API_KEY, SANDBOX_API_LOGIN, SANDBOX_MERCHANT_ID, {"CO": "512321"})
DOCS_REFERENCE = "PRODUCT_TEST_2021-06-23T19:59:43.229Z"


def _request(amount: Money, reference: str = DOCS_REFERENCE) -> PaymentRequest:
    return PaymentRequest(
        purchase_id="pur_1",
        reference=reference,
        amount=amount,
        description="Payment test description",
        payer=Payer("cus_1", "ana@example.com", "Ana"),
        country="CO",
        payment_method="cash",
        idempotency_key="pur_1:start:0",
    )


def test_the_docs_api_example_is_signed_over_65000_and_sent_as_65000() -> None:
    command = submit_transaction_command(
        _request(Money("65000.00", "COP")), MERCHANT, notify_url=None
    )
    order = command["transaction"]["order"]  # type: ignore[index]
    assert order["signature"] == "1d6c33aed575c4974ad5c0be7c6a1c87"  # reference §6
    encoded = encode_command(command)
    assert b'"TX_VALUE":{"value":65000,"currency":"COP"}' in encoded
    assert json.loads(encoded)["transaction"]["paymentMethod"] == "EFECTY"


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (Money("150.25", "USD"), "150.25"),
        (Money("3", "USD"), "3"),
        (Money("150.20", "USD"), "150.20"),
    ],
)
def test_a_fractional_amount_is_sent_as_the_very_text_it_is_signed_over(
    amount: Money, text: str
) -> None:
    command = submit_transaction_command(_request(amount, "TestPayU"), MERCHANT, notify_url=None)
    encoded = encode_command(command)
    assert f'"TX_VALUE":{{"value":{text},"currency":"USD"}}'.encode() in encoded
    sent = json.loads(encoded, parse_float=Decimal)["transaction"]["order"]
    plain = f"{SANDBOX_API_KEY}~{SANDBOX_MERCHANT_ID}~TestPayU~{text}~USD"
    assert sent["signature"] == hashlib.md5(plain.encode(), usedforsecurity=False).hexdigest()


def test_sha256_signs_the_same_string() -> None:
    merchant = Merchant(
        SANDBOX_API_KEY,
        SANDBOX_API_LOGIN,
        SANDBOX_MERCHANT_ID,
        {"CO": "1"},
        SignatureAlgorithm.SHA256,
    )
    signature = merchant.request_signature("TestPayU", "3", "USD")
    plain = f"{SANDBOX_API_KEY}~{SANDBOX_MERCHANT_ID}~TestPayU~3~USD"
    assert signature == hashlib.sha256(plain.encode()).hexdigest()


def test_a_refund_names_the_order_and_its_charge() -> None:
    command = parent_transaction_command(
        MERCHANT, "REFUND", order_id="1400462414", transaction_id="tx-1", reason="Customer"
    )
    assert command["command"] == "SUBMIT_TRANSACTION"
    assert command["transaction"] == {
        "order": {"id": 1400462414},
        "type": "REFUND",
        "reason": "Customer",
        "parentTransactionId": "tx-1",
    }


def test_a_payer_without_an_e_mail_is_refused_naming_the_api_field() -> None:
    """The API takes the payer's e-mail as ``customer.email``: the refusal names that field."""
    request = dataclasses.replace(
        _request(Money("50000", "COP")), payer=Payer("cus_1", None, "Ana")
    )

    with pytest.raises(ValidationError) as caught:
        submit_transaction_command(request, MERCHANT, notify_url=None)

    assert [error.field for error in caught.value.errors] == ["customer.email"]
