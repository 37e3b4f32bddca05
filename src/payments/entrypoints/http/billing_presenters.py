"""Subscriptions, usage and their statistics as the JSON of the HTTP contract."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from payments.domain.errors import FieldError, ValidationError
from payments.domain.services.subscription_stats import SubscriptionStats
from payments.domain.services.subscriptions import UsageSummary
from payments.domain.subscription import Subscription
from payments.domain.usage import UsageRecord
from payments.entrypoints.http import billing_bodies as out
from payments.entrypoints.http.presenters import _present, money, rfc3339


def present_subscription(s: Subscription) -> out.Subscription:
    return _present(
        out.Subscription, s, gateway=s.saved_method.gateway, billing_cycle=s.terms.billing_cycle
    )


def present_usage(record: UsageRecord) -> out.UsageRecord:
    return _present(out.UsageRecord, record, quantity=_plain(record.quantity))


def _plain(quantity: Decimal) -> str:
    """A quantity without exponent or trailing zeros: ``"102.5"``."""
    return format(quantity.normalize(), "f")


def present_usage_summary(summary: UsageSummary) -> out.UsageSummary:
    return out.UsageSummary(
        subscription_id=summary.subscription_id,
        period_start=rfc3339(summary.period_start),
        period_end=rfc3339(summary.period_end),
        totals=[out.UsageTotal(metric, _plain(total)) for metric, total in summary.totals.items()],
    )


def present_stats(stats: SubscriptionStats) -> out.SubscriptionStats:
    return _present(
        out.SubscriptionStats,
        stats,
        churn=format(stats.churn, "f"),
        mrr=list(map(money, stats.mrr)),
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
