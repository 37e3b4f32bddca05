"""The webhook inbox on the fakes: failed applies are queued, retried with backoff, replayed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from payments.adapters.memory import InMemoryStore, InMemoryUnitOfWork
from payments.domain.errors import GatewayUnavailableError, InvalidSignatureError, NotFoundError
from payments.domain.inbox import MAX_ATTEMPTS, InboxMessage, InboxStatus
from payments.domain.ledger import EntryKind
from payments.domain.money import Money
from payments.domain.purchase import Purchase, PurchaseStatus
from payments.domain.refund import REFUND_ID_PREFIX, Refund, RefundStatus
from payments.domain.services.gateways import GatewayRegistry
from payments.domain.services.notifications import NotificationService, Receipt
from payments.domain.services.use_case import GatewayWiring
from tests.unit.conftest import MERCHANT, Payments, bootstrap, credits_of

Delivery = tuple[dict[str, str], bytes]


class FlakyUnitOfWork(InMemoryUnitOfWork):
    """An in-memory unit of work whose purchase lookup by provider id fails like a database that
    went away, as many times as ``faults`` says for that provider id."""

    def __init__(self, store: InMemoryStore, faults: dict[str, int]) -> None:
        super().__init__(store)
        self._faults = faults

    def __enter__(self) -> InMemoryUnitOfWork:
        uow = super().__enter__()
        lookup = self.purchases.get_by_gateway_reference

        def flaky(gateway: str, gateway_reference: str, *, for_update: bool = False) -> Any:
            remaining = self._faults.get(gateway_reference, 0)
            if remaining > 0:
                self._faults[gateway_reference] = remaining - 1
                raise ConnectionError("server closed the connection unexpectedly")
            return lookup(gateway, gateway_reference, for_update=for_update)

        self.purchases.get_by_gateway_reference = flaky  # type: ignore[method-assign]
        return uow


@dataclass
class Inbox:
    """The use cases on fakes, with a notification service whose apply step can be made to fail."""

    payments: Payments
    notifications: NotificationService
    faults: dict[str, int] = field(default_factory=dict)

    def receive(self, delivery: Delivery) -> Receipt:
        headers, body = delivery
        return self.notifications.receive(self.payments.gateway.name, headers, body)

    def deliver_all(self) -> list[str]:
        return [self.receive(d).status for d in self.payments.gateway.drain()]

    def message(self, message_id: str | None) -> InboxMessage:
        assert message_id is not None
        with InMemoryUnitOfWork(self.payments.store) as uow:
            message = uow.inbox.get(message_id)
        assert message is not None
        return message

    def purchase(self, purchase_id: str) -> Purchase:
        return self.payments.purchases.get(purchase_id, MERCHANT)

    def refunds(self, purchase_id: str) -> list[Refund]:
        return self.payments.refunds.for_purchase(purchase_id)

    def bought(self, customer_id: str = "cus_ana") -> tuple[str, str]:
        """A pending purchase of the premium package: its id and the provider's payment id."""
        purchase_id = self.payments.buy(self.payments.premium_package(), customer_id)
        gateway_reference = self.purchase(purchase_id).gateway_reference
        assert gateway_reference is not None
        return purchase_id, gateway_reference

    def approval(self, gateway_reference: str) -> Delivery:
        self.payments.gateway.approve(gateway_reference)
        (delivery,) = self.payments.gateway.drain()
        return delivery

    def completed(self) -> tuple[str, str]:
        purchase_id, gateway_reference = self.bought()
        assert self.receive(self.approval(gateway_reference)).status == "processed"
        return purchase_id, gateway_reference


@pytest.fixture
def inbox() -> Inbox:
    payments = bootstrap()
    faults: dict[str, int] = {}

    def flaky_uow() -> InMemoryUnitOfWork:
        return FlakyUnitOfWork(payments.store, faults)

    notifications = NotificationService(
        GatewayWiring(flaky_uow, GatewayRegistry([payments.gateway]), payments.clock, payments.ids)
    )
    return Inbox(payments, notifications, faults)


# -- a failed apply is queued, retried with backoff, and completes once --------------------------


