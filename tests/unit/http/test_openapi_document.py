"""The OpenAPI document says what is served: every status, header and problem member."""

from __future__ import annotations

import json

from tests.unit.http.conftest import Api, assert_problem


def _document(api: Api) -> dict[str, object]:
    document: dict[str, object] = api.get("/openapi.json").json
    return document


def _operations(document: dict[str, object]) -> list[tuple[str, str, dict[str, object]]]:
    paths = document["paths"]
    assert isinstance(paths, dict)
    return [
        (method, path, operation)
        for path, operations in paths.items()
        for method, operation in operations.items()
    ]


def test_every_operation_documents_the_500_it_may_answer(api: Api) -> None:
    for method, path, operation in _operations(_document(api)):
        assert "500" in operation["responses"], (method, path)  # type: ignore[operator]


def test_every_post_documents_411_for_a_body_it_cannot_read(api: Api) -> None:
    for method, path, operation in _operations(_document(api)):
        if method == "post":
            assert "411" in operation["responses"], path  # type: ignore[operator]


def test_405_is_documented_with_its_allow_header(api: Api) -> None:
    document = _document(api)
    served = api.client.simulate_delete("/v1/products")

    assert_problem(served, 405, "method_not_allowed")
    response = document["components"]["responses"]["MethodNotAllowed"]  # type: ignore[index]
    assert "Allow" in response["headers"]
    assert "405" in document["info"]["description"]  # type: ignore[index]


def test_problem_schema_names_every_member_our_problems_carry(api: Api) -> None:
    problem = _document(api)["components"]["schemas"]["Problem"]["properties"]  # type: ignore[index]

    assert {"purchase_id", "refund_id", "refundable", "decline_code"} <= set(problem)


def test_refund_exceeding_the_capture_names_what_is_refundable_as_documented(api: Api) -> None:
    purchase_id = api.buy(api.create_premium()["id"])
    api.gateway.approve(api.gateway_reference(purchase_id))
    api.deliver_all()

    refused = api.post(
        f"/v1/purchases/{purchase_id}/refunds", {"amount": {"amount": "80.00", "currency": "EUR"}}
    )

    problem = assert_problem(refused, 422, "refund_exceeds_captured")
    assert problem["refundable"] == {"amount": "79.99", "currency": "EUR"}


def test_refund_201_sends_the_location_it_documents(api: Api) -> None:
    purchase_id = api.buy(api.create_premium()["id"])
    api.gateway.approve(api.gateway_reference(purchase_id))
    api.deliver_all()
    document = _document(api)
    operation = document["paths"]["/v1/purchases/{purchase_id}/refunds"]["post"]  # type: ignore[index]

    created = api.post(f"/v1/purchases/{purchase_id}/refunds")

    assert "Location" in operation["responses"]["201"]["headers"]
    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"/v1/refunds/{created.json['id']}"


def test_replayed_problem_carries_the_replaying_requests_id(api: Api) -> None:
    body = json.dumps({"name": "x"}).encode()
    headers = {"Idempotency-Key": "bad", "Content-Type": "application/json"}

    first = api.post("/v1/products", raw=body, headers={**headers, "X-Request-Id": "first-1"})
    again = api.post("/v1/products", raw=body, headers={**headers, "X-Request-Id": "again-2"})

    assert first.json["request_id"] == "first-1"
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json["request_id"] == "again-2"
    assert_problem(again, 422, "validation_error")
