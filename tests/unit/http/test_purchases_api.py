"""The purchase flow over HTTP, on the real app and the in-memory fakes."""

from __future__ import annotations

import re

from payments.adapters.memory import InMemoryUnitOfWork
from payments.entrypoints.http.app import HttpSettings
from tests.unit.http.conftest import PREMIUM, Api, assert_problem, build_api


def test_premium_package_is_created_with_money_as_strings(api: Api) -> None:
    product = api.create_premium()

    assert product["name"] == "8 Hour Premium Package"
    assert product["price"] == {"amount": "79.99", "currency": "EUR"}
    assert product["credits"] == "8.00"
    assert product["validity_days"] == 60
    assert product["kind"] == "package"
    assert product["billing_cycle"] is None
    assert product["active"] is True
    assert product["created_at"] == "2026-01-01T12:00:00Z"
    listed = api.get("/v1/products", role=None)
    assert listed.json == {"data": [product]}
    assert api.get(f"/v1/products/{product['id']}", role="public").json == product


def test_signed_webhook_completes_purchase_and_credits_eight_hours(api: Api) -> None:
    product = api.create_premium()
    created = api.post(
        "/v1/purchases",
        {"product_id": product["id"], "customer_id": "cus_ana", "country": "PT"},
        role="merchant",
    )
    assert created.status_code == 201
    purchase = created.json
    assert created.headers["location"] == f"/v1/purchases/{purchase['id']}"
    assert purchase["status"] == "pending"
    assert purchase["amount"] == {"amount": "79.99", "currency": "EUR"}
    assert purchase["credits"] == "8.00"
    assert purchase["routing"] == {"chain": ["fake"], "reason": "rule *: fake"}
    assert purchase["next_action"]["type"] == "client_secret"

    api.gateway.approve(purchase["gateway_reference"])
    assert api.deliver_all() == ["processed"]

    completed = api.get(f"/v1/purchases/{purchase['id']}", role="ana").json
    assert completed["status"] == "completed"
    assert completed["next_action"] is None
    account = api.get("/v1/accounts/cus_ana", role="ana").json
    assert account == {
        "customer_id": "cus_ana",
        "credits": "8.00",
        "expired_credits": "0.00",
        "total_paid": [{"amount": "79.99", "currency": "EUR"}],
    }


def test_duplicate_webhook_delivery_answers_duplicate_and_changes_nothing(api: Api) -> None:
    purchase_id = api.buy(api.create_premium()["id"])
    api.gateway.approve(api.gateway_reference(purchase_id))
    deliveries = api.gateway.drain()
    headers, body = deliveries[0]

    first = api.post("/v1/webhooks/fake", raw=body, headers=headers, role=None)
    before = api.snapshot()
    again = api.post("/v1/webhooks/fake", raw=body, headers=headers, role=None)

    assert first.json == {"status": "processed"}
    assert again.status_code == 200
    assert again.json == {"status": "duplicate"}
    assert api.snapshot() == before
    assert api.get("/v1/accounts/cus_ana").json["credits"] == "8.00"


def test_amount_in_purchase_body_is_ignored(api: Api) -> None:
    product = api.create_premium()
    created = api.post(
        "/v1/purchases",
        {
            "product_id": product["id"],
            "customer_id": "cus_ana",
            "country": "PT",
            "amount": {"amount": "0.01", "currency": "EUR"},
            "price": {"amount": "0.01", "currency": "EUR"},
        },
        role="merchant",
    )

    assert created.status_code == 201
    assert created.json["amount"] == {"amount": "79.99", "currency": "EUR"}
    with InMemoryUnitOfWork(api.store) as uow:
        stored = uow.purchases.get(created.json["id"])
    assert stored is not None
    assert str(stored.amount) == "79.99 EUR"


