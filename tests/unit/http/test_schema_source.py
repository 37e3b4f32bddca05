"""One schema source: the Structs that decode the bodies are the document's components."""

from __future__ import annotations

from typing import get_args

import msgspec
import pytest

from payments.domain.errors import MalformedRequestError, ValidationError
from payments.domain.purchase import ApplyResult
from payments.domain.routing import PAYMENT_METHODS
from payments.domain.services.notifications import Delivery
from payments.entrypoints.http.billing_bodies import (
    BILLING_REQUEST_BODIES,
    BILLING_RESPONSE_BODIES,
)
from payments.entrypoints.http.bodies import (
    REQUEST_BODIES,
    PaymentMethodName,
    ProductInput,
    PurchaseInput,
)
from payments.entrypoints.http.json_body import decode_body
from payments.entrypoints.http.presenters import SYNC_ANSWERS, WEBHOOK_ANSWERS
from payments.entrypoints.http.representations import RESPONSE_BODIES
from tests.unit.http.conftest import Api


def test_document_components_are_generated_from_the_body_structs(api: Api) -> None:
    _, generated = msgspec.json.schema_components(
        (*REQUEST_BODIES, *RESPONSE_BODIES, *BILLING_REQUEST_BODIES, *BILLING_RESPONSE_BODIES),
        ref_template="#/components/schemas/{name}",
    )

    served = api.get("/openapi.json").json["components"]["schemas"]

    assert served == msgspec.json.decode(msgspec.json.encode(generated))


def test_checkout_payment_methods_are_the_routing_tables() -> None:
    assert set(get_args(PaymentMethodName)) == PAYMENT_METHODS


def test_every_bad_field_is_named_at_once_with_dotted_names() -> None:
    body = b'{"product_id": 7, "country": null, "customer": {"email": 1}, "payer": []}'

    with pytest.raises(ValidationError) as refused:
        decode_body(body, PurchaseInput)

    fields = {error.field: error.message for error in refused.value.errors}
    assert set(fields) == {"product_id", "country", "customer.email", "payer"}
    assert fields["country"] == "is required"


def test_an_amount_sent_as_a_json_number_never_becomes_money() -> None:
    body = b'{"name": "P", "kind": "package", "price": {"amount": 79.99, "currency": "EUR"},'
    body += b' "credits": "8"}'

    with pytest.raises(ValidationError) as refused:
        decode_body(body, ProductInput)

    [error] = refused.value.errors
    assert error.field == "price.amount"
    assert "decimal string" in error.message


@pytest.mark.parametrize(
    "raw",
    [
        b"[1]",
        b'"text"',
        b"{",
        b"NaN",
        # A bad field comes before the trailing garbage: found by schemathesis as a 500.
        b'{"id": "evt", "amount": 7999, "raw": "\xc3\xa9"}\x00\xff',
        b'{"name": 5}\x00zz',
    ],
)
def test_a_body_that_is_not_a_json_object_is_malformed(raw: bytes) -> None:
    with pytest.raises(MalformedRequestError):
        decode_body(raw, ProductInput)


def test_every_apply_result_and_delivery_has_its_wire_answer() -> None:
    assert set(SYNC_ANSWERS) == set(ApplyResult)
    assert set(WEBHOOK_ANSWERS) == set(Delivery)
    assert [SYNC_ANSWERS[r] for r in ApplyResult] == [
        "processed",
        "duplicate",
        "ignored",
        "conflict",
    ]
