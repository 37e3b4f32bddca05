"""Idempotency-Key over HTTP: one action per key and body, the first answer replayed."""

from __future__ import annotations

import json

import falcon.testing

from payments.entrypoints.http.idempotency import fingerprint
from tests.unit.http.conftest import PREMIUM, Api, assert_problem


def _purchase(
    api: Api, product_id: object, key: str, role: str = "merchant", **extra: object
) -> falcon.testing.Result:
    return api.post(
        "/v1/purchases",
        {"product_id": product_id, "customer_id": "cus_ana", "country": "PT", **extra},
        role=role,
        headers={"Idempotency-Key": key},
    )


def test_same_key_and_body_replays_the_first_response_and_buys_once(api: Api) -> None:
    product_id = api.create_premium()["id"]

    first = _purchase(api, product_id, "order-42")
    again = _purchase(api, product_id, "order-42")

    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert again.json == first.json
    assert again.headers["location"] == first.headers["location"]
    assert len(api.store.tables.purchases) == 1
    assert [c for c in api.gateway.calls if c[0] == "start_payment"] == [
        ("start_payment", f"{first.json['id']}:start:0")
    ]


def test_same_key_with_another_body_is_422(api: Api) -> None:
    product_id = api.create_premium()["id"]
    _purchase(api, product_id, "order-42")
    before = api.snapshot()

    other = _purchase(api, product_id, "order-42", country="CO")

    assert_problem(other, 422, "idempotency_conflict")
    assert api.snapshot() == before


def test_keys_are_scoped_to_the_caller(api: Api) -> None:
    product_id = api.create_premium()["id"]

    merchant = _purchase(api, product_id, "shared-key", role="merchant")
    admin = _purchase(api, product_id, "shared-key", role="admin")

    assert merchant.status_code == admin.status_code == 201
    assert "idempotent-replayed" not in admin.headers
    assert merchant.json["id"] != admin.json["id"]


def test_request_in_flight_is_409(api: Api) -> None:
    product_id = api.create_premium()["id"]
    body = {"product_id": product_id, "customer_id": "cus_ana", "country": "PT"}
    encoded = json.dumps(body).encode()
    assert api.services is not None
    scope = f"key:{api.key_ids['merchant']}"
    assert (
        api.services.idempotency.begin(
            scope, "slow-key", fingerprint("POST", "/v1/purchases", encoded)
        )
        is None
    )

    result = api.post(
        "/v1/purchases",
        raw=encoded,
        role="merchant",
        headers={"Idempotency-Key": "slow-key", "Content-Type": "application/json"},
    )

    assert_problem(result, 409, "idempotency_in_flight")
    assert "retry-after" in result.headers
    assert api.store.tables.purchases == {}


def test_server_error_releases_the_key_for_a_retry(api: Api) -> None:
    product_id = api.create_premium()["id"]
    api.gateway.fail_next(charged=False)

    failed = _purchase(api, product_id, "retry-me")
    retried = _purchase(api, product_id, "retry-me")

    assert_problem(failed, 503, "gateway_unavailable")
    assert retried.status_code == 201
    assert "idempotent-replayed" not in retried.headers


def test_validation_refusal_is_stored_and_replayed(api: Api) -> None:
    first = api.post(
        "/v1/products", {**PREMIUM, "credits": 8}, headers={"Idempotency-Key": "bad-product"}
    )
    again = api.post(
        "/v1/products", {**PREMIUM, "credits": 8}, headers={"Idempotency-Key": "bad-product"}
    )

    assert_problem(first, 422, "validation_error")
    assert again.status_code == 422
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"].startswith("application/problem+json")
    assert again.json == first.json


def test_overlong_key_is_400(api: Api) -> None:
    result = api.post("/v1/products", PREMIUM, headers={"Idempotency-Key": "k" * 256})

    problem = assert_problem(result, 400, "malformed_request")
    assert problem["errors"] == [
        {"field": "Idempotency-Key", "message": "must be 1 to 255 characters"}
    ]
    assert api.store.tables.products == {}


def test_refused_callers_never_claim_a_key(api: Api) -> None:
    product_id = api.create_premium()["id"]

    forbidden = api.post(
        "/v1/products", PREMIUM, role="merchant", headers={"Idempotency-Key": "k1"}
    )
    allowed = _purchase(api, product_id, "k1")

    assert_problem(forbidden, 403, "forbidden")
    assert allowed.status_code == 201
    assert api.store.tables.idempotency.keys() == {(f"key:{api.key_ids['merchant']}", "k1")}


def test_webhooks_ignore_idempotency_keys(api: Api) -> None:
    purchase_id = api.buy(api.create_premium()["id"])
    api.gateway.approve(api.gateway_reference(purchase_id))
    [(headers, body)] = api.gateway.drain()

    first = api.post(
        "/v1/webhooks/fake", raw=body, headers={**headers, "Idempotency-Key": "w"}, role=None
    )
    again = api.post(
        "/v1/webhooks/fake", raw=body, headers={**headers, "Idempotency-Key": "w"}, role=None
    )

    assert first.json == {"status": "processed"}
    assert again.json == {"status": "duplicate"}
    assert "idempotent-replayed" not in again.headers
