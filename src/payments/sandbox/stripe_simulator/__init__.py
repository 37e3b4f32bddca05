"""A built-in Stripe API simulator (PaymentIntents, Refunds, signed webhooks) served by Falcon."""

from __future__ import annotations

from payments.sandbox.delivery import Deliver, Delivery
from payments.sandbox.stripe_simulator.account import StripeSimulatorState
from payments.sandbox.stripe_simulator.app import StripeSimulatorApp, make_stripe_simulator
from payments.sandbox.stripe_simulator.objects import (
    API_VERSION,
    WEBHOOK_PATH,
    SimulatedIntent,
    SimulatedRefund,
)

__all__ = [
    "API_VERSION",
    "WEBHOOK_PATH",
    "Deliver",
    "Delivery",
    "SimulatedIntent",
    "SimulatedRefund",
    "StripeSimulatorApp",
    "StripeSimulatorState",
    "make_stripe_simulator",
]
