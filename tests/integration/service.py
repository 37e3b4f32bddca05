"""Run the real service for tests: the container's WSGI app on loopback in a thread, or the
real ``payments`` command (``serve`` under gunicorn) as a subprocess."""

from __future__ import annotations

import functools
import os
import signal
import socket
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import requests
from sqlalchemy import Engine, func, select

from payments.adapters.memory import SequentialIds
from payments.adapters.sql.tables import metadata
from payments.adapters.sql.unit_of_work import SqlUnitOfWork
from payments.config import Settings
from payments.containers import Container, build_container
from payments.domain.ports import Clock, PaymentGateway
from payments.testing import Wired, bootstrap
from tests.log_scan import scan_process_output


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256  # concurrent tests open many connections at once


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass
class RunningService:
    base_url: str
    container: Container
    http: requests.Session

    def admin_key(self) -> str:
        return self.container.access().create_key("admin")[1]

    def call(
        self, method: str, path: str, key: str | None = None, json: object = None
    ) -> requests.Response:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return self.http.request(
            method, self.base_url + path, json=json, headers=headers, timeout=30
        )


@contextmanager
def serving(app: Callable[[str], Any]) -> Iterator[str]:
    """Serve the WSGI app ``app(base_url)`` builds on a free loopback port, threaded; yield its
    base URL, stop it afterwards."""
    server = make_server(
        "127.0.0.1", 0, lambda e, s: [], server_class=_ThreadingServer, handler_class=_QuietHandler
    )
    base_url = f"http://127.0.0.1:{server.server_port}"
    try:
        server.set_app(app(base_url))
    except BaseException:
        server.server_close()
        raise
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield base_url
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def running_service(env: Mapping[str, str], configure: Any = None) -> Iterator[RunningService]:
    """Bind a free port, build the container for it, serve it threaded, stop it afterwards.

    ``configure(container)`` may override providers before the app is built.
    """
    built: list[Container] = []

    def app(base_url: str) -> Any:
        settings = Settings.from_env({**env, "PAYMENTS_PUBLIC_BASE_URL": base_url})
        container = build_container(settings)
        built.append(container)
        if configure is not None:
            configure(container)
        return container.wsgi_app()

    session = requests.Session()
    try:
        with serving(app) as base_url:
            yield RunningService(base_url, built[0], session)
    finally:
        session.close()
        for container in built:
            container.engine().dispose()


# -- the real command line and `payments serve` as subprocesses ---------------------------------


def free_port() -> int:
    """A TCP port nothing listens on now (on loopback)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def payments_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a sandbox-mode ``payments`` process on ``database_url``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAYMENTS_")}
    env.update({"PAYMENTS_DATABASE_URL": database_url, **extra})
    return env


def run_payments(*args: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """Run ``payments ARGS`` as a real process; its output as text. Its standard error (its log)
    goes to the session's secret scan (standard output is the command's answer: a new API key
    is printed there once, on purpose)."""
    finished = subprocess.run(
        [sys.executable, "-m", "payments.entrypoints.cli", *args],
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    scan_process_output(f"payments {' '.join(args[:2])}", finished.stderr)
    return finished


def _wait_until_healthy(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if requests.get(base_url + "/health", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the server did not answer within 60 s:\n{log.read_text()}")


@contextmanager
def served(command: Sequence[str], env: Mapping[str, str], port: int, log: Path) -> Iterator[str]:
    """Start a server process, wait for ``/health``, yield its base URL, stop it (its group).
    Everything it wrote (``log``) goes to the session's secret scan once it has stopped."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            list(command),
            env=dict(env),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(base_url, process, log)
        yield base_url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # gunicorn's master and its workers
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        scan_process_output(f"the server logging to {log}", log.read_text(errors="replace"))


@contextmanager
def payments_serve(database_url: str, tmp_path: Path, **extra_env: str) -> Iterator[str]:
    """``payments serve`` (gunicorn) on a free loopback port; yields its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "payments.entrypoints.cli", "serve", "--port", str(port)]
    env = payments_env(database_url, **extra_env)
    with served(command, env, port, tmp_path / f"serve-{port}.log") as base_url:
        yield base_url


# -- the use cases on one real database ----------------------------------------------------------


def use_cases_on(engine: Engine, gateway: PaymentGateway, clock: Clock) -> Wired:
    """Every use case on ``engine``'s database, routed to ``gateway``, reading ``clock``."""
    return bootstrap(
        gateways=[gateway],
        unit_of_work=functools.partial(SqlUnitOfWork, engine),
        clock=clock,
        ids=SequentialIds(),
    )


def row_counts(engine: Engine) -> dict[str, int]:
    """The number of rows in each table: to show that a refused request wrote nothing."""
    with engine.connect() as connection:
        count = select(func.count())
        return {
            table.name: int(connection.execute(count.select_from(table)).scalar_one())
            for table in metadata.sorted_tables
        }


def together(work: list[Callable[[], str]]) -> list[str]:
    """Run every callable in its own thread, all released at the same instant."""
    barrier = threading.Barrier(len(work))
    answers = [""] * len(work)

    def run(index: int) -> None:
        barrier.wait()
        try:
            answers[index] = work[index]()
        except Exception as error:  # reported by the assertions of the test
            answers[index] = repr(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers
