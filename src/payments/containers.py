"""The composition root: one dependency-injector container wires everything from Settings.

The service (``payments.wsgi``), the command line and the worker build their parts here; tests
override single providers with the fakes (``container.gateways.override(...)``), and
``payments.testing.bootstrap`` does that for every adapter at once.
"""

from __future__ import annotations

from typing import Any

import requests
from dependency_injector import containers, providers

from payments.adapters.memory import InMemoryRateLimiter
from payments.adapters.redis_rate_limiter import RedisRateLimiter, make_redis_client
from payments.adapters.sandbox_simulator import Deliver, SandboxSimulator, http_deliverer
from payments.adapters.sql.engine import make_engine
from payments.adapters.sql.migrate import (
    database_error_reason,
    database_ready,
    schema_state,
    upgrade,
)
from payments.adapters.sql.unit_of_work import SqlUnitOfWork
from payments.adapters.stripe_gateway import make_stripe_client
from payments.adapters.stripe_sandbox import StripeSandboxActions
from payments.adapters.stripe_simulator import make_stripe_simulator
from payments.adapters.system import SystemClock, UlidGenerator
from payments.config import Settings
from payments.domain.services.access import AccessService
from payments.domain.services.accounts import AccountService
from payments.domain.services.banks import BankDirectory
from payments.domain.services.catalog import CatalogService
from payments.domain.services.idempotency import IdempotencyService
from payments.domain.services.inbox import InboxReview
from payments.domain.services.notifications import NotificationService
from payments.domain.services.purchases import PurchaseService
from payments.domain.services.refunds import RefundService
from payments.entrypoints.http.app import ApiServices, HttpSettings, create_app
from payments.entrypoints.http.sandbox_controller import SimulatorSandbox
from payments.entrypoints.wsgi_dispatch import PathDispatcher
from payments.gateway_assembly import (
    SANDBOX_GATEWAY_PREFIX,
    SANDBOX_STRIPE_PREFIX,
    checked_gateways,
)

GUEST_CHECKOUT_WINDOW = 3600
"""The guest-checkout quotas are per hour (``PAYMENTS_GUEST_CHECKOUTS_PER_*_HOUR``)."""


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


class Container(containers.DeclarativeContainer):
    """Wires settings, adapters, use cases and the WSGI application; nothing is built here."""

    settings = providers.Dependency(instance_of=Settings)
    mode = providers.Callable(getattr, settings, "mode")
    """``sandbox`` or ``live``: picks the sandbox's simulators or none."""
    routing = providers.Callable(getattr, settings, "routing")

    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(UlidGenerator)
    http_session = providers.Singleton(requests.Session)

    # -- the database ----------------------------------------------------------------------
    engine = providers.Singleton(make_engine, settings.provided.database_url)
    unit_of_work = providers.Factory(SqlUnitOfWork, engine)
    migrate = providers.Callable(upgrade, settings.provided.database_url)
    """Bring the database to this code's schema (``payments migrate``)."""
    schema_state = providers.Callable(schema_state, engine)
    readiness = providers.Singleton(database_ready, engine)
    database_error_reason = providers.Callable(database_error_reason)
    """``(unreachable, error class name)`` for a database driver's error, None for any other."""

    # -- providers and their stand-ins -----------------------------------------------------
    sandbox = providers.Selector(
        mode,
        sandbox=providers.Singleton(Sandbox, settings, http_session),
        live=providers.Object(None),
    )
    sandbox_controller = providers.Selector(
        mode, sandbox=sandbox.provided.controller, live=providers.Object(None)
    )
    sandbox_mounts = providers.Selector(
        mode, sandbox=sandbox.provided.mounts.call(), live=providers.Object({})
    )
    gateways = providers.Singleton(checked_gateways, settings, http_session)

    rate_limiter = providers.Selector(
        settings.provided.rate_limit_store,
        redis=providers.Singleton(
            RedisRateLimiter,
            providers.Singleton(make_redis_client, settings.provided.redis_url),
            clock,
        ),
        memory=providers.Singleton(InMemoryRateLimiter, clock),
    )

    # -- use cases -------------------------------------------------------------------------
    catalog = providers.Singleton(CatalogService, unit_of_work.provider, clock, ids)
    purchases = providers.Singleton(
        PurchaseService, unit_of_work.provider, gateways, routing, clock, ids
    )
    refunds = providers.Singleton(RefundService, unit_of_work.provider, gateways, clock, ids)
    accounts = providers.Singleton(AccountService, unit_of_work.provider, clock, ids)
    notifications = providers.Singleton(
        NotificationService, unit_of_work.provider, gateways, clock, ids
    )
    inbox = providers.Singleton(InboxReview, unit_of_work.provider, notifications)
    access = providers.Singleton(AccessService, unit_of_work.provider, clock, ids)
    banks = providers.Singleton(BankDirectory, gateways, clock)
    idempotency = providers.Singleton(
        IdempotencyService, unit_of_work.provider, clock, settings.provided.idempotency_ttl
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
        rate_limiter=rate_limiter,
        readiness=readiness,
        banks=banks,
    )
    http_settings = providers.Singleton(
        HttpSettings,
        public_ip_limit=settings.provided.guest_checkouts_per_ip_hour,
        public_ip_window=GUEST_CHECKOUT_WINDOW,
        public_email_limit=settings.provided.guest_checkouts_per_email_hour,
        public_email_window=GUEST_CHECKOUT_WINDOW,
        trust_forwarded_for=settings.provided.trust_forwarded_for,
    )
    api = providers.Singleton(
        create_app, services=api_services, settings=http_settings, sandbox=sandbox_controller
    )
    wsgi_app = providers.Singleton(PathDispatcher, api, sandbox_mounts)


def build_container(settings: Settings) -> Container:
    """A container for these settings (tests override single providers on it)."""
    return Container(settings=settings)
