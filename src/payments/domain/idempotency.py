"""API idempotency: the first response to an Idempotency-Key, replayed for the same request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(slots=True)
class IdempotencyRecord:
    """A key claimed by one caller for one request fingerprint; ``response_*`` set when finished."""

    scope: str
    key: str
    fingerprint: str
    created_at: datetime
    expires_at: datetime
    response_status: int | None = None
    response_body: bytes | None = None
    response_headers: dict[str, str] | None = None

    @property
    def finished(self) -> bool:
        return self.response_status is not None
