"""The README quickstart, on the real container over loopback HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from tests.integration.service import RunningService, running_service

PACKAGE = {
    "name": "8 Hour Premium Package",
    "kind": "package",
    "price": {"amount": "79.99", "currency": "EUR"},
    "credits": "8",
    "validity_days": 60,
}


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def run_quickstart(service: RunningService) -> dict[str, Any]:
    admin = service.admin_key()
    product = service.call("POST", "/v1/products", admin, PACKAGE)
    assert product.status_code == 201, product.text
    purchase = service.call(
        "POST",
        "/v1/purchases",
        admin,
        {
            "product_id": product.json()["id"],
            "customer_id": "cus_ana",
            "country": "PT",
            "amount": {"amount": "0.01", "currency": "EUR"},
        },
    )
    assert purchase.status_code == 201, purchase.text
    body = purchase.json()
    assert body["amount"] == {"amount": "79.99", "currency": "EUR"}
    assert body["gateway"] == "sandbox"
    assert body["next_action"]["type"] == "client_secret"

    approved = service.call("POST", f"/v1/sandbox/purchases/{body['id']}/approve", admin)
    assert approved.status_code == 200, approved.text
    assert approved.json()["purchase"]["status"] == "completed"
    assert approved.json()["result"]["delivered_status"] == 200

    account = service.call("GET", "/v1/accounts/cus_ana", admin)
    assert account.status_code == 200, account.text
    return dict(account.json())


def _check(account: dict[str, Any]) -> None:
    assert account["credits"] == "8.00"
    assert account["total_paid"] == [{"amount": "79.99", "currency": "EUR"}]


def test_quickstart_on_sqlite_credits_eight_hours(sqlite_engine: Engine) -> None:
    with running_service({"PAYMENTS_DATABASE_URL": _url(sqlite_engine)}) as service:
        _check(run_quickstart(service))


@pytest.mark.postgres
def test_quickstart_on_postgresql_credits_eight_hours(postgres_engine: Engine) -> None:
    with running_service({"PAYMENTS_DATABASE_URL": _url(postgres_engine)}) as service:
        _check(run_quickstart(service))


def test_declined_sandbox_payment_leaves_the_purchase_failed(sqlite_engine: Engine) -> None:
    with running_service({"PAYMENTS_DATABASE_URL": _url(sqlite_engine)}) as service:
        admin = service.admin_key()
        product = service.call("POST", "/v1/products", admin, PACKAGE).json()
        purchase = service.call(
            "POST",
            "/v1/purchases",
            admin,
            {"product_id": product["id"], "customer_id": "cus_bo", "country": "CO"},
        ).json()
        declined = service.call("POST", f"/v1/sandbox/purchases/{purchase['id']}/decline", admin)
        assert declined.json()["purchase"]["status"] == "failed"
        account = service.call("GET", "/v1/accounts/cus_bo", admin).json()
        assert account["credits"] == "0.00"
        assert account["total_paid"] == []
