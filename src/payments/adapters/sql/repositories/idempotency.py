"""The SQL store of Idempotency-Key claims and the responses they replay."""

from __future__ import annotations

from datetime import datetime

from payments.adapters.sql import direct
from payments.adapters.sql.mappers import (
    idempotency_from_row,
    idempotency_to_row,
    outcome_to_text,
)
from payments.adapters.sql.repositories.base import SqlRepository
from payments.adapters.sql.statements import FixedStatement, insert, upsert
from payments.adapters.sql.tables import idempotency_keys
from payments.domain.idempotency import IdempotencyRecord, UnknownOutcome
from payments.domain.ports import IdempotencyRepository

_KEY = ("scope", "key")
_NAME_OUTCOME = FixedStatement(
    "UPDATE idempotency_keys SET unknown_outcome = :unknown_outcome, expires_at = :expires_at "
    "WHERE scope = :scope AND key = :key AND response_status IS NULL",
    {
        name: idempotency_keys.c[name].type
        for name in ("unknown_outcome", "expires_at", "scope", "key")
    },
)


class SqlIdempotencyRepository(SqlRepository, IdempotencyRepository):
    def claim(self, record: IdempotencyRecord) -> IdempotencyRecord | None:
        """Claim ``(scope, key)``: None when claimed now (new, or replacing an expired record);
        the existing live record otherwise."""
        row = idempotency_to_row(record)
        if direct.execute(self._connection, insert(idempotency_keys, tuple(row), 1, _KEY), row):
            return None
        replaced = self._connection.execute(
            idempotency_keys.update()
            .where(
                idempotency_keys.c.scope == record.scope,
                idempotency_keys.c.key == record.key,
                idempotency_keys.c.expires_at <= record.created_at,
            )
            .values({k: v for k, v in row.items() if k not in _KEY})
        )
        if replaced.rowcount == 1:
            return None
        existing = self._found(
            idempotency_keys, {"scope": record.scope, "key": record.key}, idempotency_from_row
        )
        if existing is None:  # released or purged in between: the key is free again
            return self.claim(record)
        return existing

    def finish(self, record: IdempotencyRecord) -> None:
        """Store the response of a claimed key (insert or replace the record)."""
        row = idempotency_to_row(record)
        direct.execute(self._connection, upsert(idempotency_keys, tuple(row), _KEY), row)

    def name_outcome(
        self, scope: str, key: str, outcome: UnknownOutcome, held_until: datetime
    ) -> None:
        """Name the record an unfinished claim's request made and hold the key until then (on
        PostgreSQL sent with the next statement or the commit, where a failure is raised)."""
        row = {
            "unknown_outcome": outcome_to_text(outcome),
            "expires_at": held_until,
            "scope": scope,
            "key": key,
        }
        direct.execute_later(self._connection, _NAME_OUTCOME, row)

    def release(self, scope: str, key: str) -> None:
        """Drop an unfinished claim; a finished record stays."""
        self._connection.execute(
            idempotency_keys.delete().where(
                idempotency_keys.c.scope == scope,
                idempotency_keys.c.key == key,
                idempotency_keys.c.response_status.is_(None),
            )
        )

    def purge_expired(self, now: datetime) -> int:
        """Forget keys whose lifetime ended by ``now``; returns how many."""
        result = self._connection.execute(
            idempotency_keys.delete().where(idempotency_keys.c.expires_at <= now)
        )
        return result.rowcount
