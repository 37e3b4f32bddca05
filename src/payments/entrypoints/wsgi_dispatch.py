"""Serve several WSGI apps under one server by path prefix (sandbox simulators beside the API)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

WsgiApp = Any  # a WSGI callable: (environ, start_response) -> iterable of bytes


class PathDispatcher:
    """Send ``/prefix/...`` to the app mounted there (SCRIPT_NAME set), the rest to ``main``."""

    def __init__(self, main: WsgiApp, mounts: Mapping[str, WsgiApp]) -> None:
        self._main = main
        self._mounts = sorted(
            ((prefix.rstrip("/"), app) for prefix, app in mounts.items()),
            key=lambda item: -len(item[0]),
        )

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        for prefix, app in self._mounts:
            if path == prefix or path.startswith(prefix + "/"):
                environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
                environ["PATH_INFO"] = path[len(prefix) :] or "/"
                result: Iterable[bytes] = app(environ, start_response)
                return result
        main_result: Iterable[bytes] = self._main(environ, start_response)
        return main_result
