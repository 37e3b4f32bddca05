"""Wompi's API answers in our terms, offline: tokens, starts, lookups, voids, banks (§3)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from payments.adapters.gateways.wompi.answers import (
    WompiAnswerError,
    acceptance_tokens,
    banks_from_list,
    choose_transaction,
    start_from_transaction,
    transactions_from_list,
    void_result,
)
from payments.domain.gateway import Bank
from payments.domain.money import Money
from payments.domain.next_action import RedirectAction
from payments.domain.purchase import PaymentOutcome
from payments.domain.refund import RefundStatus

TRANSACTION: dict[str, Any] = {
    "id": "1132-903100443-27458",
    "created_at": "2026-01-01T10:00:00.000Z",
    "amount_in_cents": 5000000,
    "reference": "ref_001",
    "currency": "COP",
    "payment_method_type": "PSE",
    "payment_method": {"type": "PSE", "extra": {}},
    "status": "PENDING",
    "status_message": None,
}


def transaction(**changes: Any) -> dict[str, Any]:
    made = copy.deepcopy(TRANSACTION)
    made.update(changes)
    return made


def test_acceptance_tokens_are_read_from_the_merchant() -> None:
    answer = {
        "data": {
            "presigned_acceptance": {"acceptance_token": "eyJ.a", "type": "END_USER_POLICY"},
            "presigned_personal_data_auth": {"acceptance_token": "eyJ.b"},
        }
    }
    assert acceptance_tokens(answer) == ("eyJ.a", "eyJ.b")
    with pytest.raises(WompiAnswerError):
        acceptance_tokens({"data": {}})


def test_a_pending_pse_start_redirects_to_its_async_payment_url() -> None:
    url = "https://sandbox.wompi.co/pse/redirect?id=1"
    start = start_from_transaction(
        transaction(payment_method={"type": "PSE", "extra": {"async_payment_url": url}})
    )
    assert start.next_action == RedirectAction(url)
    assert start.gateway_reference == "1132-903100443-27458"
    assert start.observation is not None
    assert start.observation.outcome is PaymentOutcome.PROCESSING
    assert start.observation.amount == Money("50000.00", "COP")


def test_a_pending_pse_start_without_its_url_is_unreadable() -> None:
    with pytest.raises(WompiAnswerError):
        start_from_transaction(transaction())


def test_a_card_start_needs_no_action() -> None:
    start = start_from_transaction(
        transaction(payment_method_type="CARD", payment_method={"type": "CARD"})
    )
    assert start.next_action is None


def test_lookup_prefers_the_known_then_the_approved_then_the_newest() -> None:
    older = transaction(id="a", created_at="2026-01-01T10:00:00.000Z", status="DECLINED")
    approved = transaction(id="b", created_at="2026-01-01T09:00:00.000Z", status="APPROVED")
    newer = transaction(id="c", created_at="2026-01-01T11:00:00.000Z", status="ERROR")
    assert choose_transaction([older, approved, newer], "a") is older
    assert choose_transaction([older, approved, newer], None) is approved
    assert choose_transaction([older, newer], None) is newer
    assert choose_transaction([], None) is None
    assert transactions_from_list({"data": [older]}) == [older]
    with pytest.raises(WompiAnswerError):
        transactions_from_list({"data": {}})


def test_a_voided_transaction_is_a_succeeded_refund() -> None:
    voided = void_result(transaction(status="VOIDED", payment_method_type="CARD"))
    assert voided.status is RefundStatus.SUCCEEDED
    assert voided.gateway_refund_reference == "1132-903100443-27458:void"
    assert void_result(transaction(status="APPROVED")).status is RefundStatus.FAILED


def test_pse_banks_are_read_from_the_financial_institutions() -> None:
    answer = {"data": [{"financial_institution_code": "1", "financial_institution_name": "Banco"}]}
    assert banks_from_list(answer) == [Bank("1", "Banco")]
    with pytest.raises(WompiAnswerError):
        banks_from_list({"data": [{"financial_institution_code": "1"}]})
