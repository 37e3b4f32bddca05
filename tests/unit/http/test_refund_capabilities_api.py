"""A refund the purchase's gateway cannot make is refused before anything is booked."""

from __future__ import annotations

import falcon.testing
import pytest

from payments.domain.gateway import GatewayCapabilities
from tests.unit.http.conftest import Api, assert_problem

KWD_PACKAGE = {
    "name": "3 Hour Package",
    "kind": "package",
    "price": {"amount": "12.340", "currency": "KWD"},
    "credits": "3",
    "validity_days": 60,
}


def _capable(api: Api, **capabilities: object) -> None:
    """The fake gateway declares what Stripe does for three-decimal currencies, and more."""
    api.gateway.capabilities = GatewayCapabilities(
        currencies=None,
        countries=None,
        payment_methods=frozenset({"card"}),
        amount_steps={"KWD": 10},
        **capabilities,  # type: ignore[arg-type]
    )


def _completed_kwd(api: Api) -> str:
    product = api.post("/v1/products", KWD_PACKAGE)
    assert product.status_code == 201, product.text
    purchase_id = api.buy(product.json["id"])
    api.gateway.approve(api.gateway_reference(purchase_id))
    api.deliver_all()
    return purchase_id


def _refund(api: Api, purchase_id: str, amount: str | None) -> falcon.testing.Result:
    body = {"amount": {"amount": amount, "currency": "KWD"}} if amount else {}
    return api.post(f"/v1/purchases/{purchase_id}/refunds", body)


@pytest.mark.parametrize("amount", ["0.005", "4.115"])
def test_refund_off_the_gateways_amount_step_is_refused_before_booking(
    api: Api, amount: str
) -> None:
    _capable(api)
    purchase_id = _completed_kwd(api)
    before = api.snapshot()

    refused = _refund(api, purchase_id, amount)

    problem = assert_problem(refused, 422, "unsupported_by_gateway")
    assert problem["errors"] == [{"field": "amount", "message": "must be a multiple of 0.010"}]
    assert api.snapshot() == before  # no refund row, no debit, no reversal
    assert [c for c in api.gateway.calls if c[0] == "refund"] == []
    assert api.get(f"/v1/purchases/{purchase_id}").json["status"] == "completed"


def test_refund_on_the_gateways_amount_step_is_made(api: Api) -> None:
    _capable(api)
    purchase_id = _completed_kwd(api)

    made = _refund(api, purchase_id, "4.110")

    assert made.status_code == 201, made.text
    assert api.get(f"/v1/purchases/{purchase_id}").json["refunded"] == {
        "amount": "4.110",
        "currency": "KWD",
    }


def test_partial_refund_on_a_gateway_without_them_is_refused_before_booking(api: Api) -> None:
    _capable(api, partial_refunds=False)
    purchase_id = _completed_kwd(api)
    before = api.snapshot()

    partial = _refund(api, purchase_id, "4.110")
    full = _refund(api, purchase_id, None)

    assert_problem(partial, 422, "unsupported_by_gateway")
    assert full.status_code == 201
    assert api.snapshot() != before
    assert api.get(f"/v1/purchases/{purchase_id}").json["status"] == "refunded"


def test_refund_of_a_method_the_gateway_cannot_refund_is_refused_before_booking(
    api: Api,
) -> None:
    _capable(api, refund_methods=frozenset({"pse"}))  # Wompi's shape: only some methods
    purchase_id = _completed_kwd(api)
    before = api.snapshot()

    refused = _refund(api, purchase_id, None)

    problem = assert_problem(refused, 422, "unsupported_by_gateway")
    assert "cannot refund card payments" in problem["detail"]
    assert api.snapshot() == before
    assert [c for c in api.gateway.calls if c[0] == "refund"] == []


def test_refund_of_a_method_the_gateway_refunds_is_made(api: Api) -> None:
    _capable(api, refund_methods=frozenset({"card"}))
    purchase_id = _completed_kwd(api)

    assert _refund(api, purchase_id, None).status_code == 201
