"""The composition root: one dependency-injector container wires everything from Settings.

The service (``payments.wsgi``), the command line and the worker build their parts here; tests
override single providers with the fakes (``container.gateways.override(...)``), and
``payments.testing.bootstrap`` does that for every adapter at once.
"""

from __future__ import annotations

from collections.abc import Callable

import requests
from dependency_injector import containers, providers

from payments.adapters.deferred import nats_event_publisher, redis_rate_limiter
from payments.adapters.invoice_pdf import FpdfInvoiceDocuments
from payments.adapters.memory import InMemoryRateLimiter
from payments.adapters.metrics import ServiceMetrics
from payments.adapters.metrics_exposition import BacklogCollector, MetricsExposition
from payments.adapters.sql.engine import make_engine, single_statement_engine
from payments.adapters.sql.lending import lending
from payments.adapters.sql.migrate import (
    database_error_reason,
    database_ready,
    schema_state,
    upgrade,
    upgrade_embedded,
)
from payments.adapters.sql.test_clock import SqlTestClock
from payments.adapters.sql.unit_of_work import SqlUnitOfWork
from payments.adapters.system import SystemClock, UlidGenerator
from payments.adapters.webhooks import (
    RequestsWebhookSender,
    any_http_destination,
    public_https_only,
    secret_box_for,
)
from payments.config import Settings
from payments.domain.ports import UnitOfWork
from payments.domain.services.access import AccessService
from payments.domain.services.accounts import AccountService
from payments.domain.services.backlog import BacklogReview
from payments.domain.services.banks import BankDirectory
from payments.domain.services.billing import BillingPolicy
from payments.domain.services.cash_vouchers import CashVoucherDesk
from payments.domain.services.catalog import CatalogService
from payments.domain.services.checkout import Checkout
from payments.domain.services.dossier import PurchaseDossiers
from payments.domain.services.guest_checkout import GuestCheckoutGate, GuestCheckoutLimits
from payments.domain.services.idempotency import IdempotencyService
from payments.domain.services.inbox import InboxReview
from payments.domain.services.inbox_applier import InboxApplier
from payments.domain.services.invoicing import InvoiceService
from payments.domain.services.notifications import NotificationService
from payments.domain.services.outbox_relay import EventRelay, OutboxBacklog
from payments.domain.services.purchases import PurchaseService
from payments.domain.services.refunds import RefundService
from payments.domain.services.statistics import StatisticsService
from payments.domain.services.subscription_stats import SubscriptionStatsService
from payments.domain.services.subscriptions import SubscriptionService
from payments.domain.services.use_case import GatewayWiring
from payments.domain.services.webhooks import WebhookDispatcher, WebhookEndpoints
from payments.entrypoints.http.app import ApiServices, HttpSettings, create_app
from payments.entrypoints.http.request_scope import ScopedApp
from payments.entrypoints.wsgi_dispatch import PathDispatcher
from payments.gateway_assembly import checked_gateways
from payments.sandbox.environment import build_sandbox


def _single_statement_units(
    units: providers.Provider[UnitOfWork], single: Callable[[], UnitOfWork]
) -> Callable[[], UnitOfWork]:
    """``single``, unless ``units`` (the container's unit of work) is overridden: then ``units``,
    so that every use case works on what a test or an integrator put in its place."""
    return units if units.overridden else single


