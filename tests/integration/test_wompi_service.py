"""Wompi wired by configuration, end to end over HTTP: ``CO: wompi`` routes a COP purchase to
the built-in Wompi simulator, whose signed ``transaction.updated`` completes or fails it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import Engine

from tests.integration.service import RunningService, running_service

PACKAGE = {
    "name": "8 Hour Premium Package",
    "kind": "package",
    "price": {"amount": "50000.00", "currency": "COP"},
    "credits": "8",
    "validity_days": 60,
}
PSE = {
    "payment_method": "pse",
    "bank_code": "1",
    "payer": {"document_type": "CC", "document_number": "1020304050", "person_type": "natural"},
}
NEQUI = {"payment_method": "nequi", "payer": {"phone": "3991111111"}}


@pytest.fixture
def service(database: Engine) -> Iterator[RunningService]:
    # No PAYMENTS_ROUTING: sandbox mode's default sends CO to Wompi, the rest to Stripe.
    env = {"PAYMENTS_DATABASE_URL": database.url.render_as_string(hide_password=False)}
    with running_service(env) as running:
        yield running


def _buy(service: RunningService, key: str, method: dict[str, Any]) -> dict[str, Any]:
    product = service.call("POST", "/v1/products", key, PACKAGE)
    assert product.status_code == 201, product.text
    body = {
        "product_id": product.json()["id"],
        "customer": {"email": "ana@example.com", "name": "Ana"},
        "country": "CO",
        **method,
    }
    purchase = service.call("POST", "/v1/purchases", key, body)
    assert purchase.status_code == 201, purchase.text
    started: dict[str, Any] = purchase.json()
    assert started["gateway"] == "wompi"
    return started


def _account(service: RunningService, key: str, purchase: dict[str, Any]) -> dict[str, Any]:
    account = service.call("GET", f"/v1/accounts/{purchase['customer_id']}", key)
    assert account.status_code == 200, account.text
    return dict(account.json())


@pytest.mark.parametrize("method", [PSE, NEQUI], ids=["pse", "nequi"])
def test_an_approved_wompi_payment_completes_once_and_a_duplicate_is_answered_duplicate(
    service: RunningService, method: dict[str, Any]
) -> None:
    key = service.admin_key()
    purchase = _buy(service, key, method)
    simulator = service.container.sandbox().wompi_simulator
    [transaction] = simulator.transactions.values()
    assert transaction.amount_in_cents == 5000000
    assert transaction.currency == "COP"
    assert purchase["gateway_reference"] == transaction.id

    approved = service.call("POST", f"/v1/sandbox/purchases/{purchase['id']}/approve", key)

    assert approved.status_code == 200, approved.text
    assert approved.json()["purchase"]["status"] == "completed"
    assert approved.json()["result"]["delivered_status"] == 200
    [delivery] = simulator.deliveries
    assert delivery.path == "/v1/webhooks/wompi"
    assert json.loads(delivery.body)["event"] == "transaction.updated"
    again = requests.post(
        service.base_url + delivery.path, data=delivery.body, headers=delivery.headers, timeout=30
    )
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "duplicate"
    account = _account(service, key, purchase)
    assert account["credits"] == "8.00"
    assert account["total_paid"] == [{"amount": "50000.00", "currency": "COP"}]


def test_a_declined_wompi_payment_fails_the_purchase_without_credits(
    service: RunningService,
) -> None:
    key = service.admin_key()
    purchase = _buy(service, key, PSE)

    declined = service.call("POST", f"/v1/sandbox/purchases/{purchase['id']}/decline", key)

    assert declined.status_code == 200, declined.text
    assert declined.json()["purchase"]["status"] == "failed"
    shown = service.call("GET", f"/v1/purchases/{purchase['id']}", key).json()
    assert shown["status"] == "failed"
    assert _account(service, key, purchase)["credits"] == "0.00"


def test_a_forged_wompi_event_is_refused(service: RunningService) -> None:
    key = service.admin_key()
    purchase = _buy(service, key, NEQUI)
    service.call("POST", f"/v1/sandbox/purchases/{purchase['id']}/approve", key)
    [delivery] = service.container.sandbox().wompi_simulator.deliveries
    event = json.loads(delivery.body)
    event["data"]["transaction"]["amount_in_cents"] = 100
    forged = requests.post(
        service.base_url + delivery.path,
        data=json.dumps(event).encode(),
        headers=delivery.headers,
        timeout=30,
    )
    assert forged.status_code == 400, forged.text


def test_other_markets_go_to_stripes_simulator_by_default(service: RunningService) -> None:
    key = service.admin_key()
    product = service.call(
        "POST", "/v1/products", key, {**PACKAGE, "price": {"amount": "79.99", "currency": "EUR"}}
    ).json()
    purchase = service.call(
        "POST",
        "/v1/purchases",
        key,
        {"product_id": product["id"], "customer_id": "cus_ana", "country": "PT"},
    )
    assert purchase.status_code == 201, purchase.text
    assert purchase.json()["gateway"] == "stripe"
