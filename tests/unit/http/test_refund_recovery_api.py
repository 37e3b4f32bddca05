"""Refunds whose provider answer was lost: the key is never freed, the refund can be read, and
the worker sends it again under the same provider key until the provider's answer is recorded."""

from __future__ import annotations

import threading
from datetime import timedelta

import falcon.testing
import pytest

from payments.domain.errors import GatewayUnavailableError
from payments.domain.gateway import RefundRequest, RefundResult
from payments.domain.money import Money
from payments.domain.services.refunds import RESEND_WINDOW
from tests.unit.http.conftest import Api, assert_problem
from tests.unit.test_idempotency_lease import slowest_stripe_call

TEN_EUR = {"amount": {"amount": "10.00", "currency": "EUR"}}


def _completed(api: Api) -> str:
    purchase_id = api.buy(api.create_premium()["id"])
    api.gateway.approve(api.gateway_reference(purchase_id))
    api.deliver_all()
    return purchase_id


def _refund(api: Api, purchase_id: str, key: str | None = None) -> falcon.testing.Result:
    headers = {"Idempotency-Key": key} if key else {}
    return api.post(f"/v1/purchases/{purchase_id}/refunds", TEN_EUR, headers=headers)


def _provider_refund_calls(api: Api) -> list[tuple[str, str]]:
    return [call for call in api.gateway.calls if call[0] == "refund"]


def _refunds_at_provider(api: Api, purchase_id: str) -> int:
    return len(api.gateway.payments[api.gateway_reference(purchase_id)].refunds)


def _retry_pending(api: Api) -> list[str]:
    assert api.services is not None
    return api.services.refunds.retry_pending().answered


def _lose_the_answer_after_refunding(api: Api) -> None:
    """The provider makes the next refund, then recording its answer fails (the database went
    away between the provider call and our commit)."""
    real = api.gateway.refund

    def refund_then_lose_the_database(request: RefundRequest) -> RefundResult:
        api.gateway.refund = real  # type: ignore[method-assign]
        result = real(request)
        api.store.fail_next_commit()
        return result

    api.gateway.refund = refund_then_lose_the_database  # type: ignore[method-assign]


def test_retry_after_a_500_that_followed_the_provider_refund_never_refunds_twice(
    api: Api,
) -> None:
    purchase_id = _completed(api)
    _lose_the_answer_after_refunding(api)

    first = _refund(api, purchase_id, "refund-once")
    retried = _refund(api, purchase_id, "refund-once")

    assert_problem(first, 500, "internal_error")
    assert_problem(retried, 500, "internal_error")  # stored, replayed: never run again
    assert retried.headers["idempotent-replayed"] == "true"
    assert len(_provider_refund_calls(api)) == 1
    assert _refunds_at_provider(api, purchase_id) == 1
    [refund] = api.get(f"/v1/purchases/{purchase_id}/refunds").json["data"]
    assert refund["status"] == "pending"
    assert refund["gateway_reference"] is None
    assert api.get(f"/v1/purchases/{purchase_id}").json["refunded"] == TEN_EUR["amount"]


def test_worker_records_the_answer_of_a_refund_whose_500_lost_it(api: Api) -> None:
    purchase_id = _completed(api)
    _lose_the_answer_after_refunding(api)
    assert _refund(api, purchase_id, "refund-once").status_code == 500
    [refund] = api.get(f"/v1/purchases/{purchase_id}/refunds").json["data"]
    api.clock.advance(minutes=20)

    answered = _retry_pending(api)

    assert answered == [refund["id"]]
    assert _provider_refund_calls(api) == [("refund", f"{refund['id']}:refund")] * 2
    assert _refunds_at_provider(api, purchase_id) == 1  # the provider replayed its answer
    now = api.get(f"/v1/refunds/{refund['id']}").json
    assert now["status"] == "succeeded"
    assert now["gateway_reference"] == f"fake_re_{refund['id']}:refund"
    assert api.get(f"/v1/purchases/{purchase_id}").json["refunded"] == TEN_EUR["amount"]
    assert api.get("/v1/accounts/cus_ana").json["credits"] == "7.00"


