"""The operator's commands (replay, worker, reconcile) as real processes on a SQLite database."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dependency_injector import providers
from sqlalchemy import select

from payments.adapters.memory import FixedClock
from payments.adapters.sql.migrate import upgrade
from payments.adapters.sql.tables import idempotency_keys
from payments.adapters.sql.unit_of_work import SqlUnitOfWork
from payments.containers import Container
from payments.domain.idempotency import IdempotencyRecord
from payments.domain.inbox import InboxMessage, InboxStatus
from payments.domain.ports import Clock, UnitOfWork
from payments.domain.services.notifications import NotificationService
from payments.domain.services.use_case import GatewayWiring
from payments.sandbox.environment import build_sandbox
from tests.integration.service import RunningService, running_service

Delivery = tuple[dict[str, str], bytes]

# Everything seeded happened two days ago, so the real clock of the commands finds it due.
TWO_DAYS_AGO = datetime.now(UTC).replace(microsecond=0) - timedelta(days=2)


class FlakySqlUnitOfWork(SqlUnitOfWork):
    """The SQL unit of work, except that looking a purchase up by its provider id fails (as a
    dropped connection would) while ``failures`` has some left."""

    def __init__(self, engine: Any, failures: list[int]) -> None:
        super().__init__(engine)
        self._failures = failures

    def __enter__(self) -> SqlUnitOfWork:
        uow = super().__enter__()
        lookup = self.purchases.get_by_gateway_reference

        def flaky(gateway: str, gateway_reference: str, *, for_update: bool = False) -> Any:
            if self._failures[0] > 0:
                self._failures[0] -= 1
                raise ConnectionError("server closed the connection unexpectedly")
            return lookup(gateway, gateway_reference, for_update=for_update)

        self.purchases.get_by_gateway_reference = flaky  # type: ignore[method-assign]
        return uow


@dataclass
class Operations:
    """A sandbox service on a temporary SQLite file, seeded in-process, and the CLI beside it."""

    service: RunningService
    database_url: str
    deliveries: list[tuple[str, dict[str, str], bytes]]
    admin_key: str
    product_id: str

    @property
    def container(self) -> Container:
        return self.service.container

    def buy(self, customer_id: str) -> dict[str, Any]:
        body = {"product_id": self.product_id, "customer_id": customer_id, "country": "PT"}
        answer = self.service.call("POST", "/v1/purchases", self.admin_key, json=body)
        assert answer.status_code == 201, answer.text
        purchase: dict[str, Any] = answer.json()
        assert purchase["gateway_reference"]
        return purchase

    def approve_at_provider(self, purchase: dict[str, Any]) -> Delivery:
        """The payer pays in the sandbox; its notification is caught before it reaches us."""
        sandbox = self.container.sandbox()
        assert sandbox is not None
        sandbox.stripe_simulator.approve(purchase["gateway_reference"])
        _path, headers, body = self.deliveries[-1]
        return {name.lower(): value for name, value in headers.items()}, body

    def store_failed(self, delivery: Delivery, clock: Clock) -> str:
        """Receive ``delivery`` as the webhook does, with its apply step failing once: it is
        stored failed, due again 30 s after ``clock``'s time."""
        failures = [1]
        engine = self.container.engine()

        def flaky() -> UnitOfWork:
            return FlakySqlUnitOfWork(engine, failures)

        notifications = NotificationService(
            GatewayWiring(flaky, self.container.gateways(), clock, self.container.ids())
        )
        headers, body = delivery
        receipt = notifications.receive("stripe", headers, body)
        assert receipt.status == "queued"
        assert receipt.message_id is not None
        return receipt.message_id

    def message(self, message_id: str) -> InboxMessage:
        with self.container.unit_of_work() as uow:
            message = uow.inbox.get(message_id)
        assert message is not None
        return message

    def status(self, purchase: dict[str, Any]) -> str:
        answer = self.service.call("GET", f"/v1/purchases/{purchase['id']}", self.admin_key)
        assert answer.status_code == 200, answer.text
        status: str = answer.json()["status"]
        return status

    def credits(self, customer_id: str) -> str:
        answer = self.service.call("GET", f"/v1/accounts/{customer_id}", self.admin_key)
        assert answer.status_code == 200, answer.text
        credits: str = answer.json()["credits"]
        return credits

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``payments ARGS`` as a real process on the same database; its sandbox gateway looks
        payments up at the simulator of the service under test."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PAYMENTS_")}
        env["PAYMENTS_DATABASE_URL"] = self.database_url
        env["PAYMENTS_PUBLIC_BASE_URL"] = self.service.base_url
        return subprocess.run(
            [sys.executable, "-m", "payments.entrypoints.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


@pytest.fixture
def operations(tmp_path: Path) -> Iterator[Operations]:
    database_url = f"sqlite:///{tmp_path / 'operations.db'}"
    upgrade(database_url)
    deliveries: list[tuple[str, dict[str, str], bytes]] = []

    def catch(path: str, headers: dict[str, str], body: bytes) -> int:
        deliveries.append((path, headers, body))
        return 200

    def configure(container: Container) -> None:
        container.clock.override(providers.Object(FixedClock(TWO_DAYS_AGO)))
        sandbox = build_sandbox(container.settings(), container.http_session(), deliver=catch)
        container.sandbox.override(providers.Object(sandbox))

    with running_service({"PAYMENTS_DATABASE_URL": database_url}, configure) as service:
        admin_key = service.admin_key()
        product = service.call(
            "POST",
            "/v1/products",
            admin_key,
            json={
                "name": "8 Hour Premium Package",
                "kind": "package",
                "price": {"amount": "79.99", "currency": "EUR"},
                "credits": "8",
                "validity_days": 60,
            },
        )
        assert product.status_code == 201, product.text
        yield Operations(service, database_url, deliveries, admin_key, product.json()["id"])


def test_replay_processes_a_stored_message_and_prints_its_new_status(
    operations: Operations,
) -> None:
    purchase = operations.buy("cus_ana")
    now = FixedClock(datetime.now(UTC))  # not due for an hour: only the operator's replay runs it
    message_id = operations.store_failed(operations.approve_at_provider(purchase), now)

    done = operations.cli("replay", message_id)

    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{message_id}: processed\n"
    assert operations.message(message_id).status is InboxStatus.PROCESSED
    assert operations.status(purchase) == "completed"
    assert operations.credits("cus_ana") == "8.00"


def test_replay_of_an_unknown_message_exits_2_naming_it(operations: Operations) -> None:
    done = operations.cli("replay", "whk_never_stored")

    assert done.returncode == 2
    assert done.stdout == ""
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("payments: ")
    assert "'whk_never_stored'" in last
    assert "Traceback" not in done.stderr


def test_worker_round_retries_a_due_failed_message_and_leaves_one_not_yet_due(
    operations: Operations,
) -> None:
    due_purchase = operations.buy("cus_ana")
    later_purchase = operations.buy("cus_bob")
    due = operations.store_failed(
        operations.approve_at_provider(due_purchase), FixedClock(TWO_DAYS_AGO)
    )
    later = operations.store_failed(
        operations.approve_at_provider(later_purchase), FixedClock(datetime.now(UTC))
    )

    done = operations.cli("worker", "--rounds", "1", "--interval", "0")

    assert done.returncode == 0, done.stderr
    retried = operations.message(due)
    assert retried.status is InboxStatus.PROCESSED
    assert retried.attempts == 1
    assert operations.status(due_purchase) == "completed"
    assert operations.credits("cus_ana") == "8.00"
    waiting = operations.message(later)
    assert waiting.status is InboxStatus.FAILED  # its backoff has not run out: not retried
    assert waiting.attempts == 1


def test_reconcile_settles_a_lost_capture_expires_an_abandoned_purchase_and_prints_counts(
    operations: Operations,
) -> None:
    paid = operations.buy("cus_ana")
    operations.approve_at_provider(paid)  # its notification never reaches us
    abandoned = operations.buy("cus_bob")

    done = operations.cli("reconcile")

    assert done.returncode == 0, done.stderr
    assert re.search(r"\bsettled 1\b", done.stdout), done.stdout
    assert re.search(r"\bexpired 1\b", done.stdout), done.stdout
    assert operations.status(paid) == "completed"
    assert operations.credits("cus_ana") == "8.00"
    assert operations.status(abandoned) == "expired"
    assert operations.credits("cus_bob") == "0.00"


def test_worker_round_forgets_idempotency_keys_past_their_lifetime(
    operations: Operations,
) -> None:
    now = datetime.now(UTC)
    old = IdempotencyRecord(
        "key:k1", "order-1", "f", now - timedelta(days=2), now - timedelta(days=1), 201, b"{}", {}
    )
    live = IdempotencyRecord(
        "key:k1", "order-2", "f", now, now + timedelta(hours=23), 201, b"{}", {}
    )
    with operations.container.unit_of_work() as uow:
        for record in (old, live):
            assert uow.idempotency.claim(record) is None
            uow.idempotency.finish(record)
        uow.commit()

    done = operations.cli("worker", "--rounds", "1", "--interval", "0")

    assert done.returncode == 0, done.stderr
    with operations.container.engine().connect() as connection:
        kept = connection.execute(select(idempotency_keys.c.key)).scalars().all()
    assert kept == ["order-2"]  # the spent key's row is gone, the live one still answers


def _dead_message(message_id: str, error: str) -> InboxMessage:
    message = InboxMessage(
        id=message_id,
        provider="stripe",
        event_id=f"evt_{message_id}",
        event_type="payment_intent.succeeded",
        headers={},
        body=b"{}",
        received_at=TWO_DAYS_AGO,
    )
    for _ in range(5):
        message.fail(error, TWO_DAYS_AGO)
    assert message.status is InboxStatus.DEAD
    return message


def test_inbox_list_shows_failed_and_dead_messages_with_their_last_error(
    operations: Operations,
) -> None:
    purchase = operations.buy("cus_ana")
    failed = operations.store_failed(
        operations.approve_at_provider(purchase), FixedClock(datetime.now(UTC))
    )
    with operations.container.unit_of_work() as uow:
        uow.inbox.add(_dead_message("whk_dead_1", "Traceback line one\n  line two"))
        uow.commit()

    dead = operations.cli("inbox", "list", "--status", "dead")
    everything = operations.cli("inbox", "list", "--limit", "10")

    assert dead.returncode == 0, dead.stderr
    header, *rows = dead.stdout.splitlines()
    assert header.split("\t") == [
        "id",
        "provider",
        "event_type",
        "status",
        "attempts",
        "last_error",
    ]
    assert [row.split("\t") for row in rows] == [
        [
            "whk_dead_1",
            "stripe",
            "payment_intent.succeeded",
            "dead",
            "5",
            "Traceback line one line two",
        ]
    ]
    assert everything.returncode == 0, everything.stderr
    listed = {row.split("\t")[0]: row.split("\t") for row in everything.stdout.splitlines()[1:]}
    assert set(listed) == {failed, "whk_dead_1"}
    assert listed[failed][1] == "stripe"
    assert listed[failed][3:5] == ["failed", "1"]
    assert "server closed the connection" in listed[failed][5]
    # The ids it prints are what replay takes.
    assert operations.cli("replay", failed).stdout == f"{failed}: processed\n"


@pytest.mark.parametrize("args", [["--status", "lost"], ["--limit", "0"]])
def test_inbox_list_refuses_an_unknown_status_or_a_limit_below_one(
    operations: Operations, args: list[str]
) -> None:
    done = operations.cli("inbox", "list", *args)

    assert done.returncode == 2
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
