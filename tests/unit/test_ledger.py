"""The ledger: balances are sums, refund shares round half up, credits expire unused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from payments.domain.ledger import (
    Account,
    Movement,
    consumption_entry,
    purchase_entries,
    refund_credit_share,
    refund_entries,
)
from payments.domain.money import Money

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _grant(purchase_id: str, credits: str, days: int, at: datetime) -> list:  # type: ignore[type-arg]
    return purchase_entries(
        Movement("c", purchase_id, Money("10.00", "EUR"), Decimal(credits)),
        validity_days=days,
        ids=[f"{purchase_id}_m", f"{purchase_id}_c"],
        now=at,
    )


def test_refund_share_rounds_half_up_to_a_hundredth() -> None:
    share = refund_credit_share(
        purchase_credits=Decimal("8"),
        purchase_amount=Money("79.99", "EUR"),
        refund_amount=Money("10.00", "EUR"),
        already_debited=Decimal(0),
        fully_refunded=False,
    )
    assert share == Decimal("1.00")
    assert refund_credit_share(
        purchase_credits=Decimal("1"),
        purchase_amount=Money("8.00", "EUR"),
        refund_amount=Money("1.00", "EUR"),
        already_debited=Decimal(0),
        fully_refunded=False,
    ) == Decimal("0.13")  # 0.125 rounds half up


def test_last_refund_takes_exactly_what_is_left() -> None:
    assert refund_credit_share(
        purchase_credits=Decimal("8"),
        purchase_amount=Money("79.99", "EUR"),
        refund_amount=Money("0.01", "EUR"),
        already_debited=Decimal("7.99"),
        fully_refunded=True,
    ) == Decimal("0.01")


def test_consumption_draws_from_the_grant_that_expires_first() -> None:
    entries = _grant("p_long", "5", 90, T0) + _grant("p_short", "5", 10, T0)
    entries.append(
        consumption_entry(id="x", customer_id="c", credits=Decimal("4"), reference="r", now=T0)
    )
    later = Account.from_entries("c", entries, T0 + timedelta(days=11))
    assert later.credits == Decimal("5")
    assert later.expired_credits == Decimal("1")


def test_refund_debits_its_own_purchase_grant() -> None:
    entries = _grant("p1", "8", 10, T0) + _grant("p2", "8", 90, T0)
    entries += refund_entries(
        Movement("c", "p2", Money("10.00", "EUR"), Decimal("8")),
        refund_id="r",
        ids=["r_m", "r_c"],
        now=T0,
    )
    account = Account.from_entries("c", entries, T0 + timedelta(days=11))
    assert account.credits == Decimal("0")
    assert account.expired_credits == Decimal("8")
    assert account.total_paid == (Money("10.00", "EUR"),)
