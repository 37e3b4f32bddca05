"""A refund made in the provider's dashboard while ours is in flight: the books follow the money."""

from __future__ import annotations

from decimal import Decimal

from payments.domain.gateway import RefundRequest, RefundResult
from payments.domain.money import Money
from tests.unit.http.conftest import Api


def test_a_dashboard_refund_racing_ours_is_kept_and_the_purchase_flagged(api: Api) -> None:
    purchase_id = api.buy(api.create_premium()["id"])
    reference = api.gateway_reference(purchase_id)
    api.gateway.approve(reference)
    api.deliver_all()
    ours = api.gateway.refund

    def refund_while_an_operator_refunds_in_the_dashboard(request: RefundRequest) -> RefundResult:
        api.gateway.refund_at_provider(reference, Money("60.00", "EUR"))
        api.deliver_all()  # its notification (no refund id of ours) arrives first
        return ours(request)  # then ours is refused: only 19.99 is left there

    api.gateway.refund = refund_while_an_operator_refunds_in_the_dashboard  # type: ignore[method-assign]
    api.post(
        f"/v1/purchases/{purchase_id}/refunds", {"amount": {"amount": "60.00", "currency": "EUR"}}
    )

    purchase = api.get(f"/v1/purchases/{purchase_id}").json
    at_provider = sum(
        (amount.amount for _, amount in api.gateway.payments[reference].refunds), Decimal(0)
    )
    assert Decimal(purchase["refunded"]["amount"]) == at_provider == Decimal("60.00")
    assert purchase["needs_review"] is True
    account = api.get("/v1/accounts/cus_ana").json
    assert account["total_paid"] == [{"amount": "19.99", "currency": "EUR"}]
