"""Signed event delivery for the simulators: sign, hand to ``deliver``, keep for redelivery."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import requests

from payments.adapters.wire.webhook_signing import signature_header
from payments.domain.errors import NotFoundError

__all__ = ["Deliver", "Delivery", "EventStyle", "SignedEvents", "http_deliverer"]

log = logging.getLogger(__name__)

Deliver = Callable[[str, dict[str, str], bytes], int]
"""Hands a signed event ``(path, headers, body)`` to our webhook endpoint; returns the HTTP
status it answered (0 when it could not be reached)."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One signed event handed to ``deliver``, and the status it answered (None: no deliverer)."""

    event_id: str
    event_type: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int | None


@dataclass(frozen=True, slots=True)
class EventStyle:
    """How a provider sends its events: its name (for messages), the header its signature goes
    in (None for a provider that signs inside the body, as PayU does), and the other headers
    of a delivery."""

    provider: str
    signature_header: str | None
    headers: Mapping[str, str]


class SignedEvents:
    """The events a simulator has sent, and their signed delivery to our webhook endpoint.

    ``send`` signs an event body with every one of ``secrets`` (``t=<unix>,v1=<hex>,...`` in
    the style's signature header, the one implementation in
    ``payments.adapters.wire.webhook_signing``),
    hands it to ``deliver(path, headers, body)`` and records a ``Delivery``; ``redeliver``
    sends a kept event again, freshly signed. Thread-safe; ``deliver`` is called outside any
    lock, so a simulator never holds its state while our endpoint answers.
    """

    def __init__(
        self,
        style: EventStyle,
        secrets: Sequence[str],
        deliver: Deliver | None,
        *,
        webhook_path: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._style = style
        self._secrets = tuple(secrets)
        self._deliver = deliver
        self._webhook_path = webhook_path
        self._clock = clock
        self._lock = threading.Lock()
        self._events: dict[str, tuple[str, bytes]] = {}
        self.deliveries: list[Delivery] = []

    def sign(self, timestamp: int, body: bytes) -> str:
        """The signature header value the provider would send with ``body`` at ``timestamp``."""
        return signature_header(self._secrets, timestamp, body)

    def keep(self, event_id: str, event_type: str, body: bytes) -> None:
        """Remember an event under its id, for ``body`` and ``redeliver``."""
        with self._lock:
            self._events[event_id] = (event_type, body)

    def body(self, event_id: str) -> bytes:
        """The body of an event kept earlier; ``NotFoundError`` if unknown."""
        return self._kept(event_id)[1]

    def send(self, event_id: str, event_type: str, body: bytes) -> dict[str, object]:
        """Sign ``body`` now and deliver it: ``{"event_id", "type", "delivered_status"}``."""
        headers = dict(self._style.headers)
        if self._style.signature_header is not None:
            headers[self._style.signature_header] = self.sign(int(self._clock()), body)
        status = None
        if self._deliver is not None:
            status = self._deliver(self._webhook_path, dict(headers), body)
        delivery = Delivery(event_id, event_type, self._webhook_path, headers, body, status)
        with self._lock:
            self.deliveries.append(delivery)
        return {"event_id": event_id, "type": event_type, "delivered_status": status}

    def redeliver(self, event_id: str) -> dict[str, object]:
        """Send a kept event again, same id and body, freshly signed: a duplicate delivery."""
        event_type, body = self._kept(event_id)
        return self.send(event_id, event_type, body)

    def _kept(self, event_id: str) -> tuple[str, bytes]:
        with self._lock:
            kept = self._events.get(event_id)
        if kept is None:
            raise NotFoundError(f"The {self._style.provider} has no event {event_id!r}.")
        return kept


def http_deliverer(base_url: str, session: requests.Session, *, timeout: float = 10.0) -> Deliver:
    """A ``deliver`` that POSTs the raw body with its headers to ``base_url + path``.

    Returns the HTTP status, or 0 when no answer came (connection failed or timed out).
    """
    base = base_url.rstrip("/")

    def deliver(path: str, headers: dict[str, str], body: bytes) -> int:
        try:
            response = session.post(base + path, data=body, headers=headers, timeout=timeout)
        except requests.RequestException as error:
            log.warning("sandbox notification to %s%s failed: %s", base, path, error)
            return 0
        return response.status_code

    return deliver
