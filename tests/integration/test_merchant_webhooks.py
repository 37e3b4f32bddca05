"""Merchant webhooks end to end on SQLite and PostgreSQL: outbox events fanned out, POSTed signed
over loopback to the example receiver, retried with backoff, resent, and given up on after the
three-day window."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
import requests
from dependency_injector import providers
from examples.webhook_receiver import once_per_event, receiver
from sqlalchemy import Engine

from payments.adapters.memory import FixedClock
from payments.adapters.sql.migrate import upgrade
from payments.adapters.sql.unit_of_work import SqlUnitOfWork
from payments.adapters.system import UlidGenerator
from payments.adapters.webhooks import (
    FernetSecretBox,
    RequestsWebhookSender,
    any_http_destination,
)
from payments.config import SANDBOX_WEBHOOK_SECRETS_KEY
from payments.domain.events import PurchaseCompleted, PurchaseCreated
from payments.domain.money import Money
from payments.domain.services.webhooks import (
    GAVE_UP,
    CreatedEndpoint,
    WebhookDispatcher,
    WebhookEndpoints,
)
from payments.domain.webhooks import (
    RETRY_WINDOW,
    DeliveryStatus,
    EndpointStatus,
    WebhookDelivery,
)
from payments.entrypoints.cli.worker import run_round, worker_jobs
from payments.webhooks import WebhookEvent
from payments.webhooks import verify as verify_webhook
from tests.integration.service import running_service
from tests.integration.test_metrics import Samples, scrape, value
from tests.unit.http.conftest import PREMIUM


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No access lines on stderr."""


