"""Sandbox-Signature verification and signing, offline, against the documented algorithm."""

from __future__ import annotations

import pytest
import requests

from payments.adapters.gateways.sandbox import SandboxGateway, signature_header, verify_signature
from payments.domain.errors import (
    ConfigurationError,
    InvalidSignatureError,
)
from payments.sandbox.gateway_simulator import SandboxSimulator
from tests.unit.gateways.sandbox_wire import (
    NOW,
    SECRET,
    gateway,
    hmac_header,
    succeeded_body,
)

# -- signatures ----------------------------------------------------------------------------------


def test_valid_sandbox_signature_is_accepted() -> None:
    body = succeeded_body()
    notification = gateway().verify_notification({"sandbox-signature": hmac_header(body)}, body)
    assert notification.event_id == "evt_1"


def test_adapter_signs_by_the_documented_algorithm() -> None:
    body = succeeded_body()
    assert signature_header(SECRET, NOW, body) == hmac_header(body)


def test_simulator_signs_by_the_documented_algorithm() -> None:
    body = succeeded_body()
    assert SandboxSimulator(SECRET).sign(NOW, body) == hmac_header(body)


def test_signature_made_with_another_secret_is_rejected() -> None:
    body = succeeded_body()
    header = hmac_header(body, secret="another_test_secret")
    with pytest.raises(InvalidSignatureError):
        gateway().verify_notification({"sandbox-signature": header}, body)


def test_tampered_body_is_rejected() -> None:
    body = succeeded_body()
    header = hmac_header(body)
    tampered = body.replace(b'"79.99"', b'"7.99"')
    assert tampered != body
    with pytest.raises(InvalidSignatureError):
        gateway().verify_notification({"sandbox-signature": header}, tampered)


def test_stale_sandbox_signature_is_rejected() -> None:
    body = succeeded_body()
    header = hmac_header(body, timestamp=NOW - 301)
    with pytest.raises(InvalidSignatureError, match="tolerance"):
        gateway().verify_notification({"sandbox-signature": header}, body)


def test_future_sandbox_signature_is_rejected() -> None:
    body = succeeded_body()
    header = hmac_header(body, timestamp=NOW + 301)
    with pytest.raises(InvalidSignatureError, match="tolerance"):
        gateway().verify_notification({"sandbox-signature": header}, body)


@pytest.mark.parametrize("offset", [-300, 300])
def test_signature_at_the_edge_of_the_tolerance_is_accepted(offset: int) -> None:
    body = succeeded_body()
    header = hmac_header(body, timestamp=NOW + offset)
    assert verify_signature(header, body, SECRET, now=NOW) == NOW + offset


def test_missing_signature_header_is_rejected() -> None:
    with pytest.raises(InvalidSignatureError, match="missing"):
        gateway().verify_notification({"content-type": "application/json"}, succeeded_body())


@pytest.mark.parametrize(
    "header",
    ["v1=abc", "t=,v1=abc", "t=12a,v1=abc", f"t={NOW}", f"t={NOW},v1=", "garbage"],
)
def test_malformed_signature_header_is_rejected(header: str) -> None:
    with pytest.raises(InvalidSignatureError):
        verify_signature(header, succeeded_body(), SECRET, now=NOW)


def test_one_matching_v1_among_two_is_accepted() -> None:
    body = succeeded_body()
    good = hmac_header(body).split(",v1=")[1]
    header = f"t={NOW},v1={'0' * 64},v1={good}"
    assert verify_signature(header, body, SECRET, now=NOW) == NOW


def test_two_wrong_v1_values_are_rejected() -> None:
    body = succeeded_body()
    header = f"t={NOW},v1={'0' * 64},v1={'f' * 64}"
    with pytest.raises(InvalidSignatureError):
        verify_signature(header, body, SECRET, now=NOW)


def test_a_valid_signature_under_another_scheme_does_not_count() -> None:
    body = succeeded_body()
    good = hmac_header(body).split(",v1=")[1]
    with pytest.raises(InvalidSignatureError):
        verify_signature(f"t={NOW},v0={good}", body, SECRET, now=NOW)


def test_signature_header_name_is_matched_whatever_its_case() -> None:
    body = succeeded_body()
    notification = gateway().verify_notification({"Sandbox-Signature": hmac_header(body)}, body)
    assert notification.payment is not None


def test_stored_notification_is_parsed_without_verifying_again() -> None:
    notification = gateway().parse_stored_notification({}, succeeded_body())
    assert notification.payment is not None


@pytest.mark.parametrize("extra", [",t=1", ",garbage"])
def test_second_timestamp_or_item_without_equals_is_malformed_even_beside_a_good_v1(
    extra: str,
) -> None:
    # The shared verifier is strict; the sandbox's own used to skip such items.
    body = succeeded_body()
    with pytest.raises(InvalidSignatureError, match=r"timestamp|malformed"):
        verify_signature(hmac_header(body) + extra, body, SECRET, now=NOW)


def test_gateway_without_a_secret_does_not_start() -> None:
    with pytest.raises(ConfigurationError):
        SandboxGateway(requests.Session(), "http://sandbox.invalid", "")
    with pytest.raises(ConfigurationError):
        SandboxGateway(requests.Session(), "http://sandbox.invalid", SECRET, tolerance=0)


def test_simulator_without_a_secret_does_not_start() -> None:
    with pytest.raises(ConfigurationError):
        SandboxSimulator("")
