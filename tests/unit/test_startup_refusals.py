"""Every provider's start-up refusals in one table (issue 10): a live-mode provider missing a
secret, test credentials in live mode, and a route to a provider that is not configured, for
Stripe, Wompi, PayU and Efecty; each refused in one line that names the variable to set, never
quoting a secret."""

from __future__ import annotations

import pytest

from payments.adapters.gateways.payu.settings import (
    SANDBOX_API_KEY,
    SANDBOX_API_LOGIN,
    SANDBOX_MERCHANT_ID,
)
from payments.config import Settings
from payments.domain.errors import ConfigurationError

LIVE = {
    "PAYMENTS_MODE": "live",
    "PAYMENTS_STRIPE_SECRET_KEY": "sk_live_fake_s3cr3t",
    "PAYMENTS_STRIPE_WEBHOOK_SECRET": "whsec_fake_s3cr3t",
}
WOMPI = {
    "PAYMENTS_WOMPI_PUBLIC_KEY": "pub_prod_fake_s3cr3t",
    "PAYMENTS_WOMPI_PRIVATE_KEY": "prv_prod_fake_s3cr3t",
    "PAYMENTS_WOMPI_INTEGRITY_SECRET": "prod_integrity_fake_s3cr3t",
    "PAYMENTS_WOMPI_EVENTS_SECRET": "prod_events_fake_s3cr3t",
}
PAYU = {
    "PAYMENTS_PAYU_MERCHANT_ID": "500001",
    "PAYMENTS_PAYU_ACCOUNT_ID": "500002",
    "PAYMENTS_PAYU_API_KEY": "fakeApiKeys3cr3t",
    "PAYMENTS_PAYU_API_LOGIN": "fakeApiLogins3cr3t",
}
ROUTED = "PAYMENTS_ROUTING"

REFUSALS = {
    # A live-mode provider missing a secret.
    "stripe-no-secret-key": ({"PAYMENTS_MODE": "live"}, "PAYMENTS_STRIPE_SECRET_KEY"),
    "stripe-no-webhook-secret": (
        {**LIVE, "PAYMENTS_STRIPE_WEBHOOK_SECRET": ""},
        "PAYMENTS_STRIPE_WEBHOOK_SECRET",
    ),
    "wompi-no-events-secret": (
        {**LIVE, **WOMPI, "PAYMENTS_WOMPI_EVENTS_SECRET": ""},
        "PAYMENTS_WOMPI_EVENTS_SECRET",
    ),
    "wompi-no-private-key": (
        {**LIVE, **WOMPI, "PAYMENTS_WOMPI_PRIVATE_KEY": ""},
        "PAYMENTS_WOMPI_PRIVATE_KEY",
    ),
    "payu-no-api-key": ({**LIVE, **PAYU, "PAYMENTS_PAYU_API_KEY": ""}, "PAYMENTS_PAYU_API_KEY"),
    "payu-no-account": (
        {**LIVE, **PAYU, "PAYMENTS_PAYU_ACCOUNT_ID": ""},
        "PAYMENTS_PAYU_ACCOUNT_ID",
    ),
    # Test credentials in live mode.
    "stripe-test-key": (
        {**LIVE, "PAYMENTS_STRIPE_SECRET_KEY": "sk_test_fake_s3cr3t"},
        "PAYMENTS_STRIPE_SECRET_KEY",
    ),
    "stripe-test-publishable-key": (
        {**LIVE, "PAYMENTS_STRIPE_PUBLISHABLE_KEY": "pk_test_fake_s3cr3t"},
        "PAYMENTS_STRIPE_PUBLISHABLE_KEY",
    ),
    "wompi-test-key": (
        {**LIVE, **WOMPI, "PAYMENTS_WOMPI_PUBLIC_KEY": "pub_test_fake_s3cr3t"},
        "PAYMENTS_WOMPI_PUBLIC_KEY",
    ),
    "payu-test-merchant": (
        {**LIVE, **PAYU, "PAYMENTS_PAYU_MERCHANT_ID": SANDBOX_MERCHANT_ID},
        "PAYMENTS_PAYU_MERCHANT_ID",
    ),
    "payu-test-api-key": (
        {**LIVE, **PAYU, "PAYMENTS_PAYU_API_KEY": SANDBOX_API_KEY},
        "PAYMENTS_PAYU_API_KEY",
    ),
    "payu-test-api-login": (
        {**LIVE, **PAYU, "PAYMENTS_PAYU_API_LOGIN": SANDBOX_API_LOGIN},
        "PAYMENTS_PAYU_API_LOGIN",
    ),
    # A route to a provider that is not configured.
    "route-to-wompi": ({**LIVE, ROUTED: "CO: wompi; *: stripe"}, "wompi"),
    "route-to-payu": ({**LIVE, ROUTED: "CO: wompi, payu; *: stripe", **WOMPI}, "payu"),
    "route-to-efecty": ({**LIVE, ROUTED: "CO+cash: efecty; *: stripe"}, "efecty"),
    "route-to-stripe": (
        {**LIVE, **WOMPI, "PAYMENTS_STRIPE_SECRET_KEY": "", ROUTED: "*: wompi"},
        "PAYMENTS_STRIPE_SECRET_KEY",
    ),
    "sandbox-route-to-disabled-efecty": (
        {"PAYMENTS_EFECTY_ENABLED": "0", ROUTED: "CO+cash: efecty; *: stripe"},
        "efecty",
    ),
}


@pytest.mark.parametrize(("env", "named"), REFUSALS.values(), ids=REFUSALS.keys())
def test_a_setting_that_cannot_work_is_refused_in_one_line_naming_it(
    env: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env(env)

    message = str(caught.value)
    assert "\n" not in message
    assert named in message
    if named in ("wompi", "payu", "efecty"):
        assert message.startswith(f"{ROUTED} names gateways that are not configured")
    assert "s3cr3t" not in message
    assert SANDBOX_API_KEY not in message


def test_an_unset_routing_says_its_modes_default_named_the_disabled_provider() -> None:
    """Sandbox mode's default routing names Efecty: turning Efecty off without routing
    elsewhere is refused, and the line says the routing was not set."""
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({"PAYMENTS_EFECTY_ENABLED": "0"})

    message = str(caught.value)
    assert message.startswith(f"{ROUTED} (unset, so sandbox mode's default ")
    assert "efecty" in message
    settings = Settings.from_env({"PAYMENTS_EFECTY_ENABLED": "0", ROUTED: "*: stripe"})
    assert "efecty" not in settings.gateways


def test_live_mode_starts_with_every_provider_configured() -> None:
    env = {
        **LIVE,
        **WOMPI,
        **PAYU,
        "PAYMENTS_EFECTY_ENABLED": "1",
        ROUTED: "CO+cash: efecty; CO: wompi, payu; *: stripe",
    }
    assert Settings.from_env(env).gateways == {"stripe", "wompi", "payu", "efecty"}
