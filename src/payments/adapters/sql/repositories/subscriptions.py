"""The SQL subscription repository: subscriptions with optimistic versions, claims, usage."""

from __future__ import annotations

import builtins
from dataclasses import asdict, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, RowMapping, func, select
from sqlalchemy.exc import IntegrityError

from payments.adapters.sql import direct
from payments.adapters.sql.mappers import SameColumns
from payments.adapters.sql.repositories.base import SqlRepository
from payments.adapters.sql.statements import insert
from payments.adapters.sql.tables import subscription_charges, subscriptions, usage_records
from payments.domain.catalog import BillingCycle
from payments.domain.errors import ConflictError
from payments.domain.gateway import SavedPaymentMethod
from payments.domain.money import Money
from payments.domain.seen import SeenAggregates
from payments.domain.subscription import (
    BILLED_STATUSES,
    PlanTerms,
    Subscription,
    SubscriptionStatus,
)
from payments.domain.subscription_ports import (
    SubscriptionCounts,
    SubscriptionRepository,
    UsageRepository,
)
from payments.domain.usage import UsageRecord

_BILLED = [s.value for s in BILLED_STATUSES]
_PAYING = [SubscriptionStatus.ACTIVE.value, SubscriptionStatus.PAST_DUE.value]


_SUBSCRIPTION_SAME = SameColumns(
    "id", "customer_id", "country", "payment_method", "anchor", "current_period_start",
    "current_period_end", "trial_end", "charging_period", "failed_attempts", "first_failure_at",
    "next_charge_at", "open_charge_purchase_id", "latest_purchase_id", "cancel_at_period_end",
    "cancelled_at", "scheduled_plan_id", "created_at", "updated_at", "version",
)  # fmt: skip


def subscription_to_row(s: Subscription) -> dict[str, Any]:
    return {
        **_SUBSCRIPTION_SAME.of(s),
        "plan_id": s.plan_id,
        "gateway": s.saved_method.gateway,
        "gateway_customer": s.saved_method.customer_reference,
        "gateway_method": s.saved_method.method_reference,
        "price": s.price.amount,
        "currency": s.price.currency.code,
        "credits": s.terms.credits,
        "billing_cycle": s.terms.billing_cycle.value,
        "status": s.status.value,
    }


def subscription_from_row(row: RowMapping) -> Subscription:
    return Subscription(
        **_SUBSCRIPTION_SAME.read(row),
        saved_method=SavedPaymentMethod(
            row["gateway"], row["gateway_customer"], row["gateway_method"]
        ),
        terms=PlanTerms(
            row["plan_id"],
            Money(row["price"], row["currency"]).quantize(),
            row["credits"],
            BillingCycle(row["billing_cycle"]),
        ),
        status=SubscriptionStatus(row["status"]),
    )


