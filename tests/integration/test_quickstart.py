"""The README quickstart as a new user runs it: ``payments serve`` (gunicorn) as a process, the
admin key from ``payments api-keys create``, the README's requests, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import Engine

from tests.integration.service import (
    RunningService,
    payments_env,
    payments_serve,
    run_payments,
    running_service,
)

REPOSITORY = Path(__file__).resolve().parents[2]
README = REPOSITORY / "README.md"
# The README's bodies, as its curl commands send them.
PACKAGE = {
    "name": "8 Hour Premium Package",
    "kind": "package",
    "price": {"amount": "79.99", "currency": "EUR"},
    "credits": "8",
    "validity_days": 60,
}
IDEMPOTENCY_KEY = "quickstart-1"


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def _admin_key_from_the_cli(database_url: str) -> str:
    """``payments api-keys create --role admin | tail -n1``."""
    done = run_payments("api-keys", "create", "--role", "admin", env=payments_env(database_url))
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()[-1]


def run_quickstart(api: str, key: str) -> dict[str, Any]:
    """The README's requests in order; returns the account it shows at the end."""
    auth = {"Authorization": f"Bearer {key}"}
    product = requests.post(api + "/v1/products", json=PACKAGE, headers=auth, timeout=30)
    assert product.status_code == 201, product.text
    checkout = {"product_id": product.json()["id"], "customer_id": "cus_ana", "country": "PT"}
    headers = {**auth, "Idempotency-Key": IDEMPOTENCY_KEY}

    purchase = requests.post(api + "/v1/purchases", json=checkout, headers=headers, timeout=30)
    again = requests.post(api + "/v1/purchases", json=checkout, headers=headers, timeout=30)

    assert purchase.status_code == 201, purchase.text
    body = purchase.json()
    assert body["amount"] == {"amount": "79.99", "currency": "EUR"}
    assert body["gateway"] == "stripe"
    assert body["next_action"]["type"] == "client_secret"
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == body["id"]

    approved = requests.post(
        f"{api}/v1/sandbox/purchases/{body['id']}/approve", headers=auth, timeout=30
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["purchase"]["status"] == "completed"
    assert approved.json()["result"]["delivered_status"] == 200

    account = requests.get(api + "/v1/accounts/cus_ana", headers=auth, timeout=30)
    assert account.status_code == 200, account.text
    listed = requests.get(api + "/v1/purchases", headers=auth, timeout=30).json()
    assert [p["id"] for p in listed["data"]] == [body["id"]]  # the retry bought nothing
    return dict(account.json())


def _check(account: dict[str, Any]) -> None:
    assert account["credits"] == "8.00"
    assert account["total_paid"] == [{"amount": "79.99", "currency": "EUR"}]


def test_quickstart_on_sqlite_credits_eight_hours(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'payments.db'}"  # a fresh clone: nothing exists yet
    with payments_serve(url, tmp_path) as api:
        _check(run_quickstart(api, _admin_key_from_the_cli(url)))


@pytest.mark.postgres
def test_quickstart_on_postgresql_credits_eight_hours(
    postgres_engine: Engine, tmp_path: Path
) -> None:
    url = _url(postgres_engine)
    with payments_serve(url, tmp_path) as api:
        _check(run_quickstart(api, _admin_key_from_the_cli(url)))


def _readme_commands() -> str:
    """The shell block of the quickstart's second terminal, exactly as the README has it."""
    text = README.read_text()
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.DOTALL)
    [commands] = [block for block in blocks if "api-keys create --role admin" in block]
    return str(commands)


def test_readme_quickstart_commands_as_written_print_eight_credits(tmp_path: Path) -> None:
    commands = _readme_commands()
    assert "API=http://127.0.0.1:8000\n" in commands
    assert f"Idempotency-Key: {IDEMPOTENCY_KEY}" in commands
    url = f"sqlite:///{tmp_path / 'payments.db'}"
    with payments_serve(url, tmp_path) as api:
        script = commands.replace("API=http://127.0.0.1:8000\n", f"API={api}\n")
        payments = REPOSITORY / ".venv" / "bin" / "payments"
        if not payments.exists():  # another virtual environment: the same command, elsewhere
            script = script.replace(
                ".venv/bin/payments", str(Path(sys.executable).parent / "payments")
            )
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=REPOSITORY,
            env=payments_env(url),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert '"credits":"8.00"' in last, done.stdout
    assert '"total_paid":[{"amount":"79.99","currency":"EUR"}]' in last, done.stdout


# -- what the README says around the commands, on the in-process service ------------------------


@pytest.fixture
def service(sqlite_engine: Engine) -> Iterator[RunningService]:
    with running_service({"PAYMENTS_DATABASE_URL": _url(sqlite_engine)}) as running:
        yield running


def _buy(service: RunningService, admin: str, customer_id: str, **extra: object) -> Any:
    product = service.call("POST", "/v1/products", admin, PACKAGE).json()
    body = {"product_id": product["id"], "customer_id": customer_id, "country": "PT", **extra}
    purchase = service.call("POST", "/v1/purchases", admin, body)
    assert purchase.status_code == 201, purchase.text
    return purchase.json()


def test_amount_sent_with_the_purchase_is_ignored(service: RunningService) -> None:
    purchase = _buy(
        service, service.admin_key(), "cus_ana", amount={"amount": "0.01", "currency": "EUR"}
    )

    assert purchase["amount"] == {"amount": "79.99", "currency": "EUR"}


def test_declined_sandbox_payment_leaves_the_purchase_failed(service: RunningService) -> None:
    admin = service.admin_key()
    purchase = _buy(service, admin, "cus_bo")

    declined = service.call("POST", f"/v1/sandbox/purchases/{purchase['id']}/decline", admin)

    assert declined.json()["purchase"]["status"] == "failed"
    account = service.call("GET", "/v1/accounts/cus_bo", admin).json()
    assert account["credits"] == "0.00"
    assert account["total_paid"] == []
