"""Two workers renewing at once on PostgreSQL charge each period once; a mid-period upgrade is
prorated to the cent; usage is counted once per reference; the statistics hold."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import ColumnElement, Engine, Table, func, select

from payments.adapters.memory import FakeGateway, FixedClock
from payments.adapters.sql.tables import ledger_entries, subscription_charges
from payments.domain.access import Principal, Role
from payments.domain.catalog import Product
from payments.domain.errors import NotFoundError, PaymentDeclinedError
from payments.domain.money import Money
from payments.domain.services.subscriptions import CreateSubscription, SubscriptionService
from payments.domain.subscription import SubscriptionStatus
from payments.testing import Wired
from tests.integration.service import use_cases_on

ADMIN = Principal(Role.ADMIN, key_id="key_admin")
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _billing(engine: Engine) -> tuple[SubscriptionService, FakeGateway, FixedClock, Wired]:
    gateway, clock = FakeGateway("fake"), FixedClock(START)
    wired = use_cases_on(engine, gateway, clock)
    return wired.container.subscriptions(), gateway, clock, wired


def _plan(wired: Wired, price: str, trial_days: int = 0, credits: str = "10") -> Product:
    return wired.catalog.create(
        name=f"Plan {price}",
        kind="plan",
        price=Money(price, "EUR"),
        credits=credits,
        billing_cycle="monthly",
        trial_days=trial_days,
    )


def _subscribe(
    service: SubscriptionService, plan: Product, customer: str, token: str = "pm_card_visa"
) -> str:
    return service.create(CreateSubscription(customer, plan.id, "PT", token), ADMIN).id


def _count(engine: Engine, table: Table, *where: ColumnElement[bool]) -> int:
    with engine.connect() as connection:
        query = select(func.count()).select_from(table).where(*where)
        return int(connection.execute(query).scalar_one())


@pytest.mark.postgres
@pytest.mark.parametrize("path", ["claims", "same subscriptions"])
def test_two_workers_at_once_charge_each_period_once(postgres_engine: Engine, path: str) -> None:
    service, gateway, clock, wired = _billing(postgres_engine)
    plan = _plan(wired, "12.00", trial_days=1)
    ids = [_subscribe(service, plan, f"cus_race_{path[0]}_{n}") for n in range(24)]
    clock.advance(days=2)
    start = threading.Barrier(2)
    outcomes: list[Counter[str]] = [Counter(), Counter()]
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            start.wait(timeout=30)
            if path == "claims":
                while done := service.run_due(limit=5):
                    outcomes[index].update(done)
            else:  # both race for every subscription, past any claim
                for subscription_id in ids if index else reversed(ids):
                    outcomes[index][service.renew(subscription_id)] += 1
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not errors
    assert outcomes[0]["renewed"] + outcomes[1]["renewed"] == len(ids)
    keys = [charge.idempotency_key for charge in gateway.saved.charged.values()]
    assert sorted(keys) == sorted(f"{s}:period:0:attempt:0" for s in ids)
    if path == "claims":  # claimed rows: not even a replayed request
        assert len(gateway.saved.charges) == len(ids)
    assert _count(postgres_engine, subscription_charges) >= len(ids)
    for subscription_id in ids:
        subscription = service.get(subscription_id, ADMIN)
        assert subscription.status is SubscriptionStatus.ACTIVE
        assert subscription.charging_period == 1
    grants = _count(
        postgres_engine,
        ledger_entries,
        ledger_entries.c.kind == "purchase_credits",
        ledger_entries.c.customer_id.like(f"cus_race_{path[0]}_%"),
    )
    assert grants == len(ids)


def test_mid_period_upgrade_is_charged_the_prorated_difference(database: Engine) -> None:
    service, gateway, clock, wired = _billing(database)
    basic, pro = _plan(wired, "30.00", credits="10"), _plan(wired, "50.00", credits="20")
    subscription_id = _subscribe(service, basic, "cus_up")  # paid at once: Mar 1 .. Apr 1
    clock.advance(days=10, hours=6)  # 20 days 18 hours of 31 days left

    changed = service.change(subscription_id, pro.id, ADMIN)

    # credit 30.00 x 1,792,800 / 2,678,400 s = 20.08, charge 50.00 x the same = 33.47
    assert changed.plan_id == pro.id and changed.price == Money("50.00", "EUR")
    proration = service.get(subscription_id, ADMIN).latest_purchase_id
    assert proration is not None
    purchase = wired.purchases.get(proration, ADMIN)
    assert purchase.amount == Money("13.39", "EUR")
    assert purchase.credits == Decimal("6.69")  # (20 - 10) x 20.75 / 31 days, to the hundredth
    assert purchase.status.value == "completed"
    assert gateway.saved.charges[-1].idempotency_key == f"{subscription_id}:change:{proration}"
    clock.advance(days=21)
    assert service.run_due() == {"renewed": 1}
    assert gateway.saved.charges[-1].amount == Money("50.00", "EUR")


def test_a_declined_upgrade_keeps_the_plan(database: Engine) -> None:
    service, _gateway, clock, wired = _billing(database)
    basic, pro = _plan(wired, "30.00"), _plan(wired, "50.00")
    subscription_id = _subscribe(service, basic, "cus_down")
    service.update_payment_method(subscription_id, "pm_card_chargeCustomerFail", ADMIN)
    clock.advance(days=3)

    with pytest.raises(PaymentDeclinedError) as declined:
        service.change(subscription_id, pro.id, ADMIN)

    assert declined.value.details["purchase_id"]
    assert service.get(subscription_id, ADMIN).plan_id == basic.id


def test_a_cheaper_plan_starts_at_the_renewal(database: Engine) -> None:
    service, gateway, clock, wired = _billing(database)
    pro, basic = _plan(wired, "50.00"), _plan(wired, "30.00")
    subscription_id = _subscribe(service, pro, "cus_cheaper")

    scheduled = service.change(subscription_id, basic.id, ADMIN)
    assert (scheduled.plan_id, scheduled.scheduled_plan_id) == (pro.id, basic.id)
    clock.advance(days=31)
    assert service.run_due() == {"renewed": 1}

    renewed = service.get(subscription_id, ADMIN)
    assert (renewed.plan_id, renewed.scheduled_plan_id) == (basic.id, None)
    assert gateway.saved.charges[-1].amount == Money("30.00", "EUR")


def test_usage_is_counted_once_per_reference_in_its_period(database: Engine) -> None:
    service, _, clock, wired = _billing(database)
    subscription_id = _subscribe(service, _plan(wired, "30.00"), "cus_usage")
    first, new = service.record_usage(
        subscription_id, ADMIN, metric="api_calls", quantity="100", reference="r1"
    )
    again, repeated = service.record_usage(
        subscription_id, ADMIN, metric="api_calls", quantity="100", reference="r1"
    )
    service.record_usage(subscription_id, ADMIN, metric="api_calls", quantity="2.5", reference="r2")
    service.record_usage(subscription_id, ADMIN, metric="seats", quantity="3", reference="r3")
    assert (new, repeated, again.id) == (True, False, first.id)
    assert service.usage(subscription_id, ADMIN).totals == {
        "api_calls": Decimal("102.5"),
        "seats": Decimal("3"),
    }
    period_start = service.get(subscription_id, ADMIN).current_period_start
    clock.advance(days=31)
    service.run_due()
    service.record_usage(subscription_id, ADMIN, metric="seats", quantity="1", reference="r4")
    assert service.usage(subscription_id, ADMIN).totals == {"seats": Decimal("1")}
    assert service.usage(subscription_id, ADMIN, period_start).totals["api_calls"] == Decimal(
        "102.5"
    )
    bob = Principal(Role.CUSTOMER, key_id="key_bob", customer_id="cus_bob")
    with pytest.raises(NotFoundError):
        service.usage(subscription_id, bob)


def test_statistics_count_churn_and_normalise_mrr(database: Engine) -> None:
    service, _, clock, wired = _billing(database)
    monthly = _plan(wired, "30.00")
    yearly = wired.catalog.create(
        name="Yearly",
        kind="plan",
        price=Money("120.00", "EUR"),
        credits="100",
        billing_cycle="yearly",
    )
    quarterly_jpy = wired.catalog.create(
        name="Quarterly",
        kind="plan",
        price=Money("1000", "JPY"),
        credits="1",
        billing_cycle="quarterly",
    )
    kept = [
        _subscribe(service, plan, f"cus_stat_{n}")
        for n, plan in enumerate((monthly, yearly, quarterly_jpy))
    ]
    gone = _subscribe(service, monthly, "cus_stat_gone")
    _subscribe(service, _plan(wired, "9.00", trial_days=14), "cus_stat_trial")
    service.cancel(gone, ADMIN, at_period_end=False)
    stats_service = wired.container.subscription_stats()

    stats = stats_service.stats(ADMIN, timedelta(days=30))

    assert stats.counts["active"] == len(kept)
    assert (stats.counts["cancelled"], stats.counts["trialing"]) == (1, 1)
    assert stats.cancelled_in_window == 1
    assert stats.churn == Decimal("0.2000")  # 1 / (4 billed now + 1 cancelled)
    # EUR: 30.00 + 120.00 / 12 = 40.00; JPY: 1000 / 3 = 333.33... -> 333
    assert stats.mrr == [Money("40.00", "EUR"), Money("333", "JPY")]
    clock.advance(days=31)
    assert stats_service.stats(ADMIN, timedelta(days=30)).cancelled_in_window == 0
