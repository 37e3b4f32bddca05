"""Settings: sandbox by default, live mode refuses to start without what it needs."""

from __future__ import annotations

import pytest

from payments.adapters.gateways.stripe import payment_methods_param_for
from payments.config import DEFAULT_DATABASE_URL, SANDBOX_ROUTING, Settings
from payments.domain.errors import ConfigurationError


def test_empty_environment_is_the_embedded_sandbox() -> None:
    settings = Settings.from_env({})
    assert settings.sandbox
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.routing_text == SANDBOX_ROUTING == "CO+cash: efecty; CO: wompi, payu; *: stripe"


def test_a_stripe_key_keeps_the_sandbox_routing_and_live_mode_routes_to_stripe() -> None:
    stripe_keys = {
        "PAYMENTS_STRIPE_SECRET_KEY": "sk_test_fake_123",
        "PAYMENTS_STRIPE_WEBHOOK_SECRET": "whsec_test_fake",
    }
    assert Settings.from_env(stripe_keys).routing_text == SANDBOX_ROUTING
    assert Settings.from_env(LIVE).routing_text == "*: stripe"


def test_the_retired_sandbox_provider_is_refused_in_sandbox_mode_too() -> None:
    with pytest.raises(ConfigurationError, match="PAYMENTS_ROUTING") as caught:
        Settings.from_env({"PAYMENTS_ROUTING": "*: sandbox"})
    assert "1 unknown gateway" in str(caught.value)


@pytest.mark.parametrize(
    ("text", "secrets"),
    [
        ("whsec_test_old, whsec_test_new", ("whsec_test_old", "whsec_test_new")),
        (" whsec_test_old ,whsec_test_new ", ("whsec_test_old", "whsec_test_new")),
        ("whsec_test_only", ("whsec_test_only",)),
        ("whsec_test_old,,whsec_test_new,", ("whsec_test_old", "whsec_test_new")),
    ],
)
def test_rotating_webhook_secrets_are_parsed_once_stripped(
    text: str, secrets: tuple[str, ...]
) -> None:
    settings = Settings.from_env(
        {
            "PAYMENTS_STRIPE_SECRET_KEY": "sk_test_fake_123",
            "PAYMENTS_STRIPE_WEBHOOK_SECRET": text,
        }
    )
    assert settings.stripe.webhook_secrets == secrets


def test_no_webhook_secret_without_a_stripe_key_is_fine() -> None:
    assert Settings.from_env({}).stripe.webhook_secrets == ()


def test_sandbox_with_a_test_key_and_no_webhook_secret_names_the_variable() -> None:
    for blank in ({}, {"PAYMENTS_STRIPE_WEBHOOK_SECRET": " , "}):
        with pytest.raises(ConfigurationError, match="PAYMENTS_STRIPE_WEBHOOK_SECRET"):
            Settings.from_env({"PAYMENTS_STRIPE_SECRET_KEY": "sk_test_fake_123", **blank})


