"""Revenue statistics summed by SQLite and PostgreSQL equal sums worked out here, independently,
over a few thousand random purchases and refunds in three currencies (JPY has no decimals)."""

from __future__ import annotations

import functools
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, insert

from payments.adapters.memory import FixedClock, SequentialIds
from payments.adapters.sql.tables import customers, products, purchases, refunds
from payments.adapters.sql.unit_of_work import SqlUnitOfWork
from payments.domain.access import Principal, Role
from payments.domain.currency import get_currency
from payments.domain.errors import ForbiddenError, ValidationError
from payments.domain.money import Money
from payments.domain.revenue import RevenueFigures, RevenueReport
from payments.domain.services.statistics import StatisticsService

CURRENCIES = ("EUR", "COP", "JPY")
GATEWAYS = ("stripe", "wompi", "payu")
PAID = ("completed", "partially_refunded", "refunded")
UNPAID = ("pending", "failed", "cancelled")
MERCHANT = Principal(Role.MERCHANT, "key_merchant")
# Moments around the window Jan 1 - Mar 31, 2026, its edges included.
START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 4, 1, tzinfo=UTC)
EDGES = (START, END - timedelta(microseconds=1), END, START - timedelta(microseconds=1))


@dataclass(frozen=True)
class Sale:
    currency: str
    gateway: str
    amount: Decimal
    paid: bool
    at: datetime


def _moment(rng: random.Random) -> datetime:
    if rng.random() < 0.02:
        return rng.choice(EDGES)
    seconds = rng.randrange(int(timedelta(days=120).total_seconds()))
    return (
        START - timedelta(days=15) + timedelta(seconds=seconds, microseconds=rng.randrange(10**6))
    )


def _amount(rng: random.Random, currency: str, most: int) -> Decimal:
    units = rng.randint(1, most)
    return Money.from_minor_units(units, currency).amount


def _rows(rng: random.Random, count: int) -> tuple[list[Sale], list[Sale], dict[str, list[Any]]]:
    """Random purchases and refunds as table rows, and what they are in plain terms."""
    sales, given_back = [], []
    rows: dict[str, list[Any]] = {"purchases": [], "refunds": []}
    for n in range(count):
        currency, gateway = rng.choice(CURRENCIES), rng.choice(GATEWAYS)
        amount = _amount(rng, currency, 50_000_000)
        status = rng.choice(PAID + UNPAID)
        at = _moment(rng)
        paid = status in PAID
        sales.append(Sale(currency, gateway, amount, paid, at))
        purchase_id = f"pur_{n:06d}"
        rows["purchases"].append(
            {
                "id": purchase_id, "reference": f"ref_{n:06d}", "customer_id": "cus_ana",
                "product_id": f"prd_{currency}", "amount": amount, "currency": currency,
                "credits": Decimal(1), "validity_days": None, "country": "CO",
                "payment_method": "card", "routing_chain": '["x"]', "routing_reason": "test",
                "status": status, "gateway": gateway, "gateway_reference": None,
                "next_action": None, "return_url": None, "refunded_amount": None,
                "needs_review": False, "review_reason": None, "failure_code": None,
                "failure_message": None, "created_at": at, "updated_at": at,
                "completed_at": at if paid or status == "cancelled" else None,
                "version": 1, "invoice_id": None,
            }
        )  # fmt: skip
        # a cancelled purchase with a completed_at is not paid: it must not count
        if paid and rng.random() < 0.4:
            refund_status = rng.choice(("pending", "succeeded", "succeeded", "failed"))
            refund_at = at + timedelta(hours=rng.randrange(24 * 20))
            refund_amount = _amount(
                rng, currency, int(amount.scaleb(get_currency(currency).exponent))
            )
            given_back.append(
                Sale(currency, gateway, refund_amount, refund_status != "failed", refund_at)
            )
            rows["refunds"].append(
                {
                    "id": f"ref_{n:06d}", "purchase_id": purchase_id, "customer_id": "cus_ana",
                    "amount": refund_amount, "currency": currency, "reason": None,
                    "status": refund_status, "gateway": gateway, "gateway_reference": None,
                    "failure_message": None, "created_at": refund_at, "updated_at": refund_at,
                }
            )  # fmt: skip
    return sales, given_back, rows


