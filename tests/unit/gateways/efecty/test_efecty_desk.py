"""The Efecty gateway and the cash voucher desk on the in-memory fakes: a voucher per purchase,
confirmed exactly and once, a settlement file applied once, expiry, cancellation."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from payments.adapters.gateways.efecty import EfectyGateway
from payments.adapters.memory import FixedClock, InMemoryStore, InMemoryUnitOfWork
from payments.domain.access import Principal, Role
from payments.domain.cash_settlement import SettlementRow
from payments.domain.cash_voucher import VoucherStatus
from payments.domain.errors import (
    AmountMismatchError,
    ConflictError,
    ForbiddenError,
    GatewayUnavailableError,
    InvalidSignatureError,
    NotFoundError,
    UnsupportedByGatewayError,
)
from payments.domain.money import Money
from payments.domain.next_action import CashVoucherAction
from payments.domain.purchase import Purchase, PurchaseStatus
from payments.domain.services.checkout import CreatePurchase
from payments.testing import Wired, bootstrap

ADMIN = Principal(Role.ADMIN, "key_admin")
MERCHANT = Principal(Role.MERCHANT, "key_merchant")
START = datetime(2026, 12, 6, 14, 0, tzinfo=UTC)
PESOS = Money("50000", "COP")


@dataclass
class Desk:
    wired: Wired
    clock: FixedClock
    gateway: EfectyGateway

    def buy(self, price: Money = PESOS, customer_id: str = "cus_ana") -> Purchase:
        product = self.wired.catalog.create(
            name="Package", kind="package", price=price, credits="8", validity_days=60
        )
        command = CreatePurchase(
            product_id=product.id, country="CO", customer_id=customer_id, payment_method="cash"
        )
        return self.wired.purchases.create(command, MERCHANT)

    def credits(self, customer_id: str = "cus_ana") -> Decimal:
        return self.wired.accounts.get(customer_id, ADMIN).credits

    def status(self, purchase: Purchase) -> PurchaseStatus:
        return self.wired.purchases.get(purchase.id, ADMIN).status


def _desk(codes: list[str] | None = None) -> Desk:
    store, clock = InMemoryStore(), FixedClock(START)
    uow = functools.partial(InMemoryUnitOfWork, store)
    drawn = iter(codes or [])
    options = {"new_code": lambda prefix: next(drawn)} if codes else {}
    gateway = EfectyGateway(uow, clock, **options)  # type: ignore[arg-type]
    wired = bootstrap(gateways=[gateway], routing="CO+cash: efecty", store=store, clock=clock)
    return Desk(wired, clock, gateway)


@pytest.fixture
def desk() -> Desk:
    return _desk()


def _voucher(purchase: Purchase) -> CashVoucherAction:
    assert isinstance(purchase.next_action, CashVoucherAction)
    return purchase.next_action


def test_a_cash_purchase_stays_pending_with_a_voucher_of_its_exact_amount(desk: Desk) -> None:
    purchase = desk.buy()
    voucher = _voucher(purchase)
    assert purchase.status is PurchaseStatus.PENDING
    assert purchase.gateway_reference == voucher.code
    assert voucher.amount == PESOS
    assert voucher.expires_at == START + timedelta(hours=72)
    assert voucher.instructions.startswith("Paga $50.000 COP en efectivo")


def test_a_start_sent_again_answers_the_same_voucher(desk: Desk) -> None:
    purchase = desk.buy()
    lookup = desk.gateway.lookup(purchase.reference, None)
    assert lookup is None  # issued: nothing to apply, the purchase stays pending
    voucher = desk.wired.container.cash_vouchers().voucher(_voucher(purchase).code)
    assert voucher.purchase_id == purchase.id
    assert voucher.status is VoucherStatus.ISSUED


def test_a_taken_code_is_drawn_again() -> None:
    desk = _desk(codes=["EFY-00000000000001", "EFY-00000000000001", "EFY-00000000000002"])
    first, second = desk.buy(), desk.buy(customer_id="cus_bob")
    assert _voucher(first).code == "EFY-00000000000001"
    assert _voucher(second).code == "EFY-00000000000002"


def test_codes_that_stay_taken_fail_the_start_as_an_outage_that_charged_nothing() -> None:
    desk = _desk(codes=["EFY-00000000000001"] * 7)
    desk.buy()
    with pytest.raises(GatewayUnavailableError) as raised:
        desk.buy(customer_id="cus_bob")
    assert raised.value.charged_possible is False


def test_amounts_outside_the_limits_or_with_centavos_are_not_routed_to_efecty(desk: Desk) -> None:
    for price in (Money("19999", "COP"), Money("6000001", "COP"), Money("50000.50", "COP")):
        with pytest.raises(UnsupportedByGatewayError):
            desk.buy(price)


def test_one_confirmation_completes_the_purchase_and_a_second_is_refused(desk: Desk) -> None:
    purchase = desk.buy()
    code = _voucher(purchase).code
    cash = desk.wired.container.cash_vouchers()

    completed = cash.confirm(code, PESOS, "R-1", ADMIN)

    assert completed.status is PurchaseStatus.COMPLETED
    assert desk.credits() == 8
    for receipt in ("R-1", "R-2"):
        with pytest.raises(ConflictError):
            cash.confirm(code, PESOS, receipt, ADMIN)
    assert desk.credits() == 8
    assert cash.voucher(code).receipt_number == "R-1"


def test_a_wrong_amount_an_unknown_code_or_a_non_admin_changes_nothing(desk: Desk) -> None:
    purchase = desk.buy()
    code = _voucher(purchase).code
    cash = desk.wired.container.cash_vouchers()

    with pytest.raises(AmountMismatchError):
        cash.confirm(code, Money("50001", "COP"), "R-1", ADMIN)
    with pytest.raises(AmountMismatchError):
        cash.confirm(code, Money("50000", "USD"), "R-1", ADMIN)
    with pytest.raises(NotFoundError):
        cash.confirm("EFY-99999999999999", PESOS, "R-1", ADMIN)
    with pytest.raises(ForbiddenError):
        cash.confirm(code, PESOS, "R-1", MERCHANT)

    assert desk.status(purchase) is PurchaseStatus.PENDING
    assert cash.voucher(code).status is VoucherStatus.ISSUED
    assert desk.credits() == 0


def test_a_settlement_imported_twice_applies_each_row_once(desk: Desk) -> None:
    first, second = desk.buy(), desk.buy(customer_id="cus_bob")
    cash = desk.wired.container.cash_vouchers()
    paid = START + timedelta(hours=1)
    rows = [
        SettlementRow(2, _voucher(first).code, PESOS, "S-1", paid),
        SettlementRow(3, _voucher(second).code, PESOS, "S-2", paid),
        SettlementRow(4, "EFY-12345678901234", PESOS, "S-3", paid),
    ]

    told: list[tuple[int, int]] = []
    once = cash.settle(rows, "test", lambda done, total: told.append((done, total)))
    twice = cash.settle(rows, "test")

    assert once.applied == [2, 3]
    assert told == [(1, 3), (2, 3), (3, 3)]
    assert [line.line for line in once.unknown] == [4]
    assert twice.applied == []
    assert [(line.line, line.reason) for line in twice.duplicate] == [
        (2, "duplicate"),
        (3, "duplicate"),
    ]
    assert desk.credits() == 8
    assert desk.credits("cus_bob") == 8


def test_a_confirmed_payment_in_the_settlement_file_is_a_duplicate(desk: Desk) -> None:
    purchase = desk.buy()
    code = _voucher(purchase).code
    cash = desk.wired.container.cash_vouchers()
    cash.confirm(code, PESOS, "R-1", ADMIN)

    report = cash.settle([SettlementRow(2, code, PESOS, "R-1", START)], "test")

    assert [line.reason for line in report.duplicate] == ["duplicate"]
    assert desk.credits() == 8


def test_an_unpaid_voucher_expires_its_purchase_at_its_deadline_and_not_before(
    desk: Desk,
) -> None:
    purchase = desk.buy()
    code = _voucher(purchase).code
    cash = desk.wired.container.cash_vouchers()

    desk.clock.current = START + timedelta(hours=71, minutes=59)
    assert cash.expire_due() == {}
    desk.clock.current = START + timedelta(hours=72)
    assert cash.expire_due() == {"expired vouchers": 1}

    assert desk.status(purchase) is PurchaseStatus.EXPIRED
    assert cash.voucher(code).status is VoucherStatus.EXPIRED
    with pytest.raises(ConflictError, match="expired"):
        cash.confirm(code, PESOS, "R-1", ADMIN)
    assert cash.expire_due() == {}


def test_a_confirmation_after_the_deadline_is_refused_before_the_job_runs(desk: Desk) -> None:
    purchase = desk.buy()
    desk.clock.current = START + timedelta(hours=72)
    with pytest.raises(ConflictError, match="expired"):
        desk.wired.container.cash_vouchers().confirm(_voucher(purchase).code, PESOS, "R", ADMIN)


def test_reconciliation_leaves_a_voucher_its_whole_validity(desk: Desk) -> None:
    purchase = desk.buy()
    desk.clock.current = START + timedelta(hours=48)
    report = desk.wired.purchases.reconcile(expire_after=timedelta(hours=24))
    assert report.expired == []
    assert desk.status(purchase) is PurchaseStatus.PENDING


def test_cancelling_the_purchase_voids_its_voucher(desk: Desk) -> None:
    purchase = desk.buy()
    code = _voucher(purchase).code
    cash = desk.wired.container.cash_vouchers()

    desk.wired.purchases.cancel(purchase.id, ADMIN)

    assert cash.voucher(code).status is VoucherStatus.CANCELLED
    with pytest.raises(ConflictError, match="cancelled"):
        cash.confirm(code, PESOS, "R-1", ADMIN)


def test_efecty_takes_no_webhook_and_reads_back_its_stored_payments(desk: Desk) -> None:
    purchase = desk.buy()
    code = _voucher(purchase).code
    desk.wired.container.cash_vouchers().confirm(code, PESOS, "R-1", ADMIN)
    [message] = desk.wired.inbox.recent()

    with pytest.raises(InvalidSignatureError):
        desk.gateway.verify_notification({}, message.body)
    notification = desk.gateway.parse_stored_notification(message.headers, message.body)

    assert notification.event_id == f"{code}:R-1"
    assert notification.payment is not None
    assert notification.payment.amount == PESOS
    assert desk.wired.inbox.replay(message.id) == "processed"
    assert desk.credits() == 8
