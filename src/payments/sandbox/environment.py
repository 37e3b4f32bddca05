"""Sandbox mode's environment: the built-in provider simulators, their mounts and actions."""

from __future__ import annotations

from typing import Any, Final

import requests

from payments.adapters.gateways.stripe import make_stripe_client
from payments.config import Settings
from payments.sandbox.controller import SimulatorSandbox
from payments.sandbox.delivery import Deliver, http_deliverer
from payments.sandbox.gateway_simulator import SandboxSimulator
from payments.sandbox.stripe_actions import StripeSandboxActions
from payments.sandbox.stripe_simulator import make_stripe_simulator

__all__ = [
    "SANDBOX_GATEWAY_PREFIX",
    "SANDBOX_STRIPE_KEY",
    "SANDBOX_STRIPE_PREFIX",
    "Sandbox",
    "build_sandbox",
]

SANDBOX_GATEWAY_PREFIX: Final = "/sandbox/gateway"
SANDBOX_STRIPE_PREFIX: Final = "/sandbox/stripe"
SANDBOX_STRIPE_KEY: Final = "sk_test_sandbox_not_a_real_key"


class Sandbox:
    """The built-in provider simulators of sandbox mode, and how actions reach them.

    Both simulators sign with ``secret`` and hand their notifications to ``deliver``; the
    sandbox provider's checkout pages are linked under ``public_base_url``. Stripe's actions go
    to the built-in Stripe simulator, unless ``stripe_actions`` is given (a Stripe key is
    configured: the gateway then talks to that API, localstripe or Stripe's test mode, so the
    actions act there and deliver an event signed with the configured webhook secrets).
    """

    def __init__(
        self,
        *,
        secret: str,
        deliver: Deliver,
        public_base_url: str,
        stripe_actions: StripeSandboxActions | None = None,
    ) -> None:
        self.gateway_simulator = SandboxSimulator(
            secret, deliver, checkout_base=public_base_url + SANDBOX_GATEWAY_PREFIX
        )
        self.stripe_app = make_stripe_simulator(webhook_secret=secret, deliver=deliver)
        self.stripe_simulator = self.stripe_app.state
        self.stripe_actions = stripe_actions
        self.controller = SimulatorSandbox()
        self.controller.register_simulator("sandbox", self.gateway_simulator)
        if stripe_actions is not None:
            self.controller.register_simulator("stripe", stripe_actions)
        else:
            self.controller.register_simulator("stripe", self.stripe_simulator)

    def mounts(self) -> dict[str, Any]:
        """The simulators' WSGI apps by the path prefix they are served under."""
        return {
            SANDBOX_GATEWAY_PREFIX: self.gateway_simulator.wsgi_app(),
            SANDBOX_STRIPE_PREFIX: self.stripe_app,
        }


def build_sandbox(
    settings: Settings, session: requests.Session, deliver: Deliver | None = None
) -> Sandbox:
    """The ``Sandbox`` the settings describe; notifications are POSTed to our own
    ``self_base_url`` over ``session`` unless another ``deliver`` is given."""
    deliver = deliver or http_deliverer(settings.self_base_url, session)
    stripe = settings.stripe
    stripe_actions = None
    if stripe.secret_key:
        stripe_actions = StripeSandboxActions(
            make_stripe_client(
                stripe.secret_key, api_base=stripe.api_base, api_version=stripe.api_version
            ),
            stripe.webhook_secrets,
            deliver,
            api_version=stripe.api_version,
        )
    return Sandbox(
        secret=settings.sandbox_secret,
        deliver=deliver,
        public_base_url=settings.public_base_url,
        stripe_actions=stripe_actions,
    )
