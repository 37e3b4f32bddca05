"""The loopback server: bound before the app exists, then serves it over real HTTP."""

from __future__ import annotations

from typing import Any

import requests

from payments.sandbox.loopback import LoopbackServer


def hello(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


def test_the_address_is_known_before_the_app_is_served() -> None:
    server = LoopbackServer()
    try:
        url = server.url  # what the app being built needs, before it exists
        assert url.startswith("http://127.0.0.1:")
        server.start(hello)
        assert requests.get(url, timeout=5).text == "hello"
    finally:
        server.close()


def test_a_started_server_serves_the_app() -> None:
    server = LoopbackServer()
    try:
        server.start(hello)
        answer = requests.get(server.url + "/anything", timeout=5)
        assert (answer.status_code, answer.text) == (200, "hello")
    finally:
        server.close()
