"""Refunding: book the refund first, then ask the provider, then record its answer."""

from __future__ import annotations

import logging
from collections.abc import Callable

from payments.domain.errors import (
    CurrencyMismatchError,
    FieldError,
    GatewayUnavailableError,
    InvalidTransitionError,
    NotFoundError,
    PaymentsError,
    ValidationError,
)
from payments.domain.money import Money
from payments.domain.ports import Clock, IdGenerator, RefundRequest, UnitOfWork
from payments.domain.refund import Refund, RefundStatus
from payments.domain.services.gateways import GatewayRegistry
from payments.domain.services.settlement import book_refund, fail_refund

log = logging.getLogger(__name__)


class RefundService:
    """Full and partial refunds; their sum never exceeds the captured amount."""

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        gateways: GatewayRegistry,
        clock: Clock,
        ids: IdGenerator,
    ) -> None:
        self._uow = uow
        self._gateways = gateways
        self._clock = clock
        self._ids = ids

    def refund(
        self, purchase_id: str, amount: Money | None, reason: str | None, actor: str
    ) -> Refund:
        """Refund ``amount`` (everything that remains when None) of a captured purchase.

        The refund is booked (counted and debited) under the purchase's lock before the provider
        is called, so concurrent refunds can never exceed the captured amount. Raises
        ``RefundExceedsCapturedError`` or ``InvalidTransitionError`` changing nothing. A provider
        rejection marks the refund failed and reverses its debits; a provider outage leaves it
        pending (the provider's notification or a sync settles it) and re-raises.
        """
        if amount is not None and not isinstance(amount, Money):
            raise ValidationError(
                "The refund amount is invalid.",
                errors=[FieldError("amount", "must be money: an amount and a currency")],
            )
        now = self._clock.now()
        with self._uow() as uow:
            purchase = uow.purchases.get(purchase_id, for_update=True)
            if purchase is None:
                raise NotFoundError(f"Purchase {purchase_id!r} does not exist.")
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
            full = wanted == purchase.refundable and purchase.refunded.is_zero
            if not gateway.capabilities.refunds or (
                not full and not gateway.capabilities.partial_refunds
            ):
                raise ValidationError(f"Gateway {gateway.name} cannot make this refund.")
            refund = Refund(
                id=self._ids.new("rfd"),
                purchase_id=purchase.id,
                customer_id=purchase.customer_id,
                amount=wanted,
                reason=reason,
                status=RefundStatus.PENDING,
                gateway=gateway.name,
                created_at=now,
                updated_at=now,
            )
            book_refund(uow, purchase, refund, now=now, actor=actor, ids=self._ids)
            uow.commit()
        request = RefundRequest(
            refund_id=refund.id,
            purchase_reference=purchase.reference,
            gateway_reference=purchase.gateway_reference,
            amount=wanted,
            full=full,
            reason=reason,
            idempotency_key=f"{refund.id}:refund",
        )
        try:
            result = gateway.refund(request)
        except GatewayUnavailableError as error:
            if error.charged_possible:  # the refund stays booked and pending: never made twice
                error.details = {
                    **error.details,
                    "purchase_id": purchase_id,
                    "refund_id": refund.id,
                }
                raise
            self._record_failure(refund.id, str(error), actor)
            raise
        except PaymentsError as error:
            self._record_failure(refund.id, error.message, actor)
            raise
        now = self._clock.now()
        with self._uow() as uow:
            purchase = uow.purchases.get(purchase_id, for_update=True)
            stored = uow.refunds.get(refund.id)
            assert purchase is not None
            assert stored is not None
            stored.gateway_reference = result.gateway_refund_reference
            if result.status is RefundStatus.FAILED:
                fail_refund(
                    uow,
                    purchase,
                    stored,
                    message=result.failure_message,
                    now=now,
                    actor=actor,
                    ids=self._ids,
                )
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
            refund = uow.refunds.get(refund_id)
            assert refund is not None
            purchase = uow.purchases.get(refund.purchase_id, for_update=True)
            assert purchase is not None
            fail_refund(uow, purchase, refund, message=message, now=now, actor=actor, ids=self._ids)
            uow.commit()

    def for_purchase(self, purchase_id: str) -> list[Refund]:
        """The purchase's refunds, oldest first."""
        with self._uow() as uow:
            return uow.refunds.for_purchase(purchase_id)
