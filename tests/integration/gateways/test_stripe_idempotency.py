"""StripeGateway at the HTTP layer (responses): idempotency keys, SDK retries, error translation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

import pytest
import requests
import responses
import stripe

from payments.adapters.gateways.stripe import StripeGateway, make_stripe_client
from payments.adapters.gateways.stripe.client import AttemptRecordingHttpClient
from payments.domain.errors import (
    GatewayConfigurationError,
    GatewayUnavailableError,
    IdempotencyConflictError,
    PaymentDeclinedError,
    RefundExceedsCapturedError,
)
from payments.domain.gateway import Payer, PaymentRequest, RefundRequest
from payments.domain.money import Money
from payments.domain.purchase import PaymentOutcome

API = "https://api.stripe.com"
INTENTS = API + "/v1/payment_intents"
INTENT_ID = "pi_3QxYZaLkdIwHu7ix0ABCDEFG"
KEY = "pur_01JABC:start:1"

REQUEST = PaymentRequest(
    purchase_id="pur_01JABC",
    reference="PUR-2026-000042",
    amount=Money("19.99", "EUR"),
    description="8 Hour Premium Package",
    payer=Payer("cus_1", "ana@example.com", "Ana"),
    country="ES",
    payment_method="card",
    idempotency_key=KEY,
)


def intent(status: str = "requires_payment_method") -> dict[str, Any]:
    return {
        "id": INTENT_ID,
        "object": "payment_intent",
        "amount": 1999,
        "currency": "eur",
        "client_secret": f"{INTENT_ID}_secret_fake",
        "created": 1_790_000_000,
        "last_payment_error": None,
        "livemode": False,
        "metadata": {"purchase_reference": "PUR-2026-000042", "purchase_id": "pur_01JABC"},
        "payment_method_types": ["card"],
        "status": status,
    }


def stripe_error(kind: str, message: str, **fields: Any) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message, **fields}}


@pytest.fixture
def http(monkeypatch: pytest.MonkeyPatch) -> Iterator[responses.RequestsMock]:
    # Keep the SDK's retries, drop only its back-off sleep (0.5 s and more) to keep tests fast.
    monkeypatch.setattr(AttemptRecordingHttpClient, "_sleep_time_seconds", lambda _self, _n: 0.0)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def gateway() -> StripeGateway:
    client = make_stripe_client("sk_test_fake_responses_key", max_network_retries=2)
    return StripeGateway(client, ["whsec_test_fake"])


def keys(http: responses.RequestsMock) -> list[str | None]:
    return [call.request.headers.get("Idempotency-Key") for call in http.calls]


def form(call: Any) -> dict[str, str]:
    body = call.request.body
    text = body.decode() if isinstance(body, bytes) else str(body)
    return dict(parse_qsl(text))


# -- idempotency keys ------------------------------------------------------------------------------


def test_idempotency_key_is_ours_on_every_post(
    http: responses.RequestsMock, gateway: StripeGateway
) -> None:
    http.post(INTENTS, json=intent())
    http.get(f"{INTENTS}/{INTENT_ID}", json=intent())
    http.post(f"{INTENTS}/{INTENT_ID}/cancel", json=intent("canceled"))
    http.post(
        API + "/v1/refunds",
        json={"id": "re_1", "object": "refund", "amount": 500, "status": "succeeded"},
    )
    gateway.start_payment(REQUEST)
    gateway.lookup(REQUEST.reference, INTENT_ID)
    gateway.cancel(INTENT_ID, "pur_01JABC:cancel")
    gateway.refund(
        RefundRequest(
            refund_id="rfd_1",
            purchase_reference=REQUEST.reference,
            gateway_reference=INTENT_ID,
            amount=Money("5.00", "EUR"),
            full=False,
            reason="duplicate",
            idempotency_key="rfd_1:refund",
        )
    )
    assert keys(http) == [KEY, None, "pur_01JABC:cancel", "rfd_1:refund"]
    assert form(http.calls[3]) == {
        "payment_intent": INTENT_ID,
        "metadata[refund_id]": "rfd_1",
        "metadata[purchase_reference]": REQUEST.reference,
        "metadata[reason]": "duplicate",
        "amount": "500",
        "reason": "duplicate",
    }


def test_payment_intent_is_created_with_stripes_wire_parameters(
    http: responses.RequestsMock, gateway: StripeGateway
) -> None:
    http.post(INTENTS, json=intent())
    gateway.start_payment(REQUEST)
    assert form(http.calls[0]) == {
        "amount": "1999",
        "currency": "eur",
        "allowed_payment_method_types[0]": "card",
        "metadata[purchase_reference]": "PUR-2026-000042",
        "metadata[purchase_id]": "pur_01JABC",
    }
    assert http.calls[0].request.headers["Authorization"] == "Bearer sk_test_fake_responses_key"


def test_sdk_retry_after_503_reuses_the_same_idempotency_key(
    http: responses.RequestsMock, gateway: StripeGateway
) -> None:
    http.post(INTENTS, status=503, json=stripe_error("api_error", "try again"))
    http.post(INTENTS, json=intent())
    gateway.start_payment(REQUEST)
    assert keys(http) == [KEY, KEY]
    assert http.calls[0].request.body == http.calls[1].request.body


def test_503_then_200_creates_one_intent(
    http: responses.RequestsMock, gateway: StripeGateway
) -> None:
    http.post(INTENTS, status=503, json=stripe_error("api_error", "try again"))
    http.post(INTENTS, json=intent())
    start = gateway.start_payment(REQUEST)
    assert start.gateway_reference == INTENT_ID
    assert start.observation is not None
    assert start.observation.outcome is PaymentOutcome.PROCESSING
    assert len(http.calls) == 2


def test_retry_after_a_dropped_connection_reuses_the_key(
    http: responses.RequestsMock, gateway: StripeGateway
) -> None:
    http.post(INTENTS, body=requests.exceptions.ConnectionError("connection reset"))
    http.post(INTENTS, json=intent())
    assert gateway.start_payment(REQUEST).gateway_reference == INTENT_ID
    assert keys(http) == [KEY, KEY]


def test_stripe_can_forbid_a_retry(http: responses.RequestsMock, gateway: StripeGateway) -> None:
    http.post(
        INTENTS,
        status=500,
        json=stripe_error("api_error", "no"),
        headers={"Stripe-Should-Retry": "false"},
    )
    with pytest.raises(GatewayUnavailableError) as caught:
        gateway.start_payment(REQUEST)
    assert caught.value.charged_possible
    assert len(http.calls) == 1


# -- error translation -----------------------------------------------------------------------------


def test_server_errors_exhaust_the_retries_and_may_have_charged(
    http: responses.RequestsMock, gateway: StripeGateway
) -> None:
    http.post(INTENTS, status=503, json=stripe_error("api_error", "down"))
    with pytest.raises(GatewayUnavailableError) as caught:
        gateway.start_payment(REQUEST)
    assert caught.value.charged_possible
    assert keys(http) == [KEY, KEY, KEY]
    assert isinstance(caught.value.__cause__, stripe.APIError)


def test_authentication_error_becomes_gateway_configuration_error(
    http: responses.RequestsMock, gateway: StripeGateway
) -> None:
    http.post(INTENTS, status=401, json=stripe_error("invalid_request_error", "Invalid API Key"))
    with pytest.raises(GatewayConfigurationError) as caught:
        gateway.start_payment(REQUEST)
    assert "Invalid API Key" not in caught.value.message
    assert len(http.calls) == 1


def test_permission_error_becomes_gateway_configuration_error(
    http: responses.RequestsMock, gateway: StripeGateway
) -> None:
    http.post(INTENTS, status=403, json=stripe_error("invalid_request_error", "restricted key"))
    with pytest.raises(GatewayConfigurationError):
        gateway.start_payment(REQUEST)


def test_card_error_becomes_payment_declined(
    http: responses.RequestsMock, gateway: StripeGateway
) -> None:
    http.post(
        INTENTS,
        status=402,
        json=stripe_error(
            "card_error",
            "Your card was declined.",
            code="card_declined",
            decline_code="generic_decline",
            payment_intent=intent(),
        ),
    )
    with pytest.raises(PaymentDeclinedError) as caught:
        gateway.start_payment(REQUEST)
    assert caught.value.provider_code == "card_declined"
    assert caught.value.details["decline_code"] == "generic_decline"
    assert isinstance(caught.value.__cause__, stripe.CardError)


def test_connection_error_becomes_gateway_unavailable(
    http: responses.RequestsMock, gateway: StripeGateway
) -> None:
    http.post(INTENTS, body=requests.exceptions.ConnectionError("connection reset by peer"))
    with pytest.raises(GatewayUnavailableError) as caught:
        gateway.start_payment(REQUEST)
    assert caught.value.charged_possible  # the request may have reached Stripe
    assert keys(http) == [KEY, KEY, KEY]
    assert isinstance(caught.value.__cause__, stripe.APIConnectionError)


def test_connection_never_made_cannot_have_charged(
    http: responses.RequestsMock, gateway: StripeGateway
) -> None:
    http.post(INTENTS, body=requests.exceptions.ConnectTimeout("connect timed out"))
    with pytest.raises(GatewayUnavailableError) as caught:
        gateway.start_payment(REQUEST)
    assert not caught.value.charged_possible
    assert len(http.calls) == 3


def test_connection_failure_after_a_503_may_have_charged(
    http: responses.RequestsMock, gateway: StripeGateway
) -> None:
    http.post(INTENTS, status=503, json=stripe_error("api_error", "down"))
    http.post(INTENTS, body=requests.exceptions.ConnectTimeout("connect timed out"))
    with pytest.raises(GatewayUnavailableError) as caught:
        gateway.start_payment(REQUEST)
    assert caught.value.charged_possible


def test_a_client_that_does_not_record_attempts_assumes_the_worst(
    http: responses.RequestsMock,
) -> None:
    plain = StripeGateway(stripe.StripeClient("sk_test_fake_plain_client"), ["whsec_test_fake"])
    http.post(INTENTS, body=requests.exceptions.ConnectTimeout("connect timed out"))
    with pytest.raises(GatewayUnavailableError) as caught:
        plain.start_payment(REQUEST)
    assert caught.value.charged_possible


def test_rate_limit_is_unavailable_and_did_not_charge(
    http: responses.RequestsMock, gateway: StripeGateway
) -> None:
    http.post(INTENTS, status=429, json=stripe_error("invalid_request_error", "Too many requests"))
    with pytest.raises(GatewayUnavailableError) as caught:
        gateway.start_payment(REQUEST)
    assert not caught.value.charged_possible
    assert len(http.calls) == 1


def test_conflict_is_retried_then_unavailable(
    http: responses.RequestsMock, gateway: StripeGateway
) -> None:
    http.post(
        INTENTS,
        status=409,
        json=stripe_error("invalid_request_error", "in flight", code="idempotency_key_in_use"),
    )
    with pytest.raises(GatewayUnavailableError) as caught:
        gateway.start_payment(REQUEST)
    assert caught.value.charged_possible
    assert keys(http) == [KEY, KEY, KEY]


def test_key_reused_with_other_parameters_is_an_idempotency_conflict(
    http: responses.RequestsMock, gateway: StripeGateway
) -> None:
    http.post(
        INTENTS,
        status=400,
        json=stripe_error(
            "idempotency_error",
            "Keys for idempotent requests can only be used with the same parameters they were "
            f"first used with. Try using a key other than '{KEY}' if you meant to execute a "
            "different request.",
        ),
    )
    with pytest.raises(IdempotencyConflictError):
        gateway.start_payment(REQUEST)


def test_over_refund_is_refund_exceeds_captured(
    http: responses.RequestsMock, gateway: StripeGateway
) -> None:
    http.post(
        API + "/v1/refunds",
        status=400,
        json=stripe_error(
            "invalid_request_error",
            "Refund amount (€25.00) is greater than unrefunded amount on charge (€19.99)",
            code="amount_too_large",
            param="amount",
        ),
    )
    with pytest.raises(RefundExceedsCapturedError):
        gateway.refund(
            RefundRequest(
                refund_id="rfd_1",
                purchase_reference=REQUEST.reference,
                gateway_reference=INTENT_ID,
                amount=Money("25.00", "EUR"),
                full=False,
                reason=None,
                idempotency_key="rfd_1:refund",
            )
        )


def test_lookup_of_an_unknown_intent_is_none(
    http: responses.RequestsMock, gateway: StripeGateway
) -> None:
    http.get(
        f"{INTENTS}/pi_unknown",
        status=404,
        json=stripe_error(
            "invalid_request_error",
            "No such payment_intent: 'pi_unknown'",
            code="resource_missing",
            param="intent",
        ),
    )
    assert gateway.lookup(REQUEST.reference, "pi_unknown") is None


def test_no_stripe_exception_crosses_the_port(
    http: responses.RequestsMock, gateway: StripeGateway
) -> None:
    http.post(INTENTS, body=json.dumps({"error": "not an object"}), status=500)
    http.get(f"{INTENTS}/{INTENT_ID}", status=400, body="<html>bad gateway</html>")
    with pytest.raises(GatewayUnavailableError):
        gateway.start_payment(REQUEST)
    with pytest.raises(GatewayUnavailableError):  # a proxy's page, not Stripe's answer
        gateway.lookup(REQUEST.reference, INTENT_ID)


# -- cancel and refund retries keep the key ------------------------------------------------------


class FlakyStripe:
    """Stripe at the HTTP layer: the first POST of each path answers 503 before doing any work,
    later ones act once per ``Idempotency-Key`` and replay that answer for a repeated key."""

    def __init__(self) -> None:
        self.failed_paths: set[str] = set()
        self.answers: dict[str, dict[str, Any]] = {}
        self.cancels: list[str] = []
        self.refunds: list[dict[str, str]] = []

    def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
        path = request.path_url
        if path not in self.failed_paths:
            self.failed_paths.add(path)
            return 503, {}, json.dumps(stripe_error("api_error", "try again"))
        key = request.headers.get("Idempotency-Key")
        if key in self.answers:
            return 200, {"Idempotent-Replayed": "true"}, json.dumps(self.answers[key])
        if path.endswith("/cancel"):
            self.cancels.append(path)
            answer = intent("canceled")
        else:
            body = request.body.decode() if isinstance(request.body, bytes) else request.body
            self.refunds.append(dict(parse_qsl(body)))
            answer = {
                "id": f"re_{len(self.refunds)}",
                "object": "refund",
                "amount": 500,
                "currency": "eur",
                "payment_intent": INTENT_ID,
                "status": "succeeded",
            }
        self.answers[key] = answer
        return 200, {}, json.dumps(answer)


def test_sdk_retry_of_cancel_after_503_reuses_the_key_and_cancels_once(
    http: responses.RequestsMock, gateway: StripeGateway
) -> None:
    provider = FlakyStripe()
    http.add_callback(responses.POST, f"{INTENTS}/{INTENT_ID}/cancel", callback=provider)

    observation = gateway.cancel(INTENT_ID, "pur_01JABC:cancel")

    assert observation.outcome is PaymentOutcome.CANCELLED
    assert keys(http) == ["pur_01JABC:cancel", "pur_01JABC:cancel"]
    assert provider.cancels == [f"/v1/payment_intents/{INTENT_ID}/cancel"]


def test_sdk_retry_of_refund_after_503_reuses_the_key_and_refunds_once(
    http: responses.RequestsMock, gateway: StripeGateway
) -> None:
    provider = FlakyStripe()
    http.add_callback(responses.POST, API + "/v1/refunds", callback=provider)
    request = RefundRequest(
        refund_id="rfd_1",
        purchase_reference=REQUEST.reference,
        gateway_reference=INTENT_ID,
        amount=Money("5.00", "EUR"),
        full=False,
        reason=None,
        idempotency_key="rfd_1:refund",
    )

    result = gateway.refund(request)

    assert result.gateway_refund_reference == "re_1"
    assert keys(http) == ["rfd_1:refund", "rfd_1:refund"]
    assert http.calls[0].request.body == http.calls[1].request.body
    assert len(provider.refunds) == 1
    assert provider.refunds[0]["amount"] == "500"

    again = gateway.refund(request)  # our own retry, later: Stripe replays, refunds nothing more
    assert again.gateway_refund_reference == "re_1"
    assert len(provider.refunds) == 1
