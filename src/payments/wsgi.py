"""``application`` for gunicorn: ``gunicorn 'payments.wsgi:application'``.

Settings come from the environment.
"""

from __future__ import annotations

import os
from typing import Any

from payments.config import Settings
from payments.containers import build_container

_application: Any = None


def application(environ: dict[str, Any], start_response: Any) -> Any:
    """Build the app on the first request (nothing is read or connected at import time)."""
    global _application  # noqa: PLW0603 - one app per worker process, built lazily
    if _application is None:
        _application = build_container(Settings.from_env(os.environ)).wsgi_app()
    return _application(environ, start_response)
