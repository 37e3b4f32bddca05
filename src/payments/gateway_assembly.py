"""The payment gateways a service's settings enable, each behind its circuit breaker."""

from __future__ import annotations

from collections.abc import Callable

import requests

from payments.adapters.gateways.circuit_breaker import CircuitBreakingGateway
from payments.adapters.gateways.efecty import EfectyGateway
from payments.adapters.gateways.sandbox import SandboxGateway
from payments.adapters.gateways.stripe import (
    StripeGateway,
    make_stripe_client,
    payment_methods_param_for,
)
from payments.adapters.gateways.wompi import WompiGateway
from payments.config import Settings, check_routed_gateways
from payments.domain.ports import Clock, PaymentGateway, UnitOfWork
from payments.domain.services.gateways import GatewayRegistry
from payments.sandbox.environment import (
    SANDBOX_GATEWAY_PREFIX,
    SANDBOX_STRIPE_KEY,
    SANDBOX_STRIPE_PREFIX,
    sandbox_wompi_settings,
)


def stripe_gateway(settings: Settings) -> StripeGateway | None:
    """Stripe at the configured account (or localstripe); in sandbox mode without a key, the
    built-in Stripe simulator; None in live mode without a key."""
    stripe = settings.stripe
    if stripe.secret_key:
        client = make_stripe_client(
            stripe.secret_key, api_base=stripe.api_base, api_version=stripe.api_version
        )
        return StripeGateway(
            client,
            stripe.webhook_secrets,
            publishable_key=stripe.publishable_key,
            payment_methods_param=payment_methods_param_for(stripe.api_version),
        )
    if not settings.sandbox:
        return None
    simulator = settings.self_base_url + SANDBOX_STRIPE_PREFIX
    return StripeGateway(
        make_stripe_client(SANDBOX_STRIPE_KEY, api_base=simulator), [settings.sandbox_secret]
    )


def wompi_gateway(settings: Settings, session: requests.Session) -> WompiGateway | None:
    """Wompi at ``PAYMENTS_WOMPI_BASE_URL`` with the configured keys; in sandbox mode without
    keys, the built-in Wompi simulator with the documented sandbox keys; None in live mode
    without keys."""
    if not settings.wompi.has_keys and not settings.sandbox:
        return None
    wompi = sandbox_wompi_settings(settings) if settings.sandbox else settings.wompi
    return WompiGateway(
        session,
        wompi.base_url or "",
        public_key=wompi.public_key or "",
        private_key=wompi.private_key or "",
        integrity_secret=wompi.integrity_secret or "",
        events_secret=wompi.events_secret or "",
    )


def efecty_gateway(
    settings: Settings, uow: Callable[[], UnitOfWork], clock: Clock
) -> EfectyGateway:
    """Efecty's cash vouchers, issued into the service's own database (no credentials)."""
    efecty = settings.efecty
    return EfectyGateway(
        uow,
        clock,
        code_prefix=efecty.code_prefix,
        expiry=efecty.expiry,
        minimum=efecty.minimum,
        maximum=efecty.maximum,
    )


def build_gateways(
    settings: Settings,
    session: requests.Session,
    vouchers: tuple[Callable[[], UnitOfWork], Clock] | None = None,
) -> GatewayRegistry:
    """Every gateway the settings enable; in sandbox mode the simulators stand in for providers.

    Efecty is built when it is enabled and ``vouchers`` gives it its voucher book: the service's
    units of work and clock."""
    gateways: list[PaymentGateway] = []
    if settings.sandbox:
        simulator = settings.self_base_url + SANDBOX_GATEWAY_PREFIX
        gateways.append(SandboxGateway(session, simulator, settings.sandbox_secret))
    stripe = stripe_gateway(settings)
    if stripe is not None:
        gateways.append(stripe)
    wompi = wompi_gateway(settings, session)
    if wompi is not None:
        gateways.append(wompi)
    if vouchers is not None and settings.efecty.enabled:
        gateways.append(efecty_gateway(settings, *vouchers))
    # Each provider sits behind a circuit breaker (DESIGN §4): one that keeps failing is left
    # alone for a while, so checkouts fail over fast instead of holding threads on timeouts.
    return GatewayRegistry([CircuitBreakingGateway(gateway) for gateway in gateways])


def checked_gateways(
    settings: Settings,
    session: requests.Session,
    uow: Callable[[], UnitOfWork],
    clock: Clock,
) -> GatewayRegistry:
    """``build_gateways`` (Efecty included, on ``uow`` and ``clock``), refusing
    (``ConfigurationError``) routing that names a gateway it did not build: settings assembled
    by hand get the same check as ``Settings.from_env``."""
    registry = build_gateways(settings, session, (uow, clock))
    check_routed_gateways(settings.routing, frozenset(registry), settings.mode)
    return registry
