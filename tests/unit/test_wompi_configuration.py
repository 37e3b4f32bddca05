"""Wompi's settings: all four keys or none, of the mode's environment, refused by name only."""

from __future__ import annotations

import pytest
import requests

from payments.adapters.gateways.wompi import WompiGateway
from payments.adapters.gateways.wompi.settings import (
    BASE_URL,
    SANDBOX_BASE_URL,
    SANDBOX_PUBLIC_KEY,
)
from payments.config import Settings
from payments.domain.errors import ConfigurationError
from payments.gateway_assembly import build_gateways, wompi_gateway
from payments.sandbox.environment import build_sandbox, sandbox_wompi_settings

TEST_KEYS = {
    "PAYMENTS_WOMPI_PUBLIC_KEY": "pub_test_fake_for_settings",
    "PAYMENTS_WOMPI_PRIVATE_KEY": "prv_test_fake_for_settings",
    "PAYMENTS_WOMPI_INTEGRITY_SECRET": "test_integrity_fake_for_settings",
    "PAYMENTS_WOMPI_EVENTS_SECRET": "test_events_fake_for_settings",
}
PROD_KEYS = {
    "PAYMENTS_WOMPI_PUBLIC_KEY": "pub_prod_fake_for_settings",
    "PAYMENTS_WOMPI_PRIVATE_KEY": "prv_prod_fake_for_settings",
    "PAYMENTS_WOMPI_INTEGRITY_SECRET": "prod_integrity_fake_for_settings",
    "PAYMENTS_WOMPI_EVENTS_SECRET": "prod_events_fake_for_settings",
}
LIVE = {
    "PAYMENTS_MODE": "live",
    "PAYMENTS_STRIPE_SECRET_KEY": "sk_live_fake_for_test",
    "PAYMENTS_STRIPE_WEBHOOK_SECRET": "whsec_test_fake",
}


def test_sandbox_without_keys_runs_wompi_against_the_built_in_simulator() -> None:
    settings = Settings.from_env({})
    assert not settings.wompi.has_keys
    assert "wompi" in settings.gateways
    assert settings.routing_text == "CO+cash: efecty; CO: wompi, payu; *: stripe"
    wompi = sandbox_wompi_settings(settings)
    assert wompi.public_key == SANDBOX_PUBLIC_KEY
    assert wompi.base_url == "http://127.0.0.1:8000/sandbox/wompi/v1"


def test_sandbox_keys_talk_to_wompis_sandbox_unless_a_base_url_is_set() -> None:
    settings = Settings.from_env(TEST_KEYS)
    assert settings.wompi.base_url == SANDBOX_BASE_URL
    assert sandbox_wompi_settings(settings) is settings.wompi
    assert "prv_test_fake_for_settings" not in repr(settings)
    other = Settings.from_env(
        {**TEST_KEYS, "PAYMENTS_WOMPI_BASE_URL": "http://h:1/sandbox/wompi/v1/"}
    )
    assert other.wompi.base_url == "http://h:1/sandbox/wompi/v1"


def test_live_keys_route_colombia_to_wompis_production() -> None:
    settings = Settings.from_env({**LIVE, **PROD_KEYS, "PAYMENTS_ROUTING": "CO: wompi; *: stripe"})
    assert settings.gateways == {"stripe", "wompi"}
    assert settings.wompi.base_url == BASE_URL
    with requests.Session() as session:
        assert isinstance(wompi_gateway(settings, session), WompiGateway)
        assert sorted(build_gateways(settings, session)) == ["stripe", "wompi"]


def test_live_mode_without_wompi_keys_builds_no_wompi_gateway() -> None:
    settings = Settings.from_env(LIVE)
    assert settings.gateways == {"stripe"}
    with requests.Session() as session:
        assert wompi_gateway(settings, session) is None


@pytest.mark.parametrize("missing", sorted(PROD_KEYS))
def test_live_mode_missing_a_wompi_key_names_the_variable(missing: str) -> None:
    env = {**LIVE, **{k: v for k, v in PROD_KEYS.items() if k != missing}}
    with pytest.raises(ConfigurationError, match=missing) as caught:
        Settings.from_env(env)
    assert not any(value in str(caught.value) for value in PROD_KEYS.values())
    assert len(str(caught.value).splitlines()) == 1


@pytest.mark.parametrize("variable", sorted(TEST_KEYS))
def test_live_mode_refuses_a_wompi_test_key(variable: str) -> None:
    env = {**LIVE, **PROD_KEYS, variable: TEST_KEYS[variable]}
    with pytest.raises(ConfigurationError, match=f"Live mode refuses.*{variable}") as caught:
        Settings.from_env(env)
    assert TEST_KEYS[variable] not in str(caught.value)


@pytest.mark.parametrize("variable", sorted(PROD_KEYS))
def test_sandbox_mode_refuses_a_wompi_production_key(variable: str) -> None:
    env = {**TEST_KEYS, variable: PROD_KEYS[variable]}
    with pytest.raises(ConfigurationError, match=f"Sandbox mode refuses.*{variable}") as caught:
        Settings.from_env(env)
    assert PROD_KEYS[variable] not in str(caught.value)


def test_a_key_of_no_wompi_shape_names_the_variable() -> None:
    env = {**TEST_KEYS, "PAYMENTS_WOMPI_PRIVATE_KEY": "sk_test_pasted_by_mistake"}
    with pytest.raises(ConfigurationError, match="PAYMENTS_WOMPI_PRIVATE_KEY") as caught:
        Settings.from_env(env)
    assert "sk_test_pasted_by_mistake" not in str(caught.value)


def test_a_malformed_wompi_base_url_names_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="PAYMENTS_WOMPI_BASE_URL") as caught:
        Settings.from_env({**TEST_KEYS, "PAYMENTS_WOMPI_BASE_URL": "ftp:/secret-host"})
    assert "secret-host" not in str(caught.value)


def test_live_routing_to_wompi_without_its_keys_stops_the_start() -> None:
    with pytest.raises(ConfigurationError, match="PAYMENTS_ROUTING") as caught:
        Settings.from_env({**LIVE, "PAYMENTS_ROUTING": "CO: wompi; *: stripe"})
    assert "wompi" in str(caught.value)


def test_the_simulator_takes_the_configured_keys_in_sandbox_mode() -> None:
    with requests.Session() as session:
        plain = build_sandbox(Settings.from_env({}), session)
        keyed = build_sandbox(Settings.from_env(TEST_KEYS), session)
    assert plain.wompi_simulator.public_key == SANDBOX_PUBLIC_KEY
    assert keyed.wompi_simulator.public_key == TEST_KEYS["PAYMENTS_WOMPI_PUBLIC_KEY"]
    assert "wompi" in plain.controller.gateways