@dataclass
class Merchant:
    """The example receiver on a loopback port, answering 500 to its first ``failures`` POSTs
    (before verifying anything) and recording every request and every event it acted on."""

    secret: str = ""
    failures: int = 0
    requests: list[tuple[str, bytes]] = field(default_factory=list)
    handled: list[WebhookEvent] = field(default_factory=list)
    url: str = ""
    _receiver: Callable[..., Iterable[bytes]] | None = None

    def app(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        self.requests.append((environ.get("HTTP_PAYMENTS_SIGNATURE", ""), body))
        if len(self.requests) <= self.failures:
            start("500 Internal Server Error", [("Content-Type", "text/plain")])
            return [b"down\n"]
        environ["wsgi.input"] = _Body(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        if self._receiver is None:  # one receiver, so that it remembers the events it saw
            self._receiver = receiver(self.secret, once_per_event(self.handled.append))
        return self._receiver(environ, start)


class _Body:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def read(self, size: int = -1) -> bytes:
        return self._body


@pytest.fixture
def merchant() -> Iterator[Merchant]:
    merchant = Merchant()
    server: WSGIServer = make_server("127.0.0.1", 0, merchant.app, handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    merchant.url = f"http://127.0.0.1:{server.server_port}/payments/events"
    yield merchant
    server.shutdown()
    server.server_close()


@dataclass
class Webhooks:
    engine: Engine
    clock: FixedClock
    endpoints: WebhookEndpoints
    dispatcher: WebhookDispatcher

    def record(self, *events: Any) -> None:
        with SqlUnitOfWork(self.engine) as uow:
            uow.outbox.add(list(events))
            uow.commit()

    def completed(self, purchase_id: str) -> PurchaseCompleted:
        return PurchaseCompleted(
            self.clock.now(), purchase_id, "cus_ana", Money("79.99", "EUR"), Decimal(8), False
        )


@pytest.fixture
def webhooks(database: Engine) -> Webhooks:
    return webhooks_on(database)


def webhooks_on(database: Engine) -> Webhooks:
    """The webhook use cases on ``database``, sending over loopback, reading a standing clock."""
    clock, ids, box = FixedClock(), UlidGenerator(), FernetSecretBox([SANDBOX_WEBHOOK_SECRETS_KEY])
    sender = RequestsWebhookSender(requests.Session(), any_http_destination, timeout=(2, 5))

    def uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(database)

    return Webhooks(
        database,
        clock,
        WebhookEndpoints(uow, sender, box, clock, ids),
        WebhookDispatcher(uow, sender, box, clock, ids, jitter=random.Random(12)),
    )


def _until_settled(webhooks: Webhooks, rounds: int = 50) -> list[timedelta]:
    """Run the worker, moving the clock to each next attempt, until nothing is pending; the
    waits between attempts."""
    waits: list[timedelta] = []
    for _ in range(rounds):
        webhooks.dispatcher.run()
        pending = [
            d
            for e in webhooks.endpoints.list()
            for d in webhooks.endpoints.deliveries(e.id)
            if d.status is DeliveryStatus.PENDING and e.status is EndpointStatus.ENABLED
        ]
        if not pending:
            return waits
        due = min(d.next_attempt_at for d in pending)
        waits.append(due - webhooks.clock.now())
        webhooks.clock.current = due
    raise AssertionError("deliveries still pending")


def test_an_endpoint_failing_three_times_gets_the_event_once_it_answers_200(
    webhooks: Webhooks, merchant: Merchant
) -> None:
    created = webhooks.endpoints.create(merchant.url, ["purchase.completed"])
    merchant.secret, merchant.failures = created.secret, 3
    webhooks.record(
        PurchaseCreated(
            webhooks.clock.now(), "pur_1", "cus_ana", "prd_1", Money("79.99", "EUR"), None
        ),
        webhooks.completed("pur_1"),
    )

    waits = _until_settled(webhooks)

    assert len(merchant.requests) == 4  # three 500s, then the 200
    assert len(waits) == 3 and all(timedelta(seconds=44) < w <= timedelta(minutes=4) for w in waits)
    [event] = merchant.handled
    assert (event.type, event.aggregate_id) == ("purchase.completed", "pur_1")
    assert event.data["amount"] == {"amount": "79.99", "currency": "EUR"}
    assert event.data["credits"] == "8"
    bodies = {body for _, body in merchant.requests}
    assert len(bodies) == 1  # every attempt sent the same body, freshly signed
    signature, body = merchant.requests[-1]
    assert verify_webhook(body, signature, created.secret).id == event.id
    [delivery] = webhooks.endpoints.deliveries(created.endpoint.id)
    assert (delivery.status, delivery.attempts, delivery.answer_code) == (
        DeliveryStatus.SUCCEEDED,
        4,
        200,
    )
    assert delivery.event.event_id == event.id


def _delivered(
    webhooks: Webhooks, merchant: Merchant, purchase_id: str
) -> tuple[CreatedEndpoint, WebhookDelivery]:
    """An endpoint for every event, and the delivery of one completed purchase sent to it."""
    created = webhooks.endpoints.create(merchant.url, ["*"])
    merchant.secret = created.secret
    webhooks.record(webhooks.completed(purchase_id))
    webhooks.dispatcher.run()
    [delivery] = webhooks.endpoints.deliveries(created.endpoint.id)
    return created, delivery


def test_a_resent_delivery_verifies_and_carries_the_same_event_id(
    webhooks: Webhooks, merchant: Merchant
) -> None:
    created, delivery = _delivered(webhooks, merchant, "pur_2")

    resent = webhooks.dispatcher.resend(created.endpoint.id, delivery.id)

    assert (resent.status, resent.attempts, resent.answer_code) == (
        DeliveryStatus.SUCCEEDED,
        2,
        200,
    )
    assert len(merchant.requests) == 2
    first, second = (
        verify_webhook(body, header, created.secret) for header, body in merchant.requests
    )
    assert first == second
    assert [e.id for e in merchant.handled] == [first.id]  # the receiver acted once


def test_each_event_is_fanned_out_once_per_endpoint_whatever_the_broker_relay_did(
    webhooks: Webhooks, merchant: Merchant
) -> None:
    one = webhooks.endpoints.create(merchant.url, ["purchase.completed"])
    other = webhooks.endpoints.create(merchant.url + "?second", ["*"])
    merchant.secret = one.secret
    webhooks.record(webhooks.completed("pur_3"))
    with SqlUnitOfWork(webhooks.engine) as uow:  # the NATS relay published it already
        [published] = uow.outbox.claim_unpublished(10)
        uow.outbox.mark_published([published.position], webhooks.clock.now())
        uow.commit()

    assert webhooks.dispatcher.fan_out() == 2
    assert webhooks.dispatcher.fan_out() == 0
    assert len(webhooks.endpoints.deliveries(one.endpoint.id)) == 1
    assert len(webhooks.endpoints.deliveries(other.endpoint.id)) == 1


def test_events_while_no_endpoint_is_enabled_are_passed_over_not_sent_later(
    webhooks: Webhooks, merchant: Merchant
) -> None:
    off = webhooks.endpoints.create(merchant.url, ["*"])
    webhooks.endpoints.disable(off.endpoint.id)
    webhooks.record(webhooks.completed("pur_before"), webhooks.completed("pur_also_before"))
    assert webhooks.dispatcher.fan_out() == 0
    made = webhooks.endpoints.create(merchant.url + "?new", ["*"])
    merchant.secret = made.secret
    webhooks.record(webhooks.completed("pur_after"))

    assert webhooks.dispatcher.fan_out() == 1
    _until_settled(webhooks)
    assert [event.data["purchase_id"] for event in merchant.handled] == ["pur_after"]
    assert webhooks.endpoints.deliveries(off.endpoint.id) == []


def test_an_endpoint_failing_for_three_days_is_disabled_and_flagged(
    webhooks: Webhooks, merchant: Merchant
) -> None:
    created = webhooks.endpoints.create(merchant.url, ["purchase.completed"])
    merchant.secret, merchant.failures = created.secret, 10_000
    started = webhooks.clock.now()
    webhooks.record(webhooks.completed("pur_4"))

    waits = _until_settled(webhooks)

    [delivery] = webhooks.endpoints.deliveries(created.endpoint.id)
    assert delivery.status is DeliveryStatus.FAILED
    assert delivery.answer_code == 500
    assert delivery.attempts == len(merchant.requests) == len(waits) + 1
    assert webhooks.clock.now() - started <= RETRY_WINDOW
    assert max(waits) <= timedelta(hours=6)
    assert waits[:4] == sorted(waits[:4])  # growing: one minute, two, four, eight (jittered)
    endpoint = webhooks.endpoints.get(created.endpoint.id)
    assert (endpoint.status, endpoint.disabled_reason) == (EndpointStatus.DISABLED, GAVE_UP)

    webhooks.record(webhooks.completed("pur_5"))
    assert webhooks.dispatcher.fan_out() == 0  # a disabled endpoint gets no new deliveries


@pytest.mark.postgres
def test_two_workers_never_claim_one_delivery_or_one_event(postgres_engine: Engine) -> None:
    clock = FixedClock()
    box = FernetSecretBox([SANDBOX_WEBHOOK_SECRETS_KEY])
    sender = RequestsWebhookSender(requests.Session(), any_http_destination)
    endpoints = WebhookEndpoints(
        lambda: SqlUnitOfWork(postgres_engine), sender, box, clock, UlidGenerator()
    )
    endpoints.create("http://127.0.0.1:9/events", ["*"])
    with SqlUnitOfWork(postgres_engine) as uow:
        uow.outbox.add(
            [
                PurchaseCompleted(
                    clock.now(), f"pur_{n}", "cus_1", Money("1.00", "EUR"), Decimal(1), False
                )
                for n in range(4)
            ]
        )
        uow.commit()
    first, second = SqlUnitOfWork(postgres_engine), SqlUnitOfWork(postgres_engine)
    with first:
        assert len(first.outbox.claim_for_webhooks(2)) == 2
        with second:
            assert [e.aggregate_id for e in second.outbox.claim_for_webhooks(10)] == [
                "pur_2",
                "pur_3",
            ]
    dispatcher = WebhookDispatcher(
        lambda: SqlUnitOfWork(postgres_engine), sender, box, clock, UlidGenerator()
    )
    assert dispatcher.fan_out() == 4
    with first:
        mine = {d.id for d in first.webhook_deliveries.claim_due(clock.now(), 3)}
        with second:
            theirs = {d.id for d in second.webhook_deliveries.claim_due(clock.now(), 10)}
        assert len(mine) == 3 and len(theirs) == 1 and not mine & theirs


def test_the_worker_sends_a_sandbox_purchases_events_to_an_endpoint_made_over_http(
    tmp_path: Path, merchant: Merchant
) -> None:
    url = f"sqlite:///{tmp_path / 'hooks.db'}"
    upgrade(url)
    with running_service({"PAYMENTS_DATABASE_URL": url}) as service:
        admin = service.admin_key()
        endpoint = service.call(
            "POST",
            "/v1/webhook-endpoints",
            admin,
            json={"url": merchant.url, "events": ["purchase.created", "purchase.completed"]},
        )
        assert endpoint.status_code == 201, endpoint.text
        merchant.secret = endpoint.json()["secret"]
        product = service.call("POST", "/v1/products", admin, json=PREMIUM).json()
        body = {"product_id": product["id"], "customer_id": "cus_ana", "country": "PT"}
        purchase = service.call("POST", "/v1/purchases", admin, json=body).json()
        approved = service.call("POST", f"/v1/sandbox/purchases/{purchase['id']}/approve", admin)
        assert approved.status_code == 200, approved.text

        done = run_round(worker_jobs(service.container, service.container.settings()))

        deliveries = service.call(
            "GET", f"/v1/webhook-endpoints/{endpoint.json()['id']}/deliveries", admin
        ).json()["data"]
    assert done["webhook deliveries made"] == done["webhooks delivered"] == 2
    assert [(e.type, e.aggregate_id) for e in merchant.handled] == [
        ("purchase.created", purchase["id"]),
        ("purchase.completed", purchase["id"]),
    ]
    assert {(d["status"], d["answer_code"], d["attempts"]) for d in deliveries} == {
        ("succeeded", 200, 1)
    }
    assert "secret" not in str(deliveries)


def test_a_failed_resend_of_a_delivered_event_keeps_it_delivered_and_the_endpoint_on(
    webhooks: Webhooks, merchant: Merchant
) -> None:
    created, delivery = _delivered(webhooks, merchant, "pur_6")
    merchant.failures = 10_000  # the receiver breaks afterwards
    webhooks.clock.advance(days=4)

    resent = webhooks.dispatcher.resend(created.endpoint.id, delivery.id)

    assert (resent.status, resent.answer_code, resent.attempts) == (
        DeliveryStatus.SUCCEEDED,
        500,
        2,
    )
    assert resent.delivered_at == delivery.delivered_at
    assert webhooks.endpoints.get(created.endpoint.id).status is EndpointStatus.ENABLED


def test_the_worker_counts_merchant_webhook_sends_by_outcome_on_metrics(
    tmp_path: Path, merchant: Merchant
) -> None:
    url = f"sqlite:///{tmp_path / 'hooks.db'}"
    upgrade(url)
    clock = FixedClock()

    def standing_clock(container: Any) -> None:
        container.clock.override(providers.Object(clock))

    with running_service({"PAYMENTS_DATABASE_URL": url}, standing_clock) as service:
        created = service.call(
            "POST",
            "/v1/webhook-endpoints",
            service.admin_key(),
            json={"url": merchant.url, "events": ["purchase.completed"]},
        )
        assert created.status_code == 201, created.text
        merchant.secret, merchant.failures = created.json()["secret"], 2
        jobs = worker_jobs(service.container, service.container.settings())
        events = Webhooks(
            service.container.engine(),
            clock,
            service.container.webhook_endpoints(),
            service.container.webhook_dispatcher(),
        )
        events.record(events.completed("pur_1"))
        for _ in range(3):  # two 500s, then the 200
            run_round(jobs)
            clock.advance(minutes=5)
        first = scrape(service.call("GET", "/metrics").text)

        merchant.failures = 1_000_000  # from now on the endpoint is down for good
        events.record(events.completed("pur_2"))
        for _ in range(60):
            run_round(jobs)
            clock.advance(hours=6)  # past the longest wait: each round makes one attempt
            if events.endpoints.list()[0].status is EndpointStatus.DISABLED:
                break
        after = scrape(service.call("GET", "/metrics").text)

    def sent(samples: Samples, outcome: str) -> float:
        return value(samples, "payments_webhook_deliveries_total", outcome=outcome)

    assert [sent(first, o) for o in ("delivered", "retried", "failed", "disabled")] == [1, 2, 0, 0]
    attempts_for_pur_2 = len(merchant.requests) - 3
    assert attempts_for_pur_2 > 10
    assert [sent(after, o) for o in ("delivered", "retried", "failed", "disabled")] == [
        1,
        2 + attempts_for_pur_2 - 1,
        1,
        1,
    ]
