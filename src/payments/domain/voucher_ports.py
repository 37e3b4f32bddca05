"""The port of cash vouchers (Efecty): where the vouchers issued for purchases are kept."""

from __future__ import annotations

import abc
import builtins
from datetime import datetime

from payments.domain.cash_voucher import CashVoucher


class CashVoucherRepository(abc.ABC):
    """The cash vouchers issued for purchases (Efecty), one per purchase, by unique code."""

    @abc.abstractmethod
    def add(self, voucher: CashVoucher) -> None:
        """Store a new voucher; ``ConflictError`` (transaction intact) if its code is taken or
        its purchase has one already."""

    @abc.abstractmethod
    def get(self, code: str, *, for_update: bool = False) -> CashVoucher | None:
        """The voucher with this code; ``for_update`` locks it until the unit of work ends."""

    @abc.abstractmethod
    def for_reference(self, purchase_reference: str) -> CashVoucher | None:
        """The voucher of the purchase with our ``purchase_reference``, or None."""

    @abc.abstractmethod
    def due_to_expire(self, now: datetime, limit: int) -> builtins.list[CashVoucher]:
        """Issued vouchers whose deadline is at or before ``now``, soonest first."""

    @abc.abstractmethod
    def save(self, voucher: CashVoucher) -> None:
        """Persist the voucher's status, payment and closing time; ``ConflictError`` if absent."""
