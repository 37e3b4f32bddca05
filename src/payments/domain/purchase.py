"""The purchase aggregate and its state machine: one place decides every status change."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from payments.domain.errors import (
    CurrencyMismatchError,
    InvalidTransitionError,
    RefundExceedsCapturedError,
    ValidationError,
)
from payments.domain.events import (
    DomainEvent,
    PurchaseCompleted,
    PurchaseCreated,
    PurchaseFlaggedForReview,
    PurchaseStatusChanged,
)
from payments.domain.money import Money
from payments.domain.next_action import NextAction
from payments.domain.text import provider_code, provider_message


class PurchaseStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"


OPEN_STATUSES = frozenset({PurchaseStatus.PENDING, PurchaseStatus.PROCESSING})
CAPTURED_STATUSES = frozenset(
    {PurchaseStatus.COMPLETED, PurchaseStatus.PARTIALLY_REFUNDED, PurchaseStatus.REFUNDED}
)


class PaymentOutcome(StrEnum):
    """What a provider says happened to a payment."""

    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class ObservationSource(StrEnum):
    RESPONSE = "response"
    NOTIFICATION = "notification"
    LOOKUP = "lookup"
    OPERATOR = "operator"


class ApplyResult(StrEnum):
    """How the apply step took an observation: it moved the purchase (``applied``), the purchase
    already showed it (``already_applied``), it came too late to matter (``stale``), or it
    disagrees with our records (``conflicting``)."""

    APPLIED = "applied"
    ALREADY_APPLIED = "already_applied"
    STALE = "stale"
    CONFLICTING = "conflicting"


@dataclass(frozen=True, slots=True)
class GatewayObservation:
    """What a gateway told us about one payment: from an API response, a notification or a lookup.

    ``reference`` is our purchase reference echoed back by the provider; ``gateway_reference`` is
    the provider's own id for the payment. ``amount`` is what the provider says it charged.
    """

    gateway: str
    outcome: PaymentOutcome
    source: ObservationSource
    gateway_reference: str | None = None
    reference: str | None = None
    amount: Money | None = None
    event_id: str | None = None
    provider_code: str | None = None
    message: str | None = None

    @classmethod
    def declined(cls, gateway: str, code: str | None, message: str | None) -> GatewayObservation:
        """A provider's answer that refuses the payment: it failed, with the provider's code."""
        return cls(
            gateway,
            PaymentOutcome.FAILED,
            ObservationSource.RESPONSE,
            None,
            None,
            None,
            None,
            code,
            message,
        )


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One status change: who or what moved the purchase from where to where, and when."""

    purchase_id: str
    from_status: PurchaseStatus | None
    to_status: PurchaseStatus
    cause: str
    actor: str
    event_id: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class RoutingDecision:
    """The ordered gateways to try and why they were chosen."""

    chain: tuple[str, ...]
    reason: str


