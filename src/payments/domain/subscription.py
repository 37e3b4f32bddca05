"""The subscription aggregate: a plan billed every period, its trial, renewals and dunning."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from payments.domain.catalog import BillingCycle, Product, ProductKind
from payments.domain.errors import FieldError, InvalidTransitionError, ValidationError
from payments.domain.events import DomainEvent, domain_event
from payments.domain.gateway import SavedPaymentMethod
from payments.domain.money import Money
from payments.domain.periods import period_bounds

SUBSCRIPTION_ID_PREFIX = "sub"
DEFAULT_DUNNING_SCHEDULE = (timedelta(days=1), timedelta(days=3), timedelta(days=5))
"""When a failed charge is tried again, counted from the period's first failed charge."""


class SubscriptionStatus(StrEnum):
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    CANCELLED = "cancelled"
    INCOMPLETE = "incomplete"
    """The first charge (no trial) is not paid yet."""


BILLED_STATUSES = frozenset(
    {
        SubscriptionStatus.TRIALING,
        SubscriptionStatus.ACTIVE,
        SubscriptionStatus.PAST_DUE,
        SubscriptionStatus.INCOMPLETE,
    }
)


@domain_event("subscription", about="subscription_id")
class SubscriptionEvent(DomainEvent):
    """An event about one subscription that names its customer too."""

    subscription_id: str
    customer_id: str


@domain_event("subscription.created")
class SubscriptionCreated(SubscriptionEvent):
    plan_id: str
    status: str


@domain_event("subscription.status_changed")
class SubscriptionStatusChanged(SubscriptionEvent):
    from_status: str
    to_status: str
    cause: str


@domain_event("subscription.plan_changed")
class SubscriptionPlanChanged(SubscriptionEvent):
    from_plan_id: str
    to_plan_id: str
    prorated: Money


@dataclass(frozen=True, slots=True)
class ChargeDue:
    """The charge a subscription asks for now: paid period ``period`` (0 is the first), attempt
    ``attempt`` (0 is the first; each retry after a decline is the next)."""

    period: int
    attempt: int
    amount: Money

    def key(self, subscription_id: str) -> str:
        """The provider idempotency key of this attempt: a repeat of it charges at most once,
        and a retry after a decline is a new attempt (a replayed decline would never pay)."""
        return f"{subscription_id}:period:{self.period}:attempt:{self.attempt}"


@dataclass(frozen=True, slots=True)
class Proration:
    """A mid-period plan change: the unused share of the old price credited, the same share of
    the new price charged, both rounded half-even to the currency; ``net`` = charge - credit."""

    credit: Money
    charge: Money
    remaining_seconds: int
    period_seconds: int

    @property
    def net(self) -> Money:
        return self.charge - self.credit


def prorate(
    old_price: Money, new_price: Money, start: datetime, end: datetime, now: datetime
) -> Proration:
    """Proration of a change at ``now`` within the period [start, end), by whole seconds."""
    if old_price.currency != new_price.currency:
        raise ValidationError("Plans of different currencies cannot be swapped mid-period.")
    total = int((end - start).total_seconds())
    remaining = max(0, min(total, int((end - now).total_seconds())))
    if total <= 0:
        raise ValueError("A period has a positive length.")
    credit = (old_price * remaining / total).quantize("ROUND_HALF_EVEN")
    charge = (new_price * remaining / total).quantize("ROUND_HALF_EVEN")
    return Proration(credit, charge, remaining, total)


def plan_cycle(product: Product | None) -> BillingCycle:
    """The billing cycle of an active plan; ``ValidationError`` for anything else."""
    if (
        product is None
        or product.kind is not ProductKind.PLAN
        or not product.active
        or product.billing_cycle is None
    ):
        raise ValidationError(
            "plan_id must name an active plan of the catalog.",
            errors=[FieldError("plan_id", "not an active plan")],
        )
    return product.billing_cycle


@dataclass(frozen=True, slots=True)
class PlanTerms:
    """What a subscription is billed, copied from its plan when subscribed (or switched to): a
    later change of the catalog never alters what was sold."""

    plan_id: str
    price: Money
    credits: Decimal
    billing_cycle: BillingCycle

    @classmethod
    def of(cls, plan: Product) -> PlanTerms:
        """The terms of an active plan; ``ValidationError`` naming ``plan_id`` otherwise."""
        return cls(plan.id, plan.price, plan.credits, plan_cycle(plan))

    def period(self, anchor: datetime, index: int) -> tuple[datetime, datetime]:
        """The bounds of paid period ``index`` of a subscription anchored at ``anchor``."""
        return period_bounds(anchor, self.billing_cycle.months, index)


