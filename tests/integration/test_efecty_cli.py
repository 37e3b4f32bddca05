"""``payments efecty import-settlements FILE`` as a real process: each row applied once."""

from __future__ import annotations

from pathlib import Path

from payments.config import Settings
from payments.containers import build_container
from payments.domain.access import Principal, Role
from payments.domain.money import Money
from payments.domain.next_action import CashVoucherAction
from payments.domain.purchase import PurchaseStatus
from payments.domain.services.checkout import CreatePurchase
from tests.integration.service import payments_env, run_payments

ADMIN = Principal(Role.ADMIN, "key_admin")


def test_a_settlement_file_imported_twice_from_the_command_line_applies_each_row_once(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'cash.db'}"
    container = build_container(
        Settings.from_env({"PAYMENTS_DATABASE_URL": url, "PAYMENTS_ROUTING": "CO+cash: efecty"})
    )
    container.migrate()
    product = container.catalog().create(
        name="Package", kind="package", price=Money("50000", "COP"), credits="8", validity_days=60
    )
    purchase = container.purchases().create(
        CreatePurchase(product.id, "CO", customer_id="cus_ana", payment_method="cash"), ADMIN
    )
    assert isinstance(purchase.next_action, CashVoucherAction)
    settlement = tmp_path / "efecty-2026-12-06.csv"
    settlement.write_text(
        "code,amount,currency,receipt_number,paid_at\n"
        f"{purchase.next_action.code},50000,COP,S-1,2026-12-06T10:30:00-05:00\n"
        "EFY-99999999999999,50000,COP,S-2,2026-12-06T10:31:00-05:00\n",
        encoding="utf-8",
    )
    env = payments_env(url, PAYMENTS_ROUTING="CO+cash: efecty")

    first = run_payments("efecty", "import-settlements", str(settlement), env=env)
    again = run_payments("efecty", "import-settlements", str(settlement), env=env)
    malformed = tmp_path / "bad.csv"
    malformed.write_text("code,amount\nEFY-1,2\n", encoding="utf-8")
    refused = run_payments("efecty", "import-settlements", str(malformed), env=env)

    assert first.returncode == 1, first.stderr  # one unknown row
    assert first.stdout.splitlines()[-1] == (
        "2 row(s): applied 1, duplicate 0, unknown 1, mismatched 0"
    )
    assert "unknown\tline 3\tEFY-99999999999999\tunknown" in first.stdout
    assert again.stdout.splitlines()[-1] == (
        "2 row(s): applied 0, duplicate 1, unknown 1, mismatched 0"
    )
    assert refused.returncode == 2
    assert "line 1" in refused.stderr
    shown = container.purchases().get(purchase.id, ADMIN)
    assert shown.status is PurchaseStatus.COMPLETED
    assert container.accounts().get("cus_ana", ADMIN).credits == 8
    container.engine().dispose()
