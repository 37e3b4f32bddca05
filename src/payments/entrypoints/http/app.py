"""The Falcon application factory: routes, middleware and error handlers around the use cases."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import falcon
from prometheus_client import generate_latest

from payments.adapters.metrics import ServiceMetrics
from payments.domain.errors import ConfigurationError
from payments.domain.ports import AdjustableClock
from payments.domain.services.access import AccessService
from payments.domain.services.accounts import AccountService
from payments.domain.services.banks import BankDirectory
from payments.domain.services.cash_vouchers import CashVoucherDesk
from payments.domain.services.catalog import CatalogService
from payments.domain.services.idempotency import IdempotencyService
from payments.domain.services.invoicing import InvoiceService
from payments.domain.services.notifications import NotificationService
from payments.domain.services.purchases import PurchaseService
from payments.domain.services.refunds import RefundService
from payments.domain.services.statistics import StatisticsService
from payments.domain.services.subscription_stats import SubscriptionStatsService
from payments.domain.services.subscriptions import SubscriptionService
from payments.domain.services.webhooks import WebhookDispatcher, WebhookEndpoints
from payments.entrypoints.http.auth import policy_for
from payments.entrypoints.http.errors import register_error_handlers
from payments.entrypoints.http.idempotency import IdempotencyMiddleware
from payments.entrypoints.http.media import StructJSONHandler
from payments.entrypoints.http.middleware import (
    AuthMiddleware,
    BodyLimitMiddleware,
    RequestIdMiddleware,
    StorableTextMiddleware,
)
from payments.entrypoints.http.openapi import openapi_document
from payments.entrypoints.http.resources.accounts import AccountResource
from payments.entrypoints.http.resources.banks import PseBanksResource
from payments.entrypoints.http.resources.docs import DocsPageResource, OpenApiResource
from payments.entrypoints.http.resources.efecty import (
    SettlementsResource,
    VoucherConfirmationsResource,
)
from payments.entrypoints.http.resources.health import HealthResource, ReadinessResource
from payments.entrypoints.http.resources.invoices import (
    InvoicePdfResource,
    InvoiceResource,
    InvoicesResource,
    RevenueResource,
)
from payments.entrypoints.http.resources.metrics import MetricsResource
from payments.entrypoints.http.resources.products import ProductResource, ProductsResource
from payments.entrypoints.http.resources.purchases import (
    PurchaseCancelResource,
    PurchaseRefundsResource,
    PurchaseResource,
    PurchasesResource,
    PurchaseSyncResource,
    RefundResource,
)
from payments.entrypoints.http.resources.sandbox import SandboxActionResource
from payments.entrypoints.http.resources.subscriptions import (
    SandboxClockResource,
    SubscriptionCancelResource,
    SubscriptionChangeResource,
    SubscriptionPaymentMethodResource,
    SubscriptionResource,
    SubscriptionsResource,
    SubscriptionStatsResource,
    SubscriptionUsageResource,
)
from payments.entrypoints.http.resources.webhook_endpoints import (
    WebhookDeliveriesResource,
    WebhookDeliveryRetryResource,
    WebhookEndpointResource,
    WebhookEndpointsResource,
)
from payments.entrypoints.http.resources.webhooks import WebhookResource
from payments.sandbox.controller import SandboxController

__all__ = ["ApiServices", "HttpSettings", "create_app"]

_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


@dataclass(frozen=True, slots=True)
class ApiServices:
    """The use cases the HTTP API calls, and a readiness probe (can we reach the database?)."""

    catalog: CatalogService
    purchases: PurchaseService
    refunds: RefundService
    accounts: AccountService
    notifications: NotificationService
    access: AccessService
    idempotency: IdempotencyService
    readiness: Callable[[], bool]
    banks: BankDirectory
    invoices: InvoiceService
    statistics: StatisticsService
    webhook_endpoints: WebhookEndpoints
    webhook_dispatcher: WebhookDispatcher
    cash_vouchers: CashVoucherDesk
    subscriptions: SubscriptionService
    subscription_stats: SubscriptionStatsService
    test_clock: AdjustableClock | None = None
    """The sandbox's test clock (``POST /v1/sandbox/clock``); None in live mode."""


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """Limits of the HTTP API.

    ``trust_forwarded_for``: the API runs behind our own proxy, whose last ``X-Forwarded-For`` hop
    is the client address used for rate limits (the guest checkout limits of the purchase use
    case count by it). ``metrics_token``: callers off loopback may read ``/metrics`` with it.
    """

    max_body_bytes: int = 1_048_576
    trust_forwarded_for: bool = False
    metrics_token: str | None = None


def _docs_page() -> bytes:
    return resources.files("payments.entrypoints").joinpath("static/docs.html").read_bytes()


def _check_policies(template: str, resource: object) -> None:
    """Every responder needs a row in the role table: a route nobody listed is a start-up error."""
    for method in _METHODS:
        if hasattr(resource, f"on_{method.lower()}") and policy_for(method, template) is None:
            raise ConfigurationError(f"{method} {template} has no row in auth.ROUTE_POLICIES.")


def _answer_head(resource: object) -> None:
    """``HEAD`` wherever ``GET`` answers (load balancers probe with it): the same responder,
    whose body Falcon leaves out; the role table gives HEAD the GET row (``auth.policy_for``)."""
    on_get = getattr(resource, "on_get", None)
    if on_get is not None and not hasattr(resource, "on_head"):
        resource.on_head = on_get  # type: ignore[attr-defined]


