"""The subscription rules: calendar periods, proration to the cent, trial, renewal and dunning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from hypothesis import given
from hypothesis import strategies as st

from payments.config import Settings
from payments.domain.catalog import Product
from payments.domain.errors import ConfigurationError, InvalidTransitionError, ValidationError
from payments.domain.gateway import SavedPaymentMethod
from payments.domain.money import Money
from payments.domain.periods import add_months, parse_duration, period_bounds
from payments.domain.services.subscription_stats import monthly_recurring_revenue
from payments.domain.subscription import Subscription, SubscriptionStatus, prorate

T0 = datetime(2026, 1, 31, 10, 30, tzinfo=UTC)
CARD = SavedPaymentMethod("stripe", "cus_1", "pm_1")
SCHEDULE = (timedelta(days=1), timedelta(days=3), timedelta(days=5))


def plan(
    price: str = "30.00", *, trial_days: int = 0, cycle: str = "monthly", id: str = "plan_a"
) -> Product:
    return Product.create(
        id=id,
        name="Pro",
        kind="plan",
        price=Money(price, "EUR"),
        credits="10",
        created_at=T0,
        billing_cycle=cycle,
        trial_days=trial_days,
    )


def subscribe(product: Product, now: datetime = T0) -> Subscription:
    return Subscription.start(
        id="sub_1",
        customer_id="cus_ana",
        plan=product,
        country="PT",
        payment_method="card",
        saved_method=CARD,
        now=now,
    )


# -- calendar ---------------------------------------------------------------------------------


def test_month_end_anchor_clamps_and_comes_back() -> None:
    anchor = datetime(2026, 1, 31, tzinfo=UTC)
    ends = [period_bounds(anchor, 1, i)[1].date().isoformat() for i in range(4)]
    assert ends == ["2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31"]


def test_leap_year_february_has_the_29th() -> None:
    assert add_months(datetime(2028, 1, 31, tzinfo=UTC), 1).day == 29
    assert add_months(datetime(2028, 2, 29, tzinfo=UTC), 12) == datetime(2029, 2, 28, tzinfo=UTC)


def test_quarterly_and_yearly_periods_cross_years() -> None:
    anchor = datetime(2026, 11, 30, 8, tzinfo=UTC)
    assert period_bounds(anchor, 3, 1) == (
        datetime(2027, 2, 28, 8, tzinfo=UTC),
        datetime(2027, 5, 30, 8, tzinfo=UTC),
    )
    assert period_bounds(anchor, 12, 2)[0] == datetime(2028, 11, 30, 8, tzinfo=UTC)


@given(
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1)),
    st.integers(min_value=0, max_value=240),
)
def test_months_match_dateutil_relativedelta(moment: datetime, months: int) -> None:
    assert add_months(moment, months) == moment + relativedelta(months=months)


def test_durations_of_the_test_clock() -> None:
    assert parse_duration("P15D") == timedelta(days=15)
    assert parse_duration("P1DT12H") == timedelta(days=1, hours=12)
    assert parse_duration("P2W") == timedelta(weeks=2)
    assert parse_duration("PT90M") == timedelta(minutes=90)
    for bad in ("P", "PT", "P1M", "P1Y", "15D", "P-1D", "P1.5D", ""):
        with pytest.raises(ValidationError):
            parse_duration(bad)


# -- proration --------------------------------------------------------------------------------


def test_mid_period_upgrade_is_prorated_to_the_cent() -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    end = datetime(2026, 4, 1, tzinfo=UTC)  # 31 days = 2,678,400 s
    now = start + timedelta(days=10, hours=6)  # 20 days 18 hours left = 1,792,800 s
    result = prorate(Money("30.00", "EUR"), Money("50.00", "EUR"), start, end, now)
    # 30.00 * 1792800 / 2678400 = 20.0806451... -> 20.08; 50.00 * ... = 33.4677419... -> 33.47
    assert (result.credit, result.charge) == (Money("20.08", "EUR"), Money("33.47", "EUR"))
    assert result.net == Money("13.39", "EUR")


def test_proration_rounds_half_to_even() -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    end = start + timedelta(seconds=4)
    # 0.10 * 1/4 = 0.025 -> 0.02 (even), 0.30 * 1/4 = 0.075 -> 0.08 (even)
    result = prorate(
        Money("0.10", "EUR"), Money("0.30", "EUR"), start, end, end - timedelta(seconds=1)
    )
    assert (result.credit, result.charge) == (Money("0.02", "EUR"), Money("0.08", "EUR"))


def test_zero_decimal_currency_proration() -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    end = start + timedelta(days=30)
    result = prorate(
        Money("1000", "JPY"), Money("2500", "JPY"), start, end, start + timedelta(days=20)
    )
    assert (result.credit, result.charge, result.net) == (
        Money("333", "JPY"),
        Money("833", "JPY"),
        Money("500", "JPY"),
    )


def test_upgrade_is_prorated_and_downgrade_waits_for_renewal() -> None:
    subscription = subscribe(plan())
    subscription.begin_charge("pur_1", T0)
    subscription.charge_succeeded("pur_1", T0)
    upgrade = subscription.change_plan(plan("50.00", id="plan_b"), T0 + timedelta(days=14))
    assert upgrade is not None and upgrade.net.is_positive
    assert subscription.change_plan(plan("10.00", id="plan_c"), T0) is None
    assert subscription.scheduled_plan_id == "plan_c"
    with pytest.raises(ValidationError):
        subscription.change_plan(plan("90.00", id="plan_y", cycle="yearly"), T0)


# -- the state machine ------------------------------------------------------------------------


def test_trial_then_paid_periods_anchored_at_the_trial_end() -> None:
    subscription = subscribe(plan(trial_days=14))
    assert subscription.status is SubscriptionStatus.TRIALING
    trial_end = T0 + timedelta(days=14)
    assert subscription.trial_end == subscription.current_period_end == trial_end
    assert subscription.due(trial_end - timedelta(seconds=1)) is None
    due = subscription.due(trial_end)
    assert due is not None and (due.period, due.attempt) == (0, 0)
    subscription.begin_charge("pur_1", trial_end)
    subscription.charge_succeeded("pur_1", trial_end)
    assert subscription.status is SubscriptionStatus.ACTIVE
    assert subscription.current_period_end == add_months(trial_end, 1)
    assert subscription.next_charge_at == subscription.current_period_end


def test_dunning_retries_on_schedule_then_cancels() -> None:
    subscription = subscribe(plan())
    assert subscription.status is SubscriptionStatus.INCOMPLETE
    subscription.begin_charge("pur_1", T0)
    subscription.charge_succeeded("pur_1", T0)
    renewal_at = subscription.current_period_end
    for attempt, wait in enumerate(SCHEDULE):
        due = subscription.due(subscription.next_charge_at or renewal_at)
        assert due is not None and due.attempt == attempt and due.period == 1
        subscription.begin_charge(f"pur_r{attempt}", renewal_at)
        subscription.charge_failed(
            f"pur_r{attempt}",
            renewal_at + (SCHEDULE[attempt - 1] if attempt else timedelta()),
            SCHEDULE,
        )
        assert subscription.status is SubscriptionStatus.PAST_DUE
        assert subscription.next_charge_at == renewal_at + wait
    subscription.begin_charge("pur_last", renewal_at)
    subscription.charge_failed("pur_last", renewal_at + timedelta(days=5), SCHEDULE)
    assert subscription.status is SubscriptionStatus.CANCELLED
    assert subscription.due(renewal_at + timedelta(days=60)) is None


def test_a_retry_that_pays_returns_to_active_in_the_same_period() -> None:
    subscription = subscribe(plan())
    subscription.begin_charge("pur_1", T0)
    subscription.charge_succeeded("pur_1", T0)
    renewal_at = subscription.current_period_end
    subscription.begin_charge("pur_2", renewal_at)
    subscription.charge_failed("pur_2", renewal_at, SCHEDULE)
    subscription.begin_charge("pur_3", renewal_at + timedelta(days=1))
    subscription.charge_succeeded("pur_3", renewal_at + timedelta(days=1))
    assert subscription.status is SubscriptionStatus.ACTIVE
    assert subscription.current_period_start == renewal_at
    assert subscription.next_charge_at == add_months(T0, 2)


def test_cancel_at_period_end_ends_then_and_not_before() -> None:
    subscription = subscribe(plan())
    subscription.begin_charge("pur_1", T0)
    subscription.charge_succeeded("pur_1", T0)
    subscription.cancel(at_period_end=True, now=T0 + timedelta(days=3))
    assert subscription.status is SubscriptionStatus.ACTIVE
    end = subscription.current_period_end
    assert not subscription.end_at_period_end(end - timedelta(seconds=1))
    assert subscription.due(end) is None
    assert subscription.end_at_period_end(end)
    assert subscription.status is SubscriptionStatus.CANCELLED
    with pytest.raises(InvalidTransitionError):
        subscription.replace_saved_method(CARD, end)


def test_an_old_attempts_answer_changes_nothing() -> None:
    subscription = subscribe(plan())
    subscription.begin_charge("pur_1", T0)
    subscription.charge_failed("pur_other", T0, SCHEDULE)
    assert subscription.status is SubscriptionStatus.INCOMPLETE
    assert subscription.open_charge_purchase_id == "pur_1"


def test_mrr_normalises_cycles_per_currency() -> None:
    mrr = monthly_recurring_revenue(
        [
            ("EUR", "monthly", Decimal("60.00")),
            ("EUR", "quarterly", Decimal("100.00")),
            ("EUR", "yearly", Decimal("120.00")),
            ("JPY", "yearly", Decimal("1000")),
        ]
    )
    # 60 + 33.333... + 10 = 103.33; 1000 / 12 = 83.33 -> 83
    assert mrr == [Money("103.33", "EUR"), Money("83", "JPY")]


# -- settings ---------------------------------------------------------------------------------


def test_the_dunning_schedule_is_read_from_the_environment() -> None:
    assert Settings.from_env({}).dunning_schedule == SCHEDULE
    assert Settings.from_env({"PAYMENTS_DUNNING_SCHEDULE": "2, 4"}).dunning_schedule == (
        timedelta(days=2),
        timedelta(days=4),
    )
    for bad in ("0,1", "3,1", "1,1", "x", "1,,2", "61", ",".join(str(d) for d in range(1, 12))):
        with pytest.raises(ConfigurationError, match="PAYMENTS_DUNNING_SCHEDULE"):
            Settings.from_env({"PAYMENTS_DUNNING_SCHEDULE": bad})
