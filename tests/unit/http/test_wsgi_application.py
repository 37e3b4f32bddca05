"""``payments.wsgi.application``: one app per process, however many first requests race.

(That it migrates a fresh SQLite file and serves the sandbox under plain gunicorn is shown in
``tests/integration/test_http_serve.py``.)"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

import payments.wsgi
from payments.config import Settings


def test_concurrent_first_requests_build_the_app_once(monkeypatch: pytest.MonkeyPatch) -> None:
    builds: list[Settings] = []

    def slow_build(settings: Settings) -> Any:
        builds.append(settings)
        time.sleep(0.05)  # long enough for every racing request to arrive meanwhile

        def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            start_response("200 OK", [])
            return [b"ok"]

        return app

    monkeypatch.setattr(payments.wsgi, "_application", None)
    monkeypatch.setattr(payments.wsgi, "build_application", slow_build)
    barrier = threading.Barrier(8)
    answers: list[list[bytes]] = []

    def first_request() -> None:
        barrier.wait()
        answers.append(payments.wsgi.application({}, lambda status, headers: None))

    threads = [threading.Thread(target=first_request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert len(builds) == 1
    assert answers == [[b"ok"]] * 8
