"""The headers a webhook's inbox message keeps: every one the provider sent, never a credential."""

from __future__ import annotations

import falcon
import falcon.testing

from payments.domain.purchase import PaymentOutcome
from payments.entrypoints.http.resources.webhooks import kept_headers
from tests.unit.http.conftest import Api

_SENT = {
    "Stripe-Signature": "t=1,v1=abc",
    "Content-Type": "application/json; charset=utf-8",
    "User-Agent": "Stripe/1.0",
    "Authorization": "Bearer pay_live_secret_secret_secret",
    "Cookie": "session=1",
    "Proxy-Authorization": "Basic eA==",
    "X-Custom_Header": "underscore",
}


def test_kept_headers_are_falcons_headers_in_lower_case_without_credentials() -> None:
    env = falcon.testing.create_environ(
        path="/v1/webhooks/stripe", method="POST", headers=_SENT, body=b"{}"
    )
    from_falcon = {
        name.lower(): value
        for name, value in falcon.Request(env).headers.items()
        if name.lower() not in {"authorization", "cookie", "proxy-authorization"}
    }

    kept = kept_headers(env)

    assert kept == from_falcon
    assert list(kept) == list(from_falcon)
    assert kept["stripe-signature"] == "t=1,v1=abc"
    assert kept["content-length"] == "2"
    assert not {"authorization", "cookie", "proxy-authorization"} & set(kept)


def test_a_stored_webhook_keeps_the_providers_headers_and_drops_a_bearer_key(api: Api) -> None:
    purchase_id = api.buy(api.create_premium()["id"])
    headers, body = api.gateway.notification(
        api.gateway_reference(purchase_id), PaymentOutcome.SUCCEEDED
    )

    answer = api.post(
        "/v1/webhooks/fake",
        raw=body,
        headers={**headers, "Authorization": "Bearer pay_test_not_ours_at_all", "Cookie": "a=b"},
        role=None,
    )

    assert answer.json == {"status": "processed"}
    (stored,) = api.store.tables.inbox.values()
    assert {name: stored.headers[name] for name in (h.lower() for h in headers)} == {
        name.lower(): value for name, value in headers.items()
    }
    assert "authorization" not in stored.headers
    assert "cookie" not in stored.headers
