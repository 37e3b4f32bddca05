"""The one timestamped HMAC scheme every sender and verifier of ours uses."""

from __future__ import annotations

import pytest
import stripe

from payments.adapters.wire import webhook_signing
from payments.domain.errors import ConfigurationError, InvalidSignatureError

STRIPE_PAYLOAD = (
    b'{\n  "id": "evt_test_webhook",\n  "object": "event",\n'
    b'  "data": { "object": { "id": "rdr_123", "object": "terminal.reader" } }\n}'
)
STRIPE_V1 = "3bfab77baf5f7b6991a46c9b53b6547d7afc56148b10468fcad9f35c1992ffbd"
NOW = 1_700_000_000


def test_documented_stripe_vector_is_reproduced() -> None:
    assert len(STRIPE_PAYLOAD) == 125
    assert webhook_signing.sign("whsec_test_secret", NOW, STRIPE_PAYLOAD) == STRIPE_V1


def test_header_matches_stripe_python_generator() -> None:
    ours = webhook_signing.signature_header(["whsec_test_secret"], NOW, STRIPE_PAYLOAD)
    theirs = stripe.WebhookSignature._compute_signature(
        f"{NOW}.{STRIPE_PAYLOAD.decode()}", "whsec_test_secret"
    )
    assert ours == f"t={NOW},v1={theirs}"


def test_signed_header_verifies_and_returns_its_timestamp() -> None:
    header = webhook_signing.signature_header(["whsec_a"], NOW, b"{}")
    assert webhook_signing.verify(header, b"{}", ["whsec_a"], now=NOW + 10) == NOW


def test_any_rotated_secret_matches_any_signature() -> None:
    header = webhook_signing.signature_header(["whsec_old", "whsec_new"], NOW, b"{}")
    assert header.count("v1=") == 2
    assert webhook_signing.verify(header, b"{}", ["whsec_new"], now=NOW) == NOW
    assert webhook_signing.verify(header, b"{}", ["", "whsec_old"], now=NOW) == NOW


@pytest.mark.parametrize("offset", [-301, 301])
def test_timestamp_out_of_tolerance_either_way_is_refused(offset: int) -> None:
    header = webhook_signing.signature_header(["whsec_a"], NOW, b"{}")
    with pytest.raises(InvalidSignatureError, match="tolerance"):
        webhook_signing.verify(header, b"{}", ["whsec_a"], now=NOW + offset)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "missing"),
        ("", "missing"),
        ("t=1700000000,v1", "malformed"),
        ("garbage", "malformed"),
        ("v1=abc", "timestamp"),
        ("t=1,t=2,v1=abc", "timestamp"),
        ("t=-5,v1=abc", "timestamp"),
        ("t=1234567890123456,v1=abc", "timestamp"),
        ("t=1700000000,v0=abc", "no v1"),
        ("t=1700000000," + ",".join(["v1=ab"] * 9), "too many"),
        ("t=1700000000,v1=" + "a" * 5000, "too long"),
    ],
)
def test_malformed_headers_are_refused(header: str | None, message: str) -> None:
    with pytest.raises(InvalidSignatureError, match=message):
        webhook_signing.verify(header, b"{}", ["whsec_a"], now=NOW, name="Stripe-Signature")


def test_tampered_body_and_wrong_secret_do_not_match() -> None:
    header = webhook_signing.signature_header(["whsec_a"], NOW, b"{}")
    with pytest.raises(InvalidSignatureError, match="matches"):
        webhook_signing.verify(header, b'{"x":1}', ["whsec_a"], now=NOW)
    with pytest.raises(InvalidSignatureError, match="matches"):
        webhook_signing.verify(header, b"{}", ["whsec_b"], now=NOW)


def test_non_ascii_signature_is_a_mismatch_not_a_crash() -> None:
    with pytest.raises(InvalidSignatureError, match="matches"):
        webhook_signing.verify(f"t={NOW},v1=é", b"{}", ["whsec_a"], now=NOW)


def test_no_usable_secret_never_passes() -> None:
    header = webhook_signing.signature_header(["whsec_a"], NOW, b"{}")
    with pytest.raises(InvalidSignatureError, match="No secret"):
        webhook_signing.verify(header, b"{}", ["", ""], now=NOW)


def test_signing_without_a_secret_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        webhook_signing.signature_header([], NOW, b"{}")
    with pytest.raises(ConfigurationError):
        webhook_signing.signature_header([""], NOW, b"{}")


def test_tolerance_cannot_be_switched_off() -> None:
    with pytest.raises(ValueError, match="tolerance"):
        webhook_signing.verify("t=1,v1=a", b"", ["whsec_a"], now=NOW, tolerance=0)


def test_a_signature_check_finds_its_header_in_any_case_and_reads_its_clock() -> None:
    check = webhook_signing.SignatureCheck("Stripe-Signature", ("whsec_a",), lambda: NOW + 5)
    header = webhook_signing.signature_header(["whsec_a"], NOW, b"{}")

    assert check.verify({"stripe-signature": header}, b"{}") == NOW
    assert check.verify({"STRIPE-SIGNATURE": header}, b"{}") == NOW


def test_a_signature_check_holds_the_timestamp_to_its_tolerance() -> None:
    check = webhook_signing.SignatureCheck("Stripe-Signature", ["whsec_a"], lambda: NOW, 60)
    header = webhook_signing.signature_header(["whsec_a"], NOW - 61, b"{}")

    with pytest.raises(InvalidSignatureError, match="Stripe-Signature timestamp"):
        check.verify({"stripe-signature": header}, b"{}")
    with pytest.raises(InvalidSignatureError, match="Stripe-Signature header is missing"):
        check.verify({}, b"{}")
