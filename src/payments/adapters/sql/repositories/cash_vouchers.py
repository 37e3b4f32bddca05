"""The SQL store of Efecty's cash vouchers: one row per purchase, a unique code."""

from __future__ import annotations

import builtins
from datetime import datetime

from sqlalchemy import select

from payments.adapters.sql.mappers import voucher_from_row, voucher_to_row
from payments.adapters.sql.repositories.base import SqlRepository
from payments.adapters.sql.tables import efecty_vouchers
from payments.domain.cash_voucher import CashVoucher, VoucherStatus
from payments.domain.voucher_ports import CashVoucherRepository

_MUTABLE = ("status", "receipt_number", "paid_at", "closed_at")


class SqlCashVoucherRepository(SqlRepository, CashVoucherRepository):
    def add(self, voucher: CashVoucher) -> None:
        """Store a new voucher; ``ConflictError`` (transaction intact: the insert does nothing
        on a conflict) when its code or its purchase's voucher exists."""
        self._insert_new(efecty_vouchers, voucher_to_row(voucher), f"Voucher {voucher.code!r}")

    def get(self, code: str, *, for_update: bool = False) -> CashVoucher | None:
        return self._found(efecty_vouchers, {"code": code}, voucher_from_row, for_update)

    def for_reference(self, purchase_reference: str) -> CashVoucher | None:
        keys = {"purchase_reference": purchase_reference}
        return self._found(efecty_vouchers, keys, voucher_from_row)

    def save(self, voucher: CashVoucher) -> None:
        row = voucher_to_row(voucher)
        self._update_stored(efecty_vouchers, row, _MUTABLE, "Voucher", key="code")

    def due_to_expire(self, now: datetime, limit: int) -> builtins.list[CashVoucher]:
        column = efecty_vouchers.c
        issued = select(efecty_vouchers).where(column.status == VoucherStatus.ISSUED.value)
        soonest = issued.where(column.expires_at <= now).order_by(column.expires_at, column.code)
        return [voucher_from_row(row) for row in self._all(soonest.limit(limit))]
