"""Cash vouchers (Efecty): what a payer pays at a counter, and the payments reported for them.

A voucher is the provider's side of a purchase routed to a cash network: its code is what the
payer quotes at the counter and what an operator or a settlement file reports paid. It is paid
at most once, for exactly its amount, before it expires (old-systems.md §B.5 #3: the voucher
is stored and checked, never trusted from a well-formed string).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum, auto
from typing import Final

from payments.domain.errors import MalformedNotificationError, PaymentsError
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
    """Where a voucher is: ``issued`` (payable), then ``paid``, ``expired`` or ``cancelled``."""

    ISSUED = auto()
    PAID = auto()
    EXPIRED = auto()
    CANCELLED = auto()


class VoucherVerdict(StrEnum):
    """What a reported payment means for its voucher: ``accepted`` (pay it now), ``duplicate``
    (this very payment was already taken), ``unknown`` (no such voucher), or one of the
    mismatches: ``amount_mismatch``, ``already_paid`` (under another receipt), ``expired``,
    ``cancelled``."""

    ACCEPTED = auto()
    DUPLICATE = auto()
    UNKNOWN = auto()
    AMOUNT_MISMATCH = auto()
    ALREADY_PAID = auto()
    EXPIRED = auto()
    CANCELLED = auto()


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
        except (ValueError, TypeError, KeyError, AttributeError, PaymentsError) as error:
            raise MalformedNotificationError("Not a stored cash voucher payment.") from error

    def notification(self) -> Notification:
        """The payment as the one apply step takes a provider notification: a capture of
        exactly the paid amount, by the voucher's code."""
        capture = _observed(self.code, PaymentOutcome.SUCCEEDED, ObservationSource.NOTIFICATION)
        payment = replace(capture, amount=self.amount, event_id=self.event_id)
        return Notification(CASH_VOUCHER_GATEWAY, self.event_id, VOUCHER_PAID, payment=payment)


@dataclass(slots=True, kw_only=True)
class CashVoucher:
    """One purchase's voucher: its code and barcode data, exact amount and deadline, and what
    became of it (fields grouped by meaning, hence keyword-only)."""

    code: str
    """What the payer quotes at the counter: ``PREFIX-`` and 14 random digits, unique."""
    barcode: str
    """The barcode's digits, ending in their GS1 mod-10 check digit."""
    status: VoucherStatus
    receipt_number: str | None = None
    """The network's receipt of the payment that paid it."""
    purchase_id: str
    purchase_reference: str
    paid_at: datetime | None = None
    amount: Money
    """Exactly what must be paid: no more, no less."""
    created_at: datetime
    closed_at: datetime | None = None
    """When it was paid, expired or cancelled."""
    expires_at: datetime
    """From this moment the voucher cannot be paid; the worker expires it and its purchase."""

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
        seen = _observed(self.code, outcome, ObservationSource.LOOKUP)
        captured = self.amount if outcome is PaymentOutcome.SUCCEEDED else None
        return replace(seen, reference=self.purchase_reference, amount=captured)


def _observed(code: str, outcome: PaymentOutcome, source: ObservationSource) -> GatewayObservation:
    """What is known of the payment of the voucher ``code``."""
    return GatewayObservation(CASH_VOUCHER_GATEWAY, outcome, source, gateway_reference=code)


_OUTCOMES: Final = {
    VoucherStatus.PAID: PaymentOutcome.SUCCEEDED,
    VoucherStatus.EXPIRED: PaymentOutcome.EXPIRED,
    VoucherStatus.CANCELLED: PaymentOutcome.CANCELLED,
}
