"""Which failures free an Idempotency-Key (only those proving nothing happened) and what a retry
of an "outcome unknown" checkout answers, for every kind of caller."""

from __future__ import annotations

from datetime import timedelta

import falcon.testing
import pytest

from payments.domain.gateway import PaymentRequest, PaymentStart
from tests.unit.http.conftest import Api, assert_problem, build_api


def _checkout(
    api: Api, body: dict[str, object], key: str, role: str = "merchant"
) -> falcon.testing.Result:
    return api.post("/v1/purchases", body, role=role, headers={"Idempotency-Key": key})


def _starts(api: Api) -> list[tuple[str, str]]:
    return [call for call in api.gateway.calls if call[0] == "start_payment"]


def test_a_500_after_the_provider_took_the_payment_is_replayed_and_never_buys_again(
    api: Api,
) -> None:
    body = {"product_id": api.create_premium()["id"], "customer_id": "cus_ana", "country": "PT"}
    real = api.gateway.start_payment

    def start_then_lose_the_database(request: PaymentRequest) -> PaymentStart:
        api.gateway.start_payment = real  # type: ignore[method-assign]
        started = real(request)
        api.store.fail_next_commit()
        return started

    api.gateway.start_payment = start_then_lose_the_database  # type: ignore[method-assign]

    first = _checkout(api, body, "buy-once")
    retried = _checkout(api, body, "buy-once")

    assert_problem(first, 500, "internal_error")
    assert_problem(retried, 500, "internal_error")
    assert retried.headers["idempotent-replayed"] == "true"
    assert len(_starts(api)) == 1
    assert len(api.store.tables.purchases) == 1
    assert len(api.gateway.payments) == 1


def test_a_rate_limited_checkout_frees_its_key_for_a_later_retry(api: Api) -> None:
    product_id = api.create_premium()["id"]
    body = {"product_id": product_id, "customer": {"email": "guest@example.com"}, "country": "PT"}
    for n in range(5):  # the e-mail's hourly allowance
        assert _checkout(api, body, f"earlier-{n}", role="public").status_code == 201

    limited = _checkout(api, body, "later", role="public")
    api.clock.advance(hours=1, seconds=1)
    retried = _checkout(api, body, "later", role="public")

    assert_problem(limited, 429, "rate_limited")
    assert retried.status_code == 201, retried.text
    assert "idempotent-replayed" not in retried.headers


@pytest.mark.parametrize(
    ("role", "buyer"),
    [
        ("merchant", {"customer_id": "cus_ana"}),
        ("ana", {}),
        ("public", {"customer": {"email": "guest@example.com"}}),
    ],
    ids=["merchant", "customer", "guest"],
)
def test_retry_after_a_503_answers_the_settled_purchase_to_every_caller(
    role: str, buyer: dict[str, object]
) -> None:
    api = build_api()
    body = {"product_id": api.create_premium()["id"], "country": "PT", **buyer}
    api.gateway.fail_next(charged=True)
    first = _checkout(api, body, "checkout-1", role=role)
    still_unknown = _checkout(api, body, "checkout-1", role=role)
    api.clock.advance(minutes=20)
    assert api.services is not None
    api.services.purchases.reconcile(expire_after=timedelta(hours=24))

    retried = _checkout(api, body, "checkout-1", role=role)

    purchase_id = assert_problem(first, 503, "gateway_unavailable")["purchase_id"]
    assert_problem(still_unknown, 503, "gateway_unavailable")  # its own request_id
    assert still_unknown.headers["idempotent-replayed"] == "true"
    assert retried.status_code == 201, retried.text
    assert retried.headers["idempotent-replayed"] == "true"
    assert retried.json["id"] == purchase_id
    assert retried.json["status"] == "completed"
    assert len(api.gateway.payments) == 1


def test_a_stored_answer_naming_a_purchase_shows_it_only_to_the_same_caller_scope() -> None:
    api = build_api()
    body = {"product_id": api.create_premium()["id"], "country": "PT"}
    guest = {**body, "customer": {"email": "guest@example.com"}}
    api.gateway.fail_next(charged=True)
    _checkout(api, guest, "checkout-1", role="public")
    api.clock.advance(minutes=20)
    assert api.services is not None
    api.services.purchases.reconcile(expire_after=timedelta(hours=24))

    other_caller = _checkout(api, {**body, "customer_id": "cus_bob"}, "checkout-1", role="bob")

    assert other_caller.status_code == 201, other_caller.text
    assert "idempotent-replayed" not in other_caller.headers  # another scope: its own purchase
    assert other_caller.json["customer_id"] == "cus_bob"
