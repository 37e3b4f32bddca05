"""The merchant webhook sender: an outbox event POSTed as JSON, signed, over requests."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

import requests

from payments.adapters.events.messages import event_body
from payments.adapters.webhooks.destinations import DestinationRule
from payments.adapters.wire.webhook_signing import signature_header
from payments.domain.errors import ValidationError
from payments.domain.events import StoredEvent
from payments.domain.webhook_ports import SendResult, WebhookSender

SIGNATURE_HEADER: Final = "Payments-Signature"
EVENT_ID_HEADER: Final = "Payments-Event-Id"
DEFAULT_TIMEOUT: Final = (3.05, 10.0)
"""Seconds to connect, and to wait for the answer."""


class RequestsWebhookSender(WebhookSender):
    """POSTs ``event_body(event)`` (the broker message's JSON) with ``Payments-Signature:
    t=<unix>,v1=<hex>`` (``webhook_signing``, Stripe's scheme) and the event id in
    ``Payments-Event-Id``. Redirects are not followed (an answer that is not 2xx is retried),
    and ``destinations`` is checked again before every send (a host may resolve elsewhere
    since the endpoint was created)."""

    def __init__(
        self,
        session: requests.Session,
        destinations: DestinationRule,
        *,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._session = session
        self._destinations = destinations
        self._timeout = timeout
        self._now = now

    def check_destination(self, url: str) -> None:
        self._destinations(url)

    def send(self, url: str, secret: str, event: StoredEvent) -> SendResult:
        try:
            self._destinations(url)
        except ValidationError as error:
            return SendResult(None, f"destination refused: {error.errors[0].message}")
        body = event_body(event)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "payments-webhooks/1",
            SIGNATURE_HEADER: signature_header([secret], int(self._now()), body),
            EVENT_ID_HEADER: event.event_id,
        }
        try:
            answer = self._session.post(
                url,
                data=body,
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,
                stream=True,
            )
        except requests.Timeout:
            return SendResult(None, "timed out")
        except requests.ConnectionError:
            return SendResult(None, "could not connect")
        except requests.RequestException as error:
            return SendResult(None, type(error).__name__)
        answer.close()
        return SendResult(answer.status_code)
