"""Stripe settings checks: keys, webhook secrets and the API-version switch."""

from __future__ import annotations

import pytest

from payments.adapters.gateways.stripe import (
    check_stripe_keys,
)
from payments.domain.errors import (
    ConfigurationError,
)

# -- configuration ---------------------------------------------------------------------------------


def test_live_mode_needs_a_live_key_and_a_webhook_secret() -> None:
    check_stripe_keys("live", "sk_live_fake_example", ("whsec_test_fake_example",))
    check_stripe_keys("live", "rk_live_fake_example", ("whsec_test_fake_example",))
    with pytest.raises(ConfigurationError, match="PAYMENTS_STRIPE_SECRET_KEY"):
        check_stripe_keys("live", None, ("whsec_test_fake_example",))
    with pytest.raises(ConfigurationError, match="PAYMENTS_STRIPE_WEBHOOK_SECRET"):
        check_stripe_keys("live", "sk_live_fake_example", ())
    with pytest.raises(ConfigurationError, match="PAYMENTS_STRIPE_WEBHOOK_SECRET"):
        check_stripe_keys("live", "sk_live_fake_example", ("   ",))
    with pytest.raises(ConfigurationError, match="whsec_"):
        check_stripe_keys("live", "sk_live_fake_example", ("sk_live_fake_example",))


def test_live_mode_checks_every_rotating_webhook_secret() -> None:
    check_stripe_keys("live", "sk_live_fake_example", ("whsec_test_old", "whsec_test_new"))
    with pytest.raises(ConfigurationError, match="whsec_") as caught:
        check_stripe_keys("live", "sk_live_fake_example", ("whsec_test_old", "oops_test_new"))
    assert "oops_test_new" not in str(caught.value)


def test_webhook_secrets_must_be_a_sequence_not_one_string() -> None:
    with pytest.raises(TypeError):
        check_stripe_keys("live", "sk_live_fake_example", "whsec_a,whsec_b")


def test_live_mode_refuses_a_test_key() -> None:
    with pytest.raises(ConfigurationError, match="test key"):
        check_stripe_keys("live", "sk_test_fake_example", ("whsec_test_fake_example",))


def test_sandbox_mode_refuses_a_live_key() -> None:
    with pytest.raises(ConfigurationError, match="live Stripe key"):
        check_stripe_keys("sandbox", "sk_live_fake_example", ("whsec_test_fake_example",))
    check_stripe_keys("sandbox", None, ())
    check_stripe_keys("sandbox", "sk_test_fake_example", ("localstripe_secret",))


def test_sandbox_mode_with_a_test_key_needs_a_webhook_secret() -> None:
    with pytest.raises(ConfigurationError, match="PAYMENTS_STRIPE_WEBHOOK_SECRET"):
        check_stripe_keys("sandbox", "sk_test_fake_example", ())


def test_a_publishable_key_is_not_a_secret_key() -> None:
    with pytest.raises(ConfigurationError, match="publishable"):
        check_stripe_keys("sandbox", "pk_test_fake_example", ())


def test_key_errors_never_echo_the_key() -> None:
    with pytest.raises(ConfigurationError) as caught:
        check_stripe_keys("live", "sk_test_fake_do_not_echo", ("whsec_test_fake_example",))
    assert "do_not_echo" not in str(caught.value)
    with pytest.raises(ConfigurationError) as mode:
        check_stripe_keys("production_do_not_echo", None, ())
    assert "do_not_echo" not in str(mode.value)
