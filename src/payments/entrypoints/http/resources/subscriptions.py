"""Subscriptions: subscribe, read, cancel, change plans, swap the card, usage and statistics."""

from __future__ import annotations

from datetime import timedelta

import falcon

from payments.domain.errors import FieldError, ValidationError
from payments.domain.periods import parse_duration
from payments.domain.ports import AdjustableClock
from payments.domain.services.subscription_stats import SubscriptionStatsService
from payments.domain.services.subscriptions import CreateSubscription, SubscriptionService
from payments.entrypoints.http import billing_bodies as bodies
from payments.entrypoints.http.answers import answer_created
from payments.entrypoints.http.billing_presenters import (
    parse_time,
    present_stats,
    present_subscription,
    present_usage,
    present_usage_summary,
)
from payments.entrypoints.http.context import principal_of
from payments.entrypoints.http.json_body import read_body
from payments.entrypoints.http.presenters import rfc3339

DEFAULT_CHURN_WINDOW = timedelta(days=30)


class _OnSubscriptions:
    """A resource answered by the subscription use cases."""

    def __init__(self, subscriptions: SubscriptionService) -> None:
        self._subscriptions = subscriptions


class SubscriptionsResource(_OnSubscriptions):
    """``/v1/subscriptions``: subscribe (merchant, admin) and list (customer keys: their own)."""

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_body(req, bodies.SubscriptionInput)
        command = CreateSubscription(
            customer_id=body.customer_id,
            plan_id=body.plan_id,
            country=body.country,
            payment_method_token=body.payment_method_token,
            payment_method=body.payment_method,
        )
        subscription = self._subscriptions.create(command, principal_of(req))
        location = f"/v1/subscriptions/{subscription.id}"
        answer_created(resp, location, present_subscription(subscription))

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        found = self._subscriptions.list_subscriptions(
            principal_of(req), req.get_param("customer_id") or None
        )
        resp.media = bodies.SubscriptionList([present_subscription(s) for s in found])


class SubscriptionResource(_OnSubscriptions):
    """``/v1/subscriptions/{id}``: the owner, merchants and admins read it."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, subscription_id: str) -> None:
        resp.media = present_subscription(
            self._subscriptions.get(subscription_id, principal_of(req))
        )


class SubscriptionCancelResource(_OnSubscriptions):
    """``POST /v1/subscriptions/{id}/cancel``: the owner, merchants and admins."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, subscription_id: str) -> None:
        body = read_body(req, bodies.SubscriptionCancelInput, optional=True)
        subscription = self._subscriptions.cancel(
            subscription_id, principal_of(req), at_period_end=body.at_period_end
        )
        resp.media = present_subscription(subscription)


class SubscriptionChangeResource(_OnSubscriptions):
    """``POST /v1/subscriptions/{id}/change``: merchants and admins."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, subscription_id: str) -> None:
        body = read_body(req, bodies.SubscriptionChangeInput)
        resp.media = present_subscription(
            self._subscriptions.change(subscription_id, body.plan_id, principal_of(req))
        )


class SubscriptionPaymentMethodResource(_OnSubscriptions):
    """``POST /v1/subscriptions/{id}/payment_method``: merchants and admins."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, subscription_id: str) -> None:
        body = read_body(req, bodies.PaymentMethodInput)
        resp.media = present_subscription(
            self._subscriptions.update_payment_method(
                subscription_id, body.payment_method_token, principal_of(req)
            )
        )


class SubscriptionUsageResource(_OnSubscriptions):
    """``/v1/subscriptions/{id}/usage``: record (merchant, admin), read (owner too)."""

    def on_post(self, req: falcon.Request, resp: falcon.Response, subscription_id: str) -> None:
        body = read_body(req, bodies.UsageInput)
        record, new = self._subscriptions.record_usage(
            subscription_id,
            principal_of(req),
            metric=body.metric,
            quantity=body.quantity,
            reference=body.reference,
        )
        resp.status = falcon.HTTP_201 if new else falcon.HTTP_200
        resp.media = present_usage(record)

    def on_get(self, req: falcon.Request, resp: falcon.Response, subscription_id: str) -> None:
        raw = req.get_param("period_start")
        start = parse_time(raw, "period_start") if raw is not None else None
        summary = self._subscriptions.usage(subscription_id, principal_of(req), start)
        resp.media = present_usage_summary(summary)


class SubscriptionStatsResource:
    """``GET /v1/stats/subscriptions``: merchants and admins."""

    def __init__(self, stats: SubscriptionStatsService) -> None:
        self._stats = stats

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        raw = req.get_param("window")
        window = parse_duration(raw, "window") if raw is not None else DEFAULT_CHURN_WINDOW
        if not window:
            raise ValidationError(
                "The window is empty.", errors=[FieldError("window", "must be longer than 0")]
            )
        resp.media = present_stats(self._stats.stats(principal_of(req), window))


class SandboxClockResource:
    """``POST /v1/sandbox/clock``: move the sandbox's test clock forward (admin)."""

    def __init__(self, clock: AdjustableClock) -> None:
        self._clock = clock

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = read_body(req, bodies.ClockInput)
        now = self._clock.advance(parse_duration(body.advance))
        resp.media = bodies.ClockNow(rfc3339(now))
