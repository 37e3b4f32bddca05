"""Cash voucher payments (Efecty): an admin's confirmation, a settlement file, expiry.

A reported payment pays its stored voucher only when the voucher exists, is still issued, and
the amount is exactly the voucher's; the voucher is marked paid and the payment goes through
the one apply step as an inbox notification of provider ``efecty`` (event id: code and
receipt number), all in one transaction. The voucher's row lock, then the purchase's, serialize
two reports of one voucher, and the inbox's unique event id makes the same payment count once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from payments.domain.access import Principal, Role
from payments.domain.cash_settlement import SettlementRow
from payments.domain.cash_voucher import (
    MAX_RECEIPT_LENGTH,
    CashVoucher,
    VoucherPayment,
    VoucherStatus,
    VoucherVerdict,
)
from payments.domain.errors import (
    AmountMismatchError,
    ConflictError,
    FieldError,
    ForbiddenError,
    NotFoundError,
    PaymentsError,
    ValidationError,
)
from payments.domain.money import Money
from payments.domain.ports import UnitOfWork
from payments.domain.purchase import Purchase
from payments.domain.services.notifications import inbox_message, record_notification
from payments.domain.services.records import found, locked_purchase
from payments.domain.services.use_case import UseCase

__all__ = ["CashVoucherDesk", "SettlementLine", "SettlementReport"]

log = logging.getLogger(__name__)

EXPIRY_ACTOR = "efecty:expiry"


class SettlementLine(NamedTuple):
    """A row of a settlement file that was not applied, and why (a ``VoucherVerdict``)."""

    line: int
    code: str
    reason: str


@dataclass(slots=True)
class SettlementReport:
    """What one settlement file did, row by row: the line numbers ``applied``, the rows that
    were ``duplicate`` (already taken), ``unknown`` (no such voucher) and ``mismatched`` (wrong
    amount, expired, cancelled or paid under another receipt)."""

    applied: list[int] = field(default_factory=list)
    duplicate: list[SettlementLine] = field(default_factory=list)
    unknown: list[SettlementLine] = field(default_factory=list)
    mismatched: list[SettlementLine] = field(default_factory=list)

    def count(self, row: SettlementRow, verdict: VoucherVerdict) -> None:
        if verdict is VoucherVerdict.ACCEPTED:
            self.applied.append(row.line)
            return
        line = SettlementLine(row.line, row.code, verdict.value)
        if verdict is VoucherVerdict.DUPLICATE:
            self.duplicate.append(line)
        elif verdict is VoucherVerdict.UNKNOWN:
            self.unknown.append(line)
        else:
            self.mismatched.append(line)


class CashVoucherDesk(UseCase):
    """Takes the payments of cash vouchers and expires the vouchers nobody paid."""

    def confirm(
        self, code: str, amount: Money, receipt_number: str, principal: Principal
    ) -> Purchase:
        """An admin confirms that the voucher ``code`` was paid ``amount`` under the network's
        ``receipt_number``; the purchase completes (credits once). Refused, changing nothing:
        ``NotFoundError`` (no such voucher), ``AmountMismatchError`` (not exactly its amount),
        ``ConflictError`` (expired, cancelled, or already paid: a second confirmation)."""
        if principal.role is not Role.ADMIN:
            raise ForbiddenError("Only an admin key confirms cash vouchers.")
        receipt = receipt_number.strip() if isinstance(receipt_number, str) else ""
        if not (1 <= len(receipt) <= MAX_RECEIPT_LENGTH and receipt.isprintable()):
            raise ValidationError(
                "The receipt number is invalid.",
                errors=[
                    FieldError(
                        "receipt_number", f"must be 1 to {MAX_RECEIPT_LENGTH} printable characters"
                    )
                ],
            )
        now = self._clock.now()
        payment = VoucherPayment(
            code=code.strip().upper(),
            amount=amount,
            receipt_number=receipt,
            paid_at=now,
            reported_by=principal.key_id or principal.role.value,
        )
        with self._uow() as uow:
            voucher = uow.cash_vouchers.get(payment.code, for_update=True)
            verdict = self._take(uow, voucher, payment, now)
            if voucher is None or verdict is not VoucherVerdict.ACCEPTED:
                raise _refusal(verdict, voucher, payment)
            purchase = locked_purchase(uow, voucher.purchase_id)
            uow.commit()
        return purchase

    def settle(
        self,
        rows: Sequence[SettlementRow],
        reported_by: str,
        progress: Callable[[int, int], None] | None = None,
    ) -> SettlementReport:
        """Apply a settlement file's rows, each in its own transaction and each once: a row
        already taken (this file imported again) is ``duplicate`` and changes nothing.
        ``progress(done, total)`` is told after each row."""
        report = SettlementReport()
        for done, row in enumerate(rows, start=1):
            payment = VoucherPayment(
                row.code, row.amount, row.receipt_number, row.paid_at, reported_by
            )
            report.count(row, self.report(payment))
            if progress is not None:
                progress(done, len(rows))
        log.info(
            "settlement by %s: %d applied, %d duplicate, %d unknown, %d mismatched",
            reported_by,
            len(report.applied),
            len(report.duplicate),
            len(report.unknown),
            len(report.mismatched),
        )
        return report

    def report(self, payment: VoucherPayment) -> VoucherVerdict:
        """Take one reported payment in its own transaction if it may pay its voucher; its
        verdict (nothing changes unless ``accepted``)."""
        with self._uow() as uow:
            voucher = uow.cash_vouchers.get(payment.code, for_update=True)
            verdict = self._take(uow, voucher, payment, self._clock.now())
            uow.commit()
        return verdict

    def pay_in_full(self, code: str, receipt_number: str, reported_by: str) -> VoucherVerdict:
        """Report the voucher paid its exact amount now (the sandbox's ``approve``)."""
        voucher = self.voucher(code)
        now = self._clock.now()
        return self.report(VoucherPayment(code, voucher.amount, receipt_number, now, reported_by))

    def voucher(self, code: str) -> CashVoucher:
        """The voucher as stored; ``NotFoundError`` when no such voucher was issued."""
        with self._uow() as uow:
            voucher = uow.cash_vouchers.get(code)
        return found(voucher, f"No cash voucher {code!r} was issued.")

    def expire_now(self, code: str) -> bool:
        """Let an issued voucher's deadline pass now (the sandbox's ``expire``), expiring its
        purchase; False when it is no longer issued."""
        return self._expire(self.voucher(code).code, self._clock.now(), early=True)

    def expire_due(self, limit: int = 100) -> dict[str, int]:
        """Expire the issued vouchers past their deadline and their purchases (still open
        ones); returns counts by label (``expired vouchers``, and ``voucher errors``)."""
        now = self._clock.now()
        with self._uow() as uow:
            due = [voucher.code for voucher in uow.cash_vouchers.due_to_expire(now, limit)]
        counts: dict[str, int] = {}
        for code in due:
            try:
                label = "expired vouchers" if self._expire(code, now) else "paid meanwhile"
            except PaymentsError as error:
                log.warning("expiry of voucher %s failed: %s", code, error)
                label = "voucher errors"
            counts[label] = counts.get(label, 0) + 1
        return counts

    def _expire(self, code: str, now: datetime, *, early: bool = False) -> bool:
        """Expire the voucher (``early``: before its deadline) and its purchase."""
        with self._uow() as uow:
            voucher = uow.cash_vouchers.get(code, for_update=True)
            if voucher is None or voucher.status is not VoucherStatus.ISSUED:
                return False  # paid, expired or cancelled since it was listed
            if not (early or voucher.is_due_to_expire(now)):
                return False
            voucher.close(VoucherStatus.EXPIRED, now)
            uow.cash_vouchers.save(voucher)
            purchase = locked_purchase(uow, voucher.purchase_id)
            if purchase.expire(now, EXPIRY_ACTOR):
                uow.purchases.save(purchase)
            uow.commit()
        return True

    def _take(
        self,
        uow: UnitOfWork,
        voucher: CashVoucher | None,
        payment: VoucherPayment,
        now: datetime,
    ) -> VoucherVerdict:
        """Pay the (locked) voucher and apply the payment when it may be taken; its verdict."""
        if voucher is None:
            return VoucherVerdict.UNKNOWN
        verdict = voucher.verdict(payment, now)
        if verdict is not VoucherVerdict.ACCEPTED:
            return verdict
        voucher.pay(payment, now)
        uow.cash_vouchers.save(voucher)
        notification = payment.notification()
        body = payment.to_body()
        message = inbox_message(
            notification.provider, notification, {}, body, now=now, ids=self._ids
        )
        recorded = record_notification(
            uow, message, notification, now=now, ids=self._ids, invoicing=self._invoicing
        )
        if recorded is None:
            return VoucherVerdict.DUPLICATE  # the inbox had this payment: all rolled back
        return verdict


def _refusal(
    verdict: VoucherVerdict, voucher: CashVoucher | None, payment: VoucherPayment
) -> PaymentsError:
    """The error an admin's confirmation is refused with."""
    if voucher is None or verdict is VoucherVerdict.UNKNOWN:
        return NotFoundError(f"No cash voucher {payment.code!r} was issued.")
    details: dict[str, object] = {"voucher_code": voucher.code, "reason": verdict.value}
    if verdict is VoucherVerdict.AMOUNT_MISMATCH:
        return AmountMismatchError(
            f"The voucher is for exactly {voucher.amount}, not {payment.amount}.",
            details={**details, "expected": voucher.amount.to_dict()},
        )
    messages = {
        VoucherVerdict.DUPLICATE: "This payment of the voucher was already confirmed.",
        VoucherVerdict.ALREADY_PAID: "The voucher was already paid under another receipt.",
        VoucherVerdict.EXPIRED: "The voucher expired before it was paid.",
        VoucherVerdict.CANCELLED: "The voucher was cancelled with its purchase.",
    }
    return ConflictError(messages[verdict], details=details)
