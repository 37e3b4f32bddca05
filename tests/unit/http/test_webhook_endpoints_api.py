"""The webhook endpoint routes: the secret shown once and stored sealed, event types checked,
live mode refusing private and loopback hosts, disabling, deliveries and resends."""

from __future__ import annotations

import pytest

from payments.adapters.webhooks import public_https_only
from tests.unit.http.conftest import Api, assert_problem, build_api

URL = "http://127.0.0.1:9/payments/events"  # nothing listens there: sends fail at once


def _create(api: Api, body: object, **kw: object) -> dict[str, object]:
    result = api.post("/v1/webhook-endpoints", body, **kw)  # type: ignore[arg-type]
    assert result.status_code == 201, result.text
    created: dict[str, object] = result.json
    return created


def test_a_new_endpoint_shows_its_secret_once_and_stores_it_sealed(api: Api) -> None:
    created = _create(api, {"url": URL, "events": ["purchase.completed", "refund.recorded"]})

    secret = created.pop("secret")
    assert isinstance(secret, str) and secret.startswith("whsec_") and len(secret) > 40
    assert created["events"] == ["purchase.completed", "refund.recorded"]
    assert created["status"] == "enabled"
    read = api.get(f"/v1/webhook-endpoints/{created['id']}")
    assert read.json == created
    assert api.get("/v1/webhook-endpoints").json == {"data": [created]}
    [stored] = api.store.tables.webhook_endpoints.values()
    assert secret not in stored.sealed_secret


def test_creating_an_endpoint_ignores_the_idempotency_key_so_no_answer_keeps_the_secret(
    api: Api,
) -> None:
    body = {"url": URL, "events": ["*"]}
    first = _create(api, body, headers={"Idempotency-Key": "hook-1"})
    second = _create(api, body, headers={"Idempotency-Key": "hook-1"})

    assert first["id"] != second["id"]
    assert first["secret"] != second["secret"]
    assert not api.store.tables.idempotency


@pytest.mark.parametrize(
    ("events", "says"),
    [
        (["purchase.refunded_twice"], "unknown event type 'purchase.refunded_twice'"),
        (["*", "purchase.completed"], "'*' already names every event type"),
        ([], "must list 1 to 50 event types"),
    ],
)
def test_event_types_must_be_ones_the_outbox_records(
    api: Api, events: list[str], says: str
) -> None:
    result = api.post("/v1/webhook-endpoints", {"url": URL, "events": events})

    problem = assert_problem(result, 422, "validation_error")
    [error] = problem["errors"]  # type: ignore[misc]
    assert error["field"] == "events"
    assert says in error["message"]
    assert not api.store.tables.webhook_endpoints


def _resolver(host: str) -> list[str]:
    return {"hooks.example.com": ["93.184.216.34"], "intranet.example.com": ["10.1.2.3"]}.get(
        host, ["127.0.0.1"]
    )


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("https://127.0.0.1/events", "private, loopback or link-local"),
        ("https://localhost:8443/events", "private, loopback or link-local"),
        ("https://intranet.example.com/events", "private, loopback or link-local"),
        ("https://[::1]/events", "private, loopback or link-local"),
        ("https://169.254.169.254/latest", "private, loopback or link-local"),
        ("http://hooks.example.com/events", "must be an https URL"),
        ("https://user:pw@hooks.example.com/events", "must not carry credentials"),
    ],
)
def test_live_mode_refuses_private_and_loopback_endpoints(url: str, says: str) -> None:
    api = build_api(webhook_destinations=public_https_only(_resolver))

    result = api.post("/v1/webhook-endpoints", {"url": url, "events": ["*"]})

    problem = assert_problem(result, 422, "validation_error")
    assert problem["errors"][0]["field"] == "url"  # type: ignore[index]
    assert says in problem["errors"][0]["message"]  # type: ignore[index]
    assert not api.store.tables.webhook_endpoints


def test_live_mode_takes_a_public_https_endpoint() -> None:
    api = build_api(webhook_destinations=public_https_only(_resolver))

    _create(api, {"url": "https://hooks.example.com/events", "events": ["*"]})


def test_sandbox_mode_takes_a_loopback_endpoint(api: Api) -> None:
    _create(api, {"url": "http://localhost:8080/events", "events": ["*"]})


def test_a_disabled_endpoint_gets_no_deliveries_and_keeps_its_past_ones(api: Api) -> None:
    created = _create(api, {"url": URL, "events": ["purchase.created"]})
    api.buy(api.create_premium()["id"])
    assert api.services is not None
    assert api.services.webhook_dispatcher.fan_out() == 1

    result = api.client.simulate_delete(
        f"/v1/webhook-endpoints/{created['id']}", headers=api.auth("admin")
    )

    assert result.status_code == 200, result.text
    assert result.json["status"] == "disabled"
    assert result.json["disabled_reason"] == "disabled by an operator"
    api.buy(api.create_premium()["id"])
    assert api.services.webhook_dispatcher.fan_out() == 0
    listed = api.get(f"/v1/webhook-endpoints/{created['id']}/deliveries").json["data"]
    assert [d["event_type"] for d in listed] == ["purchase.created"]


def test_a_resend_records_the_attempt_and_why_it_failed(api: Api) -> None:
    created = _create(api, {"url": URL, "events": ["*"]})
    api.buy(api.create_premium()["id"])
    assert api.services is not None
    api.services.webhook_dispatcher.fan_out()
    path = f"/v1/webhook-endpoints/{created['id']}/deliveries"
    [delivery] = api.get(path).json["data"]
    assert (delivery["status"], delivery["attempts"]) == ("pending", 0)

    result = api.post(f"{path}/{delivery['id']}/retry")

    assert result.status_code == 200, result.text
    assert result.json["attempts"] == 1
    assert result.json["answer_code"] is None
    assert result.json["error"] == "could not connect"
    assert result.json["status"] == "pending"
    assert result.json["next_attempt_at"] > result.json["last_attempt_at"]
    assert api.get(path).json["data"] == [result.json]


def test_unknown_endpoints_and_deliveries_are_404(api: Api) -> None:
    created = _create(api, {"url": URL, "events": ["*"]})

    assert_problem(api.get("/v1/webhook-endpoints/whe_nope"), 404, "not_found")
    assert_problem(api.get("/v1/webhook-endpoints/whe_nope/deliveries"), 404, "not_found")
    retry = api.post(f"/v1/webhook-endpoints/{created['id']}/deliveries/whd_nope/retry")
    assert_problem(retry, 404, "not_found")