def test_notification_whose_apply_fails_is_queued_and_stored_failed(inbox: Inbox) -> None:
    purchase_id, ref = inbox.bought()
    inbox.faults[ref] = 1
    headers, body = inbox.approval(ref)

    receipt = inbox.receive((headers, body))

    assert receipt.status == "queued"
    message = inbox.message(receipt.message_id)
    assert message.status is InboxStatus.FAILED
    assert message.attempts == 1
    assert message.next_attempt_at == inbox.payments.clock.now() + timedelta(seconds=30)
    assert message.last_error is not None
    assert "ConnectionError" in message.last_error
    assert message.body == body  # the raw body, as it arrived
    assert inbox.purchase(purchase_id).status is PurchaseStatus.PENDING
    assert credits_of(inbox.payments) == Decimal("0")


def test_failed_notification_is_retried_after_its_backoff_and_completes_once(
    inbox: Inbox,
) -> None:
    purchase_id, ref = inbox.bought()
    inbox.faults[ref] = 1
    receipt = inbox.receive(inbox.approval(ref))
    clock = inbox.payments.clock

    assert inbox.notifications.retry_due() == {}
    clock.advance(seconds=29)
    assert inbox.notifications.retry_due() == {}
    clock.advance(seconds=1)
    assert inbox.notifications.retry_due() == {"processed": 1}

    assert inbox.purchase(purchase_id).status is PurchaseStatus.COMPLETED
    message = inbox.message(receipt.message_id)
    assert message.status is InboxStatus.PROCESSED
    assert message.purchase_id == purchase_id
    assert message.last_error is None
    clock.advance(hours=1)
    assert inbox.notifications.retry_due() == {}
    account = inbox.payments.accounts.get("cus_ana", MERCHANT)
    assert account.credits == Decimal("8.00")
    assert account.total_paid == (Money("79.99", "EUR"),)
    assert [e.kind for e in account.entries].count(EntryKind.PURCHASE_CREDITS) == 1


def test_notification_failing_every_attempt_is_dead_after_the_last_and_an_operator_can_replay(
    inbox: Inbox,
) -> None:
    purchase_id, ref = inbox.bought()
    inbox.faults[ref] = 100
    receipt = inbox.receive(inbox.approval(ref))
    clock = inbox.payments.clock
    assert receipt.status == "queued"

    answers = []
    for attempt in range(1, MAX_ATTEMPTS):
        clock.advance(seconds=30 * 4 ** (attempt - 1))  # the backoff after this attempt
        answers.append(inbox.notifications.retry_due())
    assert answers == [{"failed": 1}] * (MAX_ATTEMPTS - 2) + [{"dead": 1}]

    message = inbox.message(receipt.message_id)
    assert message.status is InboxStatus.DEAD
    assert message.attempts == MAX_ATTEMPTS
    assert message.next_attempt_at is None
    clock.advance(days=7)
    assert inbox.notifications.retry_due() == {}
    assert inbox.purchase(purchase_id).status is PurchaseStatus.PENDING

    inbox.faults.clear()  # the database is back: the operator replays the dead message
    assert inbox.notifications.process_stored(message.id) == "processed"
    assert inbox.purchase(purchase_id).status is PurchaseStatus.COMPLETED
    assert credits_of(inbox.payments) == Decimal("8.00")


def test_operator_replay_applies_a_stored_message_without_verifying_its_signature_again(
    inbox: Inbox,
) -> None:
    purchase_id, ref = inbox.bought()
    inbox.faults[ref] = 1
    headers, body = inbox.approval(ref)
    receipt = inbox.receive((headers, body))
    gateway = inbox.payments.gateway
    gateway.secret = "rotated_fake_secret"  # the signature it was stored with no longer verifies
    with pytest.raises(InvalidSignatureError):
        gateway.verify_notification(headers, body)
    assert receipt.message_id is not None

    assert inbox.notifications.process_stored(receipt.message_id) == "processed"

    assert inbox.purchase(purchase_id).status is PurchaseStatus.COMPLETED
    assert credits_of(inbox.payments) == Decimal("8.00")
    with pytest.raises(InvalidSignatureError):  # a live delivery is still verified
        inbox.receive((headers, body))