def test_purchase_representation_has_exactly_the_contract_fields(api: Api) -> None:
    purchase_id = api.buy(api.create_premium()["id"])
    body = api.get(f"/v1/purchases/{purchase_id}").json

    assert set(body) == {
        "id",
        "reference",
        "status",
        "customer_id",
        "product_id",
        "amount",
        "credits",
        "gateway",
        "gateway_reference",
        "routing",
        "next_action",
        "created_at",
        "updated_at",
        "needs_review",
        "refunded",
        "failure_code",
        "invoice_id",
    }
    assert body["invoice_id"] is None  # issued once paid
    assert body["failure_code"] is None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", body["created_at"])
    assert body["refunded"] == {"amount": "0.00", "currency": "EUR"}


def test_guest_checkout_with_public_key_buys_by_email(api: Api) -> None:
    product = api.create_premium()
    created = api.post(
        "/v1/purchases",
        {
            "product_id": product["id"],
            "customer": {"email": "Ana@Example.com", "name": "Ana"},
            "country": "CO",
        },
        role="public",
    )

    assert created.status_code == 201
    customer_id = created.json["customer_id"]
    with InMemoryUnitOfWork(api.store) as uow:
        customer = uow.customers.get(customer_id)
    assert customer is not None
    assert customer.email == "ana@example.com"


def test_a_guest_can_never_buy_into_an_account_by_typing_its_email(api: Api) -> None:
    """The old system attached a guest purchase to whichever account owned the e-mail typed."""
    product = api.create_premium()
    api.buy(product["id"])  # cus_ana, an account of the merchant's, known by its id
    guest = {"email": "ana@example.com", "name": "Ana"}

    first = api.post(
        "/v1/purchases",
        {"product_id": product["id"], "customer": guest, "country": "CO"},
        role="public",
    )
    again = api.post(
        "/v1/purchases",
        {"product_id": product["id"], "customer": guest, "country": "CO"},
        role="public",
    )
    api.gateway.approve(api.gateway_reference(first.json["id"]))
    api.deliver_all()

    assert first.status_code == again.status_code == 201
    assert first.json["customer_id"] != "cus_ana"
    assert again.json["customer_id"] == first.json["customer_id"]  # the same guest
    assert api.get("/v1/accounts/cus_ana").json["credits"] == "0.00"
    assert api.get(f"/v1/accounts/{first.json['customer_id']}").json["credits"] == "8.00"
    mine = api.get("/v1/purchases?customer_id=cus_ana", role="ana").json["data"]
    assert [p["customer_id"] for p in mine] == ["cus_ana"]


def test_customer_key_buys_for_its_own_customer_only(api: Api) -> None:
    product = api.create_premium()
    own = api.post("/v1/purchases", {"product_id": product["id"], "country": "PT"}, role="ana")
    other = api.post(
        "/v1/purchases",
        {"product_id": product["id"], "customer_id": "cus_bob", "country": "PT"},
        role="ana",
    )

    assert own.status_code == 201
    assert own.json["customer_id"] == "cus_ana"
    assert_problem(other, 403, "forbidden")


def test_purchases_list_pages_newest_first_with_a_cursor(api: Api) -> None:
    product_id = api.create_premium()["id"]
    ids = []
    for _ in range(3):
        ids.append(api.buy(product_id))
        api.clock.advance(minutes=1)

    first = api.get("/v1/purchases", params={"limit": "2"}).json
    second = api.get("/v1/purchases", params={"limit": "2", "cursor": first["next_cursor"]}).json

    assert [p["id"] for p in first["data"]] == [ids[2], ids[1]]
    assert [p["id"] for p in second["data"]] == [ids[0]]
    assert second["next_cursor"] is None


def test_purchases_list_filters_by_status(api: Api) -> None:
    product_id = api.create_premium()["id"]
    paid = api.buy(product_id)
    api.buy(product_id)
    api.gateway.approve(api.gateway_reference(paid))
    api.deliver_all()

    completed = api.get("/v1/purchases", params={"status": "completed"}).json["data"]

    assert [p["id"] for p in completed] == [paid]


