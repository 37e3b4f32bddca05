"""Purchases after checkout: read, list, cancel, sync with the provider and reconcile them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from payments.domain.access import Principal
from payments.domain.errors import (
    FieldError,
    NotFoundError,
    PaymentsError,
    ValidationError,
)
from payments.domain.gateway import RESEND_WINDOW, PayerDetails
from payments.domain.idempotency import IN_FLIGHT_LEASE
from payments.domain.ports import (
    PaymentGateway,
    PurchasePage,
    PurchaseQuery,
)
from payments.domain.provider_strings import admit_observation
from payments.domain.purchase import ApplyResult, Purchase, PurchaseStatus
from payments.domain.services.checkout import (
    Checkout,
    CreatePurchase,
)
from payments.domain.services.records import listed_customer, locked_purchase, readable
from payments.domain.services.settlement import Posting, settle_payment
from payments.domain.services.use_case import GatewayUseCase, Progress, reporting

__all__ = [
    "DEFAULT_LOOK_UP_AFTER",
    "CreatePurchase",
    "PayerDetails",
    "PurchaseService",
    "ReconcileReport",
]

log = logging.getLogger(__name__)

DEFAULT_LOOK_UP_AFTER = timedelta(minutes=15)
"""How long a purchase may stay open before reconciliation asks its provider about it."""


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    """What one reconciliation sweep did: how many open purchases it looked up, which it settled
    from the provider's answer, which it expired, and which failed (purchase id to error code)."""

    looked_up: int
    settled: list[str]
    expired: list[str]
    errors: dict[str, str]


