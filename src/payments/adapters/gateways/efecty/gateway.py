"""EfectyGateway: the PaymentGateway port over our own voucher book (Efecty has no merchant API).

The provider's side of an Efecty payment is the stored voucher (``CashVoucherRepository``):
starting a payment issues it, in its own transaction, and an operator's confirmation or a
settlement file pays it (``payments.domain.services.cash_vouchers``). See decision record 0027.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Final

from payments.adapters.gateways.efecty.codes import barcode_data, new_code
from payments.adapters.gateways.efecty.instructions import payer_instructions
from payments.adapters.gateways.efecty.settings import (
    CASH_ONLY,
    DEFAULT_CODE_PREFIX,
    DEFAULT_EXPIRY_HOURS,
    DEFAULT_MAXIMUM,
    DEFAULT_MINIMUM,
    EXPIRY_MARGIN,
    GATEWAY_NAME,
    check_limits,
)
from payments.domain import gateway
from payments.domain.cash_voucher import CashVoucher, VoucherPayment, VoucherStatus
from payments.domain.errors import (
    ConflictError,
    GatewayUnavailableError,
    IdempotencyConflictError,
    InvalidSignatureError,
    UnsupportedByGatewayError,
)
from payments.domain.money import Money
from payments.domain.next_action import CashVoucherAction
from payments.domain.ports import Clock, PaymentGateway, UnitOfWork
from payments.domain.purchase import GatewayObservation

__all__ = ["EfectyGateway"]

CODE_ATTEMPTS: Final = 5
"""New codes drawn when the one drawn is taken (with 10**14 codes, one retry is already rare)."""


class EfectyGateway(PaymentGateway):
    """Cash vouchers payable at Efecty points, in Colombia, in whole Colombian pesos.

    ``start_payment`` issues the purchase's voucher (one per purchase: a start sent again
    answers the same voucher), valid for ``expiry``, for amounts from ``minimum`` to
    ``maximum``. Efecty sends no notifications: ``verify_notification`` refuses every delivery,
    and stored payments (``voucher.paid``, written by the cash voucher desk) are read back by
    ``parse_stored_notification``. There are no refunds (cash is given back outside), and
    ``cancel`` voids an unpaid voucher so that it can no longer be confirmed.
    """

    name = GATEWAY_NAME

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        clock: Clock,
        *,
        code_prefix: str = DEFAULT_CODE_PREFIX,
        expiry: timedelta = timedelta(hours=DEFAULT_EXPIRY_HOURS),
        minimum: Money = DEFAULT_MINIMUM,
        maximum: Money = DEFAULT_MAXIMUM,
        new_code: Callable[[str], str] = new_code,
    ) -> None:
        check_limits(minimum, maximum)
        self._uow = uow
        self._clock = clock
        self._prefix = code_prefix
        self._expiry = expiry
        self._new_code = new_code
        # Limits and validity are configured; what cash can do is not (settings.CASH_ONLY).
        limits = replace(CASH_ONLY, minimum_amount=minimum, maximum_amount=maximum)
        self.capabilities = replace(limits, payment_window=expiry + EXPIRY_MARGIN)

    # -- the port ------------------------------------------------------------------------------

    def start_payment(self, request: gateway.PaymentRequest) -> gateway.PaymentStart:
        """Issue the purchase's voucher, or answer the one it has (the same amount)."""
        refusal = self.capabilities.refusal(request.country, request.amount, request.payment_method)
        if refusal is not None:
            raise UnsupportedByGatewayError(f"Efecty {refusal}.")
        for _ in range(CODE_ATTEMPTS):
            voucher = self._issued(request)
            if voucher is not None:
                return self._start(voucher, request)
        raise GatewayUnavailableError(
            "No free voucher code was found; try again.", charged_possible=False
        )

    def lookup(self, reference: str, gateway_reference: str | None) -> GatewayObservation | None:
        """The payment, expiry or cancellation of the voucher ``gateway_reference`` issued for
        our ``reference``; None while it is issued, and for any other voucher. Without its code
        nothing is guessed (``authoritative_lookup`` is off): a lost start is sent again."""
        if not gateway_reference:
            return None
        with self._uow() as uow:
            voucher = uow.cash_vouchers.get(gateway_reference)
        if voucher is None or voucher.purchase_reference != reference:
            return None
        return voucher.observation()

    def cancel(self, gateway_reference: str, idempotency_key: str) -> GatewayObservation:
        """Void an issued voucher; a paid, expired or cancelled one is reported as it is."""
        now = self._clock.now()
        with self._uow() as uow:
            voucher = uow.cash_vouchers.get(gateway_reference, for_update=True)
            if voucher is None:
                raise UnsupportedByGatewayError(f"Efecty issued no voucher {gateway_reference!r}.")
            if voucher.close(VoucherStatus.CANCELLED, now):
                uow.cash_vouchers.save(voucher)
                uow.commit()
        observation = voucher.observation()
        if observation is None:  # cannot be: a voucher that is not issued has an outcome
            raise ConflictError(f"Voucher {gateway_reference!r} is still issued.")
        return observation

    def refund(self, request: gateway.RefundRequest) -> gateway.RefundResult:
        """Efecty gives nothing back: a cash payment is refunded outside the gateway."""
        raise UnsupportedByGatewayError("Efecty cannot refund a cash payment.")

    def verify_notification(self, headers: Mapping[str, str], body: bytes) -> gateway.Notification:
        """Efecty sends no notifications: every delivery to its webhook is refused."""
        raise InvalidSignatureError(
            "Efecty sends no notifications: vouchers are confirmed with POST "
            "/v1/efecty/confirmations or a settlement file."
        )

    def parse_stored_notification(
        self, headers: Mapping[str, str], body: bytes
    ) -> gateway.Notification:
        """A voucher payment the cash voucher desk stored in the inbox."""
        return VoucherPayment.from_body(body).notification()

    # -- the steps -----------------------------------------------------------------------------

    def _issued(self, request: gateway.PaymentRequest) -> CashVoucher | None:
        """The purchase's voucher: the stored one, else a new one; None when the code drawn
        was taken (draw again)."""
        now = self._clock.now()
        code = self._new_code(self._prefix)
        voucher = CashVoucher(
            code=code,
            status=VoucherStatus.ISSUED,
            purchase_id=request.purchase_id,
            purchase_reference=request.reference,
            barcode=barcode_data(code, request.amount),
            amount=request.amount,
            created_at=now,
            expires_at=now + self._expiry,
        )
        with self._uow() as uow:
            stored = uow.cash_vouchers.for_reference(request.reference)
            if stored is not None:
                return stored
            try:
                uow.cash_vouchers.add(voucher)
            except ConflictError:
                stored = uow.cash_vouchers.for_reference(request.reference)
                return stored  # another start issued it first, or the code was taken
            uow.commit()
        return voucher

    @staticmethod
    def _start(voucher: CashVoucher, request: gateway.PaymentRequest) -> gateway.PaymentStart:
        if voucher.amount != request.amount or voucher.purchase_reference != request.reference:
            raise IdempotencyConflictError(
                "This purchase's voucher was issued for another request.",
                details={"code": voucher.code},
            )
        action = CashVoucherAction(
            code=voucher.code,
            barcode=voucher.barcode,
            amount=voucher.amount,
            expires_at=voucher.expires_at,
            instructions=payer_instructions(voucher.code, voucher.amount, voucher.expires_at),
        )
        return gateway.PaymentStart(gateway_reference=voucher.code, next_action=action)
