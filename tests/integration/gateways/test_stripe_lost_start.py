"""A checkout whose Stripe answer was lost settles after one worker round, against localstripe on
SQLite and PostgreSQL: the create call frozen past our read timeout, and the process killed
between Stripe's answer and our commit. Either way there is one PaymentIntent, the purchase ends
``completed`` (paid) or ``expired`` (unpaid past its window, the intent cancelled), and the
client's retry under its Idempotency-Key is answered 201 with that purchase."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import falcon.testing
import pytest
import requests
import stripe
from sqlalchemy import Engine

from payments.adapters.gateways.stripe import StripeGateway, make_stripe_client
from payments.adapters.memory import FixedClock
from payments.domain.access import Principal, Role
from payments.testing import Wired
from payments.testing.contracts.repositories.builders import a_product
from tests.integration.gateways.localstripe_process import KEY, SECRET, StripeFront, pay
from tests.integration.service import use_cases_on

pytestmark = pytest.mark.localstripe

API_VERSION = "2020-08-27"  # localstripe's: it knows only payment_method_types
# Long enough for localstripe (a Python server) on a loaded machine: at 0.3 s a worker round's
# look-up timed out once under a full test run beside a benchmark, and the round reported it.
READ_TIMEOUT = 1.0
PAYMENT_WINDOW = timedelta(hours=24)
SHORT_WINDOW = timedelta(hours=1)
ADMIN = Principal(Role.ADMIN, "key_admin")


@pytest.fixture
def front(localstripe: str) -> Iterator[StripeFront]:
    requests.delete(localstripe + "/_config/data", timeout=5).raise_for_status()
    front = StripeFront(localstripe)
    try:
        yield front
    finally:
        front.close()


@pytest.fixture
def browser(localstripe: str) -> stripe.StripeClient:
    """What the payer's browser (Stripe.js) talks to."""
    return stripe.StripeClient(KEY, base_addresses={"api": localstripe})


def stripe_through(front: StripeFront) -> StripeGateway:
    """Our Stripe adapter with a read timeout the front's frozen answer outlasts."""
    client = make_stripe_client(
        KEY, api_base=front.url, max_network_retries=0, timeout=(2.0, READ_TIMEOUT)
    )
    return StripeGateway(client, [SECRET], payment_methods_param="payment_method_types")


@dataclass
class Shop:
    """The use cases on one database with Stripe behind the front, and the HTTP API on them."""

    wired: Wired
    clock: FixedClock
    http: falcon.testing.TestClient
    secret: str
    product_id: str

    def checkout(self, key: str) -> falcon.testing.Result:
        return self.http.simulate_post(
            "/v1/purchases",
            json={"product_id": self.product_id, "customer_id": "cus_ana", "country": "ES"},
            headers={"Authorization": f"Bearer {self.secret}", "Idempotency-Key": key},
        )

    def worker_round(self, window: timedelta) -> set[str]:
        """What ``payments worker`` does to purchases in one round; the ids it settled or
        expired."""
        report = self.wired.purchases.reconcile(expire_after=window)
        assert report.errors == {}
        return {*report.settled, *report.expired}


def open_shop(database: Engine, front: StripeFront) -> Shop:
    clock = FixedClock(datetime.now(UTC))
    wired = use_cases_on(database, stripe_through(front), clock)
    _, secret = wired.access.create_key("merchant")
    with wired.unit_of_work() as uow:
        product = a_product()
        uow.products.add(product)
        uow.commit()
    http = falcon.testing.TestClient(wired.container.api())
    return Shop(wired, clock, http, secret, product.id)


def intents_of(browser: stripe.StripeClient, purchase_id: str) -> list[dict[str, Any]]:
    """Every PaymentIntent at localstripe made for the purchase (by its metadata)."""
    listed = browser.v1.payment_intents.list(params={"limit": 100}).to_dict()["data"]
    return [i for i in listed if i["metadata"].get("purchase_id") == purchase_id]


