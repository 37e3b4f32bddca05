"""API idempotency: the first response to an Idempotency-Key, replayed for the same request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

IN_FLIGHT_LEASE: Final = timedelta(seconds=60)
"""How long an unfinished claim holds its key. A request that crashed its process never finishes
its claim; past the lease a new request with the same key may take the claim over. It matches
the serving timeout (gunicorn kills a request running longer), so a live request keeps its key."""


@dataclass(slots=True)
class IdempotencyRecord:
    """A key claimed by one caller for one request fingerprint; ``response_*`` set when finished.

    ``expires_at`` is when the key is free again: the end of the in-flight lease while the
    request runs, the end of the key's lifetime once its response is stored.
    """

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
