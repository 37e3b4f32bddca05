"""Load generators: wrk with ``webhooks.lua`` when installed, else a bounded Python one."""

from __future__ import annotations

import http.client
import json
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from signed_events import Postable, write_for_wrk

LUA_SCRIPT = Path(__file__).resolve().parent / "webhooks.lua"
REQUEST_TIMEOUT_SECONDS = 10
# Stripe refuses a signature older than 300 s: a phase that cannot finish well inside that is
# stopped (its unanswered deliveries show up as errors and failed checks).
MAX_PHASE_SECONDS = 240


@dataclass
class LoadResult:
    """What one phase of load did, from the load generator's side."""

    driver: str
    sent: int
    seconds: float
    answers: dict[str, int] = field(default_factory=dict)  # webhook answer status -> count
    errors: dict[str, int] = field(default_factory=dict)  # transport or HTTP errors -> count
    p50_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    probes: int = 0  # GET /health sent by wrk while its last connections drained
    started: float = 0.0  # time.monotonic() of the first request sent
    finished: float = 0.0  # time.monotonic() of the last answer

    @property
    def per_second(self) -> float:
        answered = sum(self.answers.values())
        return answered / self.seconds if self.seconds > 0 else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(
    base_url: str, path: str, deliveries: Sequence[Postable], *, threads: int, connections: int
) -> LoadResult:
    """Post every request once to ``path`` with wrk (its threads split them between them)."""
    threads = max(1, min(threads, len(deliveries)))
    connections = max(connections, threads)
    with tempfile.TemporaryDirectory(prefix="payments-bench-") as scratch:
        file = Path(scratch) / "deliveries.bin"
        markers = Path(scratch) / "done"
        markers.mkdir()
        write_for_wrk(deliveries, file)
        command = [
            "wrk",
            f"--threads={threads}",
            f"--connections={connections}",
            f"--duration={MAX_PHASE_SECONDS}s",
            f"--timeout={REQUEST_TIMEOUT_SECONDS}s",
            f"--script={LUA_SCRIPT}",
            base_url,
            "--",
            str(file),
            str(threads),
            path,
            str(markers),
        ]
        wrk = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            # wrk runs for its whole --duration: interrupt it (it then reports) once every
            # thread left its marker, or at the bound.
            deadline = time.monotonic() + MAX_PHASE_SECONDS
            while (
                wrk.poll() is None
                and time.monotonic() < deadline
                and len(list(markers.iterdir())) < threads
            ):
                time.sleep(0.02)
            if wrk.poll() is None:
                wrk.send_signal(signal.SIGINT)
            stdout, stderr = wrk.communicate(timeout=60)
        finally:
            if wrk.poll() is None:
                wrk.kill()
                wrk.wait()
    line = next((ln for ln in stdout.splitlines() if ln.startswith("BENCH_RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed ({wrk.returncode}): {stderr or stdout}")
    data = json.loads(line.removeprefix("BENCH_RESULT "))
    # wrk's own "status" count is the same non-2xx answers as "failed", so it is left out.
    errors = {name: count for name, count in data["errors"].items() if count and name != "status"}
    if data["failed"]:
        errors["non-200 webhook answers"] = data["failed"]
    unanswered = data["assigned"] - data["answered"]
    if unanswered:
        errors["unanswered"] = unanswered
    kinds = ("processed", "received", "created", "duplicate", "other")
    answers = {name: data[name] for name in kinds if data[name]}
    return LoadResult(
        driver=f"wrk ({threads} threads, {connections} connections)",
        sent=data["assigned"],
        seconds=data["duration_us"] / 1e6,
        answers=answers,
        errors=errors,
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        probes=data["probes"],
        # wrk's clock is CLOCK_MONOTONIC, as time.monotonic() on Linux.
        started=data["first_us"] / 1e6,
        finished=data["last_us"] / 1e6,
    )


def run_python(
    base_url: str, path: str, deliveries: Sequence[Postable], *, connections: int
) -> LoadResult:
    """Post every request once to ``path`` from ``connections`` threads, each on one keep-alive
    connection.

    Much slower than wrk (the GIL and http.client cost more than the service), so its figure is
    a floor, not the service's capacity.
    """
    host, port = base_url.removeprefix("http://").split(":")
    connections = max(1, min(connections, len(deliveries)))
    deadline = time.monotonic() + MAX_PHASE_SECONDS
    latencies: list[float] = []
    answers: dict[str, int] = {}
    errors: dict[str, int] = {}
    lock = threading.Lock()

    def count(into: dict[str, int], key: str) -> None:
        with lock:
            into[key] = into.get(key, 0) + 1

    def post_share(share: Sequence[Postable]) -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=REQUEST_TIMEOUT_SECONDS)
        mine: list[float] = []
        for delivery in share:
            if time.monotonic() > deadline:
                count(errors, "unanswered")
                continue
            started = time.perf_counter()
            try:
                connection.request("POST", path, delivery.body, delivery.headers())
                answer = connection.getresponse()
                body = answer.read()
            except (OSError, http.client.HTTPException) as error:
                count(errors, type(error).__name__)
                connection.close()
                connection = http.client.HTTPConnection(
                    host, int(port), timeout=REQUEST_TIMEOUT_SECONDS
                )
                continue
            mine.append(time.perf_counter() - started)
            if answer.status == 201:
                count(answers, "created")
                continue
            if answer.status != 200:
                count(errors, f"HTTP {answer.status}")
                continue
            status = json.loads(body).get("status")
            known = ("processed", "received", "duplicate")
            count(answers, status if status in known else "other")
        connection.close()
        with lock:
            latencies.extend(mine)

    workers = [
        threading.Thread(target=post_share, args=(deliveries[i::connections],))
        for i in range(connections)
    ]
    began = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    ended = time.monotonic()
    latencies.sort()
    return LoadResult(
        driver=f"python ({connections} threads, one keep-alive connection each)",
        sent=len(deliveries),
        seconds=ended - began,
        answers=answers,
        errors=errors,
        p50_ms=_percentile(latencies, 50) * 1000,
        p90_ms=_percentile(latencies, 90) * 1000,
        p99_ms=_percentile(latencies, 99) * 1000,
        max_ms=(latencies[-1] if latencies else 0.0) * 1000,
        started=began,
        finished=ended,
    )


def _percentile(ordered: Sequence[float], percent: float) -> float:
    if not ordered:
        return 0.0
    rank = max(0, min(len(ordered) - 1, round(percent / 100 * len(ordered)) - 1))
    return ordered[rank]
