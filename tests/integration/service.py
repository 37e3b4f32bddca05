"""Run the real service (the container's WSGI app) on loopback in a thread, for tests."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import requests

from payments.config import Settings
from payments.containers import Container, build_container


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
def running_service(env: Mapping[str, str], configure: Any = None) -> Iterator[RunningService]:
    """Bind a free port, build the container for it, serve it threaded, stop it afterwards.

    ``configure(container)`` may override providers before the app is built.
    """
    server = make_server(
        "127.0.0.1", 0, lambda e, s: [], server_class=_ThreadingServer, handler_class=_QuietHandler
    )
    base_url = f"http://127.0.0.1:{server.server_port}"
    settings = Settings.from_env({**env, "PAYMENTS_PUBLIC_BASE_URL": base_url})
    container = build_container(settings)
    if configure is not None:
        configure(container)
    server.set_app(container.wsgi_app())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    session = requests.Session()
    try:
        yield RunningService(base_url, container, session)
    finally:
        server.shutdown()
        server.server_close()
        session.close()
        container.engine().dispose()
