"""The outbox relay on a real NATS JetStream server and real databases: once each, in order."""

from __future__ import annotations

import contextlib
import functools
import os
import socket
import subprocess
import sys
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from payments.adapters.memory import FakeGateway, FixedClock
from payments.adapters.sql.engine import make_engine
from payments.adapters.sql.migrate import upgrade
from payments.adapters.sql.tables import outbox
from payments.adapters.sql.unit_of_work import SqlUnitOfWork
from payments.domain.access import Principal, Role
from payments.domain.money import Money
from payments.domain.services.checkout import CreatePurchase
from payments.domain.services.outbox_relay import EventRelay, OutboxBacklog, RelayReport
from payments.testing import bootstrap
from payments.testing.contracts.repositories.builders import a_purchase, seed
from tests.integration.conftest import NatsStream

MERCHANT = Principal(Role.MERCHANT, "key_merchant")
PURCHASES = 40


def _complete_purchases(engine: Engine, count: int) -> list[str]:
    """``count`` purchases bought, paid, and notified twice each, in a shuffled order."""
    gateway = FakeGateway("fake")
    wired = bootstrap(gateways=[gateway], unit_of_work=functools.partial(SqlUnitOfWork, engine))
    product = wired.catalog.create(
        name="8 Hour Premium Package",
        kind="package",
        price=Money("79.99", "EUR"),
        credits="8",
        validity_days=60,
    )
    ids = []
    for number in range(count):
        request = CreatePurchase(product_id=product.id, country="PT", customer_id=f"cus_{number}")
        purchase = wired.purchases.create(request, MERCHANT)
        assert purchase.gateway_reference is not None
        gateway.approve(purchase.gateway_reference)
        ids.append(purchase.id)
    for headers, body in gateway.drain(duplicates=2, shuffle_seed=7):
        wired.notifications.receive(gateway.name, headers, body)
    return ids


def _relay(engine: Engine, stream: NatsStream, *, batch: int = 100, **kw: Any) -> EventRelay:
    unit_of_work = kw.pop("unit_of_work", functools.partial(SqlUnitOfWork, engine))
    return EventRelay(unit_of_work, stream.publisher(**kw), FixedClock(), batch_size=batch)


def _outbox(engine: Engine) -> list[tuple[str, str, str]]:
    """Every outbox row, in outbox order: event id, aggregate id, type."""
    with engine.connect() as connection:
        query = select(outbox.c.event_id, outbox.c.aggregate_id, outbox.c.name)
        return [tuple(row) for row in connection.execute(query.order_by(outbox.c.id))]


def _waiting(engine: Engine) -> int:
    return OutboxBacklog(functools.partial(SqlUnitOfWork, engine)).unpublished()[0]


def _by_aggregate(rows: list[tuple[str, str, str]]) -> dict[str, list[str]]:
    order: dict[str, list[str]] = defaultdict(list)
    for event_id, aggregate_id, _ in rows:
        order[aggregate_id].append(event_id)
    return dict(order)


@pytest.mark.postgres
def test_completed_purchases_with_duplicate_notifications_reach_the_stream_once_each_in_order(
    postgres_engine: Engine, nats_stream: NatsStream
) -> None:
    purchase_ids = _complete_purchases(postgres_engine, PURCHASES)
    relay = _relay(postgres_engine, nats_stream, batch=25)
    try:
        report = relay.publish_pending(max_batches=100)
    finally:
        relay.close()

    rows = _outbox(postgres_engine)
    messages = nats_stream.messages()
    assert report.failure is None
    assert len(messages) == len(rows) == len(report.published)
    completed = [m for m in messages if m[0] == f"{nats_stream.prefix}.purchase.completed"]
    assert len(completed) == PURCHASES
    assert sorted(body["aggregate_id"] for _, _, body in completed) == sorted(purchase_ids)
    streamed = [(body["id"], body["aggregate_id"], body["type"]) for _, _, body in messages]
    assert _by_aggregate(streamed) == _by_aggregate(rows)  # each purchase's events in order
    subject, headers, body = completed[0]
    assert headers["Nats-Msg-Id"] == body["id"]
    assert subject == f"{nats_stream.prefix}.{body['type']}"
    assert body["data"]["amount"] == {"amount": "79.99", "currency": "EUR"}
    assert set(body) == {"id", "type", "occurred_at", "aggregate_id", "data"}
    assert _waiting(postgres_engine) == 0


