"""Efecty wired by configuration, end to end over HTTP on SQLite and PostgreSQL: ``CO+cash:
efecty`` issues a stored voucher, an admin's confirmation (or a settlement file) completes the
purchase once, and the worker's job expires an unpaid voucher's purchase."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from dependency_injector import providers
from sqlalchemy import Engine

from payments.adapters.gateways.efecty import has_valid_check_digit
from payments.adapters.memory import FixedClock
from payments.containers import Container
from payments.entrypoints.cli.worker import run_round, worker_jobs
from tests.integration.service import RunningService, running_service

PACKAGE = {
    "name": "8 Hour Premium Package",
    "kind": "package",
    "price": {"amount": "50000.00", "currency": "COP"},
    "credits": "8",
    "validity_days": 60,
}
NOW = datetime(2026, 12, 6, 14, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def service(database: Engine, clock: FixedClock) -> Iterator[RunningService]:
    env = {
        "PAYMENTS_DATABASE_URL": database.url.render_as_string(hide_password=False),
        "PAYMENTS_ROUTING": "CO+cash: efecty; *: stripe",
    }

    def configure(container: Container) -> None:
        container.clock.override(providers.Object(clock))

    with running_service(env, configure) as running:
        yield running


def _buy(service: RunningService, key: str) -> dict[str, Any]:
    product = service.call("POST", "/v1/products", key, PACKAGE)
    assert product.status_code == 201, product.text
    body = {
        "product_id": product.json()["id"],
        "customer": {"email": "ana@example.com", "name": "Ana"},
        "country": "CO",
        "payment_method": "cash",
    }
    purchase = service.call("POST", "/v1/purchases", key, body)
    assert purchase.status_code == 201, purchase.text
    started: dict[str, Any] = purchase.json()
    assert started["gateway"] == "efecty"
    assert started["status"] == "pending"
    return started


def _confirm(
    service: RunningService, key: str, code: str, amount: str = "50000", receipt: str = "R-1"
) -> requests.Response:
    body = {
        "code": code,
        "amount": {"amount": amount, "currency": "COP"},
        "receipt_number": receipt,
    }
    return service.call("POST", "/v1/efecty/confirmations", key, body)


def _credits(service: RunningService, key: str, purchase: dict[str, Any]) -> str:
    account = service.call("GET", f"/v1/accounts/{purchase['customer_id']}", key)
    assert account.status_code == 200, account.text
    return str(account.json()["credits"])


def _settle(service: RunningService, key: str, text: str) -> requests.Response:
    return service.http.post(
        service.base_url + "/v1/efecty/settlements",
        data=text.encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "text/csv"},
        timeout=30,
    )


def test_a_cash_purchase_gets_a_stored_voucher_that_one_confirmation_completes_once(
    service: RunningService,
) -> None:
    key = service.admin_key()
    purchase = _buy(service, key)
    voucher = purchase["next_action"]
    assert voucher["type"] == "cash_voucher"
    assert voucher["code"].startswith("EFY-")
    assert purchase["gateway_reference"] == voucher["code"]
    assert has_valid_check_digit(voucher["barcode"])
    assert voucher["expires_at"] == "2026-12-09T14:00:00Z"
    assert "$50.000" in voucher["instructions"]
    assert voucher["code"] in voucher["instructions"]

    confirmed = _confirm(service, key, voucher["code"])

    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "completed"
    assert _credits(service, key, purchase) == "8.00"
    [message] = service.container.inbox().recent()
    assert (message.provider, message.event_id) == ("efecty", f"{voucher['code']}:R-1")
    assert message.status.value == "processed"

    again = _confirm(service, key, voucher["code"])
    other_receipt = _confirm(service, key, voucher["code"], receipt="R-2")

    assert again.status_code == 409, again.text
    assert again.headers["Content-Type"] == "application/problem+json"
    assert other_receipt.status_code == 409, other_receipt.text
    assert other_receipt.json()["reason"] == "already_paid"
    assert _credits(service, key, purchase) == "8.00"


def test_a_wrong_amount_an_unknown_code_and_a_non_admin_are_refused(
    service: RunningService,
) -> None:
    key = service.admin_key()
    purchase = _buy(service, key)
    code = purchase["next_action"]["code"]

    short = _confirm(service, key, code, amount="49999")
    unknown = _confirm(service, key, "EFY-00000000000000")
    merchant = _confirm(service, service.container.access().create_key("merchant")[1], code)

    assert short.status_code == 409, short.text
    assert short.json()["code"] == "amount_mismatch"
    assert short.json()["expected"] == {"amount": "50000.00", "currency": "COP"}
    assert unknown.status_code == 404, unknown.text
    assert merchant.status_code == 403, merchant.text
    shown = service.call("GET", f"/v1/purchases/{purchase['id']}", key).json()
    assert shown["status"] == "pending"
    assert _credits(service, key, purchase) == "0.00"


def test_a_settlement_file_imported_twice_applies_each_row_once(service: RunningService) -> None:
    key = service.admin_key()
    first, second = _buy(service, key), _buy(service, key)
    paid = "2026-12-06T10:30:00-05:00"
    text = (
        "code,amount,currency,receipt_number,paid_at\r\n"
        f"{first['next_action']['code']},50000.00,COP,S-1,{paid}\r\n"
        f"{second['next_action']['code']},40000,COP,S-2,{paid}\r\n"
        f"EFY-11111111111111,50000,COP,S-3,{paid}\r\n"
    )

    imported = _settle(service, key, text)
    again = _settle(service, key, text)

    assert imported.status_code == 200, imported.text
    assert imported.json() == {
        "applied": [2],
        "duplicate": [],
        "unknown": [{"line": 4, "code": "EFY-11111111111111", "reason": "unknown"}],
        "mismatched": [
            {"line": 3, "code": second["next_action"]["code"], "reason": "amount_mismatch"}
        ],
    }
    assert again.status_code == 200, again.text
    assert again.json()["applied"] == []
    assert [row["line"] for row in again.json()["duplicate"]] == [2]
    assert _credits(service, key, first) == "8.00"
    status = service.call("GET", f"/v1/purchases/{second['id']}", key).json()["status"]
    assert status == "pending"


def test_a_malformed_settlement_file_is_a_problem_and_applies_nothing(
    service: RunningService,
) -> None:
    key = service.admin_key()
    purchase = _buy(service, key)
    code = purchase["next_action"]["code"]
    text = (
        "code,amount,currency,receipt_number,paid_at\n"
        f"{code},50000,COP,S-1,2026-12-06T10:30:00-05:00\n"
        f"{code},5e4,COP,S-2,yesterday\n"
    )

    refused = _settle(service, key, text)
    as_json = service.call("POST", "/v1/efecty/settlements", key, {"code": code})
    row = f"{code},50000,COP,S-1,2026-12-06T10:30:00-05:00\n"
    too_large = _settle(
        service, key, "code,amount,currency,receipt_number,paid_at\n" + row * 20_000
    )

    assert refused.status_code == 422, refused.text
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert [error["field"] for error in refused.json()["errors"]] == ["line 3"]
    assert as_json.status_code == 400, as_json.text
    assert too_large.status_code == 413, too_large.text
    assert _credits(service, key, purchase) == "0.00"


def test_the_worker_expires_an_unpaid_voucher_and_its_purchase(
    service: RunningService, clock: FixedClock
) -> None:
    key = service.admin_key()
    purchase = _buy(service, key)
    code = purchase["next_action"]["code"]
    jobs = worker_jobs(service.container, service.container.settings())

    clock.current = NOW + timedelta(hours=71, minutes=59)
    early = run_round(jobs)
    assert (early.get("expired vouchers", 0), early.get("expired", 0)) == (0, 0)
    clock.current = NOW + timedelta(hours=72)
    done = run_round(jobs)

    assert done["expired vouchers"] == 1
    assert done.get("expired", 0) == 0  # not the general sweep: the voucher's own deadline
    shown = service.call("GET", f"/v1/purchases/{purchase['id']}", key).json()
    assert shown["status"] == "expired"
    late = _confirm(service, key, code)
    assert late.status_code == 409, late.text
    assert late.json()["reason"] == "expired"
    assert _credits(service, key, purchase) == "0.00"


def test_the_sandbox_approve_action_pays_the_voucher_as_a_confirmation_would(
    service: RunningService,
) -> None:
    key = service.admin_key()
    purchase = _buy(service, key)

    approved = service.call("POST", f"/v1/sandbox/purchases/{purchase['id']}/approve", key)

    assert approved.status_code == 200, approved.text
    assert approved.json()["purchase"]["status"] == "completed"
    assert _credits(service, key, purchase) == "8.00"
    confirmed = _confirm(service, key, purchase["next_action"]["code"])
    assert confirmed.status_code == 409, confirmed.text


def test_the_sandbox_expires_a_voucher_and_never_declines_one(service: RunningService) -> None:
    key = service.admin_key()
    purchase, other = _buy(service, key), _buy(service, key)

    declined = service.call("POST", f"/v1/sandbox/purchases/{other['id']}/decline", key)
    expired = service.call("POST", f"/v1/sandbox/purchases/{purchase['id']}/expire", key)

    assert declined.status_code == 409, declined.text
    assert service.call("GET", f"/v1/purchases/{other['id']}", key).json()["status"] == "pending"
    assert expired.status_code == 200, expired.text
    assert expired.json()["purchase"]["status"] == "expired"
    late = _confirm(service, key, purchase["next_action"]["code"])
    assert late.status_code == 409, late.text
    assert late.json()["reason"] == "expired"
