"""The Efecty gateway passes the gateway contract where cash vouchers allow, on the in-memory
store. A voucher is paid at the counter (the desk takes the payment), never declined, never
refunded through the gateway, and no notification reaches Efecty's webhook: those cases are
replaced below by what Efecty promises instead."""

from __future__ import annotations

import functools

import pytest

from payments.adapters.gateways.efecty import EfectyGateway
from payments.adapters.memory import FixedClock, InMemoryStore, InMemoryUnitOfWork, SequentialIds
from payments.domain.cash_voucher import VoucherPayment, VoucherVerdict
from payments.domain.errors import InvalidSignatureError, UnsupportedByGatewayError
from payments.domain.money import Money
from payments.domain.next_action import CashVoucherAction
from payments.domain.purchase import ObservationSource, PaymentOutcome
from payments.domain.services.cash_vouchers import CashVoucherDesk
from payments.testing.contracts.gateway import (
    Delivery,
    GatewayContract,
    GatewayUnderTest,
    ProviderDriver,
    expect_capture,
    refund_request,
)

PESOS = Money("50000.00", "COP")


class EfectyCounter(ProviderDriver):
    """The provider's side: the vouchers stored, and a payer paying one at a counter."""

    def __init__(self, store: InMemoryStore, desk: CashVoucherDesk, clock: FixedClock) -> None:
        self.store = store
        self.desk = desk
        self.clock = clock

    def approve(self, gateway_reference: str) -> Delivery:
        voucher = self.desk.voucher(gateway_reference)
        payment = VoucherPayment(voucher.code, voucher.amount, "R-1", self.clock.now(), "test")
        assert self.desk.report(payment) is VoucherVerdict.ACCEPTED
        return {}, payment.to_body()

    def decline(self, gateway_reference: str) -> Delivery:
        raise AssertionError("a cash voucher is never declined")

    def signed(self, body: bytes) -> dict[str, str]:
        return {}  # Efecty signs nothing: its webhook takes nothing

    def requests_seen(self) -> int:
        return len(self.store.tables.cash_vouchers)

    def payments_under(self, reference: str) -> int:
        vouchers = self.store.tables.cash_vouchers.values()
        return sum(voucher.purchase_reference == reference for voucher in vouchers)

    def refunded(self, gateway_reference: str) -> Money:
        return Money.zero("COP")


class TestEfectyGatewayContract(GatewayContract):
    @pytest.fixture
    def subject(self) -> GatewayUnderTest:
        store, clock = InMemoryStore(), FixedClock()
        uow = functools.partial(InMemoryUnitOfWork, store)
        desk = CashVoucherDesk(uow, clock, SequentialIds())
        return GatewayUnderTest(
            gateway=EfectyGateway(uow, clock),
            provider=EfectyCounter(store, desk, clock),
            next_actions={"cash": CashVoucherAction},
            price=PESOS,
            request_fields={"country": "CO", "payment_method": "cash"},
        )

    # -- where a cash voucher differs from the contract's provider ------------------------------

    def test_repeated_start_with_one_idempotency_key_makes_one_payment(
        self, subject: GatewayUnderTest
    ) -> None:
        """The same voucher; an issued one shows nothing to apply (the purchase stays
        pending), and it is paid once."""
        first = subject.gateway.start_payment(subject.request("ref_again"))
        again = subject.gateway.start_payment(subject.request("ref_again"))
        assert again == first
        assert subject.provider.payments_under("ref_again") == 1
        assert subject.gateway.lookup("ref_again", first.gateway_reference) is None

    def test_decline_is_observed_as_a_failure_with_its_code(
        self, subject: GatewayUnderTest
    ) -> None:
        pytest.skip("a cash voucher is never declined: it is paid or it expires")

    @pytest.mark.parametrize("full", [True, False], ids=["full", "partial"])
    def test_refund_sent_twice_with_one_key_refunds_once(
        self, subject: GatewayUnderTest, full: bool
    ) -> None:
        """Efecty declares no refunds, and refuses every one."""
        paid = self._captured(subject, "ref_refund_once")
        with pytest.raises(UnsupportedByGatewayError):
            subject.gateway.refund(refund_request(paid, PESOS, key="once", full=full))
        assert not subject.gateway.capabilities.refunds

    def test_refund_of_an_uncaptured_payment_is_an_invalid_transition(
        self, subject: GatewayUnderTest
    ) -> None:
        """Refused as every refund is: Efecty gives nothing back, paid or not."""
        code = subject.gateway.start_payment(subject.request("ref_refund_unpaid")).gateway_reference
        unpaid = refund_request(code, PESOS, key="unpaid", full=True)
        with pytest.raises(UnsupportedByGatewayError):
            subject.gateway.refund(unpaid)

    def test_genuine_approval_notification_parses_to_the_capture(
        self, subject: GatewayUnderTest
    ) -> None:
        """No delivery is genuine: the stored payment is read back as the capture instead."""
        start = subject.gateway.start_payment(subject.request("ref_notified"))
        headers, body = subject.provider.approve(start.gateway_reference)
        with pytest.raises(InvalidSignatureError):
            subject.gateway.verify_notification(headers, body)
        notification = subject.gateway.parse_stored_notification(headers, body)
        assert notification.provider == "efecty"
        assert notification.event_id == f"{start.gateway_reference}:R-1"
        observation = notification.payment
        assert observation is not None
        assert observation.outcome is PaymentOutcome.SUCCEEDED
        assert observation.amount == PESOS
        seen = subject.gateway.lookup("ref_notified", start.gateway_reference)
        expect_capture(seen, ObservationSource.LOOKUP, subject, start, "ref_notified")
