"""Stripe settings: the names and limits we use, the API-version switch, and the key checks."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final, Literal

from payments.adapters.wire import webhook_signing
from payments.domain.errors import ConfigurationError

__all__ = [
    "ALLOWED_METHODS_SINCE",
    "DEFAULT_TOLERANCE",
    "GATEWAY_NAME",
    "METADATA_VALUE_LIMIT",
    "PaymentMethodsParam",
    "check_stripe_keys",
    "payment_methods_param_for",
]

GATEWAY_NAME: Final = "stripe"
DEFAULT_TOLERANCE: Final = webhook_signing.DEFAULT_TOLERANCE
"""Seconds a Stripe-Signature timestamp may be away from now, either way (Stripe's default)."""
METADATA_VALUE_LIMIT: Final = 500
"""Stripe refuses a metadata value longer than this; ours are cut to it."""

PaymentMethodsParam = Literal["allowed_payment_method_types", "payment_method_types"]
"""How a PaymentIntent is limited to cards: API versions since 2026-09-30.endive (the one
stripe-python 16 pins) refuse ``payment_method_types`` on create with 400
``payment_method_types_no_longer_supported`` and take ``allowed_payment_method_types``; older
versions, and localstripe, know only ``payment_method_types``."""

ALLOWED_METHODS_SINCE: Final = "2026-09-30"
_API_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}(\.[a-z_]+)?")


def payment_methods_param_for(api_version: str | None) -> PaymentMethodsParam:
    """The parameter that limits an intent to cards on ``api_version`` (None: the SDK's pin).

    A malformed version is a ``ConfigurationError`` naming ``PAYMENTS_STRIPE_API_VERSION``.
    """
    if api_version is None:
        return "allowed_payment_method_types"
    if not _API_VERSION.fullmatch(api_version):
        raise ConfigurationError(
            "PAYMENTS_STRIPE_API_VERSION must be a Stripe API version such as "
            "'2024-06-20' or '2026-09-30.endive'."
        )
    if api_version[:10] >= ALLOWED_METHODS_SINCE:
        return "allowed_payment_method_types"
    return "payment_method_types"


def check_stripe_keys(mode: str, secret_key: str | None, webhook_secrets: Sequence[str]) -> None:
    """Refuse Stripe settings that must not start the service (``ConfigurationError``).

    ``webhook_secrets`` are the endpoint secrets, already split and stripped (several while
    rotating). With a secret key, at least one webhook secret is needed in either mode: the
    notifications could not be verified without one. ``live`` needs a secret key, refuses test
    keys (``sk_test_``/``rk_test_``) and needs every webhook secret to be a signing secret
    (``whsec_...``); ``sandbox`` refuses live keys and takes any secret (localstripe's, say). A
    key that is not a secret or restricted key (a publishable ``pk_`` key) is refused in any
    mode. Messages name the setting, never its value.
    """
    if mode not in ("live", "sandbox"):
        raise ConfigurationError("The mode must be 'live' or 'sandbox'.")
    if isinstance(webhook_secrets, str):
        raise TypeError("Pass the Stripe webhook secrets as a sequence, not one string.")
    key = secret_key.strip() if secret_key else ""
    hooks = [hook.strip() for hook in webhook_secrets]
    if key and not key.startswith(("sk_", "rk_")):
        raise ConfigurationError(
            "PAYMENTS_STRIPE_SECRET_KEY must be a Stripe secret key (sk_...) or restricted key "
            "(rk_...); publishable keys (pk_...) cannot call the API."
        )
    if any(not hook for hook in hooks):
        raise ConfigurationError("PAYMENTS_STRIPE_WEBHOOK_SECRET has an empty secret in its list.")
    if mode == "live":
        if not key:
            raise ConfigurationError("Live mode needs PAYMENTS_STRIPE_SECRET_KEY (sk_live_...).")
        if key.startswith(("sk_test_", "rk_test_")):
            raise ConfigurationError(
                "Live mode refuses a Stripe test key in PAYMENTS_STRIPE_SECRET_KEY: set the live "
                "secret key (sk_live_...)."
            )
        if not hooks:
            raise ConfigurationError(
                "Live mode needs PAYMENTS_STRIPE_WEBHOOK_SECRET: Stripe webhooks cannot be "
                "verified without it."
            )
        if not all(hook.startswith("whsec_") for hook in hooks):
            raise ConfigurationError(
                "Every PAYMENTS_STRIPE_WEBHOOK_SECRET must be an endpoint's signing secret "
                "(whsec_...)."
            )
        return
    if key.startswith(("sk_live_", "rk_live_")):
        raise ConfigurationError(
            "Sandbox mode refuses a live Stripe key in PAYMENTS_STRIPE_SECRET_KEY: use a test key "
            "(sk_test_...)."
        )
    if key and not hooks:
        raise ConfigurationError(
            "PAYMENTS_STRIPE_SECRET_KEY is set but PAYMENTS_STRIPE_WEBHOOK_SECRET is not: Stripe "
            "webhooks cannot be verified without it (use the endpoint's signing secret, or the "
            "secret localstripe's webhook was registered with)."
        )
