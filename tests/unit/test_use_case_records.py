"""The access check every read of a customer's record shares, and the use cases' common wiring."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from payments.domain.access import ANONYMOUS, Principal, Role
from payments.domain.errors import NotFoundError
from payments.domain.services.records import readable
from tests.unit.conftest import Payments


@dataclass(frozen=True)
class _Owned:
    customer_id: str


ANA = Principal(Role.CUSTOMER, "key_ana", "cus_ana")


def test_the_owner_reads_its_record_as_it_is() -> None:
    record = _Owned("cus_ana")

    assert readable(ANA, record, "Purchase", "pur_1") is record
    assert readable(Principal(Role.MERCHANT, "key_m"), record, "Purchase", "pur_1") is record


@pytest.mark.parametrize(
    ("principal", "record"),
    [
        (ANA, _Owned("cus_bob")),
        (ANONYMOUS, _Owned("cus_ana")),
        (ANA, None),
    ],
    ids=["another customer's", "anonymous", "missing"],
)
def test_a_record_the_caller_may_not_read_is_not_found_like_a_missing_one(
    principal: Principal, record: _Owned | None
) -> None:
    with pytest.raises(NotFoundError) as refused:
        readable(principal, record, "Refund", "ref_1")

    assert refused.value.message == "Refund 'ref_1' does not exist."


def test_another_customers_purchase_and_its_refunds_are_not_found(payments: Payments) -> None:
    purchase_id = payments.buy(payments.premium_package(), customer_id="cus_bob")

    with pytest.raises(NotFoundError):
        payments.purchases.get(purchase_id, ANA)
    with pytest.raises(NotFoundError):
        payments.purchases.cancel(purchase_id, ANA)
    with pytest.raises(NotFoundError):
        payments.refunds.list_for_purchase(purchase_id, ANA)
