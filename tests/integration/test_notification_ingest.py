"""Ingest mode (decision 0042): a delivery is stored and answered ``received``, and the worker's
``InboxApplier`` books it later through the same apply step, on SQLite and PostgreSQL."""

from __future__ import annotations

import functools
from decimal import Decimal

import pytest
import requests
from sqlalchemy import Engine, func, select

from payments.adapters.memory import FakeGateway, FixedClock
from payments.adapters.sql.tables import ledger_entries, purchases, webhook_inbox
from payments.domain.errors import StorageUnavailableError
from payments.domain.services.inbox_applier import InboxApplier
from payments.domain.services.notifications import NotificationService, Receipt
from payments.testing import Wired
from tests.integration.deliveries import (
    MERCHANT,
    Delivery,
    OneLookupFails,
    StoreGone,
    approvals,
    inbox_by_status,
    wiring_of,
)
from tests.integration.service import (
    payments_env,
    run_payments,
    running_service,
    together,
    use_cases_on,
)
from tests.integration.test_quickstart import PACKAGE


class Ingest:
    """The use cases on one database, the notifications in ingest mode, and the applier."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.clock, self.gateway = FixedClock(), FakeGateway("fake")
        self.wired: Wired = use_cases_on(engine, self.gateway, self.clock)
        self.notifications = NotificationService(self.wired.notifications.wiring, ingest=True)
        self.applier = InboxApplier(self.notifications)

    def approvals(self, count: int) -> list[Delivery]:
        return approvals(self.wired, self.gateway, count)

    def receive(self, delivery: Delivery) -> str:
        return self.notifications.receive(self.gateway.name, *delivery).status.value

    def count(self, query: object) -> int:
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())  # type: ignore[call-overload]

    def inbox(self) -> dict[str, int]:
        return inbox_by_status(self.engine)

    def completed(self) -> int:
        query = select(func.count()).select_from(purchases)
        return self.count(query.where(purchases.c.status == "completed"))


@pytest.fixture
def ingest(database: Engine) -> Ingest:
    return Ingest(database)


def test_deliveries_are_stored_and_answered_received_then_the_worker_books_them(
    ingest: Ingest, caplog: pytest.LogCaptureFixture
) -> None:
    deliveries = ingest.approvals(5)

    answers = together([functools.partial(ingest.receive, d) for d in deliveries])

    assert answers == ["received"] * 5
    assert ingest.inbox() == {"received": 5}
    assert ingest.completed() == 0
    ledger = select(func.count()).select_from(ledger_entries)
    assert ingest.count(ledger) == 0

    assert ingest.applier.apply_received() == {"processed": 5}
    assert "each alone" not in caplog.text  # one batch, not the one-by-one fallback

    assert ingest.inbox() == {"processed": 5}
    assert ingest.completed() == 5
    assert ingest.count(ledger) == 10
    for number in range(5):
        account = ingest.wired.accounts.get(f"cus_{number}", MERCHANT)
        assert account.credits == Decimal("8.00")
    assert ingest.applier.apply_received() == {}


def test_a_redelivery_is_a_duplicate_whether_or_not_it_was_applied_yet(ingest: Ingest) -> None:
    first, second = ingest.approvals(2)
    assert ingest.receive(first) == "received"

    assert ingest.receive(first) == "duplicate"
    answers = ingest.notifications.store_all(
        [ingest.notifications.verify(ingest.gateway.name, *d) for d in (first, second)]
    )
    assert [a.status.value for a in answers if isinstance(a, Receipt)] == [
        "duplicate",
        "received",
    ]
    ingest.applier.apply_received()
    assert ingest.receive(first) == "duplicate"
    assert ingest.inbox() == {"processed": 2}
    assert ingest.completed() == 2


def test_a_batch_is_applied_at_most_up_to_its_limit_oldest_first(ingest: Ingest) -> None:
    deliveries = ingest.approvals(3)
    for delivery in deliveries:
        assert ingest.receive(delivery) == "received"
        ingest.clock.advance(seconds=1)

    assert ingest.applier.apply_received(limit=2) == {"processed": 2}
    assert ingest.inbox() == {"processed": 2, "received": 1}
    with ingest.engine.connect() as connection:
        left = connection.execute(
            select(webhook_inbox.c.event_id).where(webhook_inbox.c.status == "received")
        ).scalar_one()
    last = ingest.notifications.verify(ingest.gateway.name, *deliveries[-1])
    assert left == last.message.event_id
    assert ingest.applier.apply_received(limit=2) == {"processed": 1}


def test_a_message_that_fails_is_kept_for_the_retries_and_the_others_are_booked(
    ingest: Ingest,
) -> None:
    deliveries = ingest.approvals(3)
    for delivery in deliveries:
        assert ingest.receive(delivery) == "received"
    failing = ingest.notifications.verify(ingest.gateway.name, *deliveries[1]).notification
    assert failing.payment is not None
    OneLookupFails.failing = failing.payment.gateway_reference or ""
    wiring = wiring_of(OneLookupFails, ingest.engine, ingest.gateway, ingest.clock)
    applier = InboxApplier(NotificationService(wiring, ingest=True))

    assert applier.apply_received() == {"processed": 2, "failed": 1}

    assert ingest.inbox() == {"processed": 2, "failed": 1}
    assert ingest.completed() == 2
    ingest.clock.advance(seconds=60)
    assert ingest.wired.notifications.retry_due() == {"processed": 1}
    assert ingest.completed() == 3


def test_a_delivery_that_cannot_be_stored_is_refused_so_that_the_provider_sends_it_again(
    ingest: Ingest,
) -> None:
    (delivery,) = ingest.approvals(1)
    wiring = wiring_of(StoreGone, ingest.engine, ingest.gateway, ingest.clock)
    notifications = NotificationService(wiring, ingest=True)

    with pytest.raises(StorageUnavailableError):
        notifications.receive(ingest.gateway.name, *delivery)
    assert ingest.inbox() == {}


def test_over_http_stripe_is_answered_received_and_payments_worker_books_it(
    database: Engine,
) -> None:
    url = database.url.render_as_string(hide_password=False)
    ingest_env = {"PAYMENTS_DATABASE_URL": url, "PAYMENTS_NOTIFICATION_MODE": "ingest"}
    created = run_payments("api-keys", "create", "--role", "admin", env=payments_env(url))
    assert created.returncode == 0, created.stderr
    auth = {"Authorization": f"Bearer {created.stdout.splitlines()[-1]}"}
    with running_service(ingest_env) as service:
        api = service.base_url
        product = requests.post(api + "/v1/products", json=PACKAGE, headers=auth, timeout=30)
        assert product.status_code == 201, product.text
        checkout = {"product_id": product.json()["id"], "customer_id": "cus_ana", "country": "PT"}
        purchase = requests.post(api + "/v1/purchases", json=checkout, headers=auth, timeout=30)
        assert purchase.status_code == 201, purchase.text
        purchase_id = purchase.json()["id"]

        approved = requests.post(
            f"{api}/v1/sandbox/purchases/{purchase_id}/approve", headers=auth, timeout=30
        )

        assert approved.status_code == 200, approved.text
        assert approved.json()["result"]["delivered_status"] == 200
        assert approved.json()["purchase"]["status"] == "processing"  # stored, not applied yet
        worker = run_payments(
            "worker", "--rounds", "1", "--interval", "0", env=payments_env(url, **ingest_env)
        )
        assert worker.returncode == 0, worker.stderr
        booked = requests.get(f"{api}/v1/purchases/{purchase_id}", headers=auth, timeout=30)
        assert booked.json()["status"] == "completed"
        account = requests.get(api + "/v1/accounts/cus_ana", headers=auth, timeout=30)
        assert account.json()["credits"] == "8.00"
