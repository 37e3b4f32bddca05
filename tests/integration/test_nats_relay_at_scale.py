"""The outbox relay at full size (issue 12), on PostgreSQL and a NATS server of the test's own.

1,000 sandbox purchases are paid at the Stripe simulator, whose signed
``payment_intent.succeeded`` events are delivered with 30 % duplicates to two ``payments serve``
processes at once, while ``payments worker`` publishes the outbox. Before that, a relay dies
between JetStream's acknowledgements and its mark; in the middle of the deliveries the NATS
server is stopped and started again (on its own storage: a private ``nats-server -js`` process,
so the shared test server is left alone). The stream must hold every event once, one
``payments.purchase.completed`` per purchase, each purchase's events in order.
"""

from __future__ import annotations

import functools
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests
from sqlalchemy import Engine

from payments.adapters.sql.unit_of_work import SqlUnitOfWork
from payments.domain.access import Principal, Role
from payments.domain.money import Money
from payments.domain.services.checkout import CreatePurchase
from payments.domain.services.outbox_relay import OutboxBacklog
from tests.integration.conftest import REQUIRE_NATS_VARIABLE, NatsStream
from tests.integration.service import (
    free_port,
    payments_env,
    payments_serve,
    running_service,
)
from tests.integration.test_nats_relay import DIES_AFTER_ACKS, _by_aggregate, _outbox
from tests.integration.test_webhook_races import Recorded, Recorder, _recording
from tests.log_scan import scan_process_output

PURCHASES = 1_000
DUPLICATES = 300  # 30 %: the same signed event delivered a second time, to either process
KILLED_AFTER = 250  # acknowledgements the dying relay gets before it dies
STREAM, PREFIX = "PAYMENTS_AT_SCALE", "scale.payments"
MERCHANT = Principal(Role.MERCHANT, "key_merchant")


