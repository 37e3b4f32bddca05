"""Checkouts for the benchmark: ``POST /v1/purchases`` against the in-process fake gateway.

``checkout_application`` is the real service (the container's WSGI app) with one change: its
gateways are the configured ones plus a ``FakeGateway`` (in memory, no network) named
``fake<pid>``, and every market routes to it. ``webhooks.py`` serves it under the same gunicorn
settings as the webhook figure and posts one new purchase per request, each with its own
``Idempotency-Key``.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from typing import Any

from bench_database import Check
from dependency_injector import providers
from sqlalchemy import Engine, text

from payments.adapters.sql.unit_of_work import SqlUnitOfWork
from payments.adapters.system import SystemClock, UlidGenerator
from payments.config import Settings
from payments.containers import Container, build_container
from payments.domain.routing import RoutingTable
from payments.domain.services.access import AccessService
from payments.domain.services.gateways import GatewayRegistry
from payments.gateway_assembly import build_gateways
from payments.testing import FakeGateway

CHECKOUT_PATH = "/v1/purchases"
CUSTOMER_PREFIX = "cus_checkout_"


@dataclass(frozen=True, slots=True)
class Checkout:
    """One ``POST /v1/purchases`` as a merchant's server sends it."""

    body: bytes
    key: str
    idempotency_key: str

    def headers(self) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "Authorization": f"Bearer {self.key}",
            "Idempotency-Key": self.idempotency_key,
        }


def build_checkouts(engine: Engine, count: int) -> list[Checkout]:
    """A merchant key and ``count`` checkouts of the seeded product, one new customer each."""
    access = AccessService(lambda: SqlUnitOfWork(engine), SystemClock(), UlidGenerator())
    _, secret = access.create_key("merchant")
    with engine.connect() as connection:
        product_id = connection.execute(text("SELECT id FROM products LIMIT 1")).scalar_one()
    return [
        Checkout(
            json.dumps(
                {"product_id": product_id, "country": "PT", "customer_id": f"{CUSTOMER_PREFIX}{n}"}
            ).encode(),
            secret,
            f"bench-checkout-{n}",
        )
        for n in range(count)
    ]


def check_checkouts(engine: Engine, count: int) -> list[Check]:
    """One purchase at the fake gateway and one stored idempotent answer per checkout."""
    with engine.connect() as connection:
        purchases = connection.execute(
            text(
                "SELECT count(*) FROM purchases WHERE starts_with(customer_id, :prefix) "
                "AND starts_with(gateway, 'fake')"
            ),
            {"prefix": CUSTOMER_PREFIX},
        ).scalar_one()
        answers = connection.execute(text("SELECT count(*) FROM idempotency_keys")).scalar_one()
    return [
        Check("one purchase per checkout", purchases == count, f"{purchases} of {count}"),
        Check("one stored answer per Idempotency-Key", answers == count, f"{answers} of {count}"),
    ]


_application: Any = None
_lock = threading.Lock()


def checkout_container(settings: Settings) -> Container:
    """The service's container for ``settings``, every market routed to a ``FakeGateway``."""
    container = build_container(settings)
    configured = build_gateways(settings, container.http_session())
    # One fake per worker process, named after it: each numbers its payments from 1, and the
    # (gateway, gateway reference) pairs of two workers must not collide.
    fake = FakeGateway(f"fake{os.getpid()}")
    gateways = GatewayRegistry([*(configured[name] for name in configured), fake])
    container.gateways.override(providers.Object(gateways))
    container.routing.override(providers.Object(RoutingTable.parse(f"*: {fake.name}")))
    return container


def _build() -> Any:
    return checkout_container(Settings.from_env(os.environ)).wsgi_app()


def checkout_application(environ: dict[str, Any], start_response: Any) -> Any:
    """The service with the fake gateway, built on the first request of each worker."""
    global _application  # noqa: PLW0603 - one app per worker process, built lazily
    if _application is None:
        with _lock:
            if _application is None:
                _application = _build()
    return _application(environ, start_response)
