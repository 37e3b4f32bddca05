"""Subscriptions over HTTP on the fakes: trial to renewal through the sandbox clock, plan
changes, usage, statistics, and the refusals."""

from __future__ import annotations

from tests.unit.http.conftest import Api, assert_problem, build_api


def _subscribe(
    api: Api, plan_id: object, customer: str = "cus_ana", token: str = "pm_card_visa"
) -> dict[str, object]:
    result = api.post(
        "/v1/subscriptions",
        {
            "customer_id": customer,
            "plan_id": plan_id,
            "country": "PT",
            "payment_method_token": token,
        },
        role="merchant",
    )
    assert result.status_code == 201, result.text
    assert result.headers["location"] == f"/v1/subscriptions/{result.json['id']}"
    body: dict[str, object] = result.json
    return body


def test_a_trial_ends_and_renews_through_the_sandbox_clock() -> None:
    api = build_api(sandbox=True)
    plan = api.create_plan("30.00", trial_days=14)
    created = _subscribe(api, plan["id"])
    assert (created["status"], created["trial_end"]) == ("trialing", "2026-01-15T12:00:00Z")

    assert api.post("/v1/sandbox/clock", {"advance": "P14D"}).json == {
        "now": "2026-01-15T12:00:00Z"
    }
    assert api.services.subscriptions.run_due() == {"renewed": 1}

    active = api.get(f"/v1/subscriptions/{created['id']}").json
    assert active["status"] == "active"
    assert (active["current_period_start"], active["current_period_end"]) == (
        "2026-01-15T12:00:00Z",
        "2026-02-15T12:00:00Z",
    )
    purchase = api.get(f"/v1/purchases/{active['latest_purchase_id']}").json
    assert (purchase["status"], purchase["amount"]) == (
        "completed",
        {"amount": "30.00", "currency": "EUR"},
    )
    assert api.get("/v1/accounts/cus_ana").json["credits"] == "10.00"


def test_an_upgrade_charges_the_prorated_difference_now() -> None:
    api = build_api()
    basic, pro = api.create_plan("30.00"), api.create_plan("50.00")
    created = _subscribe(api, basic["id"])  # Jan 1 12:00 .. Feb 1 12:00, 31 days
    api.clock.advance(days=15, hours=12)  # 15.5 days left: half the period

    changed = api.post(
        f"/v1/subscriptions/{created['id']}/change", {"plan_id": pro["id"]}, role="merchant"
    )

    assert changed.status_code == 200, changed.text
    assert changed.json["plan_id"] == pro["id"]
    assert changed.json["price"] == {"amount": "50.00", "currency": "EUR"}
    proration = api.get(f"/v1/purchases/{changed.json['latest_purchase_id']}").json
    assert proration["amount"] == {"amount": "10.00", "currency": "EUR"}  # 25.00 - 15.00


def test_usage_is_recorded_once_per_reference_and_summed() -> None:
    api = build_api()
    created = _subscribe(api, api.create_plan()["id"])
    path = f"/v1/subscriptions/{created['id']}/usage"

    first = api.post(path, {"metric": "api_calls", "quantity": "100", "reference": "r1"})
    again = api.post(path, {"metric": "api_calls", "quantity": "100", "reference": "r1"})
    api.post(path, {"metric": "api_calls", "quantity": "0.5", "reference": "r2"})

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["id"] == first.json["id"]
    summary = api.get(path, role="ana").json
    assert summary["totals"] == [{"metric": "api_calls", "quantity": "100.5"}]
    assert summary["period_start"] == created["current_period_start"]
    assert api.get(path, role="bob").status_code == 404
    refused = api.post(path, {"metric": "api_calls", "quantity": "1e3", "reference": "r3"})
    assert_problem(refused, 422, "validation_error")


def test_statistics_count_by_status_and_give_mrr_as_money() -> None:
    api = build_api()
    monthly = api.create_plan("30.00")
    kept = _subscribe(api, monthly["id"])
    gone = _subscribe(api, monthly["id"], customer="cus_bob")
    api.post(f"/v1/subscriptions/{gone['id']}/cancel", {}, role="bob")

    stats = api.get("/v1/stats/subscriptions?window=P7D", role="merchant").json

    assert stats["counts"]["active"] == 1 and stats["counts"]["cancelled"] == 1
    assert (stats["cancelled_in_window"], stats["churn"]) == (1, "0.5000")
    assert stats["mrr"] == [{"amount": "30.00", "currency": "EUR"}]
    assert api.get(f"/v1/subscriptions/{kept['id']}", role="bob").status_code == 404


def test_a_declining_card_leaves_the_first_charge_incomplete() -> None:
    api = build_api()
    created = _subscribe(api, api.create_plan()["id"], token="pm_card_chargeCustomerFail")

    assert created["status"] == "incomplete"
    assert created["failed_attempts"] == 1
    assert created["next_charge_at"] == "2026-01-02T12:00:00Z"  # the first retry, a day later


def test_a_plan_is_not_sold_as_a_purchase() -> None:
    api = build_api()
    plan = api.create_plan()

    result = api.post(
        "/v1/purchases",
        {"product_id": plan["id"], "customer_id": "cus_ana", "country": "PT"},
        role="merchant",
    )

    assert_problem(result, 422, "validation_error")
    assert result.json["subscribe_at"] == "/v1/subscriptions"
