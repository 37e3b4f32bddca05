"""The in-memory store of cash vouchers, for ``InMemoryUnitOfWork``: unique codes, one per
purchase, as the SQL table's constraints keep them."""

from __future__ import annotations

import builtins
import copy
from datetime import datetime
from typing import Protocol

from payments.domain.cash_voucher import CashVoucher
from payments.domain.errors import ConflictError
from payments.domain.voucher_ports import CashVoucherRepository


class VoucherTables(Protocol):
    cash_vouchers: dict[str, CashVoucher]
    """Vouchers by purchase id."""


class InMemoryCashVouchers(CashVoucherRepository):
    """Vouchers of one unit of work's working tables (``_t``, rebound on commit/rollback)."""

    def __init__(self, t: VoucherTables) -> None:
        self._t = t

    def add(self, voucher: CashVoucher) -> None:
        taken = voucher.purchase_id in self._t.cash_vouchers or self.get(voucher.code)
        if taken:
            raise ConflictError(f"Voucher {voucher.code!r} already exists.")
        self._t.cash_vouchers[voucher.purchase_id] = copy.copy(voucher)

    def get(self, code: str, *, for_update: bool = False) -> CashVoucher | None:
        found = [v for v in self._t.cash_vouchers.values() if v.code == code]
        return copy.copy(found[0]) if found else None

    def for_reference(self, purchase_reference: str) -> CashVoucher | None:
        found = [
            v for v in self._t.cash_vouchers.values() if v.purchase_reference == purchase_reference
        ]
        return copy.copy(found[0]) if found else None

    def save(self, voucher: CashVoucher) -> None:
        if self.get(voucher.code) is None:
            raise ConflictError(f"Voucher {voucher.code!r} was never added.")
        self._t.cash_vouchers[voucher.purchase_id] = copy.copy(voucher)

    def due_to_expire(self, now: datetime, limit: int) -> builtins.list[CashVoucher]:
        due = [v for v in self._t.cash_vouchers.values() if v.is_due_to_expire(now)]
        due.sort(key=lambda v: (v.expires_at, v.code))
        return [copy.copy(v) for v in due[:limit]]
