"""Idempotency-Key over HTTP: one action per key and body, the first answer replayed."""

from __future__ import annotations

import json

import falcon.testing
import pytest

from payments.domain.idempotency import IN_FLIGHT_LEASE
from payments.entrypoints.http.idempotency import _canonical, _canonical_text, fingerprint
from payments.entrypoints.http.json_body import parse_json_value
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


def _claim_in_flight(api: Api, key: str, encoded: bytes) -> None:
    """Claim ``key`` for the merchant as a request that is still running (or crashed) would."""
    assert api.services is not None
    scope = f"key:{api.key_ids['merchant']}"
    print_ = fingerprint("POST", "/v1/purchases", encoded, "application/json")
    assert api.services.idempotency.begin(scope, key, print_) is None


def _post_raw(api: Api, key: str, encoded: bytes) -> falcon.testing.Result:
    return api.post(
        "/v1/purchases",
        raw=encoded,
        role="merchant",
        headers={"Idempotency-Key": key, "Content-Type": "application/json"},
    )


def test_request_in_flight_is_409(api: Api) -> None:
    product_id = api.create_premium()["id"]
    encoded = json.dumps({"product_id": product_id, "customer_id": "cus_ana", "country": "PT"})
    _claim_in_flight(api, "slow-key", encoded.encode())
    api.clock.advance(seconds=IN_FLIGHT_LEASE.total_seconds() - 1)

    result = _post_raw(api, "slow-key", encoded.encode())

    assert_problem(result, 409, "idempotency_in_flight")
    assert "retry-after" in result.headers
    assert api.store.tables.purchases == {}


def test_claim_left_by_a_crashed_request_is_taken_over_after_its_lease(api: Api) -> None:
    product_id = api.create_premium()["id"]
    encoded = json.dumps({"product_id": product_id, "customer_id": "cus_ana", "country": "PT"})
    _claim_in_flight(api, "crashed-key", encoded.encode())  # its process died: never finished
    api.clock.advance(seconds=IN_FLIGHT_LEASE.total_seconds())

    taken_over = _post_raw(api, "crashed-key", encoded.encode())
    replayed = _post_raw(api, "crashed-key", encoded.encode())

    assert taken_over.status_code == 201, taken_over.text
    assert "idempotent-replayed" not in taken_over.headers
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.json["id"] == taken_over.json["id"]
    assert len(api.store.tables.purchases) == 1


def test_finished_answer_outlives_the_in_flight_lease(api: Api) -> None:
    product_id = api.create_premium()["id"]
    first = _purchase(api, product_id, "order-7")
    api.clock.advance(hours=23)

    again = _purchase(api, product_id, "order-7")

    assert again.headers["idempotent-replayed"] == "true"
    assert again.json["id"] == first.json["id"]
    assert len(api.store.tables.purchases) == 1


def test_same_json_with_other_spacing_and_key_order_is_the_same_request(api: Api) -> None:
    product_id = api.create_premium()["id"]
    compact = f'{{"product_id":"{product_id}","customer_id":"cus_ana","country":"PT"}}'
    spaced = (
        f'{{\n  "country": "PT",\n  "customer_id": "cus_\\u0061na",\n'
        f'  "product_id": "{product_id}"\n}}'
    )

    first = _post_raw(api, "spacing", compact.encode())
    again = _post_raw(api, "spacing", spaced.encode())

    assert first.status_code == 201, first.text
    assert again.status_code == 201, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json == first.json
    assert len(api.store.tables.purchases) == 1


def test_canonical_fingerprint_keeps_numbers_apart_from_strings_and_exact() -> None:
    def of(body: str) -> str:
        return fingerprint("POST", "/v1/products", body.encode(), "application/json")

    assert of('{"a": 1, "b": [true, null]}') == of('{"b":[true,null],"a":1}')
    assert of('{"amount": "79.99"}') != of('{"amount": 79.99}')
    assert of('{"amount": 79.99}') != of('{"amount": 79.990000000000001}')
    assert of('{"amount": 0.1}') != of('{"amount": 0.10000000000000001}')  # floats would merge
    assert of("not json") == of("not json")
    assert of("not json") != of("not  json")
    assert fingerprint("POST", "/v1/products", b"{}", "text/plain") != of("{}")


@pytest.mark.parametrize(
    "body",
    [
        b'{"b": [1, true, null, "\\u00e9\\ud800"], "a": {"z": "x", "\\u2028": -12}}',
        b'{"amount": 1.50, "n": 100000000000000000000000000}',
        b"[" * 200 + b"1" + b"]" * 200,
        '{"name": "Jos\u00e9 \U0001f600", "x": [{}, []]}'.encode(),
    ],
)
def test_canonical_text_is_the_same_fast_or_slow(body: bytes) -> None:
    value = parse_json_value(body)
    assert _canonical_text(value, body) == _canonical(value)


