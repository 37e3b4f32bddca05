"""The NATS relay's settings: off without a URL, defaults, and one-line refusals of bad values."""

from __future__ import annotations

import pytest

from payments.config import NatsSettings, Settings
from payments.domain.errors import ConfigurationError


def test_without_a_nats_url_events_stay_in_the_outbox() -> None:
    settings = Settings.from_env({})
    assert settings.nats is None
    assert settings.event_publishing == "off"


def test_a_nats_url_turns_publishing_on_with_the_default_stream_and_prefix() -> None:
    settings = Settings.from_env({"PAYMENTS_NATS_URL": " nats://user:pw@127.0.0.1:4222 "})
    assert settings.event_publishing == "nats"
    assert settings.nats == NatsSettings("nats://user:pw@127.0.0.1:4222", "PAYMENTS", "payments", 5)
    assert "pw" not in repr(settings.nats)


def test_stream_prefix_and_timeout_are_configurable() -> None:
    settings = Settings.from_env(
        {
            "PAYMENTS_NATS_URL": "tls://nats.internal:4222",
            "PAYMENTS_NATS_STREAM": "ACME_PAYMENTS",
            "PAYMENTS_NATS_SUBJECT_PREFIX": "acme.payments",
            "PAYMENTS_NATS_TIMEOUT_SECONDS": "2",
        }
    )
    assert settings.nats == NatsSettings(
        "tls://nats.internal:4222", "ACME_PAYMENTS", "acme.payments", 2
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("NATS_URL", "http://secret-host:4222"),
        ("NATS_URL", "nats://secret-host:port"),
        ("NATS_URL", "secret-host:4222"),
        ("NATS_STREAM", "SECRET.STREAM"),
        ("NATS_STREAM", "SECRET STREAM"),
        ("NATS_SUBJECT_PREFIX", "secret.>"),
        ("NATS_SUBJECT_PREFIX", "secret..prefix"),
        ("NATS_SUBJECT_PREFIX", "secret.*"),
        ("NATS_TIMEOUT_SECONDS", "0"),
        ("NATS_TIMEOUT_SECONDS", "secret"),
    ],
)
def test_a_bad_nats_setting_is_refused_naming_the_variable_never_the_value(
    name: str, value: str
) -> None:
    env = {"PAYMENTS_NATS_URL": "nats://127.0.0.1:4222", f"PAYMENTS_{name}": value}
    with pytest.raises(ConfigurationError) as refused:
        Settings.from_env(env)
    message = refused.value.message
    assert f"PAYMENTS_{name}" in message
    assert "secret" not in message
    assert "\n" not in message