class PrivateNats:
    """``nats-server -js`` on a free loopback port with its storage in ``directory``: stopped
    and started again, it keeps its streams, as a restarted production server does."""

    def __init__(self, executable: str, directory: Path) -> None:
        self._executable = executable
        self._directory = directory
        self.port = free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [self._executable, "-js", "-a", "127.0.0.1", "-p", str(self.port)]
        with (self._directory / "nats-server.log").open("ab") as log:
            self._process = subprocess.Popen(
                [*command, "-sd", str(self._directory / "store")], stdout=log, stderr=log
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(4096).startswith(b"INFO"):
                        return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"nats-server did not start on port {self.port}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=20)


@pytest.fixture
def private_nats(tmp_path: Path) -> Iterator[PrivateNats]:
    executable = shutil.which("nats-server") or "/usr/sbin/nats-server"
    if not os.path.exists(executable):
        if os.environ.get(REQUIRE_NATS_VARIABLE) == "1":
            pytest.fail("nats-server is not installed", pytrace=False)
        pytest.skip("nats-server is not installed")
    server = PrivateNats(executable, tmp_path)
    server.start()
    yield server
    server.stop()


def _paid_at_the_simulator(url: str, count: int) -> tuple[list[str], list[Recorded]]:
    """``count`` sandbox purchases created (through the use case, at the Stripe simulator) and
    approved by the payer: their ids, and the signed ``payment_intent.succeeded`` events the
    simulator would have sent, captured instead."""
    recorder = Recorder()
    with running_service({"PAYMENTS_DATABASE_URL": url}, _recording(recorder)) as shop:
        product = shop.container.catalog().create(
            name="8 Hour Premium Package",
            kind="package",
            price=Money("79.99", "EUR"),
            credits="8",
            validity_days=60,
        )
        purchases, simulator = shop.container.purchases(), shop.container.sandbox().stripe_simulator

        def buy(number: int) -> str:
            request = CreatePurchase(product.id, "PT", customer_id=f"cus_{number}")
            purchase = purchases.create(request, MERCHANT)
            assert purchase.gateway == "stripe" and purchase.gateway_reference is not None
            simulator.approve(purchase.gateway_reference)
            return purchase.id

        with ThreadPoolExecutor(4) as pool:
            ids = list(pool.map(buy, range(count)))
    assert len(recorder.sent) == count
    return ids, recorder.sent


def _deliver(base_url: str, delivery: Recorded) -> str:
    answer = requests.post(
        base_url + delivery.path, data=delivery.body, headers=delivery.headers, timeout=60
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["status"])


def _wait_for_an_empty_outbox(
    backlog: OutboxBacklog, worker: subprocess.Popen[bytes], log: Path
) -> None:
    deadline = time.monotonic() + 90
    while backlog.unpublished()[0] and time.monotonic() < deadline:
        assert worker.poll() is None, log.read_text()
        time.sleep(0.2)
    assert backlog.unpublished()[0] == 0, log.read_text()[-3000:]


def _until_the_worker_misses_nats(log: Path) -> None:
    """Wait until the worker has logged a publish that failed (NATS is down)."""
    deadline = time.monotonic() + 30
    while "left for the next round" not in log.read_text():
        assert time.monotonic() < deadline, "the worker never noticed that NATS was down"
        time.sleep(0.1)


@pytest.mark.postgres
def test_a_thousand_purchases_with_duplicates_on_two_processes_reach_the_stream_once_in_order(
    postgres_database_url: str,
    postgres_engine: Engine,
    private_nats: PrivateNats,
    tmp_path: Path,
) -> None:
    url = postgres_database_url
    purchase_ids, succeeded = _paid_at_the_simulator(url, PURCHASES)
    shuffle = random.Random(12)
    deliveries = succeeded + shuffle.sample(succeeded, DUPLICATES)
    shuffle.shuffle(deliveries)

    # A relay dies between JetStream's acknowledgement and its mark: those events stay waiting.
    where = (url, private_nats.url, STREAM, PREFIX, str(KILLED_AFTER))
    killed = subprocess.run(
        [sys.executable, "-c", DIES_AFTER_ACKS, *where],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert killed.returncode == 9, killed.stderr
    stream = NatsStream(private_nats.url, STREAM, PREFIX)
    assert len(stream.messages()) == KILLED_AFTER
    backlog = OutboxBacklog(functools.partial(SqlUnitOfWork, postgres_engine))
    marked = len(_outbox(postgres_engine)) - backlog.unpublished()[0]
    assert KILLED_AFTER - marked > 0  # in the stream, never marked: they will be sent again

    nats = {
        "PAYMENTS_NATS_URL": private_nats.url,
        "PAYMENTS_NATS_STREAM": STREAM,
        "PAYMENTS_NATS_SUBJECT_PREFIX": PREFIX,
    }
    worker_log = tmp_path / "worker.log"
    statuses: list[str] = []
    with ExitStack() as running:
        apis = [running.enter_context(payments_serve(url, tmp_path)) for _ in range(2)]
        with worker_log.open("wb") as output:
            worker = subprocess.Popen(
                [sys.executable, "-m", "payments.entrypoints.cli", "worker", "--interval", "0.2"],
                env=payments_env(url, **nats),
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        running.callback(worker.wait, 30)
        running.callback(worker.send_signal, signal.SIGTERM)
        waiting_at_the_outage = 0
        with ThreadPoolExecutor(16) as pool:
            sent = [
                pool.submit(_deliver, apis[number % 2], delivery)
                for number, delivery in enumerate(deliveries)
            ]
            for answered in as_completed(sent):
                statuses.append(answered.result())
                if len(statuses) == len(deliveries) // 2:  # NATS goes down mid-run, comes back
                    waiting_at_the_outage = backlog.unpublished()[0]
                    private_nats.stop()
                    _until_the_worker_misses_nats(worker_log)
                    private_nats.start()
        _wait_for_an_empty_outbox(backlog, worker, worker_log)

    assert statuses.count("processed") == PURCHASES
    assert statuses.count("duplicate") == DUPLICATES
    assert waiting_at_the_outage > 0  # the server went away while events were still to go
    scan_process_output("payments worker", worker_log.read_text())
    rows = _outbox(postgres_engine)
    messages = stream.messages()
    streamed = [(body["id"], body["aggregate_id"], body["type"]) for _, _, body in messages]
    assert len(messages) == len(rows) == len({event_id for event_id, _, _ in streamed})
    completed = [body for subject, _, body in messages if subject == f"{PREFIX}.purchase.completed"]
    assert sorted(body["aggregate_id"] for body in completed) == sorted(purchase_ids)
    assert _by_aggregate(streamed) == _by_aggregate(rows)  # each purchase's events in order
    for events in _types_by_purchase(streamed).values():
        assert events.index("purchase.created") < events.index("purchase.completed")


def _types_by_purchase(streamed: list[tuple[str, str, str]]) -> dict[str, list[str]]:
    types: dict[str, list[str]] = {}
    for _, aggregate_id, event_type in streamed:
        types.setdefault(aggregate_id, []).append(event_type)
    return types
