"""Events out: the outbox's events as broker messages, and the NATS JetStream publisher."""

from __future__ import annotations

from payments.adapters.events.messages import event_body, event_headers, event_subject
from payments.adapters.events.nats_publisher import NatsEventPublisher

__all__ = ["NatsEventPublisher", "event_body", "event_headers", "event_subject"]
