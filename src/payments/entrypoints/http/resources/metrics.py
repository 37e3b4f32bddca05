"""``GET /metrics``: the Prometheus scrape, for loopback callers or holders of the token."""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable

import falcon
from prometheus_client import CONTENT_TYPE_LATEST

from payments.domain.errors import AuthenticationRequiredError, ForbiddenError

_FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


def _loopback(req: falcon.Request, trust_forwarded_for: bool) -> bool:
    """Whether the caller is on this machine. A loopback peer that forwards someone else's
    request (a proxy on this host we were not told to trust) does not count as local."""
    if not trust_forwarded_for and any(req.get_header(h) for h in _FORWARDING_HEADERS):
        return False
    address = getattr(req.context, "client_ip", None) or req.remote_addr or ""
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


class MetricsResource:
    """Loopback callers read it freely; anyone else needs ``Authorization: Bearer <token>``
    with ``PAYMENTS_METRICS_TOKEN`` (401 without it or with another), and without a token
    set it is refused to them (403)."""

    def __init__(
        self, scrape: Callable[[], bytes], token: str | None, *, trust_forwarded_for: bool
    ) -> None:
        self._scrape = scrape
        self._token = token.encode() if token else None
        self._trust_forwarded_for = trust_forwarded_for

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self._admit(req)
        resp.content_type = CONTENT_TYPE_LATEST
        resp.data = self._scrape()

    def _admit(self, req: falcon.Request) -> None:
        if _loopback(req, self._trust_forwarded_for):
            return
        if self._token is None:
            raise ForbiddenError(
                "Metrics are served to loopback callers only (PAYMENTS_METRICS_TOKEN opens "
                "them to others)."
            )
        scheme, _, given = (req.get_header("Authorization") or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), self._token
        ):
            raise AuthenticationRequiredError(
                "Send the metrics token as: Authorization: Bearer <token>."
            )