def _subscription_routes(services: ApiServices) -> list[tuple[str, object]]:
    one = "/v1/subscriptions/{subscription_id}"
    subscriptions = services.subscriptions
    return [
        ("/v1/subscriptions", SubscriptionsResource(subscriptions)),
        (one, SubscriptionResource(subscriptions)),
        (f"{one}/cancel", SubscriptionCancelResource(subscriptions)),
        (f"{one}/change", SubscriptionChangeResource(subscriptions)),
        (f"{one}/payment_method", SubscriptionPaymentMethodResource(subscriptions)),
        (f"{one}/usage", SubscriptionUsageResource(subscriptions)),
        ("/v1/stats/subscriptions", SubscriptionStatsResource(services.subscription_stats)),
    ]


def create_app(
    *,
    services: ApiServices,
    settings: HttpSettings = HttpSettings(),
    sandbox: SandboxController | None = None,
    metrics: ServiceMetrics | None = None,
    scrape: Callable[[], bytes] | None = None,
) -> falcon.App[falcon.Request, falcon.Response]:
    """The WSGI application. ``sandbox`` adds ``POST /v1/sandbox/purchases/{id}/{action}``.

    ``metrics`` counts requests and webhooks (a registry of this app's own when None);
    ``scrape`` answers ``/metrics`` (that registry's text when None).
    """
    if metrics is None:
        metrics = ServiceMetrics()
    if scrape is None:
        scrape = functools.partial(generate_latest, metrics.registry)
    # Order matters: request id first (every answer and log line carries it, and its access
    # line and metrics time the whole request), the size limit before anything reads the body,
    # authentication before the idempotency claim (scoped by the caller's key).
    # Unstorable text in the path or query is refused before authentication looks up anything.
    middleware: list[Any] = [
        RequestIdMiddleware(metrics),
        StorableTextMiddleware(),
        BodyLimitMiddleware(settings.max_body_bytes),
        AuthMiddleware(services.access, trust_forwarded_for=settings.trust_forwarded_for),
        IdempotencyMiddleware(services.idempotency),
    ]
    app = falcon.App(middleware=middleware)
    app.resp_options.media_handlers[falcon.MEDIA_JSON] = StructJSONHandler()
    register_error_handlers(app)

    hooks, endpoint = services.webhook_endpoints, "/v1/webhook-endpoints/{endpoint_id}"
    resend = WebhookDeliveryRetryResource(services.webhook_dispatcher)
    routes: list[tuple[str, object]] = [
        ("/health", HealthResource()),
        ("/ready", ReadinessResource(services.readiness)),
        ("/openapi.json", OpenApiResource(openapi_document(sandbox=sandbox is not None))),
        ("/docs", DocsPageResource(_docs_page())),
        (
            "/metrics",
            MetricsResource(
                scrape,
                settings.metrics_token,
                trust_forwarded_for=settings.trust_forwarded_for,
            ),
        ),
        ("/v1/products", ProductsResource(services.catalog)),
        ("/v1/products/{product_id}", ProductResource(services.catalog)),
        ("/v1/purchases", PurchasesResource(services.purchases)),
        ("/v1/purchases/{purchase_id}", PurchaseResource(services.purchases)),
        ("/v1/purchases/{purchase_id}/cancel", PurchaseCancelResource(services.purchases)),
        ("/v1/purchases/{purchase_id}/refunds", PurchaseRefundsResource(services.refunds)),
        ("/v1/refunds/{refund_id}", RefundResource(services.refunds)),
        ("/v1/purchases/{purchase_id}/sync", PurchaseSyncResource(services.purchases)),
        ("/v1/accounts/{customer_id}", AccountResource(services.accounts)),
        ("/v1/webhooks/{provider}", WebhookResource(services.notifications, metrics)),
        ("/v1/pse/banks", PseBanksResource(services.banks)),
        ("/v1/invoices", InvoicesResource(services.invoices)),
        ("/v1/invoices/{invoice_id}", InvoiceResource(services.invoices)),
        ("/v1/invoices/{invoice_id}.pdf", InvoicePdfResource(services.invoices)),
        ("/v1/stats/revenue", RevenueResource(services.statistics)),
        ("/v1/webhook-endpoints", WebhookEndpointsResource(hooks)),
        (endpoint, WebhookEndpointResource(hooks)),
        (f"{endpoint}/deliveries", WebhookDeliveriesResource(hooks)),
        (f"{endpoint}/deliveries/{{delivery_id}}/retry", resend),
        ("/v1/efecty/confirmations", VoucherConfirmationsResource(services.cash_vouchers)),
        ("/v1/efecty/settlements", SettlementsResource(services.cash_vouchers)),
        *_subscription_routes(services),
    ]
    if sandbox is not None:
        routes.append(
            (
                "/v1/sandbox/purchases/{purchase_id}/{action}",
                SandboxActionResource(services.purchases, sandbox),
            )
        )
        if services.test_clock is not None:
            routes.append(("/v1/sandbox/clock", SandboxClockResource(services.test_clock)))
    for template, resource in routes:
        _answer_head(resource)
        _check_policies(template, resource)
        app.add_route(template, resource)
    return app
