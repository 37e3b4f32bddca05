"""A WSGI app whose every request runs inside a scope the composition root gives it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any


class ScopedApp:
    """``app``, each request inside ``scope()``: the service's scope lends the request's units
    of work one pooled database connection (``payments.adapters.sql.lending``). The scope ends
    when ``app`` has answered, before the server sends the body."""

    __slots__ = ("_app", "_scope")

    def __init__(self, app: Any, scope: Callable[[], AbstractContextManager[object]]) -> None:
        self._app = app
        self._scope = scope

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        with self._scope():
            answer: Iterable[bytes] = self._app(environ, start_response)
            return answer
