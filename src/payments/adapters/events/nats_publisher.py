"""The event publisher on NATS JetStream: nats-py in an event-loop thread of its own, behind a
blocking facade for the worker."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.js.client import JetStreamContext

from payments.adapters.events.messages import event_body, event_headers, event_subject
from payments.domain.errors import PublishFailedError
from payments.domain.events import StoredEvent
from payments.domain.ports import EventPublisher, PublishAck

log = logging.getLogger(__name__)

T = TypeVar("T")

_FAILURES: tuple[type[BaseException], ...] = (
    nats.errors.Error,
    nats.js.errors.Error,
    OSError,
    TimeoutError,
    asyncio.TimeoutError,
    concurrent.futures.TimeoutError,
)
"""What an unreachable, slow or refusing server raises; anything else is a bug and propagates."""


class _EventLoopThread:
    """An asyncio event loop running forever in a daemon thread; ``run`` waits for a coroutine."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="payments-nats", daemon=True
        )
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float) -> T:
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self._loop.close()


class NatsEventPublisher(EventPublisher):
    """Publishes each event to ``<subject_prefix>.<event type>`` in the JetStream stream
    ``stream`` (created on first use when missing, over ``<subject_prefix>.>``), with the event id
    as ``Nats-Msg-Id``, and returns the server's acknowledgement.

    The connection is opened on the first publish and opened again after any failure; nothing
    waits longer than ``timeout`` seconds to connect, or to be acknowledged. Every failure is a
    ``PublishFailedError`` whose message never quotes the server URL (it may hold credentials).
    """

    def __init__(self, url: str, *, stream: str, subject_prefix: str, timeout: float = 5.0) -> None:
        self._url = url
        self.stream = stream
        self.subject_prefix = subject_prefix
        self._timeout = timeout
        self._client: Client | None = None
        self._jetstream: JetStreamContext | None = None
        self._loop: _EventLoopThread | None = None
        self._lock = threading.Lock()

    def publish(self, event: StoredEvent) -> PublishAck:
        """Publish one event and wait for JetStream's acknowledgement."""
        with self._lock:
            if self._loop is None:
                self._loop = _EventLoopThread()
            # Connecting and publishing each have their own timeout inside; this one only
            # bounds a loop that stopped answering.
            try:
                return self._loop.run(self._publish(event), 3 * self._timeout)
            except _FAILURES as error:
                with contextlib.suppress(*_FAILURES):  # the next publish connects again
                    self._loop.run(self._disconnect(), self._timeout)
                raise PublishFailedError(
                    f"NATS did not acknowledge event {event.event_id} ({type(error).__name__})."
                ) from error

    def close(self) -> None:
        """Close the connection and stop the event-loop thread."""
        with self._lock:
            loop, self._loop = self._loop, None
            if loop is None:
                return
            try:
                loop.run(self._disconnect(), self._timeout)
            finally:
                loop.stop()

    async def _publish(self, event: StoredEvent) -> PublishAck:
        jetstream = await self._connected()
        ack = await jetstream.publish(
            event_subject(self.subject_prefix, event),
            event_body(event),
            timeout=self._timeout,
            stream=self.stream,
            headers=event_headers(event),
        )
        return PublishAck(sequence=ack.seq, duplicate=bool(ack.duplicate))

    async def _connected(self) -> JetStreamContext:
        if self._client is not None and self._jetstream is not None and self._client.is_connected:
            return self._jetstream
        await self._disconnect()
        # One attempt per server, no waiting in between (max_reconnect_attempts=0 would mean
        # "forever" to nats-py): a server that is down fails this round at once.
        connecting = nats.connect(
            self._url,
            name="payments-outbox-relay",
            connect_timeout=self._timeout,
            allow_reconnect=False,
            max_reconnect_attempts=1,
            reconnect_time_wait=0,
            error_cb=_log_error,
        )
        client = await asyncio.wait_for(connecting, self._timeout)
        self._client = client
        jetstream = client.jetstream(timeout=self._timeout)
        try:
            await jetstream.stream_info(self.stream)
        except nats.js.errors.NotFoundError:
            await jetstream.add_stream(name=self.stream, subjects=[f"{self.subject_prefix}.>"])
            log.info("outbox: created the JetStream stream %s", self.stream)
        self._jetstream = jetstream
        return jetstream

    async def _disconnect(self) -> None:
        client, self._client, self._jetstream = self._client, None, None
        if client is not None and not client.is_closed:
            try:
                await client.close()
            except _FAILURES:
                log.debug("outbox: closing the NATS connection failed", exc_info=True)


async def _log_error(error: Exception) -> None:
    log.warning("outbox: NATS connection error: %s", type(error).__name__)
