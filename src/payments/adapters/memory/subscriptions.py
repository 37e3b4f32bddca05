"""In-memory subscriptions, their claimed charges and usage records (for the fakes' store)."""

from __future__ import annotations

import builtins
import copy
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from payments.domain.errors import ConflictError
from payments.domain.seen import SeenAggregates
from payments.domain.subscription import BILLED_STATUSES, Subscription, SubscriptionStatus
from payments.domain.subscription_ports import (
    SubscriptionCounts,
    SubscriptionRepository,
    UsageRepository,
)
from payments.domain.usage import UsageRecord

_PAYING = frozenset({SubscriptionStatus.ACTIVE, SubscriptionStatus.PAST_DUE})


@dataclass
class BillingTables:
    """Subscriptions by id, their leases, claimed charge attempts and usage records."""

    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    claimed_until: dict[str, datetime] = field(default_factory=dict)
    charges: dict[tuple[str, int, int], str] = field(default_factory=dict)
    usage: dict[tuple[str, str], UsageRecord] = field(default_factory=dict)

    def copy(self) -> BillingTables:
        return BillingTables(
            dict(self.subscriptions), dict(self.claimed_until), dict(self.charges), dict(self.usage)
        )


class _HasBilling(Protocol):
    billing: BillingTables


class InMemorySubscriptions(SubscriptionRepository):
    def __init__(self, t: _HasBilling, seen: SeenAggregates) -> None:
        self._t = t
        self._seen = seen

    def _out(self, found: Subscription | None) -> Subscription | None:
        return self._seen.seen(copy.deepcopy(found)) if found is not None else None

    def add(self, subscription: Subscription) -> None:
        if subscription.id in self._t.billing.subscriptions:
            raise ConflictError(f"Subscription {subscription.id!r} already exists.")
        self._keep(subscription)
        self._seen.seen(subscription)

    def _keep(self, subscription: Subscription) -> None:
        kept = copy.deepcopy(subscription)
        kept.events = []  # the events go to the outbox once, from the caller's copy
        self._t.billing.subscriptions[subscription.id] = kept

    def get(self, subscription_id: str, *, for_update: bool = False) -> Subscription | None:
        return self._out(self._t.billing.subscriptions.get(subscription_id))

    def save(self, subscription: Subscription) -> None:
        stored = self._t.billing.subscriptions.get(subscription.id)
        if stored is None or stored.version != subscription.version:
            raise ConflictError(f"Subscription {subscription.id!r} changed meanwhile.")
        subscription.version += 1
        self._keep(subscription)
        self._seen.seen(subscription)

    def for_customer(
        self, customer_id: str | None, *, limit: int = 100
    ) -> builtins.list[Subscription]:
        found = [
            s
            for s in self._t.billing.subscriptions.values()
            if customer_id is None or s.customer_id == customer_id
        ]
        found.sort(key=lambda s: (s.created_at, s.id), reverse=True)
        return [copy.deepcopy(s) for s in found[:limit]]

    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> builtins.list[str]:
        billing = self._t.billing
        due = sorted(
            (s.next_charge_at, s.id)
            for s in billing.subscriptions.values()
            if s.status in BILLED_STATUSES
            and s.next_charge_at is not None
            and s.next_charge_at <= now
            and billing.claimed_until.get(s.id, now) <= now
        )[:limit]
        for _, subscription_id in due:
            billing.claimed_until[subscription_id] = lease_until
        return [subscription_id for _, subscription_id in due]

    def record_charge(
        self, subscription_id: str, period: int, attempt: int, purchase_id: str
    ) -> bool:
        key = (subscription_id, period, attempt)
        if key in self._t.billing.charges:
            return False
        self._t.billing.charges[key] = purchase_id
        return True

    def counts(self, window_start: datetime) -> SubscriptionCounts:
        everything = list(self._t.billing.subscriptions.values())
        prices: dict[tuple[str, str], Decimal] = {}
        for s in everything:
            if s.status in _PAYING:
                key = (s.price.currency.code, s.terms.billing_cycle.value)
                prices[key] = prices.get(key, Decimal(0)) + s.price.amount
        return SubscriptionCounts(
            by_status=dict(Counter(s.status.value for s in everything)),
            cancelled_in_window=sum(
                1
                for s in everything
                if s.status is SubscriptionStatus.CANCELLED
                and s.cancelled_at is not None
                and s.cancelled_at >= window_start
            ),
            billed_prices=[(c, cycle, total) for (c, cycle), total in sorted(prices.items())],
        )


class InMemoryUsage(UsageRepository):
    def __init__(self, t: _HasBilling) -> None:
        self._t = t

    def add(self, record: UsageRecord) -> UsageRecord:
        return self._t.billing.usage.setdefault((record.subscription_id, record.reference), record)

    def totals(self, subscription_id: str, period_start: datetime) -> dict[str, Decimal]:
        totals: dict[str, Decimal] = {}
        for record in self._t.billing.usage.values():
            if record.subscription_id == subscription_id and record.period_start == period_start:
                totals[record.metric] = totals.get(record.metric, Decimal(0)) + record.quantity
        return dict(sorted(totals.items()))