def test_live_mode_checks_each_rotating_webhook_secret() -> None:
    env = {
        "PAYMENTS_MODE": "live",
        "PAYMENTS_STRIPE_SECRET_KEY": "sk_live_fake_for_test",
        "PAYMENTS_STRIPE_WEBHOOK_SECRET": "whsec_test_old, not_a_signing_secret_fake",
    }
    with pytest.raises(ConfigurationError, match="PAYMENTS_STRIPE_WEBHOOK_SECRET") as caught:
        Settings.from_env(env)
    assert "not_a_signing_secret_fake" not in str(caught.value)
    env["PAYMENTS_STRIPE_WEBHOOK_SECRET"] = "whsec_test_old, whsec_test_new"
    assert Settings.from_env(env).stripe.webhook_secrets == ("whsec_test_old", "whsec_test_new")


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
        ({"PAYMENTS_ROUTING": "CO wompi"}, "PAYMENTS_ROUTING"),
        ({"PAYMENTS_IDEMPOTENCY_TTL_HOURS": "soon"}, "PAYMENTS_IDEMPOTENCY_TTL_HOURS"),
        ({"PAYMENTS_PAYMENT_WINDOW_HOURS": "0"}, "PAYMENTS_PAYMENT_WINDOW_HOURS"),
        ({"PAYMENTS_NOTIFICATION_BATCH": "0"}, "PAYMENTS_NOTIFICATION_BATCH"),
        ({"PAYMENTS_NOTIFICATION_BATCH": "many"}, "PAYMENTS_NOTIFICATION_BATCH"),
        ({"PAYMENTS_NOTIFICATION_MODE": "later"}, "PAYMENTS_NOTIFICATION_MODE"),
        ({"PAYMENTS_LOG_LEVEL": "chatty"}, "PAYMENTS_LOG_LEVEL"),
        ({"PAYMENTS_LOG_FORMAT": "xml"}, "PAYMENTS_LOG_FORMAT"),
    ],
)
def test_bad_settings_stop_the_start_with_a_clear_message(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PAYMENTS_IDEMPOTENCY_TTL_HOURS", "abc"),
        ("PAYMENTS_IDEMPOTENCY_TTL_HOURS", "-3"),
        ("PAYMENTS_PAYMENT_WINDOW_HOURS", "1.5"),
        ("PAYMENTS_ROUTING", "XYZ: secretgateway"),
        ("PAYMENTS_ROUTING", "CO+teleport: acmepay"),
        ("PAYMENTS_ROUTING", "CO: acmepay; CO: otherpay"),
        ("PAYMENTS_ROUTING", "no colon at all"),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable_never_echoing_the_value(
    name: str, value: str
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({name: value})
    message = str(caught.value)
    assert name in message
    assert value not in message
    for word in value.replace(":", " ").replace(";", " ").replace("+", " ").split():
        if len(word) > 2:  # 'CO' may appear in the message's example rule
            assert word not in message
    assert caught.value.__cause__ is None  # nor through a chained error in a traceback


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


LIVE = {
    "PAYMENTS_MODE": "live",
    "PAYMENTS_STRIPE_SECRET_KEY": "sk_live_fake_for_test",
    "PAYMENTS_STRIPE_WEBHOOK_SECRET": "whsec_test_fake",
}


def test_guest_limits_and_the_trusted_proxy_default_to_the_design_and_are_configurable() -> None:
    default = Settings.from_env({})
    assert not default.trust_forwarded_for
    assert (default.guest_checkouts_per_ip_hour, default.guest_checkouts_per_email_hour) == (10, 5)

    tuned = Settings.from_env(
        {
            "PAYMENTS_TRUST_FORWARDED_FOR": "1",
            "PAYMENTS_GUEST_CHECKOUTS_PER_IP_HOUR": "200",
            "PAYMENTS_GUEST_CHECKOUTS_PER_EMAIL_HOUR": "3",
        }
    )
    assert tuned.trust_forwarded_for
    assert (tuned.guest_checkouts_per_ip_hour, tuned.guest_checkouts_per_email_hour) == (200, 3)
    assert not Settings.from_env({"PAYMENTS_TRUST_FORWARDED_FOR": "false"}).trust_forwarded_for


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PAYMENTS_TRUST_FORWARDED_FOR", "maybe"),
        ("PAYMENTS_GUEST_CHECKOUTS_PER_IP_HOUR", "lots"),
        ("PAYMENTS_GUEST_CHECKOUTS_PER_EMAIL_HOUR", "0"),
    ],
)
def test_a_bad_proxy_or_guest_limit_setting_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name) as caught:
        Settings.from_env({name: value})
    assert value not in str(caught.value)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({**LIVE, "PAYMENTS_ROUTING": "*: efecty"}, "efecty"),
        ({**LIVE, "PAYMENTS_ROUTING": "CO: wompi; *: stripe"}, "wompi"),
        ({**LIVE, "PAYMENTS_ROUTING": "MX: payu, stripe; *: stripe"}, "payu"),
        ({**LIVE, "PAYMENTS_ROUTING": "CO+cash: efecty; *: stripe"}, "efecty"),
        (
            {"PAYMENTS_EFECTY_ENABLED": "0", "PAYMENTS_ROUTING": "CO+cash: efecty; *: stripe"},
            "efecty",
        ),
    ],
)
def test_routing_to_a_gateway_that_is_not_configured_stops_the_start(
    env: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigurationError, match="PAYMENTS_ROUTING") as caught:
        Settings.from_env(env)
    assert named in str(caught.value)


