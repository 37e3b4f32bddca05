"""First purchases racing for a customer nobody has seen yet all succeed, over real HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests
from sqlalchemy import Engine, func, select

from payments.adapters.sql.tables import customers, purchases
from tests.integration.service import RunningService, running_service

RACERS = 10
PACKAGE = {
    "name": "8 Hour Premium Package",
    "kind": "package",
    "price": {"amount": "79.99", "currency": "EUR"},
    "credits": "8",
    "validity_days": 60,
}


@pytest.fixture
def service(database: Engine) -> Iterator[RunningService]:
    url = database.url.render_as_string(hide_password=False)
    with running_service({"PAYMENTS_DATABASE_URL": url}) as running:
        yield running


def _race(service: RunningService, key: str, bodies: list[dict[str, object]]) -> list[int]:
    """POST each body to /v1/purchases from its own thread, all released together."""
    barrier = threading.Barrier(len(bodies))
    statuses = [0] * len(bodies)

    def buy(index: int) -> None:
        with requests.Session() as http:
            barrier.wait()
            statuses[index] = http.post(
                service.base_url + "/v1/purchases",
                json=bodies[index],
                headers={"Authorization": f"Bearer {key}"},
                timeout=60,
            ).status_code

    threads = [threading.Thread(target=buy, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def _count(engine: Engine, table: object) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_racing_first_purchases_of_a_new_customer_all_succeed(
    service: RunningService, database: Engine
) -> None:
    key = service.admin_key()
    product = service.call("POST", "/v1/products", key, PACKAGE).json()
    body = {"product_id": product["id"], "customer_id": "cus_brand_new", "country": "PT"}

    statuses = _race(service, key, [body] * RACERS)

    assert statuses == [201] * RACERS
    assert _count(database, customers) == 1
    assert _count(database, purchases) == RACERS


def test_racing_guest_checkouts_with_one_email_share_one_guest(
    service: RunningService, database: Engine
) -> None:
    key = service.admin_key()
    product = service.call("POST", "/v1/products", key, PACKAGE).json()
    body = {
        "product_id": product["id"],
        "customer": {"email": "Guest@Example.com", "name": "Ana"},
        "country": "PT",
    }

    statuses = _race(service, key, [body] * RACERS)

    assert statuses == [201] * RACERS
    assert _count(database, customers) == 1
