"""Stripe-Signature verification and signing, offline, against stripe-python's own signer."""

from __future__ import annotations

import hashlib
import hmac

import pytest
import stripe

from payments.adapters.gateways.stripe import (
    StripeGateway,
    sign_payload,
    verify_signature,
)
from payments.domain.errors import (
    ConfigurationError,
    InvalidSignatureError,
    MalformedNotificationError,
)
from tests.unit.gateways.stripe_objects import (
    NOW,
    OLD_SECRET,
    SECRET,
    event,
    gateway,
    intent,
    sign,
)

# -- signatures ------------------------------------------------------------------------------------

BODY = event("payment_intent.succeeded", intent())


def test_documented_stripe_signature_vector_verifies() -> None:
    payload = (
        b'{\n  "id": "evt_test_webhook",\n  "object": "event",\n'
        b'  "data": { "object": { "id": "rdr_123", "object": "terminal.reader" } }\n}'
    )
    assert len(payload) == 125
    header = "t=1700000000,v1=3bfab77baf5f7b6991a46c9b53b6547d7afc56148b10468fcad9f35c1992ffbd"
    verify_signature(header, payload, ["whsec_test_secret"], 1_700_000_000, 300)
    assert sign(payload, "whsec_test_secret", 1_700_000_000) == header


def test_valid_stripe_signature_is_accepted() -> None:
    verify_signature(sign(BODY), BODY, [SECRET], NOW + 10, 300)


def test_stripe_signature_with_wrong_secret_is_rejected() -> None:
    with pytest.raises(InvalidSignatureError):
        verify_signature(sign(BODY, "whsec_test_someone_else"), BODY, [SECRET], NOW, 300)


def test_tampered_stripe_body_is_rejected() -> None:
    tampered = BODY.replace(b"7999", b"7998")
    with pytest.raises(InvalidSignatureError):
        verify_signature(sign(BODY), tampered, [SECRET], NOW, 300)


def test_stale_stripe_signature_is_rejected() -> None:
    verify_signature(sign(BODY, timestamp=NOW - 300), BODY, [SECRET], NOW, 300)
    with pytest.raises(InvalidSignatureError, match="tolerance"):
        verify_signature(sign(BODY, timestamp=NOW - 301), BODY, [SECRET], NOW, 300)


def test_future_stripe_signature_is_rejected() -> None:
    verify_signature(sign(BODY, timestamp=NOW + 300), BODY, [SECRET], NOW, 300)
    with pytest.raises(InvalidSignatureError, match="tolerance"):
        verify_signature(sign(BODY, timestamp=NOW + 301), BODY, [SECRET], NOW, 300)


@pytest.mark.parametrize("header", [None, "", "   ", "garbage", "t=,v1=abc", "t=abc,v1=abc"])
def test_missing_or_malformed_stripe_signature_is_rejected(header: str | None) -> None:
    with pytest.raises(InvalidSignatureError):
        verify_signature(header, BODY, [SECRET], NOW, 300)


def test_stripe_signature_without_v1_is_rejected() -> None:
    with pytest.raises(InvalidSignatureError, match="v1"):
        verify_signature(f"t={NOW}", BODY, [SECRET], NOW, 300)


def test_stripe_signature_with_only_v0_is_rejected_even_if_it_matches() -> None:
    v0 = sign(BODY).split("v1=")[1]  # a correct digest, but under the scheme we must ignore
    with pytest.raises(InvalidSignatureError, match="v1"):
        verify_signature(f"t={NOW},v0={v0}", BODY, [SECRET], NOW, 300)


def test_stripe_signature_with_two_timestamps_is_rejected() -> None:
    header = sign(BODY) + f",t={NOW}"
    with pytest.raises(InvalidSignatureError):
        verify_signature(header, BODY, [SECRET], NOW, 300)


