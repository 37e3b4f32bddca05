"""Settings: sandbox by default, live mode refuses to start without what it needs."""

from __future__ import annotations

import pytest

from payments.adapters.stripe_gateway import payment_methods_param_for
from payments.config import DEFAULT_DATABASE_URL, Settings
from payments.domain.errors import ConfigurationError


def test_empty_environment_is_the_embedded_sandbox() -> None:
    settings = Settings.from_env({})
    assert settings.sandbox
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.routing_text == "*: sandbox"


def test_a_stripe_key_routes_to_stripe_by_default() -> None:
    settings = Settings.from_env({"PAYMENTS_STRIPE_SECRET_KEY": "sk_test_fake_123"})
    assert settings.routing_text == "*: stripe"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PAYMENTS_MODE": "live"}, "PAYMENTS_STRIPE_SECRET_KEY"),
        (
            {"PAYMENTS_MODE": "live", "PAYMENTS_STRIPE_SECRET_KEY": "sk_live_fake"},
            "PAYMENTS_STRIPE_WEBHOOK_SECRET",
        ),
        (
            {
                "PAYMENTS_MODE": "live",
                "PAYMENTS_STRIPE_SECRET_KEY": "sk_test_fake",
                "PAYMENTS_STRIPE_WEBHOOK_SECRET": "whsec_test_fake",
            },
            "test key",
        ),
        ({"PAYMENTS_STRIPE_SECRET_KEY": "sk_live_fake"}, "live Stripe key"),
        ({"PAYMENTS_MODE": "production"}, "PAYMENTS_MODE"),
        ({"PAYMENTS_ROUTING": "CO wompi"}, "Routing rule"),
        ({"PAYMENTS_IDEMPOTENCY_TTL_HOURS": "soon"}, "whole number"),
        ({"PAYMENTS_LOG_FORMAT": "xml"}, "PAYMENTS_LOG_FORMAT"),
    ],
)
def test_bad_settings_stop_the_start_with_a_clear_message(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Settings.from_env(env)


def test_live_mode_with_keys_starts() -> None:
    settings = Settings.from_env(
        {
            "PAYMENTS_MODE": "live",
            "PAYMENTS_STRIPE_SECRET_KEY": "sk_live_fake_for_test",
            "PAYMENTS_STRIPE_WEBHOOK_SECRET": "whsec_test_fake",
        }
    )
    assert not settings.sandbox


@pytest.mark.parametrize(
    ("version", "param"),
    [
        (None, "allowed_payment_method_types"),
        ("2026-09-30.endive", "allowed_payment_method_types"),
        ("2027-01-15", "allowed_payment_method_types"),
        ("2026-09-29", "payment_method_types"),
        ("2020-08-27", "payment_method_types"),
    ],
)
def test_the_stripe_api_version_chooses_how_intents_are_limited_to_cards(
    version: str | None, param: str
) -> None:
    env = {"PAYMENTS_STRIPE_API_VERSION": version} if version else {}
    settings = Settings.from_env(env)
    assert settings.stripe.api_version == version
    assert payment_methods_param_for(settings.stripe.api_version) == param


@pytest.mark.parametrize("version", ["latest", "2020-8-27", "2020-08-27;drop", "v1"])
def test_a_malformed_stripe_api_version_stops_the_start(version: str) -> None:
    with pytest.raises(ConfigurationError, match="PAYMENTS_STRIPE_API_VERSION"):
        Settings.from_env({"PAYMENTS_STRIPE_API_VERSION": version})
