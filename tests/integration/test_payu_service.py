"""PayU wired by configuration, end to end over HTTP: ``CO: payu`` routes a COP purchase to the
built-in PayU simulator, whose signed confirmation page completes, fails or expires it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
import requests
from sqlalchemy import Engine

from payments.adapters.gateways.payu import confirmation_signature
from payments.adapters.gateways.payu.settings import (
    SANDBOX_API_KEY,
    SANDBOX_API_LOGIN,
    SANDBOX_MERCHANT_ID,
)
from payments.sandbox.payu_simulator import PayUSimulator
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
    "bank_code": "1007",
    "payer": {"document_type": "CC", "document_number": "1020304050", "person_type": "natural"},
}
CASH = {"payment_method": "cash"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def service(database: Engine) -> Iterator[RunningService]:
    env = {
        "PAYMENTS_DATABASE_URL": database.url.render_as_string(hide_password=False),
        "PAYMENTS_ROUTING": "CO+pse: payu, wompi; CO: payu; *: stripe",
    }
    with running_service(env) as running:
        yield running


def _simulator(service: RunningService) -> PayUSimulator:
    simulator: PayUSimulator = service.container.sandbox().payu_simulator
    return simulator


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
    assert started["gateway"] == "payu"
    assert started["status"] == "processing"
    return started


def _credits(service: RunningService, key: str, purchase: dict[str, Any]) -> str:
    account = service.call("GET", f"/v1/accounts/{purchase['customer_id']}", key)
    assert account.status_code == 200, account.text
    return str(account.json()["credits"])


def _confirm(service: RunningService, fields: dict[str, str]) -> requests.Response:
    return requests.post(
        service.base_url + "/v1/webhooks/payu",
        data=urlencode(fields).encode("ascii"),
        headers=FORM,
        timeout=30,
    )


def _signed(fields: dict[str, str], **changes: str) -> dict[str, str]:
    """The confirmation with ``changes``, signed again by the documented rule and test key."""
    changed = {**fields, **changes}
    changed["sign"] = confirmation_signature(
        api_key=SANDBOX_API_KEY,
        merchant_id=SANDBOX_MERCHANT_ID,
        reference_sale=changed["reference_sale"],
        value=changed["value"],
        currency=changed["currency"],
        state_pol=changed["state_pol"],
    )
    return changed


@pytest.mark.parametrize(
    ("method", "action", "status", "credits"),
    [
        (PSE, "approve", "completed", "8.00"),
        (CASH, "approve", "completed", "8.00"),
        (PSE, "decline", "failed", "0.00"),
        (CASH, "expire", "expired", "0.00"),
    ],
    ids=["pse-approved", "cash-approved", "pse-declined", "cash-expired"],
)
def test_a_payu_confirmation_settles_the_purchase_once(
    service: RunningService, method: dict[str, Any], action: str, status: str, credits: str
) -> None:
    key = service.admin_key()
    purchase = _buy(service, key, method)
    simulator = _simulator(service)
    order = simulator.orders[purchase["gateway_reference"]]
    assert order.asked.reference == purchase["reference"]
    assert (order.asked.value, order.asked.currency) == (Decimal("50000"), "COP")
    assert purchase["next_action"]["type"] == "redirect"
    assert purchase["next_action"]["url"].startswith(service.base_url + "/sandbox/payu/")

    settled = service.call("POST", f"/v1/sandbox/purchases/{purchase['id']}/{action}", key)

    assert settled.status_code == 200, settled.text
    assert settled.json()["result"]["delivered_status"] == 200
    assert settled.json()["purchase"]["status"] == status
    [delivery] = simulator.deliveries
    assert delivery.path == "/v1/webhooks/payu"
    fields = dict(parse_qsl(delivery.body.decode("ascii")))
    assert fields["value"] == "50000.00"
    again = requests.post(
        service.base_url + delivery.path, data=delivery.body, headers=delivery.headers, timeout=30
    )
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "duplicate"
    assert service.call("GET", f"/v1/purchases/{purchase['id']}", key).json()["status"] == status
    assert _credits(service, key, purchase) == credits


def test_late_or_reordered_confirmations_do_not_undo_an_approval(service: RunningService) -> None:
    key = service.admin_key()
    purchase = _buy(service, key, PSE)
    service.call("POST", f"/v1/sandbox/purchases/{purchase['id']}/approve", key)
    [delivery] = _simulator(service).deliveries
    approved = dict(parse_qsl(delivery.body.decode("ascii")))

    # A pending report (7) and a payer's declined retry (a new transaction id) arriving late.
    pending = _confirm(service, _signed(approved, state_pol="7", transaction_id="retry-1"))
    declined = _confirm(
        service,
        _signed(
            approved,
            state_pol="6",
            transaction_id="retry-2",
            response_message_pol="ENTITY_DECLINED",
            response_code_pol="5",
        ),
    )

    assert pending.status_code == 200, pending.text
    assert declined.status_code == 200, declined.text
    assert (pending.json()["status"], declined.json()["status"]) == ("ignored", "ignored")
    shown = service.call("GET", f"/v1/purchases/{purchase['id']}", key).json()
    assert shown["status"] == "completed"
    assert _credits(service, key, purchase) == "8.00"


def test_an_approval_of_another_amount_is_a_conflict_without_credits(
    service: RunningService,
) -> None:
    key = service.admin_key()
    purchase = _buy(service, key, PSE)
    order = _simulator(service).orders[purchase["gateway_reference"]]
    fields = _signed(
        {
            "merchant_id": SANDBOX_MERCHANT_ID,
            "reference_sale": purchase["reference"],
            "reference_pol": purchase["gateway_reference"],
            "transaction_id": order.charge.id,
            "currency": "COP",
        },
        value="40000.00",
        state_pol="4",
        response_message_pol="APPROVED",
    )

    answer = _confirm(service, fields)

    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "conflict"
    assert _credits(service, key, purchase) == "0.00"
    shown = service.call("GET", f"/v1/purchases/{purchase['id']}", key).json()
    assert shown["status"] != "completed"


@pytest.mark.parametrize("value", ["50000.00", "150.00"])
def test_a_sign_over_the_value_as_posted_is_refused(service: RunningService, value: str) -> None:
    """The confirmation signs ``new_value`` (``150.00`` -> ``150.0``): a sign over ``150.00``
    as posted is not PayU's and is refused, nothing stored."""
    key = service.admin_key()
    purchase = _buy(service, key, PSE)
    fields = {
        "merchant_id": SANDBOX_MERCHANT_ID,
        "reference_sale": purchase["reference"],
        "reference_pol": purchase["gateway_reference"],
        "transaction_id": "forged-1",
        "state_pol": "4",
        "value": value,
        "currency": "COP",
    }
    plain = "~".join(
        (SANDBOX_API_KEY, SANDBOX_MERCHANT_ID, purchase["reference"], value, "COP", "4")
    )
    fields["sign"] = hashlib.md5(plain.encode(), usedforsecurity=False).hexdigest()

    answer = _confirm(service, fields)

    assert answer.status_code == 400, answer.text
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert _credits(service, key, purchase) == "0.00"


