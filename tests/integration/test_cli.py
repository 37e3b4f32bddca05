"""The ``payments`` command line, run as a real process against real databases."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from payments.adapters.sql.engine import make_engine
from payments.adapters.sql.migrate import upgrade
from payments.adapters.sql.tables import api_keys
from tests.integration.service import running_service


def _payments(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PAYMENTS_DATABASE_URL": database_url}
    env.pop("PAYMENTS_STRIPE_SECRET_KEY", None)
    return subprocess.run(
        [sys.executable, "-m", "payments.entrypoints.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_api_keys_create_prints_the_key_alone_on_the_last_line_and_stores_its_hash(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"  # not migrated yet: the command migrates SQLite

    done = _payments(
        "api-keys", "create", "--role", "customer", "--customer-id", "cus_cli", database_url=url
    )

    assert done.returncode == 0, done.stderr
    key = done.stdout.splitlines()[-1]
    assert key == done.stdout.strip()  # nothing else on standard output
    assert key.startswith("pay_")
    assert "shown only this once" in done.stderr

    with running_service({"PAYMENTS_DATABASE_URL": url}) as service:
        own = service.call("GET", "/v1/accounts/cus_cli", key)
        other = service.call("GET", "/v1/accounts/cus_someone_else", key)
        stored = service.container.engine()
        with stored.connect() as connection:
            hashes = connection.execute(select(api_keys.c.secret_hash)).scalars().all()
    assert own.status_code == 200, own.text
    assert other.status_code in (403, 404)
    assert other.headers["Content-Type"] == "application/problem+json"
    assert len(hashes) == 1
    assert key not in hashes[0]
    assert key.split("_", 2)[2] not in hashes[0]  # the secret after "pay_cust_" (may hold "_")


def test_api_keys_create_refuses_an_unknown_role(tmp_path: Path) -> None:
    done = _payments(
        "api-keys", "create", "--role", "root", database_url=f"sqlite:///{tmp_path / 'x.db'}"
    )

    assert done.returncode == 2
    assert done.stdout == ""
    assert "invalid choice: 'root'" in done.stderr


def test_customer_key_without_a_customer_is_refused(tmp_path: Path) -> None:
    done = _payments(
        "api-keys", "create", "--role", "customer", database_url=f"sqlite:///{tmp_path / 'x.db'}"
    )

    assert done.returncode == 2
    assert done.stdout == ""
    assert "customer" in done.stderr


@pytest.mark.postgres
def test_migrate_is_idempotent_on_postgresql(postgres_engine: Engine) -> None:
    url = postgres_engine.url.render_as_string(hide_password=False)

    first = _payments("migrate", database_url=url)
    second = _payments("migrate", database_url=url)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert "is up to date" in second.stdout
    assert "***@127.0.0.1" in second.stdout  # the user name is not printed


def test_worker_logs_a_failing_round_and_runs_the_next(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'worker.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as connection:  # every step of every round now fails in the database
        connection.execute(text("DROP TABLE webhook_inbox"))
        connection.execute(text("DROP TABLE purchases"))
    engine.dispose()

    done = _payments("worker", "--rounds", "3", "--interval", "0", database_url=url)

    assert done.returncode == 0, done.stderr
    assert done.stderr.count("worker: retrying notifications failed") == 3
    assert done.stderr.count("worker: reconciliation failed") == 3


def _one_line_error(done: subprocess.CompletedProcess[str]) -> str:
    """The command failed with exit 2 and said why in one line, no traceback."""
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("payments: ")]
    assert len(errors) == 1, done.stderr
    return errors[0]


def test_migrate_on_an_unreachable_database_says_so_in_one_line() -> None:
    done = _payments(
        "migrate", database_url="postgresql+psycopg://pay:s3cr3tpw@127.0.0.1:1/payments"
    )

    line = _one_line_error(done)
    assert line == (
        "payments: cannot reach the database at "
        "postgresql+psycopg://***@127.0.0.1:1/payments: OperationalError"
    )
    assert "s3cr3tpw" not in done.stderr + done.stdout


@pytest.mark.parametrize("customer_id", ["c" * 100, "ana smith/../x", ""])
def test_api_keys_create_refuses_a_customer_id_the_purchase_api_would_refuse(
    tmp_path: Path, customer_id: str
) -> None:
    url = f"sqlite:///{tmp_path / 'keys.db'}"

    done = _payments(
        "api-keys", "create", "--role", "customer", "--customer-id", customer_id, database_url=url
    )

    assert "customer id" in _one_line_error(done)
    assert done.stdout == ""
    engine = make_engine(url)
    with engine.connect() as connection:
        assert connection.execute(select(api_keys.c.id)).all() == []
    engine.dispose()


def test_json_log_format_writes_one_json_object_per_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'json.db'}"
    upgrade(url)
    engine = make_engine(url)
    with engine.begin() as connection:  # the round fails and logs its traceback
        connection.execute(text("DROP TABLE webhook_inbox"))
    engine.dispose()

    done = subprocess.run(
        [sys.executable, "-m", "payments.entrypoints.cli", "worker", "--rounds", "1"],
        env={**os.environ, "PAYMENTS_DATABASE_URL": url, "PAYMENTS_LOG_FORMAT": "json"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    entries = [json.loads(line) for line in done.stderr.splitlines()]
    assert entries
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= entry.keys()
        assert entry["time"].endswith("+00:00")
    failed = [e for e in entries if e["message"].startswith("worker: retrying notifications")]
    assert failed[0]["level"] == "ERROR"
    assert failed[0]["logger"] == "payments"
    assert "Traceback" in failed[0]["exception"]  # inside the object, not on lines of its own
