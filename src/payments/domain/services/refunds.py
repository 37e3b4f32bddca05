"""Refunding: book the refund first, then ask the provider, then record its answer."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from payments.domain.access import Principal
from payments.domain.errors import (
    CurrencyMismatchError,
    FieldError,
    GatewayConfigurationError,
    GatewayUnavailableError,
    IdempotencyConflictError,
    InvalidTransitionError,
    PaymentsError,
    UnsupportedByGatewayError,
    ValidationError,
    with_details,
)
from payments.domain.gateway import RESEND_WINDOW, RefundRequest, RefundResult
from payments.domain.idempotency import IN_FLIGHT_LEASE
from payments.domain.money import Money
from payments.domain.ports import PaymentGateway
from payments.domain.provider_strings import admit_refund_result
from payments.domain.purchase import Purchase
from payments.domain.refund import REFUND_ID_PREFIX, Refund, RefundStatus
from payments.domain.services.records import locked_purchase, readable, stored_refund
from payments.domain.services.settlement import Posting, book_refund, fail_refund
from payments.domain.services.use_case import GatewayUseCase

log = logging.getLogger(__name__)

RETRY_UNANSWERED_AFTER: Final = timedelta(minutes=15)
"""How old an unanswered refund must be before the worker sends it again: well past the
in-flight lease, so the request that booked it has certainly ended."""

RETRY_ACTOR: Final = "refund-retry"

# Failures that tell nothing about whether the provider made an earlier attempt: try later.
_INCONCLUSIVE = (GatewayUnavailableError, GatewayConfigurationError, IdempotencyConflictError)


@dataclass(frozen=True, slots=True)
class RefundRetryReport:
    """One ``retry_pending`` sweep: how many unanswered refunds it found, which ones the provider
    answered (succeeded, pending with its id, or refused), and which are still unanswered (with
    the error code)."""

    looked_at: int
    answered: list[str] = field(default_factory=list)
    unanswered: dict[str, str] = field(default_factory=dict)
    flagged: list[str] = field(default_factory=list)
    """Refunds past the resend window, still unanswered: their purchases now need review."""


def _is_full(purchase: Purchase, amount: Money) -> bool:
    """A refund of the whole captured amount at once (so no other refund counts)."""
    return amount == purchase.amount


def _request(purchase: Purchase, refund: Refund) -> RefundRequest:
    """The provider request of a refund, the same every time it is sent: a resend under the same
    idempotency key must carry the very same parameters."""
    if purchase.gateway_reference is None:
        raise InvalidTransitionError(f"Purchase {purchase.id!r} was never started at a gateway.")
    return RefundRequest(
        refund_id=refund.id,
        purchase_reference=purchase.reference,
        gateway_reference=purchase.gateway_reference,
        amount=refund.amount,
        full=_is_full(purchase, refund.amount),
        reason=refund.reason,
        idempotency_key=f"{refund.id}:refund",
    )


def _refusal(
    gateway: PaymentGateway, amount: Money, *, full: bool, method: str | None
) -> UnsupportedByGatewayError | None:
    """Why ``gateway`` cannot make this refund of a ``method`` payment, checked before
    anything is booked."""
    capabilities = gateway.capabilities
    if not capabilities.refunds:
        return UnsupportedByGatewayError(f"Gateway {gateway.name} cannot make refunds.")
    refundable = capabilities.refund_methods
    if refundable is not None and (method or "card") not in refundable:
        return UnsupportedByGatewayError(
            f"Gateway {gateway.name} cannot refund {method or 'card'} payments."
        )
    if not full and not capabilities.partial_refunds:
        return UnsupportedByGatewayError(
            f"Gateway {gateway.name} refunds only the whole amount.",
            errors=[FieldError("amount", "must be left out: only a full refund is possible")],
        )
    step = capabilities.amount_steps.get(amount.currency.code)
    if step is not None and amount.to_minor_units() % step:
        unit = Money.from_minor_units(step, amount.currency)
        return UnsupportedByGatewayError(
            f"Gateway {gateway.name} refunds {amount.currency.code} only in multiples of {unit}.",
            errors=[FieldError("amount", f"must be a multiple of {unit.format_amount()}")],
        )
    return None


def refund_id_for(purchase_id: str, request_key: str) -> str:
    """The id of the refund a keyed request books: the same request always names the same
    refund (and so the same provider idempotency key)."""
    digest = hashlib.sha256(f"{purchase_id}\n{request_key}".encode()).hexdigest()
    return f"{REFUND_ID_PREFIX}_k{digest[:25]}"


class RefundService(GatewayUseCase):
    """Full and partial refunds; their sum never exceeds the captured amount."""

    def refund(
        self,
        purchase_id: str,
        amount: Money | None,
        reason: str | None,
        actor: str,
        *,
        request_key: str | None = None,
    ) -> Refund:
        """Refund ``amount`` (everything that remains when None) of a captured purchase.

        The refund is booked (counted and debited) under the purchase's lock before the provider
        is called, so concurrent refunds can never exceed the captured amount. Raises
        ``RefundExceedsCapturedError``, ``InvalidTransitionError`` or (a refund the gateway
        cannot make: no refunds, no partial ones, an amount off its steps)
        ``UnsupportedByGatewayError``, changing nothing. A provider rejection marks the refund
        failed and reverses its debits; a provider outage that may have reached the provider
        leaves it pending (its notification, or ``retry_pending``, settles it) and re-raises.

        ``request_key`` (the caller's idempotency key, scoped to the caller) makes the refund's
        id, and so its provider key, a function of the request: the same request again, even
        after the process that booked it died, finds that refund instead of booking a second
        one, and sends it again under the same provider key if it was never answered.
        ``IdempotencyConflictError`` when the key was used for another amount.
        """
        if amount is not None and not isinstance(amount, Money):
            raise ValidationError(
                "The refund amount is invalid.",
                errors=[FieldError("amount", "must be money: an amount and a currency")],
            )
        refund_id = (
            refund_id_for(purchase_id, request_key)
            if request_key
            else self._ids.new(REFUND_ID_PREFIX)
        )
        if request_key:
            with self._uow() as uow:
                earlier = uow.refunds.get(refund_id)
            if earlier is not None:
                return self._same_request_again(earlier, amount)
        now = self._clock.now()
        with self._uow() as uow:
            purchase = locked_purchase(uow, purchase_id)
            if amount is not None and amount.currency != purchase.amount.currency:
                raise CurrencyMismatchError(
                    f"The purchase is in {purchase.amount.currency.code}, "
                    f"not {amount.currency.code}."
                )
            wanted = amount if amount is not None else purchase.refundable
            purchase.reserve_refund(wanted)
            if not purchase.gateway or not purchase.gateway_reference:
                raise InvalidTransitionError(
                    "The provider's payment id is unknown, so it cannot be refunded there."
                )
            gateway = self._gateways[purchase.gateway]
            refusal = _refusal(
                gateway, wanted, full=_is_full(purchase, wanted), method=purchase.payment_method
            )
            if refusal is not None:
                raise refusal
            refund = Refund(
                id=refund_id,
                purchase_id=purchase.id,
                customer_id=purchase.customer_id,
                amount=wanted,
                status=RefundStatus.PENDING,
                reason=reason,
                gateway=gateway.name,
                created_at=now,
                updated_at=now,
            )
            request = _request(purchase, refund)
            book_refund(uow, purchase, refund, Posting(now, actor, self._ids))
            uow.commit()
        try:
            result = admit_refund_result(gateway.name, gateway.refund(request))
        except GatewayUnavailableError as error:
            if error.charged_possible:  # the refund stays booked and pending: never made twice
                raise with_details(error, purchase_id=purchase_id, refund_id=refund.id) from error
            self._record_failure(refund.id, str(error), actor)
            raise
        except PaymentsError as error:
            self._record_failure(refund.id, error.message, actor)
            raise
        return self._record_answer(refund.id, result, actor)

    def _same_request_again(self, earlier: Refund, amount: Money | None) -> Refund:
        """A refund request that was booked before: answer that refund, as it is now."""
        if amount is not None and amount != earlier.amount:
            raise IdempotencyConflictError(
                "This Idempotency-Key was used for a refund of another amount.",
                details={"refund_id": earlier.id},
            )
        if earlier.awaiting_answer:
            try:
                self._resend(earlier.id)
            except GatewayUnavailableError as error:
                error.details = {
                    **error.details,
                    "purchase_id": earlier.purchase_id,
                    "refund_id": earlier.id,
                }
                raise
        with self._uow() as uow:
            now = uow.refunds.get(earlier.id)
        return now or earlier

    def _record_answer(self, refund_id: str, result: RefundResult, actor: str) -> Refund:
        """Store what the provider answered about a booked refund, under its purchase's lock."""
        now = self._clock.now()
        with self._uow() as uow:
            stored = stored_refund(uow, refund_id)
            purchase = locked_purchase(uow, stored.purchase_id)
            stored = stored_refund(uow, refund_id)  # again, now that we hold the lock
            stored.gateway_reference = result.gateway_refund_reference
            if result.status is RefundStatus.FAILED:
                posting = Posting(now, actor, self._ids)
                fail_refund(uow, purchase, stored, result.failure_message, posting)
            else:
                if stored.status is RefundStatus.PENDING:
                    stored.status = result.status
                stored.updated_at = now
                uow.refunds.save(stored)
            uow.commit()
        return stored

    def _record_failure(self, refund_id: str, message: str, actor: str) -> None:
        now = self._clock.now()
        with self._uow() as uow:
            refund = stored_refund(uow, refund_id)
            purchase = locked_purchase(uow, refund.purchase_id)
            refund = uow.refunds.get(refund_id) or refund  # read again under the lock
            if refund.status is RefundStatus.SUCCEEDED:
                # While our call was out, a notification said this refund was made (a refund
                # made in the provider's dashboard matched it): money left, so the books keep
                # it, and an operator looks at the refusal of our own call.
                purchase.flag_for_review(
                    f"refund {refund.id} was reported made, then our call was refused: {message}",
                    now,
                )
                uow.purchases.save(purchase)
            else:
                fail_refund(uow, purchase, refund, message, Posting(now, actor, self._ids))
            uow.commit()

    def retry_pending(
        self, *, older_than: timedelta = RETRY_UNANSWERED_AFTER, limit: int = 100
    ) -> RefundRetryReport:
        """Send again the refunds whose provider answer never came (booked, pending, without the
        provider's id) and record the answer; the worker calls this.

        Each goes out under its own provider idempotency key (``{refund id}:refund``) with the
        same parameters, so a refund the provider did make is answered again, never made twice;
        hence only refunds booked within ``RESEND_WINDOW`` (the providers' key lifetime), and
        older than ``older_than`` (at least the in-flight lease: the booking request has ended).
        A provider refusal now fails the refund and reverses its debits (had the first attempt
        been made, the key would replay it); an outage leaves it pending for a later sweep. One
        refund's failure never stops the sweep. The refunds are claimed first
        (``claim_unanswered``): two workers never send one refund again at once, and one sent
        without an answer waits ``older_than`` before it is sent again.
        """
        now = self._clock.now()
        wait = max(older_than, IN_FLIGHT_LEASE)
        with self._uow() as uow:  # claimed: another worker's sweep skips these refunds
            candidates = uow.refunds.claim_unanswered(
                created_after=now - RESEND_WINDOW, created_before=now - wait, now=now, limit=limit
            )
            uow.commit()
        report = RefundRetryReport(len(candidates))
        for candidate in candidates:
            try:
                if self._resend(candidate.id):
                    report.answered.append(candidate.id)
            except PaymentsError as error:
                log.warning("refund %s is still unanswered: %s", candidate.id, error)
                report.unanswered[candidate.id] = error.code
        if report.answered:
            log.info("recorded the provider's answer to unanswered refunds %s", report.answered)
        report.flagged.extend(self._flag_abandoned(now, limit))
        return report

    def _flag_abandoned(self, now: datetime, limit: int) -> list[str]:
        """Refunds never answered within the providers' key lifetime cannot be sent again
        safely: flag their purchases once, for an operator to settle with the provider."""
        flagged: list[str] = []
        with self._uow() as uow:
            abandoned = uow.refunds.list_unanswered(
                created_after=now - 30 * RESEND_WINDOW,
                created_before=now - RESEND_WINDOW,
                limit=limit,
            )
            for refund in abandoned:
                purchase = uow.purchases.get(refund.purchase_id, for_update=True)
                if purchase is None or purchase.needs_review:
                    continue
                purchase.flag_for_review(
                    f"refund {refund.id} got no answer from {refund.gateway} within "
                    f"{RESEND_WINDOW}; ask the provider whether it was made",
                    now,
                )
                uow.purchases.save(purchase)
                flagged.append(refund.id)
            uow.commit()
        if flagged:
            log.warning("refunds %s were never answered; their purchases need review", flagged)
        return flagged

    def _resend(self, refund_id: str) -> bool:
        """Send one unanswered refund again; True once the provider's answer is recorded, False
        when someone else recorded it first. Raises what leaves it unanswered."""
        with self._uow() as uow:
            refund = uow.refunds.get(refund_id)
            purchase = uow.purchases.get(refund.purchase_id) if refund is not None else None
        if refund is None or purchase is None or not refund.awaiting_answer:
            return False
        if purchase.gateway_reference is None:
            raise InvalidTransitionError(f"Purchase {purchase.id} has no provider payment id.")
        gateway = self._gateways[refund.gateway]
        try:
            result = admit_refund_result(gateway.name, gateway.refund(_request(purchase, refund)))
        except _INCONCLUSIVE:
            raise
        except PaymentsError as error:  # refused now: no earlier attempt was made either
            log.warning("provider refused refund %s on its retry: %s", refund_id, error)
            self._record_failure(refund_id, error.message, RETRY_ACTOR)
            return True
        self._record_answer(refund_id, result, RETRY_ACTOR)
        return True

    # -- reading -------------------------------------------------------------------------------

    def get(self, refund_id: str, principal: Principal) -> Refund:
        """The refund if the caller may see its purchase; otherwise ``NotFoundError``."""
        with self._uow() as uow:
            return readable(principal, uow.refunds.get(refund_id), "Refund", refund_id)

    def list_for_purchase(self, purchase_id: str, principal: Principal) -> list[Refund]:
        """The refunds of a purchase the caller may see, oldest first; ``NotFoundError`` for a
        purchase that does not exist or is not the caller's (never a hint)."""
        with self._uow() as uow:
            readable(principal, uow.purchases.get(purchase_id), "Purchase", purchase_id)
            return uow.refunds.for_purchase(purchase_id)

    def for_purchase(self, purchase_id: str) -> list[Refund]:
        """The purchase's refunds, oldest first (no access check: for embedding code)."""
        with self._uow() as uow:
            return uow.refunds.for_purchase(purchase_id)