def settle_and_check(
    shop: Shop, browser: stripe.StripeClient, purchase_id: str, *, paid: bool
) -> None:
    """Pay (or not), one worker round, then the checks every lost answer must pass."""
    (intent,) = intents_of(browser, purchase_id)
    if paid:
        pay(browser, intent["id"])
        shop.clock.advance(minutes=20)  # past the worker's look-up delay
    else:
        shop.clock.advance(hours=2)  # past the short window, well within the key's 23 h
    settled = shop.worker_round(PAYMENT_WINDOW if paid else SHORT_WINDOW)
    retried = shop.checkout("checkout-1")

    assert settled == {purchase_id}
    assert retried.status_code == 201, retried.text
    assert retried.headers["idempotent-replayed"] == "true"
    assert retried.json["id"] == purchase_id
    assert retried.json["gateway_reference"] == intent["id"]
    assert retried.json["status"] == ("completed" if paid else "expired")
    (after,) = intents_of(browser, purchase_id)  # the re-sent create made no second intent
    assert after["status"] == ("succeeded" if paid else "canceled")
    account = shop.wired.accounts.get("cus_ana", ADMIN)
    assert account.credits == Decimal(8 if paid else 0)


@pytest.mark.parametrize("paid", [True, False], ids=["paid", "unpaid"])
def test_a_create_frozen_past_our_timeout_settles_after_one_worker_round(
    database: Engine, front: StripeFront, browser: stripe.StripeClient, paid: bool
) -> None:
    shop = open_shop(database, front)
    front.hold = 5 * READ_TIMEOUT
    first = shop.checkout("checkout-1")
    front.hold = 0
    still_unknown = shop.checkout("checkout-1")

    assert first.status_code == 503, first.text
    purchase_id = first.json["purchase_id"]
    assert still_unknown.status_code == 503  # replayed until the worker settles it
    assert shop.wired.purchases.sync(purchase_id)[0].gateway_reference is None  # too soon
    settle_and_check(shop, browser, purchase_id, paid=paid)


KILLED_CHECKOUT = """
import json, os, signal, sys

import falcon.testing
from dependency_injector import providers

from payments.adapters.gateways.stripe import StripeGateway, make_stripe_client
from payments.config import Settings
from payments.containers import build_container
from payments.domain.services.gateways import GatewayRegistry


class KilledAfterStart(StripeGateway):
    def start_payment(self, request):
        start = super().start_payment(request)
        os.kill(os.getpid(), signal.SIGKILL)  # Stripe answered; nothing of it is committed
        return start


given = json.loads(sys.argv[1])
client = make_stripe_client(given["key"], api_base=given["front"], max_network_retries=0)
gateway = KilledAfterStart(client, [given["secret"]], payment_methods_param="payment_method_types")
container = build_container(Settings.from_env(os.environ))
container.gateways.override(providers.Object(GatewayRegistry([gateway])))
answer = falcon.testing.TestClient(container.api()).simulate_post(
    "/v1/purchases", json=given["body"], headers=given["headers"]
)
print("not killed:", answer.status_code, answer.text)
"""


@pytest.mark.parametrize("paid", [True, False], ids=["paid", "unpaid"])
def test_a_checkout_killed_after_stripe_answered_settles_after_one_worker_round(
    database: Engine,
    front: StripeFront,
    browser: stripe.StripeClient,
    localstripe: str,
    tmp_path: Path,
    paid: bool,
) -> None:
    shop = open_shop(database, front)
    script = tmp_path / "killed_checkout.py"
    script.write_text(KILLED_CHECKOUT)
    given = {
        "key": KEY,
        "secret": SECRET,
        "front": front.url,
        "body": {"product_id": shop.product_id, "customer_id": "cus_ana", "country": "ES"},
        "headers": {"Authorization": f"Bearer {shop.secret}", "Idempotency-Key": "checkout-1"},
    }
    env = {
        **os.environ,
        "PAYMENTS_DATABASE_URL": database.url.render_as_string(hide_password=False),
        "PAYMENTS_STRIPE_SECRET_KEY": KEY,
        "PAYMENTS_STRIPE_WEBHOOK_SECRET": SECRET,
        "PAYMENTS_STRIPE_API_BASE": front.url,
        "PAYMENTS_STRIPE_API_VERSION": API_VERSION,
    }

    killed = subprocess.run(
        [sys.executable, str(script), json.dumps(given)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    shop.clock.current = datetime.now(UTC)
    in_flight = shop.checkout("checkout-1")

    assert killed.returncode == -9, killed.stdout + killed.stderr
    assert in_flight.status_code == 409, in_flight.text  # its purchase is not settled yet
    (purchase,) = shop.wired.purchases.list_purchases(ADMIN).items
    assert (purchase.status.value, purchase.gateway_reference) == ("pending", None)
    settle_and_check(shop, browser, purchase.id, paid=paid)
