"""Exactly-once under races: many concurrent deliveries of one payment's success, over real HTTP.

The simulators sign the notifications exactly as their provider does; a recorder captures them
instead of delivering them, and the test then fires them at ``POST /v1/webhooks/{provider}`` from
many threads at once, on SQLite and on PostgreSQL. Whatever the interleaving, the purchase
completes once and the ledger holds one credit entry and one money entry.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from dependency_injector import providers
from sqlalchemy import Engine, func, select

from payments.adapters.sql.tables import ledger_entries, purchase_audit
from payments.containers import Container
from payments.sandbox.environment import build_sandbox
from tests.integration.deliveries import inbox_by_status
from tests.integration.service import RunningService, running_service

PACKAGE = {
    "name": "8 Hour Premium Package",
    "kind": "package",
    "price": {"amount": "79.99", "currency": "EUR"},
    "credits": "8",
    "validity_days": 60,
}


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Recorder:
    """A ``Deliver`` that keeps what the simulators would send instead of sending it."""

    sent: list[Recorded] = field(default_factory=list)

    def __call__(self, path: str, headers: dict[str, str], body: bytes) -> int:
        self.sent.append(Recorded(path, dict(headers), body))
        return 202


def _recording(recorder: Recorder) -> Any:
    def configure(container: Container) -> None:
        container.sandbox.override(
            providers.Singleton(
                build_sandbox, container.settings, container.http_session, deliver=recorder
            )
        )

    return configure


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def service(database: Engine, recorder: Recorder) -> Iterator[RunningService]:
    url = database.url.render_as_string(hide_password=False)
    with running_service({"PAYMENTS_DATABASE_URL": url}, _recording(recorder)) as running:
        yield running


def _start_purchase(service: RunningService, key: str, gateway: str, customer: str) -> str:
    product = service.call("POST", "/v1/products", key, PACKAGE)
    assert product.status_code == 201, product.text
    purchase = service.call(
        "POST",
        "/v1/purchases",
        key,
        {
            "product_id": product.json()["id"],
            "customer_id": customer,
            "country": "PT",
            "gateway": gateway,
        },
    )
    assert purchase.status_code == 201, purchase.text
    assert purchase.json()["gateway"] == gateway
    return str(purchase.json()["id"])


def _fire_together(service: RunningService, deliveries: list[Recorded]) -> list[dict[str, Any]]:
    """POST every delivery from its own thread, all released at the same instant."""
    barrier = threading.Barrier(len(deliveries))
    answers: list[dict[str, Any]] = [{} for _ in deliveries]

    def send(index: int, delivery: Recorded) -> None:
        try:
            with requests.Session() as http:
                barrier.wait()
                response = http.post(
                    service.base_url + delivery.path,
                    data=delivery.body,
                    headers=delivery.headers,
                    timeout=60,
                )
            answers[index] = {"status_code": response.status_code, **response.json()}
        except Exception as error:  # reported by the assertions of the test
            answers[index] = {"status_code": None, "error": repr(error)}

    threads = [threading.Thread(target=send, args=(i, d)) for i, d in enumerate(deliveries)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def _with_new_event_id(delivery: Recorded, event_id: str, sign: Any, header: str) -> Recorded:
    """The same notification as another event (a provider's second event for one payment)."""
    event = json.loads(delivery.body)
    event["id"] = event_id
    body = json.dumps(event).encode()
    return Recorded(delivery.path, {**delivery.headers, header: sign(int(time.time()), body)}, body)


def _ledger(engine: Engine, customer: str) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            select(ledger_entries.c.asset, ledger_entries.c.amount)
            .where(ledger_entries.c.customer_id == customer)
            .order_by(ledger_entries.c.asset)
        ).all()
    return [(asset, format(amount.normalize(), "f")) for asset, amount in rows]


def _completions(engine: Engine, purchase_id: str) -> int:
    with engine.connect() as connection:
        count = connection.execute(
            select(func.count())
            .select_from(purchase_audit)
            .where(purchase_audit.c.purchase_id == purchase_id)
            .where(purchase_audit.c.to_status == "completed")
        ).scalar_one()
    return int(count)


