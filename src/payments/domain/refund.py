"""Refunds: money given back on a captured purchase, many partial ones allowed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from payments.domain.money import Money

REFUND_ID_PREFIX: Final = "rfd"
"""Every refund's id starts ``rfd_``: ours, keyed ones (``rfd_k...``) and those a provider
notification tells us were made at the provider."""


class RefundStatus(StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(slots=True, kw_only=True)
class Refund:
    """A refund of part or all of a purchase; it counts against the capture unless it failed."""

    id: str
    purchase_id: str
    customer_id: str
    amount: Money
    reason: str | None
    status: RefundStatus
    failure_message: str | None = None
    gateway: str
    gateway_reference: str | None = None
    created_at: datetime
    updated_at: datetime

    @property
    def awaiting_answer(self) -> bool:
        """Booked but never answered by the provider: pending, and without the provider's id
        (the call timed out, or its answer could not be recorded)."""
        return self.status is RefundStatus.PENDING and self.gateway_reference is None


@dataclass(frozen=True, slots=True)
class RefundObservation:
    """What a provider says about a refund (from a notification or a lookup)."""

    gateway: str
    gateway_refund_reference: str
    gateway_payment_reference: str | None
    amount: Money
    status: RefundStatus
    event_id: str | None = None
    refund_id: str | None = None