def test_owner_cancels_a_pending_purchase(api: Api) -> None:
    purchase_id = api.buy(api.create_premium()["id"])

    cancelled = api.post(f"/v1/purchases/{purchase_id}/cancel", role="ana")

    assert cancelled.status_code == 200
    assert cancelled.json["status"] == "cancelled"
    assert ("cancel", api.gateway_reference(purchase_id)) in api.gateway.calls


def test_completed_purchase_cannot_be_cancelled(api: Api) -> None:
    purchase_id = api.buy(api.create_premium()["id"])
    api.gateway.approve(api.gateway_reference(purchase_id))
    api.deliver_all()

    result = api.post(f"/v1/purchases/{purchase_id}/cancel", role="merchant")

    assert_problem(result, 409, "invalid_transition")


def test_admin_partial_refund_takes_back_credits_in_proportion(api: Api) -> None:
    purchase_id = api.buy(api.create_premium()["id"])
    api.gateway.approve(api.gateway_reference(purchase_id))
    api.deliver_all()

    refund = api.post(
        f"/v1/purchases/{purchase_id}/refunds",
        {"amount": {"amount": "39.99", "currency": "EUR"}, "reason": "half the hours"},
    )

    assert refund.status_code == 201
    assert refund.json["amount"] == {"amount": "39.99", "currency": "EUR"}
    assert refund.json["status"] == "succeeded"
    assert refund.json["reason"] == "half the hours"
    assert refund.json["purchase_id"] == purchase_id
    purchase = api.get(f"/v1/purchases/{purchase_id}").json
    assert purchase["status"] == "partially_refunded"
    assert purchase["refunded"] == {"amount": "39.99", "currency": "EUR"}
    account = api.get("/v1/accounts/cus_ana").json
    assert account["credits"] == "4.00"
    assert account["total_paid"] == [{"amount": "40.00", "currency": "EUR"}]


def test_refund_without_body_refunds_everything(api: Api) -> None:
    purchase_id = api.buy(api.create_premium()["id"])
    api.gateway.approve(api.gateway_reference(purchase_id))
    api.deliver_all()

    refund = api.post(f"/v1/purchases/{purchase_id}/refunds")

    assert refund.status_code == 201
    assert refund.json["amount"] == {"amount": "79.99", "currency": "EUR"}
    assert api.get(f"/v1/purchases/{purchase_id}").json["status"] == "refunded"
    assert api.get("/v1/accounts/cus_ana").json["credits"] == "0.00"


def test_refund_above_the_captured_amount_is_refused(api: Api) -> None:
    purchase_id = api.buy(api.create_premium()["id"])
    api.gateway.approve(api.gateway_reference(purchase_id))
    api.deliver_all()
    before = api.snapshot()

    result = api.post(
        f"/v1/purchases/{purchase_id}/refunds", {"amount": {"amount": "80.00", "currency": "EUR"}}
    )

    problem = assert_problem(result, 422, "refund_exceeds_captured")
    assert problem["refundable"] == {"amount": "79.99", "currency": "EUR"}
    assert api.snapshot() == before


def test_sync_settles_a_purchase_the_provider_captured(api: Api) -> None:
    purchase_id = api.buy(api.create_premium()["id"])
    api.gateway.approve(api.gateway_reference(purchase_id))
    api.gateway.drain()  # the notification is lost

    synced = api.post(f"/v1/purchases/{purchase_id}/sync")

    assert synced.status_code == 200
    assert synced.json["result"] == "processed"
    assert synced.json["purchase"]["status"] == "completed"
    assert api.get("/v1/accounts/cus_ana").json["credits"] == "8.00"


