"""A monthly plan with a 14-day trial, over HTTP through the sandbox test clock: the real Stripe
adapter against the built-in Stripe simulator, renewals run by the worker's job, on SQLite and
PostgreSQL; one renewal is run by `payments worker` as its own process."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from payments.adapters.sql.tables import ledger_entries
from payments.entrypoints.cli.worker import run_round, worker_jobs
from tests.integration.service import (
    RunningService,
    payments_env,
    run_payments,
    running_service,
)

PLAN = {
    "name": "Pro monthly",
    "kind": "plan",
    "price": {"amount": "29.99", "currency": "EUR"},
    "credits": "10",
    "billing_cycle": "monthly",
    "trial_days": 14,
}


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class Billing:
    """The service, an admin key, and the worker's jobs of the same container."""

    def __init__(self, service: RunningService) -> None:
        self.service = service
        self.key = service.admin_key()
        self.jobs = worker_jobs(service.container, service.container.settings())

    def call(self, method: str, path: str, body: object = None, status: int = 200) -> Any:
        answer = self.service.call(method, path, self.key, body)
        assert answer.status_code == status, answer.text
        return answer.json()

    def advance(self, duration: str) -> datetime:
        return _time(self.call("POST", "/v1/sandbox/clock", {"advance": duration})["now"])

    def work(self) -> dict[str, int]:
        return run_round(self.jobs)

    def credits(self, customer_id: str) -> str:
        return str(self.call("GET", f"/v1/accounts/{customer_id}")["credits"])


def _credit_grants(engine: Engine, customer_id: str) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count()).where(
                    ledger_entries.c.customer_id == customer_id,
                    ledger_entries.c.asset == "credits",
                    ledger_entries.c.kind == "purchase_credits",
                )
            ).scalar_one()
        )


def test_trial_renewals_dunning_and_cancel_at_period_end_through_the_test_clock(
    database: Engine,
) -> None:
    env = {"PAYMENTS_DATABASE_URL": _url(database), "PAYMENTS_ROUTING": "*: stripe"}
    with running_service(env) as service:
        api = Billing(service)
        plan = api.call("POST", "/v1/products", PLAN, status=201)
        subscribe = {
            "customer_id": "cus_trial",
            "plan_id": plan["id"],
            "country": "PT",
            "payment_method_token": "pm_card_visa",
        }
        created = api.call("POST", "/v1/subscriptions", subscribe, status=201)
        sub = f"/v1/subscriptions/{created['id']}"
        assert created["status"] == "trialing"
        assert created["latest_purchase_id"] is None
        trial_end = _time(created["trial_end"])
        assert trial_end - _time(created["current_period_start"]) == timedelta(days=14)
        assert api.work().get("renewed", 0) == 0
        assert api.credits("cus_trial") == "0.00"

        # Day 14: the trial ends and the first period is charged, off-session at Stripe.
        api.advance("P14D")
        assert api.work()["renewed"] == 1
        first = api.call("GET", sub)
        assert first["status"] == "active"
        assert _time(first["current_period_start"]) == trial_end
        first_end = _time(first["current_period_end"])
        assert first_end.day == trial_end.day or first_end.day < trial_end.day  # calendar month
        purchase = api.call("GET", f"/v1/purchases/{first['latest_purchase_id']}")
        assert purchase["status"] == "completed"
        assert purchase["amount"] == {"amount": "29.99", "currency": "EUR"}
        assert purchase["gateway"] == "stripe"
        assert api.credits("cus_trial") == "10.00"
        assert api.work().get("renewed", 0) == 0  # nothing more is due

        # A month later: the renewal.
        api.advance("P31D")
        assert api.work()["renewed"] == 1
        second = api.call("GET", sub)
        assert second["status"] == "active"
        assert second["current_period_start"] == first["current_period_end"]
        assert api.credits("cus_trial") == "20.00"

        # The card now declines every charge: the next renewal fails and dunning starts.
        api.call(
            "POST", f"{sub}/payment_method", {"payment_method_token": "pm_card_chargeCustomerFail"}
        )
        api.advance("P31D")
        assert api.work()["declined"] == 1
        overdue = api.call("GET", sub)
        assert overdue["status"] == "past_due"
        assert overdue["current_period_start"] == second["current_period_end"]
        assert _time(overdue["next_charge_at"]) > _time(overdue["current_period_start"])
        failed = api.call("GET", f"/v1/purchases/{overdue['latest_purchase_id']}")
        assert (failed["status"], failed["failure_code"]) == ("failed", "card_declined")
        assert api.credits("cus_trial") == "20.00"

        # A good card again: the retry a day later pays the same period.
        api.call("POST", f"{sub}/payment_method", {"payment_method_token": "pm_card_visa"})
        api.advance("P1D")
        assert api.work()["renewed"] == 1
        recovered = api.call("GET", sub)
        assert recovered["status"] == "active"
        assert recovered["current_period_start"] == overdue["current_period_start"]
        assert recovered["failed_attempts"] == 0
        assert api.credits("cus_trial") == "30.00"

        # Cancel at period end: still active until then, cancelled then, never charged again.
        ending = api.call("POST", f"{sub}/cancel", {"at_period_end": True})
        assert (ending["status"], ending["cancel_at_period_end"]) == ("active", True)
        assert api.work().get("ended", 0) == 0
        api.advance("P31D")
        assert api.work()["ended"] == 1
        cancelled = api.call("GET", sub)
        assert cancelled["status"] == "cancelled"
        assert cancelled["cancelled_at"] == recovered["current_period_end"]
        api.advance("P62D")
        assert not any(api.work().values())
        assert api.credits("cus_trial") == "30.00"
        assert _credit_grants(database, "cus_trial") == 3  # once per paid period


