"""The payment gateways a service's settings enable, each behind its circuit breaker."""

from __future__ import annotations

import requests

from payments.adapters.gateways.circuit_breaker import CircuitBreakingGateway
from payments.adapters.gateways.stripe import (
    StripeGateway,
    make_stripe_client,
    payment_methods_param_for,
)
from payments.adapters.gateways.wompi import WompiGateway
from payments.config import Settings, check_routed_gateways
from payments.domain.ports import PaymentGateway
from payments.domain.services.gateways import GatewayRegistry
from payments.sandbox.environment import (
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


def build_gateways(settings: Settings, session: requests.Session) -> GatewayRegistry:
    """Every gateway the settings enable; in sandbox mode each provider without credentials
    talks to its built-in simulator."""
    gateways: list[PaymentGateway] = []
    stripe = stripe_gateway(settings)
    if stripe is not None:
        gateways.append(stripe)
    wompi = wompi_gateway(settings, session)
    if wompi is not None:
        gateways.append(wompi)
    # Each provider sits behind a circuit breaker (DESIGN §4): one that keeps failing is left
    # alone for a while, so checkouts fail over fast instead of holding threads on timeouts.
    return GatewayRegistry([CircuitBreakingGateway(gateway) for gateway in gateways])


def checked_gateways(settings: Settings, session: requests.Session) -> GatewayRegistry:
    """``build_gateways``, refusing (``ConfigurationError``) routing that names a gateway it did
    not build: settings assembled by hand get the same check as ``Settings.from_env``."""
    registry = build_gateways(settings, session)
    check_routed_gateways(settings.routing, frozenset(registry), settings.mode)
    return registry