class PurchaseService(GatewayUseCase):
    """Purchases: checkout (``create``, which its ``Checkout`` does) and everything after it, on
    the checkout's units of work, gateways, clock, ids and invoicing policy."""

    def __init__(self, checkout: Checkout) -> None:
        super().__init__(checkout.wiring)
        self._checkout = checkout

    def create(self, command: CreatePurchase, principal: Principal) -> Purchase:
        """Create a purchase at the catalog price and start it at its gateways
        (``Checkout.create``)."""
        return self._checkout.create(command, principal)

    # -- reading -------------------------------------------------------------------------------

    def get(self, purchase_id: str, principal: Principal) -> Purchase:
        """The purchase if the caller may see it; otherwise ``NotFoundError`` (never a hint)."""
        with self._uow() as uow:
            return readable(principal, uow.purchases.get(purchase_id), "Purchase", purchase_id)

    def list_purchases(
        self,
        principal: Principal,
        *,
        customer_id: str | None = None,
        status: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> PurchasePage:
        """A page of purchases the caller may see, newest first."""
        visible, customer_id = listed_customer(principal, customer_id, "purchases")
        if not visible:
            return PurchasePage([], None)
        try:
            wanted = PurchaseStatus(status) if status is not None else None
        except ValueError:
            raise ValidationError(
                "Unknown status.", errors=[FieldError("status", "not a purchase status")]
            ) from None
        if not 1 <= limit <= 200:
            raise ValidationError("Bad limit.", errors=[FieldError("limit", "must be 1 to 200")])
        with self._uow() as uow:
            return uow.purchases.page(
                PurchaseQuery(customer_id=customer_id, status=wanted, limit=limit, cursor=cursor)
            )

    # -- commands on existing purchases -----------------------------------------------------

    def cancel(self, purchase_id: str, principal: Principal) -> Purchase:
        """Cancel a purchase that was not captured, locally and (when it can) at the provider.

        Raises ``InvalidTransitionError`` once money was captured. The provider is told after the
        local cancel commits; if it captured in between, its notification completes the purchase
        and flags it for review.
        """
        now = self._clock.now()
        actor = principal.key_id or principal.role.value
        with self._uow() as uow:
            found = uow.purchases.get(purchase_id, for_update=True)
            purchase = readable(principal, found, "Purchase", purchase_id)
            changed = purchase.cancel(now, actor)
            if changed:
                uow.purchases.save(purchase)
                uow.commit()
        if changed:
            return self._cancel_at_provider(purchase)
        return purchase

    def _cancel_at_provider(self, purchase: Purchase) -> Purchase:
        """Tell the provider a purchase we closed locally is off, and apply its answer.

        The answer goes through the one apply step: if the provider had captured meanwhile, the
        purchase completes and is flagged for review. A provider that cannot be told leaves the
        local status standing; its notification or reconciliation follows up.
        """
        gateway = self._gateways.get(purchase.gateway) if purchase.gateway else None
        if gateway is None or not gateway.capabilities.cancel or not purchase.gateway_reference:
            return purchase
        try:
            answer = gateway.cancel(purchase.gateway_reference, f"{purchase.id}:cancel")
        except Exception as error:  # the local status stands
            log.warning("provider cancel of %s failed: %s", purchase.id, error)
            return purchase
        return self._checkout.observe(purchase.id, answer)

    def sync(self, purchase_id: str) -> tuple[Purchase, ApplyResult | None]:
        """Ask the purchase's provider what it knows now and apply it through the one apply step.

        A start whose answer was lost (pending, without the provider's id) at a provider that
        cannot be searched by our reference is first sent again (``Checkout.resend_start``).
        """
        with self._uow() as uow:
            purchase = uow.purchases.get(purchase_id)
        if purchase is None:
            raise NotFoundError(f"Purchase {purchase_id!r} does not exist.")
        if purchase.gateway is None:
            return purchase, None
        gateway = self._gateways[purchase.gateway]
        before = purchase.status
        if self._start_lost(purchase, gateway):
            purchase = self._checkout.resend_start(purchase, gateway)
        observation = admit_observation(
            gateway.name, gateway.lookup(purchase.reference, purchase.gateway_reference)
        )
        if observation is None:
            return purchase, ApplyResult.APPLIED if purchase.status is not before else None
        now = self._clock.now()
        with self._uow() as uow:
            locked = locked_purchase(uow, purchase_id)
            result = settle_payment(
                uow,
                locked,
                observation,
                Posting(now, "reconciliation", self._ids),
                self._invoicing,
            )
            uow.commit()
        if locked.status is not before:
            result = ApplyResult.APPLIED
        return locked, result

    def _start_lost(self, purchase: Purchase, gateway: PaymentGateway) -> bool:
        """Whether the purchase's start may have reached a provider that cannot be searched by
        our reference, with its answer lost, and may still be sent again under the same key:
        pending without the provider's id, older than the in-flight lease (the checkout that
        started it has ended) and younger than the providers' key lifetime (``RESEND_WINDOW``).
        """
        now = self._clock.now()
        return (
            purchase.status is PurchaseStatus.PENDING
            and purchase.gateway_reference is None
            and not gateway.capabilities.authoritative_lookup
            and now - RESEND_WINDOW < purchase.created_at <= now - IN_FLIGHT_LEASE
        )

    def reconcile(
        self,
        *,
        expire_after: timedelta,
        look_up_after: timedelta = DEFAULT_LOOK_UP_AFTER,
        limit: int = 100,
        progress: Progress | None = None,
    ) -> ReconcileReport:
        """Settle purchases stuck open by asking their provider (DESIGN §5.5; a start whose
        answer was lost is recovered first, see ``sync``), then expire those created more than
        ``expire_after`` ago whose provider shows no capture (and call them off at the provider,
        so the payer cannot pay a closed purchase).

        One purchase's failure (provider down, a revoked key, a refused lookup) is reported and
        never stops the sweep. The sweep claims its purchases first (``claim_open``): workers
        sweeping at once look each purchase up once, and a purchase looked up without news
        waits ``look_up_after`` before the next lookup. ``progress`` hears after each purchase.
        """
        now = self._clock.now()
        horizon = min(look_up_after, expire_after)
        with self._uow() as uow:  # claimed: another worker's sweep skips these purchases
            stale = uow.purchases.claim_open(updated_before=now - horizon, now=now, limit=limit)
            uow.commit()
        settled: list[str] = []
        expired: list[str] = []
        errors: dict[str, str] = {}
        for candidate in reporting(stale, progress):
            try:
                purchase, result = self.sync(candidate.id)
            except PaymentsError as error:
                log.warning("reconciliation of %s failed: %s", candidate.id, error)
                errors[candidate.id] = error.code
                continue
            if result is ApplyResult.APPLIED:
                settled.append(purchase.id)
            expirable = purchase.is_open or purchase.status is PurchaseStatus.FAILED
            if expirable and purchase.created_at <= now - self._window(purchase, expire_after):
                expired_purchase = self._expire(candidate.id, now)
                if expired_purchase is not None:
                    expired.append(candidate.id)
        return ReconcileReport(len(stale), settled, expired, errors)

    def _window(self, purchase: Purchase, expire_after: timedelta) -> timedelta:
        """How long the purchase's payer may take: ``expire_after``, or its gateway's longer
        ``payment_window`` (a cash voucher's validity)."""
        gateway = self._gateways.get(purchase.gateway) if purchase.gateway else None
        window = gateway.capabilities.payment_window if gateway is not None else None
        return max(expire_after, window) if window is not None else expire_after

    def _expire(self, purchase_id: str, now: datetime) -> Purchase | None:
        """Expire a purchase whose payment window ran out, and call it off at the provider."""
        with self._uow() as uow:
            locked = locked_purchase(uow, purchase_id)
            if not locked.expire(now):
                return None
            uow.purchases.save(locked)
            uow.commit()
        return self._cancel_at_provider(locked)

    def expire_stale(self, max_age: timedelta, limit: int = 100) -> list[str]:
        """Expire open purchases older than ``max_age`` whose provider shows no capture."""
        report = self.reconcile(expire_after=max_age, look_up_after=max_age, limit=limit)
        return report.expired
