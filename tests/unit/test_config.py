"""Settings: sandbox by default, live mode refuses to start without what it needs."""

from __future__ import annotations

import pytest

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