def test_server_error_releases_the_key_for_a_retry(api: Api) -> None:
    product_id = api.create_premium()["id"]
    api.gateway.fail_next(charged=False)  # proves the provider never saw the payment

    failed = _purchase(api, product_id, "retry-me")
    retried = _purchase(api, product_id, "retry-me")

    problem = assert_problem(failed, 503, "gateway_unavailable")
    assert "purchase_id" not in problem
    assert retried.status_code == 201
    assert "idempotent-replayed" not in retried.headers
    assert retried.json["gateway_reference"] is not None


def test_retry_after_a_503_that_may_have_charged_buys_once(api: Api) -> None:
    product_id = api.create_premium()["id"]
    api.gateway.fail_next(charged=True)  # the provider took the payment, the answer was lost

    failed = _purchase(api, product_id, "maybe-charged")
    retried = _purchase(api, product_id, "maybe-charged")

    problem = assert_problem(failed, 503, "gateway_unavailable")
    assert retried.status_code == 503
    assert retried.headers["idempotent-replayed"] == "true"
    assert retried.json["purchase_id"] == problem["purchase_id"]
    assert int(retried.headers["retry-after"]) > 0
    assert list(api.store.tables.purchases) == [problem["purchase_id"]]
    assert len(api.gateway.payments) == 1
    assert [c for c in api.gateway.calls if c[0] == "start_payment"] == [
        ("start_payment", f"{problem['purchase_id']}:start:0")
    ]


def test_retry_after_reconciliation_answers_the_purchase_as_it_is_now(api: Api) -> None:
    product_id = api.create_premium()["id"]
    api.gateway.fail_next(charged=True)
    purchase_id = assert_problem(
        _purchase(api, product_id, "maybe-charged"), 503, "gateway_unavailable"
    )["purchase_id"]
    synced = api.post(f"/v1/purchases/{purchase_id}/sync", role="admin")
    assert synced.status_code == 200, synced.text

    retried = _purchase(api, product_id, "maybe-charged")

    assert retried.status_code == 201, retried.text
    assert retried.headers["idempotent-replayed"] == "true"
    assert retried.headers["location"] == f"/v1/purchases/{purchase_id}"
    assert retried.json["id"] == purchase_id
    assert retried.json["status"] != "pending"  # reconciliation found the provider's payment
    assert retried.json == api.get(f"/v1/purchases/{purchase_id}").json
    assert len(api.store.tables.purchases) == 1
    assert len(api.gateway.payments) == 1


def test_retry_of_a_refund_that_may_have_been_made_refunds_once(api: Api) -> None:
    purchase_id = api.buy(api.create_premium()["id"])
    api.gateway.approve(api.gateway_reference(purchase_id))
    api.deliver_all()
    api.gateway.fail_next(charged=True)  # the provider made the refund, the answer was lost
    body = {"amount": {"amount": "10.00", "currency": "EUR"}}
    headers = {"Idempotency-Key": "refund-1"}

    failed = api.post(f"/v1/purchases/{purchase_id}/refunds", body, headers=headers)
    retried = api.post(f"/v1/purchases/{purchase_id}/refunds", body, headers=headers)

    problem = assert_problem(failed, 503, "gateway_unavailable")
    assert problem["purchase_id"] == purchase_id
    assert problem["refund_id"].startswith("rfd")
    assert retried.status_code == 503
    assert retried.headers["idempotent-replayed"] == "true"
    assert retried.json["refund_id"] == problem["refund_id"]
    assert list(api.store.tables.refunds) == [problem["refund_id"]]
    refunds_at_provider = [c for c in api.gateway.calls if c[0] == "refund"]
    assert len(refunds_at_provider) == 1
    purchase = api.get(f"/v1/purchases/{purchase_id}").json
    assert purchase["refunded"] == {"amount": "10.00", "currency": "EUR"}  # booked once
    assert api.get("/v1/accounts/cus_ana").json["credits"] == "7.00"


def test_validation_refusal_is_stored_and_replayed(api: Api) -> None:
    first = api.post(
        "/v1/products", {**PREMIUM, "credits": 8}, headers={"Idempotency-Key": "bad-product"}
    )
    again = api.post(
        "/v1/products", {**PREMIUM, "credits": 8}, headers={"Idempotency-Key": "bad-product"}
    )

    assert_problem(first, 422, "validation_error")
    assert_problem(again, 422, "validation_error")  # its request_id is the replaying request's
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json["request_id"] != first.json["request_id"]
    assert {**again.json, "request_id": None} == {**first.json, "request_id": None}


@pytest.mark.parametrize("key", ["k" * 256, "two words", "caf\u00e9"])
def test_overlong_or_unprintable_key_is_400(api: Api, key: str) -> None:
    result = api.post("/v1/products", PREMIUM, headers={"Idempotency-Key": key})

    problem = assert_problem(result, 400, "malformed_request")
    assert problem["errors"] == [
        {
            "field": "Idempotency-Key",
            "message": "must be 1 to 255 visible ASCII characters, no spaces",
        }
    ]
    assert api.store.tables.products == {}


def test_key_of_any_visible_ascii_is_accepted(api: Api) -> None:
    key = "order:42/2026-01-01T12:00:00Z#" + "k" * 225

    result = api.post("/v1/products", PREMIUM, headers={"Idempotency-Key": key})

    assert result.status_code == 201, result.text


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
