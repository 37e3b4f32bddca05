"""Notifications: store every verified webhook in the inbox, apply it once, retry what failed."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from payments.domain.errors import StorageUnavailableError
from payments.domain.gateway import Notification
from payments.domain.inbox import InboxMessage, InboxStatus
from payments.domain.invoice import InvoicePolicy
from payments.domain.ports import IdGenerator, UnitOfWork
from payments.domain.provider_strings import admit_notification
from payments.domain.purchase import ApplyResult
from payments.domain.services.group_commit import GroupCommit
from payments.domain.services.records import found
from payments.domain.services.settlement import (
    Posting,
    Settled,
    find_purchase,
    settle_payment,
    settle_refund,
)
from payments.domain.services.use_case import GatewayUseCase, GatewayWiring

log = logging.getLogger(__name__)

_INBOX_STATUS = {
    ApplyResult.APPLIED: InboxStatus.PROCESSED,
    ApplyResult.ALREADY_APPLIED: InboxStatus.PROCESSED,
    ApplyResult.STALE: InboxStatus.IGNORED,
    ApplyResult.CONFLICTING: InboxStatus.CONFLICT,
}


class Delivery(StrEnum):
    """What became of one delivered notification: ``processed``, ``duplicate`` (this event id
    was already stored, or it changed nothing), ``ignored`` (genuine but not about anything of
    ours, or stale), ``conflict`` (stored for an operator: it disagrees with our records),
    ``queued`` (stored; processing failed and will be retried) or ``received`` (stored, to be
    applied by the worker: ingest mode, decision 0042)."""

    PROCESSED = "processed"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    CONFLICT = "conflict"
    QUEUED = "queued"
    RECEIVED = "received"


_DELIVERY = {
    ApplyResult.APPLIED: Delivery.PROCESSED,
    ApplyResult.ALREADY_APPLIED: Delivery.DUPLICATE,
    ApplyResult.STALE: Delivery.IGNORED,
    ApplyResult.CONFLICTING: Delivery.CONFLICT,
}


@dataclass(frozen=True, slots=True)
class Receipt:
    """What became of one delivered notification (``Delivery``), and what it was about."""

    status: Delivery
    message_id: str | None
    purchase_id: str | None


@dataclass(frozen=True, slots=True)
class Verified:
    """A delivery whose signature was verified: its inbox message and what it says."""

    message: InboxMessage
    notification: Notification


DEFAULT_BATCH = 32
"""The most deliveries one process applies in one transaction (``NotificationService``)."""


class NotificationService(GatewayUseCase):
    """Receives provider notifications (DESIGN §5.1-§5.3).

    Deliveries that arrive together in one process are applied together: the threads of a
    process share one transaction and one commit per batch of at most ``batch`` deliveries
    (``GroupCommit``; decision 0041). Every delivery is still answered only after its outcome
    is committed. ``batch=1`` applies each delivery in a transaction of its own.

    With ``ingest``, deliveries are only stored (``store_all``: still together, and committed
    before the answer) and answered ``received``; the worker applies them (``InboxApplier``;
    decision 0042).
    """

    def __init__(
        self,
        wiring: GatewayWiring,
        *,
        batch: int = DEFAULT_BATCH,
        ingest: bool = False,
    ) -> None:
        super().__init__(wiring)
        run = self.store_all if ingest else self.settle_all
        self._group: GroupCommit[Verified, Receipt] = GroupCommit(run, batch)

    def receive(self, provider: str, headers: Mapping[str, str], body: bytes) -> Receipt:
        """Verify one delivery, then apply and store it (with the deliveries that arrived at
        the same time, see ``settle_all``).

        The message is stored once, with its outcome, after the apply step: the purchase's row
        lock serializes deliveries about one payment, and the inbox's unique (provider, event
        id) tells a redelivery apart, which then rolls the whole unit of work back and answers
        ``duplicate`` (a redelivery of a message stored as failed too: the worker retries it).

        Raises ``InvalidSignatureError`` / ``MalformedNotificationError`` (nothing stored; an
        identity we cannot store is refused too, see ``admit_notification``) and
        ``StorageUnavailableError`` when even the failed message could not be stored.
        """
        return self._group.submit(self.verify(provider, headers, body))

    def verify(self, provider: str, headers: Mapping[str, str], body: bytes) -> Verified:
        """The delivery, verified by ``provider``'s gateway, as the inbox message to store;
        raises as ``receive`` does for a delivery that is refused (nothing is stored)."""
        gateway = self._gateways[provider]
        lowered = {k.lower(): v for k, v in headers.items()}
        notification = admit_notification(gateway.verify_notification(lowered, body), body)
        now = self._clock.now()
        message = inbox_message(provider, notification, lowered, body, now=now, ids=self._ids)
        return Verified(message, notification)

    def settle_all(self, batch: Sequence[Verified]) -> list[Receipt | BaseException]:
        """Apply and store verified deliveries: together in one transaction when they can be,
        else each in its own. A receipt per delivery, in order, or the exception its caller is
        to raise (``StorageUnavailableError``).

        Together means one unit of work that applies every delivery in turn, stores their
        messages in one statement and commits once. When some, but not all, of the messages
        were stored already, or anything fails, that transaction is rolled back and each
        delivery is settled alone, exactly as if it had come by itself.
        """
        if len(batch) > 1:
            receipts = self._settle_together(batch)
            if receipts is not None:
                return list(receipts)
        outcomes: list[Receipt | BaseException] = []
        for verified in batch:
            try:
                outcomes.append(self._settle(verified))
            except StorageUnavailableError as error:
                outcomes.append(error)
        return outcomes

    def store_all(self, batch: Sequence[Verified]) -> list[Receipt | BaseException]:
        """Store verified deliveries to be applied later: a receipt each, ``received`` or
        ``duplicate`` (its (provider, event id) is stored already, or came earlier in the batch).
        One transaction stores the batch (one multi-row INSERT that returns the rows it wrote):
        each delivery is answered from its own row. A batch that cannot be stored gets
        ``StorageUnavailableError`` for each delivery (the provider sends them again).

        Not on single-statement units: measured, their one round trip fewer let batches end
        sooner and stay smaller, and the extra commits cost PostgreSQL more than was saved.
        """
        try:
            with self._uow() as uow:
                stored = uow.inbox.store_new([verified.message for verified in batch])
                uow.commit()
        except Exception as error:
            log.exception("%d notifications could not be stored", len(batch))
            failure = StorageUnavailableError("The notification could not be stored.")
            failure.__cause__ = error
            return [failure] * len(batch)
        receipts: list[Receipt | BaseException] = []
        for verified in batch:
            message = verified.message
            if message.id in stored:
                receipts.append(Receipt(Delivery.RECEIVED, message.id, None))
            else:
                _log_receipt(message.provider, verified.notification, Delivery.DUPLICATE)
                receipts.append(Receipt(Delivery.DUPLICATE, None, None))
        return receipts

    def _settle_together(self, batch: Sequence[Verified]) -> list[Receipt] | None:
        """``batch`` in one transaction, or None when it must be settled one by one."""
        if len({(v.message.provider, v.message.event_id) for v in batch}) < len(batch):
            return None  # one event twice: the second is the first's duplicate, settled after it
        now = self._clock.now()
        try:
            with self._uow() as uow:
                settled = record_notifications(
                    uow, batch, now=now, ids=self._ids, invoicing=self._invoicing
                )
                if settled is None:
                    return None
                if settled:
                    uow.commit()
        except Exception:
            log.warning("a batch of %d notifications failed; each is settled alone", len(batch))
            return None
        if not settled:  # every one of them was stored already
            for verified in batch:
                _log_receipt(verified.message.provider, verified.notification, Delivery.DUPLICATE)
            return [Receipt(Delivery.DUPLICATE, None, None) for _ in batch]
        receipts = []
        for verified, outcome in zip(batch, settled, strict=True):
            delivery = _DELIVERY[outcome.result]
            _log_receipt(
                verified.message.provider, verified.notification, delivery, outcome.purchase_id
            )
            receipts.append(Receipt(delivery, verified.message.id, outcome.purchase_id))
        return receipts

    def _settle(self, verified: Verified) -> Receipt:
        """One delivery in a transaction of its own; a failure is stored for the worker."""
        message, notification = verified.message, verified.notification
        provider = message.provider
        context = {"provider": provider, "event_id": notification.event_id}
        try:
            with self._uow() as uow:
                settled = record_notification(
                    uow,
                    message,
                    notification,
                    now=self._clock.now(),
                    ids=self._ids,
                    invoicing=self._invoicing,
                )
                if settled is None:
                    return Receipt(Delivery.DUPLICATE, None, None)
                uow.commit()
        except Exception as error:  # stored as failed for the worker: never lose a delivery
            log.exception(
                "notification %s/%s failed", provider, notification.event_id, extra=context
            )
            return self._store_failed(message, error)
        delivery = _DELIVERY[settled.result]
        _log_receipt(provider, notification, delivery, settled.purchase_id)
        return Receipt(delivery, message.id, settled.purchase_id)

    def _store_failed(self, message: InboxMessage, error: Exception) -> Receipt:
        # Forget an outcome settled before the failure (the transaction that had it rolled back).
        message = replace(message, status=InboxStatus.RECEIVED, processed_at=None, purchase_id=None)
        message.fail(f"{type(error).__name__}: {error}", self._clock.now())
        try:
            with self._uow() as uow:
                stored = uow.inbox.add(message)
                uow.commit()
        except Exception as storage_error:
            raise StorageUnavailableError("The notification could not be stored.") from (
                storage_error
            )
        return Receipt(Delivery.QUEUED if stored else Delivery.DUPLICATE, message.id, None)

    def retry_due(self, limit: int = 50) -> dict[str, int]:
        """Process failed messages whose retry time has come (claimed so no other worker does)."""
        with self._uow() as uow:
            claimed = uow.inbox.claim_due(self._clock.now(), limit)
            uow.commit()
        return dict(Counter(self.process_stored(message.id) for message in claimed))

    def parse_stored(self, message: InboxMessage) -> Notification:
        """What a stored message says, read from its raw body by its provider's gateway; its
        signature was verified when it arrived, so it is not checked again (the timestamp would
        be stale by now)."""
        gateway = self._gateways[message.provider]
        return gateway.parse_stored_notification(message.headers, message.body)

    def process_stored(self, message_id: str) -> str:
        """(Re)process one stored message from its raw body, as an operator replay or a retry.

        Its signature was verified when it arrived, so it is not checked again (the timestamp
        would be stale by now). Returns the message's new status.
        """
        with self._uow() as uow:
            message = found(uow.inbox.get(message_id), f"No stored notification {message_id!r}.")
        now = self._clock.now()
        try:
            notification = self.parse_stored(message)
            with self._uow() as uow:
                settled = apply_notification(
                    uow, notification, now=now, ids=self._ids, invoicing=self._invoicing
                )
                message.settle(_INBOX_STATUS[settled.result], now, settled.purchase_id)
                uow.inbox.save(message)
                uow.commit()
        except Exception as error:
            log.exception(
                "retry of notification %s (%s/%s) failed",
                message_id,
                message.provider,
                message.event_id,
                extra={"provider": message.provider, "event_id": message.event_id},
            )
            message.fail(f"{type(error).__name__}: {error}", now)
            with self._uow() as uow:
                uow.inbox.save(message)
                uow.commit()
        return message.status.value


def inbox_message(
    provider: str,
    notification: Notification,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: datetime,
    ids: IdGenerator,
) -> InboxMessage:
    """The inbox message that stores ``provider``'s ``notification`` as it arrived at ``now``."""
    return InboxMessage(
        id=ids.new("whk"),
        provider=provider,
        event_id=notification.event_id,
        event_type=notification.event_type,
        headers=dict(headers),
        body=body,
        received_at=now,
    )


