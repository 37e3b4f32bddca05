"""Charging subscriptions off-session: renewals, the first charge after a trial, and dunning.

Every charge is a purchase, started at the subscription's gateway on its saved payment method
and settled through the one apply step (``settle_payment``), so its credits, ledger entries,
audit records and events are those of any purchase.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from payments.domain.errors import (
    GatewayConfigurationError,
    GatewayUnavailableError,
    PaymentDeclinedError,
    PaymentsError,
)
from payments.domain.gateway import OffSessionCharge, PaymentStart
from payments.domain.money import Money
from payments.domain.ports import UnitOfWork
from payments.domain.provider_strings import admit_start
from payments.domain.purchase import (
    GatewayObservation,
    Purchase,
    PurchaseStatus,
    RoutingDecision,
)
from payments.domain.routing import RoutingTable
from payments.domain.services.records import found, locked_purchase
from payments.domain.services.settlement import Posting, settle_payment
from payments.domain.services.use_case import GatewayUseCase, GatewayWiring
from payments.domain.subscription import (
    DEFAULT_DUNNING_SCHEDULE,
    ChargeDue,
    Subscription,
)

log = logging.getLogger(__name__)

CLAIM_LEASE = timedelta(minutes=5)
"""How long a worker holds a due subscription it claimed; past it, another may take it (the
provider idempotency key keeps a resent charge from charging twice)."""


@dataclass(frozen=True, slots=True)
class ChargeAnswer:
    """What the provider answered an off-session charge: a start (its observation tells the
    outcome) or a decline; ``None`` for both means the outcome is unknown (try again later)."""

    start: PaymentStart | None = None
    declined: PaymentDeclinedError | None = None


@dataclass(frozen=True, slots=True)
class BillingPolicy:
    """How subscriptions are billed: new ones go to the gateway ``routing`` picks for their
    market; a declined charge is tried again after each delay of ``dunning`` (counted from the
    period's first decline), and the last decline cancels."""

    routing: RoutingTable
    dunning: tuple[timedelta, ...] = DEFAULT_DUNNING_SCHEDULE


def locked_subscription(uow: UnitOfWork, subscription_id: str) -> Subscription:
    """The subscription, read under its row lock."""
    subscription = uow.subscriptions.get(subscription_id, for_update=True)
    return found(subscription, f"Subscription {subscription_id!r} does not exist.")


class SubscriptionBilling(GatewayUseCase):
    """Charges due subscriptions on their saved payment methods and applies the answers."""

    def __init__(self, wiring: GatewayWiring, policy: BillingPolicy) -> None:
        super().__init__(wiring)
        self._routing = policy.routing
        self._dunning = policy.dunning

    # -- the worker's job ------------------------------------------------------------------------

    def run_due(self, limit: int = 100) -> dict[str, int]:
        """Claim the subscriptions due now and charge (or end) each once; counts by outcome.

        Claims are leased rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), so two workers never
        take one subscription at once; one subscription's failure never stops the others.
        """
        now = self._clock.now()
        with self._uow() as uow:
            claimed = uow.subscriptions.claim_due(now, now + CLAIM_LEASE, limit)
            uow.commit()
        done: dict[str, int] = {}
        for subscription_id in claimed:
            try:
                outcome = self.renew(subscription_id)
            except PaymentsError as error:
                log.warning("renewal of %s failed: %s", subscription_id, error)
                outcome = "could not charge"
            done[outcome] = done.get(outcome, 0) + 1
        return done

    def renew(self, subscription_id: str) -> str:
        """Charge the subscription's due period (or end it at period end) once; the outcome:
        ``renewed``, ``declined``, ``ended``, ``not due`` or ``unknown`` (answer lost: the same
        charge is sent again later under the same provider key)."""
        now = self._clock.now()
        with self._uow() as uow:
            subscription = locked_subscription(uow, subscription_id)
            if subscription.end_at_period_end(now):
                uow.subscriptions.save(subscription)
                uow.commit()
                return "ended"
            due = subscription.due(now)
            if due is None:
                return "not due"
            purchase = self._purchase_for(uow, subscription, due, now)
            if purchase is None:
                return "not due"
            uow.commit()
        answer = self._charge(subscription, purchase, due.key(subscription.id))
        if answer is None:
            return "unknown"
        with self._uow() as uow:  # the subscription's lock first, as everywhere
            subscription = locked_subscription(uow, subscription_id)
            ours = subscription.open_charge_purchase_id == purchase.id
            settled = self.settle_charge(
                uow, purchase.id, subscription.saved_method.gateway, answer
            )
            if settled.status is PurchaseStatus.COMPLETED:
                subscription.charge_succeeded(settled.id, self._clock.now())
            elif settled.status is PurchaseStatus.FAILED:
                subscription.charge_failed(settled.id, self._clock.now(), self._dunning)
            uow.subscriptions.save(subscription)
            uow.commit()
        if not ours:  # another worker recorded this charge's answer first
            return "already settled"
        return {PurchaseStatus.COMPLETED: "renewed", PurchaseStatus.FAILED: "declined"}.get(
            settled.status, "unknown"
        )

    def _purchase_for(
        self, uow: UnitOfWork, subscription: Subscription, due: ChargeDue, now: datetime
    ) -> Purchase | None:
        """The purchase that charges ``due``: the open one (its answer was lost), else a new one,
        claimed in the charges table (None: another worker claimed this attempt)."""
        if subscription.open_charge_purchase_id is not None:
            return locked_purchase(uow, subscription.open_charge_purchase_id)
        if subscription.scheduled_plan_id is not None:
            plan = uow.products.get(subscription.scheduled_plan_id)
            if plan is not None:
                subscription.switch_plan(plan, Money.zero(plan.price.currency), now)
        purchase = self.new_purchase(
            subscription,
            subscription.price,
            subscription.terms.credits,
            f"subscription {subscription.id}: period {due.period}",
            now,
        )
        uow.purchases.add(purchase)
        if not uow.subscriptions.record_charge(
            subscription.id, due.period, due.attempt, purchase.id
        ):
            return None  # the caller leaves without committing: the purchase is not kept
        subscription.begin_charge(purchase.id, now)
        uow.subscriptions.save(subscription)
        return purchase

    # -- one off-session charge ----------------------------------------------------------------

    def new_purchase(
        self,
        subscription: Subscription,
        amount: Money,
        credits: Decimal,
        reason: str,
        now: datetime,
    ) -> Purchase:
        """A pending purchase of the subscription's plan for ``amount`` at its gateway."""
        return Purchase.create(
            id=self._ids.new("pur"),
            reference=self._ids.new("ref"),
            customer_id=subscription.customer_id,
            product_id=subscription.plan_id,
            amount=amount,
            credits=credits,
            validity_days=None,
            country=subscription.country,
            payment_method=subscription.payment_method,
            routing=RoutingDecision((subscription.saved_method.gateway,), reason),
            now=now,
            actor="subscriptions",
        )

    def _charge(
        self, subscription: Subscription, purchase: Purchase, key: str
    ) -> ChargeAnswer | None:
        """Ask the gateway to charge the saved method (outside any transaction)."""
        method = subscription.saved_method
        gateway = self._gateways[method.gateway]
        request = OffSessionCharge(
            purchase_id=purchase.id,
            reference=purchase.reference,
            amount=purchase.amount,
            method=method,
            idempotency_key=key,
            metadata={"subscription_id": subscription.id},
        )
        try:
            return ChargeAnswer(
                start=admit_start(gateway.name, gateway.charge_saved_method(request))
            )
        except PaymentDeclinedError as declined:
            return ChargeAnswer(declined=declined)
        except (GatewayUnavailableError, GatewayConfigurationError) as error:
            log.warning("charging %s for %s failed: %s", purchase.id, subscription.id, error)
            return None

    def settle_charge(
        self, uow: UnitOfWork, purchase_id: str, gateway_name: str, answer: ChargeAnswer
    ) -> Purchase:
        """Record the provider's answer on the purchase through the one apply step (in ``uow``,
        which the caller commits). The caller holds the subscription's lock already: a
        subscription is always locked before its purchases, so two workers cannot deadlock."""
        now = self._clock.now()
        purchase = locked_purchase(uow, purchase_id)
        if answer.start is not None:
            start = answer.start
            purchase.start_at_gateway(gateway_name, start.gateway_reference, None, now)
            observation = start.observation
        else:
            declined = answer.declined
            observation = GatewayObservation.declined(
                gateway_name,
                declined.provider_code if declined else None,
                declined.message if declined else None,
            )
        if observation is not None:
            posting = Posting(now, gateway_name, self._ids)
            settle_payment(uow, purchase, observation, posting, self._invoicing)
        uow.purchases.save(purchase)
        return purchase
