"""API idempotency: the first response to an Idempotency-Key, replayed for the same request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

IN_FLIGHT_LEASE: Final = timedelta(minutes=5)
"""How long an unfinished claim holds its key. A request that crashed its process never finishes
its claim; past the lease a new request with the same key may take the claim over, so the lease
must outlast any request still running, or one key could act twice at the provider.

Nothing kills a slow request for us (gunicorn's gthread workers time out idle workers, not long
requests), so the lease is sized from the slowest outbound call: a Stripe call is up to 3 HTTP
attempts (``make_stripe_client``: 2 SDK retries) of 5 s to connect plus 30 s to read, with at
most 0.5 s and 1 s of backoff between them, about 107 s; a Wompi call's is 3 x 5 s. A
checkout that fails over calls a second gateway only after the first provably did nothing
(a connect failure, at most 3 x 5 s), and each of the few transactions around the calls may wait
for a pooled connection (30 s at most). Five minutes is well above that sum, about 2.8 times the
slowest Stripe call; its cost is that the key of a request whose process died answers 409 for
five minutes before a retry may take it over."""

KEY_LIFETIME: Final = timedelta(hours=24)
"""How long a key's answer is replayed (``PAYMENTS_IDEMPOTENCY_TTL_HOURS`` by default), and how
long an unfinished claim that names the purchase it made holds its key (``ClaimedKey``)."""


class OutcomeKind(StrEnum):
    """What an answer whose outcome was unknown left behind."""

    PURCHASE = "purchase"
    REFUND = "refund"


@dataclass(frozen=True, slots=True)
class UnknownOutcome:
    """The purchase or refund a request left behind when the provider may have acted but did
    not answer in time: a later replay answers it as it is then, once its outcome is known."""

    kind: OutcomeKind
    id: str


@dataclass(frozen=True, slots=True)
class ClaimedKey:
    """The key the running request claimed, ``(scope, key)``: a checkout names in it the purchase
    it made, in the transaction that makes it, so that a retry finds that purchase even when
    the first request's process died before storing any answer."""

    scope: str
    key: str


@dataclass(slots=True)
class IdempotencyRecord:
    """A key claimed by one caller for one request fingerprint; ``response_*`` set when finished.

    ``expires_at`` is when the key is free again: the end of the in-flight lease while the
    request runs, the end of the key's lifetime once its response is stored.
    ``unknown_outcome`` is kept beside the stored answer, never among its replayed headers.
    """

    scope: str
    key: str
    fingerprint: str
    created_at: datetime
    expires_at: datetime
    response_status: int | None = None
    response_body: bytes | None = None
    response_headers: dict[str, str] | None = None
    unknown_outcome: UnknownOutcome | None = None

    @property
    def finished(self) -> bool:
        return self.response_status is not None
