"""The real app's logs: the ``X-Request-ID`` a caller sends is on every line of its request,
each request has one access line, and webhook and apply lines name what they are about."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import requests
from sqlalchemy import Engine

from payments.entrypoints.logs import install_filters
from tests.integration.service import RunningService, running_service

PACKAGE = {
    "name": "8 Hour Premium Package",
    "kind": "package",
    "price": {"amount": "79.99", "currency": "EUR"},
    "credits": "8",
    "validity_days": 60,
}


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def logs() -> Iterator[_Collect]:
    root = logging.getLogger()
    handler = install_filters(_Collect())
    saved = root.level
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(saved)


@pytest.fixture
def service(sqlite_engine: Engine) -> Iterator[RunningService]:
    url = sqlite_engine.url.render_as_string(hide_password=False)
    with running_service({"PAYMENTS_DATABASE_URL": url}) as running:
        yield running


def _call(
    service: RunningService, method: str, path: str, key: str, request_id: str, body: object
) -> requests.Response:
    headers = {"Authorization": f"Bearer {key}", "X-Request-ID": request_id}
    return service.http.request(
        method, service.base_url + path, json=body, headers=headers, timeout=30
    )


def _of_request(logs: _Collect, request_id: str) -> list[logging.LogRecord]:
    """Every record of the request whose access line carries ``request_id``: a server thread
    serves one connection's requests one after the other, each ending with its access line."""
    by_request: dict[str, list[logging.LogRecord]] = {}
    pending: dict[int | None, list[logging.LogRecord]] = {}
    for record in logs.records:
        pending.setdefault(record.thread, []).append(record)
        if record.name == "payments.access":
            by_request[str(getattr(record, "request_id", None))] = pending.pop(record.thread)
    assert request_id in by_request, [r.getMessage() for r in logs.records]
    return by_request[request_id]


def _access_ids(logs: _Collect) -> list[str]:
    return [
        str(getattr(r, "request_id", None)) for r in logs.records if r.name == "payments.access"
    ]


def test_the_request_id_is_on_every_line_of_a_purchase_and_its_webhook(
    service: RunningService, logs: _Collect
) -> None:
    admin = service.admin_key()
    product = _call(service, "POST", "/v1/products", admin, "req-product", PACKAGE).json()
    body = {"product_id": product["id"], "customer_id": "cus_logs", "country": "PT"}
    bought = _call(service, "POST", "/v1/purchases", admin, "req-buy-1", body)
    assert bought.status_code == 201, bought.text
    purchase = bought.json()
    assert bought.headers["X-Request-Id"] == "req-buy-1"
    path = f"/v1/sandbox/purchases/{purchase['id']}/approve"
    approved = _call(service, "POST", path, admin, "req-approve-1", None)
    assert approved.json()["purchase"]["status"] == "completed", approved.text
    # The simulator delivered its notification in a request of its own; we deliver it again.
    simulator = service.container.sandbox().stripe_simulator
    delivery = simulator.deliveries[-1]
    headers = {**delivery.headers, "X-Request-ID": "req-webhook-1"}  # signed a moment ago
    again = service.http.post(
        service.base_url + delivery.path, data=delivery.body, headers=headers, timeout=30
    )
    assert again.json() == {"status": "duplicate"}, again.text

    ids = _access_ids(logs)
    assert ids[:2] == ["req-product", "req-buy-1"]
    assert ids[-2:] == ["req-approve-1", "req-webhook-1"]
    for request_id in ids:
        records = _of_request(logs, request_id)
        assert {getattr(r, "request_id", None) for r in records} == {request_id}
    (first_delivery,) = set(ids) - {"req-product", "req-buy-1", "req-approve-1", "req-webhook-1"}
    assert first_delivery.startswith("req_")
    for request_id in (first_delivery, "req-webhook-1"):
        lines = _of_request(logs, request_id)
        received = [r for r in lines if r.name.endswith("notifications")]
        assert received, [r.getMessage() for r in lines]
        assert delivery.event_id in received[0].getMessage()
        assert received[0].provider == "stripe"  # type: ignore[attr-defined]
        assert received[0].event_id == delivery.event_id  # type: ignore[attr-defined]
        applied = [r for r in lines if r.getMessage().startswith("apply ")]
        assert applied, [r.getMessage() for r in lines]
        assert purchase["id"] in applied[0].getMessage()
        assert purchase["reference"] in applied[0].getMessage()
        assert applied[0].purchase_id == purchase["id"]  # type: ignore[attr-defined]
        assert applied[0].reference == purchase["reference"]  # type: ignore[attr-defined]


def test_each_request_has_one_access_line_with_its_status_and_duration(
    service: RunningService, logs: _Collect
) -> None:
    refused = _call(service, "GET", "/v1/purchases/pur_missing?q=1", "nope", "req-404", None)
    assert refused.headers["X-Request-Id"] == refused.json()["request_id"] == "req-404"
    service.http.get(service.base_url + "/health", timeout=30)

    (line,) = (r for r in _of_request(logs, "req-404") if r.name == "payments.access")
    assert line.levelno == logging.INFO
    assert line.getMessage().startswith("GET /v1/purchases/pur_missing 401 ")
    assert line.getMessage().endswith("ms")
    assert (line.method, line.path, line.status) == ("GET", "/v1/purchases/pur_missing", 401)  # type: ignore[attr-defined]
    assert isinstance(line.duration_ms, float) and line.duration_ms >= 0  # type: ignore[attr-defined]
    made = [
        r
        for r in logs.records
        if r.name == "payments.access" and r.getMessage().startswith("GET /health 200")
    ]
    assert len(made) == 1
    assert str(made[0].request_id).startswith("req_")  # type: ignore[attr-defined]
