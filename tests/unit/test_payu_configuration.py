"""PayU's settings: all four credentials or none, no test merchant in live mode, refused by name."""

from __future__ import annotations

import pytest
import requests

from payments.adapters.gateways.payu import PayUGateway, SignatureAlgorithm
from payments.adapters.gateways.payu.settings import (
    BASE_URL,
    SANDBOX_API_KEY,
    SANDBOX_BASE_URL,
    SANDBOX_MERCHANT_ID,
)
from payments.config import Settings
from payments.domain.errors import ConfigurationError
from payments.gateway_assembly import build_gateways, payu_gateway
from payments.sandbox.environment import build_sandbox, sandbox_payu_settings

CREDENTIALS = {
    "PAYMENTS_PAYU_MERCHANT_ID": "500001",
    "PAYMENTS_PAYU_ACCOUNT_ID": "500002",
    "PAYMENTS_PAYU_API_KEY": "fakeApiKeyForSettingsTests",
    "PAYMENTS_PAYU_API_LOGIN": "fakeApiLogin",
}
LIVE = {
    "PAYMENTS_MODE": "live",
    "PAYMENTS_STRIPE_SECRET_KEY": "sk_live_fake_for_test",
    "PAYMENTS_STRIPE_WEBHOOK_SECRET": "whsec_test_fake",
}


def test_sandbox_without_credentials_runs_payu_against_the_built_in_simulator() -> None:
    settings = Settings.from_env({"PAYMENTS_ROUTING": "CO: payu; *: stripe"})
    assert not settings.payu.has_credentials
    assert "payu" in settings.gateways
    payu = sandbox_payu_settings(settings)
    assert (payu.merchant_id, payu.api_key) == (SANDBOX_MERCHANT_ID, SANDBOX_API_KEY)
    assert payu.accounts["CO"] == "512321"
    assert payu.base_url == "http://127.0.0.1:8000/sandbox/payu"
    with requests.Session() as session:
        gateway = payu_gateway(settings, session)
        sandbox = build_sandbox(settings, session)
    assert isinstance(gateway, PayUGateway)
    assert "payu" in sandbox.controller.gateways
    assert sandbox.payu_simulator.merchant.api_key == SANDBOX_API_KEY


def test_sandbox_credentials_talk_to_payus_test_environment_unless_a_base_url_is_set() -> None:
    settings = Settings.from_env(CREDENTIALS)
    assert settings.payu.base_url == SANDBOX_BASE_URL
    assert settings.payu.accounts == {"CO": "500002"}
    assert settings.payu.algorithm is SignatureAlgorithm.MD5
    local = "http://127.0.0.1:8000/sandbox/payu"
    pointed = Settings.from_env({**CREDENTIALS, "PAYMENTS_PAYU_BASE_URL": local + "/"})
    assert sandbox_payu_settings(pointed).base_url == local
    with requests.Session() as session:
        simulator = build_sandbox(pointed, session).payu_simulator
    assert simulator.merchant.merchant_id == "500001"
    assert simulator.merchant.api_key == CREDENTIALS["PAYMENTS_PAYU_API_KEY"]


def test_live_credentials_route_to_payus_production_with_sha256() -> None:
    env = {
        **LIVE,
        **CREDENTIALS,
        "PAYMENTS_PAYU_ACCOUNT_ID": "CO:500002, mx:500003",
        "PAYMENTS_PAYU_SIGNATURE_ALGORITHM": "sha256",
        "PAYMENTS_ROUTING": "CO: payu; MX: payu; *: stripe",
    }
    settings = Settings.from_env(env)
    assert settings.payu.base_url == BASE_URL
    assert settings.payu.accounts == {"CO": "500002", "MX": "500003"}
    assert settings.payu.algorithm is SignatureAlgorithm.SHA256
    with requests.Session() as session:
        registry = build_gateways(settings, session)
    assert registry["payu"].capabilities.countries == frozenset({"CO", "MX"})


def test_live_mode_without_payu_credentials_builds_no_payu_gateway() -> None:
    settings = Settings.from_env(LIVE)
    assert "payu" not in settings.gateways
    with requests.Session() as session:
        assert payu_gateway(settings, session) is None


@pytest.mark.parametrize("missing", sorted(CREDENTIALS))
def test_a_missing_credential_names_the_variable(missing: str) -> None:
    env = {name: value for name, value in CREDENTIALS.items() if name != missing}
    with pytest.raises(ConfigurationError, match=missing):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("variable", "test_value"),
    [
        ("PAYMENTS_PAYU_MERCHANT_ID", SANDBOX_MERCHANT_ID),
        ("PAYMENTS_PAYU_API_KEY", SANDBOX_API_KEY),
    ],
)
def test_live_mode_refuses_payus_public_test_merchant(variable: str, test_value: str) -> None:
    with pytest.raises(ConfigurationError, match=variable) as caught:
        Settings.from_env({**LIVE, **CREDENTIALS, variable: test_value})
    assert test_value not in str(caught.value)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PAYMENTS_PAYU_SIGNATURE_ALGORITHM", "SHA1"),
        ("PAYMENTS_PAYU_ACCOUNT_ID", "Colombia:1"),
        ("PAYMENTS_PAYU_BASE_URL", "ftp://payu.example"),
    ],
)
def test_a_malformed_payu_setting_names_the_variable(variable: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=variable) as caught:
        Settings.from_env({**CREDENTIALS, variable: value})
    assert value not in str(caught.value)


def test_live_routing_to_payu_without_its_credentials_stops_the_start() -> None:
    with pytest.raises(ConfigurationError, match="PAYMENTS_ROUTING") as caught:
        Settings.from_env({**LIVE, "PAYMENTS_ROUTING": "CO: payu; *: stripe"})
    assert "payu" in str(caught.value)
