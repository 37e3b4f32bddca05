"""The payment gateways a service's settings enable, each behind its circuit breaker."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import requests

from payments.adapters.gateways.circuit_breaker import CircuitBreakingGateway, GatewayCallObserver
from payments.adapters.gateways.efecty import EfectyGateway
from payments.adapters.gateways.payu import PayUGateway
from payments.adapters.gateways.stripe import payment_methods_param_for
from payments.adapters.gateways.wompi import WompiGateway
from payments.config import Settings, check_routed_gateways
from payments.domain.ports import Clock, PaymentGateway, UnitOfWork
from payments.domain.services.gateways import GatewayRegistry
from payments.sandbox.environment import (
    SANDBOX_STRIPE_KEY,
    SANDBOX_STRIPE_PREFIX,
    sandbox_payu_settings,
    sandbox_wompi_settings,
)

if TYPE_CHECKING:
    from payments.adapters.gateways.stripe import StripeGateway


def stripe_gateway(settings: Settings) -> StripeGateway | None:
    """Stripe at the configured account (or localstripe); in sandbox mode without a key, the
    built-in Stripe simulator; None in live mode without a key."""
    # Here, not at the top: the SDK is loaded by the processes that build gateways only.
    from payments.adapters.gateways.stripe import StripeGateway, make_stripe_client  # noqa: PLC0415

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


def payu_gateway(settings: Settings, session: requests.Session) -> PayUGateway | None:
    """PayU at ``PAYMENTS_PAYU_BASE_URL`` with the configured credentials; in sandbox mode
    without them, the built-in PayU simulator with PayU's documented test merchant; None in
    live mode without credentials. Its confirmations come to our ``/v1/webhooks/payu``."""
    payu = sandbox_payu_settings(settings) if settings.sandbox else settings.payu
    if not payu.has_credentials:
        return None
    merchant = payu.merchant(test=settings.sandbox)
    notify = settings.public_base_url + "/v1/webhooks/payu"
    return PayUGateway(session, payu.base_url or "", merchant=merchant, notify_url=notify)


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
    observer: GatewayCallObserver | None = None,
) -> GatewayRegistry:
    """Every gateway the settings enable; in sandbox mode the simulators stand in for providers.

    Efecty is built when it is enabled and ``vouchers`` gives it its voucher book: the service's
    units of work and clock. ``observer`` (the service's metrics) hears of every provider call,
    at the breakers."""
    gateways: list[PaymentGateway] = []
    stripe = stripe_gateway(settings)
    if stripe is not None:
        gateways.append(stripe)
    for provider in (wompi_gateway, payu_gateway):
        built = provider(settings, session)
        if built is not None:
            gateways.append(built)
    if vouchers is not None and settings.efecty.enabled:
        gateways.append(efecty_gateway(settings, *vouchers))
    # Each provider sits behind a circuit breaker (DESIGN §4): one that keeps failing is left
    # alone for a while, so checkouts fail over fast instead of holding threads on timeouts.
    return GatewayRegistry(
        [CircuitBreakingGateway(gateway, observer=observer) for gateway in gateways]
    )


def checked_gateways(
    settings: Settings,
    session: requests.Session,
    uow: Callable[[], UnitOfWork],
    clock: Clock,
    observer: GatewayCallObserver | None = None,
) -> GatewayRegistry:
    """``build_gateways`` (Efecty included, on ``uow`` and ``clock``), refusing
    (``ConfigurationError``) routing that names a gateway it did not build: settings assembled
    by hand get the same check as ``Settings.from_env``."""
    registry = build_gateways(settings, session, (uow, clock), observer)
    check_routed_gateways(settings.routing, frozenset(registry), settings.mode)
    return registry
