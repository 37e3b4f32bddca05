"""The repository contract, cash vouchers: unique codes, one voucher per purchase, the expiry
sweep, and every field back as stored."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from payments.domain.cash_voucher import CashVoucher, VoucherStatus
from payments.domain.errors import ConflictError
from payments.domain.money import Money
from payments.domain.ports import UnitOfWork
from payments.testing.contracts.repositories.base import UnitOfWorkFixtures
from payments.testing.contracts.repositories.builders import T0, a_purchase, is_utc, seed
from payments.testing.expect import expect, expect_equal, present


def a_voucher(purchase_id: str = "pur_1", code: str = "EFY-00000000000001") -> CashVoucher:
    return CashVoucher(
        code=code,
        status=VoucherStatus.ISSUED,
        purchase_id=purchase_id,
        purchase_reference=f"ref_{purchase_id}",
        barcode="0000000000000100000500000",
        amount=Money("50000.00", "COP"),
        created_at=T0,
        expires_at=T0 + timedelta(hours=72),
    )


class VoucherContract(UnitOfWorkFixtures):
    """Cash vouchers are stored once per purchase under unique codes, and come back whole."""

    @pytest.fixture
    def seeded(self, uow: UnitOfWork) -> UnitOfWork:
        """Purchases ``pur_1`` to ``pur_3`` committed, ``pur_1``'s voucher issued."""
        seed(uow, *(a_purchase(f"pur_{n}", amount=Money("50000", "COP")) for n in (1, 2, 3)))
        with uow:
            uow.cash_vouchers.add(a_voucher())
            uow.commit()
        return uow

    def test_voucher_comes_back_whole_by_code_and_reference(self, seeded: UnitOfWork) -> None:
        with seeded as uow:
            by_code = uow.cash_vouchers.get("EFY-00000000000001", for_update=True)
            by_reference = uow.cash_vouchers.for_reference("ref_pur_1")
        expect_equal(by_code, a_voucher())
        expect_equal(by_reference, a_voucher())
        expect(by_code is not None and is_utc(by_code.expires_at), "expiry comes back in UTC")

    def test_a_taken_code_or_a_second_voucher_of_a_purchase_is_a_conflict(
        self, seeded: UnitOfWork
    ) -> None:
        with seeded as uow:
            with pytest.raises(ConflictError):
                uow.cash_vouchers.add(a_voucher("pur_2"))  # the same code
            with pytest.raises(ConflictError):
                uow.cash_vouchers.add(a_voucher("pur_1", "EFY-00000000000002"))
            uow.cash_vouchers.add(a_voucher("pur_2", "EFY-00000000000002"))  # still usable
            uow.commit()
        with seeded as uow:
            expect_equal(
                uow.cash_vouchers.get("EFY-00000000000002"),
                a_voucher("pur_2", "EFY-00000000000002"),
            )

    def test_a_paid_voucher_keeps_its_receipt_and_leaves_the_expiry_sweep(
        self, seeded: UnitOfWork
    ) -> None:
        due = T0 + timedelta(hours=72)
        with seeded as uow:
            for n in (2, 3):
                voucher = a_voucher(f"pur_{n}", f"EFY-0000000000000{n}")
                uow.cash_vouchers.add(replace(voucher, expires_at=due + timedelta(minutes=n - 2)))
            uow.commit()
        with seeded as uow:
            paid = present(uow.cash_vouchers.get("EFY-00000000000001", for_update=True))
            paid.status = VoucherStatus.PAID
            paid.receipt_number = "R-1"
            paid.paid_at = paid.closed_at = T0 + timedelta(hours=1)
            uow.cash_vouchers.save(paid)
            uow.commit()
        with seeded as uow:
            stored = uow.cash_vouchers.get("EFY-00000000000001")
            sweep = uow.cash_vouchers.due_to_expire(due, limit=10)
            first = uow.cash_vouchers.due_to_expire(due + timedelta(hours=1), limit=1)
        expect_equal(stored, paid)
        expect_equal([v.code for v in sweep], ["EFY-00000000000002"])
        expect_equal([v.code for v in first], ["EFY-00000000000002"])

    def test_saving_a_voucher_never_added_is_a_conflict(self, seeded: UnitOfWork) -> None:
        with seeded as uow, pytest.raises(ConflictError):
            uow.cash_vouchers.save(a_voucher("pur_2", "EFY-00000000000002"))