def test_any_v1_matching_any_secret_passes_during_rotation() -> None:
    old = sign(BODY, OLD_SECRET).split("v1=")[1]
    new = sign(BODY, SECRET).split("v1=")[1]
    header = f"t={NOW},v1={old},v1={new},v0=6ffbb59b2300aae63f272406069a9788"
    # Only the second v1 matches a configured secret (ours is the new one).
    verify_signature(header, BODY, [SECRET], NOW, 300)
    verify_signature(header, BODY, ["whsec_test_unrelated", SECRET], NOW, 300)
    with pytest.raises(InvalidSignatureError):
        verify_signature(header, BODY, ["whsec_test_unrelated"], NOW, 300)


def test_signature_verification_never_passes_without_a_secret() -> None:
    with pytest.raises(InvalidSignatureError):
        verify_signature(sign(BODY, ""), BODY, [], NOW, 300)
    with pytest.raises(InvalidSignatureError):
        verify_signature(sign(BODY, ""), BODY, [""], NOW, 300)


def test_gateway_refuses_empty_or_missing_webhook_secrets() -> None:
    client = stripe.StripeClient("sk_test_fake_offline_never_called")
    for secrets in ([], [""], ["  "], [SECRET, ""]):
        with pytest.raises(ConfigurationError):
            StripeGateway(client, secrets)
    with pytest.raises(ConfigurationError):
        StripeGateway(client, SECRET)  # a bare string would be read as one secret per character
    with pytest.raises(ConfigurationError):
        StripeGateway(client, [SECRET], tolerance=0)


def test_verify_notification_checks_the_lowercase_stripe_signature_header() -> None:
    notification = gateway().verify_notification({"stripe-signature": sign(BODY)}, BODY)
    assert notification.event_id == "evt_1QxYZaLkdIwHu7ix"
    with pytest.raises(InvalidSignatureError):
        gateway().verify_notification({}, BODY)
    with pytest.raises(InvalidSignatureError):
        gateway().verify_notification({"stripe-signature": sign(BODY, OLD_SECRET)}, BODY)


def test_verify_notification_accepts_the_old_secret_while_rotating() -> None:
    rotating = gateway(SECRET, OLD_SECRET)
    assert rotating.verify_notification({"stripe-signature": sign(BODY, OLD_SECRET)}, BODY)


def test_parse_stored_notification_skips_verification_of_stored_messages() -> None:
    assert gateway().parse_stored_notification({}, BODY).payment is not None


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'"evt"', b"{}", b'{"id": "evt_1"}', b'{"type": "x"}', b"null"],
)
def test_signed_but_malformed_stripe_body_is_malformed(body: bytes) -> None:
    # Signed by stripe-python itself, so only the body, not the signature, can be at fault.
    header = sign(body)
    with pytest.raises(MalformedNotificationError):
        gateway().verify_notification({"stripe-signature": header}, body)


def test_signed_body_that_is_not_utf8_is_malformed() -> None:
    # generate_signature_header takes a str, and no str encodes to these bytes: sign by hand,
    # with the scheme the other tests check against stripe-python.
    body = b"\xff\xfe"
    digest = hmac.new(SECRET.encode(), b"%d." % NOW + body, hashlib.sha256).hexdigest()
    with pytest.raises(MalformedNotificationError):
        gateway().verify_notification({"stripe-signature": f"t={NOW},v1={digest}"}, body)


def test_sign_payload_is_stripes_header_with_one_v1_per_secret() -> None:
    assert sign_payload(BODY, [SECRET], NOW) == sign(BODY)
    rotating = sign_payload(BODY, [OLD_SECRET, SECRET], NOW)
    assert rotating == sign(BODY, OLD_SECRET) + "," + sign(BODY).split(",")[1]
    verify_signature(rotating, BODY, [SECRET], float(NOW), 300)
    verify_signature(rotating, BODY, [OLD_SECRET], float(NOW), 300)
    with pytest.raises(ConfigurationError):
        sign_payload(BODY, [], NOW)
