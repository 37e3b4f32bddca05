"""The composition root: one dependency-injector container builds everything from Settings."""

from __future__ import annotations

import requests
from dependency_injector import containers, providers

from payments.adapters.circuit_breaker import CircuitBreakingGateway
from payments.adapters.memory import InMemoryRateLimiter
from payments.adapters.redis_rate_limiter import RedisRateLimiter, make_redis_client
from payments.adapters.sandbox_gateway import SandboxGateway
from payments.adapters.sql.engine import make_engine
from payments.adapters.sql.migrate import database_ready
from payments.adapters.sql.unit_of_work import SqlUnitOfWork
from payments.adapters.stripe_gateway import (
    StripeGateway,
    make_stripe_client,
    payment_methods_param_for,
)
from payments.adapters.system import SystemClock, UlidGenerator
from payments.config import Settings, check_routed_gateways
from payments.domain.ports import PaymentGateway
from payments.domain.services.access import AccessService
from payments.domain.services.accounts import AccountService
from payments.domain.services.banks import BankDirectory
from payments.domain.services.catalog import CatalogService
from payments.domain.services.gateways import GatewayRegistry
from payments.domain.services.guest_checkout import GuestCheckoutGate, GuestCheckoutLimits
from payments.domain.services.idempotency import IdempotencyService
from payments.domain.services.notifications import NotificationService
from payments.domain.services.purchases import PurchaseService
from payments.domain.services.refunds import RefundService
from payments.entrypoints.http.app import ApiServices, HttpSettings, create_app
from payments.entrypoints.wsgi_dispatch import PathDispatcher
from payments.sandbox.environment import (
    SANDBOX_GATEWAY_PREFIX,
    SANDBOX_STRIPE_KEY,
    SANDBOX_STRIPE_PREFIX,
    Sandbox,
    build_sandbox,
)


def build_gateways(
    settings: Settings, session: requests.Session, sandbox: Sandbox | None
) -> GatewayRegistry:
    """Every gateway the settings enable; in sandbox mode the simulators stand in for providers."""
    gateways: list[PaymentGateway] = []
    base = settings.self_base_url
    if sandbox is not None:
        gateways.append(
            SandboxGateway(session, base + SANDBOX_GATEWAY_PREFIX, settings.sandbox_secret)
        )
    if settings.stripe.secret_key:
        version = settings.stripe.api_version
        client = make_stripe_client(
            settings.stripe.secret_key, api_base=settings.stripe.api_base, api_version=version
        )
        gateways.append(
            StripeGateway(
                client,
                settings.stripe.webhook_secrets,
                publishable_key=settings.stripe.publishable_key,
                payment_methods_param=payment_methods_param_for(version),
            )
        )
    elif sandbox is not None:
        client = make_stripe_client(SANDBOX_STRIPE_KEY, api_base=base + SANDBOX_STRIPE_PREFIX)
        gateways.append(StripeGateway(client, [settings.sandbox_secret]))
    # Each provider sits behind a circuit breaker (DESIGN §4): one that keeps failing is left
    # alone for a while, so checkouts fail over fast instead of holding threads on timeouts.
    return GatewayRegistry([CircuitBreakingGateway(gateway) for gateway in gateways])


def checked_gateways(
    settings: Settings, session: requests.Session, sandbox: Sandbox | None
) -> GatewayRegistry:
    """``build_gateways``, refusing (``ConfigurationError``) routing that names a gateway it did
    not build: settings assembled by hand get the same check as ``Settings.from_env``."""
    registry = build_gateways(settings, session, sandbox)
    check_routed_gateways(settings.routing, frozenset(registry), settings.mode)
    return registry


def http_settings(settings: Settings) -> HttpSettings:
    """The HTTP API's limits from the settings (the trusted proxy)."""
    return HttpSettings(
        trust_forwarded_for=settings.trust_forwarded_for,
    )


class Container(containers.DeclarativeContainer):
    """Wires settings, adapters, use cases and the WSGI application."""

    settings = providers.Dependency(instance_of=Settings)

    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(UlidGenerator)
    http_session = providers.Singleton(requests.Session)
    engine = providers.Singleton(make_engine, settings.provided.database_url)
    unit_of_work = providers.Factory(SqlUnitOfWork, engine)

    sandbox = providers.Singleton(
        lambda settings, session: build_sandbox(settings, session) if settings.sandbox else None,
        settings,
        http_session,
    )
    gateways = providers.Singleton(checked_gateways, settings, http_session, sandbox)
    rate_limiter = providers.Singleton(
        lambda settings, clock: (
            RedisRateLimiter(make_redis_client(settings.redis_url), clock)
            if settings.redis_url
            else InMemoryRateLimiter(clock)
        ),
        settings,
        clock,
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

    catalog = providers.Singleton(CatalogService, unit_of_work.provider, clock, ids)
    purchases = providers.Singleton(
        PurchaseService,
        unit_of_work.provider,
        gateways,
        settings.provided.routing,
        clock,
        ids,
        guests=guest_checkouts,
    )
    refunds = providers.Singleton(RefundService, unit_of_work.provider, gateways, clock, ids)
    accounts = providers.Singleton(AccountService, unit_of_work.provider, clock, ids)
    notifications = providers.Singleton(
        NotificationService, unit_of_work.provider, gateways, clock, ids
    )
    access = providers.Singleton(AccessService, unit_of_work.provider, clock, ids)
    banks = providers.Singleton(BankDirectory, gateways, clock)
    idempotency = providers.Singleton(
        IdempotencyService, unit_of_work.provider, clock, settings.provided.idempotency_ttl
    )

    api_services = providers.Singleton(
        ApiServices,
        catalog=catalog,
        purchases=purchases,
        refunds=refunds,
        accounts=accounts,
        notifications=notifications,
        access=access,
        idempotency=idempotency,
        readiness=providers.Callable(database_ready, engine),
        banks=banks,
    )
    api = providers.Singleton(
        lambda services, settings, sandbox: create_app(
            services=services,
            settings=http_settings(settings),
            sandbox=sandbox.controller if sandbox is not None else None,
        ),
        api_services,
        settings,
        sandbox,
    )
    wsgi_app = providers.Singleton(
        lambda api, sandbox: PathDispatcher(api, sandbox.mounts() if sandbox else {}),
        api,
        sandbox,
    )


def build_container(settings: Settings) -> Container:
    """A container for these settings (tests override single providers on it)."""
    container = Container(settings=settings)
    return container
