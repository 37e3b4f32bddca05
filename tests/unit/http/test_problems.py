"""Every refusal is an RFC 9457 problem with the documented members, and stores nothing."""

from __future__ import annotations

import json

import pytest

from payments.domain.services.catalog import CatalogService
from tests.unit.http.conftest import PREMIUM, Api, assert_problem


def _fields(problem: dict[str, object]) -> set[str]:
    errors = problem["errors"]
    assert isinstance(errors, list)
    for error in errors:
        assert set(error) == {"field", "message"}
    return {error["field"] for error in errors}


def test_malformed_json_is_400_and_stores_nothing(api: Api) -> None:
    before = api.snapshot()

    result = api.post(
        "/v1/products", raw=b'{"name": "x",', headers={"Content-Type": "application/json"}
    )

    assert_problem(result, 400, "malformed_request")
    assert api.snapshot() == before


@pytest.mark.parametrize(
    "raw", [b"[1, 2]", b'"text"', b"NaN", b'{"credits": Infinity}', b"\xff\xfe{"]
)
def test_body_that_is_not_a_json_object_is_400(api: Api, raw: bytes) -> None:
    result = api.post("/v1/products", raw=raw, headers={"Content-Type": "application/json"})

    assert_problem(result, 400, "malformed_request")


def test_wrong_content_type_is_400(api: Api) -> None:
    before = api.snapshot()

    result = api.post(
        "/v1/products", raw=json.dumps(PREMIUM).encode(), headers={"Content-Type": "text/plain"}
    )

    problem = assert_problem(result, 400, "malformed_request")
    assert _fields(problem) == {"Content-Type"}
    assert api.snapshot() == before


def test_wrong_types_are_422_naming_each_field(api: Api) -> None:
    before = api.snapshot()

    result = api.post(
        "/v1/products",
        {
            "name": 42,
            "kind": ["package"],
            "price": "79.99 EUR",
            "credits": True,
            "validity_days": "60",
            "trial_days": 1.5,
        },
    )

    problem = assert_problem(result, 422, "validation_error")
    assert _fields(problem) == {"name", "kind", "price", "credits", "validity_days", "trial_days"}
    assert api.snapshot() == before


def test_json_number_amount_is_422_naming_the_amount(api: Api) -> None:
    before = api.snapshot()

    result = api.post(
        "/v1/products",
        raw=b'{"name": "x", "kind": "package", "price": {"amount": 79.99, "currency": "EUR"},'
        b' "credits": 8, "validity_days": 60}',
        headers={"Content-Type": "application/json"},
    )

    problem = assert_problem(result, 422, "validation_error")
    assert _fields(problem) == {"price.amount", "credits"}
    assert api.snapshot() == before


def test_json_number_refund_amount_is_422(api: Api) -> None:
    purchase_id = api.buy(api.create_premium()["id"])
    api.gateway.approve(api.gateway_reference(purchase_id))
    api.deliver_all()
    before = api.snapshot()

    result = api.post(
        f"/v1/purchases/{purchase_id}/refunds",
        raw=b'{"amount": {"amount": 10, "currency": "EUR"}}',
        headers={"Content-Type": "application/json"},
    )

    problem = assert_problem(result, 422, "validation_error")
    assert _fields(problem) == {"amount.amount"}
    assert api.snapshot() == before


def test_domain_validation_names_the_fields(api: Api) -> None:
    result = api.post(
        "/v1/products",
        {**PREMIUM, "price": {"amount": "79.999", "currency": "EUR"}, "validity_days": None},
    )

    problem = assert_problem(result, 422, "validation_error")
    assert _fields(problem) == {"price", "validity_days"}


def test_unknown_currency_is_422_on_the_currency(api: Api) -> None:
    result = api.post("/v1/products", {**PREMIUM, "price": {"amount": "1.00", "currency": "XXQ"}})

    problem = assert_problem(result, 422, "validation_error")
    assert _fields(problem) == {"price.currency"}


def test_unknown_product_is_404_and_stores_nothing(api: Api) -> None:
    before = api.snapshot()

    result = api.post(
        "/v1/purchases",
        {"product_id": "prd_missing", "customer_id": "cus_ana", "country": "PT"},
        role="merchant",
    )

    assert_problem(result, 404, "not_found")
    assert api.snapshot() == before
    assert_problem(api.get("/v1/products/prd_missing"), 404, "not_found")


def test_missing_fields_are_422_naming_each(api: Api) -> None:
    before = api.snapshot()

    result = api.post("/v1/purchases", {"customer": {}}, role="merchant")

    problem = assert_problem(result, 422, "validation_error")
    assert _fields(problem) == {"product_id", "country", "customer.email"}
    assert api.snapshot() == before


def test_purchase_without_a_buyer_is_422(api: Api) -> None:
    product_id = api.create_premium()["id"]

    result = api.post("/v1/purchases", {"product_id": product_id, "country": "PT"}, role="admin")

    problem = assert_problem(result, 422, "validation_error")
    assert _fields(problem) == {"customer_id"}


