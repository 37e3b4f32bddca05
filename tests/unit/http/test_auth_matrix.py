"""Every role on every route: allowed, forbidden (403), unauthenticated (401) or hidden (404)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest

from payments.entrypoints.http.auth import ROUTE_POLICIES
from tests.unit.http.conftest import Api, assert_problem, build_api

ROLES = (None, "public", "ana", "bob", "merchant", "admin")


@dataclass
class World:
    """An app with a product, a pending and a completed purchase of cus_ana, and a partial
    refund of the completed one."""

    api: Api
    product_id: str
    pending_id: str
    completed_id: str
    refund_id: str
    invoice_id: str
    plan_id: str
    cheaper_plan_id: str
    subscription_id: str
    endpoint_id: str = ""
    delivery_id: str = ""


UNANSWERED_URL = "http://127.0.0.1:9/payments/events"
"""A merchant URL nothing listens on: a resend there is refused at once (no answer code)."""


def _world(*, sandbox: bool = False) -> World:
    api = build_api(sandbox=sandbox)
    product_id = str(api.create_premium()["id"])
    pending_id = api.buy(product_id)
    completed_id = api.buy(product_id)
    api.gateway.approve(api.gateway_reference(completed_id))
    api.deliver_all()
    refund = api.post(
        f"/v1/purchases/{completed_id}/refunds", {"amount": {"amount": "9.99", "currency": "EUR"}}
    )
    assert refund.status_code == 201, refund.text
    invoice_id = api.get(f"/v1/purchases/{completed_id}").json["invoice_id"]
    plan_id, cheaper_plan_id = (str(api.create_plan(price)["id"]) for price in ("30.00", "20.00"))
    subscription = api.post(
        "/v1/subscriptions",
        {
            "customer_id": "cus_ana",
            "plan_id": plan_id,
            "country": "PT",
            "payment_method_token": "pm_card_visa",
        },
    )
    assert subscription.json["status"] == "active", subscription.text
    endpoint = api.post("/v1/webhook-endpoints", {"url": UNANSWERED_URL, "events": ["*"]})
    assert endpoint.status_code == 201, endpoint.text
    assert api.services is not None
    api.services.webhook_dispatcher.fan_out()
    deliveries = api.get(f"/v1/webhook-endpoints/{endpoint.json['id']}/deliveries").json["data"]
    world = World(
        api,
        product_id,
        pending_id,
        completed_id,
        refund.json["id"],
        invoice_id,
        plan_id,
        cheaper_plan_id,
        subscription.json["id"],
    )
    world.endpoint_id, world.delivery_id = endpoint.json["id"], deliveries[0]["id"]
    return world


def _subscription_body(world: World, role: str | None) -> dict[str, object]:
    return {
        "customer_id": "cus_bob",
        "plan_id": world.plan_id,
        "country": "PT",
        "payment_method_token": "pm_card_visa",
    }


def _purchase_body(world: World, role: str | None) -> dict[str, object]:
    body: dict[str, object] = {"product_id": world.product_id, "country": "PT"}
    if role == "public":
        body["customer"] = {"email": "guest@example.com"}
    elif role in ("merchant", "admin", None):
        body["customer_id"] = "cus_ana"
    return body


_ADMIN_ONLY = {None: 401, "public": 403, "ana": 403, "bob": 403, "merchant": 403, "admin": 200}
_ADMIN_ONLY_CREATES = {**_ADMIN_ONLY, "admin": 201}

Call = Callable[[World, str | None], tuple[str, str, dict[str, object] | None]]

# route label -> (request builder, expected status per role)
ROUTES: dict[str, tuple[Call, dict[str | None, int]]] = {
    "GET /health": (lambda w, r: ("GET", "/health", None), dict.fromkeys(ROLES, 200)),
    "GET /ready": (lambda w, r: ("GET", "/ready", None), dict.fromkeys(ROLES, 200)),
    "GET /openapi.json": (lambda w, r: ("GET", "/openapi.json", None), dict.fromkeys(ROLES, 200)),
    "GET /docs": (lambda w, r: ("GET", "/docs", None), dict.fromkeys(ROLES, 200)),
    # Loopback callers (the test client's address) read the metrics whatever key they send.
    "GET /metrics": (lambda w, r: ("GET", "/metrics", None), dict.fromkeys(ROLES, 200)),
    "POST /v1/products": (
        lambda w, r: (
            "POST",
            "/v1/products",
            {
                "name": "Trial hour",
                "kind": "package",
                "price": {"amount": "9.99", "currency": "EUR"},
                "credits": "1",
                "validity_days": 30,
            },
        ),
        {None: 401, "public": 403, "ana": 403, "bob": 403, "merchant": 403, "admin": 201},
    ),
    "GET /v1/products": (lambda w, r: ("GET", "/v1/products", None), dict.fromkeys(ROLES, 200)),
    "GET /v1/pse/banks": (
        lambda w, r: ("GET", "/v1/pse/banks?country=CO", None),
        dict.fromkeys(ROLES, 200),
    ),
    "GET /v1/products/{id}": (
        lambda w, r: ("GET", f"/v1/products/{w.product_id}", None),
        dict.fromkeys(ROLES, 200),
    ),
    "POST /v1/purchases": (
        lambda w, r: ("POST", "/v1/purchases", _purchase_body(w, r)),
        {None: 401, "public": 201, "ana": 201, "bob": 201, "merchant": 201, "admin": 201},
    ),
    "GET /v1/purchases": (
        lambda w, r: ("GET", "/v1/purchases", None),
        {None: 401, "public": 403, "ana": 200, "bob": 200, "merchant": 200, "admin": 200},
    ),
    "GET /v1/purchases/{id}": (
        lambda w, r: ("GET", f"/v1/purchases/{w.pending_id}", None),
        {None: 401, "public": 403, "ana": 200, "bob": 404, "merchant": 200, "admin": 200},
    ),
    "POST /v1/purchases/{id}/cancel": (
        lambda w, r: ("POST", f"/v1/purchases/{w.pending_id}/cancel", None),
        {None: 401, "public": 403, "ana": 200, "bob": 404, "merchant": 200, "admin": 200},
    ),
    "POST /v1/purchases/{id}/refunds": (
        lambda w, r: ("POST", f"/v1/purchases/{w.completed_id}/refunds", {}),
        {None: 401, "public": 403, "ana": 403, "bob": 403, "merchant": 403, "admin": 201},
    ),
    "GET /v1/purchases/{id}/refunds": (
        lambda w, r: ("GET", f"/v1/purchases/{w.completed_id}/refunds", None),
        {None: 401, "public": 403, "ana": 200, "bob": 404, "merchant": 200, "admin": 200},
    ),
    "GET /v1/refunds/{id}": (
        lambda w, r: ("GET", f"/v1/refunds/{w.refund_id}", None),
        {None: 401, "public": 403, "ana": 200, "bob": 404, "merchant": 200, "admin": 200},
    ),
    "POST /v1/purchases/{id}/sync": (
        lambda w, r: ("POST", f"/v1/purchases/{w.pending_id}/sync", None),
        {None: 401, "public": 403, "ana": 403, "bob": 403, "merchant": 403, "admin": 200},
    ),
    "GET /v1/accounts/{customer_id}": (
        lambda w, r: ("GET", "/v1/accounts/cus_ana", None),
        {None: 401, "public": 403, "ana": 200, "bob": 404, "merchant": 200, "admin": 200},
    ),
    # bob's listing of cus_ana's invoices is his own, empty (test_invoices_api shows it)
    "GET /v1/invoices": (
        lambda w, r: ("GET", "/v1/invoices?customer_id=cus_ana", None),
        {None: 401, "public": 403, "ana": 200, "bob": 200, "merchant": 200, "admin": 200},
    ),
    "GET /v1/invoices/{id}": (
        lambda w, r: ("GET", f"/v1/invoices/{w.invoice_id}", None),
        {None: 401, "public": 403, "ana": 200, "bob": 404, "merchant": 200, "admin": 200},
    ),
    "GET /v1/invoices/{id}.pdf": (
        lambda w, r: ("GET", f"/v1/invoices/{w.invoice_id}.pdf", None),
        {None: 401, "public": 403, "ana": 200, "bob": 404, "merchant": 200, "admin": 200},
    ),
    "GET /v1/stats/revenue": (
        lambda w, r: ("GET", "/v1/stats/revenue?currency=EUR", None),
        {None: 401, "public": 403, "ana": 403, "bob": 403, "merchant": 200, "admin": 200},
    ),
    "POST /v1/webhook-endpoints": (
        lambda w, r: ("POST", "/v1/webhook-endpoints", {"url": UNANSWERED_URL, "events": ["*"]}),
        _ADMIN_ONLY_CREATES,
    ),
    "GET /v1/webhook-endpoints": (
        lambda w, r: ("GET", "/v1/webhook-endpoints", None),
        _ADMIN_ONLY,
    ),
    "GET /v1/webhook-endpoints/{endpoint_id}": (
        lambda w, r: ("GET", f"/v1/webhook-endpoints/{w.endpoint_id}", None),
        _ADMIN_ONLY,
    ),
    "DELETE /v1/webhook-endpoints/{endpoint_id}": (
        lambda w, r: ("DELETE", f"/v1/webhook-endpoints/{w.endpoint_id}", None),
        _ADMIN_ONLY,
    ),
    "GET /v1/webhook-endpoints/{endpoint_id}/deliveries": (
        lambda w, r: ("GET", f"/v1/webhook-endpoints/{w.endpoint_id}/deliveries", None),
        _ADMIN_ONLY,
    ),
    "POST /v1/webhook-endpoints/{endpoint_id}/deliveries/{delivery_id}/retry": (
        lambda w, r: (
            "POST",
            f"/v1/webhook-endpoints/{w.endpoint_id}/deliveries/{w.delivery_id}/retry",
            None,
        ),
        _ADMIN_ONLY,
    ),
    # Admins only; past the role check an admin meets the use case: no such voucher (404), a
    # body that is not a CSV file (400).
    "POST /v1/efecty/confirmations": (
        lambda w, r: (
            "POST",
            "/v1/efecty/confirmations",
            {
                "code": "EFY-00000000000000",
                "amount": {"amount": "50000", "currency": "COP"},
                "receipt_number": "R-1",
            },
        ),
        {None: 401, "public": 403, "ana": 403, "bob": 403, "merchant": 403, "admin": 404},
    ),
    "POST /v1/efecty/settlements": (
        lambda w, r: ("POST", "/v1/efecty/settlements", {"code": "EFY-00000000000000"}),
        {None: 401, "public": 403, "ana": 403, "bob": 403, "merchant": 403, "admin": 400},
    ),
    "POST /v1/subscriptions": (
        lambda w, r: ("POST", "/v1/subscriptions", _subscription_body(w, r)),
        {None: 401, "public": 403, "ana": 403, "bob": 403, "merchant": 201, "admin": 201},
    ),
    "GET /v1/subscriptions": (
        lambda w, r: ("GET", "/v1/subscriptions", None),
        {None: 401, "public": 403, "ana": 200, "bob": 200, "merchant": 200, "admin": 200},
    ),
    "GET /v1/subscriptions/{subscription_id}": (
        lambda w, r: ("GET", f"/v1/subscriptions/{w.subscription_id}", None),
        {None: 401, "public": 403, "ana": 200, "bob": 404, "merchant": 200, "admin": 200},
    ),
    "POST /v1/subscriptions/{subscription_id}/cancel": (
        lambda w, r: ("POST", f"/v1/subscriptions/{w.subscription_id}/cancel", {}),
        {None: 401, "public": 403, "ana": 200, "bob": 404, "merchant": 200, "admin": 200},
    ),
    "POST /v1/subscriptions/{subscription_id}/change": (
        lambda w, r: (
            "POST",
            f"/v1/subscriptions/{w.subscription_id}/change",
            {"plan_id": w.cheaper_plan_id},
        ),
        {None: 401, "public": 403, "ana": 403, "bob": 403, "merchant": 200, "admin": 200},
    ),
    "POST /v1/subscriptions/{subscription_id}/payment_method": (
        lambda w, r: (
            "POST",
            f"/v1/subscriptions/{w.subscription_id}/payment_method",
            {"payment_method_token": "pm_card_visa"},
        ),
        {None: 401, "public": 403, "ana": 403, "bob": 403, "merchant": 200, "admin": 200},
    ),
    "POST /v1/subscriptions/{subscription_id}/usage": (
        lambda w, r: (
            "POST",
            f"/v1/subscriptions/{w.subscription_id}/usage",
            {"metric": "api_calls", "quantity": "3", "reference": "r1"},
        ),
        {None: 401, "public": 403, "ana": 403, "bob": 403, "merchant": 201, "admin": 201},
    ),
    "GET /v1/subscriptions/{subscription_id}/usage": (
        lambda w, r: ("GET", f"/v1/subscriptions/{w.subscription_id}/usage", None),
        {None: 401, "public": 403, "ana": 200, "bob": 404, "merchant": 200, "admin": 200},
    ),
    "GET /v1/stats/subscriptions": (
        lambda w, r: ("GET", "/v1/stats/subscriptions", None),
        {None: 401, "public": 403, "ana": 403, "bob": 403, "merchant": 200, "admin": 200},
    ),
}

_CODES = {401: "unauthenticated", 403: "forbidden", 404: "not_found"}


def _call(world: World, role: str | None, route: str) -> tuple[int, object]:
    build, _ = ROUTES[route]
    method, path, body = build(world, role)
    if method == "GET":
        result = world.api.get(path, role=role)
    elif method == "DELETE":
        result = world.api.client.simulate_delete(path, headers=world.api.auth(role))
    else:
        result = world.api.post(path, body, role=role)
    return result.status_code, result


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
@pytest.mark.parametrize("route", list(ROUTES))
def test_role_gets_the_documented_answer_on_each_route(route: str, role: str | None) -> None:
    world = _world()
    before = world.api.snapshot()
    expected = ROUTES[route][1][role]

    status, result = _call(world, role, route)

    assert status == expected, getattr(result, "text", "")
    if expected in _CODES:
        assert_problem(result, expected, _CODES[expected])  # type: ignore[arg-type]
        assert world.api.snapshot() == before
    if expected == 401:
        assert result.headers["www-authenticate"] == "Bearer"  # type: ignore[attr-defined]


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
def test_sandbox_route_is_for_the_owner_merchants_and_admins(role: str | None) -> None:
    world = _world(sandbox=True)
    expected = {None: 401, "public": 403, "ana": 200, "bob": 404, "merchant": 200, "admin": 200}

    result = world.api.post(f"/v1/sandbox/purchases/{world.pending_id}/decline", role=role)

    assert result.status_code == expected[role], result.text
    if expected[role] != 200:
        assert world.api.get(f"/v1/purchases/{world.pending_id}").json["status"] == "pending"


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
def test_sandbox_clock_is_for_admins_only(role: str | None) -> None:
    api = build_api(sandbox=True)
    before = api.clock.now()
    expected = {None: 401, "public": 403, "ana": 403, "bob": 403, "merchant": 403, "admin": 200}

    result = api.post("/v1/sandbox/clock", {"advance": "P15D"}, role=role)

    assert result.status_code == expected[role], result.text
    moved = timedelta(days=15) if expected[role] == 200 else timedelta(0)
    assert api.clock.now() == before + moved


def test_live_mode_has_no_sandbox_clock() -> None:
    api = build_api(sandbox=False)

    assert api.post("/v1/sandbox/clock", {"advance": "P15D"}).status_code == 404


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
def test_webhooks_need_no_api_key_and_ignore_one(role: str | None) -> None:
    world = _world()
    world.api.gateway.approve(world.api.gateway_reference(world.pending_id))
    [(headers, body)] = world.api.gateway.drain()

    result = world.api.post("/v1/webhooks/fake", raw=body, headers=headers, role=role)

    assert result.status_code == 200
    assert result.json == {"status": "processed"}


def test_every_route_of_the_role_table_is_in_this_matrix() -> None:
    labelled = {
        (method, re.sub(r"\{(product|purchase|refund|invoice)_id\}", "{id}", template))
        for method, template in ROUTE_POLICIES
    }
    covered = {tuple(label.split(" ", 1)) for label in ROUTES}
    covered |= {
        ("POST", "/v1/webhooks/{provider}"),
        ("POST", "/v1/sandbox/purchases/{id}/{action}"),
        ("POST", "/v1/sandbox/clock"),
    }

    assert labelled == covered


def test_unknown_or_malformed_key_is_401_on_any_route(api: Api) -> None:
    for headers in (
        {"Authorization": "Bearer pay_admi_not-a-real-key"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer " + "x" * 5000},
    ):
        result = api.client.simulate_get("/v1/products", headers=headers)
        assert_problem(result, 401, "unauthenticated")
        assert result.headers["www-authenticate"] == "Bearer"


def test_customer_sees_only_its_own_purchases() -> None:
    world = _world()
    bob_purchase = world.api.buy(world.product_id, customer_id="cus_bob")

    ana = world.api.get("/v1/purchases", role="ana").json["data"]
    bob = world.api.get("/v1/purchases", role="bob").json["data"]
    bob_asking_for_ana = world.api.get(
        "/v1/purchases", role="bob", params={"customer_id": "cus_ana"}
    ).json["data"]

    assert {p["customer_id"] for p in ana} == {"cus_ana"}
    assert [p["id"] for p in bob] == [bob_purchase]
    assert bob_asking_for_ana == []


def test_foreign_purchase_and_account_answer_404_without_data() -> None:
    world = _world()

    purchase = world.api.get(f"/v1/purchases/{world.completed_id}", role="bob")
    account = world.api.get("/v1/accounts/cus_ana", role="bob")
    refunds = world.api.get(f"/v1/purchases/{world.completed_id}/refunds", role="bob")
    refund = world.api.get(f"/v1/refunds/{world.refund_id}", role="bob")

    for result in (purchase, account, refunds, refund):
        assert_problem(result, 404, "not_found")
        assert "79.99" not in result.text
        assert "8.00" not in result.text
        assert "9.99" not in result.text


def test_merchant_lists_every_customer_and_filters_by_one() -> None:
    world = _world()
    world.api.buy(world.product_id, customer_id="cus_bob")

    everyone = world.api.get("/v1/purchases", role="merchant").json["data"]
    only_bob = world.api.get(
        "/v1/purchases", role="merchant", params={"customer_id": "cus_bob"}
    ).json["data"]

    assert {p["customer_id"] for p in everyone} == {"cus_ana", "cus_bob"}
    assert {p["customer_id"] for p in only_bob} == {"cus_bob"}
