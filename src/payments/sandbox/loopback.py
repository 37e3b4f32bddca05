"""A threaded WSGI server on a private loopback port, run inside the serving process."""

from __future__ import annotations

import logging
import socketserver
import threading
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

log = logging.getLogger(__name__)

LOOPBACK_HOST = "127.0.0.1"


def _not_ready(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"starting"]


class _ThreadPerRequestServer(socketserver.ThreadingMixIn, WSGIServer):
    # A thread per connection, never a fixed pool: a request served here may wait for another
    # request served here (an API call waits for the simulator, a sandbox action for our own
    # webhook), and no pool size is enough for that.
    daemon_threads = True
    block_on_close = False
    request_queue_size = 256


class _LoggingHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        log.debug("loopback %s " + format, self.address_string(), *args)


class LoopbackServer:
    """Serves one WSGI app on ``127.0.0.1:<free port>`` from a daemon thread.

    The socket is bound at construction, so ``url`` is known before the app that needs it is
    built; ``start(app)`` then serves it. Start it in the process that will use it (after a
    fork: threads do not survive one).
    """

    def __init__(self, port: int = 0) -> None:
        self._server = _ThreadPerRequestServer(
            (LOOPBACK_HOST, port), _LoggingHandler, bind_and_activate=True
        )
        self._server.set_app(_not_ready)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``, where the app is served."""
        return f"http://{LOOPBACK_HOST}:{self._server.server_port}"

    def start(self, app: Any) -> None:
        """Serve ``app`` from now on, in a daemon thread."""
        self._server.set_app(app)
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name="payments-loopback",
                daemon=True,
            )
            self._thread.start()

    def close(self) -> None:
        """Stop serving and release the port."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()
