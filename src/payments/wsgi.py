"""``application`` for gunicorn: ``gunicorn 'payments.wsgi:application'``.

Settings come from the environment. ``build_application`` is what ``payments serve`` runs in
each worker.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from typing import Any

from payments.config import Settings
from payments.containers import build_container
from payments.sandbox.loopback import LoopbackServer

_application: Any = None
_lock = threading.Lock()


def build_application(settings: Settings) -> Any:
    """The service's WSGI app for this process; call it once per process, after any fork.

    The embedded SQLite database is migrated first, as ``payments serve`` does. In sandbox mode
    the provider simulators, and the webhook endpoint they deliver to, are also served on a
    private loopback port by a thread-per-request server: the API's calls to its simulators and
    the simulators' notifications never wait for a thread of the API's own server, so a burst
    of checkouts or sandbox actions cannot starve it. The simulators are still reached over
    real HTTP, and the whole app stays mounted on the public port too (payer pages).
    """
    loopback = LoopbackServer() if settings.sandbox else None
    if loopback is not None:
        # The gateways (at their simulators) and the simulators' deliveries call this process at
        # the loopback server; links a payer follows (payer pages) keep the public address.
        settings = dataclasses.replace(settings, internal_base_url=loopback.url)
    container = build_container(settings)
    container.migrate_embedded()
    app = container.wsgi_app()
    if loopback is not None:
        loopback.start(app)
    return app


def application(environ: dict[str, Any], start_response: Any) -> Any:
    """Build the app on the first request (nothing is read or connected at import time).

    Concurrent first requests wait for one build: two containers would split the sandbox's
    in-memory state and open two engines.
    """
    global _application  # noqa: PLW0603 - one app per worker process, built lazily
    app = _application
    if app is None:
        with _lock:
            if _application is None:
                _application = build_application(Settings.from_env(os.environ))
            app = _application
    return app(environ, start_response)
