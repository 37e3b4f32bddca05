"""Serve a WSGI app on a free loopback port in a thread, counting the requests it receives."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from payments.testing.contracts.gateway_subject import Delivery


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


class CountingApp:
    """Wraps a WSGI app and counts every request that reached it: the provider's I/O."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._lock = threading.Lock()
        self.requests = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        with self._lock:
            self.requests += 1
        result: Iterable[bytes] = self._app(environ, start_response)
        return result


class SimulatedProvider:
    """What every simulated provider's contract driver shares: its API, counted, and the
    notifications it delivered, as (path, headers, body)."""

    def __init__(self, api: CountingApp, received: list[tuple[str, dict[str, str], bytes]]) -> None:
        self.api = api
        self.received = received

    def last_delivery(self) -> Delivery:
        """The last notification delivered, headers lower-cased."""
        _path, headers, body = self.received[-1]
        return {name.lower(): value for name, value in headers.items()}, body

    def requests_seen(self) -> int:
        return self.api.requests


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 in a background thread; yields its base URL."""
    server = make_server(
        "127.0.0.1", 0, app, server_class=_ThreadingServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01})
    thread.daemon = True
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
