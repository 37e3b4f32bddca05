"""What WompiGateway sends, offline: the transaction body and each payment method (§3.3, §3.4)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from payments.adapters.gateways.wompi.params import (
    encode_body,
    payment_method_body,
    transaction_body,
)
from payments.domain.errors import InvalidAmountError, UnsupportedByGatewayError, ValidationError
from payments.domain.gateway import Payer, PaymentRequest
from payments.domain.money import Money
from tests.unit.gateways.wompi.wompi_vectors import INTEGRITY_SECRET

PAYER = Payer(
    "cus_1",
    "pepito_perez@example.com",
    "Pepito Pérez",
    phone="+57 310 765 4321",
    document_type="CC",
    document_number="1999888777",
    person_type="natural",
)
REQUEST = PaymentRequest(
    purchase_id="pur_1",
    reference="sk8-438k4-xmxm392-sn2m",
    amount=Money("24900.00", "COP"),
    description="8 Hour Premium Package for the payer",
    payer=PAYER,
    country="CO",
    payment_method="card",
    idempotency_key="pur_1:start:0",
    return_url="https://shop.example/done",
    bank_code="1",
    payment_token="tok_test_1234",
)


def test_the_docs_integrity_example_is_what_a_transaction_body_signs() -> None:
    body = transaction_body(REQUEST, integrity_secret=INTEGRITY_SECRET)
    assert body["amount_in_cents"] == 2490000
    assert body["signature"] == "37c8407747e595535433ef8f6a811d853cd943046624a0ec04662b17bbf33bf5"
    assert body["currency"] == "COP"
    assert body["customer_email"] == "pepito_perez@example.com"
    assert body["redirect_url"] == "https://shop.example/done"
    assert body["customer_data"] == {"full_name": "Pepito Pérez", "phone_number": PAYER.phone}


def test_cop_50000_is_5000000_cents_in_plain_digits() -> None:
    request = replace(REQUEST, amount=Money("50000.00", "COP"))
    encoded = encode_body(transaction_body(request, integrity_secret=INTEGRITY_SECRET))
    assert b'"amount_in_cents":5000000,' in encoded
    assert json.loads(encoded)["amount_in_cents"] == 5000000


def test_acceptance_tokens_go_where_the_docs_put_them() -> None:
    body = transaction_body(
        REQUEST,
        integrity_secret=INTEGRITY_SECRET,
        acceptance_token="eyJ.policy",
        personal_auth_token="eyJ.personal",
    )
    assert body["acceptance_token"] == "eyJ.policy"
    assert body["accept_personal_auth"] == "eyJ.personal"


@pytest.mark.parametrize(
    ("method", "expected"),
    [
        ("card", {"type": "CARD", "token": "tok_test_1234", "installments": 1}),
        ("nequi", {"type": "NEQUI", "phone_number": "3107654321"}),
        (
            "pse",
            {
                "type": "PSE",
                "user_type": 0,
                "user_legal_id_type": "CC",
                "user_legal_id": "1999888777",
                "financial_institution_code": "1",
                "payment_description": "8 Hour Premium Package for the",
            },
        ),
        (
            "bank_transfer",
            {
                "type": "BANCOLOMBIA_TRANSFER",
                "payment_description": "8 Hour Premium Package for the payer",
            },
        ),
    ],
)
def test_each_method_is_sent_as_documented(method: str, expected: dict[str, object]) -> None:
    assert payment_method_body(replace(REQUEST, payment_method=method)) == expected


def test_a_company_pays_pse_as_user_type_1() -> None:
    request = replace(
        REQUEST,
        payment_method="pse",
        payer=replace(PAYER, person_type="juridical", document_type="NIT"),
    )
    body = payment_method_body(request)
    assert body["user_type"] == 1
    assert body["user_legal_id_type"] == "NIT"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"payment_token": None}, "payment_token"),
        ({"payment_method": "nequi", "payer": replace(PAYER, phone="12345")}, "payer.phone"),
        ({"payment_method": "pse", "bank_code": None}, "bank_code"),
        (
            {"payment_method": "pse", "payer": replace(PAYER, document_type=None)},
            "payer.document_number",
        ),
        ({"payment_method": "pse", "payer": replace(PAYER, person_type=None)}, "payer.person_type"),
        ({"payer": replace(PAYER, email=None)}, "customer.email"),
    ],
)
def test_a_missing_detail_is_refused_naming_its_field(
    changes: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        transaction_body(replace(REQUEST, **changes), integrity_secret=INTEGRITY_SECRET)  # type: ignore[arg-type]
    assert [error.field for error in refused.value.errors] == [field]


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        (Money("24900.50", "COP"), InvalidAmountError),
        (Money("0", "COP"), InvalidAmountError),
        (Money("10.00", "USD"), UnsupportedByGatewayError),
    ],
)
def test_amounts_wompi_cannot_take_are_refused(amount: Money, error: type[Exception]) -> None:
    with pytest.raises(error):
        transaction_body(replace(REQUEST, amount=amount), integrity_secret=INTEGRITY_SECRET)


def test_encoded_body_is_byte_stable() -> None:
    body = transaction_body(REQUEST, integrity_secret=INTEGRITY_SECRET)
    assert encode_body(body) == encode_body(dict(reversed(list(body.items()))))