def test_replaying_a_processed_message_credits_nothing_twice(inbox: Inbox) -> None:
    purchase_id, ref = inbox.bought()
    receipt = inbox.receive(inbox.approval(ref))
    assert receipt.status == "processed"
    assert receipt.message_id is not None

    assert inbox.notifications.process_stored(receipt.message_id) == "processed"
    assert inbox.notifications.process_stored(receipt.message_id) == "processed"

    assert inbox.purchase(purchase_id).status is PurchaseStatus.COMPLETED
    assert credits_of(inbox.payments) == Decimal("8.00")


def test_replay_of_an_unknown_message_is_not_found(inbox: Inbox) -> None:
    with pytest.raises(NotFoundError):
        inbox.notifications.process_stored("whk_never_stored")


def test_duplicate_delivery_of_a_queued_message_answers_duplicate(inbox: Inbox) -> None:
    purchase_id, ref = inbox.bought()
    inbox.faults[ref] = 1
    delivery = inbox.approval(ref)
    assert inbox.receive(delivery).status == "queued"

    assert inbox.receive(delivery).status == "duplicate"

    # The redelivery changed nothing: the stored message is still the one the worker retries.
    assert inbox.purchase(purchase_id).status is PurchaseStatus.PENDING
    with InMemoryUnitOfWork(inbox.payments.store) as uow:
        assert len(uow.inbox.list()) == 1
    inbox.payments.clock.advance(seconds=30)
    assert inbox.notifications.retry_due() == {"processed": 1}
    assert credits_of(inbox.payments) == Decimal("8.00")


def test_a_failing_notification_never_blocks_another_purchases_notification(
    inbox: Inbox,
) -> None:
    stuck_id, stuck_ref = inbox.bought("cus_ana")
    fine_id, fine_ref = inbox.bought("cus_bob")
    inbox.faults[stuck_ref] = 100
    inbox.payments.gateway.approve(stuck_ref)
    inbox.payments.gateway.approve(fine_ref)

    assert inbox.deliver_all() == ["queued", "processed"]

    assert inbox.purchase(stuck_id).status is PurchaseStatus.PENDING
    assert inbox.purchase(fine_id).status is PurchaseStatus.COMPLETED
    assert credits_of(inbox.payments, "cus_bob") == Decimal("8.00")


# -- refund notifications through settle_refund ---------------------------------------------------


def test_provider_confirms_our_pending_refund(inbox: Inbox) -> None:
    purchase_id, ref = inbox.completed()
    gateway = inbox.payments.gateway
    gateway.fail_next(charged=True)  # the provider refunds, then the answer is lost
    with pytest.raises(GatewayUnavailableError):
        inbox.payments.refunds.refund(purchase_id, Money("10.00", "EUR"), "asked", "admin")
    (pending,) = inbox.refunds(purchase_id)
    assert pending.status is RefundStatus.PENDING
    assert pending.gateway_reference is None
    assert credits_of(inbox.payments) == Decimal("7.00")  # booked before asking the provider
    ((provider_refund, _),) = gateway.payments[ref].refunds

    confirmation = gateway.refund_notification(
        ref, provider_refund, Money("10.00", "EUR"), RefundStatus.SUCCEEDED
    )
    assert inbox.receive(confirmation).status == "processed"

    (confirmed,) = inbox.refunds(purchase_id)
    assert confirmed.id == pending.id
    assert confirmed.status is RefundStatus.SUCCEEDED
    assert confirmed.gateway_reference == provider_refund
    assert inbox.receive(confirmation).status == "duplicate"
    again = gateway.refund_notification(
        ref, provider_refund, Money("10.00", "EUR"), RefundStatus.SUCCEEDED
    )
    assert inbox.receive(again).status == "duplicate"  # another event, nothing new
    account = inbox.payments.accounts.get("cus_ana", MERCHANT)
    assert account.credits == Decimal("7.00")
    assert account.total_paid == (Money("69.99", "EUR"),)
    assert inbox.purchase(purchase_id).status is PurchaseStatus.PARTIALLY_REFUNDED


