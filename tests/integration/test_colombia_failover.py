"""Failover between Colombian providers, end to end over real HTTP on loopback.

Routing ``CO: wompi, payu``: the real Wompi adapter is pointed by its keys and
``PAYMENTS_WOMPI_BASE_URL`` at a loopback address we control, the real PayU adapter at the
service's own PayU simulator. Checkout moves on to PayU only when Wompi provably never got the
request (the connection was refused); a Wompi that got the request and did not answer in time
may have charged, so the purchase stays pending at Wompi and reconciliation settles it from
Wompi's lookup by our reference (decision 0003).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from payments.adapters.gateways.wompi.settings import (
    SANDBOX_EVENTS_SECRET,
    SANDBOX_INTEGRITY_SECRET,
    SANDBOX_PRIVATE_KEY,
    SANDBOX_PUBLIC_KEY,
)
from payments.sandbox.payu_simulator import PayUSimulator
from payments.sandbox.wompi_simulator import WompiSimulator
from tests.integration.service import RunningService, free_port, running_service, serving

PACKAGE = {
    "name": "8 Hour Premium Package",
    "kind": "package",
    "price": {"amount": "50000.00", "currency": "COP"},
    "credits": "8",
    "validity_days": 60,
}
PAYER = {"document_type": "CC", "document_number": "1020304050", "person_type": "natural"}
WOMPI_KEYS = {
    "PAYMENTS_WOMPI_PUBLIC_KEY": SANDBOX_PUBLIC_KEY,
    "PAYMENTS_WOMPI_PRIVATE_KEY": SANDBOX_PRIVATE_KEY,
    "PAYMENTS_WOMPI_INTEGRITY_SECRET": SANDBOX_INTEGRITY_SECRET,
    "PAYMENTS_WOMPI_EVENTS_SECRET": SANDBOX_EVENTS_SECRET,
}


def _service(database: Engine, wompi_base_url: str) -> Any:
    """The service routing Colombia to Wompi (at ``wompi_base_url``), then to PayU (its
    simulator: no PayU credentials)."""
    env = {
        "PAYMENTS_DATABASE_URL": database.url.render_as_string(hide_password=False),
        "PAYMENTS_ROUTING": "CO: wompi, payu; *: stripe",
        "PAYMENTS_WOMPI_BASE_URL": wompi_base_url,
        **WOMPI_KEYS,
    }
    return running_service(env)


def _buy_by_pse(service: RunningService, key: str, bank_code: str) -> Any:
    product = service.call("POST", "/v1/products", key, PACKAGE)
    assert product.status_code == 201, product.text
    body = {
        "product_id": product.json()["id"],
        "customer": {"email": "ana@example.com", "name": "Ana"},
        "country": "CO",
        "payment_method": "pse",
        "bank_code": bank_code,
        "payer": PAYER,
    }
    return service.call("POST", "/v1/purchases", key, body)


def _credits(service: RunningService, key: str, customer_id: str) -> str:
    account = service.call("GET", f"/v1/accounts/{customer_id}", key)
    assert account.status_code == 200, account.text
    return str(account.json()["credits"])


def _payu(service: RunningService) -> PayUSimulator:
    simulator: PayUSimulator = service.container.sandbox().payu_simulator
    return simulator


def test_a_refused_connection_fails_over_and_the_second_provider_charges_once(
    database: Engine,
) -> None:
    closed = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens: every connection is refused
    with _service(database, closed) as service:
        key = service.admin_key()

        answer = _buy_by_pse(service, key, "1007")  # a bank of PayU's list

        assert answer.status_code == 201, answer.text
        purchase = answer.json()
        assert purchase["routing"]["chain"] == ["wompi", "payu"]
        assert purchase["gateway"] == "payu"
        assert purchase["status"] == "processing"
        simulator = _payu(service)
        [order] = simulator.orders.values()  # one SUBMIT_TRANSACTION, one order
        assert str(order.id) == purchase["gateway_reference"]
        assert order.asked.reference == purchase["reference"]

        approved = service.call("POST", f"/v1/sandbox/purchases/{purchase['id']}/approve", key)

        assert approved.status_code == 200, approved.text
        assert approved.json()["result"]["delivered_status"] == 200  # the signed confirmation
        [delivery] = simulator.deliveries
        assert delivery.path == "/v1/webhooks/payu"
        shown = service.call("GET", f"/v1/purchases/{purchase['id']}", key).json()
        assert (shown["status"], shown["gateway"]) == ("completed", "payu")
        synced = service.call("POST", f"/v1/purchases/{purchase['id']}/sync", key)
        assert synced.status_code == 200, synced.text
        assert len(simulator.orders) == 1
        assert _credits(service, key, purchase["customer_id"]) == "8.00"


class _StallingWompi:
    """Wompi's API in front of a Wompi simulator of its own, whose new transactions are made
    and then left unanswered until ``release``: a request that reached the provider, whose
    answer was lost. Its events go nowhere, so only a lookup can tell the service."""

    def __init__(self, base_url: str) -> None:
        self.simulator = WompiSimulator(
            public_key=SANDBOX_PUBLIC_KEY,
            private_key=SANDBOX_PRIVATE_KEY,
            integrity_secret=SANDBOX_INTEGRITY_SECRET,
            events_secret=SANDBOX_EVENTS_SECRET,
            deliver=None,
            payer_base=base_url,
        )
        self._api = self.simulator.wsgi_app()
        self.stalled = threading.Event()
        self._release = threading.Event()

    def release(self) -> None:
        self._release.set()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"] == "/v1/transactions":
            answer = b"".join(self._api(environ, lambda status, headers, info=None: None))
            self.stalled.set()
            self._release.wait(60)  # the client has given up long before
            start_response("504 Gateway Timeout", [("Content-Length", str(len(answer)))])
            return [answer]
        result: Iterable[bytes] = self._api(environ, start_response)
        return result


@pytest.fixture
def stalling_wompi() -> Iterator[tuple[str, _StallingWompi]]:
    fronts: list[_StallingWompi] = []

    def app(base_url: str) -> _StallingWompi:
        fronts.append(_StallingWompi(base_url))
        return fronts[0]

    with serving(app) as base_url:
        try:
            yield base_url + "/v1", fronts[0]
        finally:
            fronts[0].release()


def test_a_timeout_after_sending_never_fails_over_and_reconciliation_settles_the_purchase(
    database: Engine, stalling_wompi: tuple[str, _StallingWompi]
) -> None:
    wompi_url, wompi = stalling_wompi
    with _service(database, wompi_url) as service:
        key = service.admin_key()

        answer = _buy_by_pse(service, key, "1")  # Wompi's approving bank

        assert wompi.stalled.is_set()
        assert answer.status_code == 503, answer.text
        assert answer.headers["Content-Type"].startswith("application/problem+json")
        purchase_id = answer.json()["purchase_id"]
        assert _payu(service).orders == {}  # PayU never called: Wompi may have charged
        pending = service.call("GET", f"/v1/purchases/{purchase_id}", key).json()
        assert (pending["status"], pending["gateway"]) == ("pending", "wompi")
        assert pending["gateway_reference"] is None
        [transaction] = wompi.simulator.transactions.values()
        assert transaction.reference == pending["reference"]
        assert transaction.amount_in_cents == 5000000

        wompi.simulator.approve(transaction.id)  # the payer paid; the event never arrives
        report = service.container.purchases().reconcile(
            expire_after=timedelta(hours=24), look_up_after=timedelta(0)
        )

        assert report.settled == [purchase_id]
        settled = service.call("GET", f"/v1/purchases/{purchase_id}", key).json()
        assert (settled["status"], settled["gateway"]) == ("completed", "wompi")
        assert settled["gateway_reference"] == transaction.id
        again = service.call("POST", f"/v1/purchases/{purchase_id}/sync", key)
        assert again.status_code == 200, again.text
        assert _payu(service).orders == {}
        assert len(wompi.simulator.transactions) == 1
        assert _credits(service, key, pending["customer_id"]) == "8.00"
