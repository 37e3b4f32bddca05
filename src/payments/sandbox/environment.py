"""Sandbox mode's environment: the built-in provider simulators, their mounts and actions."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Final

import requests

from payments.adapters.gateways.payu import settings as payu_settings
from payments.adapters.gateways.wompi.settings import (
    SANDBOX_EVENTS_SECRET,
    SANDBOX_INTEGRITY_SECRET,
    SANDBOX_PRIVATE_KEY,
    SANDBOX_PUBLIC_KEY,
)
from payments.config import PayUSettings, Settings, WompiSettings
from payments.domain.services.cash_vouchers import CashVoucherDesk
from payments.sandbox.controller import SimulatorSandbox
from payments.sandbox.delivery import Deliver, http_deliverer
from payments.sandbox.efecty_counter import EfectyCounter
from payments.sandbox.payu_simulator import PayUSimulator
from payments.sandbox.stripe_simulator import make_stripe_simulator
from payments.sandbox.wompi_simulator import WompiSimulator

if TYPE_CHECKING:
    from payments.sandbox.stripe_actions import StripeSandboxActions

__all__ = [
    "PAYU_TEST_MERCHANT",
    "SANDBOX_PAYU_PREFIX",
    "SANDBOX_STRIPE_KEY",
    "SANDBOX_STRIPE_PREFIX",
    "SANDBOX_WOMPI_PREFIX",
    "Sandbox",
    "build_sandbox",
    "sandbox_payu_settings",
    "sandbox_wompi_settings",
]

SANDBOX_STRIPE_PREFIX: Final = "/sandbox/stripe"
SANDBOX_STRIPE_KEY: Final = "sk_test_sandbox_not_a_real_key"
SANDBOX_WOMPI_PREFIX: Final = "/sandbox/wompi"
SANDBOX_PAYU_PREFIX: Final = "/sandbox/payu"


def sandbox_wompi_settings(settings: Settings) -> WompiSettings:
    """Wompi as sandbox mode runs it: the configured keys and base URL, else the documented
    sandbox keys against the built-in simulator (its API is the mount plus ``/v1``)."""
    if settings.wompi.has_keys:
        return settings.wompi
    return WompiSettings(
        public_key=SANDBOX_PUBLIC_KEY,
        private_key=SANDBOX_PRIVATE_KEY,
        integrity_secret=SANDBOX_INTEGRITY_SECRET,
        events_secret=SANDBOX_EVENTS_SECRET,
        base_url=settings.self_base_url + SANDBOX_WOMPI_PREFIX + "/v1",
    )


PAYU_TEST_MERCHANT: Final = PayUSettings(
    merchant_id=payu_settings.SANDBOX_MERCHANT_ID,
    accounts=payu_settings.SANDBOX_ACCOUNT_IDS,
    api_key=payu_settings.SANDBOX_API_KEY,
    api_login=payu_settings.SANDBOX_API_LOGIN,
)
"""PayU's public test merchant of its docs (reference §2.2), with an account in each country."""


def sandbox_payu_settings(settings: Settings) -> PayUSettings:
    """PayU as sandbox mode runs it: the configured credentials and base URL, else PayU's
    documented test merchant (an account in each country) against the built-in simulator."""
    if settings.payu.has_credentials:
        return settings.payu
    base_url = settings.self_base_url + SANDBOX_PAYU_PREFIX
    return replace(PAYU_TEST_MERCHANT, algorithm=settings.payu.algorithm, base_url=base_url)


class Sandbox:
    """The built-in provider simulators of sandbox mode, and how actions reach them.

    The Stripe simulator signs with ``secret``, the Wompi one with the events secret of
    ``wompi`` (whose four keys the simulator takes; the documented sandbox keys when None), the
    PayU one with the apiKey of ``payu`` (PayU's documented test merchant when None or without
    credentials). All hand their notifications to ``deliver``; Wompi's and PayU's payer pages
    are linked under ``public_base_url``. Stripe's actions go to the built-in Stripe simulator,
    unless ``stripe_actions`` is given (a Stripe key is configured: the gateway then talks to
    that API, localstripe or Stripe's test mode, so the actions act there and deliver an event
    signed with the configured webhook secrets). Efecty's actions pay or expire the purchase's
    voucher through ``cash_vouchers`` (``EfectyCounter``), when given.
    """

    def __init__(
        self,
        *,
        secret: str,
        deliver: Deliver,
        public_base_url: str,
        wompi: WompiSettings | None = None,
        stripe_actions: StripeSandboxActions | None = None,
        payu: PayUSettings | None = None,
        cash_vouchers: CashVoucherDesk | None = None,
    ) -> None:
        self.stripe_app = make_stripe_simulator(webhook_secret=secret, deliver=deliver)
        self.stripe_simulator = self.stripe_app.state
        self.stripe_actions = stripe_actions
        wompi = wompi or WompiSettings()
        self.wompi_simulator = WompiSimulator(
            public_key=wompi.public_key or SANDBOX_PUBLIC_KEY,
            private_key=wompi.private_key or SANDBOX_PRIVATE_KEY,
            integrity_secret=wompi.integrity_secret or SANDBOX_INTEGRITY_SECRET,
            events_secret=wompi.events_secret or SANDBOX_EVENTS_SECRET,
            deliver=deliver,
            payer_base=public_base_url + SANDBOX_WOMPI_PREFIX,
        )
        self.payu_simulator = PayUSimulator(
            (payu if payu and payu.has_credentials else PAYU_TEST_MERCHANT).merchant(test=True),
            deliver,
            payer_base=public_base_url + SANDBOX_PAYU_PREFIX,
        )
        self.controller = SimulatorSandbox()
        self.controller.register_simulator("wompi", self.wompi_simulator)
        self.controller.register_simulator("payu", self.payu_simulator)
        if stripe_actions is not None:
            self.controller.register_simulator("stripe", stripe_actions)
        else:
            self.controller.register_simulator("stripe", self.stripe_simulator)
        if cash_vouchers is not None:
            self.controller.register_simulator("efecty", EfectyCounter(cash_vouchers))

    def mounts(self) -> dict[str, Any]:
        """The simulators' WSGI apps by the path prefix they are served under."""
        return {
            SANDBOX_STRIPE_PREFIX: self.stripe_app,
            SANDBOX_WOMPI_PREFIX: self.wompi_simulator.wsgi_app(),
            SANDBOX_PAYU_PREFIX: self.payu_simulator.wsgi_app(),
        }


def build_sandbox(
    settings: Settings,
    session: requests.Session,
    deliver: Deliver | None = None,
    cash_vouchers: CashVoucherDesk | None = None,
) -> Sandbox:
    """The ``Sandbox`` the settings describe; notifications are POSTed to our own
    ``self_base_url`` over ``session`` unless another ``deliver`` is given. Efecty's vouchers
    are paid or expired through ``cash_vouchers`` when given."""
    deliver = deliver or http_deliverer(settings.self_base_url, session)
    stripe = settings.stripe
    stripe_actions = None
    if stripe.secret_key:
        # Here, not at the top: only a sandbox in front of a Stripe account loads the SDK.
        from payments.adapters.gateways.stripe import make_stripe_client  # noqa: PLC0415
        from payments.sandbox.stripe_actions import StripeSandboxActions  # noqa: PLC0415

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
        wompi=sandbox_wompi_settings(settings),
        stripe_actions=stripe_actions,
        payu=sandbox_payu_settings(settings),
        cash_vouchers=cash_vouchers,
    )