def test_a_refund_that_timed_out_before_reaching_the_provider_is_sent_again_and_settles(
    api: Api,
) -> None:
    purchase_id = _completed(api)
    _time_out_before_sending(api)
    problem = assert_problem(_refund(api, purchase_id, "r1"), 503, "gateway_unavailable")
    api.clock.advance(hours=2)
    still_unknown = _refund(api, purchase_id, "r1")

    answered = _retry_pending(api)
    settled = _refund(api, purchase_id, "r1")

    assert still_unknown.status_code == 503
    assert still_unknown.headers["idempotent-replayed"] == "true"
    assert answered == [problem["refund_id"]]
    assert _refunds_at_provider(api, purchase_id) == 1
    assert settled.status_code == 201, settled.text
    assert settled.headers["idempotent-replayed"] == "true"
    assert settled.headers["location"] == f"/v1/refunds/{problem['refund_id']}"
    assert settled.json == api.get(f"/v1/refunds/{problem['refund_id']}").json
    assert settled.json["status"] == "succeeded"
    assert api.get(f"/v1/purchases/{purchase_id}").json["refunded"] == TEN_EUR["amount"]


def test_retry_of_a_refund_the_provider_did_make_replays_it_under_the_same_key(api: Api) -> None:
    purchase_id = _completed(api)
    api.gateway.fail_next(charged=True)  # made at the provider, the answer lost
    refund_id = assert_problem(_refund(api, purchase_id), 503, "gateway_unavailable")["refund_id"]
    api.clock.advance(minutes=20)

    assert _retry_pending(api) == [refund_id]
    assert _retry_pending(api) == []  # answered: never sent again

    assert _refunds_at_provider(api, purchase_id) == 1
    assert len(_provider_refund_calls(api)) == 2
    assert api.get(f"/v1/refunds/{refund_id}").json["status"] == "succeeded"


def _time_out_before_sending(api: Api) -> None:
    """The next refund call times out before the provider saw it (so it may have refunded, for
    all we know); later calls work."""
    real = api.gateway.refund

    def timeout_before_sending(request: RefundRequest) -> RefundResult:
        api.gateway.refund = real  # type: ignore[method-assign]
        raise GatewayUnavailableError("read timeout", charged_possible=True)

    api.gateway.refund = timeout_before_sending  # type: ignore[method-assign]


def test_a_refund_the_provider_refuses_on_its_retry_fails_and_gives_the_credits_back(
    api: Api,
) -> None:
    purchase_id = _completed(api)
    _time_out_before_sending(api)
    refund_id = assert_problem(_refund(api, purchase_id), 503, "gateway_unavailable")["refund_id"]
    # Meanwhile everything was refunded in the provider's dashboard (its notification is late).
    api.gateway.refund_at_provider(api.gateway_reference(purchase_id), Money("79.99", "EUR"))
    api.gateway.drain()
    api.clock.advance(minutes=20)

    assert _retry_pending(api) == [refund_id]

    assert api.get(f"/v1/refunds/{refund_id}").json["status"] == "failed"
    assert api.get(f"/v1/purchases/{purchase_id}").json["refunded"]["amount"] == "0.00"
    assert api.get("/v1/accounts/cus_ana").json["credits"] == "8.00"


def test_a_provider_still_down_leaves_the_refund_pending_for_the_next_sweep(api: Api) -> None:
    purchase_id = _completed(api)
    _time_out_before_sending(api)
    refund_id = assert_problem(_refund(api, purchase_id), 503, "gateway_unavailable")["refund_id"]
    api.clock.advance(minutes=20)
    api.gateway.fail_next(charged=False)
    assert api.services is not None

    report = api.services.refunds.retry_pending()

    assert report.answered == []
    assert report.unanswered == {refund_id: "gateway_unavailable"}
    assert api.get(f"/v1/refunds/{refund_id}").json["status"] == "pending"
    assert _retry_pending(api) == []  # the sweep that tried it holds it for a while
    api.clock.advance(minutes=20)
    assert _retry_pending(api) == [refund_id]


def test_refunds_are_resent_only_after_the_booking_request_and_within_the_key_lifetime(
    api: Api,
) -> None:
    purchase_id = _completed(api)
    api.gateway.fail_next(charged=True)
    refund_id = assert_problem(_refund(api, purchase_id), 503, "gateway_unavailable")["refund_id"]
    assert api.services is not None

    too_young = api.services.refunds.retry_pending()
    api.clock.advance(seconds=(RESEND_WINDOW + timedelta(minutes=1)).total_seconds())
    too_old = api.services.refunds.retry_pending()

    assert too_young.looked_at == too_old.looked_at == 0
    assert len(_provider_refund_calls(api)) == 1
    assert api.get(f"/v1/refunds/{refund_id}").json["status"] == "pending"
    assert too_old.flagged == [refund_id]  # too old to send again: an operator must look
    assert api.get(f"/v1/purchases/{purchase_id}").json["needs_review"] is True
    assert api.services.refunds.retry_pending().flagged == []  # flagged once


