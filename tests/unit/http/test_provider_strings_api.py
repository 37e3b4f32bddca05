"""A provider's strings over the webhook: a long decline code is cut, a long event id refused."""

from __future__ import annotations

import pytest

from payments.domain.purchase import PaymentOutcome
from payments.domain.text import MAX_CODE_LENGTH, provider_code
from tests.unit.http.conftest import Api


def test_a_decline_code_longer_than_we_keep_fails_the_purchase_cut(api: Api) -> None:
    purchase_id = api.buy(api.create_premium()["id"])
    reference = api.gateway_reference(purchase_id)
    code = "card_declined_" + "x" * 5000 + "\x00"
    headers, body = api.gateway.notification(reference, PaymentOutcome.FAILED, code=code)

    answer = api.post("/v1/webhooks/fake", raw=body, headers=headers, role=None)

    assert answer.status_code == 200, answer.text
    assert answer.json["status"] == "processed"
    purchase = api.get(f"/v1/purchases/{purchase_id}").json
    assert purchase["status"] == "failed"
    assert purchase["failure_code"] == provider_code(code)
    assert len(purchase["failure_code"]) == MAX_CODE_LENGTH


@pytest.mark.parametrize("event_id", ["evt_" + "9" * 300, "evt_\x00"])
def test_a_signed_event_with_an_id_we_cannot_store_is_400_and_stores_nothing(
    api: Api, event_id: str
) -> None:
    purchase_id = api.buy(api.create_premium()["id"])
    reference = api.gateway_reference(purchase_id)
    before = api.snapshot()
    headers, body = api.gateway.notification(reference, PaymentOutcome.SUCCEEDED, event_id=event_id)

    answer = api.post("/v1/webhooks/fake", raw=body, headers=headers, role=None)

    assert answer.status_code == 400, answer.text
    assert answer.json["code"] == "malformed_notification"
    assert api.snapshot() == before
