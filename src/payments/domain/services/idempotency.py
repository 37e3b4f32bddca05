"""API idempotency: claim a key, replay the first response, refuse a different body."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from payments.domain.access import Principal, Role
from payments.domain.customer import email_limit_key
from payments.domain.errors import (
    IdempotencyConflictError,
    IdempotencyInFlightError,
    ValidationError,
)
from payments.domain.idempotency import (
    IN_FLIGHT_LEASE,
    IdempotencyRecord,
    OutcomeKind,
    UnknownOutcome,
)
from payments.domain.ports import Clock, UnitOfWork
from payments.domain.purchase import Purchase, PurchaseStatus
from payments.domain.refund import Refund


def caller_scope(principal: Principal, client_address: str, email: object = None) -> str:
    """Whose Idempotency-Keys a request's key is among: the API key's, except for guests.

    A publishable key is shared by every guest of a shop, so a guest's scope is the key with
    the client address (the one the guest limits count) and the body's ``customer.email`` in
    its counting form (``customer.email_limit_key``; an address that form refuses counts as
    sent): one guest never gets another's stored answer, nor blocks the keys another will
    send. A caller without a key is scoped by its address.
    """
    if principal.key_id is None:
        return f"ip:{client_address}"
    if principal.role is not Role.PUBLIC:
        return f"key:{principal.key_id}"
    try:
        buyer = email_limit_key(email) if email is not None else ""
    except ValidationError:
        buyer = f"sent:{email}"
    caller = f"{client_address}\n{buyer}".encode("utf-8", "surrogatepass")
    return f"key:{principal.key_id}:guest:{hashlib.sha256(caller).hexdigest()}"


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """The first response to a key: status, body and the headers worth replaying."""

    status: int
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class Replay:
    """What to answer a request whose key already has an answer.

    ``purchase`` or ``refund`` is set when the stored answer's outcome was unknown and has since
    become known: answer that record as created instead of the stored failure. Otherwise
    replay ``answer`` as stored.
    """

    answer: StoredAnswer
    purchase: Purchase | None = None
    refund: Refund | None = None


_CREATED = StoredAnswer(201, b"", {})
"""What a checkout whose process died before storing its answer would have answered."""


class IdempotencyService:
    """Stores the first response to each (caller, Idempotency-Key) for ``lifetime``.

    A claim whose request never finished (its process died) holds the key for ``lease`` only;
    after that a request with the same key and body takes the claim over and runs.

    An answer stored with an ``UnknownOutcome`` (a checkout or refund the provider may have
    made) is replayed as the purchase or refund it names once that has settled: a purchase that
    left ``pending``, a refund whose provider answer is recorded.
    Neither is ever made twice. An unfinished claim may name its purchase too (the checkout
    names it when it makes it, ``ClaimedKey``): it answers 409 until that purchase is known,
    then the purchase, and is never taken over while it holds the key.

    ``single_statements`` makes the units of work of the claim, of storing the answer and of
    releasing the key (twice per request with a key): units whose statements each stand alone,
    without a transaction around them (two round trips fewer each on PostgreSQL); ``uow`` when
    not given. None of the three needs one: storing and releasing are one statement each, and
    each statement of a claim (the insert, the takeover of an expired record, the read of the
    live one) is atomic by itself and is committed whatever the next one finds.
    """

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        clock: Clock,
        lifetime: timedelta = timedelta(hours=24),
        lease: timedelta = IN_FLIGHT_LEASE,
        *,
        single_statements: Callable[[], UnitOfWork] | None = None,
    ) -> None:
        self._uow = uow
        self._single = single_statements or uow
        self._clock = clock
        self._lifetime = lifetime
        self._lease = min(lease, lifetime)

    def begin(self, scope: str, key: str, fingerprint: str) -> Replay | None:
        """Claim the key; returns what to replay, or None to go ahead.

        Raises ``IdempotencyConflictError`` for a different request under the same key and
        ``IdempotencyInFlightError`` while the first request is still running. A claim older
        than the lease is taken over: the repository replaces a record whose ``expires_at`` has
        passed, and an unfinished claim expires at the end of its lease, or at the end of the
        key's lifetime once it names the purchase its checkout made.
        """
        now = self._clock.now()
        record = IdempotencyRecord(scope, key, fingerprint, now, now + self._lease)
        with self._single() as uow:
            existing = uow.idempotency.claim(record)
            uow.commit()
        if existing is None:
            return None
        if existing.fingerprint != fingerprint:
            raise IdempotencyConflictError(
                "This Idempotency-Key was used with a different request."
            )
        if existing.response_status is None:
            settled = self._known(_CREATED, existing.unknown_outcome)
            if settled is None:
                raise IdempotencyInFlightError("A request with this Idempotency-Key is in flight.")
            return settled
        headers = dict(existing.response_headers or {})
        answer = StoredAnswer(existing.response_status, existing.response_body or b"", headers)
        return self._known(answer, existing.unknown_outcome) or Replay(answer)

    def _known(self, answer: StoredAnswer, outcome: UnknownOutcome | None) -> Replay | None:
        """The purchase or refund an unknown outcome names, once its outcome is known: a purchase
        that left ``pending``, a refund whose provider answer is recorded; else None."""
        if outcome is None:
            return None
        with self._uow() as uow:
            if outcome.kind is OutcomeKind.PURCHASE:
                purchase = uow.purchases.get(outcome.id)
                if purchase is not None and purchase.status is not PurchaseStatus.PENDING:
                    return Replay(answer, purchase=purchase)
            else:
                refund = uow.refunds.get(outcome.id)
                if refund is not None and not refund.awaiting_answer:
                    return Replay(answer, refund=refund)
        return None

    def finish(
        self,
        scope: str,
        key: str,
        *,
        fingerprint: str,
        answer: StoredAnswer,
        unknown_outcome: UnknownOutcome | None = None,
    ) -> None:
        """Store the response to replay, with the record its outcome depends on, if any."""
        now = self._clock.now()
        headers = dict(answer.headers)
        record = IdempotencyRecord(
            scope,
            key,
            fingerprint,
            now,
            now + self._lifetime,
            answer.status,
            answer.body,
            headers,
            unknown_outcome,
        )
        with self._single() as uow:
            uow.idempotency.finish(record)
            uow.commit()

    def abandon(self, scope: str, key: str) -> None:
        """Release a claim whose request failed in a way worth retrying."""
        with self._single() as uow:
            uow.idempotency.release(scope, key)
            uow.commit()

    def purge_expired(self) -> int:
        """Forget the keys whose lifetime is over (the worker calls this); returns how many."""
        with self._uow() as uow:
            purged = uow.idempotency.purge_expired(self._clock.now())
            uow.commit()
        return purged
