"""``payments serve --workers 2``: every worker's ``/metrics`` adds up both workers' counts
(prometheus-client's multiprocess mode, files in ``PROMETHEUS_MULTIPROC_DIR``)."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import requests

from tests.integration.service import free_port, payments_env, served
from tests.integration.test_metrics import scrape, value
from tests.integration.test_rate_limiter_contract import DEFAULT_REDIS_URL, REDIS_URL_VARIABLE
from tests.integration.test_startup_checks import LIVE

PROBES = 40


def test_two_workers_count_every_request_in_every_scrape(tmp_path: Path) -> None:
    redis_url = os.environ.get(REDIS_URL_VARIABLE, DEFAULT_REDIS_URL)
    files = tmp_path / "metrics"
    files.mkdir()
    env = payments_env(
        f"sqlite:///{tmp_path / 'serve.db'}",
        **LIVE,
        PAYMENTS_REDIS_URL=redis_url,
        PROMETHEUS_MULTIPROC_DIR=str(files),
    )
    port = free_port()
    command = [sys.executable, "-m", "payments.entrypoints.cli", "serve", "--port", str(port)]
    command += ["--workers", "2", "--migrate"]

    with served(command, env, port, tmp_path / "serve.log") as api:
        for _ in range(PROBES):  # a new connection each: both workers answer some
            answer = requests.get(api + "/health", headers={"Connection": "close"}, timeout=10)
            assert answer.status_code == 200
        health_counts = []
        for _ in range(10):
            text = requests.get(api + "/metrics", headers={"Connection": "close"}, timeout=10).text
            samples = scrape(text)
            health_counts.append(
                value(
                    samples,
                    "payments_http_requests_total",
                    route="/health",
                    method="GET",
                    status="200",
                )
            )
        pids = {re.sub(r"\D", "", name.name) for name in files.glob("counter_*.db")}

    # The /health probes before the server was up count too; never fewer than PROBES, and every
    # scrape, whichever worker answered it, sees the same total.
    assert len(set(health_counts)) == 1, health_counts
    assert health_counts[0] >= PROBES
    assert len(pids) == 2, pids
    assert (tmp_path / "serve.log").read_text().count("Booting worker") == 2