def test_an_unknown_routed_gateway_is_counted_never_quoted() -> None:
    with pytest.raises(ConfigurationError, match="PAYMENTS_ROUTING") as caught:
        Settings.from_env({**LIVE, "PAYMENTS_ROUTING": "*: sk_live_pasted_by_mistake"})
    assert "sk_live_pasted_by_mistake" not in str(caught.value)
    assert "1 unknown gateway" in str(caught.value)


def test_routing_to_configured_gateways_starts_in_each_mode() -> None:
    assert Settings.from_env({"PAYMENTS_ROUTING": "KW: stripe; *: wompi"}).gateways == {
        "stripe",
        "wompi",
        "payu",
        "efecty",
    }
    assert Settings.from_env({**LIVE, "PAYMENTS_ROUTING": "ES: stripe; *: stripe"}).gateways == {
        "stripe"
    }
    live_cash = {
        **LIVE,
        "PAYMENTS_EFECTY_ENABLED": "1",
        "PAYMENTS_ROUTING": "CO+cash: efecty; *: stripe",
    }
    assert Settings.from_env(live_cash).gateways == {"stripe", "efecty"}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({**LIVE, "PAYMENTS_STRIPE_PUBLISHABLE_KEY": "pk_test_fake"}, "Live mode refuses"),
        ({"PAYMENTS_STRIPE_PUBLISHABLE_KEY": "pk_live_fake"}, "Sandbox mode refuses"),
        ({**LIVE, "PAYMENTS_STRIPE_PUBLISHABLE_KEY": "sk_live_fake_secret"}, "publishable key"),
    ],
)
def test_a_publishable_key_of_the_wrong_kind_stops_the_start(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigurationError, match="PAYMENTS_STRIPE_PUBLISHABLE_KEY") as caught:
        Settings.from_env(env)
    assert message in str(caught.value)
    assert env["PAYMENTS_STRIPE_PUBLISHABLE_KEY"] not in str(caught.value)


def test_live_mode_takes_a_live_publishable_key() -> None:
    settings = Settings.from_env({**LIVE, "PAYMENTS_STRIPE_PUBLISHABLE_KEY": "pk_live_fake"})
    assert settings.stripe.publishable_key == "pk_live_fake"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PAYMENTS_DATABASE_URL", "postgresql+psycopg://pay:s3cr3tpw@db:port/payments"),
        ("PAYMENTS_DATABASE_URL", "s3cr3tpw"),
        ("PAYMENTS_DATABASE_URL", "mysql://pay:s3cr3tpw@db/payments"),
        ("PAYMENTS_DATABASE_URL", "postgresql+asyncpg://pay:s3cr3tpw@db/payments"),
        ("PAYMENTS_REDIS_URL", "redis://:s3cr3tpw@cache:port/0"),
        ("PAYMENTS_REDIS_URL", "http://:s3cr3tpw@cache/0"),
    ],
)
def test_a_malformed_database_or_redis_url_names_the_variable_never_its_password(
    name: str, value: str
) -> None:
    with pytest.raises(ConfigurationError, match=name) as caught:
        Settings.from_env({name: value})
    assert "s3cr3tpw" not in str(caught.value)
    assert caught.value.__cause__ is None
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///payments.db",
        "sqlite://",
        "postgresql://pay@db/payments",
        "postgresql+psycopg://pay:pw@db:5432/payments",
    ],
)
def test_well_formed_database_urls_start(url: str) -> None:
    assert Settings.from_env({"PAYMENTS_DATABASE_URL": url}).database_url == url


def test_the_notification_batch_is_read_from_the_environment() -> None:
    assert Settings.from_env({}).notification_batch == 32
    assert Settings.from_env({"PAYMENTS_NOTIFICATION_BATCH": "1"}).notification_batch == 1


def test_notifications_are_applied_on_arrival_unless_ingest_mode_is_asked_for() -> None:
    assert not Settings.from_env({}).ingest_notifications
    assert Settings.from_env({"PAYMENTS_NOTIFICATION_MODE": "Ingest"}).ingest_notifications


def test_the_log_level_is_read_from_the_environment() -> None:
    assert Settings.from_env({}).log_level == "INFO"
    assert Settings.from_env({"PAYMENTS_LOG_LEVEL": "warning"}).log_level == "WARNING"
