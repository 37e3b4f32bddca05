"""The webhook inbox: each notification stored raw, once per (provider, event id), then applied."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

MAX_ATTEMPTS = 5
CLAIM_LEASE = timedelta(minutes=5)
"""How long a worker's claim on a due message keeps other workers off it."""


class InboxStatus(StrEnum):
    RECEIVED = "received"
    PROCESSED = "processed"
    IGNORED = "ignored"
    CONFLICT = "conflict"
    FAILED = "failed"
    DEAD = "dead"


@dataclass(slots=True)
class InboxMessage:
    """One notification as it arrived: raw headers and body, and what became of it."""

    id: str
    provider: str
    event_id: str
    event_type: str
    headers: dict[str, str]
    body: bytes
    received_at: datetime
    status: InboxStatus = InboxStatus.RECEIVED
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    processed_at: datetime | None = None
    purchase_id: str | None = None

    def settle(self, status: InboxStatus, now: datetime, purchase_id: str | None) -> None:
        """Record the final outcome of processing."""
        self.status = status
        self.processed_at = now
        self.purchase_id = purchase_id
        self.last_error = None
        self.next_attempt_at = None

    def fail(self, error: str, now: datetime) -> None:
        """Count a failed attempt; back off exponentially, and give up (``dead``) after 5."""
        self.attempts += 1
        self.last_error = error[:2000]
        if self.attempts >= MAX_ATTEMPTS:
            self.status = InboxStatus.DEAD
            self.next_attempt_at = None
        else:
            self.status = InboxStatus.FAILED
            self.next_attempt_at = now + timedelta(seconds=30 * 4 ** (self.attempts - 1))
