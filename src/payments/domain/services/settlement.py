"""The one apply step: every observation of a payment or refund changes the books here."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from payments.domain.events import PurchaseCompleted, RefundRecorded
from payments.domain.invoice import InvoicePolicy
from payments.domain.ledger import (
    CREDITS,
    EntryKind,
    Movement,
    purchase_entries,
    refund_credit_share,
    refund_entries,
    reversal_entries,
)
from payments.domain.ports import IdGenerator, UnitOfWork
from payments.domain.purchase import ApplyResult, GatewayObservation, Purchase
from payments.domain.refund import REFUND_ID_PREFIX, Refund, RefundObservation, RefundStatus
from payments.domain.services.invoicing import invoice_follows_refunds, issue_invoice
from payments.domain.text import provider_message

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Posting:
    """When a change is posted to the books, who or what posts it (the audit's actor) and where
    the ids of the records it writes come from: what every step below records."""

    now: datetime
    actor: str
    ids: IdGenerator


@dataclass(frozen=True, slots=True)
class Settled:
    """What one observation did: the result and the purchase it concerned (if we know it)."""

    result: ApplyResult
    purchase_id: str | None


def find_purchase(
    uow: UnitOfWork, gateway: str, gateway_reference: str | None, reference: str | None
) -> Purchase | None:
    """The purchase an observation is about, locked: by the provider's id, else by our reference."""
    purchase = None
    if gateway_reference:
        purchase = uow.purchases.get_by_gateway_reference(
            gateway, gateway_reference, for_update=True
        )
    if purchase is None and reference:
        purchase = uow.purchases.get_by_reference(reference, for_update=True)
    return purchase


def settle_payment(
    uow: UnitOfWork,
    purchase: Purchase,
    observation: GatewayObservation,
    posting: Posting,
    invoicing: InvoicePolicy,
) -> ApplyResult:
    """Apply ``observation`` to a purchase locked in ``uow``; on completion, credit the ledger
    and issue the purchase's invoice under ``invoicing``.

    The caller commits (which writes the purchase's events to the outbox). The ledger's unique
    sources make a second credit impossible even if this ran twice for the same purchase, and
    the invoices' unique purchase a second invoice.
    """
    result = purchase.apply(observation, posting.now, posting.actor)
    if result is ApplyResult.APPLIED:
        _complete(uow, purchase, posting, invoicing)
    if result is ApplyResult.APPLIED or purchase.events:  # a conflict may flag it for review
        uow.purchases.save(purchase)
    log.info(
        "apply %s to purchase %s (reference %s) from %s: %s, now %s",
        observation.outcome.value,
        purchase.id,
        purchase.reference,
        posting.actor,
        result.value,
        purchase.status.value,
        extra={"purchase_id": purchase.id, "reference": purchase.reference},
    )
    return result


def _complete(
    uow: UnitOfWork, purchase: Purchase, posting: Posting, invoicing: InvoicePolicy
) -> None:
    """Credit the ledger and invoice the payment of a purchase that completed just now."""
    if not any(isinstance(e, PurchaseCompleted) for e in purchase.events):
        return
    uow.ledger.book(
        purchase_entries(
            Movement(purchase.customer_id, purchase.id, purchase.amount, purchase.credits),
            validity_days=purchase.validity_days,
            ids=posting.ids.many("led", 2),
            now=posting.now,
        )
    )
    # Last: the invoice counter stays locked from here to the commit.
    issue_invoice(uow, purchase, invoicing, now=posting.now, ids=posting.ids)


def book_refund(uow: UnitOfWork, purchase: Purchase, refund: Refund, posting: Posting) -> None:
    """Count a new refund against the purchase and debit its money and credits, in one transaction.

    Raises (changing nothing) when the refund would exceed what remains captured.
    """
    already = sum(
        (
            -e.amount
            for e in uow.ledger.for_purchase(purchase.id)
            if e.asset == CREDITS
            and e.kind in (EntryKind.REFUND_CREDITS, EntryKind.REFUND_REVERSAL_CREDITS)
        ),
        start=Decimal(0),
    )
    purchase.record_refund(refund.amount, refund.id, posting.now, posting.actor)
    credits = refund_credit_share(
        purchase_credits=purchase.credits,
        purchase_amount=purchase.amount,
        refund_amount=refund.amount,
        already_debited=already,
        fully_refunded=purchase.refunded == purchase.amount,
    )
    uow.ledger.append_all(
        refund_entries(
            Movement(purchase.customer_id, purchase.id, refund.amount, credits),
            refund_id=refund.id,
            ids=posting.ids.many("led", 2),
            now=posting.now,
        )
    )
    purchase.events.append(
        RefundRecorded(posting.now, purchase.id, refund.id, refund.amount, refund.status.value)
    )
    invoice_follows_refunds(uow, purchase, posting.now)
    uow.refunds.add(refund)
    uow.purchases.save(purchase)


def fail_refund(
    uow: UnitOfWork, purchase: Purchase, refund: Refund, message: str | None, posting: Posting
) -> None:
    """The provider rejected a refund: stop counting it and reverse its ledger debits.

    The caller holds the purchase's lock. A refund already failed is left alone, also when only
    the stored copy says so (``refund`` was read before the lock, and another transaction failed
    it in between): releasing it twice would hand the amount back twice.
    """
    if refund.status is RefundStatus.FAILED:
        return
    stored = uow.refunds.get(refund.id)
    if stored is not None and stored.status is RefundStatus.FAILED:
        return
    refund.status = RefundStatus.FAILED
    refund.failure_message = provider_message(message)
    refund.updated_at = posting.now
    purchase.release_refund(refund.amount, refund.id, posting.now, posting.actor)
    debits = [
        e
        for e in uow.ledger.for_purchase(purchase.id)
        if e.source in (f"refund:{refund.id}:payment", f"refund:{refund.id}:credits")
    ]
    uow.ledger.append_all(
        reversal_entries(
            ids=posting.ids.many("led", len(debits)),
            refund_entries_=debits,
            refund_id=refund.id,
            now=posting.now,
        )
    )
    invoice_follows_refunds(uow, purchase, posting.now)
    uow.refunds.save(refund)
    uow.purchases.save(purchase)


def settle_refund(uow: UnitOfWork, observation: RefundObservation, posting: Posting) -> Settled:
    """Apply what a provider says about a refund: ours (by id or provider id) or one made elsewhere.

    A refund made outside this service (for example in the provider's dashboard) is booked like
    our own when it fits in what remains captured, and is a conflict otherwise.
    """
    purchase = _lock_purchase_of(uow, observation)
    if purchase is None:
        return Settled(ApplyResult.STALE, None)
    # A refund changes only under its purchase's lock: read it again now that we hold the lock,
    # or a concurrent delivery about it that committed while we waited would be undone or
    # booked a second time.
    refund = _find_refund(uow, observation)
    if refund is not None and refund.purchase_id != purchase.id:
        return Settled(
            ApplyResult.CONFLICTING, purchase.id
        )  # the provider's ids disagree with ours
    if refund is None:
        refund = _match_pending_refund(uow, purchase, observation)
    if refund is None:
        return _book_external_refund(uow, purchase, observation, posting)
    if observation.amount != refund.amount:
        return Settled(ApplyResult.CONFLICTING, purchase.id)
    if refund.status is observation.status:
        return Settled(ApplyResult.ALREADY_APPLIED, purchase.id)
    if refund.status is RefundStatus.FAILED:
        return Settled(ApplyResult.STALE, purchase.id)
    if refund.gateway_reference is None:
        refund.gateway_reference = observation.gateway_refund_reference
    if observation.status is RefundStatus.FAILED:
        fail_refund(uow, purchase, refund, "rejected by the provider", posting)
    elif observation.status is RefundStatus.SUCCEEDED:
        refund.status = RefundStatus.SUCCEEDED
        refund.updated_at = posting.now
        uow.refunds.save(refund)
    else:
        return Settled(ApplyResult.STALE, purchase.id)
    return Settled(ApplyResult.APPLIED, purchase.id)


def _lock_purchase_of(uow: UnitOfWork, observation: RefundObservation) -> Purchase | None:
    """The purchase a refund observation is about, locked: its refund's, else the payment's."""
    refund = _find_refund(uow, observation)
    if refund is not None:
        return uow.purchases.get(refund.purchase_id, for_update=True)
    if observation.gateway_payment_reference:
        return find_purchase(uow, observation.gateway, observation.gateway_payment_reference, None)
    return None


def _book_external_refund(
    uow: UnitOfWork, purchase: Purchase, observation: RefundObservation, posting: Posting
) -> Settled:
    """Book a refund made outside this service when it fits in what remains captured."""
    if observation.status is RefundStatus.FAILED:
        return Settled(ApplyResult.STALE, purchase.id)
    if observation.amount.currency != purchase.amount.currency or (
        observation.amount > purchase.refundable
    ):
        return Settled(ApplyResult.CONFLICTING, purchase.id)
    external = Refund(
        id=posting.ids.new(REFUND_ID_PREFIX),
        purchase_id=purchase.id,
        customer_id=purchase.customer_id,
        amount=observation.amount,
        reason="made at the provider",
        status=observation.status,
        gateway=observation.gateway,
        created_at=posting.now,
        updated_at=posting.now,
        gateway_reference=observation.gateway_refund_reference,
    )
    book_refund(uow, purchase, external, posting)
    return Settled(ApplyResult.APPLIED, purchase.id)


def _find_refund(uow: UnitOfWork, observation: RefundObservation) -> Refund | None:
    """The refund of ours an observation is about: by our id, else by the provider's."""
    refund = None
    if observation.refund_id:
        refund = uow.refunds.get(observation.refund_id)
    if refund is None:
        refund = uow.refunds.get_by_gateway_reference(
            observation.gateway, observation.gateway_refund_reference
        )
    return refund


def _match_pending_refund(
    uow: UnitOfWork, purchase: Purchase, observation: RefundObservation
) -> Refund | None:
    """A refund of ours still waiting for the provider's id, with the same amount."""
    for candidate in uow.refunds.for_purchase(purchase.id):
        if (
            candidate.gateway_reference is None
            and candidate.status is RefundStatus.PENDING
            and candidate.amount == observation.amount
        ):
            return candidate
    return None