@pytest.mark.postgres
def test_two_relays_at_once_publish_each_event_once(
    postgres_engine: Engine, nats_stream: NatsStream
) -> None:
    _complete_purchases(postgres_engine, 20)
    relays = [_relay(postgres_engine, nats_stream, batch=4) for _ in range(2)]
    reports: list[RelayReport] = [RelayReport(), RelayReport()]
    start = threading.Barrier(2)

    def run(index: int) -> None:
        start.wait()
        while True:
            report = relays[index].publish_pending(max_batches=1)
            reports[index].published.extend(report.published)
            reports[index].duplicates += report.duplicates
            if not report.published and _waiting(postgres_engine) == 0:
                return

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for relay in relays:
        relay.close()

    rows = _outbox(postgres_engine)
    first, second = (set(report.published) for report in reports)
    assert first and second, "both relays took part"
    assert not first & second, "no event was published by both relays"
    assert first | second == {event_id for event_id, _, _ in rows}
    assert reports[0].duplicates == reports[1].duplicates == 0
    messages = nats_stream.messages()
    assert len(messages) == len(rows)
    streamed = [(body["id"], body["aggregate_id"], body["type"]) for _, _, body in messages]
    assert _by_aggregate(streamed) == _by_aggregate(rows)


class MarkFailsUnitOfWork(SqlUnitOfWork):
    """The SQL unit of work, except that marking events published fails, as a worker killed
    (or a database lost) between the broker's acknowledgement and the mark would."""

    def __enter__(self) -> SqlUnitOfWork:
        uow = super().__enter__()

        def lost(*args: object) -> None:
            raise ConnectionError("server closed the connection unexpectedly")

        self.outbox.mark_published = lost  # type: ignore[method-assign]
        return uow


@pytest.mark.postgres
def test_an_event_published_but_never_marked_is_dropped_by_jetstream_when_sent_again(
    postgres_engine: Engine, nats_stream: NatsStream
) -> None:
    _complete_purchases(postgres_engine, 5)
    events = len(_outbox(postgres_engine))
    dying = _relay(
        postgres_engine,
        nats_stream,
        unit_of_work=functools.partial(MarkFailsUnitOfWork, postgres_engine),
    )
    with pytest.raises(ConnectionError):
        dying.publish_pending()
    dying.close()
    assert _waiting(postgres_engine) == events  # nothing marked: all of them wait
    assert len(nats_stream.messages()) == events

    relay = _relay(postgres_engine, nats_stream)
    report = relay.publish_pending()
    relay.close()

    assert report.duplicates == len(report.published) == events
    assert len(nats_stream.messages()) == events  # the re-publish was dropped
    assert _waiting(postgres_engine) == 0


# A relay process that dies after a number of JetStream acknowledgements, before it marks
# them: its arguments are the database URL, the NATS URL, the stream, the subject prefix and
# the number of acknowledgements.
DIES_AFTER_ACKS = """
import functools, os, sys
from payments.adapters.events import NatsEventPublisher
from payments.adapters.memory import FixedClock
from payments.adapters.sql.engine import make_engine
from payments.adapters.sql.unit_of_work import SqlUnitOfWork
from payments.domain.services.outbox_relay import EventRelay

class DiesAfterAcks(NatsEventPublisher):
    acks = 0

    def publish(self, event):
        ack = super().publish(event)
        self.acks += 1
        if self.acks == int(dies_after):
            os._exit(9)  # killed: acknowledged by JetStream, never marked
        return ack

database_url, nats_url, stream, prefix, dies_after = sys.argv[1:]
publisher = DiesAfterAcks(nats_url, stream=stream, subject_prefix=prefix)
unit_of_work = functools.partial(SqlUnitOfWork, make_engine(database_url))
EventRelay(unit_of_work, publisher, FixedClock()).publish_pending()
"""