class Container(containers.DeclarativeContainer):
    """Wires settings, adapters, use cases and the WSGI application; nothing is built here."""

    settings = providers.Dependency(instance_of=Settings)
    mode = providers.Callable(getattr, settings, "mode")
    """``sandbox`` or ``live``: picks the sandbox's simulators or none."""
    routing = providers.Callable(getattr, settings, "routing")
    invoicing = providers.Callable(getattr, settings, "invoicing")
    """The invoice series and tax rates every use case that completes purchases issues under."""

    ids = providers.Singleton(UlidGenerator)
    http_session = providers.Singleton(requests.Session)
    metrics = providers.Singleton(ServiceMetrics)
    """This process's Prometheus instruments (``payments.adapters.metrics``)."""

    # -- the database ----------------------------------------------------------------------
    engine = providers.Singleton(make_engine, settings.provided.database_url)
    test_clock = providers.Selector(
        mode,
        sandbox=providers.Singleton(SqlTestClock, engine),
        live=providers.Object(None),
    )
    """The sandbox's test clock (system time plus an offset in the database); None in live."""
    clock = providers.Selector(mode, sandbox=test_clock, live=providers.Singleton(SystemClock))
    """What every use case reads the time from: the test clock in sandbox mode."""
    unit_of_work = providers.Factory(SqlUnitOfWork, engine, metrics)
    single_statements = providers.Callable(
        _single_statement_units,
        unit_of_work.provider,
        providers.Factory(
            SqlUnitOfWork, providers.Singleton(single_statement_engine, engine), metrics
        ).provider,
    )
    """Makes units of work whose statements each stand alone (autocommit on PostgreSQL), for the
    per-request steps that need no transaction (the API key lookup, the Idempotency-Key claim
    and answer);
    ``unit_of_work`` itself once that is overridden (fakes, another database)."""
    migrate = providers.Callable(upgrade, settings.provided.database_url)
    """Bring the database to this code's schema (``payments migrate``)."""
    migrate_embedded = providers.Callable(upgrade_embedded, settings.provided.database_url)
    """Migrate an embedded SQLite database before use; False (nothing done) for any other."""
    schema_state = providers.Callable(schema_state, engine)
    readiness = providers.Singleton(database_ready, engine)
    database_error_reason = providers.Callable(database_error_reason)
    """``(unreachable, error class name)`` for a database driver's error, None for any other."""

    # -- providers and their stand-ins -----------------------------------------------------
    gateways = providers.Singleton(
        checked_gateways, settings, http_session, unit_of_work.provider, clock, metrics
    )

    rate_limiter = providers.Selector(
        settings.provided.rate_limit_store,
        redis=providers.Singleton(redis_rate_limiter, settings.provided.redis_url, clock),
        memory=providers.Singleton(InMemoryRateLimiter, clock),
    )

    guest_checkouts = providers.Singleton(
        GuestCheckoutGate,
        rate_limiter,
        providers.Factory(
            GuestCheckoutLimits,
            per_ip=settings.provided.guest_checkouts_per_ip_hour,
            per_email=settings.provided.guest_checkouts_per_email_hour,
        ),
    )

    # -- events out ------------------------------------------------------------------------
    event_publisher = providers.Selector(
        settings.provided.event_publishing,
        nats=providers.Singleton(
            nats_event_publisher,
            settings.provided.nats.url,
            stream=settings.provided.nats.stream,
            subject_prefix=settings.provided.nats.subject_prefix,
            timeout=settings.provided.nats.timeout_seconds,
        ),
        off=providers.Object(None),
    )
    """Where the worker publishes the outbox (None without ``PAYMENTS_NATS_URL``)."""
    event_relay = providers.Selector(
        settings.provided.event_publishing,
        nats=providers.Singleton(EventRelay, unit_of_work.provider, event_publisher, clock),
        off=providers.Object(None),
    )
    outbox_backlog = providers.Singleton(OutboxBacklog, unit_of_work.provider)
    backlog = providers.Singleton(BacklogReview, unit_of_work.provider)
    metrics_exposition = providers.Singleton(
        MetricsExposition,
        metrics,
        providers.Factory(BacklogCollector, backlog.provided.current, clock.provided.now),
        settings.provided.metrics_multiprocess_dir,
    )
    """What ``/metrics`` answers: every gunicorn worker's instruments, and the backlog."""

    webhook_destinations = providers.Selector(
        mode,
        sandbox=providers.Object(any_http_destination),
        live=providers.Callable(public_https_only),
    )
    """Where merchant webhooks may go: anywhere http(s) in sandbox, public HTTPS hosts live."""
    webhook_sender = providers.Singleton(
        RequestsWebhookSender, providers.Singleton(requests.Session), webhook_destinations
    )
    webhook_secrets = providers.Singleton(secret_box_for, settings.provided.webhook_secrets_keys)
    webhook_dispatcher = providers.Singleton(
        WebhookDispatcher, unit_of_work.provider, webhook_sender, webhook_secrets, clock, ids
    )
    """Fans outbox events out to merchant webhook endpoints and sends them (the worker)."""

    # -- use cases -------------------------------------------------------------------------
    catalog = providers.Singleton(CatalogService, unit_of_work.provider, clock, ids)
    gateway_wiring = providers.Singleton(
        GatewayWiring, unit_of_work.provider, gateways, clock, ids, invoicing
    )
    """What every use case that talks to the gateways is built from."""
    checkout = providers.Singleton(
        Checkout,
        gateway_wiring,
        routing,
        guests=guest_checkouts,
        single_statements=single_statements,
    )
    purchases = providers.Singleton(PurchaseService, checkout)
    refunds = providers.Singleton(RefundService, gateway_wiring)
    subscriptions = providers.Singleton(
        SubscriptionService,
        gateway_wiring,
        providers.Factory(BillingPolicy, routing, settings.provided.dunning_schedule),
    )
    subscription_stats = providers.Singleton(
        SubscriptionStatsService, unit_of_work.provider, clock, ids
    )
    accounts = providers.Singleton(AccountService, unit_of_work.provider, clock, ids)
    notifications = providers.Singleton(
        NotificationService,
        gateway_wiring,
        batch=settings.provided.notification_batch,
        ingest=settings.provided.ingest_notifications,
    )
    inbox_applier = providers.Singleton(InboxApplier, notifications)
    inbox = providers.Singleton(InboxReview, unit_of_work.provider, notifications)
    dossiers = providers.Singleton(PurchaseDossiers, unit_of_work.provider)
    cash_vouchers = providers.Singleton(
        CashVoucherDesk, unit_of_work.provider, clock, ids, invoicing=invoicing
    )
    access = providers.Singleton(
        AccessService, unit_of_work.provider, clock, ids, lookups=single_statements
    )
    banks = providers.Singleton(BankDirectory, gateways, clock, routing=routing)
    invoice_documents = providers.Singleton(FpdfInvoiceDocuments)
    invoices = providers.Singleton(
        InvoiceService, unit_of_work.provider, clock, ids, invoice_documents
    )
    statistics = providers.Singleton(StatisticsService, unit_of_work.provider, clock, ids)
    idempotency = providers.Singleton(
        IdempotencyService,
        unit_of_work.provider,
        clock,
        settings.provided.idempotency_ttl,
        single_statements=single_statements,
    )
    webhook_endpoints = providers.Singleton(
        WebhookEndpoints, unit_of_work.provider, webhook_sender, webhook_secrets, clock, ids
    )

    # -- sandbox mode's simulators (they act through the use cases above) ------------------
    sandbox = providers.Selector(
        mode,
        sandbox=providers.Singleton(
            build_sandbox, settings, http_session, cash_vouchers=cash_vouchers
        ),
        live=providers.Object(None),
    )
    sandbox_controller = providers.Selector(
        mode, sandbox=sandbox.provided.controller, live=providers.Object(None)
    )
    sandbox_mounts = providers.Selector(
        mode, sandbox=sandbox.provided.mounts.call(), live=providers.Object({})
    )

    # -- the HTTP API ----------------------------------------------------------------------
    api_services = providers.Singleton(
        ApiServices,
        catalog=catalog,
        purchases=purchases,
        refunds=refunds,
        accounts=accounts,
        notifications=notifications,
        access=access,
        idempotency=idempotency,
        readiness=readiness,
        banks=banks,
        invoices=invoices,
        statistics=statistics,
        webhook_endpoints=webhook_endpoints,
        webhook_dispatcher=webhook_dispatcher,
        cash_vouchers=cash_vouchers,
        subscriptions=subscriptions,
        subscription_stats=subscription_stats,
        test_clock=test_clock,
    )
    http_settings = providers.Singleton(
        HttpSettings,
        trust_forwarded_for=settings.provided.trust_forwarded_for,
        metrics_token=settings.provided.metrics_token,
    )
    api = providers.Singleton(
        create_app,
        services=api_services,
        settings=http_settings,
        sandbox=sandbox_controller,
        metrics=metrics,
        scrape=metrics_exposition.provided.scrape,
    )
    wsgi_app = providers.Singleton(
        ScopedApp,
        providers.Singleton(PathDispatcher, api, sandbox_mounts),
        providers.Object(lending),
    )
    """Every request's units of work share one pooled connection (``lending``)."""


def build_container(settings: Settings) -> Container:
    """A container for these settings (tests override single providers on it)."""
    return Container(settings=settings)
