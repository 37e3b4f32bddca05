"""Settings that cannot work stop the start, before anything is served: in the container and in
``payments serve``, with one line naming the variable (never its value)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from payments.config import Settings
from payments.containers import build_container
from payments.domain.errors import ConfigurationError
from payments.domain.routing import RoutingTable
from tests.integration.service import free_port, payments_env, served
from tests.integration.unmigrated import empty_postgres_url

__all__ = ["empty_postgres_url"]  # the fixture, used by name

LIVE = {
    "PAYMENTS_MODE": "live",
    "PAYMENTS_STRIPE_SECRET_KEY": "sk_live_fake_for_test",
    "PAYMENTS_STRIPE_WEBHOOK_SECRET": "whsec_test_fake",
}
WOMPI_LIVE = {
    "PAYMENTS_WOMPI_PUBLIC_KEY": "pub_prod_s3cr3tpw",
    "PAYMENTS_WOMPI_PRIVATE_KEY": "prv_prod_s3cr3tpw",
    "PAYMENTS_WOMPI_INTEGRITY_SECRET": "prod_integrity_s3cr3tpw",
    "PAYMENTS_WOMPI_EVENTS_SECRET": "prod_events_s3cr3tpw",
}

PAYU_TEST_MERCHANT = {  # PayU's public test merchant (reference §2.2), refused in live mode
    "PAYMENTS_PAYU_MERCHANT_ID": "508029",
    "PAYMENTS_PAYU_ACCOUNT_ID": "512321",
    "PAYMENTS_PAYU_API_KEY": "4Vj8eK4rloUd272L48hsrarnUA",
    "PAYMENTS_PAYU_API_LOGIN": "pRRXKOl8ikMmt9u",
}


@pytest.mark.parametrize("routing", ["*: sandbox", "*: payu", "CO: wompi; *: stripe"])
def test_a_container_refuses_settings_routing_to_a_gateway_it_does_not_build(
    routing: str,
) -> None:
    # Assembled by hand, as an embedding application might, past Settings.from_env's check.
    settings = dataclasses.replace(
        Settings.from_env({**LIVE, "PAYMENTS_DATABASE_URL": "sqlite://"}),
        routing=RoutingTable.parse(routing),
        routing_text=routing,
    )
    container = build_container(settings)

    with pytest.raises(ConfigurationError, match="PAYMENTS_ROUTING"):
        container.wsgi_app()


def _serve(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """``payments serve ARGS`` as a real process; it must stop by itself (a refusal), not serve."""
    port = str(free_port())
    return subprocess.run(
        [sys.executable, "-m", "payments.entrypoints.cli", "serve", "--port", port, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _refusal(done: subprocess.CompletedProcess[str]) -> str:
    """The one ``payments: ...`` line of a refused start (exit 2, gunicorn never started)."""
    output = done.stdout + done.stderr
    assert done.returncode == 2, output
    assert "Traceback" not in output
    assert "Worker failed to boot" not in output
    assert "Starting gunicorn" not in output
    lines = [line for line in done.stderr.splitlines() if line.startswith("payments: ")]
    assert len(lines) == 1, output
    return lines[0]


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({**LIVE, "PAYMENTS_ROUTING": "*: payu"}, "PAYMENTS_ROUTING"),
        ({"PAYMENTS_ROUTING": "*: sandbox"}, "PAYMENTS_ROUTING"),
        ({**LIVE, "PAYMENTS_ROUTING": "CO: wompi; *: stripe"}, "PAYMENTS_ROUTING"),
        ({**LIVE, "PAYMENTS_STRIPE_PUBLISHABLE_KEY": "pk_test_fake"}, "PUBLISHABLE_KEY"),
        (
            {**LIVE, **WOMPI_LIVE, "PAYMENTS_WOMPI_EVENTS_SECRET": ""},
            "PAYMENTS_WOMPI_EVENTS_SECRET",
        ),
        (
            {**LIVE, **WOMPI_LIVE, "PAYMENTS_WOMPI_PRIVATE_KEY": "prv_test_s3cr3tpw"},
            "PAYMENTS_WOMPI_PRIVATE_KEY",
        ),
        ({**LIVE, "PAYMENTS_STRIPE_SECRET_KEY": "sk_test_s3cr3tpw"}, "PAYMENTS_STRIPE_SECRET_KEY"),
        ({**LIVE, **PAYU_TEST_MERCHANT}, "PAYMENTS_PAYU_MERCHANT_ID"),
        ({**LIVE, "PAYMENTS_ROUTING": "CO+cash: efecty; *: stripe"}, "PAYMENTS_ROUTING"),
        ({"PAYMENTS_EFECTY_ENABLED": "0"}, "PAYMENTS_ROUTING (unset"),
        (
            {"PAYMENTS_DATABASE_URL": "postgresql+psycopg://pay:s3cr3tpw@db:port/payments"},
            "PAYMENTS_DATABASE_URL",
        ),
        ({"PAYMENTS_REDIS_URL": "redis://:s3cr3tpw@cache:port/0"}, "PAYMENTS_REDIS_URL"),
    ],
)
def test_serve_refuses_settings_that_cannot_work_in_one_line(
    tmp_path: Path, extra: dict[str, str], named: str
) -> None:
    env = payments_env(f"sqlite:///{tmp_path / 'serve.db'}", **extra)

    line = _refusal(_serve(env))

    assert named in line
    assert "s3cr3tpw" not in line


@pytest.mark.parametrize(("args", "workers"), [((), 2), (("--workers", "3"), 3)])
def test_live_serve_refuses_several_workers_without_redis_in_one_line(
    tmp_path: Path, args: tuple[str, ...], workers: int
) -> None:
    env = payments_env(f"sqlite:///{tmp_path / 'serve.db'}", **LIVE)

    line = _refusal(_serve(env, *args))

    assert line == (
        f"payments: Live mode with --workers {workers} needs PAYMENTS_REDIS_URL: without it "
        f"each worker counts guest checkouts on its own ({10 * workers} an hour per client "
        f"address instead of 10, {5 * workers} per e-mail instead of 5); set it, or serve "
        "--workers 1."
    )


def test_serve_on_an_unreachable_database_says_so_in_one_line() -> None:
    env = payments_env("postgresql+psycopg://pay:s3cr3tpw@127.0.0.1:1/payments", **LIVE)

    line = _refusal(_serve(env))

    assert line == (
        "payments: cannot reach the database at "
        "postgresql+psycopg://***@127.0.0.1:1/payments: OperationalError"
    )


@pytest.mark.postgres
def test_serve_refuses_an_unmigrated_postgresql_database_until_migrated(
    empty_postgres_url: str, tmp_path: Path
) -> None:
    env = payments_env(empty_postgres_url, **LIVE)

    line = _refusal(_serve(env))
    assert "payments migrate" in line
    assert "never migrated" in line

    port = free_port()
    command = [sys.executable, "-m", "payments.entrypoints.cli", "serve", "--port", str(port)]
    with served(
        [*command, "--workers", "1", "--migrate"], env, port, tmp_path / "serve.log"
    ) as base_url:
        assert requests.get(base_url + "/ready", timeout=10).status_code == 200