@pytest.mark.postgres
def test_a_relay_killed_between_the_ack_and_the_mark_has_its_republish_dropped(
    postgres_database_url: str, postgres_engine: Engine, nats_stream: NatsStream
) -> None:
    _complete_purchases(postgres_engine, 3)
    events = len(_outbox(postgres_engine))
    where = (postgres_database_url, nats_stream.url, nats_stream.stream, nats_stream.prefix)
    killed = subprocess.run(
        [sys.executable, "-c", DIES_AFTER_ACKS, *where, "3"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert killed.returncode == 9, killed.stderr
    assert len(nats_stream.messages()) == 3
    assert _waiting(postgres_engine) == events  # its claim died with it: nothing marked

    relay = _relay(postgres_engine, nats_stream)
    report = relay.publish_pending()
    relay.close()

    assert report.duplicates == 3
    assert len(report.published) == events
    assert len(nats_stream.messages()) == events  # each event once in the stream
    assert _waiting(postgres_engine) == 0


class Switch:
    """A TCP forwarder to the NATS server that can be switched off and on again (the server
    going down and coming back, as the relay sees it)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None

    def on(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def off(self) -> None:
        listener, self._listener = self._listener, None
        for sock in [*self._sockets, *([listener] if listener else [])]:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self._sockets.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self._target)
            self._sockets += [client, server]
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)


def _target(url: str) -> tuple[str, int]:
    host_port = url.split("://", 1)[1].rsplit("@", 1)[-1]
    host, _, port = host_port.partition(":")
    return host, int(port or 4222)


@pytest.mark.postgres
def test_events_wait_while_nats_is_down_and_go_out_when_it_is_back(
    postgres_engine: Engine, nats_stream: NatsStream
) -> None:
    switch = Switch(_target(nats_stream.url))
    switch.on()
    relay = _relay(postgres_engine, nats_stream, url=f"nats://127.0.0.1:{switch.port}", timeout=1)
    try:
        seed(SqlUnitOfWork(postgres_engine), a_purchase("pur_1"))
        assert len(relay.publish_pending().published) == 1

        switch.off()
        seed_more = SqlUnitOfWork(postgres_engine)
        with seed_more:
            seed_more.purchases.add(a_purchase("pur_2"))
            seed_more.purchases.add(a_purchase("pur_3"))
            seed_more.commit()
        down = relay.publish_pending()
        assert down.failure is not None
        assert down.published == []
        assert _waiting(postgres_engine) == 2

        switch.on()
        back = relay.publish_pending()
    finally:
        relay.close()
        switch.off()
    assert back.failure is None
    assert len(back.published) == 2
    assert _waiting(postgres_engine) == 0
    assert [body["aggregate_id"] for _, _, body in nats_stream.messages()] == [
        "pur_1",
        "pur_2",
        "pur_3",
    ]


def test_worker_publishes_the_backlog_that_events_list_shows(
    tmp_path: Path, nats_stream: NatsStream
) -> None:
    url = f"sqlite:///{tmp_path / 'events.db'}"
    upgrade(url)
    engine = make_engine(url)
    seed(SqlUnitOfWork(engine), a_purchase("pur_1"), a_purchase("pur_2"))
    engine.dispose()
    env = {
        **os.environ,
        "PAYMENTS_DATABASE_URL": url,
        "PAYMENTS_NATS_URL": nats_stream.url,
        "PAYMENTS_NATS_STREAM": nats_stream.stream,
        "PAYMENTS_NATS_SUBJECT_PREFIX": nats_stream.prefix,
    }
    env.pop("PAYMENTS_STRIPE_SECRET_KEY", None)

    def payments(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "payments.entrypoints.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    before = payments("events", "list", "--unpublished")
    worker = payments("worker", "--rounds", "1", "--interval", "0")
    after = payments("events", "list", "--unpublished")

    assert before.returncode == 0, before.stderr
    lines = before.stdout.splitlines()
    assert lines[0].split("\t") == ["position", "event_id", "type", "aggregate_id", "occurred_at"]
    assert [line.split("\t")[2:4] for line in lines[1:]] == [
        ["purchase.created", "pur_1"],
        ["purchase.created", "pur_2"],
    ]
    assert "2 event(s) wait" in before.stderr
    # The purchases are long past their payment window: the round expires them, and publishes
    # those events too.
    assert worker.returncode == 0, worker.stderr
    assert "expired 2, could not look up 0" in worker.stderr
    assert "published 4" in worker.stderr
    assert after.stdout.splitlines()[1:] == []
    assert "0 event(s) wait" in after.stderr
    streamed = [(subject, body["aggregate_id"]) for subject, _, body in nats_stream.messages()]
    created, changed = f"{nats_stream.prefix}.purchase.created", f"{nats_stream.prefix}.purchase"
    assert streamed[:2] == [(created, "pur_1"), (created, "pur_2")]
    assert sorted(streamed[2:]) == [(f"{changed}.status_changed", p) for p in ("pur_1", "pur_2")]
