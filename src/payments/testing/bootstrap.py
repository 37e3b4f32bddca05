"""``bootstrap``: every use case wired on the fakes, or on the adapters you pass, in one call.

It builds the service's own composition root (``payments.containers.Container``) and overrides
its adapters, so the use cases are wired exactly as in production::

    from payments.testing import FakeGateway, bootstrap

    payments = bootstrap()                        # the fakes: in-memory store, fake gateway
    payments = bootstrap(gateways=[my_gateway])   # your adapter, the fakes for the rest
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dependency_injector import providers

from payments.adapters.memory import (
    FakeGateway,
    FixedClock,
    InMemoryStore,
    InMemoryUnitOfWork,
    SequentialIds,
)
from payments.config import Settings
from payments.containers import Container, build_container
from payments.domain.errors import ConfigurationError
from payments.domain.ports import (
    AdjustableClock,
    Clock,
    IdGenerator,
    PaymentGateway,
    RateLimiter,
    UnitOfWork,
)
from payments.domain.routing import RoutingTable
from payments.domain.services.access import AccessService
from payments.domain.services.accounts import AccountService
from payments.domain.services.banks import BankDirectory
from payments.domain.services.catalog import CatalogService
from payments.domain.services.gateways import GatewayRegistry
from payments.domain.services.guest_checkout import GuestCheckoutGate, GuestCheckoutLimits
from payments.domain.services.idempotency import IdempotencyService
from payments.domain.services.inbox import InboxReview
from payments.domain.services.invoicing import InvoiceService
from payments.domain.services.notifications import NotificationService
from payments.domain.services.purchases import PurchaseService
from payments.domain.services.refunds import RefundService
from payments.domain.services.statistics import StatisticsService


@dataclass(frozen=True, slots=True)
class Wired:
    """The use cases of one bootstrapped service, and the adapters they run on."""

    catalog: CatalogService
    purchases: PurchaseService
    refunds: RefundService
    accounts: AccountService
    notifications: NotificationService
    inbox: InboxReview
    access: AccessService
    idempotency: IdempotencyService
    banks: BankDirectory
    invoices: InvoiceService
    statistics: StatisticsService
    rate_limiter: RateLimiter
    gateways: GatewayRegistry
    clock: Clock
    ids: IdGenerator
    unit_of_work: Callable[[], UnitOfWork]
    store: InMemoryStore | None
    """The fakes' store (what a test asserts on), None when you passed a unit of work."""
    container: Container
    """The composition root the use cases came from: override more providers on it, or ask
    it for the HTTP app (``container.api()``)."""


_FROM_THE_CONTAINER = (
    *("catalog", "purchases", "refunds", "accounts", "notifications", "inbox"),
    *("access", "idempotency", "banks", "rate_limiter", "gateways", "clock", "ids"),
    *("invoices", "statistics"),
)
"""The ``Wired`` attributes the container provides (the rest are what bootstrap chose)."""


def bootstrap(
    *,
    gateways: Sequence[PaymentGateway] | None = None,
    routing: str | None = None,
    unit_of_work: Callable[[], UnitOfWork] | None = None,
    store: InMemoryStore | None = None,
    clock: Clock | None = None,
    ids: IdGenerator | None = None,
    rate_limiter: RateLimiter | None = None,
    settings: Settings | None = None,
    guest_limits: GuestCheckoutLimits | None = None,
) -> Wired:
    """Every use case wired on the fakes, with what you pass in their place.

    - ``gateways``: the payment gateways (default: one ``FakeGateway("fake")``);
    - ``routing``: a ``PAYMENTS_ROUTING`` table (default: every market to the gateways, in
      order, e.g. ``"*: fake"``);
    - ``unit_of_work``: makes a unit of work (default: ``InMemoryUnitOfWork`` on ``store``,
      a new ``InMemoryStore`` unless you pass one; pass one or the other);
    - ``clock``, ``ids``: default ``FixedClock()`` and ``SequentialIds()``;
    - ``rate_limiter``: default the in-memory one on ``clock``;
    - ``settings``: the rest (idempotency lifetime, guest-checkout quotas; default: sandbox
      mode's defaults). Sandbox simulators are never started; no database is opened unless
      your unit of work opens one.
    - ``guest_limits``: guest-checkout quotas and windows in place of the settings' hourly ones.
    """
    if unit_of_work is not None and store is not None:
        raise ConfigurationError("Pass bootstrap a unit of work or a store, not both.")
    chosen: list[PaymentGateway] = [FakeGateway("fake")] if gateways is None else list(gateways)
    if unit_of_work is None:
        store = store or InMemoryStore()
        unit_of_work = functools.partial(InMemoryUnitOfWork, store)
    table = routing or "*: " + ", ".join(gateway.name for gateway in chosen)
    chosen_clock = clock or FixedClock()
    container = build_container(settings or Settings.from_env({}))
    for provider, adapter in (
        (container.gateways, GatewayRegistry(chosen)),
        (container.routing, RoutingTable.parse(table)),
        (container.clock, chosen_clock),
        (container.test_clock, chosen_clock if isinstance(chosen_clock, AdjustableClock) else None),
        (container.ids, ids or SequentialIds()),
        (container.sandbox, None),
        (container.sandbox_controller, None),
        (container.sandbox_mounts, {}),
        (container.readiness, _always_ready),
    ):
        provider.override(providers.Object(adapter))
    container.unit_of_work.override(providers.Callable(unit_of_work))
    if rate_limiter is not None:
        container.rate_limiter.override(providers.Object(rate_limiter))
    if guest_limits is not None:
        container.guest_checkouts.override(
            providers.Singleton(GuestCheckoutGate, container.rate_limiter, guest_limits)
        )
    built = {name: getattr(container, name)() for name in _FROM_THE_CONTAINER}
    return Wired(**built, unit_of_work=unit_of_work, store=store, container=container)


def _always_ready() -> bool:
    """The readiness probe of a service on fakes: there is no database to reach."""
    return True
