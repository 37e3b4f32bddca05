"""PSE through the real service in sandbox mode: banks from Wompi's simulator (the default
routing sends CO to Wompi), a bank it refuses."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from tests.integration.service import RunningService, running_service

PACKAGE = {
    "name": "8 Hour Premium Package",
    "kind": "package",
    "price": {"amount": "320000", "currency": "COP"},
    "credits": "8",
    "validity_days": 60,
}
PAYER = {
    "customer": {"email": "ana@example.com", "name": "Ana"},
    "payer": {"document_type": "CC", "document_number": "1020304050", "person_type": "natural"},
}
"""Who pays: Wompi needs the payer's e-mail, PSE the payer's document and person type."""


@pytest.fixture
def service(sqlite_engine: Engine) -> Iterator[RunningService]:
    env = {"PAYMENTS_DATABASE_URL": sqlite_engine.url.render_as_string(hide_password=False)}
    with running_service(env) as running:
        yield running


def test_the_sandbox_lists_wompis_financial_institutions(service: RunningService) -> None:
    listing = service.call("GET", "/v1/pse/banks?country=CO")
    assert listing.status_code == 200
    assert listing.json()["gateway"] == "wompi"
    assert [b["code"] for b in listing.json()["banks"]] == ["1", "2", "3"]


def test_a_pse_checkout_with_a_listed_bank_redirects_the_payer(service: RunningService) -> None:
    key = service.admin_key()
    product = service.call("POST", "/v1/products", key, PACKAGE).json()
    bank = service.call("GET", "/v1/pse/banks").json()["banks"][0]["code"]
    purchase = service.call(
        "POST",
        "/v1/purchases",
        key,
        {
            "product_id": product["id"],
            "country": "CO",
            "payment_method": "pse",
            "bank_code": bank,
            **PAYER,
        },
    )
    assert purchase.status_code == 201, purchase.text
    assert purchase.json()["gateway"] == "wompi"
    assert purchase.json()["next_action"]["type"] == "redirect"
    assert "/sandbox/wompi/pay/" in purchase.json()["next_action"]["url"]
    transactions = service.container.sandbox().wompi_simulator.transactions
    method = transactions[purchase.json()["gateway_reference"]].method
    assert method["financial_institution_code"] == bank


@pytest.fixture
def wompi_alone(sqlite_engine: Engine) -> Iterator[RunningService]:
    """Colombia routed to Wompi alone: the default sandbox routing would fail a refused bank
    over to PayU (a refusal proves nothing was charged), whose simulator takes any bank."""
    env = {
        "PAYMENTS_DATABASE_URL": sqlite_engine.url.render_as_string(hide_password=False),
        "PAYMENTS_ROUTING": "CO+cash: efecty; CO: wompi; *: stripe",
    }
    with running_service(env) as running:
        yield running


def test_a_bank_the_provider_refuses_is_422_and_leaves_no_open_purchase(
    wompi_alone: RunningService,
) -> None:
    service = wompi_alone
    key = service.admin_key()
    product = service.call("POST", "/v1/products", key, PACKAGE).json()
    answer = service.call(
        "POST",
        "/v1/purchases",
        key,
        {
            "product_id": product["id"],
            "country": "CO",
            "payment_method": "pse",
            "bank_code": "9999",
            **PAYER,
        },
    )
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert [e["field"] for e in problem["errors"]] == ["bank_code"]
    purchase = service.call("GET", f"/v1/purchases/{problem['purchase_id']}", key).json()
    assert purchase["status"] == "failed"
    assert purchase["failure_code"] == "validation_error"
