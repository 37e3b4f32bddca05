"""``payments serve --workers 2``: every worker's ``/metrics`` adds up both workers' counts
(prometheus-client's multiprocess mode, files in ``PROMETHEUS_MULTIPROC_DIR``)."""

from __future__ import annotations

import os
import re
import sys
import time
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

    def pids() -> set[str]:
        """The workers that counted something: each writes its own counter file."""
        return {re.sub(r"\D", "", name.name) for name in files.glob("counter_*.db")}

    with served(command, env, port, tmp_path / "serve.log") as api:
        # A new connection each, until both workers have answered some (the kernel may hand a
        # busy machine's connections to one worker for a while).
        for probe in range(PROBES * 20):
            answer = requests.get(api + "/health", headers={"Connection": "close"}, timeout=10)
            assert answer.status_code == 200
            if probe + 1 >= PROBES and len(pids()) == 2:
                break
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
        workers = pids()

    # The /health probes before the server was up count too; never fewer than PROBES, and every
    # scrape, whichever worker answered it, sees the same total.
    assert len(set(health_counts)) == 1, health_counts
    assert health_counts[0] >= PROBES
    assert len(workers) == 2, workers
    assert (tmp_path / "serve.log").read_text().count("Booting worker") == 2


def test_the_worker_serves_its_jobs_metrics_on_its_own_port(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'worker.db'}"
    port = free_port()
    command = [sys.executable, "-m", "payments.entrypoints.cli", "worker", "--interval", "0.2"]
    command += ["--metrics-port", str(port)]

    with served(command, payments_env(database_url), port, tmp_path / "worker.log") as metrics:
        rounds = 0.0
        for _ in range(100):  # until a whole round has finished since the server came up
            samples = scrape(requests.get(metrics + "/metrics", timeout=10).text)
            rounds = value(
                samples, "payments_worker_job_duration_seconds_count", job="reconciliation"
            )
            if rounds and value(samples, "payments_worker_last_round_timestamp_seconds"):
                break
            time.sleep(0.1)

    assert rounds >= 1
    assert value(samples, "payments_worker_last_round_timestamp_seconds") > 0
    assert value(samples, "payments_worker_job_failures_total", job="reconciliation") == 0
