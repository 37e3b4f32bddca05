"""Everything recorded about one purchase, read at once for an operator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from payments.domain.inbox import InboxMessage
from payments.domain.ledger import LedgerEntry
from payments.domain.ports import UnitOfWork
from payments.domain.purchase import AuditRecord, Purchase
from payments.domain.refund import Refund
from payments.domain.services.records import found


@dataclass(frozen=True, slots=True)
class PurchaseDossier:
    """A purchase, its audit trail, the notifications applied to it, its refunds and its ledger
    entries, each oldest first, as one transaction saw them."""

    purchase: Purchase
    audit: list[AuditRecord]
    notifications: list[InboxMessage]
    refunds: list[Refund]
    ledger: list[LedgerEntry]


class PurchaseDossiers:
    """Reads dossiers (``payments purchases show``); no access check: for operators."""

    def __init__(self, unit_of_work: Callable[[], UnitOfWork]) -> None:
        self._uow = unit_of_work

    def dossier(self, purchase_id: str) -> PurchaseDossier:
        """The purchase's dossier; ``NotFoundError`` for an unknown id."""
        with self._uow() as uow:
            purchase = found(
                uow.purchases.get(purchase_id), f"Purchase {purchase_id!r} does not exist."
            )
            return PurchaseDossier(
                purchase,
                uow.purchases.audit_trail(purchase_id),
                uow.inbox.for_purchase(purchase_id),
                uow.refunds.for_purchase(purchase_id),
                uow.ledger.for_purchase(purchase_id),
            )
