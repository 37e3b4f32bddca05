"""Cash vouchers (Efecty): what a payer pays at a counter, and the payments reported for them.

A voucher is the provider's side of a purchase routed to a cash network: its code is what the
payer quotes at the counter and what an operator or a settlement file reports paid. It is paid
at most once, for exactly its amount, before it expires (old-systems.md §B.5 #3: the voucher
is stored and checked, never trusted from a well-formed string).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from payments.domain.errors import MalformedNotificationError
from payments.domain.gateway import Notification
from payments.domain.money import Money
from payments.domain.purchase import GatewayObservation, ObservationSource, PaymentOutcome

__all__ = [
    "CASH_VOUCHER_GATEWAY",
    "VOUCHER_PAID",
    "CashVoucher",
    "VoucherPayment",
    "VoucherStatus",
    "VoucherVerdict",
]

CASH_VOUCHER_GATEWAY: Final = "efecty"
"""The gateway (and inbox provider) whose purchases are paid by cash voucher."""
VOUCHER_PAID: Final = "voucher.paid"
"""The event type of a voucher payment as the inbox stores it."""
MAX_RECEIPT_LENGTH: Final = 64


class VoucherStatus(StrEnum):
    ISSUED = "issued"
    PAID = "paid"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class VoucherVerdict(StrEnum):
    """What a reported payment means for its voucher: ``accepted`` (pay it now), ``duplicate``
    (this very payment was already taken), ``unknown`` (no such voucher), or one of the
    mismatches: ``amount_mismatch``, ``already_paid`` (under another receipt), ``expired``,
    ``cancelled``."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    UNKNOWN = "unknown"
    AMOUNT_MISMATCH = "amount_mismatch"
    ALREADY_PAID = "already_paid"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class VoucherPayment:
    """One payment of a voucher as reported by an operator or a settlement file row.

    Its inbox identity is the voucher code and the network's receipt number: the same payment
    reported twice (an operator and the settlement file, or one file imported twice) is one
    event.
    """

    code: str
    amount: Money
    receipt_number: str
    paid_at: datetime
    reported_by: str

    @property
    def event_id(self) -> str:
        return f"{self.code}:{self.receipt_number}"

    def to_body(self) -> bytes:
        """The payment as the inbox stores it (read back by ``from_body``)."""
        return json.dumps(
            {
                "code": self.code,
                "amount": self.amount.to_dict(),
                "receipt_number": self.receipt_number,
                "paid_at": self.paid_at.isoformat(),
                "reported_by": self.reported_by,
            },
            sort_keys=True,
        ).encode()

    @classmethod
    def from_body(cls, body: bytes) -> VoucherPayment:
        """The payment ``to_body`` stored; ``MalformedNotificationError`` for anything else."""
        try:
            data = json.loads(body)
            return cls(
                code=str(data["code"]),
                amount=Money.from_dict(data["amount"]),
                receipt_number=str(data["receipt_number"]),
                paid_at=datetime.fromisoformat(data["paid_at"]),
                reported_by=str(data["reported_by"]),
            )
        except (ValueError, TypeError, KeyError, AttributeError) as error:
            raise MalformedNotificationError("Not a stored cash voucher payment.") from error

    def notification(self) -> Notification:
        """The payment as the one apply step takes a provider notification: a capture of
        exactly the paid amount, by the voucher's code."""
        return Notification(
            provider=CASH_VOUCHER_GATEWAY,
            event_id=self.event_id,
            event_type=VOUCHER_PAID,
            payment=GatewayObservation(
                gateway=CASH_VOUCHER_GATEWAY,
                outcome=PaymentOutcome.SUCCEEDED,
                source=ObservationSource.NOTIFICATION,
                gateway_reference=self.code,
                amount=self.amount,
                event_id=self.event_id,
            ),
        )


@dataclass(slots=True)
class CashVoucher:
    """One purchase's voucher: its code and barcode data, exact amount and deadline."""

    code: str
    purchase_id: str
    purchase_reference: str
    barcode: str
    amount: Money
    created_at: datetime
    expires_at: datetime
    status: VoucherStatus = VoucherStatus.ISSUED
    receipt_number: str | None = None
    paid_at: datetime | None = None
    closed_at: datetime | None = None

    def is_due_to_expire(self, now: datetime) -> bool:
        return self.status is VoucherStatus.ISSUED and now >= self.expires_at

    def verdict(self, payment: VoucherPayment, now: datetime) -> VoucherVerdict:
        """Whether ``payment`` may pay this voucher at ``now`` (reported at ``now``: a row of
        a settlement file paid before the deadline is taken even when imported after it)."""
        if self.status is VoucherStatus.PAID:
            if payment.receipt_number == self.receipt_number:
                return VoucherVerdict.DUPLICATE
            return VoucherVerdict.ALREADY_PAID
        if self.status is VoucherStatus.CANCELLED:
            return VoucherVerdict.CANCELLED
        if payment.amount.currency != self.amount.currency or payment.amount != self.amount:
            return VoucherVerdict.AMOUNT_MISMATCH
        if self.status is VoucherStatus.EXPIRED or min(payment.paid_at, now) >= self.expires_at:
            return VoucherVerdict.EXPIRED
        return VoucherVerdict.ACCEPTED

    def pay(self, payment: VoucherPayment, now: datetime) -> None:
        """Record an accepted payment (``verdict`` said ``accepted``)."""
        self.status = VoucherStatus.PAID
        self.receipt_number = payment.receipt_number
        self.paid_at = payment.paid_at
        self.closed_at = now

    def close(self, status: VoucherStatus, now: datetime) -> bool:
        """Expire or cancel an issued voucher; False when it is no longer issued."""
        if self.status is not VoucherStatus.ISSUED:
            return False
        self.status = status
        self.closed_at = now
        return True

    def observation(self) -> GatewayObservation | None:
        """What the voucher tells about its payment: nothing while it is issued (the purchase
        stays pending), else its capture, expiry or cancellation."""
        outcome = _OUTCOMES.get(self.status)
        if outcome is None:
            return None
        return GatewayObservation(
            gateway=CASH_VOUCHER_GATEWAY,
            outcome=outcome,
            source=ObservationSource.LOOKUP,
            gateway_reference=self.code,
            reference=self.purchase_reference,
            amount=self.amount if outcome is PaymentOutcome.SUCCEEDED else None,
        )


_OUTCOMES: Final = {
    VoucherStatus.PAID: PaymentOutcome.SUCCEEDED,
    VoucherStatus.EXPIRED: PaymentOutcome.EXPIRED,
    VoucherStatus.CANCELLED: PaymentOutcome.CANCELLED,
}
