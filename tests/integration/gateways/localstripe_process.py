"""localstripe as a separate process, and a loopback front for it that adds what Stripe does and
localstripe lacks (Idempotency-Key replay) and can freeze its answers."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests
import stripe

KEY = "sk_test_fake_localstripe_key"
SECRET = "whsec_test_localstripe_fake"
LAUNCHER = (
    "from aiohttp import web; from localstripe.server import app; "
    "web.run_app(app, host='127.0.0.1', port={port}, print=None)"
)
FORWARDED = ("Authorization", "Content-Type", "Stripe-Version", "Idempotency-Key", "User-Agent")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


@contextmanager
def localstripe_process(workdir: Path) -> Iterator[str]:
    """localstripe on a free loopback port (GPL: only ever a separate process); yields its URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER.format(port=port)],
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        if process.poll() is not None:
            raise AssertionError("localstripe exited at start")
        try:
            return requests.delete(base + "/_config/data", timeout=0.5).ok
        except requests.ConnectionError:
            return False

    try:
        wait_until(answers, 15, "localstripe to answer")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def pay(client: stripe.StripeClient, intent_id: str, payment_method: str = "pm_card_visa") -> None:
    """Act as the browser: attach a card and confirm (localstripe cannot confirm with one)."""
    client.v1.payment_intents.update(intent_id, params={"payment_method": payment_method})
    client.v1.payment_intents.confirm(intent_id)


class StripeFront:
    """A loopback HTTP front for localstripe.

    It answers a POST whose ``Idempotency-Key`` it has seen with the first answer (with
    ``Idempotent-Replayed: true``), as Stripe does for 24 hours and localstripe does not. While
    ``hold`` is set, it forwards ``POST /v1/payment_intents`` at once (the intent is made) but
    keeps the answer back for ``hold`` seconds: longer than the client's read timeout, the answer
    is lost. ``url`` is where a client points ``api_base``.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.hold = 0.0
        self.answers: dict[tuple[str, str], tuple[int, bytes, str]] = {}
        self._released = threading.Event()
        self._lock = threading.Lock()
        front = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                front.forward(self)

            def do_POST(self) -> None:
                front.forward(self)

            def do_DELETE(self) -> None:
                front.forward(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()

    def forward(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        key = handler.headers.get("Idempotency-Key")
        remembered = (handler.headers.get("Authorization") or "", key or "")
        with self._lock:  # one request per key at a time, as Stripe's key lock
            stored = self.answers.get(remembered) if key and handler.command == "POST" else None
            replayed = stored is not None
            if stored is None:
                answer = requests.request(
                    handler.command,
                    self.upstream + handler.path,
                    data=body,
                    headers={h: v for h in FORWARDED if (v := handler.headers.get(h))},
                    timeout=10,
                )
                stored = (
                    answer.status_code,
                    answer.content,
                    answer.headers.get("Content-Type", "application/json"),
                )
                if key and handler.command == "POST" and answer.status_code < 500:
                    self.answers[remembered] = stored
        creates_intent = handler.command == "POST" and handler.path == "/v1/payment_intents"
        if creates_intent and self.hold:
            self._released.wait(self.hold)
        status, content, content_type = stored
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(content)))
            handler.send_header("Request-Id", "req_front")
            if replayed:
                handler.send_header("Idempotent-Replayed", "true")
            handler.end_headers()
            handler.wfile.write(content)
        except OSError:  # the client gave up waiting: its answer is lost
            pass

    def close(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()
