"""``payments serve`` with several workers, as documented in docs/decisions/0011: sandbox mode
serves one worker (so one count of the guest limits) and says so; live mode shares the count
through Redis (without it, the start is refused: test_startup_checks)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import requests

from tests.integration.service import free_port, payments_env, run_payments, served
from tests.integration.test_rate_limiter_contract import DEFAULT_REDIS_URL, REDIS_URL_VARIABLE
from tests.integration.test_startup_checks import LIVE


def _serve_command(port: int, *args: str) -> list[str]:
    return [sys.executable, "-m", "payments.entrypoints.cli", "serve", "--port", str(port), *args]


def _key(role: str, env: dict[str, str]) -> str:
    done = run_payments("api-keys", "create", "--role", role, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_sandbox_serve_asked_for_two_workers_serves_one_and_keeps_one_count(
    tmp_path: Path,
) -> None:
    env = payments_env(
        f"sqlite:///{tmp_path / 'serve.db'}", PAYMENTS_GUEST_CHECKOUTS_PER_IP_HOUR="2"
    )
    run_payments("migrate", env=env)
    admin, public = _key("admin", env), _key("public", env)
    port = free_port()
    log = tmp_path / "serve.log"

    with served(_serve_command(port, "--workers", "2"), env, port, log) as api:
        product = requests.post(
            api + "/v1/products",
            json={
                "name": "1 Hour",
                "kind": "package",
                "price": {"amount": "5.00", "currency": "EUR"},
                "credits": "1",
                "validity_days": 30,
            },
            headers={"Authorization": f"Bearer {admin}"},
            timeout=30,
        ).json()["id"]
        codes = [
            requests.post(
                api + "/v1/purchases",
                json={
                    "product_id": product,
                    "customer": {"email": f"g{n}@example.com"},
                    "country": "PT",
                },
                headers={"Authorization": f"Bearer {public}"},
                timeout=30,
            ).status_code
            for n in range(3)
        ]

    assert codes == [201, 201, 429]
    output = log.read_text()
    assert (
        "sandbox mode serves 1 worker, not 2 (the simulators keep their state in it): guest "
        "checkouts stay limited to 2 an hour per client address and 5 per e-mail, not 4 and 10"
    ) in output
    assert output.count("Booting worker") == 1


def test_live_serve_with_redis_starts_its_workers(tmp_path: Path) -> None:
    redis_url = os.environ.get(REDIS_URL_VARIABLE, DEFAULT_REDIS_URL)
    env = payments_env(f"sqlite:///{tmp_path / 'serve.db'}", **LIVE, PAYMENTS_REDIS_URL=redis_url)
    port = free_port()
    log = tmp_path / "serve.log"

    with served(_serve_command(port, "--workers", "2", "--migrate"), env, port, log) as api:
        assert requests.get(api + "/ready", timeout=10).status_code == 200

    assert log.read_text().count("Booting worker") == 2
