"""Problem answers become the package's own errors, offline: by the code in their ``type``, else
by their status, with their members kept."""

from __future__ import annotations

import json

import pytest

from payments.client import error_for_answer
from payments.domain.errors import (
    GatewayUnavailableError,
    IdempotencyConflictError,
    MalformedRequestError,
    NotFoundError,
    PaymentDeclinedError,
    PaymentsError,
    RateLimitedError,
    ValidationError,
)


def _problem(code: str, status: int, **members: object) -> bytes:
    body = {"type": f"https://payments.dev/problems/{code}", "title": "t", "status": status}
    return json.dumps(
        {**body, "detail": f"{code} happened", "request_id": "req_1", **members}
    ).encode()


def test_the_type_names_the_class_and_the_detail_is_the_message() -> None:
    error = error_for_answer(422, _problem("idempotency_conflict", 422))
    assert type(error) is IdempotencyConflictError
    assert error.message == "idempotency_conflict happened"
    assert error.details["request_id"] == "req_1"
    assert error.details["status"] == 422


def test_a_validation_problem_carries_its_field_errors() -> None:
    body = _problem("validation_error", 422, errors=[{"field": "country", "message": "must be"}])
    error = error_for_answer(422, body)
    assert isinstance(error, ValidationError)
    assert [(e.field, e.message) for e in error.errors] == [("country", "must be")]


def test_a_decline_a_possible_charge_and_a_rate_limit_keep_what_the_caller_needs() -> None:
    declined = error_for_answer(
        402, _problem("payment_declined", 402, decline_code="card_declined")
    )
    assert isinstance(declined, PaymentDeclinedError) and declined.provider_code == "card_declined"
    unknown = error_for_answer(503, _problem("gateway_unavailable", 503, purchase_id="pur_1"))
    assert isinstance(unknown, GatewayUnavailableError) and unknown.charged_possible
    assert unknown.details["purchase_id"] == "pur_1"
    unsent = error_for_answer(503, _problem("gateway_unavailable", 503))
    assert isinstance(unsent, GatewayUnavailableError) and not unsent.charged_possible
    limited = error_for_answer(429, _problem("rate_limited", 429), retry_after="7")
    assert isinstance(limited, RateLimitedError) and limited.retry_after == 7


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (405, _problem("method_not_allowed", 405), PaymentsError),
        (413, _problem("payload_too_large", 413), PaymentsError),
        (400, _problem("bad_request", 400), MalformedRequestError),
        (404, b"<html>not found</html>", NotFoundError),
        (500, b"", PaymentsError),
    ],
)
def test_a_code_without_a_class_falls_back_on_the_status(
    status: int, body: bytes, expected: type[PaymentsError]
) -> None:
    error = error_for_answer(status, body)
    assert type(error) is expected
    assert error.details["status"] == status
