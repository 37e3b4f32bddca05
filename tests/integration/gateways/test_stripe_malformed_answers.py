"""A 200 from Stripe whose body is not an object never crosses the port as a raw error or None."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses

from payments.adapters.gateways.stripe import StripeGateway, make_stripe_client
from payments.domain.errors import GatewayUnavailableError
from payments.domain.gateway import Payer, PaymentRequest, RefundRequest
from payments.domain.money import Money

API = "https://api.stripe.com"
INTENT_ID = "pi_3QxYZaLkdIwHu7ix0ABCDEFG"

# JSON that is valid but not a Stripe object: the SDK hands these back as list, str, int, None.
MALFORMED = ["[]", '"str"', "123", "null", "{}", '[{"id": "pi_1"}]', '{"id": 42}']

REQUEST = PaymentRequest(
    purchase_id="pur_01JABC",
    reference="PUR-2026-000042",
    amount=Money("19.99", "EUR"),
    description="8 Hour Premium Package",
    payer=Payer("cus_1", "ana@example.com", "Ana"),
    country="ES",
    payment_method="card",
    idempotency_key="pur_01JABC:start:0",
)
REFUND = RefundRequest(
    refund_id="rfd_1",
    purchase_reference=REQUEST.reference,
    gateway_reference=INTENT_ID,
    amount=Money("5.00", "EUR"),
    full=False,
    reason=None,
    idempotency_key="rfd_1:refund",
)


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def gateway() -> StripeGateway:
    client = make_stripe_client("sk_test_fake_responses_key", max_network_retries=0)
    return StripeGateway(client, ["whsec_test_fake"])


@pytest.mark.parametrize("body", MALFORMED)
def test_malformed_answer_to_start_payment_may_have_charged(
    http: responses.RequestsMock, gateway: StripeGateway, body: str
) -> None:
    http.post(API + "/v1/payment_intents", body=body, content_type="application/json")
    with pytest.raises(GatewayUnavailableError) as caught:
        gateway.start_payment(REQUEST)
    assert caught.value.charged_possible
    assert len(http.calls) == 1


@pytest.mark.parametrize("body", MALFORMED)
def test_malformed_answer_to_lookup_is_unavailable_never_none(
    http: responses.RequestsMock, gateway: StripeGateway, body: str
) -> None:
    # None would mean "Stripe never saw it", which would let reconciliation expire a purchase.
    http.get(f"{API}/v1/payment_intents/{INTENT_ID}", body=body, content_type="application/json")
    with pytest.raises(GatewayUnavailableError):
        gateway.lookup(REQUEST.reference, INTENT_ID)


@pytest.mark.parametrize("body", MALFORMED)
def test_malformed_answer_to_refund_may_have_refunded(
    http: responses.RequestsMock, gateway: StripeGateway, body: str
) -> None:
    http.post(API + "/v1/refunds", body=body, content_type="application/json")
    with pytest.raises(GatewayUnavailableError) as caught:
        gateway.refund(REFUND)
    assert caught.value.charged_possible


@pytest.mark.parametrize("body", MALFORMED)
def test_malformed_answer_to_cancel_is_unavailable(
    http: responses.RequestsMock, gateway: StripeGateway, body: str
) -> None:
    http.post(
        f"{API}/v1/payment_intents/{INTENT_ID}/cancel", body=body, content_type="application/json"
    )
    with pytest.raises(GatewayUnavailableError):
        gateway.cancel(INTENT_ID, "pur_01JABC:cancel")
