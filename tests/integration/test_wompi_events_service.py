"""Wompi's events and voids through the running service, on SQLite and PostgreSQL: a correctly
checksummed event of another amount is a conflict, late or reordered events never undo an
approval, and an approved card payment is given back by a void."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import Engine

from payments.adapters.gateways.wompi.settings import SANDBOX_EVENTS_SECRET, SANDBOX_PUBLIC_KEY
from payments.sandbox.wompi_simulator import WompiSimulator
from tests.integration.service import RunningService, running_service

PACKAGE = {
    "name": "8 Hour Premium Package",
    "kind": "package",
    "price": {"amount": "50000.00", "currency": "COP"},
    "credits": "8",
    "validity_days": 60,
}
NEQUI = {"payment_method": "nequi", "payer": {"phone": "3991111111"}}


@pytest.fixture
def service(database: Engine) -> Iterator[RunningService]:
    env = {"PAYMENTS_DATABASE_URL": database.url.render_as_string(hide_password=False)}
    with running_service(env) as running:  # sandbox routing: CO to Wompi's simulator first
        yield running


def _simulator(service: RunningService) -> WompiSimulator:
    simulator: WompiSimulator = service.container.sandbox().wompi_simulator
    return simulator


def _buy(service: RunningService, key: str, method: dict[str, Any]) -> dict[str, Any]:
    product = service.call("POST", "/v1/products", key, PACKAGE).json()
    body = {
        "product_id": product["id"],
        "customer": {"email": "ana@example.com", "name": "Ana"},
        "country": "CO",
        **method,
    }
    purchase = service.call("POST", "/v1/purchases", key, body)
    assert purchase.status_code == 201, purchase.text
    started: dict[str, Any] = purchase.json()
    assert started["gateway"] == "wompi"
    return started


def _post_event(service: RunningService, event: dict[str, Any]) -> requests.Response:
    """``event`` checksummed as Wompi documents it (reference §3.5): SHA-256 of the values of
    ``signature.properties`` read from ``data``, then the timestamp, then the events secret."""
    values = ""
    for path in event["signature"]["properties"]:
        value: Any = event["data"]
        for name in path.split("."):
            value = value[name]
        values += str(value)
    plain = f"{values}{event['timestamp']}{SANDBOX_EVENTS_SECRET}"
    event["signature"]["checksum"] = hashlib.sha256(plain.encode()).hexdigest()
    return requests.post(
        service.base_url + "/v1/webhooks/wompi",
        data=json.dumps(event).encode(),
        headers={"Content-Type": "application/json"},
        timeout=30,
    )


def _event(service: RunningService, **transaction: object) -> dict[str, Any]:
    """A copy of the simulator's first event, its transaction changed by ``transaction``."""
    event: dict[str, Any] = json.loads(_simulator(service).deliveries[0].body)
    event["data"]["transaction"].update(transaction)
    event["timestamp"] += 1
    return event


def _shown(service: RunningService, key: str, purchase: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = service.call("GET", f"/v1/purchases/{purchase['id']}", key).json()
    return shown


def _credits(service: RunningService, key: str, purchase: dict[str, Any]) -> str:
    account = service.call("GET", f"/v1/accounts/{purchase['customer_id']}", key).json()
    return str(account["credits"])


def test_a_checksummed_approval_of_another_amount_is_a_conflict_without_credits(
    service: RunningService,
) -> None:
    key = service.admin_key()
    purchase = _buy(service, key, NEQUI)
    [transaction] = _simulator(service).transactions.values()
    event = {
        "event": "transaction.updated",
        "data": {
            "transaction": {
                **transaction.to_wire(),
                "status": "APPROVED",
                "amount_in_cents": 4000000,
            }
        },
        "environment": "test",
        "signature": {
            "properties": ["transaction.id", "transaction.status", "transaction.amount_in_cents"]
        },
        "timestamp": 1796569327,
        "sent_at": "2026-12-06T15:02:07.000Z",
    }

    answer = _post_event(service, event)

    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "conflict"
    assert _shown(service, key, purchase)["status"] != "completed"
    assert _credits(service, key, purchase) == "0.00"


def test_late_and_reordered_events_never_undo_an_approval(service: RunningService) -> None:
    key = service.admin_key()
    purchase = _buy(service, key, NEQUI)
    service.call("POST", f"/v1/sandbox/purchases/{purchase['id']}/approve", key)

    late_pending = _post_event(service, _event(service, status="PENDING"))
    late_declined = _post_event(service, _event(service, status="DECLINED"))

    assert late_pending.status_code == 200, late_pending.text
    assert late_declined.status_code == 200, late_declined.text
    assert late_pending.json()["status"] == "ignored"
    assert late_declined.json()["status"] == "ignored"
    assert _shown(service, key, purchase)["status"] == "completed"
    assert _credits(service, key, purchase) == "8.00"


def _card_token(service: RunningService, number: str) -> str:
    """A card tokenized at the Wompi simulator as the payer's browser would, by public key."""
    answer = requests.post(
        service.base_url + "/sandbox/wompi/v1/tokens/cards",
        json={
            "number": number,
            "cvc": "123",
            "exp_month": "08",
            "exp_year": "30",
            "card_holder": "Ana",
        },
        headers={"Authorization": f"Bearer {SANDBOX_PUBLIC_KEY}"},
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["data"]["id"])


def test_an_approved_card_payment_is_voided_whole_and_a_nequi_one_is_refused_unbooked(
    service: RunningService,
) -> None:
    key = service.admin_key()
    token = _card_token(service, "4242424242424242")
    card = _buy(service, key, {"payment_method": "card", "payment_token": token})
    service.call("POST", f"/v1/sandbox/purchases/{card['id']}/approve", key)

    refund = service.call("POST", f"/v1/purchases/{card['id']}/refunds", key, {})

    assert refund.status_code == 201, refund.text
    assert refund.json()["status"] == "succeeded"
    assert _simulator(service).transactions[card["gateway_reference"]].status == "VOIDED"
    assert _shown(service, key, card)["status"] == "refunded"
    nequi = _buy(service, key, NEQUI)
    service.call("POST", f"/v1/sandbox/purchases/{nequi['id']}/approve", key)
    refused = service.call("POST", f"/v1/purchases/{nequi['id']}/refunds", key, {})
    assert refused.status_code == 422, refused.text
    assert _shown(service, key, nequi)["refunded"]["amount"] == "0.00"