def _expected(
    sales: list[Sale], given_back: list[Sale], currency: str, period: int
) -> dict[str, dict[str, list[Decimal]]]:
    """{"buckets" | "gateways": {name: [gross, refunds, count]}} worked out row by row."""
    out: dict[str, dict[str, list[Decimal]]] = {
        "buckets": defaultdict(lambda: [Decimal(0)] * 3),
        "gateways": defaultdict(lambda: [Decimal(0)] * 3),
    }
    for kind, items in ((0, sales), (1, given_back)):
        for item in items:
            if item.currency != currency or not item.paid or not START <= item.at < END:
                continue
            for group, name in (
                ("buckets", item.at.isoformat()[:period]),
                ("gateways", item.gateway),
            ):
                out[group][name][kind] += item.amount
                if kind == 0:
                    out[group][name][2] += 1
    return out


def _figures(figures: RevenueFigures) -> list[Decimal]:
    assert figures.net == figures.gross - figures.refunds
    return [figures.gross.amount, figures.refunds.amount, Decimal(figures.count)]


def _report_as_sums(report: RevenueReport) -> dict[str, dict[str, list[Decimal]]]:
    return {
        "buckets": {name: _figures(f) for name, f in report.buckets},
        "gateways": {name: _figures(f) for name, f in report.by_gateway},
    }


@pytest.fixture
def statistics(database: Engine) -> tuple[StatisticsService, list[Sale], list[Sale]]:
    sales, given_back, rows = _rows(random.Random(20260101), 3000)
    created = datetime(2025, 1, 1, tzinfo=UTC)
    with database.begin() as connection:
        connection.execute(
            insert(customers),
            [{"id": "cus_ana", "email": None, "name": None, "created_at": created}],
        )
        connection.execute(
            insert(products),
            [
                {
                    "id": f"prd_{code}", "name": code, "kind": "package", "price": Decimal(1),
                    "currency": code, "credits": Decimal(1), "validity_days": None,
                    "billing_cycle": None, "trial_days": 0, "active": True, "created_at": created,
                }
                for code in CURRENCIES
            ],
        )  # fmt: skip
        connection.execute(insert(purchases), rows["purchases"])
        connection.execute(insert(refunds), rows["refunds"])
    service = StatisticsService(
        functools.partial(SqlUnitOfWork, database), FixedClock(END), SequentialIds()
    )
    return service, sales, given_back


@pytest.mark.parametrize("currency", CURRENCIES)
@pytest.mark.parametrize(("granularity", "period"), [("day", 10), ("month", 7)])
def test_revenue_equals_the_sums_worked_out_row_by_row(
    statistics: tuple[StatisticsService, list[Sale], list[Sale]],
    currency: str,
    granularity: str,
    period: int,
) -> None:
    service, sales, given_back = statistics

    report = service.revenue(
        MERCHANT, currency=currency, first="2026-01-01", last="2026-03-31", granularity=granularity
    )

    expected = _expected(sales, given_back, currency, period)
    assert report.currency.code == currency
    assert _report_as_sums(report) == {k: dict(v) for k, v in expected.items()}
    assert [name for name, _ in report.buckets] == sorted(expected["buckets"])
    totals = [sum(v[i] for v in expected["gateways"].values()) for i in range(3)]
    assert _figures(report.totals) == totals
    # every amount is Money of the one currency, with its decimals
    exponent = get_currency(currency).exponent
    for _, figures in [*report.buckets, *report.by_gateway, ("", report.totals)]:
        for money in (figures.gross, figures.refunds, figures.net):
            assert money.currency.code == currency
            assert money.amount.as_tuple().exponent == -exponent


def test_revenue_needs_a_currency_and_a_sane_window(
    statistics: tuple[StatisticsService, list[Sale], list[Sale]],
) -> None:
    service, _, _ = statistics

    for query in (
        {"currency": None},
        {"currency": "XXX1"},
        {"currency": "EUR", "first": "2026-02-01", "last": "2026-01-01"},
        {"currency": "EUR", "first": "2026-13-01"},
        {"currency": "EUR", "granularity": "week"},
    ):
        with pytest.raises(ValidationError):
            service.revenue(MERCHANT, **query)  # type: ignore[arg-type]
    with pytest.raises(ForbiddenError):
        service.revenue(Principal(Role.CUSTOMER, "key_ana", "cus_ana"), currency="EUR")
