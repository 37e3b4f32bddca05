"""Sandbox mode's Efecty point: the sandbox actions on a purchase paid by cash voucher."""

from __future__ import annotations

from payments.domain.cash_voucher import VoucherVerdict
from payments.domain.errors import InvalidTransitionError
from payments.domain.services.cash_vouchers import CashVoucherDesk

__all__ = ["SANDBOX_RECEIPT_PREFIX", "EfectyCounter"]

SANDBOX_RECEIPT_PREFIX = "SANDBOX-"
SANDBOX_REPORTER = "sandbox"


class EfectyCounter:
    """``approve`` pays the voucher its exact amount, as a payer at an Efecty point and the
    admin's confirmation would (receipt ``SANDBOX-<code>``, through the same desk and inbox);
    ``expire`` lets its deadline pass; ``decline`` is refused: a cash voucher is paid or it
    expires. Implements ``payments.sandbox.controller.PaymentSimulator``."""

    def __init__(self, desk: CashVoucherDesk) -> None:
        self._desk = desk

    def approve(self, gateway_reference: str) -> dict[str, object]:
        receipt = SANDBOX_RECEIPT_PREFIX + gateway_reference
        verdict = self._desk.pay_in_full(gateway_reference, receipt, SANDBOX_REPORTER)
        if verdict not in (VoucherVerdict.ACCEPTED, VoucherVerdict.DUPLICATE):
            raise InvalidTransitionError(
                f"The voucher cannot be paid: {verdict.value}.", details={"reason": verdict.value}
            )
        return {"voucher": verdict.value, "receipt_number": receipt}

    def decline(self, gateway_reference: str) -> dict[str, object]:
        raise InvalidTransitionError("A cash voucher is never declined: it is paid or expires.")

    def expire(self, gateway_reference: str) -> dict[str, object]:
        if not self._desk.expire_now(gateway_reference):
            raise InvalidTransitionError("The voucher is no longer waiting to be paid.")
        return {"voucher": "expired"}