def test_a_worker_process_sees_the_clock_the_service_moved(sqlite_engine: Engine) -> None:
    """`payments worker --rounds 1`, its own process, reads the test clock from the database and
    charges the trial's end at the Stripe simulator the service serves."""
    url = _url(sqlite_engine)
    env = {"PAYMENTS_DATABASE_URL": url, "PAYMENTS_ROUTING": "*: stripe"}
    with running_service(env) as service:
        api = Billing(service)
        plan = api.call("POST", "/v1/products", PLAN, status=201)
        created = api.call(
            "POST",
            "/v1/subscriptions",
            {
                "customer_id": "cus_proc",
                "plan_id": plan["id"],
                "country": "PT",
                "payment_method_token": "pm_card_visa",
            },
            status=201,
        )
        api.advance("P15D")
        worker_env = payments_env(
            url, PAYMENTS_ROUTING="*: stripe", PAYMENTS_PUBLIC_BASE_URL=service.base_url
        )
        done = run_payments("worker", "--rounds", "1", "--interval", "0", env=worker_env)
        assert done.returncode == 0, done.stderr
        assert "renewed 1" in done.stderr + done.stdout
        assert api.call("GET", f"/v1/subscriptions/{created['id']}")["status"] == "active"
        assert api.credits("cus_proc") == "10.00"


def test_buying_a_plan_as_a_purchase_points_to_subscriptions(sqlite_engine: Engine) -> None:
    with running_service({"PAYMENTS_DATABASE_URL": _url(sqlite_engine)}) as service:
        api = Billing(service)
        plan = api.call("POST", "/v1/products", PLAN, status=201)
        answer = service.call(
            "POST",
            "/v1/purchases",
            api.key,
            {"product_id": plan["id"], "customer_id": "cus_ana", "country": "PT"},
        )
        assert answer.status_code == 422
        assert answer.json()["subscribe_at"] == "/v1/subscriptions"


def test_a_market_routed_to_a_gateway_without_saved_methods_is_refused(
    sqlite_engine: Engine,
) -> None:
    env = {"PAYMENTS_DATABASE_URL": _url(sqlite_engine), "PAYMENTS_ROUTING": "*: payu"}
    with running_service(env) as service:
        api = Billing(service)
        plan = api.call("POST", "/v1/products", PLAN, status=201)
        answer = service.call(
            "POST",
            "/v1/subscriptions",
            api.key,
            {
                "customer_id": "cus_ana",
                "plan_id": plan["id"],
                "country": "PT",
                "payment_method_token": "pm_card_visa",
            },
        )
        assert answer.status_code == 422, answer.text
        assert answer.json()["code"] == "unsupported_by_gateway"


@pytest.mark.parametrize("window", ["P1M", "nonsense", "P0D"])
def test_stats_refuse_a_bad_window(sqlite_engine: Engine, window: str) -> None:
    with running_service({"PAYMENTS_DATABASE_URL": _url(sqlite_engine)}) as service:
        answer = service.call(
            "GET", f"/v1/stats/subscriptions?window={window}", service.admin_key()
        )
        assert answer.status_code == 422


def test_the_subscriptions_command_lists_shows_and_cancels(sqlite_engine: Engine) -> None:
    url = _url(sqlite_engine)
    env = {"PAYMENTS_DATABASE_URL": url, "PAYMENTS_ROUTING": "*: stripe"}
    with running_service(env) as service:
        api = Billing(service)
        plan = api.call("POST", "/v1/products", PLAN, status=201)
        created = api.call(
            "POST",
            "/v1/subscriptions",
            {
                "customer_id": "cus_cli",
                "plan_id": plan["id"],
                "country": "PT",
                "payment_method_token": "pm_card_visa",
            },
            status=201,
        )
        cli_env = payments_env(url, PAYMENTS_ROUTING="*: stripe")

        listed = run_payments("subscriptions", "list", "--customer-id", "cus_cli", env=cli_env)
        shown = run_payments("subscriptions", "show", created["id"], env=cli_env)
        ending = run_payments(
            "subscriptions", "cancel", created["id"], "--at-period-end", env=cli_env
        )
        cancelled = run_payments("subscriptions", "cancel", created["id"], env=cli_env)
        missing = run_payments("subscriptions", "show", "sub_nope", env=cli_env)

        assert listed.returncode == 0, listed.stderr
        [header, line] = listed.stdout.splitlines()
        assert header.startswith("id\tcustomer_id\tplan_id\tstatus")
        assert line.split("\t")[:4] == [created["id"], "cus_cli", plan["id"], "trialing"]
        assert "status: trialing" in shown.stdout and "price: 29.99 EUR monthly" in shown.stdout
        assert ending.stdout.strip().startswith(f"{created['id']}: cancels at ")
        assert cancelled.stdout.strip() == f"{created['id']}: cancelled"
        assert api.call("GET", f"/v1/subscriptions/{created['id']}")["status"] == "cancelled"
        assert missing.returncode == 2 and "does not exist" in missing.stderr