def test_pse_banks_come_from_payu_when_it_is_the_pse_provider(service: RunningService) -> None:
    answer = service.call("GET", "/v1/pse/banks?country=CO")

    assert answer.status_code == 200, answer.text
    listing = answer.json()
    assert listing["gateway"] == "payu"
    assert [bank["code"] for bank in listing["banks"]] == ["1001", "1007", "1051"]


def test_a_pse_payment_cannot_be_refunded_and_nothing_is_booked(service: RunningService) -> None:
    key = service.admin_key()
    purchase = _buy(service, key, PSE)
    service.call("POST", f"/v1/sandbox/purchases/{purchase['id']}/approve", key)

    refused = service.call("POST", f"/v1/purchases/{purchase['id']}/refunds", key, {})

    assert refused.status_code == 422, refused.text
    refunds = service.call("GET", f"/v1/purchases/{purchase['id']}", key).json()
    assert refunds["status"] == "completed"
    assert _credits(service, key, purchase) == "8.00"


def _card(service: RunningService, holder: str) -> dict[str, Any]:
    """A card stored at the PayU simulator as the payer's browser would (``CREATE_TOKEN``)."""
    answer = requests.post(
        service.base_url + "/sandbox/payu/payments-api/4.0/service.cgi",
        json={
            "language": "es",
            "command": "CREATE_TOKEN",
            "merchant": {"apiKey": SANDBOX_API_KEY, "apiLogin": SANDBOX_API_LOGIN},
            "creditCardToken": {
                "payerId": "ana",
                "name": holder,
                "identificationNumber": "1020304050",
                "paymentMethod": "VISA",
                "number": "4097440000000004",
                "expirationDate": "2030/05",
            },
        },
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    token = answer.json()["creditCardToken"]["creditCardTokenId"]
    return {"payment_method": "card", "payment_token": token}


def _buy_by_card(service: RunningService, key: str, holder: str) -> dict[str, Any]:
    product = service.call("POST", "/v1/products", key, PACKAGE).json()
    body = {
        "product_id": product["id"],
        "customer": {"email": "ana@example.com", "name": "Ana"},
        "country": "CO",
        **_card(service, holder),
    }
    purchase = service.call("POST", "/v1/purchases", key, body)
    assert purchase.status_code == 201, purchase.text
    started: dict[str, Any] = purchase.json()
    assert started["gateway"] == "payu"
    return started


@pytest.mark.parametrize(
    ("holder", "status", "credits"),
    [("APPROVED", "completed", "8.00"), ("REJECTED", "failed", "0.00")],
)
def test_a_card_is_settled_at_once_by_its_holders_sandbox_name(
    service: RunningService, holder: str, status: str, credits: str
) -> None:
    key = service.admin_key()
    purchase = _buy_by_card(service, key, holder)
    assert purchase["status"] == status
    assert purchase["next_action"] is None
    assert _credits(service, key, purchase) == credits


def test_an_approved_card_payment_is_refunded_whole_at_payu(service: RunningService) -> None:
    key = service.admin_key()
    purchase = _buy_by_card(service, key, "APPROVED")

    refund = service.call("POST", f"/v1/purchases/{purchase['id']}/refunds", key, {})

    assert refund.status_code == 201, refund.text
    assert refund.json()["status"] == "succeeded"
    order = _simulator(service).orders[purchase["gateway_reference"]]
    assert order.status == "REFUNDED"
    assert [child.type for child in order.children] == ["REFUND"]
    assert _simulator(service).refunded(purchase["gateway_reference"]).amount == Decimal(50000)
    shown = service.call("GET", f"/v1/purchases/{purchase['id']}", key).json()
    assert shown["status"] == "refunded"


def test_a_pending_card_payment_is_voided_when_the_purchase_is_cancelled(
    service: RunningService,
) -> None:
    key = service.admin_key()
    purchase = _buy_by_card(service, key, "PENDING")
    assert purchase["status"] == "processing"

    cancelled = service.call("POST", f"/v1/purchases/{purchase['id']}/cancel", key)

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    order = _simulator(service).orders[purchase["gateway_reference"]]
    assert order.status == "CANCELLED"
    assert [child.type for child in order.children] == ["VOID"]
    assert _credits(service, key, purchase) == "0.00"


def test_credentials_and_a_base_url_talk_to_another_services_simulator(
    service: RunningService, database: Engine
) -> None:
    """A second service with PayU credentials and ``PAYMENTS_PAYU_BASE_URL`` at the first one's
    ``/sandbox/payu`` charges there; a sync reads the order back from that simulator."""
    env = {
        "PAYMENTS_DATABASE_URL": database.url.render_as_string(hide_password=False),
        "PAYMENTS_ROUTING": "CO: payu; *: stripe",
        "PAYMENTS_PAYU_MERCHANT_ID": SANDBOX_MERCHANT_ID,
        "PAYMENTS_PAYU_ACCOUNT_ID": "512321",
        "PAYMENTS_PAYU_API_KEY": SANDBOX_API_KEY,
        "PAYMENTS_PAYU_API_LOGIN": SANDBOX_API_LOGIN,
        "PAYMENTS_PAYU_BASE_URL": service.base_url + "/sandbox/payu",
    }
    with running_service(env) as client:
        key = client.admin_key()
        purchase = _buy(client, key, PSE)
        assert client.container.sandbox().payu_simulator.orders == {}
        remote = _simulator(service)
        assert remote.orders[purchase["gateway_reference"]].asked.reference == purchase["reference"]

        remote.approve(purchase["gateway_reference"])
        synced = client.call("POST", f"/v1/purchases/{purchase['id']}/sync", key)

        assert synced.status_code == 200, synced.text
        assert synced.json()["purchase"]["status"] == "completed"
        assert _credits(client, key, purchase) == "8.00"