def test_account_entries_only_when_asked(api: Api) -> None:
    purchase_id = api.buy(api.create_premium()["id"])
    api.gateway.approve(api.gateway_reference(purchase_id))
    api.deliver_all()

    plain = api.get("/v1/accounts/cus_ana").json
    detailed = api.get("/v1/accounts/cus_ana", params={"entries": "true"}).json

    assert "entries" not in plain
    kinds = {(e["kind"], e["asset"], e["amount"]) for e in detailed["entries"]}
    assert kinds == {("purchase_payment", "EUR", "79.99"), ("purchase_credits", "credits", "8.00")}


def test_health_and_readiness(api: Api) -> None:
    assert api.get("/health", role=None).json == {"status": "ok"}
    assert api.get("/ready", role=None).json == {"status": "ready"}

    not_ready = build_api(ready=False).get("/ready", role=None)

    assert_problem(not_ready, 503, "not_ready")
    assert "retry-after" in not_ready.headers


def test_docs_page_is_self_contained_and_reads_the_openapi_document(api: Api) -> None:
    page = api.get("/docs", role=None)

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in page.text
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page.text)
    document = api.get("/openapi.json", role=None).json
    assert document["openapi"].startswith("3.1")


def test_request_id_is_honoured_when_sane_and_made_otherwise(api: Api) -> None:
    sane = api.client.simulate_get("/health", headers={"X-Request-Id": "abc-123"})
    insane = api.client.simulate_get("/health", headers={"X-Request-Id": "<script>"})
    missing = api.client.simulate_get("/health")

    assert sane.headers["x-request-id"] == "abc-123"
    assert insane.headers["x-request-id"] != "<script>"
    assert missing.headers["x-request-id"].startswith("req_")


def test_sandbox_route_does_not_exist_without_a_controller(api: Api) -> None:
    purchase_id = api.buy(api.create_premium()["id"])

    result = api.post(f"/v1/sandbox/purchases/{purchase_id}/approve")

    assert_problem(result, 404, "not_found")
    assert (
        "/v1/sandbox/purchases/{purchase_id}/{action}" not in api.get("/openapi.json").json["paths"]
    )


def test_sandbox_approve_completes_the_purchase() -> None:
    api = build_api(sandbox=True)
    purchase_id = api.buy(api.create_premium()["id"])

    result = api.post(f"/v1/sandbox/purchases/{purchase_id}/approve", role="ana")

    assert result.status_code == 200
    assert result.json["purchase"]["status"] == "completed"
    assert result.json["result"] == {"deliveries": ["processed"]}
    assert api.get("/v1/accounts/cus_ana").json["credits"] == "8.00"


def test_sandbox_refuses_unknown_actions_and_other_customers() -> None:
    api = build_api(sandbox=True)
    purchase_id = api.buy(api.create_premium()["id"])

    assert_problem(api.post(f"/v1/sandbox/purchases/{purchase_id}/explode"), 404, "not_found")
    assert_problem(
        api.post(f"/v1/sandbox/purchases/{purchase_id}/approve", role="bob"), 404, "not_found"
    )
    assert_problem(
        api.post(f"/v1/sandbox/purchases/{purchase_id}/approve", role="public"), 403, "forbidden"
    )
    assert api.get(f"/v1/purchases/{purchase_id}").json["status"] == "pending"


def test_plan_products_carry_their_billing_cycle(api: Api) -> None:
    plan = api.post(
        "/v1/products",
        {
            **PREMIUM,
            "name": "Monthly tutoring",
            "kind": "plan",
            "validity_days": None,
            "billing_cycle": "monthly",
            "trial_days": 7,
        },
    )

    assert plan.status_code == 201, plan.text
    assert plan.json["billing_cycle"] == "monthly"
    assert plan.json["trial_days"] == 7
    assert plan.json["validity_days"] is None


def test_smaller_body_limit_is_honoured() -> None:
    api = build_api(settings=HttpSettings(max_body_bytes=100))

    result = api.post("/v1/products", {**PREMIUM, "name": "x" * 150})

    assert_problem(result, 413, "payload_too_large")
