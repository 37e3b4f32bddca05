"""Subscriptions: subscribe to a plan, read, cancel, change plans, swap the card, record usage."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

from payments.domain.access import Principal, Role
from payments.domain.catalog import Product
from payments.domain.customer import check_customer_id
from payments.domain.errors import (
    FieldError,
    ForbiddenError,
    PaymentDeclinedError,
    UnsupportedByGatewayError,
    ValidationError,
    with_details,
)
from payments.domain.gateway import SavedPaymentMethod, SaveMethodRequest
from payments.domain.ports import UnitOfWork
from payments.domain.purchase import PurchaseStatus
from payments.domain.routing import country_code
from payments.domain.services.billing import ChargeAnswer, SubscriptionBilling, locked_subscription
from payments.domain.services.checkout import customer_by_id
from payments.domain.services.records import found, readable
from payments.domain.subscription import (
    SUBSCRIPTION_ID_PREFIX,
    Proration,
    Subscription,
    plan_cycle,
)
from payments.domain.usage import UsageRecord


@dataclass(frozen=True, slots=True)
class CreateSubscription:
    """Subscribe ``customer_id`` to ``plan_id``, paying with ``payment_method_token`` (a token of
    the provider's, such as Stripe's ``pm_...``), routed by ``country``."""

    customer_id: str
    plan_id: str
    country: str
    payment_method_token: str
    payment_method: str = "card"


@dataclass(frozen=True, slots=True)
class UsageSummary:
    """The summed usage of each metric in the billing period starting ``period_start``;
    ``period_end`` is known for the current period only."""

    subscription_id: str
    period_start: datetime
    period_end: datetime | None
    totals: dict[str, Decimal]


_TOKEN = re.compile(r"[A-Za-z0-9_]{3,255}")


def _checked_token(token: object) -> str:
    if not isinstance(token, str) or not _TOKEN.fullmatch(token):
        raise ValidationError(
            "The payment method token is invalid.",
            errors=[FieldError("payment_method_token", "a provider's token such as pm_card_visa")],
        )
    return token


class SubscriptionService(SubscriptionBilling):
    """What callers do with subscriptions; the worker's renewals are ``SubscriptionBilling``."""

    # -- creating ------------------------------------------------------------------------------

    def create(self, command: CreateSubscription, principal: Principal) -> Subscription:
        """Save the payer's method at the gateway the market routes to, then start the
        subscription: ``trialing`` with a trial, else charged at once (``active``, or
        ``incomplete`` when declined, retried on the dunning schedule).

        A gateway that cannot charge a saved method is refused (``UnsupportedByGatewayError``).
        """
        if not principal.role.is_staff:
            raise ForbiddenError("Only merchants and admins create subscriptions.")
        customer_id = check_customer_id(command.customer_id)
        token = _checked_token(command.payment_method_token)
        country = country_code(command.country)
        with self._uow() as uow:
            plan = _plan(uow, command.plan_id)
            customer = uow.customers.get(customer_id)
        routing = self._routing.route(
            country=country,
            amount=plan.price,
            payment_method=command.payment_method,
            capabilities=self._gateways.capabilities(),
        )
        gateway = self._gateways[routing.chain[0]]
        if not gateway.capabilities.saved_methods:
            raise UnsupportedByGatewayError(
                f"Subscriptions in {country} would be charged by {gateway.name}, which cannot "
                "charge a saved payment method.",
                details={"gateway": gateway.name},
            )
        subscription_id = self._ids.new(SUBSCRIPTION_ID_PREFIX)
        saved = gateway.save_payment_method(
            SaveMethodRequest(
                customer_id=customer_id,
                email=customer.email if customer else None,
                method_token=token,
                idempotency_key=f"{subscription_id}:save",
            )
        )
        now = self._clock.now()
        subscription = Subscription.start(
            id=subscription_id,
            customer_id=customer_id,
            plan=plan,
            country=country,
            payment_method=command.payment_method,
            saved_method=saved,
            now=now,
        )
        with self._uow() as uow:
            customer_by_id(uow, customer_id, now)
            uow.subscriptions.add(subscription)
            uow.commit()
        if subscription.trial_end is None:
            self.renew(subscription.id)
        return self._read(subscription.id)

    # -- reading -------------------------------------------------------------------------------

    def _read(self, subscription_id: str) -> Subscription:
        with self._uow() as uow:
            subscription = uow.subscriptions.get(subscription_id)
        return found(subscription, f"Subscription {subscription_id!r} does not exist.")

    def get(self, subscription_id: str, principal: Principal) -> Subscription:
        """The subscription if the caller may see it; ``NotFoundError`` otherwise (no hint)."""
        with self._uow() as uow:
            found = uow.subscriptions.get(subscription_id)
        return readable(principal, found, "Subscription", subscription_id)

    def list_subscriptions(
        self, principal: Principal, customer_id: str | None = None
    ) -> list[Subscription]:
        """Subscriptions newest first: a customer key sees only its own."""
        if principal.role is Role.CUSTOMER:
            if customer_id not in (None, principal.customer_id):
                return []
            customer_id = principal.customer_id
        elif not principal.role.is_staff:
            raise ForbiddenError("This key cannot list subscriptions.")
        with self._uow() as uow:
            return uow.subscriptions.for_customer(customer_id)

    # -- changing ------------------------------------------------------------------------------

    def cancel(
        self, subscription_id: str, principal: Principal, *, at_period_end: bool
    ) -> Subscription:
        """Cancel now or at the end of the current period (the owner, merchants, admins)."""
        now = self._clock.now()
        with self._uow() as uow:
            found = uow.subscriptions.get(subscription_id, for_update=True)
            subscription = readable(principal, found, "Subscription", subscription_id)
            subscription.cancel(at_period_end=at_period_end, now=now)
            uow.subscriptions.save(subscription)
            uow.commit()
        return subscription

    def update_payment_method(
        self, subscription_id: str, token: str, principal: Principal
    ) -> Subscription:
        """Save another method at the subscription's gateway and charge it from now on."""
        token = _checked_token(token)
        current = self.get(subscription_id, principal)
        gateway = self._gateways[current.saved_method.gateway]
        saved = gateway.save_payment_method(
            SaveMethodRequest(
                customer_id=current.customer_id,
                email=None,
                method_token=token,
                idempotency_key=f"{subscription_id}:save:{self._ids.new('key')}",
                customer_reference=current.saved_method.customer_reference,
            )
        )
        with self._uow() as uow:
            subscription = locked_subscription(uow, subscription_id)
            subscription.replace_saved_method(saved, self._clock.now())
            uow.subscriptions.save(subscription)
            uow.commit()
        return subscription

    def change(self, subscription_id: str, plan_id: str, principal: Principal) -> Subscription:
        """Move an active subscription to another plan of its cycle and currency.

        A dearer plan applies now: the prorated difference (``Proration``) is charged at once,
        off-session, and the plan changes only once it is paid (a decline raises
        ``PaymentDeclinedError`` naming the failed purchase). A cheaper plan applies at the next
        renewal.
        """
        now = self._clock.now()
        with self._uow() as uow:
            subscription = readable(
                principal,
                uow.subscriptions.get(subscription_id, for_update=True),
                "Subscription",
                subscription_id,
            )
            plan = _plan(uow, plan_id)
            proration = subscription.change_plan(plan, now)
            if proration is None or not proration.net.is_positive:
                if proration is not None:
                    subscription.switch_plan(plan, proration.net, now)
                uow.subscriptions.save(subscription)
                uow.commit()
                return subscription
            purchase = self.new_purchase(
                subscription,
                proration.net,
                _prorated_credits(plan.credits - subscription.terms.credits, proration),
                f"subscription {subscription.id}: change to {plan.id}",
                now,
            )
            uow.purchases.add(purchase)
            uow.commit()
        answer = (
            self._charge(subscription, purchase, f"{subscription.id}:change:{purchase.id}")
            or ChargeAnswer()
        )
        with self._uow() as uow:  # the subscription's lock first, as in renewals
            subscription = locked_subscription(uow, subscription_id)
            settled = self.settle_charge(
                uow, purchase.id, subscription.saved_method.gateway, answer
            )
            if settled.status is not PurchaseStatus.COMPLETED:
                uow.commit()
                error = answer.declined or PaymentDeclinedError(
                    "The proration charge was not paid."
                )
                raise with_details(error, purchase_id=purchase.id)
            subscription.switch_plan(plan, proration.net, self._clock.now())
            subscription.latest_purchase_id = purchase.id
            uow.subscriptions.save(subscription)
            uow.commit()
        return subscription

    # -- usage ---------------------------------------------------------------------------------

    def record_usage(
        self,
        subscription_id: str,
        principal: Principal,
        *,
        metric: str,
        quantity: str,
        reference: str,
    ) -> tuple[UsageRecord, bool]:
        """Record usage in the current period; the same ``reference`` again records nothing and
        answers the first record. Returns (record, whether it is new)."""
        subscription = self.get(subscription_id, principal)
        record = UsageRecord.create(
            id=self._ids.new("use"),
            subscription_id=subscription.id,
            metric=metric,
            quantity=quantity,
            reference=reference,
            period_start=subscription.current_period_start,
            now=self._clock.now(),
        )
        with self._uow() as uow:
            stored = uow.usage.add(record)
            uow.commit()
        return stored, stored.id == record.id

    def usage(
        self, subscription_id: str, principal: Principal, period_start: datetime | None = None
    ) -> UsageSummary:
        """Each metric's total in the current period, or the one starting ``period_start``."""
        subscription = self.get(subscription_id, principal)
        start = period_start or subscription.current_period_start
        end = (
            subscription.current_period_end if start == subscription.current_period_start else None
        )
        with self._uow() as uow:
            totals = uow.usage.totals(subscription.id, start)
        return UsageSummary(subscription.id, start, end, totals)


def _plan(uow: UnitOfWork, plan_id: str) -> Product:
    """The active plan ``plan_id``; ``ValidationError`` naming ``plan_id`` otherwise."""
    plan = uow.products.get(plan_id)
    plan_cycle(plan)  # refuses anything but an active plan
    return found(plan, f"Plan {plan_id!r} does not exist.")


def _prorated_credits(difference: Decimal, proration: Proration) -> Decimal:
    """The extra credits of the dearer plan for the rest of the period, to the hundredth."""
    if difference <= 0:
        return Decimal(0)
    share = difference * proration.remaining_seconds / proration.period_seconds
    return share.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)


__all__ = ["CreateSubscription", "SavedPaymentMethod", "SubscriptionService", "UsageSummary"]
