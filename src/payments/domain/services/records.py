"""Reads inside a unit of work that must find their record: a missing one is ``NotFoundError``."""

from __future__ import annotations

from typing import Protocol, TypeVar

from payments.domain.access import Principal, Role
from payments.domain.errors import ForbiddenError, NotFoundError
from payments.domain.ports import UnitOfWork
from payments.domain.purchase import Purchase
from payments.domain.refund import Refund


class _CustomersRecord(Protocol):
    @property
    def customer_id(self) -> str: ...


_Record = TypeVar("_Record", bound=_CustomersRecord)
_Found = TypeVar("_Found")


def found(record: _Found | None, missing: str) -> _Found:
    """``record`` as read; ``NotFoundError`` saying ``missing`` when there was none."""
    if record is None:
        raise NotFoundError(missing)
    return record


def locked_purchase(uow: UnitOfWork, purchase_id: str) -> Purchase:
    """The purchase, read under its row lock."""
    purchase = uow.purchases.get(purchase_id, for_update=True)
    return found(purchase, f"Purchase {purchase_id!r} does not exist.")


def stored_refund(uow: UnitOfWork, refund_id: str) -> Refund:
    """The refund as stored now."""
    return found(uow.refunds.get(refund_id), f"Refund {refund_id!r} does not exist.")


def readable(principal: Principal, record: _Record | None, kind: str, record_id: str) -> _Record:
    """The record if ``principal`` may read its customer's records; a record it may not read is
    ``NotFoundError``, the same as a missing one (never a hint that it exists)."""
    if record is None or not principal.can_read_customer(record.customer_id):
        raise NotFoundError(f"{kind} {record_id!r} does not exist.")
    return record


def listed_customer(
    principal: Principal, customer_id: str | None, records: str
) -> tuple[bool, str | None]:
    """Whose ``records`` the caller lists: ``(False, None)`` when a customer key names another
    customer (an empty page, never a hint), else ``(True, customer)``: a customer key's own,
    ``customer_id`` as given for merchants and admins. A publishable key is ``ForbiddenError``."""
    if principal.role is Role.CUSTOMER:
        if customer_id not in (None, principal.customer_id):
            return False, None
        return True, principal.customer_id
    if principal.role is Role.PUBLIC:
        raise ForbiddenError(f"A publishable key cannot list {records}.")
    return True, customer_id
