"""The Stripe simulator reads form parameters as Stripe does, and refuses what Stripe refuses."""

from __future__ import annotations

import pytest

from payments.sandbox.stripe_simulator.errors import ApiError
from payments.sandbox.stripe_simulator.params import (
    amount,
    form_pairs,
    metadata,
    required_amount,
    unflatten,
)


def test_bracket_notation_becomes_nested_objects_and_lists() -> None:
    pairs = form_pairs(b"metadata[ref]=PUR-1&types[0]=card&types[1]=sepa&amount=100")
    assert unflatten(pairs) == {
        "metadata": {"ref": "PUR-1"},
        "types": ["card", "sepa"],
        "amount": "100",
    }


def test_a_missing_amount_is_refused_only_where_it_is_required() -> None:
    assert amount({}) is None
    with pytest.raises(ApiError) as refused:
        required_amount({})
    assert refused.value.status == 400
    assert refused.value.body["error"] == {
        "type": "invalid_request_error",
        "message": "Missing required param: amount.",
        "code": "parameter_missing",
        "doc_url": "https://docs.stripe.com/error-codes/parameter-missing",
        "param": "amount",
    }


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("0", "amount_too_small"),
        ("100000000", "amount_too_large"),
        ("1.5", "parameter_invalid_integer"),
    ],
)
def test_an_amount_outside_stripes_limits_is_refused(value: str, code: str) -> None:
    with pytest.raises(ApiError) as refused:
        amount({"amount": value})
    error = refused.value.body["error"]
    assert isinstance(error, dict)
    assert error["code"] == code


def test_blank_metadata_values_are_dropped_as_stripe_unsets_them() -> None:
    assert metadata({"metadata": {"ref": "PUR-1", "old": ""}}) == {"ref": "PUR-1"}
