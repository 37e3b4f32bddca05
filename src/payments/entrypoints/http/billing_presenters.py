"""Subscriptions, usage and their statistics as the JSON of the HTTP contract."""

from __future__ import annotations

from datetime import datetime

from payments.domain.errors import FieldError, ValidationError
from payments.domain.services.subscription_stats import SubscriptionStats
from payments.domain.services.subscriptions import UsageSummary
from payments.domain.subscription import Subscription
from payments.domain.usage import UsageRecord
from payments.entrypoints.http import billing_bodies as out
from payments.entrypoints.http.presenters import money, rfc3339


def present_subscription(s: Subscription) -> out.Subscription:
    return out.Subscription(
        id=s.id,
        status=s.status,
        plan_id=s.plan_id,
        customer_id=s.customer_id,
        current_period_start=rfc3339(s.current_period_start),
        current_period_end=rfc3339(s.current_period_end),
        trial_end=rfc3339(s.trial_end),
        cancel_at_period_end=s.cancel_at_period_end,
        latest_purchase_id=s.latest_purchase_id,
        price=money(s.price),
        billing_cycle=s.billing_cycle,
        country=s.country,
        gateway=s.saved_method.gateway,
        next_charge_at=rfc3339(s.next_charge_at),
        failed_attempts=s.failed_attempts,
        cancelled_at=rfc3339(s.cancelled_at),
        scheduled_plan_id=s.scheduled_plan_id,
        created_at=rfc3339(s.created_at),
    )


def present_usage(record: UsageRecord) -> out.UsageRecord:
    return out.UsageRecord(
        id=record.id,
        subscription_id=record.subscription_id,
        metric=record.metric,
        quantity=format(record.quantity.normalize(), "f"),
        reference=record.reference,
        period_start=rfc3339(record.period_start),
        recorded_at=rfc3339(record.recorded_at),
    )


def present_usage_summary(summary: UsageSummary) -> out.UsageSummary:
    return out.UsageSummary(
        subscription_id=summary.subscription_id,
        period_start=rfc3339(summary.period_start),
        period_end=rfc3339(summary.period_end),
        totals=[
            out.UsageTotal(metric, format(total.normalize(), "f"))
            for metric, total in summary.totals.items()
        ],
    )


def present_stats(stats: SubscriptionStats) -> out.SubscriptionStats:
    return out.SubscriptionStats(
        counts=stats.counts,
        window_start=rfc3339(stats.window_start),
        window_end=rfc3339(stats.window_end),
        cancelled_in_window=stats.cancelled_in_window,
        churn=format(stats.churn, "f"),
        mrr=[money(m) for m in stats.mrr],
    )


def parse_time(text: str, field: str) -> datetime:
    """An RFC 3339 time with its offset (``2026-01-01T12:00:00Z``); 422 naming ``field``."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.utcoffset() is None:
        raise ValidationError(
            "The time is invalid.",
            errors=[FieldError(field, "must be an RFC 3339 time such as 2026-01-01T12:00:00Z")],
        )
    return moment
