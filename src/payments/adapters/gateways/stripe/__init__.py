"""Stripe behind the PaymentGateway port: one module per job, the I/O alone in ``gateway``.

The names whose modules import the ``stripe`` SDK (the client, the gateway, the translation of
its errors) are imported on first use: a process that never talks to Stripe, such as most
``payments`` commands, does not load the SDK, nor ``aiohttp`` when that is installed."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from payments.adapters.gateways.stripe.amounts import from_stripe_amount, to_stripe_amount
from payments.adapters.gateways.stripe.events import translate_event
from payments.adapters.gateways.stripe.settings import check_stripe_keys, payment_methods_param_for
from payments.adapters.gateways.stripe.signatures import (
    SIGNATURE_HEADER,
    sign_payload,
    verify_signature,
)

if TYPE_CHECKING:
    from payments.adapters.gateways.stripe.client import make_stripe_client
    from payments.adapters.gateways.stripe.errors import translate_stripe_error
    from payments.adapters.gateways.stripe.gateway import StripeGateway

_ON_THE_SDK = {
    "make_stripe_client": "client",
    "translate_stripe_error": "errors",
    "StripeGateway": "gateway",
}
"""The names imported on first use, and their modules."""


def __getattr__(name: str) -> Any:
    module = _ON_THE_SDK.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "SIGNATURE_HEADER",
    "StripeGateway",
    "check_stripe_keys",
    "from_stripe_amount",
    "make_stripe_client",
    "payment_methods_param_for",
    "sign_payload",
    "to_stripe_amount",
    "translate_event",
    "translate_stripe_error",
    "verify_signature",
]