def test_bad_payment_method_and_return_url_are_422(api: Api) -> None:
    product_id = api.create_premium()["id"]

    result = api.post(
        "/v1/purchases",
        {
            "product_id": product_id,
            "customer_id": "cus_ana",
            "country": "PT",
            "payment_method": "barter",
            "return_url": "javascript:alert(1)",
        },
        role="merchant",
    )

    problem = assert_problem(result, 422, "validation_error")
    assert _fields(problem) == {"payment_method", "return_url"}


def test_two_mebibyte_body_is_413_before_reading(api: Api) -> None:
    before = api.snapshot()
    huge = json.dumps({**PREMIUM, "name": "x" * (2 * 1024 * 1024)}).encode()

    for path, role in (("/v1/products", "admin"), ("/v1/webhooks/fake", None)):
        result = api.post(path, raw=huge, headers={"Content-Type": "application/json"}, role=role)
        assert_problem(result, 413, "payload_too_large")
    assert api.snapshot() == before


def test_unknown_route_is_404(api: Api) -> None:
    assert_problem(api.get("/v1/nothing-here"), 404, "not_found")
    assert_problem(api.get("/v1/nothing-here", role=None), 404, "not_found")


def test_wrong_method_is_405_with_allow(api: Api) -> None:
    result = api.client.simulate_delete("/v1/products", headers=api.auth("admin"))

    assert_problem(result, 405, "method_not_allowed")
    assert "POST" in result.headers["allow"]


def test_bad_webhook_signature_is_400_with_nothing_stored(api: Api) -> None:
    purchase_id = api.buy(api.create_premium()["id"])
    api.gateway.approve(api.gateway_reference(purchase_id))
    [(headers, body)] = api.gateway.drain()
    before = api.snapshot()

    forged = api.post(
        "/v1/webhooks/fake", raw=body, headers={"X-Fake-Signature": "0" * 64}, role=None
    )
    unsigned = api.post("/v1/webhooks/fake", raw=body, role=None)
    tampered = api.post(
        "/v1/webhooks/fake", raw=body.replace(b"79.99", b"0.01"), headers=headers, role=None
    )

    for result in (forged, unsigned, tampered):
        problem = assert_problem(result, 400, "invalid_signature")
        assert "fake" not in str(problem["detail"]).lower()
    assert api.snapshot() == before
    assert api.get(f"/v1/purchases/{purchase_id}").json["status"] == "pending"


def test_malformed_notification_is_400(api: Api) -> None:
    body = b'{"not": "a notification"}'
    headers = {"X-Fake-Signature": api.gateway.sign(body)}
    before = api.snapshot()

    result = api.post("/v1/webhooks/fake", raw=body, headers=headers, role=None)

    assert_problem(result, 400, "malformed_notification")
    assert api.snapshot() == before


def test_unknown_webhook_provider_is_404(api: Api) -> None:
    result = api.post("/v1/webhooks/acme", raw=b"{}", role=None)

    assert_problem(result, 404, "not_found")


def test_gateway_outage_is_503_with_retry_after_and_no_provider_text(api: Api) -> None:
    product_id = api.create_premium()["id"]
    api.gateway.fail_next(charged=True)

    result = api.post(
        "/v1/purchases",
        {"product_id": product_id, "customer_id": "cus_ana", "country": "PT"},
        role="merchant",
    )

    problem = assert_problem(result, 503, "gateway_unavailable")
    assert int(result.headers["retry-after"]) > 0
    assert "Timed out" not in result.text
    assert isinstance(problem["purchase_id"], str)


def test_unexpected_error_is_500_without_internal_text(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: CatalogService) -> list[object]:
        raise RuntimeError("secret connection string postgres://u:p@db")

    monkeypatch.setattr(CatalogService, "list_products", broken)

    result = api.get("/v1/products")

    assert_problem(result, 500, "internal_error")
    assert "postgres" not in result.text
    assert "RuntimeError" not in result.text


def test_bad_query_parameters_are_422_naming_them(api: Api) -> None:
    assert _fields(
        assert_problem(api.get("/v1/purchases", params={"limit": "0"}), 422, "validation_error")
    ) == {"limit"}
    assert _fields(
        assert_problem(api.get("/v1/purchases", params={"limit": "many"}), 422, "validation_error")
    ) == {"limit"}
    assert _fields(
        assert_problem(api.get("/v1/purchases", params={"status": "lost"}), 422, "validation_error")
    ) == {"status"}
    assert _fields(
        assert_problem(api.get("/v1/purchases", params={"cursor": "!!!"}), 422, "validation_error")
    ) == {"cursor"}
    assert _fields(
        assert_problem(
            api.get("/v1/accounts/cus_ana", params={"entries": "maybe"}), 422, "validation_error"
        )
    ) == {"entries"}


def test_blank_query_parameters_are_422_not_ignored(api: Api) -> None:
    for path, name in (
        ("/v1/purchases", "limit"),
        ("/v1/purchases", "status"),
        ("/v1/accounts/cus_ana", "entries"),
    ):
        result = api.client.simulate_get(path, headers=api.auth("admin"), query_string=f"{name}=")
        assert _fields(assert_problem(result, 422, "validation_error")) == {name}, path