def test_refund_made_at_the_provider_is_booked_when_it_fits(inbox: Inbox) -> None:
    purchase_id, ref = inbox.completed()
    provider_refund = inbox.payments.gateway.refund_at_provider(ref, Money("20.00", "EUR"))

    assert inbox.deliver_all() == ["processed"]

    (booked,) = inbox.refunds(purchase_id)
    assert booked.amount == Money("20.00", "EUR")
    assert booked.status is RefundStatus.SUCCEEDED
    assert booked.gateway_reference == provider_refund
    assert booked.reason == "made at the provider"
    purchase = inbox.purchase(purchase_id)
    assert purchase.status is PurchaseStatus.PARTIALLY_REFUNDED
    assert purchase.refunded == Money("20.00", "EUR")
    account = inbox.payments.accounts.get("cus_ana", MERCHANT)
    assert account.credits == Decimal("6.00")  # 8 x 20.00 / 79.99 = 2.0003 -> 2.00 debited
    assert account.total_paid == (Money("59.99", "EUR"),)


def test_refund_at_the_provider_beyond_what_remains_is_a_conflict_and_changes_nothing(
    inbox: Inbox,
) -> None:
    purchase_id, ref = inbox.completed()
    inbox.payments.refunds.refund(purchase_id, Money("70.00", "EUR"), None, "admin")
    before = inbox.payments.accounts.get("cus_ana", MERCHANT)
    notification = inbox.payments.gateway.refund_notification(
        ref, "fake_re_elsewhere", Money("20.00", "EUR"), RefundStatus.SUCCEEDED
    )

    receipt = inbox.receive(notification)

    assert receipt.status == "conflict"
    assert inbox.message(receipt.message_id).status is InboxStatus.CONFLICT
    assert len(inbox.refunds(purchase_id)) == 1
    assert inbox.purchase(purchase_id).refunded == Money("70.00", "EUR")
    after = inbox.payments.accounts.get("cus_ana", MERCHANT)
    assert after.credits == before.credits == Decimal("1.00")
    assert after.total_paid == before.total_paid == (Money("9.99", "EUR"),)


def test_refund_the_provider_rejects_later_reverses_its_ledger_debits(inbox: Inbox) -> None:
    purchase_id, _ref = inbox.completed()
    refund = inbox.payments.refunds.refund(purchase_id, Money("10.00", "EUR"), None, "admin")
    assert refund.status is RefundStatus.SUCCEEDED
    assert refund.gateway_reference is not None
    assert credits_of(inbox.payments) == Decimal("7.00")

    inbox.payments.gateway.fail_refund(refund.gateway_reference)
    assert inbox.deliver_all() == ["processed"]

    (failed,) = inbox.refunds(purchase_id)
    assert failed.status is RefundStatus.FAILED
    purchase = inbox.purchase(purchase_id)
    assert purchase.status is PurchaseStatus.COMPLETED
    assert purchase.refunded == Money("0.00", "EUR")
    account = inbox.payments.accounts.get("cus_ana", MERCHANT)
    assert account.credits == Decimal("8.00")
    assert account.total_paid == (Money("79.99", "EUR"),)
    kinds = [e.kind for e in account.entries]
    assert EntryKind.REFUND_REVERSAL_CREDITS in kinds
    assert EntryKind.REFUND_REVERSAL_PAYMENT in kinds


def test_refund_notification_about_a_payment_we_never_made_is_ignored(inbox: Inbox) -> None:
    notification = inbox.payments.gateway.refund_notification(
        "fake_pay_unknown", "fake_re_unknown", Money("5.00", "EUR"), RefundStatus.SUCCEEDED
    )
    receipt = inbox.receive(notification)
    assert receipt.status == "ignored"
    assert inbox.message(receipt.message_id).status is InboxStatus.IGNORED


def test_refund_made_at_the_provider_gets_a_refund_id_not_a_purchase_reference(
    inbox: Inbox,
) -> None:
    purchase_id, ref = inbox.completed()
    inbox.payments.gateway.refund_at_provider(ref, Money("20.00", "EUR"))
    inbox.deliver_all()

    (booked,) = inbox.refunds(purchase_id)

    assert booked.id.startswith(f"{REFUND_ID_PREFIX}_")
    assert not booked.id.startswith("ref_")
