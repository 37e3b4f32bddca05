"""Events out: the outbox's events as broker messages, and the NATS JetStream publisher.

``NatsEventPublisher`` is imported from its module when first named here (nats-py costs every
process that imports it about 10 MiB; the merchant webhook sender needs only the messages).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from payments.adapters.events.messages import event_body, event_headers, event_subject

if TYPE_CHECKING:
    from payments.adapters.events.nats_publisher import NatsEventPublisher

__all__ = ["NatsEventPublisher", "event_body", "event_headers", "event_subject"]


def __getattr__(name: str) -> Any:
    if name == "NatsEventPublisher":
        from payments.adapters.events.nats_publisher import (  # noqa: PLC0415 - see above
            NatsEventPublisher,
        )

        return NatsEventPublisher
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