class SqlSubscriptionRepository(SqlRepository, SubscriptionRepository):
    """Subscriptions on one connection; every one handed out or given is ``seen``, so the unit
    of work writes their events to the outbox on commit."""

    def __init__(self, connection: Connection, seen: SeenAggregates | None = None) -> None:
        super().__init__(connection)
        self._seen = seen if seen is not None else SeenAggregates()

    def add(self, subscription: Subscription) -> None:
        """Store a new subscription; ``ConflictError`` if its id is taken."""
        row = subscription_to_row(subscription)
        try:
            self._connection.execute(subscriptions.insert().values(**row))
        except IntegrityError as error:
            raise ConflictError(f"Subscription {subscription.id!r} already exists.") from error
        self._seen.seen(subscription)

    def get(self, subscription_id: str, *, for_update: bool = False) -> Subscription | None:
        """The subscription; ``for_update`` locks its row (PostgreSQL) until the end."""
        query = select(subscriptions).where(subscriptions.c.id == subscription_id)
        if for_update and self._row_locks:
            query = query.with_for_update()
        row = self._connection.execute(query).mappings().first()
        return self._seen.seen(subscription_from_row(row)) if row is not None else None

    def save(self, subscription: Subscription) -> None:
        """Persist its changes if the stored version is the one it was read at; bumps it."""
        row = subscription_to_row(subscription)
        row["version"] = subscription.version + 1
        written = self._connection.execute(
            subscriptions.update()
            .where(
                subscriptions.c.id == subscription.id,
                subscriptions.c.version == subscription.version,
            )
            .values(**row)
        ).rowcount
        if written != 1:
            raise ConflictError(f"Subscription {subscription.id!r} changed meanwhile.")
        subscription.version += 1
        self._seen.seen(subscription)

    def for_customer(
        self, customer_id: str | None, *, limit: int = 100
    ) -> builtins.list[Subscription]:
        """Subscriptions newest first: one customer's, or everyone's."""
        query = select(subscriptions)
        if customer_id is not None:
            query = query.where(subscriptions.c.customer_id == customer_id)
        query = query.order_by(subscriptions.c.created_at.desc(), subscriptions.c.id.desc())
        return [subscription_from_row(row) for row in self._all(query.limit(limit))]

    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> builtins.list[str]:
        """Due billed subscriptions nobody holds, leased until ``lease_until``; on PostgreSQL
        taken ``FOR UPDATE SKIP LOCKED`` so concurrent workers claim disjoint ones."""
        query = (
            select(subscriptions.c.id)
            .where(
                subscriptions.c.status.in_(_BILLED),
                subscriptions.c.next_charge_at <= now,
                (subscriptions.c.claimed_until.is_(None)) | (subscriptions.c.claimed_until <= now),
            )
            .order_by(subscriptions.c.next_charge_at, subscriptions.c.id)
            .limit(limit)
        )
        if self._row_locks:
            query = query.with_for_update(skip_locked=True)
        claimed = [row["id"] for row in self._all(query)]
        if claimed:
            self._connection.execute(
                subscriptions.update()
                .where(subscriptions.c.id.in_(claimed))
                .values(claimed_until=lease_until)
            )
        return claimed

    def record_charge(
        self, subscription_id: str, period: int, attempt: int, purchase_id: str
    ) -> bool:
        """Claim the attempt; False when its row exists (the transaction stays usable)."""
        row = {
            "subscription_id": subscription_id,
            "period": period,
            "attempt": attempt,
            "purchase_id": purchase_id,
        }
        statement = insert(subscription_charges, tuple(row), 1, ())
        return direct.execute(self._connection, statement, row) == 1

    def counts(self, window_start: datetime) -> SubscriptionCounts:
        """Counts by status, cancellations since ``window_start`` and the paying subscriptions'
        summed prices by currency and cycle, each one aggregate query."""
        c = subscriptions.c
        by_status = {
            row["status"]: int(row["n"])
            for row in self._all(select(c.status, func.count().label("n")).group_by(c.status))
        }
        cancelled = self._connection.execute(
            select(func.count()).where(
                c.status == SubscriptionStatus.CANCELLED.value, c.cancelled_at >= window_start
            )
        ).scalar_one()
        prices = self._all(
            select(c.currency, c.billing_cycle, func.sum(c.price).label("total"))
            .where(c.status.in_(_PAYING))
            .group_by(c.currency, c.billing_cycle)
        )
        return SubscriptionCounts(
            by_status=by_status,
            cancelled_in_window=int(cancelled),
            billed_prices=[
                (row["currency"], row["billing_cycle"], Decimal(row["total"])) for row in prices
            ],
        )


def _usage_from_row(row: RowMapping) -> UsageRecord:
    return UsageRecord(**{f.name: row[f.name] for f in fields(UsageRecord)})


class SqlUsageRepository(SqlRepository, UsageRepository):
    def add(self, record: UsageRecord) -> UsageRecord:
        """Store the record, or answer the one stored under its (subscription, reference)."""
        row = asdict(record)
        if direct.execute(self._connection, insert(usage_records, tuple(row), 1, ()), row) == 1:
            return record
        query = select(usage_records).where(
            usage_records.c.subscription_id == record.subscription_id,
            usage_records.c.reference == record.reference,
        )
        stored = self._connection.execute(query).mappings().first()
        if stored is None:  # another constraint refused it: its id
            raise ConflictError(f"Usage record {record.id!r} already exists.")
        return _usage_from_row(stored)

    def totals(self, subscription_id: str, period_start: datetime) -> dict[str, Decimal]:
        """Each metric's summed quantity in the period starting ``period_start``."""
        c = usage_records.c
        query = (
            select(c.metric, func.sum(c.quantity).label("total"))
            .where(c.subscription_id == subscription_id, c.period_start == period_start)
            .group_by(c.metric)
            .order_by(c.metric)
        )
        return {row["metric"]: Decimal(str(row["total"])) for row in self._all(query)}
