"""Refunds whose provider answer was lost, on SQLite and PostgreSQL: the repository finds them,
``RefundService.retry_pending`` sends them again under the same provider key (also two workers at
once), and ``payments worker`` does it as a real process against the sandbox simulator."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from payments.adapters.memory import FakeGateway, FixedClock
from payments.adapters.sql.migrate import upgrade
from payments.adapters.sql.tables import ledger_entries
from payments.adapters.sql.unit_of_work import SqlUnitOfWork
from payments.domain.access import Principal, Role
from payments.domain.errors import GatewayUnavailableError
from payments.domain.money import Money
from payments.domain.refund import Refund, RefundStatus
from payments.domain.services.catalog import CatalogService
from payments.domain.services.checkout import CreatePurchase
from payments.domain.services.notifications import NotificationService
from payments.domain.services.purchases import PurchaseService
from payments.domain.services.refunds import RESEND_WINDOW, RefundService
from payments.domain.services.settlement import Posting, book_refund
from tests.integration.service import RunningService, running_service, use_cases_on

MERCHANT = Principal(Role.MERCHANT, "key_merchant")
TEN_EUR = Money("10.00", "EUR")


@dataclass
class Wired:
    """The use cases on one real database, with the package's fake gateway."""

    engine: Engine
    gateway: FakeGateway
    clock: FixedClock
    purchases: PurchaseService
    refunds: RefundService
    notifications: NotificationService
    catalog: CatalogService

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine)

    def completed_purchase(self, customer_id: str = "cus_ana") -> str:
        product = self.catalog.create(
            name="8 Hour Premium Package",
            kind="package",
            price=Money("79.99", "EUR"),
            credits="8",
            validity_days=60,
        )
        purchase = self.purchases.create(
            CreatePurchase(product_id=product.id, country="PT", customer_id=customer_id),
            MERCHANT,
        )
        assert purchase.gateway_reference is not None
        self.gateway.approve(purchase.gateway_reference)
        for headers, body in self.gateway.drain():
            assert self.notifications.receive("fake", headers, body).status == "processed"
        return purchase.id

    def refund_with_lost_answer(self, purchase_id: str) -> str:
        """A refund the provider made whose answer never reached us (a read timeout)."""
        self.gateway.fail_next(charged=True)
        with pytest.raises(GatewayUnavailableError) as raised:
            self.refunds.refund(purchase_id, TEN_EUR, "asked", "admin")
        refund_id = raised.value.details["refund_id"]
        assert isinstance(refund_id, str)
        return refund_id

    def refund(self, refund_id: str) -> Refund:
        with self.uow() as uow:
            refund = uow.refunds.get(refund_id)
        assert refund is not None
        return refund

    def ledger_rows(self) -> int:
        with self.engine.connect() as connection:
            return int(
                connection.execute(select(func.count()).select_from(ledger_entries)).scalar_one()
            )


@pytest.fixture
def wired(database: Engine) -> Wired:
    clock, gateway = FixedClock(), FakeGateway("fake")
    use_cases = use_cases_on(database, gateway, clock)
    return Wired(
        engine=database,
        gateway=gateway,
        clock=clock,
        purchases=use_cases.purchases,
        refunds=use_cases.refunds,
        notifications=use_cases.notifications,
        catalog=use_cases.catalog,
    )


def test_unanswered_refunds_are_listed_oldest_first_within_the_window(wired: Wired) -> None:
    purchase_id = wired.completed_purchase()
    t0 = wired.clock.now()
    kinds = {
        "rfd_too_old": (t0 - timedelta(hours=30), RefundStatus.PENDING, None),
        "rfd_old": (t0 - timedelta(hours=3), RefundStatus.PENDING, None),
        "rfd_older": (t0 - timedelta(hours=4), RefundStatus.PENDING, None),
        "rfd_answered": (t0 - timedelta(hours=3), RefundStatus.PENDING, "re_1"),
        "rfd_succeeded": (t0 - timedelta(hours=3), RefundStatus.SUCCEEDED, None),
        "rfd_failed": (t0 - timedelta(hours=3), RefundStatus.FAILED, None),
        "rfd_too_new": (t0 - timedelta(minutes=1), RefundStatus.PENDING, None),
    }
    with wired.uow() as uow:
        for refund_id, (created_at, status, reference) in kinds.items():
            uow.refunds.add(
                Refund(
                    id=refund_id,
                    purchase_id=purchase_id,
                    customer_id="cus_ana",
                    amount=Money("1.00", "EUR"),
                    reason=None,
                    status=status,
                    gateway="fake",
                    gateway_reference=reference,
                    created_at=created_at,
                    updated_at=created_at,
                )
            )
        uow.commit()

    with wired.uow() as uow:
        listed = uow.refunds.list_unanswered(
            created_after=t0 - timedelta(hours=23), created_before=t0 - timedelta(minutes=15)
        )
        first = uow.refunds.list_unanswered(
            created_after=t0 - timedelta(hours=23),
            created_before=t0 - timedelta(minutes=15),
            limit=1,
        )

    assert [r.id for r in listed] == ["rfd_older", "rfd_old"]
    assert [r.id for r in first] == ["rfd_older"]


