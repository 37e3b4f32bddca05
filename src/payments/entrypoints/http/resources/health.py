"""Liveness and readiness probes."""

from __future__ import annotations

import logging
from collections.abc import Callable

import falcon

from payments.domain.errors import NotReadyError
from payments.entrypoints.http import representations as rep

log = logging.getLogger(__name__)


class HealthResource:
    """``GET /health``: the process answers."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = rep.Health("ok")


class ReadinessResource:
    """``GET /ready``: the service can reach what it needs (its database, migrated to this
    code's revision)."""

    def __init__(self, readiness: Callable[[], bool]) -> None:
        self._readiness = readiness

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        try:
            ready = self._readiness()
        except Exception:
            log.exception("the readiness check failed")
            ready = False
        if not ready:
            raise NotReadyError(
                "The service is not ready to serve requests: its database cannot be reached "
                "or is not migrated to this version (run `payments migrate`)."
            )
        resp.media = rep.Ready("ready")