# What an observed outcome does to a purchase in a given status (DESIGN §2):
# a target status, "noop" (already there), or "ignore" (stale or out of order).
_NOOP = "noop"
_IGNORE = "ignore"
_REVIEW = "review"
_S = PurchaseStatus
_O = PaymentOutcome
_OBSERVED: dict[PurchaseStatus, dict[PaymentOutcome, str]] = {
    _S.PENDING: {
        _O.PROCESSING: _S.PROCESSING,
        _O.SUCCEEDED: _S.COMPLETED,
        _O.FAILED: _S.FAILED,
        _O.CANCELLED: _S.CANCELLED,
        _O.EXPIRED: _S.EXPIRED,
    },
    _S.PROCESSING: {
        _O.PROCESSING: _NOOP,
        _O.SUCCEEDED: _S.COMPLETED,
        _O.FAILED: _S.FAILED,
        _O.CANCELLED: _S.CANCELLED,
        _O.EXPIRED: _S.EXPIRED,
    },
    _S.FAILED: {
        _O.PROCESSING: _S.PROCESSING,
        _O.SUCCEEDED: _S.COMPLETED,
        _O.FAILED: _NOOP,
        _O.CANCELLED: _S.CANCELLED,
        _O.EXPIRED: _S.EXPIRED,
    },
    _S.CANCELLED: {
        _O.PROCESSING: _IGNORE,
        _O.SUCCEEDED: _REVIEW,
        _O.FAILED: _IGNORE,
        _O.CANCELLED: _NOOP,
        _O.EXPIRED: _NOOP,
    },
    _S.EXPIRED: {
        _O.PROCESSING: _IGNORE,
        _O.SUCCEEDED: _REVIEW,
        _O.FAILED: _IGNORE,
        _O.CANCELLED: _NOOP,
        _O.EXPIRED: _NOOP,
    },
    _S.COMPLETED: {
        _O.PROCESSING: _IGNORE,
        _O.SUCCEEDED: _NOOP,
        _O.FAILED: _IGNORE,
        _O.CANCELLED: _IGNORE,
        _O.EXPIRED: _IGNORE,
    },
}
for _refunded in (_S.PARTIALLY_REFUNDED, _S.REFUNDED):  # moved by refunds only
    _OBSERVED[_refunded] = dict.fromkeys(PaymentOutcome, _IGNORE)

_CANCELLABLE = frozenset({_S.PENDING, _S.PROCESSING, _S.FAILED})