def test_twenty_identical_and_twenty_distinct_stripe_successes_credit_once(
    service: RunningService, recorder: Recorder, database: Engine
) -> None:
    admin = service.admin_key()
    purchase_id = _start_purchase(service, admin, "stripe", "cus_race")
    approved = service.call("POST", f"/v1/sandbox/purchases/{purchase_id}/approve", admin)
    assert approved.status_code == 200, approved.text
    assert approved.json()["purchase"]["status"] != "completed"  # recorded, not delivered

    (first,) = recorder.sent
    sign = service.container.sandbox().stripe_simulator.sign
    # 19 more events with their own ids, for the same captured payment.
    others = [
        _with_new_event_id(first, f"evt_race_{n}", sign, "Stripe-Signature") for n in range(19)
    ]
    deliveries = [first] * 20 + others + [others[0]]

    answers = _fire_together(service, deliveries)

    assert all(a["status_code"] == 200 for a in answers), answers
    statuses = [a["status"] for a in answers]
    assert statuses.count("processed") == 1, statuses
    assert set(statuses) <= {"processed", "duplicate"}, statuses
    assert _ledger(database, "cus_race") == [("EUR", "79.99"), ("credits", "8")]
    assert _completions(database, purchase_id) == 1
    assert inbox_by_status(database) == {"processed": 20}
    account = service.call("GET", "/v1/accounts/cus_race", admin).json()
    assert account["credits"] == "8.00"
    assert account["total_paid"] == [{"amount": "79.99", "currency": "EUR"}]


def test_five_identical_stripe_successes_and_a_second_event_id_credit_once(
    service: RunningService, recorder: Recorder, database: Engine
) -> None:
    admin = service.admin_key()
    purchase_id = _start_purchase(service, admin, "stripe", "cus_stripe_race")
    approved = service.call("POST", f"/v1/sandbox/purchases/{purchase_id}/approve", admin)
    assert approved.status_code == 200, approved.text
    assert approved.json()["result"]["type"] == "payment_intent.succeeded"
    (succeeded,) = recorder.sent
    assert succeeded.path == "/v1/webhooks/stripe"
    assert "Stripe-Signature" in succeeded.headers

    stripe_simulator = service.container.sandbox().stripe_simulator
    second = _with_new_event_id(
        succeeded, "evt_second_for_same_intent", stripe_simulator.sign, "Stripe-Signature"
    )

    answers = _fire_together(service, [succeeded] * 5 + [second])

    assert all(a["status_code"] == 200 for a in answers), answers
    statuses = sorted(a["status"] for a in answers)
    assert statuses.count("processed") == 1, statuses
    assert set(statuses) <= {"processed", "duplicate"}, statuses
    assert _ledger(database, "cus_stripe_race") == [("EUR", "79.99"), ("credits", "8")]
    assert _completions(database, purchase_id) == 1
    assert inbox_by_status(database) == {"processed": 2}
    purchase = service.call("GET", f"/v1/purchases/{purchase_id}", admin).json()
    assert purchase["status"] == "completed"


def test_a_tampered_stripe_event_is_refused_and_stores_nothing(
    service: RunningService, recorder: Recorder, database: Engine
) -> None:
    admin = service.admin_key()
    purchase_id = _start_purchase(service, admin, "stripe", "cus_tamper")
    service.call("POST", f"/v1/sandbox/purchases/{purchase_id}/approve", admin)
    (succeeded,) = recorder.sent
    tampered = Recorded(succeeded.path, succeeded.headers, succeeded.body.replace(b"7999", b"7998"))
    assert tampered.body != succeeded.body

    (answer,) = _fire_together(service, [tampered])

    assert answer["status_code"] == 400
    assert answer["code"] == "invalid_signature"
    assert inbox_by_status(database) == {}
    assert _ledger(database, "cus_tamper") == []
    purchase = service.call("GET", f"/v1/purchases/{purchase_id}", admin).json()
    assert purchase["status"] != "completed"
