"""Reads inside a unit of work that must find their record: a missing one is ``NotFoundError``."""

from __future__ import annotations

from payments.domain.errors import NotFoundError
from payments.domain.ports import UnitOfWork
from payments.domain.purchase import Purchase
from payments.domain.refund import Refund


def locked_purchase(uow: UnitOfWork, purchase_id: str) -> Purchase:
    """The purchase, read under its row lock."""
    purchase = uow.purchases.get(purchase_id, for_update=True)
    if purchase is None:
        raise NotFoundError(f"Purchase {purchase_id!r} does not exist.")
    return purchase


def stored_refund(uow: UnitOfWork, refund_id: str) -> Refund:
    """The refund as stored now."""
    refund = uow.refunds.get(refund_id)
    if refund is None:
        raise NotFoundError(f"Refund {refund_id!r} does not exist.")
    return refund
