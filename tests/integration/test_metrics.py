"""``GET /metrics`` over real HTTP: the counters move as traffic comes (requests, webhooks by
outcome, purchase transitions, provider calls, the backlog), on SQLite and PostgreSQL; loopback
callers read it, others need ``PAYMENTS_METRICS_TOKEN``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine

from tests.integration.service import RunningService, running_service
from tests.integration.test_webhook_races import Recorder, _recording, _start_purchase

FORWARDED = {"X-Forwarded-For": "203.0.113.9"}
TOKEN = "metrics-token-for-tests-only"


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(text: str) -> Samples:
    """Every sample of a scrape by (name, labels)."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def service(database: Engine, recorder: Recorder) -> Iterator[RunningService]:
    url = database.url.render_as_string(hide_password=False)
    env = {"PAYMENTS_DATABASE_URL": url, "PAYMENTS_METRICS_TOKEN": TOKEN}
    with running_service(env, _recording(recorder)) as running:
        yield running


def test_metrics_count_requests_webhooks_purchases_and_provider_calls(
    service: RunningService, recorder: Recorder
) -> None:
    before = scrape(service.call("GET", "/metrics").text)
    admin = service.admin_key()
    purchase_id = _start_purchase(service, admin, "stripe", "cus_metrics")
    approved = service.call("POST", f"/v1/sandbox/purchases/{purchase_id}/approve", admin)
    assert approved.status_code == 200, approved.text
    (delivery,) = recorder.sent
    url = service.base_url + delivery.path

    answers = [
        service.http.post(url, data=delivery.body, headers=delivery.headers, timeout=30)
        for _ in range(2)
    ]
    forged = service.http.post(url, data=delivery.body + b" ", headers=delivery.headers, timeout=30)
    for _ in range(3):
        assert service.call("GET", f"/v1/purchases/{purchase_id}", admin).status_code == 200
    after = scrape(service.call("GET", "/metrics").text)

    assert [a.json()["status"] for a in answers] == ["processed", "duplicate"]
    assert forged.status_code == 400
    webhooks = "payments_webhooks_total"
    assert value(after, webhooks, provider="stripe", outcome="processed") == 1
    assert value(after, webhooks, provider="stripe", outcome="duplicate") == 1
    assert value(after, webhooks, provider="stripe", outcome="rejected") == 1
    requests_total = "payments_http_requests_total"
    route = {"route": "/v1/webhooks/{provider}", "method": "POST"}
    assert value(after, requests_total, **route, status="200") == 2
    assert value(after, requests_total, **route, status="400") == 1
    read = {"route": "/v1/purchases/{purchase_id}", "method": "GET", "status": "200"}
    assert value(after, requests_total, **read) == 3
    assert value(before, requests_total, **read) == 0
    assert (
        value(
            after, "payments_http_request_duration_seconds_count", route=read["route"], method="GET"
        )
        == 3
    )
    moved = "payments_purchase_transitions_total"
    assert value(after, moved, status="pending", gateway="stripe") == 1
    assert value(after, moved, status="completed", gateway="stripe") == 1
    calls = "payments_gateway_calls_total"
    assert value(after, calls, gateway="stripe", operation="start_payment", outcome="ok") == 1
    assert value(after, "payments_inbox_messages", status="processed") == 1
    assert value(after, "payments_outbox_unpublished_events") >= 3  # created, changed, completed
    assert value(after, "payments_outbox_publish_lag_seconds") >= 0
    assert value(after, "payments_gateway_circuit_open", gateway="stripe") == 0


def test_metrics_are_refused_to_callers_off_loopback_without_the_token(
    service: RunningService,
) -> None:
    missing = service.http.get(service.base_url + "/metrics", headers=FORWARDED, timeout=30)
    wrong = service.http.get(
        service.base_url + "/metrics",
        headers={**FORWARDED, "Authorization": "Bearer not-the-token"},
        timeout=30,
    )
    right = service.http.get(
        service.base_url + "/metrics",
        headers={**FORWARDED, "Authorization": f"Bearer {TOKEN}"},
        timeout=30,
    )

    for refused in (missing, wrong):
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "unauthenticated"
    assert right.status_code == 200
    assert right.headers["content-type"].startswith("text/plain")
    assert "payments_http_requests_total" in right.text


def test_without_a_token_metrics_are_for_loopback_callers_only(database: Engine) -> None:
    url = database.url.render_as_string(hide_password=False)
    with running_service({"PAYMENTS_DATABASE_URL": url}) as service:
        local = service.http.get(service.base_url + "/metrics", timeout=30)
        forwarded = service.http.get(service.base_url + "/metrics", headers=FORWARDED, timeout=30)
        keyed = service.http.get(
            service.base_url + "/metrics",
            headers={**FORWARDED, "Authorization": f"Bearer {service.admin_key()}"},
            timeout=30,
        )

    assert local.status_code == 200
    for refused in (forwarded, keyed):
        assert refused.status_code == 403
        assert refused.json()["code"] == "forbidden"