@dataclass(slots=True)
class Purchase:
    """One attempt of a customer to buy one product, from creation to capture and refunds.

    The price, credits and validity are copied from the product when the purchase is created, so
    a later catalog change never alters what was sold. Status changes go through ``apply``,
    ``cancel``, ``expire`` and the refund methods only; each records an audit record and events.
    """

    id: str
    reference: str
    customer_id: str
    product_id: str
    amount: Money
    credits: Decimal
    validity_days: int | None
    country: str
    payment_method: str | None
    routing: RoutingDecision
    created_at: datetime
    updated_at: datetime
    status: PurchaseStatus = PurchaseStatus.PENDING
    gateway: str | None = None
    gateway_reference: str | None = None
    next_action: NextAction | None = None
    return_url: str | None = None
    refunded_amount: Money | None = None
    needs_review: bool = False
    review_reason: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None
    completed_at: datetime | None = None
    invoice_id: str | None = None  # issued in the transaction that completes the purchase
    version: int = 0  # the stored version this copy was read at; bumped by the repository
    pending_audit: list[AuditRecord] = field(default_factory=list)
    events: list[DomainEvent] = field(default_factory=list)

    @classmethod
    def create(
        cls,
        *,
        id: str,
        reference: str,
        customer_id: str,
        product_id: str,
        amount: Money,
        credits: Decimal,
        validity_days: int | None,
        country: str,
        payment_method: str | None,
        routing: RoutingDecision,
        now: datetime,
        return_url: str | None = None,
        actor: str = "system",
    ) -> Purchase:
        """A new pending purchase for ``amount``, positive and exact in its currency."""
        if not amount.is_positive or not amount.is_exact:
            raise ValidationError("A purchase amount must be positive and exact in its currency.")
        purchase = cls(
            id=id,
            reference=reference,
            customer_id=customer_id,
            product_id=product_id,
            amount=amount,
            credits=credits,
            validity_days=validity_days,
            country=country,
            payment_method=payment_method,
            routing=routing,
            created_at=now,
            updated_at=now,
            gateway=routing.chain[0] if routing.chain else None,
            return_url=return_url,
            refunded_amount=Money.zero(amount.currency),
        )
        purchase.pending_audit.append(
            AuditRecord(id, None, PurchaseStatus.PENDING, "created", actor, None, now)
        )
        purchase.events.append(
            PurchaseCreated(now, id, customer_id, product_id, amount, purchase.gateway)
        )
        return purchase

    # -- queries -------------------------------------------------------------------------------

    @property
    def refunded(self) -> Money:
        """The total taken back by refunds that were accepted (pending or succeeded)."""
        return self.refunded_amount or Money.zero(self.amount.currency)

    @property
    def refundable(self) -> Money:
        """What can still be refunded: zero unless the money was captured."""
        if self.status not in CAPTURED_STATUSES:
            return Money.zero(self.amount.currency)
        return self.amount - self.refunded

    @property
    def is_open(self) -> bool:
        """True while the outcome at the provider is not known yet."""
        return self.status in OPEN_STATUSES

    # -- commands ------------------------------------------------------------------------------

    def start_at_gateway(
        self,
        gateway: str,
        gateway_reference: str,
        next_action: NextAction | None,
        now: datetime,
    ) -> None:
        """Record that ``gateway`` accepted the payment request under ``gateway_reference``.

        A notification may have settled the purchase before this answer was recorded: then the
        next action is no longer offered.
        """
        self.gateway = gateway
        self.gateway_reference = gateway_reference
        if self.status in _CANCELLABLE:
            self.next_action = next_action
        self.updated_at = now

    def apply(self, observation: GatewayObservation, now: datetime, actor: str) -> ApplyResult:
        """Take what a provider observed into account, by the state machine of DESIGN §2.

        Never raises for stale or duplicated observations: they are ``ALREADY_APPLIED`` or
        ``STALE``. An amount or currency different from ours, or a different gateway, is
        ``CONFLICTING`` and changes nothing. A capture after a local cancel or expiry completes
        the purchase and flags it for review, because money moved.
        """
        if self.gateway is not None and observation.gateway != self.gateway:
            return ApplyResult.CONFLICTING
        if observation.amount is not None and observation.amount != self.amount:
            return ApplyResult.CONFLICTING
        captured = observation.outcome is PaymentOutcome.SUCCEEDED
        if captured and observation.amount is None:
            return ApplyResult.CONFLICTING  # a capture we cannot check against our price
        if captured and self._is_second_capture(observation.gateway_reference):
            self.flag_for_review(
                f"{observation.gateway} captured a second payment "
                f"{observation.gateway_reference} for this purchase",
                now,
            )
            return ApplyResult.CONFLICTING
        rule = _OBSERVED[self.status][observation.outcome]
        if rule == _IGNORE:
            return ApplyResult.STALE
        if rule == _NOOP:
            return ApplyResult.ALREADY_APPLIED
        if observation.gateway_reference and (
            observation.outcome is PaymentOutcome.SUCCEEDED or self.gateway_reference is None
        ):
            self.gateway_reference = observation.gateway_reference
        cause = f"{observation.source.value}:{observation.outcome.value}"
        if rule == _REVIEW:
            self.flag_for_review(
                f"captured by {observation.gateway} after the purchase was {self.status.value}",
                now,
            )
            target = PurchaseStatus.COMPLETED
        else:
            target = PurchaseStatus(rule)
        if target is PurchaseStatus.FAILED:
            self.failure_code = provider_code(observation.provider_code)
            self.failure_message = provider_message(observation.message)
        self._move(target, cause, actor, observation.event_id, now)
        return ApplyResult.APPLIED

    def _is_second_capture(self, gateway_reference: str | None) -> bool:
        """True when a capture names another provider payment than the one already captured."""
        return (
            self.status in CAPTURED_STATUSES
            and gateway_reference is not None
            and self.gateway_reference is not None
            and gateway_reference != self.gateway_reference
        )

    def flag_for_review(self, reason: str, now: datetime) -> None:
        """Ask an operator to look: money moved in a way the books cannot settle on their own."""
        self.needs_review = True
        self.review_reason = reason
        self.updated_at = now
        self.events.append(PurchaseFlaggedForReview(now, self.id, reason))

    def cancel(self, now: datetime, actor: str, cause: str = "cancelled") -> bool:
        """Cancel a purchase whose payment was not captured; False if it is already cancelled or
        expired (nothing left to stop).

        Raises ``InvalidTransitionError`` once money was captured.
        """
        if self.status in (PurchaseStatus.CANCELLED, PurchaseStatus.EXPIRED):
            return False
        if self.status not in _CANCELLABLE:
            raise InvalidTransitionError(
                f"A {self.status.value} purchase cannot be cancelled.",
                details={"status": self.status.value},
            )
        self.next_action = None
        self._move(PurchaseStatus.CANCELLED, cause, actor, None, now)
        return True

    def expire(self, now: datetime, actor: str = "system") -> bool:
        """Expire an uncaptured purchase whose payment window ran out; False if nothing changed."""
        if self.status not in _CANCELLABLE:
            return False
        self.next_action = None
        self._move(PurchaseStatus.EXPIRED, "expired", actor, None, now)
        return True

    def reserve_refund(self, amount: Money) -> None:
        """Check that ``amount`` may be refunded now, without changing anything.

        Raises ``InvalidTransitionError`` if nothing was captured, and
        ``RefundExceedsCapturedError`` if the refunds would exceed the captured amount.
        """
        if self.status not in CAPTURED_STATUSES or self.refundable.is_zero:
            raise InvalidTransitionError(
                f"A {self.status.value} purchase has nothing to refund.",
                details={"status": self.status.value},
            )
        if amount.currency != self.amount.currency:
            raise CurrencyMismatchError(
                f"The purchase is in {self.amount.currency.code}, not {amount.currency.code}."
            )
        if not amount.is_positive or not amount.is_exact:
            raise ValidationError("A refund amount must be positive and exact in its currency.")
        if amount > self.refundable:
            raise RefundExceedsCapturedError(
                f"At most {self.refundable} can still be refunded.",
                details={"refundable": self.refundable.to_dict()},
            )

    def record_refund(self, amount: Money, refund_id: str, now: datetime, actor: str) -> None:
        """Count an accepted refund against the captured amount and move to (partially) refunded."""
        self.reserve_refund(amount)
        self.refunded_amount = self.refunded + amount
        target = (
            PurchaseStatus.REFUNDED
            if self.refunded == self.amount
            else PurchaseStatus.PARTIALLY_REFUNDED
        )
        if target is not self.status:
            self._move(target, f"refund:{refund_id}", actor, None, now)
        else:
            self.updated_at = now

    def release_refund(self, amount: Money, refund_id: str, now: datetime, actor: str) -> None:
        """Give back a refund the provider finally rejected, so it no longer counts.

        Raises ``ValidationError`` for an amount that was never counted as refunded.
        """
        if (
            amount.currency != self.amount.currency
            or not amount.is_positive
            or (amount > self.refunded)
        ):
            raise ValidationError(
                f"{amount} was not refunded from this purchase, so it cannot be given back."
            )
        self.refunded_amount = self.refunded - amount
        if self.refunded.is_zero:
            target = PurchaseStatus.COMPLETED
        else:
            target = PurchaseStatus.PARTIALLY_REFUNDED
        if target is not self.status:
            self._move(target, f"refund_failed:{refund_id}", actor, None, now)
        else:
            self.updated_at = now

    def _move(
        self, target: PurchaseStatus, cause: str, actor: str, event_id: str | None, now: datetime
    ) -> None:
        previous = self.status
        self.status = target
        self.updated_at = now
        self.pending_audit.append(
            AuditRecord(self.id, previous, target, cause, actor, event_id, now)
        )
        self.events.append(
            PurchaseStatusChanged(
                now, self.id, self.customer_id, previous.value, target.value, cause
            )
        )
        if target is PurchaseStatus.COMPLETED and previous not in CAPTURED_STATUSES:
            self.completed_at = now
            self.next_action = None
            self.events.append(
                PurchaseCompleted(
                    now, self.id, self.customer_id, self.amount, self.credits, self.needs_review
                )
            )
