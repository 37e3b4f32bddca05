"""The composition root: one dependency-injector container builds everything from Settings."""

from __future__ import annotations

from typing import Any

import requests
from dependency_injector import containers, providers

from payments.adapters.gateways.circuit_breaker import CircuitBreakingGateway
from payments.adapters.gateways.sandbox import SandboxGateway
from payments.adapters.gateways.stripe import (
    StripeGateway,
    make_stripe_client,
    payment_methods_param_for,
)
from payments.adapters.memory import InMemoryRateLimiter
from payments.adapters.redis_rate_limiter import RedisRateLimiter, make_redis_client
from payments.adapters.sandbox_simulator import Deliver, SandboxSimulator, http_deliverer
from payments.adapters.sql.engine import make_engine
from payments.adapters.sql.migrate import database_ready
from payments.adapters.sql.unit_of_work import SqlUnitOfWork
from payments.adapters.stripe_sandbox import StripeSandboxActions
from payments.adapters.stripe_simulator import make_stripe_simulator
from payments.adapters.system import SystemClock, UlidGenerator
from payments.config import Settings, check_routed_gateways
from payments.domain.ports import PaymentGateway
from payments.domain.services.access import AccessService
from payments.domain.services.accounts import AccountService
from payments.domain.services.banks import BankDirectory
from payments.domain.services.catalog import CatalogService
from payments.domain.services.gateways import GatewayRegistry
from payments.domain.services.idempotency import IdempotencyService
from payments.domain.services.notifications import NotificationService
from payments.domain.services.purchases import PurchaseService
from payments.domain.services.refunds import RefundService
from payments.entrypoints.http.app import ApiServices, HttpSettings, create_app
from payments.entrypoints.http.sandbox_controller import SimulatorSandbox
from payments.entrypoints.wsgi_dispatch import PathDispatcher

SANDBOX_GATEWAY_PREFIX = "/sandbox/gateway"
SANDBOX_STRIPE_PREFIX = "/sandbox/stripe"
SANDBOX_STRIPE_KEY = "sk_test_sandbox_not_a_real_key"


class Sandbox:
    """The built-in provider simulators of sandbox mode, and how actions reach them.

    Stripe's actions go to the built-in Stripe simulator, unless a Stripe key is configured:
    then the gateway talks to that API (localstripe at ``PAYMENTS_STRIPE_API_BASE``, or
    Stripe's test mode), so the actions act there (``stripe_actions``) and deliver an event
    signed with the configured webhook secrets.
    """

    def __init__(
        self, settings: Settings, session: requests.Session, deliver: Deliver | None = None
    ) -> None:
        deliver = deliver or http_deliverer(settings.self_base_url, session)
        self.gateway_simulator = SandboxSimulator(
            settings.sandbox_secret,
            deliver,
            checkout_base=settings.public_base_url + SANDBOX_GATEWAY_PREFIX,
        )
        self.stripe_app = make_stripe_simulator(
            webhook_secret=settings.sandbox_secret,
            deliver=lambda path, body, headers: deliver(path, headers, body),
        )
        self.stripe_simulator = self.stripe_app.state
        self.controller = SimulatorSandbox()
        self.controller.register_simulator("sandbox", self.gateway_simulator)
        self.stripe_actions: StripeSandboxActions | None = None
        stripe = settings.stripe
        if stripe.secret_key:
            self.stripe_actions = StripeSandboxActions(
                make_stripe_client(
                    stripe.secret_key, api_base=stripe.api_base, api_version=stripe.api_version
                ),
                stripe.webhook_secrets,
                deliver,
                api_version=stripe.api_version,
            )
            self.controller.register_simulator("stripe", self.stripe_actions)
        else:
            self.controller.register_simulator("stripe", self.stripe_simulator)

    def mounts(self) -> dict[str, Any]:
        return {
            SANDBOX_GATEWAY_PREFIX: self.gateway_simulator.wsgi_app(),
            SANDBOX_STRIPE_PREFIX: self.stripe_app,
        }


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
    """The HTTP API's limits from the settings (guest checkout quotas, the trusted proxy)."""
    return HttpSettings(
        public_ip_limit=settings.guest_checkouts_per_ip_hour,
        public_ip_window=3600,
        public_email_limit=settings.guest_checkouts_per_email_hour,
        public_email_window=3600,
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
        lambda settings, session: Sandbox(settings, session) if settings.sandbox else None,
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

    catalog = providers.Singleton(CatalogService, unit_of_work.provider, clock, ids)
    purchases = providers.Singleton(
        PurchaseService,
        unit_of_work.provider,
        gateways,
        settings.provided.routing,
        clock,
        ids,
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
        rate_limiter=rate_limiter,
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
