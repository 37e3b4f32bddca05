"""The real service under gunicorn (gthread) on loopback, and its workers' memory from /proc."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT_SECONDS = 30


@dataclass(frozen=True, slots=True)
class Service:
    base_url: str
    process: subprocess.Popen[bytes]
    applier: subprocess.Popen[bytes] | None = None
    """``payments worker`` beside the API in ingest mode: it books what the API stored."""

    def service_pids(self) -> list[int]:
        """The processes whose CPU is the service's: the workers, and the applier if any."""
        return self.worker_pids() + ([self.applier.pid] if self.applier is not None else [])

    def worker_pids(self) -> list[int]:
        """The gunicorn workers: the master's children."""
        pid = self.process.pid
        children = Path(f"/proc/{pid}/task/{pid}/children")
        if children.exists():
            return [int(p) for p in children.read_text().split()]
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                # The command may hold spaces: the parent pid follows the last ')'.
                if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(stat.parent.name))
        return found

    def worker_memory_kib(self) -> tuple[int, int]:
        """(resident now, resident peak) summed over the workers, in KiB."""
        rss = hwm = 0
        for pid in self.worker_pids():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        rss += int(line.split()[1])
                    elif line.startswith("VmHWM:"):
                        hwm += int(line.split()[1])
        return rss, hwm


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def gunicorn_service(
    env: Mapping[str, str],
    *,
    workers: int,
    threads: int,
    app: str = "payments.wsgi:application",
) -> Iterator[Service]:
    """Serve ``app`` (the real service by default) with ``workers`` gthread workers on
    127.0.0.1; ``benchmarks/`` is on the path for the reference handler."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [
        str(gunicorn),
        app,
        "--pythonpath",
        str(Path(__file__).resolve().parent),
        "--bind",
        f"127.0.0.1:{port}",
        "--worker-class",
        "gthread",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--backlog",
        "2048",
        "--log-level",
        "warning",
    ]
    full_env = {**os.environ, **env, "PAYMENTS_PUBLIC_BASE_URL": base_url}
    process = subprocess.Popen(command, env=full_env)
    applier = None
    if env.get("PAYMENTS_NOTIFICATION_MODE") == "ingest":
        worker = [sys.executable, "-m", "payments.entrypoints.cli", "worker"]
        # It logs what the workers do, no more: gunicorn run bare leaves their logging unset.
        quiet = {**full_env, "PAYMENTS_LOG_LEVEL": "warning"}
        applier = subprocess.Popen([*worker, "--apply-interval", "0.005"], env=quiet)
    service = Service(base_url, process, applier)
    try:
        _wait_until_ready(service, workers)
        yield service
    finally:
        if applier is not None:
            applier.send_signal(signal.SIGTERM)
            applier.wait(timeout=30)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_ready(service: Service, workers: int) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {service.process.returncode}")
        try:
            with urllib.request.urlopen(service.base_url + "/ready", timeout=5) as answer:
                if answer.status == 200 and len(service.worker_pids()) >= workers:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the service did not answer /ready within {START_TIMEOUT_SECONDS} s")
