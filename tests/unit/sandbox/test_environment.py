"""Sandbox mode's environment: which simulator acts for each gateway, and where each is mounted."""

from __future__ import annotations

import requests
import stripe

from payments.config import Settings
from payments.sandbox.environment import (
    SANDBOX_PAYU_PREFIX,
    SANDBOX_STRIPE_PREFIX,
    SANDBOX_WOMPI_PREFIX,
    Sandbox,
    build_sandbox,
)
from payments.sandbox.stripe_actions import StripeSandboxActions

SECRET = "sandbox_environment_test_secret"


def ignore(path: str, headers: dict[str, str], body: bytes) -> int:
    return 200


def test_every_simulator_is_mounted_under_its_prefix() -> None:
    sandbox = Sandbox(secret=SECRET, deliver=ignore, public_base_url="https://pay.example")
    assert set(sandbox.mounts()) == {
        SANDBOX_STRIPE_PREFIX,
        SANDBOX_WOMPI_PREFIX,
        SANDBOX_PAYU_PREFIX,
    }
    assert sandbox.mounts()[SANDBOX_STRIPE_PREFIX] is sandbox.stripe_app


def test_without_a_stripe_key_the_built_in_stripe_simulator_acts() -> None:
    sandbox = Sandbox(secret=SECRET, deliver=ignore, public_base_url="https://pay.example")
    assert sandbox.stripe_actions is None
    assert sandbox.controller.gateways == frozenset({"stripe", "wompi", "payu"})
    assert sandbox.stripe_simulator is sandbox.stripe_app.state


def test_given_stripe_actions_act_for_stripe() -> None:
    actions = StripeSandboxActions(stripe.StripeClient("sk_test_fake_env"), ["whsec_fake"], ignore)
    sandbox = Sandbox(
        secret=SECRET, deliver=ignore, public_base_url="https://pay.example", stripe_actions=actions
    )
    assert sandbox.stripe_actions is actions
    assert sandbox.controller.gateways == frozenset({"stripe", "wompi", "payu"})


def test_the_settings_build_the_sandbox_with_stripe_actions_only_for_a_stripe_key() -> None:
    with requests.Session() as session:
        plain = build_sandbox(Settings.from_env({}), session)
        keyed = build_sandbox(
            Settings.from_env(
                {
                    "PAYMENTS_STRIPE_SECRET_KEY": "sk_test_fake_env",
                    "PAYMENTS_STRIPE_WEBHOOK_SECRET": "whsec_test_fake_env",
                }
            ),
            session,
        )
    assert plain.stripe_actions is None
    assert isinstance(keyed.stripe_actions, StripeSandboxActions)
