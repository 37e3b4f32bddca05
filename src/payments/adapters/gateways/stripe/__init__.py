"""Stripe behind the PaymentGateway port: one module per job, the I/O alone in ``gateway``."""

from payments.adapters.gateways.stripe.amounts import from_stripe_amount, to_stripe_amount
from payments.adapters.gateways.stripe.client import make_stripe_client
from payments.adapters.gateways.stripe.errors import translate_stripe_error
from payments.adapters.gateways.stripe.events import translate_event
from payments.adapters.gateways.stripe.gateway import StripeGateway
from payments.adapters.gateways.stripe.settings import check_stripe_keys, payment_methods_param_for
from payments.adapters.gateways.stripe.signatures import (
    SIGNATURE_HEADER,
    sign_payload,
    verify_signature,
)

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
