"""Provider notifications: the raw body and headers go to the inbox use case, unparsed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import falcon

from payments.adapters.metrics import ServiceMetrics
from payments.domain.errors import NotFoundError, PaymentsError
from payments.domain.services.notifications import NotificationService
from payments.entrypoints.http.json_body import read_raw_body
from payments.entrypoints.http.presenters import present_receipt

# Never stored in the inbox: a provider does not send them, and they could hold our secrets.
_DROPPED_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})
_CONTENT_HEADERS = {"CONTENT_TYPE": "content-type", "CONTENT_LENGTH": "content-length"}


def kept_headers(env: Mapping[str, Any]) -> dict[str, str]:
    """The request's headers as Falcon's ``req.headers`` reads them from the WSGI environ, in
    its order, with lower-case names and without the dropped ones: one pass, no upper-case copy
    built first."""
    headers: dict[str, str] = {}
    for key, value in env.items():
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").lower()
        else:
            content = _CONTENT_HEADERS.get(key)
            if content is None:
                continue
            name = content
        if name not in _DROPPED_HEADERS:
            headers[name] = value
    return headers


class WebhookResource:
    """``POST /v1/webhooks/{provider}``: authenticated by the provider's signature, not a key."""

    def __init__(self, notifications: NotificationService, metrics: ServiceMetrics) -> None:
        self._notifications = notifications
        self._metrics = metrics

    def on_post(self, req: falcon.Request, resp: falcon.Response, provider: str) -> None:
        body = read_raw_body(req)
        headers = kept_headers(req.env)
        try:
            receipt = self._notifications.receive(provider, headers, body)
        except NotFoundError:  # no such provider: its name would make a new series per call
            raise
        except PaymentsError:
            self._metrics.webhook_received(provider, "rejected")
            raise
        self._metrics.webhook_received(provider, receipt.status.value)
        resp.media = present_receipt(receipt)
