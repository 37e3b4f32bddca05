"""The idempotency use case decides, from what it stored, whether a replay answers a record."""

from __future__ import annotations

import pytest

from payments.adapters.memory import InMemoryUnitOfWork
from payments.domain.errors import GatewayUnavailableError, with_details
from payments.domain.idempotency import OutcomeKind, UnknownOutcome
from payments.domain.services.idempotency import IdempotencyService, Replay, StoredAnswer
from tests.unit.conftest import MERCHANT, Payments

PROBLEM_503 = StoredAnswer(503, b'{"code":"gateway_unavailable"}', {"Retry-After": "10"})


def _service(payments: Payments) -> IdempotencyService:
    def uow() -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(payments.store)

    return IdempotencyService(uow, payments.clock)


def _stored(service: IdempotencyService, outcome: UnknownOutcome | None) -> Replay:
    assert service.begin("key:k1", "idem-1", "print") is None
    service.finish(
        "key:k1", "idem-1", fingerprint="print", answer=PROBLEM_503, unknown_outcome=outcome
    )
    replay = service.begin("key:k1", "idem-1", "print")
    assert replay is not None
    return replay


def _gateway_reference(payments: Payments, purchase_id: str) -> str:
    reference = payments.purchases.get(purchase_id, MERCHANT).gateway_reference
    assert reference is not None
    return reference


def test_an_answer_without_unknown_outcome_is_replayed_as_stored(payments: Payments) -> None:
    replay = _stored(_service(payments), None)

    assert replay == Replay(PROBLEM_503)


def test_a_checkout_still_pending_replays_the_stored_answer(payments: Payments) -> None:
    purchase_id = payments.buy(payments.premium_package())

    replay = _stored(_service(payments), UnknownOutcome(OutcomeKind.PURCHASE, purchase_id))

    assert replay.purchase is None
    assert replay.answer == PROBLEM_503  # the outcome entry is never one of the replayed headers


def test_a_checkout_that_settled_is_answered_as_the_purchase_now(payments: Payments) -> None:
    purchase_id = payments.buy(payments.premium_package())
    payments.gateway.approve(_gateway_reference(payments, purchase_id))
    payments.deliver_all()

    replay = _stored(_service(payments), UnknownOutcome(OutcomeKind.PURCHASE, purchase_id))

    assert replay.purchase is not None
    assert replay.purchase.id == purchase_id


def test_an_unknown_record_replays_the_stored_answer(payments: Payments) -> None:
    replay = _stored(_service(payments), UnknownOutcome(OutcomeKind.REFUND, "rfd_missing"))

    assert replay == Replay(PROBLEM_503)


def test_a_refund_awaiting_the_provider_replays_the_stored_answer_until_answered(
    payments: Payments,
) -> None:
    purchase_id = payments.buy(payments.premium_package())
    payments.gateway.approve(_gateway_reference(payments, purchase_id))
    payments.deliver_all()
    payments.gateway.fail_next(charged=True)
    with pytest.raises(GatewayUnavailableError) as timed_out:
        payments.refunds.refund(purchase_id, None, None, "admin")
    refund_id = timed_out.value.details["refund_id"]
    assert isinstance(refund_id, str)

    replay = _stored(_service(payments), UnknownOutcome(OutcomeKind.REFUND, refund_id))

    assert replay.refund is None
    assert replay.answer == PROBLEM_503


def test_a_failure_left_behind_is_named_on_a_copy_not_on_the_caught_error() -> None:
    caught = GatewayUnavailableError("timed out", charged_possible=True)

    named = with_details(caught, purchase_id="pur_1")

    assert named.details == {"purchase_id": "pur_1"}
    assert caught.details == {}
    assert named.charged_possible is True
