"""Stripe sandbox actions at the HTTP layer (responses): the calls made, the event delivered."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
import responses
import stripe

from payments.adapters.gateways.stripe import StripeGateway, make_stripe_client
from payments.domain.errors import (
    GatewayConfigurationError,
    GatewayUnavailableError,
    InvalidTransitionError,
    NotFoundError,
)
from payments.domain.purchase import PaymentOutcome
from payments.sandbox.stripe_actions import StripeSandboxActions, event_type_for

API = "https://api.stripe.com"
INTENT_ID = "pi_3QxYZaLkdIwHu7ix0SANDBOX"
SECRETS = ("whsec_test_old_fake", "whsec_test_new_fake")


def intent(status: str, **overrides: Any) -> dict[str, Any]:
    return {
        "id": INTENT_ID,
        "object": "payment_intent",
        "amount": 7999,
        "currency": "eur",
        "last_payment_error": None,
        "metadata": {"purchase_reference": "PUR-1"},
        "status": status,
        **overrides,
    }


class Endpoint:
    """Our webhook endpoint as the actions see it: records what it is given."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str], bytes]] = []

    def __call__(self, path: str, headers: dict[str, str], body: bytes) -> int:
        self.received.append((path, headers, body))
        return 200


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def endpoint() -> Endpoint:
    return Endpoint()


@pytest.fixture
def actions(endpoint: Endpoint) -> StripeSandboxActions:
    client = make_stripe_client("sk_test_fake_sandbox_key", max_network_retries=0)
    return StripeSandboxActions(client, SECRETS, endpoint, clock=lambda: 1_790_000_000.0)


def form(call: Any) -> dict[str, str]:
    body = call.request.body
    return dict(parse_qsl(body.decode() if isinstance(body, bytes) else str(body or "")))


def test_approve_attaches_a_good_card_confirms_and_delivers_a_signed_event(
    http: responses.RequestsMock, actions: StripeSandboxActions, endpoint: Endpoint
) -> None:
    http.post(f"{API}/v1/payment_intents/{INTENT_ID}", json=intent("requires_confirmation"))
    http.post(f"{API}/v1/payment_intents/{INTENT_ID}/confirm", json=intent("succeeded"))

    summary = actions.approve(INTENT_ID)

    assert [call.request.url for call in http.calls] == [
        f"{API}/v1/payment_intents/{INTENT_ID}",
        f"{API}/v1/payment_intents/{INTENT_ID}/confirm",
    ]
    assert form(http.calls[0]) == {"payment_method": "pm_card_visa"}
    assert summary["type"] == "payment_intent.succeeded"
    assert summary["delivered_status"] == 200
    [(path, headers, body)] = endpoint.received
    assert path == "/v1/webhooks/stripe"
    event = json.loads(body)
    assert (event["id"], event["object"]) == (summary["event_id"], "event")
    assert event["data"]["object"] == intent("succeeded")
    # One v1 per rotating secret, so each verifies, as with Stripe while a secret is rolled.
    for secret in SECRETS:
        gateway = StripeGateway(
            stripe.StripeClient("sk_test_unused"), [secret], clock=lambda: 1_790_000_000.0
        )
        notification = gateway.verify_notification(
            {"stripe-signature": headers["Stripe-Signature"]}, body
        )
        assert notification.payment is not None
        assert notification.payment.outcome is PaymentOutcome.SUCCEEDED
        assert notification.payment.reference == "PUR-1"


def test_decline_reads_the_intent_the_declined_charge_left(
    http: responses.RequestsMock, actions: StripeSandboxActions, endpoint: Endpoint
) -> None:
    failed = intent("requires_payment_method", last_payment_error={"code": "card_declined"})
    http.post(f"{API}/v1/payment_intents/{INTENT_ID}", json=intent("requires_confirmation"))
    http.post(
        f"{API}/v1/payment_intents/{INTENT_ID}/confirm",
        status=402,
        json={"error": {"type": "card_error", "code": "card_declined", "message": "declined"}},
    )
    http.get(f"{API}/v1/payment_intents/{INTENT_ID}", json=failed)

    summary = actions.decline(INTENT_ID)

    assert form(http.calls[0]) == {"payment_method": "pm_card_chargeCustomerFail"}
    assert summary["type"] == "payment_intent.payment_failed"
    assert json.loads(endpoint.received[0][2])["data"]["object"] == failed


def test_expire_cancels_the_intent(
    http: responses.RequestsMock, actions: StripeSandboxActions
) -> None:
    http.post(f"{API}/v1/payment_intents/{INTENT_ID}/cancel", json=intent("canceled"))
    assert actions.expire(INTENT_ID)["type"] == "payment_intent.canceled"


def test_unknown_intent_is_not_found_and_nothing_is_delivered(
    http: responses.RequestsMock, actions: StripeSandboxActions, endpoint: Endpoint
) -> None:
    http.post(
        f"{API}/v1/payment_intents/{INTENT_ID}/cancel",
        status=404,
        json={"error": {"type": "invalid_request_error", "message": "Not Found"}},
    )
    with pytest.raises(NotFoundError):
        actions.expire(INTENT_ID)
    assert endpoint.received == []


def test_a_refusal_in_the_intents_state_is_an_invalid_transition(
    http: responses.RequestsMock, actions: StripeSandboxActions, endpoint: Endpoint
) -> None:
    http.post(
        f"{API}/v1/payment_intents/{INTENT_ID}",
        status=400,
        json={"error": {"type": "invalid_request_error", "message": "Bad request"}},
    )
    with pytest.raises(InvalidTransitionError):
        actions.approve(INTENT_ID)
    assert endpoint.received == []


def test_a_refused_key_is_a_configuration_error(
    http: responses.RequestsMock, actions: StripeSandboxActions
) -> None:
    http.post(
        f"{API}/v1/payment_intents/{INTENT_ID}/cancel",
        status=401,
        json={"error": {"type": "invalid_request_error", "message": "Invalid API Key"}},
    )
    with pytest.raises(GatewayConfigurationError):
        actions.expire(INTENT_ID)


@pytest.mark.parametrize("body", ["[]", "null", '"str"', "{}"])
def test_a_malformed_answer_is_never_delivered(
    http: responses.RequestsMock, actions: StripeSandboxActions, endpoint: Endpoint, body: str
) -> None:
    http.post(
        f"{API}/v1/payment_intents/{INTENT_ID}/cancel", body=body, content_type="application/json"
    )
    with pytest.raises(GatewayUnavailableError):
        actions.expire(INTENT_ID)
    assert endpoint.received == []


@pytest.mark.parametrize(
    ("status", "error", "expected"),
    [
        ("succeeded", None, "payment_intent.succeeded"),
        ("canceled", None, "payment_intent.canceled"),
        ("processing", None, "payment_intent.processing"),
        ("requires_action", None, "payment_intent.requires_action"),
        ("requires_payment_method", {"code": "card_declined"}, "payment_intent.payment_failed"),
        ("requires_payment_method", None, None),
        ("requires_confirmation", None, None),
        ("requires_capture", None, None),
    ],
)
def test_event_type_follows_the_intent_status(
    status: str, error: dict[str, str] | None, expected: str | None
) -> None:
    assert event_type_for(intent(status, last_payment_error=error)) == expected
