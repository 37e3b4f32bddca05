"""Ports of billing: where subscriptions, their charge claims and their usage are stored."""

from __future__ import annotations

import abc
import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from payments.domain.subscription import Subscription
from payments.domain.usage import UsageRecord

__all__ = ["SubscriptionCounts", "SubscriptionRepository", "UsageRepository"]


@dataclass(frozen=True, slots=True)
class SubscriptionCounts:
    """What the subscription statistics are computed from, summed by the database: how many
    subscriptions are in each status, how many were cancelled since the window began, and
    the summed price of those still billed (active or past due) by currency and cycle."""

    by_status: Mapping[str, int]
    cancelled_in_window: int
    billed_prices: Sequence[tuple[str, str, Decimal]]
    """(currency code, billing cycle, summed price)."""


class SubscriptionRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, subscription: Subscription) -> None:
        """Store a new subscription; ``ConflictError`` if its id is taken."""

    @abc.abstractmethod
    def get(self, subscription_id: str, *, for_update: bool = False) -> Subscription | None:
        """The subscription; ``for_update`` locks it until the unit of work ends (a
        subscription is locked before any of its purchases, so lockers never deadlock)."""

    @abc.abstractmethod
    def save(self, subscription: Subscription) -> None:
        """Persist its changes; ``ConflictError`` if the stored version moved since it was read
        (the repository bumps ``version``)."""

    @abc.abstractmethod
    def for_customer(
        self, customer_id: str | None, *, limit: int = 100
    ) -> builtins.list[Subscription]:
        """Subscriptions newest first: one customer's, or everyone's for None."""

    @abc.abstractmethod
    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> builtins.list[str]:
        """Ids of billed subscriptions whose ``next_charge_at`` has come, oldest due first,
        leased: their ``next_charge_at`` is moved to ``lease_until`` in this unit of work, and
        rows another unit of work holds are skipped (``FOR UPDATE SKIP LOCKED``), so two
        workers never take the same one; the lease lets another take it if this one dies."""

    @abc.abstractmethod
    def record_charge(
        self, subscription_id: str, period: int, attempt: int, purchase_id: str
    ) -> bool:
        """Claim charge ``attempt`` of ``period`` for ``purchase_id``: False (nothing written)
        when that attempt was claimed already: the database's last word against a double
        charge."""

    @abc.abstractmethod
    def counts(self, window_start: datetime) -> SubscriptionCounts:
        """The sums the statistics need, computed by the database."""


class UsageRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, record: UsageRecord) -> UsageRecord:
        """Store a record; when its (subscription, reference) is stored already, nothing is
        written and the stored record is returned."""

    @abc.abstractmethod
    def totals(self, subscription_id: str, period_start: datetime) -> dict[str, Decimal]:
        """The summed quantity of each metric recorded in the period starting ``period_start``."""
