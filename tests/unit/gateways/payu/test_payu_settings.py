"""PayU settings, offline: the signature-algorithm values and the docs' sandbox merchant (§2.2)."""

from __future__ import annotations

import pytest

from payments.adapters.gateways.payu import (
    SignatureAlgorithm,
    request_signature,
    signature_algorithm_from_setting,
)
from payments.adapters.gateways.payu.settings import (
    SANDBOX_ACCOUNT_IDS,
    SANDBOX_API_KEY,
    SANDBOX_MERCHANT_ID,
)
from payments.domain.errors import ConfigurationError


@pytest.mark.parametrize(
    ("value", "algorithm"),
    [
        (None, SignatureAlgorithm.MD5),
        ("", SignatureAlgorithm.MD5),
        ("MD5", SignatureAlgorithm.MD5),
        ("sha256", SignatureAlgorithm.SHA256),
        (" SHA256 ", SignatureAlgorithm.SHA256),
    ],
)
def test_signature_algorithm_setting_values(
    value: str | None, algorithm: SignatureAlgorithm
) -> None:
    assert signature_algorithm_from_setting(value) is algorithm


@pytest.mark.parametrize("value", ["SHA1", "HMAC-SHA256", "sha-256"])
def test_unsupported_signature_algorithm_names_the_variable(value: str) -> None:
    with pytest.raises(ConfigurationError, match="PAYMENTS_PAYU_SIGNATURE_ALGORITHM"):
        signature_algorithm_from_setting(value)


def test_sandbox_merchant_reproduces_the_docs_signature() -> None:
    signature = request_signature(
        api_key=SANDBOX_API_KEY,
        merchant_id=SANDBOX_MERCHANT_ID,
        reference_code="TestPayU",
        amount="20000",
        currency="COP",
    )
    assert signature == "7ee7cf808ce6a39b17481c54f2c57acc"
    assert SANDBOX_ACCOUNT_IDS["CO"] == "512321"
