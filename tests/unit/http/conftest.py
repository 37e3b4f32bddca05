"""The real Falcon app built around the in-memory fakes, with one API key per role."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import falcon.testing
import pytest
from dependency_injector import providers

from payments.adapters.memory import (
    FakeGateway,
    FixedClock,
    InMemoryRateLimiter,
    InMemoryStore,
    SequentialIds,
)
from payments.domain.purchase import Purchase
from payments.domain.services.guest_checkout import GuestCheckoutLimits
from payments.entrypoints.http.app import ApiServices, HttpSettings
from payments.sandbox.controller import SandboxController
from payments.testing import bootstrap

PREMIUM = {
    "name": "8 Hour Premium Package",
    "kind": "package",
    "price": {"amount": "79.99", "currency": "EUR"},
    "credits": "8",
    "validity_days": 60,
}


class RecordingSandbox:
    """A sandbox controller on the fake gateway: approves and delivers through the real app."""

    def __init__(self, gateway: FakeGateway) -> None:
        self.gateway = gateway
        self.api: Api | None = None
        self.calls: list[tuple[str, str]] = []

    def act(self, purchase: Purchase, action: str) -> dict[str, object]:
        self.calls.append((purchase.id, action))
        ref = purchase.gateway_reference
        assert ref is not None
        getattr(self.gateway, action)(ref)
        assert self.api is not None
        return {"deliveries": self.api.deliver_all()}


@dataclass
class Api:
    """The app, its fakes and a bearer header per role (customer keys for cus_ana and cus_bob)."""

    client: falcon.testing.TestClient
    store: InMemoryStore
    clock: FixedClock
    gateway: FakeGateway
    limiter: InMemoryRateLimiter
    keys: dict[str, str] = field(default_factory=dict)
    key_ids: dict[str, str] = field(default_factory=dict)
    services: ApiServices | None = None

    def auth(self, role: str | None) -> dict[str, str]:
        """The Authorization header of ``role`` (``admin``, ``merchant``, ``ana``, ``bob``,
        ``public``), none for ``None``."""
        return {} if role is None else {"Authorization": f"Bearer {self.keys[role]}"}

    def post(
        self,
        path: str,
        body: object = None,
        *,
        role: str | None = "admin",
        headers: Mapping[str, str] | None = None,
        raw: bytes | None = None,
        remote_addr: str | None = None,
    ) -> falcon.testing.Result:
        all_headers = {**self.auth(role), **(headers or {})}
        data = raw
        if data is None and body is not None:
            data = json.dumps(body).encode()
            all_headers.setdefault("Content-Type", "application/json")
        return self.client.simulate_post(
            path, body=data, headers=all_headers, remote_addr=remote_addr
        )

    def get(
        self,
        path: str,
        *,
        role: str | None = "admin",
        params: Mapping[str, str] | None = None,
    ) -> falcon.testing.Result:
        return self.client.simulate_get(path, headers=self.auth(role), params=params)

    def create_premium(self) -> dict[str, object]:
        result = self.post("/v1/products", PREMIUM, role="admin")
        assert result.status_code == 201, result.text
        product: dict[str, object] = result.json
        return product

    def create_plan(self, price: str = "30.00", *, trial_days: int = 0) -> dict[str, object]:
        result = self.post(
            "/v1/products",
            {
                "name": f"Plan at {price}",
                "kind": "plan",
                "price": {"amount": price, "currency": "EUR"},
                "credits": "10",
                "billing_cycle": "monthly",
                "trial_days": trial_days,
            },
        )
        assert result.status_code == 201, result.text
        plan: dict[str, object] = result.json
        return plan

    def buy(self, product_id: object, customer_id: str = "cus_ana", **extra: object) -> str:
        result = self.post(
            "/v1/purchases",
            {"product_id": product_id, "customer_id": customer_id, "country": "PT", **extra},
            role="merchant",
        )
        assert result.status_code == 201, result.text
        purchase_id: str = result.json["id"]
        return purchase_id

    def gateway_reference(self, purchase_id: str) -> str:
        reference: str = self.get(f"/v1/purchases/{purchase_id}").json["gateway_reference"]
        return reference

    def deliver_all(self, **drain: int) -> list[str]:
        """POST each queued fake-gateway notification to the webhook, as the provider would."""
        statuses = []
        for headers, body in self.gateway.drain(**drain):
            result = self.post("/v1/webhooks/fake", raw=body, headers=headers, role=None)
            assert result.status_code == 200, result.text
            statuses.append(result.json["status"])
        return statuses

    def snapshot(self) -> tuple[int, ...]:
        """Sizes of every table: to assert that a refused request stored nothing."""
        t = self.store.tables
        return (
            len(t.products),
            len(t.customers),
            len(t.purchases),
            len(t.refunds),
            len(t.ledger),
            len(t.inbox),
            len(t.outbox),
            len(t.audit),
            len(t.billing.subscriptions),
            len(t.billing.usage),
        )


def build_api(
    *,
    settings: HttpSettings | None = None,
    guest_limits: GuestCheckoutLimits | None = None,
    sandbox: bool = False,
    ready: bool = True,
    webhook_destinations: Callable[[str], None] | None = None,
) -> Api:
    """The real app on fakes, built by the composition root with its adapters overridden
    (``payments.testing.bootstrap``): routing ``*: fake``, one key per role."""
    store, clock, gateway = InMemoryStore(), FixedClock(), FakeGateway("fake")
    limiter = InMemoryRateLimiter(clock)
    wired = bootstrap(
        gateways=[gateway],
        routing="*: fake",
        store=store,
        clock=clock,
        ids=SequentialIds(),
        rate_limiter=limiter,
        guest_limits=guest_limits,
    )
    container, access = wired.container, wired.access
    controller = RecordingSandbox(gateway) if sandbox else None
    sandbox_port: SandboxController | None = controller
    container.readiness.override(providers.Object(lambda: ready))
    container.http_settings.override(providers.Object(settings or HttpSettings()))
    container.sandbox_controller.override(providers.Object(sandbox_port))
    if webhook_destinations is not None:
        container.webhook_destinations.override(providers.Object(webhook_destinations))
    services: ApiServices = container.api_services()
    app = container.api()
    api = Api(falcon.testing.TestClient(app), store, clock, gateway, limiter, services=services)
    for name, role, customer_id in (
        ("admin", "admin", None),
        ("merchant", "merchant", None),
        ("ana", "customer", "cus_ana"),
        ("bob", "customer", "cus_bob"),
        ("public", "public", None),
    ):
        key, secret = access.create_key(role, customer_id)
        api.keys[name] = secret
        api.key_ids[name] = key.id
    if controller is not None:
        controller.api = api
    return api


@pytest.fixture
def api() -> Api:
    return build_api()


def assert_problem(result: falcon.testing.Result, status: int, code: str) -> dict[str, object]:
    """The response is an RFC 9457 problem with the documented members."""
    assert result.status_code == status, result.text
    assert result.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, object] = result.json
    assert problem["status"] == status
    assert problem["code"] == code
    assert problem["type"] == f"https://payments.dev/problems/{code}"
    assert isinstance(problem["title"], str)
    assert isinstance(problem["detail"], str)
    assert problem["request_id"] == result.headers["x-request-id"]
    assert "Traceback" not in result.text
    return problem