@dataclass(slots=True)
class Subscription:
    """A customer's plan, billed off-session each period on a saved payment method.

    Periods are counted from ``anchor`` (the start of the first paid period: the trial's end, or
    the creation without a trial) by calendar months. ``next_charge_at`` is when the worker
    charges ``charging_period`` next (or, with ``cancel_at_period_end``, ends it); every status
    change goes through the methods below and records an event.
    """

    id: str
    customer_id: str
    country: str
    payment_method: str
    saved_method: SavedPaymentMethod
    terms: PlanTerms
    anchor: datetime
    status: SubscriptionStatus
    current_period_start: datetime
    current_period_end: datetime
    trial_end: datetime | None
    created_at: datetime
    updated_at: datetime
    charging_period: int = 0
    """The paid period the next charge is for (0 is the first)."""
    failed_attempts: int = 0
    first_failure_at: datetime | None = None
    """The period's first declined charge: the dunning schedule counts from it."""
    next_charge_at: datetime | None = None
    """When the worker charges (or retries, or ends) it next; None once cancelled."""
    open_charge_purchase_id: str | None = None
    """The purchase of a charge asked of the provider and not answered yet: sent again as is."""
    latest_purchase_id: str | None = None
    cancel_at_period_end: bool = False
    cancelled_at: datetime | None = None
    scheduled_plan_id: str | None = None
    """A cheaper plan that replaces this one at the next renewal."""
    version: int = 0
    events: list[DomainEvent] = field(default_factory=list)

    @classmethod
    def start(
        cls,
        *,
        id: str,
        customer_id: str,
        plan: Product,
        country: str,
        payment_method: str,
        saved_method: SavedPaymentMethod,
        now: datetime,
    ) -> Subscription:
        """A new subscription: ``trialing`` until the plan's trial days are over, else
        ``incomplete`` until its first charge (due now) is paid."""
        trial_end = now + timedelta(days=plan.trial_days) if plan.trial_days else None
        subscription = cls(
            id=id,
            customer_id=customer_id,
            terms=PlanTerms.of(plan),
            country=country,
            payment_method=payment_method,
            saved_method=saved_method,
            anchor=trial_end or now,
            status=SubscriptionStatus.TRIALING if trial_end else SubscriptionStatus.INCOMPLETE,
            current_period_start=now,
            current_period_end=trial_end or now,
            trial_end=trial_end,
            created_at=now,
            updated_at=now,
        )
        if trial_end is None:  # no trial: the first paid period starts now
            subscription.current_period_end = subscription.period(0)[1]
        subscription.next_charge_at = subscription.anchor
        subscription.events.append(
            SubscriptionCreated(now, id, customer_id, plan.id, subscription.status.value)
        )
        return subscription

    # -- queries -------------------------------------------------------------------------------

    @property
    def plan_id(self) -> str:
        """The plan billed now (``terms``)."""
        return self.terms.plan_id

    @property
    def price(self) -> Money:
        """What each period costs (``terms``)."""
        return self.terms.price

    def period(self, index: int) -> tuple[datetime, datetime]:
        """The bounds of paid period ``index``."""
        return self.terms.period(self.anchor, index)

    def due(self, now: datetime) -> ChargeDue | None:
        """The charge to make now, or None (not due, ended, or ending at period end)."""
        if self.status not in BILLED_STATUSES or self.next_charge_at is None:
            return None
        if now < self.next_charge_at or self.ends_now(now):
            return None
        return ChargeDue(self.charging_period, self.failed_attempts, self.price)

    def ends_now(self, now: datetime) -> bool:
        """Whether a cancellation at period end is due: the paid (or trial) period is over."""
        return (
            self.cancel_at_period_end
            and self.status is not SubscriptionStatus.CANCELLED
            and now >= self.current_period_end
        )

    # -- commands ------------------------------------------------------------------------------

    def begin_charge(self, purchase_id: str, now: datetime) -> None:
        """Record the purchase that charges the due period before the provider is asked, so a
        crash in between sends the same charge again instead of a second one."""
        self.open_charge_purchase_id = purchase_id
        self.latest_purchase_id = purchase_id
        self.updated_at = now

    def charge_succeeded(self, purchase_id: str, now: datetime) -> None:
        """The due period is paid: it becomes the current period and the next one is due at
        its end."""
        if purchase_id != self.open_charge_purchase_id:
            return  # an old attempt's answer: the books moved on
        start, end = self.period(self.charging_period)
        self.current_period_start, self.current_period_end = start, end
        self.charging_period += 1
        self.failed_attempts = 0
        self.first_failure_at = None
        self.open_charge_purchase_id = None
        self.next_charge_at = end
        self._move(SubscriptionStatus.ACTIVE, f"paid:{purchase_id}", now)

    def charge_failed(
        self, purchase_id: str, now: datetime, schedule: tuple[timedelta, ...]
    ) -> None:
        """The due period's charge was declined: retry on ``schedule`` (counted from its first
        failure) while ``past_due`` (or ``incomplete`` before the first payment); once the
        schedule is spent, the subscription is cancelled."""
        if purchase_id != self.open_charge_purchase_id:
            return
        self.open_charge_purchase_id = None
        if self.first_failure_at is None:
            self.first_failure_at = now
        self.failed_attempts += 1
        self.current_period_start, self.current_period_end = self.period(self.charging_period)
        if self.failed_attempts > len(schedule):
            self.next_charge_at = None
            self.cancelled_at = now
            self._move(SubscriptionStatus.CANCELLED, f"unpaid:{purchase_id}", now)
            return
        self.next_charge_at = self.first_failure_at + schedule[self.failed_attempts - 1]
        target = (
            SubscriptionStatus.INCOMPLETE
            if self.status is SubscriptionStatus.INCOMPLETE
            else SubscriptionStatus.PAST_DUE
        )
        self._move(target, f"declined:{purchase_id}", now)

    def cancel(self, *, at_period_end: bool, now: datetime) -> None:
        """Cancel now, or at the end of the current (or trial) period: no further charge is
        made either way. Cancelling a cancelled subscription changes nothing."""
        if self.status is SubscriptionStatus.CANCELLED:
            return
        if at_period_end:
            self.cancel_at_period_end = True
            self.updated_at = now
            return
        self.next_charge_at = None
        self.cancelled_at = now
        self._move(SubscriptionStatus.CANCELLED, "cancelled", now)

    def end_at_period_end(self, now: datetime) -> bool:
        """Cancel a subscription whose cancellation at period end is due; False if none is."""
        if not self.ends_now(now):
            return False
        self.next_charge_at = None
        self.cancelled_at = self.current_period_end
        self._move(SubscriptionStatus.CANCELLED, "cancelled_at_period_end", now)
        return True

    def change_plan(self, plan: Product, now: datetime) -> Proration | None:
        """Move to ``plan``, same cycle and currency only. A dearer plan applies now and returns
        the proration to charge; a cheaper one (or the same price) applies at the next renewal
        and returns None."""
        cycle = plan_cycle(plan)
        if self.status is not SubscriptionStatus.ACTIVE:
            raise InvalidTransitionError(
                f"A {self.status.value} subscription cannot change plans.",
                details={"status": self.status.value},
            )
        if cycle is not self.terms.billing_cycle or plan.price.currency != self.price.currency:
            raise ValidationError(
                "The new plan must have the same billing cycle and currency.",
                errors=[FieldError("plan_id", "another billing cycle or currency")],
            )
        if plan.price <= self.price:
            self.scheduled_plan_id = plan.id if plan.id != self.plan_id else None
            self.updated_at = now
            return None
        return prorate(
            self.price, plan.price, self.current_period_start, self.current_period_end, now
        )

    def switch_plan(self, plan: Product, prorated: Money, now: datetime) -> None:
        """Take ``plan``'s price and credits from now on (after its proration was paid, or at a
        renewal for a scheduled change)."""
        previous = self.plan_id
        self.terms = PlanTerms.of(plan)
        self.scheduled_plan_id = None
        self.updated_at = now
        self.events.append(
            SubscriptionPlanChanged(now, self.id, self.customer_id, previous, plan.id, prorated)
        )

    def replace_saved_method(self, method: SavedPaymentMethod, now: datetime) -> None:
        """Charge ``method`` from now on (a retry of a past-due period included)."""
        if self.status is SubscriptionStatus.CANCELLED:
            raise InvalidTransitionError("A cancelled subscription takes no payment method.")
        self.saved_method = method
        self.updated_at = now

    def _move(self, target: SubscriptionStatus, cause: str, now: datetime) -> None:
        previous = self.status
        self.status = target
        self.updated_at = now
        if previous is not target:
            self.events.append(
                SubscriptionStatusChanged(
                    now, self.id, self.customer_id, previous.value, target.value, cause
                )
            )
