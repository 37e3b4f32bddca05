"""API idempotency: claim a key, replay the first response, refuse a different body."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from payments.domain.errors import IdempotencyConflictError, IdempotencyInFlightError
from payments.domain.idempotency import IN_FLIGHT_LEASE, IdempotencyRecord
from payments.domain.ports import Clock, UnitOfWork


class IdempotencyService:
    """Stores the first response to each (caller, Idempotency-Key) for ``lifetime``.

    A claim whose request never finished (its process died) holds the key for ``lease`` only;
    after that a request with the same key and body takes the claim over and runs.
    """

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        clock: Clock,
        lifetime: timedelta = timedelta(hours=24),
        lease: timedelta = IN_FLIGHT_LEASE,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._lifetime = lifetime
        self._lease = min(lease, lifetime)

    def begin(self, scope: str, key: str, fingerprint: str) -> IdempotencyRecord | None:
        """Claim the key; returns the finished record to replay, or None to go ahead.

        Raises ``IdempotencyConflictError`` for a different request under the same key and
        ``IdempotencyInFlightError`` while the first request is still running. A claim older
        than the lease is taken over: the repository replaces a record whose ``expires_at`` has
        passed, and an unfinished claim expires at the end of its lease.
        """
        now = self._clock.now()
        record = IdempotencyRecord(scope, key, fingerprint, now, now + self._lease)
        with self._uow() as uow:
            existing = uow.idempotency.claim(record)
            uow.commit()
        if existing is None:
            return None
        if existing.fingerprint != fingerprint:
            raise IdempotencyConflictError(
                "This Idempotency-Key was used with a different request."
            )
        if not existing.finished:
            raise IdempotencyInFlightError("A request with this Idempotency-Key is in flight.")
        return existing

    def finish(
        self,
        scope: str,
        key: str,
        *,
        fingerprint: str,
        status: int,
        body: bytes,
        headers: dict[str, str],
    ) -> None:
        """Store the response to replay."""
        now = self._clock.now()
        record = IdempotencyRecord(
            scope, key, fingerprint, now, now + self._lifetime, status, body, headers
        )
        with self._uow() as uow:
            uow.idempotency.finish(record)
            uow.commit()

    def abandon(self, scope: str, key: str) -> None:
        """Release a claim whose request failed in a way worth retrying."""
        with self._uow() as uow:
            uow.idempotency.release(scope, key)
            uow.commit()

    def purge_expired(self) -> int:
        """Forget the keys whose lifetime is over (the worker calls this); returns how many."""
        with self._uow() as uow:
            purged = uow.idempotency.purge_expired(self._clock.now())
            uow.commit()
        return purged