def test_refund_answers_201_with_a_location_that_reads_it(api: Api) -> None:
    purchase_id = _completed(api)

    created = _refund(api, purchase_id)
    read = api.get(created.headers["location"], role="ana")
    listed = api.get(f"/v1/purchases/{purchase_id}/refunds", role="merchant")

    assert created.status_code == 201, created.text
    assert created.headers["location"] == f"/v1/refunds/{created.json['id']}"
    assert read.status_code == 200
    assert read.json == created.json
    assert listed.json == {"data": [created.json]}


def test_refunds_of_an_unknown_purchase_or_refund_are_404(api: Api) -> None:
    assert_problem(api.get("/v1/purchases/pur_nope/refunds"), 404, "not_found")
    assert_problem(api.get("/v1/refunds/rfd_nope"), 404, "not_found")


def test_a_retry_during_the_slowest_provider_call_waits_and_never_refunds_twice(
    api: Api,
) -> None:
    purchase_id = _completed(api)
    real = api.gateway.refund
    entered, release = threading.Event(), threading.Event()

    def slow_refund(request: RefundRequest) -> RefundResult:
        entered.set()
        release.wait(10)
        return real(request)

    api.gateway.refund = slow_refund  # type: ignore[method-assign]
    first: list[falcon.testing.Result] = []
    thread = threading.Thread(target=lambda: first.append(_refund(api, purchase_id, "slow")))
    thread.start()
    assert entered.wait(5)
    api.clock.advance(seconds=slowest_stripe_call() + 1)  # Stripe is slow; the client retries

    retried = _refund(api, purchase_id, "slow")
    release.set()
    thread.join()

    assert_problem(retried, 409, "idempotency_in_flight")
    assert first[0].status_code == 201
    assert len(_provider_refund_calls(api)) == 1
    assert api.get(f"/v1/purchases/{purchase_id}").json["refunded"] == TEN_EUR["amount"]


class ProcessDied(BaseException):
    """The serving process was killed: nothing after this point ran."""


def test_a_retry_after_the_process_died_mid_refund_finds_the_refund_it_booked(api: Api) -> None:
    purchase_id = _completed(api)
    real = api.gateway.refund

    def refund_then_die(request: RefundRequest) -> RefundResult:
        api.gateway.refund = real  # type: ignore[method-assign]
        real(request)
        raise ProcessDied

    api.gateway.refund = refund_then_die  # type: ignore[method-assign]
    with pytest.raises(ProcessDied):
        _refund(api, purchase_id, key="refund-ana-1")
    api.store.tables.idempotency.clear()  # its claim ran out: no stored answer to replay

    retried = _refund(api, purchase_id, key="refund-ana-1")

    assert retried.status_code == 201, retried.text
    assert retried.json["status"] == "succeeded"
    assert _refunds_at_provider(api, purchase_id) == 1  # the provider replayed it under its key
    assert len(api.store.tables.refunds) == 1
    purchase = api.get(f"/v1/purchases/{purchase_id}").json
    assert purchase["refunded"] == {"amount": "10.00", "currency": "EUR"}
    assert api.get("/v1/accounts/cus_ana").json["credits"] == "7.00"


def test_the_same_key_for_another_refund_amount_is_a_conflict(api: Api) -> None:
    purchase_id = _completed(api)
    assert _refund(api, purchase_id, key="refund-ana-2").status_code == 201
    api.store.tables.idempotency.clear()
    other = api.post(
        f"/v1/purchases/{purchase_id}/refunds",
        {"amount": {"amount": "20.00", "currency": "EUR"}},
        headers={"Idempotency-Key": "refund-ana-2"},
    )
    assert_problem(other, 422, "idempotency_conflict")
    assert len(api.store.tables.refunds) == 1


def test_refunds_without_a_key_are_each_their_own(api: Api) -> None:
    purchase_id = _completed(api)
    assert _refund(api, purchase_id).status_code == 201
    assert _refund(api, purchase_id).status_code == 201
    assert len(api.store.tables.refunds) == 2
