"""Bad input over real HTTP leaves the real database exactly as it was (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from sqlalchemy import Engine

from tests.integration.service import RunningService, row_counts, running_service

PROBLEM = "application/problem+json"


@pytest.fixture
def service(database: Engine) -> Iterator[RunningService]:
    url = database.url.render_as_string(hide_password=False)
    with running_service({"PAYMENTS_DATABASE_URL": url}) as running:
        yield running


def _post(
    service: RunningService, path: str, key: str | None, body: bytes, **headers: str
) -> requests.Response:
    sent = {"Content-Type": "application/json", **headers}
    if key:
        sent["Authorization"] = f"Bearer {key}"
    return requests.post(service.base_url + path, data=body, headers=sent, timeout=30)


def test_each_bad_request_gets_its_problem_and_changes_nothing(
    service: RunningService, database: Engine
) -> None:
    admin = service.admin_key()
    product = service.call(
        "POST",
        "/v1/products",
        admin,
        {
            "name": "8 Hour Premium Package",
            "kind": "package",
            "price": {"amount": "79.99", "currency": "EUR"},
            "credits": "8",
            "validity_days": 60,
        },
    ).json()
    before = row_counts(database)
    purchase = '{"product_id": "%s", "customer_id": "cus_bad", "country": "PT"%s}'

    cases: list[tuple[str, bytes, dict[str, str], int, str]] = [
        ("/v1/purchases", b'{"product_id": ', {}, 400, "malformed_request"),
        ("/v1/purchases", b'{"product_id": 7, "country": ["PT"]}', {}, 422, "validation_error"),
        ("/v1/purchases", (purchase % ("prd_nope", "")).encode(), {}, 404, "not_found"),
        ("/v1/purchases", b'{"country": "PT"}', {}, 422, "validation_error"),
        (
            "/v1/purchases",
            (purchase % (product["id"], ', "payment_method": 3')).encode(),
            {},
            422,
            "validation_error",
        ),
        ("/v1/products", b"x" * (2 * 1024 * 1024), {}, 413, "payload_too_large"),
        (
            "/v1/products",
            b'{"name": "P", "kind": "package", "price": {"amount": "1e3", "currency": "EUR"},'
            b' "credits": " 8"}',
            {},
            422,
            "validation_error",
        ),
        (
            "/v1/webhooks/stripe",
            b'{"id": "evt_forged", "type": "payment_intent.succeeded", "data": {}}',
            {"Stripe-Signature": "t=1,v1=" + "0" * 64},
            400,
            "invalid_signature",
        ),
        (
            "/v1/webhooks/stripe",
            b'{"id": "evt_forged", "type": "payment_intent.succeeded"}',
            {},
            400,
            "invalid_signature",
        ),
    ]
    for path, body, headers, status, code in cases:
        key = None if "webhooks" in path else admin
        answer = _post(service, path, key, body, **headers)
        assert answer.status_code == status, (path, body[:60], answer.text)
        assert answer.headers["Content-Type"] == PROBLEM
        problem = answer.json()
        assert problem["status"] == status
        assert problem["code"] == code, problem
        assert problem["request_id"]
        assert "Traceback" not in answer.text

    assert row_counts(database) == before
