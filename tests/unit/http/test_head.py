"""HEAD answers wherever GET does: the same status and headers, no body, the GET's policy."""

from __future__ import annotations

import pytest

from payments.entrypoints.http.auth import ROUTE_POLICIES, policy_for
from payments.entrypoints.http.openapi import openapi_document
from tests.unit.http.conftest import Api, build_api

GET_TEMPLATES = sorted(template for method, template in ROUTE_POLICIES if method == "GET")


def _path(template: str, api: Api, purchase_id: str) -> str:
    return (
        template.replace("{product_id}", "prd_000001")
        .replace("{purchase_id}", purchase_id)
        .replace("{customer_id}", "cus_ana")
        .replace("{refund_id}", "ref_nope")
    )


@pytest.mark.parametrize("template", GET_TEMPLATES)
@pytest.mark.parametrize("role", [None, "public", "ana", "admin"])
def test_head_answers_as_get_without_a_body(template: str, role: str | None) -> None:
    api = build_api()
    purchase_id = api.buy(api.create_premium()["id"])
    path = _path(template, api, purchase_id)
    headers = api.auth(role)

    got = api.client.simulate_get(path, headers=headers)
    head = api.client.simulate_head(path, headers=headers)

    assert head.status_code == got.status_code, (path, got.text)
    assert head.content == b""
    assert head.headers.get("content-type") == got.headers.get("content-type")


def test_head_has_the_policy_of_get_and_nothing_else_does() -> None:
    for template in GET_TEMPLATES:
        assert policy_for("HEAD", template) is policy_for("GET", template)
    assert policy_for("HEAD", "/v1/webhooks/{provider}") is None


def test_load_balancers_can_probe_health_with_head(api: Api) -> None:
    answer = api.client.simulate_head("/health")
    assert answer.status_code == 200
    assert answer.headers["x-request-id"]


OPENAPI_GET_PATHS = sorted(
    path
    for path, operations in openapi_document(sandbox=True)["paths"].items()
    if "get" in operations
)


def test_the_openapi_document_lists_every_get_route_of_the_role_table() -> None:
    assert set(OPENAPI_GET_PATHS) == set(GET_TEMPLATES)


REQUIRED_QUERIES = {"/v1/invoices": "?customer_id=cus_ana", "/v1/stats/revenue": "?currency=EUR"}
"""The query parameters a list route cannot answer 200 without."""


@pytest.mark.parametrize("template", OPENAPI_GET_PATHS)
def test_head_answers_every_get_route_of_the_openapi_document(template: str) -> None:
    api = build_api()
    purchase_id = api.buy(api.create_premium()["id"])
    api.gateway.approve(api.gateway_reference(purchase_id))
    api.deliver_all()
    refund = api.post(f"/v1/purchases/{purchase_id}/refunds", {})
    assert refund.status_code == 201, refund.text
    headers = api.auth("admin")
    invoice_id = api.client.simulate_get(f"/v1/purchases/{purchase_id}", headers=headers).json[
        "invoice_id"
    ]
    path = (
        _path(template, api, purchase_id).replace("ref_nope", refund.json["id"])
        + REQUIRED_QUERIES.get(template, "")
    ).replace("{invoice_id}", invoice_id)
    if "{endpoint_id}" in path:
        endpoint = api.post(
            "/v1/webhook-endpoints", {"url": "http://127.0.0.1:9/", "events": ["*"]}
        )
        assert endpoint.status_code == 201, endpoint.text
        path = path.replace("{endpoint_id}", endpoint.json["id"])
    if "{subscription_id}" in path:
        plan_id = api.create_plan()["id"]
        subscription = api.post(
            "/v1/subscriptions",
            {
                "customer_id": "cus_ana",
                "plan_id": plan_id,
                "country": "PT",
                "payment_method_token": "pm_card_visa",
            },
        )
        assert subscription.status_code == 201, subscription.text
        path = path.replace("{subscription_id}", subscription.json["id"])

    got = api.client.simulate_get(path, headers=headers)
    head = api.client.simulate_head(path, headers=headers)

    assert got.status_code == 200, (path, got.text)
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers.get("content-type") == got.headers.get("content-type")
