"""Request bodies: plain decimal amounts only, and bodies without a Content-Length."""

from __future__ import annotations

import json

import falcon.testing
import pytest

from tests.unit.http.conftest import PREMIUM, Api, assert_problem

NOT_PLAIN_DECIMALS = [
    "1e3",
    "1E+3",
    " 79.99",
    "79.99 ",
    "79.99\n",
    "+79.99",
    "-79.99",
    "79,99",
    "1_000",
    ".5",
    "5.",
    "0x10",
    "NaN",
    "Infinity",
    "\u0667\u0669.\u0669\u0669",  # Arabic-Indic digits, which Decimal would accept
]


def _errors(problem: dict[str, object]) -> dict[str, str]:
    errors = problem["errors"]
    assert isinstance(errors, list)
    return {error["field"]: error["message"] for error in errors}


@pytest.mark.parametrize("amount", NOT_PLAIN_DECIMALS)
def test_price_that_is_not_a_plain_decimal_is_422_naming_the_amount(api: Api, amount: str) -> None:
    before = api.snapshot()

    result = api.post("/v1/products", {**PREMIUM, "price": {"amount": amount, "currency": "EUR"}})

    problem = assert_problem(result, 422, "validation_error")
    assert set(_errors(problem)) == {"price.amount"}
    assert "decimal string" in _errors(problem)["price.amount"]
    assert api.snapshot() == before


@pytest.mark.parametrize("credits", ["1e1", " 8", "8 ", "-8", "8."])
def test_credits_that_are_not_a_plain_decimal_are_422_naming_them(api: Api, credits: str) -> None:
    result = api.post("/v1/products", {**PREMIUM, "credits": credits})

    assert set(_errors(assert_problem(result, 422, "validation_error"))) == {"credits"}
    assert api.store.tables.products == {}


def test_refund_amount_with_an_exponent_is_422(api: Api) -> None:
    purchase_id = api.buy(api.create_premium()["id"])
    api.gateway.approve(api.gateway_reference(purchase_id))
    api.deliver_all()
    before = api.snapshot()

    result = api.post(
        f"/v1/purchases/{purchase_id}/refunds", {"amount": {"amount": "1e1", "currency": "EUR"}}
    )

    assert set(_errors(assert_problem(result, 422, "validation_error"))) == {"amount.amount"}
    assert api.snapshot() == before


@pytest.mark.parametrize(("amount", "stored"), [("79.99", "79.99"), ("80", "80.00")])
def test_plain_decimal_price_is_accepted(api: Api, amount: str, stored: str) -> None:
    result = api.post("/v1/products", {**PREMIUM, "price": {"amount": amount, "currency": "EUR"}})

    assert result.status_code == 201, result.text
    assert result.json["price"] == {"amount": stored, "currency": "EUR"}


def _post_without_length(
    api: Api, path: str, body: bytes, *, terminated: bool, role: str | None = "admin"
) -> falcon.testing.Result:
    """POST ``body`` as a chunked request after the server de-chunked it (or did not)."""
    environ = falcon.testing.create_environ(
        method="POST",
        path=path,
        body=body,
        headers={
            **api.auth(role),
            "Content-Type": "application/json",
            "Transfer-Encoding": "chunked",
        },
    )
    del environ["CONTENT_LENGTH"]
    if terminated:
        environ["wsgi.input_terminated"] = True
    response = falcon.testing.StartResponseMock()
    app = api.client.app
    chunks = app(environ, response)
    return falcon.testing.Result(chunks, response.status, response.headers)


def test_body_without_content_length_is_read_when_the_server_ends_it(api: Api) -> None:
    result = _post_without_length(
        api, "/v1/products", json.dumps(PREMIUM).encode(), terminated=True
    )

    assert result.status_code == 201, result.text
    assert result.json["name"] == PREMIUM["name"]


def test_body_without_content_length_over_the_limit_is_413(api: Api) -> None:
    huge = json.dumps({**PREMIUM, "name": "x" * (2 * 1024 * 1024)}).encode()

    result = _post_without_length(api, "/v1/products", huge, terminated=True)

    assert_problem(result, 413, "payload_too_large")
    assert api.store.tables.products == {}


def test_chunked_body_a_server_cannot_end_is_411_not_an_empty_body(api: Api) -> None:
    result = _post_without_length(
        api, "/v1/products", json.dumps(PREMIUM).encode(), terminated=False
    )

    assert_problem(result, 411, "length_required")
    assert api.store.tables.products == {}


@pytest.mark.parametrize("escape", ["\\u0000", "\\ud800", "\\udfff"])
def test_unstorable_text_is_named_beside_other_bad_fields(api: Api, escape: str) -> None:
    price = f'{{"amount": "1", "currency": "EUR{escape}"}}'
    body = (
        f'{{"name": "P{escape}", "kind": "package", "price": {price},'
        ' "credits": 8, "validity_days": 1}'
    ).encode()
    before = api.snapshot()

    result = api.post("/v1/products", raw=body, headers={"Content-Type": "application/json"})

    assert_problem(result, 422, "validation_error")
    named = {error["field"] for error in result.json["errors"]}
    assert {"name", "price.currency"} <= named
    if escape == "\\u0000":  # msgspec reads it, so the type error is named as well
        assert "credits" in named
    assert api.snapshot() == before