def record_notification(
    uow: UnitOfWork,
    message: InboxMessage,
    notification: Notification,
    *,
    now: datetime,
    ids: IdGenerator,
    invoicing: InvoicePolicy,
) -> Settled | None:
    """Apply a verified notification in ``uow`` and add its message with the outcome; the
    caller commits. None when its (provider, event id) is stored already: then ``uow`` is
    rolled back (nothing of this delivery is kept) and the delivery is a duplicate."""
    batch = [Verified(message, notification)]
    recorded = record_notifications(uow, batch, now=now, ids=ids, invoicing=invoicing)
    if not recorded:  # one delivery: all of it or none stored already
        _log_receipt(notification.provider, notification, Delivery.DUPLICATE)
        return None
    return recorded[0]


def record_notifications(
    uow: UnitOfWork,
    batch: Sequence[Verified],
    *,
    now: datetime,
    ids: IdGenerator,
    invoicing: InvoicePolicy,
) -> list[Settled] | None:
    """``record_notification`` for every delivery of ``batch`` (of distinct events) in ``uow``,
    their messages stored in one go; the caller commits. The purchases they name are locked
    first, all at once (``lock_by_gateway_references``).

    An empty list when every message was stored already (``uow`` is rolled back: all are
    duplicates); None when some were (rolled back too: the caller settles each alone, which
    tells the duplicates apart).
    """
    settled = apply_all(uow, batch, now=now, ids=ids, invoicing=invoicing)
    stored = len(uow.inbox.store_new([verified.message for verified in batch]))
    if stored == len(batch):
        return settled
    uow.rollback()
    return [] if stored == 0 else None


