"""Two workers sweeping at once never call a provider twice for one purchase or one refund: the
reconciliation sweep and the refund resend claim their rows (``FOR UPDATE SKIP LOCKED`` and a
lease on PostgreSQL; SQLite's one writer at a time), as the inbox retries do."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import Engine

from payments.adapters.memory import FakeGateway, FixedClock
from payments.domain.gateway import RefundRequest, RefundResult
from payments.domain.money import Money
from payments.domain.purchase import GatewayObservation
from payments.domain.services.purchases import CreatePurchase
from tests.integration.service import use_cases_on
from tests.integration.test_refund_retry import MERCHANT, Wired

T = TypeVar("T")
SWEEPERS = 2


class CountingGateway(FakeGateway):
    """The fake provider, counting lookups by our reference and refunds by refund id; each call
    lingers a moment, as a provider's answer does, so that the sweeps overlap."""

    def __init__(self) -> None:
        super().__init__("fake")
        self.lock = threading.Lock()
        self.lookups: Counter[str] = Counter()
        self.refunds: Counter[str] = Counter()

    def lookup(self, reference: str, gateway_reference: str | None) -> GatewayObservation | None:
        with self.lock:
            self.lookups[reference] += 1
        time.sleep(0.01)
        return super().lookup(reference, gateway_reference)

    def refund(self, request: RefundRequest) -> RefundResult:
        with self.lock:
            self.refunds[request.refund_id] += 1
        time.sleep(0.01)
        return super().refund(request)


def _wired(engine: Engine) -> tuple[Wired, CountingGateway]:
    clock, gateway = FixedClock(), CountingGateway()
    cases = use_cases_on(engine, gateway, clock)
    wired = Wired(
        engine=engine,
        gateway=gateway,
        clock=clock,
        purchases=cases.purchases,
        refunds=cases.refunds,
        notifications=cases.notifications,
        catalog=cases.catalog,
    )
    return wired, gateway


def _at_once(sweep: Callable[[], T]) -> list[T]:
    """``sweep`` from SWEEPERS threads released together; their results."""
    barrier = threading.Barrier(SWEEPERS)
    results: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            results.append(sweep())
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(SWEEPERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results


def test_two_concurrent_reconciliation_sweeps_look_each_purchase_up_once(
    database: Engine,
) -> None:
    wired, gateway = _wired(database)
    product = wired.catalog.create(
        name="1 Hour", kind="package", price=Money("5.00", "EUR"), credits="1", validity_days=30
    )
    references = []
    for n in range(12):
        purchase = wired.purchases.create(
            CreatePurchase(product_id=product.id, country="PT", customer_id=f"cus_{n}"), MERCHANT
        )
        references.append(purchase.reference)
        if n % 2 == 0:  # captured, its notification lost
            assert purchase.gateway_reference is not None
            gateway.approve(purchase.gateway_reference)
    gateway.drain()
    wired.clock.advance(minutes=20)

    reports = _at_once(lambda: wired.purchases.reconcile(expire_after=timedelta(hours=24)))

    assert gateway.lookups == Counter(dict.fromkeys(references, 1))
    assert sum(report.looked_up for report in reports) == 12
    assert sorted(p for report in reports for p in report.settled) == [
        f"pur_{n:06d}" for n in range(1, 13)
    ]  # each one's news (captured, or processing) applied by one sweep
    again = wired.purchases.reconcile(expire_after=timedelta(hours=24))
    assert again.looked_up == 0  # looked up just now: not before look_up_after has passed


def test_two_concurrent_refund_resends_send_each_refund_once(database: Engine) -> None:
    wired, gateway = _wired(database)
    refund_ids = [
        wired.refund_with_lost_answer(wired.completed_purchase(f"cus_{n}")) for n in range(6)
    ]
    gateway.refunds.clear()
    wired.clock.advance(minutes=20)

    reports = _at_once(wired.refunds.retry_pending)

    assert gateway.refunds == Counter(dict.fromkeys(refund_ids, 1))
    assert sorted(r for report in reports for r in report.answered) == sorted(refund_ids)