def test_retry_records_the_lost_answer_once_and_books_nothing_more(wired: Wired) -> None:
    purchase_id = wired.completed_purchase()
    refund_id = wired.refund_with_lost_answer(purchase_id)
    booked = wired.ledger_rows()
    wired.clock.advance(minutes=20)

    report = wired.refunds.retry_pending()
    again = wired.refunds.retry_pending()

    assert report.answered == [refund_id]
    assert again.looked_at == 0
    refund = wired.refund(refund_id)
    assert refund.status is RefundStatus.SUCCEEDED
    assert refund.gateway_reference == f"fake_re_{refund_id}:refund"
    assert wired.ledger_rows() == booked
    [payment] = wired.gateway.payments.values()
    assert len(payment.refunds) == 1  # the provider replayed its answer under the same key


def test_two_workers_retrying_at_once_record_one_answer(wired: Wired) -> None:
    purchase_id = wired.completed_purchase()
    refund_id = wired.refund_with_lost_answer(purchase_id)
    booked = wired.ledger_rows()
    wired.clock.advance(minutes=20)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        barrier.wait()
        try:
            wired.refunds.retry_pending()
        except BaseException as error:  # reported by the assertions below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert wired.refund(refund_id).status is RefundStatus.SUCCEEDED
    assert wired.ledger_rows() == booked
    [payment] = wired.gateway.payments.values()
    assert len(payment.refunds) == 1
    with wired.uow() as uow:
        purchase = uow.purchases.get(purchase_id)
    assert purchase is not None
    assert purchase.refunded == TEN_EUR


def test_a_refund_older_than_the_key_lifetime_is_never_sent_again(wired: Wired) -> None:
    purchase_id = wired.completed_purchase()
    refund_id = wired.refund_with_lost_answer(purchase_id)
    wired.clock.advance(seconds=(RESEND_WINDOW + timedelta(minutes=1)).total_seconds())

    report = wired.refunds.retry_pending()

    assert report.looked_at == 0
    assert wired.refund(refund_id).status is RefundStatus.PENDING


# -- the worker as a real process ------------------------------------------------------------


@dataclass
class Deployment:
    service: RunningService
    database_url: str
    admin_key: str


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    database_url = f"sqlite:///{tmp_path / 'refunds.db'}"
    upgrade(database_url)
    with running_service({"PAYMENTS_DATABASE_URL": database_url}) as service:
        yield Deployment(service, database_url, service.admin_key())


def test_payments_worker_sends_a_refund_left_unanswered_by_a_crash_and_records_it(
    deployment: Deployment,
) -> None:
    service, key = deployment.service, deployment.admin_key
    product = service.call(
        "POST",
        "/v1/products",
        key,
        json={
            "name": "8 Hour Premium Package",
            "kind": "package",
            "price": {"amount": "79.99", "currency": "EUR"},
            "credits": "8",
            "validity_days": 60,
        },
    ).json()
    purchase = service.call(
        "POST",
        "/v1/purchases",
        key,
        json={"product_id": product["id"], "customer_id": "cus_ana", "country": "PT"},
    ).json()
    approved = service.call("POST", f"/v1/sandbox/purchases/{purchase['id']}/approve", key)
    assert approved.status_code == 200, approved.text
    # The refund was booked an hour ago, then its process died before calling the provider.
    container = service.container
    booked_at = datetime.now(UTC) - timedelta(hours=1)
    with container.unit_of_work() as uow:
        locked = uow.purchases.get(purchase["id"], for_update=True)
        assert locked is not None
        refund = Refund(
            id="rfd_crashed",
            purchase_id=locked.id,
            customer_id=locked.customer_id,
            amount=TEN_EUR,
            reason=None,
            status=RefundStatus.PENDING,
            gateway="stripe",
            created_at=booked_at,
            updated_at=booked_at,
        )
        book_refund(uow, locked, refund, Posting(booked_at, "admin", container.ids()))
        uow.commit()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAYMENTS_")}
    env["PAYMENTS_DATABASE_URL"] = deployment.database_url
    env["PAYMENTS_PUBLIC_BASE_URL"] = service.base_url

    done = subprocess.run(
        [sys.executable, "-m", "payments.entrypoints.cli", "worker", "--rounds", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    answer = service.call("GET", "/v1/refunds/rfd_crashed", key)
    assert answer.status_code == 200, answer.text
    assert answer.json()["gateway_reference"] is not None
    assert answer.json()["status"] in ("pending", "succeeded")
    listed = service.call("GET", f"/v1/purchases/{purchase['id']}/refunds", key).json()
    assert [r["id"] for r in listed["data"]] == ["rfd_crashed"]