def apply_all(
    uow: UnitOfWork,
    batch: Sequence[Verified],
    *,
    now: datetime,
    ids: IdGenerator,
    invoicing: InvoicePolicy,
) -> list[Settled]:
    """Apply every notification of ``batch`` in turn in ``uow`` and settle its message with the
    outcome (not stored: the caller stores or saves them). The purchases they name are locked
    first, all at once (``lock_by_gateway_references``)."""
    wanted: dict[str, list[str]] = {}
    for verified in batch:
        payment = verified.notification.payment
        if payment is not None and payment.gateway_reference:
            wanted.setdefault(payment.gateway, []).append(payment.gateway_reference)
    for gateway, references in wanted.items():
        uow.purchases.lock_by_gateway_references(gateway, references)
    settled = []
    for verified in batch:
        outcome = apply_notification(
            uow, verified.notification, now=now, ids=ids, invoicing=invoicing
        )
        verified.message.settle(_INBOX_STATUS[outcome.result], now, outcome.purchase_id)
        settled.append(outcome)
    return settled


def apply_notification(
    uow: UnitOfWork,
    notification: Notification,
    *,
    now: datetime,
    ids: IdGenerator,
    invoicing: InvoicePolicy,
) -> Settled:
    """The one apply step for a notification's payment or refund observation, posted by the
    notification's provider and event type."""
    posting = Posting(now, f"{notification.provider}:{notification.event_type}", ids)
    if notification.payment is not None:
        observation = notification.payment
        purchase = find_purchase(
            uow, observation.gateway, observation.gateway_reference, observation.reference
        )
        if purchase is None:
            return Settled(ApplyResult.STALE, None)
        result = settle_payment(uow, purchase, observation, posting, invoicing)
        return Settled(result, purchase.id)
    if notification.refund is not None:
        return settle_refund(uow, notification.refund, posting)
    return Settled(ApplyResult.STALE, None)


def _log_receipt(
    provider: str,
    notification: Notification,
    delivery: Delivery,
    purchase_id: str | None = None,
) -> None:
    log.info(
        "notification %s/%s (%s): %s, purchase %s",
        provider,
        notification.event_id,
        notification.event_type,
        delivery.value,
        purchase_id or "-",
        extra={"provider": provider, "event_id": notification.event_id, "outcome": delivery.value},
    )
